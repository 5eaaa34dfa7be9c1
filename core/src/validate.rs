//! Checks of a dataset's integrity that report problems instead of failing.
//!
//! The real SQuAD files have a few answers whose text is not exactly at `answer_start`;
//! training and scoring still work on them, so [`validate`] lists every [`Issue`] and lets the
//! caller decide. Offsets are code points.

use crate::squad::Dataset;
use crate::text::char_len;
use serde::Serialize;
use std::collections::HashMap;

/// What is wrong with one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IssueKind {
    /// The id was already used by an earlier question (at that index).
    DuplicateId {
        first: usize,
    },
    /// `answer_start` (or the answer's end) lies outside the context.
    AnswerOutsideContext {
        answer: usize,
        answer_start: i64,
        context_chars: usize,
    },
    /// The context does not hold the answer text at `answer_start`.
    AnswerTextMismatch {
        answer: usize,
        answer_start: i64,
        expected: String,
        found: String,
    },
    EmptyContext,
    EmptyQuestion,
    /// `is_impossible`-style inconsistency: plausible answers on an answerable question.
    PlausibleOnAnswerable,
}

/// A problem found in the question at `index` (dataset order), with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub index: usize,
    pub id: String,
    #[serde(flatten)]
    pub kind: IssueKind,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "question {} (#{}): ", self.id, self.index)?;
        match &self.kind {
            IssueKind::DuplicateId { first } => write!(f, "duplicate id (first used by question #{first})"),
            IssueKind::AnswerOutsideContext { answer, answer_start, context_chars } => {
                write!(f, "answer {answer} at {answer_start} lies outside the context ({context_chars} characters)")
            }
            IssueKind::AnswerTextMismatch { answer, answer_start, expected, found } => {
                write!(f, "answer {answer}: context at {answer_start} reads {found:?}, not {expected:?}")
            }
            IssueKind::EmptyContext => write!(f, "empty context"),
            IssueKind::EmptyQuestion => write!(f, "empty question"),
            IssueKind::PlausibleOnAnswerable => write!(f, "plausible answers on an answerable question"),
        }
    }
}

/// Every integrity problem in `dataset`, in dataset order.
pub fn validate(dataset: &Dataset) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    // Byte offset of every code point of the current context (+ the end), built once per
    // paragraph: the questions of a paragraph share their context.
    let mut char_starts: Vec<usize> = Vec::new();
    let mut current: Option<*const u8> = None;
    for (index, e) in dataset.examples.iter().enumerate() {
        if current != Some(e.context.as_ptr()) {
            current = Some(e.context.as_ptr());
            char_starts.clear();
            char_starts.extend(e.context.char_indices().map(|(b, _)| b));
            char_starts.push(e.context.len());
        }
        let mut push = |kind| issues.push(Issue { index, id: e.id.clone(), kind });
        if let Some(&first) = seen.get(e.id.as_str()) {
            push(IssueKind::DuplicateId { first });
        } else {
            seen.insert(&e.id, index);
        }
        if e.context.trim().is_empty() {
            push(IssueKind::EmptyContext);
        }
        if e.question.trim().is_empty() {
            push(IssueKind::EmptyQuestion);
        }
        if e.has_answer() && !e.plausible_answers.is_empty() {
            push(IssueKind::PlausibleOnAnswerable);
        }
        let context_chars = char_starts.len() - 1;
        for (answer, (text, start)) in e.answers.iter().chain(e.plausible_answers.iter()).enumerate() {
            let len = char_len(text) as i64;
            if start < 0 || start + len > context_chars as i64 {
                push(IssueKind::AnswerOutsideContext { answer, answer_start: start, context_chars });
                continue;
            }
            let found = &e.context[char_starts[start as usize]..char_starts[(start + len) as usize]];
            if found != text {
                push(IssueKind::AnswerTextMismatch {
                    answer,
                    answer_start: start,
                    expected: text.to_string(),
                    found: found.to_string(),
                });
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_problem() {
        let json = r#"{"data": [{"title": "T", "paragraphs": [
            {"context": "añb c", "qas": [
                {"id": "a", "question": "q", "answers": [{"text": "b", "answer_start": 2}]},
                {"id": "a", "question": " ", "answers": [{"text": "c", "answer_start": 9}]},
                {"id": "b", "question": "q", "answers": [{"text": "x", "answer_start": 0}]}]},
            {"context": "", "qas": [{"id": "c", "question": "q", "answers": []}]}]}]}"#;
        let d = Dataset::from_squad_json(json.as_bytes()).unwrap();
        let kinds: Vec<_> = validate(&d).into_iter().map(|i| (i.index, i.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (1, IssueKind::DuplicateId { first: 0 }),
                (1, IssueKind::EmptyQuestion),
                (1, IssueKind::AnswerOutsideContext { answer: 0, answer_start: 9, context_chars: 5 }),
                (2, IssueKind::AnswerTextMismatch { answer: 0, answer_start: 0, expected: "x".into(), found: "a".into() }),
                (3, IssueKind::EmptyContext),
            ]
        );
    }
}
