//! Dataset statistics: core's counts plus length histograms of contexts, questions and answers
//! (in words, Python's `str.split`), with bins chosen from the data.

use squadkit_core::squad::{Dataset, DatasetStats};
use squadkit_core::text::py_split;

/// Counts and the three length histograms of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsView {
    pub counts: DatasetStats,
    pub version: Option<String>,
    /// Labelled bins (`"lo–hi"` words) and their counts.
    pub context_words: Vec<(String, usize)>,
    pub question_words: Vec<(String, usize)>,
    pub answer_words: Vec<(String, usize)>,
}

fn words(s: &str) -> usize {
    py_split(s).count()
}

/// Histogram of non-negative integers in at most `max_bins` bins of equal integer width.
pub fn int_histogram(values: &[usize], max_bins: usize) -> Vec<(String, usize)> {
    let Some(&max) = values.iter().max() else {
        return Vec::new();
    };
    let width = (max + 1).div_ceil(max_bins.max(1)).max(1);
    let bins = (max + 1).div_ceil(width);
    let mut counts = vec![0usize; bins];
    for &v in values {
        counts[v / width] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let (lo, hi) = (i * width, i * width + width - 1);
            (
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}–{hi}")
                },
                c,
            )
        })
        .collect()
}

impl StatsView {
    pub fn new(dataset: &Dataset) -> StatsView {
        // Contexts once per paragraph; every gold answer once.
        let mut contexts = Vec::new();
        let mut last = None;
        for e in &dataset.examples {
            if last != Some((e.article, e.paragraph)) {
                contexts.push(words(&e.context));
                last = Some((e.article, e.paragraph));
            }
        }
        let questions: Vec<usize> = dataset
            .examples
            .iter()
            .map(|e| words(&e.question))
            .collect();
        let answers: Vec<usize> = dataset
            .examples
            .iter()
            .flat_map(|e| e.answers.text.iter().map(|t| words(t)))
            .collect();
        StatsView {
            counts: dataset.stats(),
            version: dataset.version.clone(),
            context_words: int_histogram(&contexts, 30),
            question_words: int_histogram(&questions, 30),
            answer_words: int_histogram(&answers, 30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_cover_every_value() {
        assert_eq!(int_histogram(&[], 10), []);
        assert_eq!(
            int_histogram(&[0, 1, 1, 3], 10),
            [
                ("0".into(), 1),
                ("1".into(), 2),
                ("2".into(), 0),
                ("3".into(), 1)
            ]
        );
        let h = int_histogram(&[0, 59, 30], 30);
        assert_eq!(h.len(), 30);
        assert_eq!(h[0], ("0–1".to_string(), 1));
        assert_eq!(h[29], ("58–59".to_string(), 1));
        assert_eq!(h.iter().map(|b| b.1).sum::<usize>(), 3);
    }

    #[test]
    fn stats_of_the_demo() {
        let d = crate::load::dataset("dev.json", include_bytes!("../../examples/tiny/dev.json"))
            .unwrap();
        let s = StatsView::new(&d);
        assert_eq!(s.counts, d.stats());
        assert_eq!(s.question_words.iter().map(|b| b.1).sum::<usize>(), d.len());
        assert_eq!(
            s.context_words.iter().map(|b| b.1).sum::<usize>(),
            d.stats().paragraphs
        );
        let answers: usize = d.examples.iter().map(|e| e.answers.len()).sum();
        assert_eq!(s.answer_words.iter().map(|b| b.1).sum::<usize>(), answers);
    }
}
