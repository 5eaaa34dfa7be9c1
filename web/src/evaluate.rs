//! A predictions file scored against a dataset, re-scored at any threshold without
//! normalizing again (core's [`RawScores::evaluate`]), the score card the CLI prints, and the
//! per-question table (filter by outcome, sort by column).

use squadkit_core::scorer::{
    Evaluation, MissingPredictions, NaProbs, Outcome, Predictions, QuestionScore, RawScores,
};
use squadkit_core::{GoldStandard, ScoreOptions, Scorer};

/// A loaded predictions file (and na_prob file) with its raw scores, computed once.
#[derive(Debug, Clone)]
pub struct Run {
    pub name: String,
    pub predictions: Predictions,
    pub raw: RawScores,
    /// The na_prob file's name and values.
    pub na_probs: Option<(String, NaProbs)>,
}

impl Run {
    /// Score `predictions` once; fails (with core's message) when the dataset has questions
    /// without a prediction.
    pub fn new(gold: &GoldStandard, name: &str, predictions: Predictions) -> Result<Run, String> {
        let raw = Scorer::new(gold).raw_scores(&predictions);
        let run = Run {
            name: name.to_string(),
            predictions,
            raw,
            na_probs: None,
        };
        run.evaluate(gold, 1.0)
            .map_err(|e| format!("{name} does not fit the dataset: {e}"))?;
        Ok(run)
    }

    /// The same run with a na_prob file; fails when it lacks a predicted question's id.
    pub fn with_na_probs(
        &self,
        gold: &GoldStandard,
        name: &str,
        na: NaProbs,
    ) -> Result<Run, String> {
        let run = Run {
            na_probs: Some((name.to_string(), na)),
            ..self.clone()
        };
        run.evaluate(gold, 1.0)
            .map_err(|e| format!("{name} does not fit the predictions: {e}"))?;
        Ok(run)
    }

    /// The evaluation at `threshold` (precision–recall curves when there are na_probs).
    pub fn evaluate(&self, gold: &GoldStandard, threshold: f64) -> Result<Evaluation, String> {
        let opts = ScoreOptions {
            na_prob_thresh: threshold,
            missing: MissingPredictions::Error,
            precision_recall: self.na_probs.is_some(),
        };
        self.raw
            .evaluate(gold, self.na_probs.as_ref().map(|(_, n)| n), opts)
            .map_err(|e| e.to_string())
    }

    /// The slider's range: [min(0, lowest na_prob), max(1, highest na_prob)].
    pub fn threshold_range(&self) -> (f64, f64) {
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        if let Some((_, na)) = &self.na_probs {
            for (_, v) in na.iter() {
                let v = v.as_f64();
                if v.is_finite() {
                    (lo, hi) = (lo.min(v), hi.max(v));
                }
            }
        }
        (lo, hi)
    }
}

/// Slider steps between the ends of the threshold range.
pub const SLIDER_STEPS: u32 = 1000;

/// The threshold at slider position `pos` (0..=[`SLIDER_STEPS`]).
pub fn slider_threshold((lo, hi): (f64, f64), pos: u32) -> f64 {
    lo + (hi - lo) * f64::from(pos.min(SLIDER_STEPS)) / f64::from(SLIDER_STEPS)
}

/// The slider position nearest to `threshold`.
pub fn slider_position((lo, hi): (f64, f64), threshold: f64) -> u32 {
    (((threshold - lo) / (hi - lo)).clamp(0.0, 1.0) * f64::from(SLIDER_STEPS)).round() as u32
}

/// The dataset index of evaluation question `i` (whose id is `id`): the same index when the
/// evaluation is in dataset order, else found by id.
pub fn example_index(d: &squadkit_core::Dataset, i: usize, id: &str) -> Option<usize> {
    if d.examples.get(i).is_some_and(|x| x.id == id) {
        Some(i)
    } else {
        d.examples.iter().position(|x| x.id == id)
    }
}

