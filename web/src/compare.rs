//! Two prediction files on the same dataset: the questions where they differ, which one is
//! right there, and the score delta (B − A) overall, on HasAns and NoAns, and per outcome.

use squadkit_core::scorer::{Evaluation, Outcome, Summary};

/// Who did better on one question (by F1 after the threshold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    A,
    B,
    /// Different answers, same score.
    Tie,
}

impl Winner {
    pub fn label(self) -> &'static str {
        match self {
            Winner::A => "A",
            Winner::B => "B",
            Winner::Tie => "tie",
        }
    }
}

/// One question on which the two runs give different answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Index into both evaluations' `questions`.
    pub index: usize,
    pub winner: Winner,
}

/// A score delta of one category: A's and B's exact and F1.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryDelta {
    pub category: &'static str,
    pub a: Summary,
    pub b: Summary,
}

impl CategoryDelta {
    pub fn exact_delta(&self) -> f64 {
        self.b.exact - self.a.exact
    }

    pub fn f1_delta(&self) -> f64 {
        self.b.f1 - self.a.f1
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub differences: Vec<Difference>,
    pub a_better: usize,
    pub b_better: usize,
    pub ties: usize,
    pub categories: Vec<CategoryDelta>,
    /// Per outcome: questions in it under A and under B.
    pub outcomes: Vec<(Outcome, usize, usize)>,
}

/// What a question's answer is after the threshold ("" for no answer).
fn answer(q: &squadkit_core::scorer::QuestionScore) -> &str {
    if q.predicted_no_answer {
        ""
    } else {
        q.prediction.as_deref().unwrap_or("")
    }
}

/// Compare two evaluations of the same dataset (same question order).
pub fn compare(a: &Evaluation, b: &Evaluation) -> Result<Comparison, String> {
    if a.questions.len() != b.questions.len()
        || a.questions
            .iter()
            .zip(&b.questions)
            .any(|(x, y)| x.id != y.id)
    {
        return Err("the two evaluations are not of the same questions".into());
    }
    let mut differences = Vec::new();
    let (mut a_better, mut b_better, mut ties) = (0, 0, 0);
    for (index, (qa, qb)) in a.questions.iter().zip(&b.questions).enumerate() {
        if answer(qa) == answer(qb) {
            continue;
        }
        let winner = match qa.f1.total_cmp(&qb.f1) {
            std::cmp::Ordering::Greater => Winner::A,
            std::cmp::Ordering::Less => Winner::B,
            std::cmp::Ordering::Equal => Winner::Tie,
        };
        match winner {
            Winner::A => a_better += 1,
            Winner::B => b_better += 1,
            Winner::Tie => ties += 1,
        }
        differences.push(Difference { index, winner });
    }
    let mut categories = vec![CategoryDelta {
        category: "overall",
        a: a.overall,
        b: b.overall,
    }];
    if let (Some(x), Some(y)) = (a.has_ans, b.has_ans) {
        categories.push(CategoryDelta {
            category: "HasAns",
            a: x,
            b: y,
        });
    }
    if let (Some(x), Some(y)) = (a.no_ans, b.no_ans) {
        categories.push(CategoryDelta {
            category: "NoAns",
            a: x,
            b: y,
        });
    }
    let outcomes = a
        .outcome_counts()
        .iter()
        .zip(b.outcome_counts())
        .map(|(&(o, na), (_, nb))| (o, na, nb))
        .collect();
    Ok(Comparison {
        differences,
        a_better,
        b_better,
        ties,
        categories,
        outcomes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::Run;
    use crate::load;
    use squadkit_core::GoldStandard;

    #[test]
    fn differences_and_deltas() {
        let d = load::dataset("dev.json", include_bytes!("../../examples/tiny/dev.json")).unwrap();
        let gold = GoldStandard::new(&d);
        let pa =
            load::predictions("a", include_bytes!("../../examples/tiny/predictions.json")).unwrap();
        // B: every answer of A, but the first answerable question blanked and one wrong answer fixed.
        let first = d.examples.iter().find(|e| e.has_answer()).unwrap();
        let mut pb = pa.clone();
        pb.insert(first.id.clone(), String::new());
        let a = Run::new(&gold, "a", pa.clone())
            .unwrap()
            .evaluate(&gold, 1.0)
            .unwrap();
        let wrong = a
            .questions
            .iter()
            .find(|q| q.has_answer && q.f1 < 1.0 && q.id != first.id);
        if let Some(w) = wrong {
            let e = d.examples.iter().find(|e| e.id == w.id).unwrap();
            pb.insert(w.id.clone(), e.answers.text[0].clone());
        }
        let b = Run::new(&gold, "b", pb)
            .unwrap()
            .evaluate(&gold, 1.0)
            .unwrap();
        let c = compare(&a, &b).unwrap();
        assert_eq!(c.differences.len(), 1 + usize::from(wrong.is_some()));
        let i = a.questions.iter().position(|q| q.id == first.id).unwrap();
        let blanked = c.differences.iter().find(|x| x.index == i).unwrap();
        assert_eq!(
            blanked.winner,
            if a.questions[i].f1 > 0.0 {
                Winner::A
            } else {
                Winner::Tie
            }
        );
        assert_eq!(c.a_better + c.b_better + c.ties, c.differences.len());
        assert_eq!(c.categories[0].f1_delta(), b.overall.f1 - a.overall.f1);
        assert_eq!(c.categories.len(), 3);
        assert_eq!(c.outcomes.iter().map(|o| o.1).sum::<usize>(), d.len());
        // Same predictions: nothing differs, deltas are zero.
        let same = compare(&a, &a).unwrap();
        assert!(same.differences.is_empty());
        assert!(same.categories.iter().all(|c| c.exact_delta() == 0.0));
    }
}