/// The score of dataset question `index` (whose id is `id`) in `e`: the same index when the
/// evaluation is in dataset order, else found by id (the inverse of [`example_index`]).
pub fn question_score<'e>(e: &'e Evaluation, index: usize, id: &str) -> Option<&'e QuestionScore> {
    e.questions
        .get(index)
        .filter(|q| q.id == id)
        .or_else(|| e.questions.iter().find(|q| q.id == id))
}

/// A score printed for the card: two decimals (the JSON keeps every digit).
pub fn fmt2(x: f64) -> String {
    format!("{x:.2}")
}

/// The score card: (label, test id, value), core's rows in the CLI's order.
pub fn score_card(e: &Evaluation) -> Vec<(&'static str, String, String)> {
    e.score_card()
        .into_iter()
        .map(|r| (r.label, format!("score-{}", r.key), r.value))
        .collect()
}

/// Columns the per-question table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Dataset,
    F1,
    NaProb,
    Outcome,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::Dataset,
        SortKey::F1,
        SortKey::NaProb,
        SortKey::Outcome,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Dataset => "dataset order",
            SortKey::F1 => "f1",
            SortKey::NaProb => "na_prob",
            SortKey::Outcome => "outcome",
        }
    }

    pub fn from_label(s: &str) -> SortKey {
        SortKey::ALL
            .into_iter()
            .find(|k| k.label() == s)
            .unwrap_or_default()
    }
}

/// An outcome by its label (`None` for anything else: "all").
pub fn outcome_from_label(s: &str) -> Option<Outcome> {
    Outcome::ALL.into_iter().find(|o| o.label() == s)
}

/// Indices into `e.questions` that have `outcome` (all when `None`), sorted by `key`
/// (ascending, or descending when `descending`; ties keep dataset order).
pub fn table_rows(
    e: &Evaluation,
    outcome: Option<Outcome>,
    key: SortKey,
    descending: bool,
) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..e.questions.len())
        .filter(|&i| outcome.is_none_or(|o| e.questions[i].outcome() == o))
        .collect();
    let q = &e.questions;
    let rank = |o: Outcome| Outcome::ALL.iter().position(|&x| x == o).unwrap_or(0);
    let cmp = |a: &usize, b: &usize| -> std::cmp::Ordering {
        match key {
            SortKey::Dataset => a.cmp(b),
            SortKey::F1 => q[*a].f1.total_cmp(&q[*b].f1),
            SortKey::NaProb => q[*a]
                .na_prob
                .unwrap_or(f64::NAN)
                .total_cmp(&q[*b].na_prob.unwrap_or(f64::NAN)),
            SortKey::Outcome => rank(q[*a].outcome()).cmp(&rank(q[*b].outcome())),
        }
    };
    if descending {
        rows.sort_by(|a, b| cmp(b, a).then(a.cmp(b)));
    } else {
        rows.sort_by(|a, b| cmp(a, b).then(a.cmp(b)));
    }
    rows
}

/// The na_prob values of answerable and of unanswerable questions (for core's histograms).
pub fn na_prob_values(e: &Evaluation) -> (Vec<f64>, Vec<f64>) {
    let mut has = Vec::new();
    let mut no = Vec::new();
    for q in &e.questions {
        if let Some(p) = q.na_prob {
            if q.has_answer {
                has.push(p)
            } else {
                no.push(p)
            }
        }
    }
    (has, no)
}

/// A question's prediction as the table prints it.
pub fn shown_prediction(q: &QuestionScore) -> String {
    match q.prediction.as_deref() {
        None => "(missing)".into(),
        Some(_) if q.predicted_no_answer => "(no answer: na_prob above threshold)".into(),
        Some("") => "(no answer)".into(),
        Some(p) => p.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load;

    fn demo() -> (squadkit_core::Dataset, GoldStandard, Run) {
        let d = load::dataset("dev.json", include_bytes!("../../examples/tiny/dev.json")).unwrap();
        let gold = GoldStandard::new(&d);
        let p = load::predictions(
            "p.json",
            include_bytes!("../../examples/tiny/predictions.json"),
        )
        .unwrap();
        let na = load::na_probs(
            "n.json",
            include_bytes!("../../examples/tiny/na_probs.json"),
        )
        .unwrap();
        let run = Run::new(&gold, "p.json", p)
            .unwrap()
            .with_na_probs(&gold, "n.json", na)
            .unwrap();
        (d, gold, run)
    }

    #[test]
    fn rescoring_at_a_threshold_equals_a_fresh_evaluation() {
        let (_, gold, run) = demo();
        let na = &run.na_probs.as_ref().unwrap().1;
        for t in [0.0, 0.3, 0.5, 0.75, 1.0] {
            let fresh = Scorer::new(&gold)
                .evaluate(
                    &run.predictions,
                    Some(na),
                    ScoreOptions {
                        na_prob_thresh: t,
                        precision_recall: true,
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(run.evaluate(&gold, t).unwrap(), fresh, "threshold {t}");
        }
        assert_ne!(
            run.evaluate(&gold, 0.0).unwrap().overall,
            run.evaluate(&gold, 1.0).unwrap().overall
        );
    }

    #[test]
    fn bad_predictions_and_na_probs_are_refused() {
        let (_, gold, run) = demo();
        let p = load::predictions("few.json", br#"{"tiny-01": "x"}"#).unwrap();
        let e = Run::new(&gold, "few.json", p).unwrap_err();
        assert!(
            e.starts_with("few.json does not fit the dataset: ")
                && e.contains("have no prediction"),
            "{e}"
        );
        let na = load::na_probs("na.json", br#"{"tiny-01": 0.5}"#).unwrap();
        let e = run.with_na_probs(&gold, "na.json", na).unwrap_err();
        assert!(e.contains("have no na_prob"), "{e}");
    }

    #[test]
    fn score_card_follows_the_cli() {
        let (_, gold, run) = demo();
        let e = run.evaluate(&gold, 1.0).unwrap();
        let card = score_card(&e);
        let ids: Vec<_> = card.iter().map(|r| r.1.as_str()).collect();
        for id in [
            "score-exact",
            "score-f1",
            "score-total",
            "score-hasans-exact",
            "score-hasans-f1",
            "score-noans-exact",
            "score-best-f1",
            "score-best-f1-thresh",
        ] {
            assert!(ids.contains(&id), "{id}");
        }
        assert_eq!(card[0].2, fmt2(e.overall.exact));
        assert_eq!(card[2].2, e.overall.total.to_string());
        assert_eq!(fmt2(78.74168280973637), "78.74");
    }

    #[test]
    fn slider_maps_to_thresholds() {
        let (_, _, run) = demo();
        let r = run.threshold_range();
        assert_eq!(r, (0.0, 1.0));
        assert_eq!(slider_threshold(r, 0), 0.0);
        assert_eq!(slider_threshold(r, SLIDER_STEPS), 1.0);
        assert_eq!(slider_position(r, 0.5), SLIDER_STEPS / 2);
        assert_eq!(slider_position((-5.0, 5.0), 1.0), 600);
    }

    #[test]
    fn table_filters_and_sorts() {
        let (_, gold, run) = demo();
        let e = run.evaluate(&gold, 1.0).unwrap();
        let all = table_rows(&e, None, SortKey::Dataset, false);
        assert_eq!(all, (0..e.questions.len()).collect::<Vec<_>>());
        let counts = e.outcome_counts();
        for (o, n) in counts {
            let rows = table_rows(&e, Some(o), SortKey::Dataset, false);
            assert_eq!(rows.len(), n);
            assert!(rows.iter().all(|&i| e.questions[i].outcome() == o));
            assert_eq!(outcome_from_label(o.label()), Some(o));
        }
        let by_f1 = table_rows(&e, None, SortKey::F1, true);
        assert!(by_f1
            .windows(2)
            .all(|w| e.questions[w[0]].f1 >= e.questions[w[1]].f1));
        let by_na = table_rows(&e, None, SortKey::NaProb, false);
        assert!(by_na
            .windows(2)
            .all(|w| e.questions[w[0]].na_prob <= e.questions[w[1]].na_prob));
        let (has, no) = na_prob_values(&e);
        assert_eq!(has.len() + no.len(), e.questions.len());
    }
}
