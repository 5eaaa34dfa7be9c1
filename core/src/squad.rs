//! The SQuAD data model: the official nested JSON (v1.1 and v2.0) and the flat HF layout.
//!
//! [`SquadFile`] mirrors the official file (`data[].paragraphs[].qas[]`); [`Dataset`] is the
//! same questions flattened into [`Example`]s in dataset order, the layout of HF `datasets`
//! (`id, title, context, question, answers {text[], answer_start[]}`), which the preprocessing,
//! the scorer and the browser work on. All offsets are Unicode code points, as in Python.

use crate::json::{self, JsonError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One answer as the official JSON spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub text: String,
    /// Code-point offset of `text` in the paragraph's context.
    pub answer_start: i64,
}

/// One question of the official JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Qa {
    pub id: String,
    pub question: String,
    #[serde(default)]
    pub answers: Vec<Answer>,
    /// v2.0 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_impossible: Option<bool>,
    /// v2.0 only: the spans annotators found tempting for an unanswerable question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plausible_answers: Option<Vec<Answer>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paragraph {
    pub context: String,
    pub qas: Vec<Qa>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    #[serde(default)]
    pub title: String,
    pub paragraphs: Vec<Paragraph>,
}

/// The official SQuAD JSON file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SquadFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub data: Vec<Article>,
}

impl SquadFile {
    /// Parse the official JSON; an error names the JSON path of the first bad value.
    pub fn from_json(bytes: &[u8]) -> Result<SquadFile, JsonError> {
        json::from_slice(bytes)
    }
}

/// Answers in the HF layout: parallel lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    pub text: Vec<String>,
    pub answer_start: Vec<i64>,
}

impl Answers {
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> {
        self.text.iter().map(String::as_str).zip(self.answer_start.iter().copied())
    }

    fn from_answers(answers: Vec<Answer>) -> Answers {
        let answer_start = answers.iter().map(|a| a.answer_start).collect();
        Answers { text: answers.into_iter().map(|a| a.text).collect(), answer_start }
    }
}

/// One question with its context, in the HF layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub id: String,
    pub title: String,
    /// Shared by every question of a paragraph.
    pub context: Arc<str>,
    pub question: String,
    /// Empty for an unanswerable question.
    pub answers: Answers,
    /// v2.0's plausible answers of an unanswerable question (empty elsewhere).
    #[serde(default, skip_serializing_if = "Answers::is_empty")]
    pub plausible_answers: Answers,
    /// Index of the article (run of equal titles in flat files) and of the paragraph in it.
    #[serde(default)]
    pub article: usize,
    #[serde(default)]
    pub paragraph: usize,
}

impl Example {
    /// Whether the question has a gold answer (`bool(qa['answers'])` in the official script).
    pub fn has_answer(&self) -> bool {
        !self.answers.is_empty()
    }
}

/// One question in the flat HF layout, as a line of JSON lines or a row of a parquet/Arrow
/// table: `title` and `answers` may be absent (an unanswerable question).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FlatExample {
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub context: String,
    pub question: String,
    #[serde(default)]
    pub answers: Answers,
    /// Not in the HF layout; kept when a flat file has it (squadkit's own exports do).
    #[serde(default)]
    pub plausible_answers: Answers,
}

/// Why flat rows (JSON lines, a table) are not a dataset: which row, and what.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlatError {
    /// Line `line` (1-based) of JSON lines is not a flat example.
    #[error("line {line}: not a flat SQuAD example: {error}")]
    Json { line: usize, error: JsonError },
    /// The parallel answer lists of an example differ in length.
    #[error("example {id}: answers has {texts} texts but {starts} answer_start values")]
    UnevenAnswers { id: String, texts: usize, starts: usize },
    #[error("no questions")]
    Empty,
}

/// Whether `bytes` look like JSON lines of flat examples rather than one official SQuAD JSON
/// document: the first non-blank line is a whole JSON object without `data` (the official
/// file is often a single line too, but its top level has `data`; pretty-printed, its first
/// line is not a whole object). The CLI and the browser sniff with this one rule.
pub fn is_json_lines(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        data: Option<serde::de::IgnoredAny>,
    }
    let bytes = json::strip_bom(bytes);
    let first = bytes.split(|&b| b == b'\n').find(|l| !l.iter().all(u8::is_ascii_whitespace)).unwrap_or_default();
    serde_json::from_slice::<Probe>(first).is_ok_and(|p| p.data.is_none())
}

/// A dataset: examples in dataset order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub version: Option<String>,
    pub examples: Vec<Example>,
}

impl Dataset {
    /// Parse the official JSON and flatten it.
    pub fn from_squad_json(bytes: &[u8]) -> Result<Dataset, JsonError> {
        Ok(Dataset::from(SquadFile::from_json(bytes)?))
    }

    /// Flat examples (HF layout), as from JSON lines or parquet: articles and paragraphs are
    /// runs of equal titles and contexts.
    pub fn from_examples(mut examples: Vec<Example>) -> Dataset {
        let mut article = 0;
        let mut paragraph = 0;
        for i in 0..examples.len() {
            if i > 0 {
                let (prev, cur) = (&examples[i - 1], &examples[i]);
                if prev.title != cur.title {
                    article += 1;
                    paragraph = 0;
                } else if prev.context != cur.context {
                    paragraph += 1;
                }
            }
            examples[i].article = article;
            examples[i].paragraph = paragraph;
        }
        Dataset { version: None, examples }
    }

    /// Rows of the flat HF layout (JSON lines, parquet, Arrow); consecutive equal contexts
    /// share one `Arc<str>`, and articles/paragraphs are runs of equal titles/contexts.
    pub fn from_flat(rows: impl IntoIterator<Item = FlatExample>) -> Result<Dataset, FlatError> {
        let mut examples: Vec<Example> = Vec::new();
        for r in rows {
            if r.answers.text.len() != r.answers.answer_start.len() {
                return Err(FlatError::UnevenAnswers {
                    id: r.id,
                    texts: r.answers.text.len(),
                    starts: r.answers.answer_start.len(),
                });
            }
            let context = match examples.last() {
                Some(prev) if *prev.context == *r.context => Arc::clone(&prev.context),
                _ => Arc::from(r.context),
            };
            examples.push(Example {
                id: r.id,
                title: r.title,
                context,
                question: r.question,
                answers: r.answers,
                plausible_answers: r.plausible_answers,
                article: 0,
                paragraph: 0,
            });
        }
        if examples.is_empty() {
            return Err(FlatError::Empty);
        }
        Ok(Dataset::from_examples(examples))
    }

    /// JSON lines of flat examples (blank lines skipped); the error names the line.
    pub fn from_json_lines(bytes: &[u8]) -> Result<Dataset, FlatError> {
        let mut rows = Vec::new();
        for (i, line) in json::strip_bom(bytes).split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            rows.push(json::from_slice::<FlatExample>(line).map_err(|error| FlatError::Json { line: i + 1, error })?);
        }
        Dataset::from_flat(rows)
    }

    pub fn len(&self) -> usize {
        self.examples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Counts for a summary line.
    pub fn stats(&self) -> DatasetStats {
        let mut s = DatasetStats { questions: self.examples.len(), ..Default::default() };
        let mut last: Option<(usize, usize)> = None;
        for e in &self.examples {
            if e.has_answer() {
                s.answerable += 1;
            } else {
                s.unanswerable += 1;
            }
            if last.map(|(a, _)| a) != Some(e.article) {
                s.articles += 1;
            }
            if last != Some((e.article, e.paragraph)) {
                s.paragraphs += 1;
            }
            last = Some((e.article, e.paragraph));
        }
        s
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DatasetStats {
    pub articles: usize,
    pub paragraphs: usize,
    pub questions: usize,
    pub answerable: usize,
    pub unanswerable: usize,
}

impl From<SquadFile> for Dataset {
    fn from(file: SquadFile) -> Dataset {
        let mut examples = Vec::new();
        for (a, article) in file.data.into_iter().enumerate() {
            for (p, paragraph) in article.paragraphs.into_iter().enumerate() {
                let context: Arc<str> = Arc::from(paragraph.context);
                for qa in paragraph.qas {
                    examples.push(Example {
                        id: qa.id,
                        title: article.title.clone(),
                        context: Arc::clone(&context),
                        question: qa.question,
                        answers: Answers::from_answers(qa.answers),
                        plausible_answers: qa.plausible_answers.map(Answers::from_answers).unwrap_or_default(),
                        article: a,
                        paragraph: p,
                    });
                }
            }
        }
        Dataset { version: file.version, examples }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = r#"{"version": "v2.0", "data": [{"title": "T", "paragraphs": [
        {"context": "Héllo wörld", "qas": [
            {"id": "q1", "question": "Where?", "answers": [{"text": "wörld", "answer_start": 6}], "is_impossible": false},
            {"id": "q2", "question": "Who?", "answers": [], "is_impossible": true,
             "plausible_answers": [{"text": "Héllo", "answer_start": 0}]}]},
        {"context": "Second", "qas": [{"id": "q3", "question": "x", "answers": [{"text": "Second", "answer_start": 0}]}]}]}]}"#;

    #[test]
    fn flattens_in_dataset_order() {
        let d = Dataset::from_squad_json(V2.as_bytes()).unwrap();
        assert_eq!(d.version.as_deref(), Some("v2.0"));
        let ids: Vec<_> = d.examples.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["q1", "q2", "q3"]);
        assert!(d.examples[0].has_answer());
        assert!(!d.examples[1].has_answer());
        assert_eq!(d.examples[1].plausible_answers.text, ["Héllo"]);
        assert_eq!((d.examples[2].article, d.examples[2].paragraph), (0, 1));
        assert!(Arc::ptr_eq(&d.examples[0].context, &d.examples[1].context));
        let s = d.stats();
        assert_eq!((s.articles, s.paragraphs, s.questions, s.answerable, s.unanswerable), (1, 2, 3, 2, 1));
    }

    #[test]
    fn schema_errors_name_the_path() {
        let bad = r#"{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": 5, "question": "q"}]}]}]}"#;
        let e = Dataset::from_squad_json(bad.as_bytes()).unwrap_err();
        assert_eq!(e.path, "data[0].paragraphs[0].qas[0].id");
    }

    #[test]
    fn json_lines_give_the_official_examples() {
        let d = Dataset::from_squad_json(V2.as_bytes()).unwrap();
        let mut lines = String::from("\u{feff}");
        for e in &d.examples {
            let mut v = serde_json::to_value(e).unwrap();
            for k in ["plausible_answers", "article", "paragraph"] {
                v.as_object_mut().unwrap().remove(k);
            }
            lines.push_str(&v.to_string());
            lines.push_str("\n\n");
        }
        assert!(is_json_lines(lines.as_bytes()));
        assert!(!is_json_lines(V2.as_bytes()));
        let flat = Dataset::from_json_lines(lines.as_bytes()).unwrap();
        let strip = |d: &Dataset| {
            d.examples
                .iter()
                .map(|e| (e.id.clone(), e.title.clone(), e.context.clone(), e.answers.clone(), e.article, e.paragraph))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&flat), strip(&d));
        assert!(Arc::ptr_eq(&flat.examples[0].context, &flat.examples[1].context));
        // No title, no answers: an unanswerable question of an untitled article.
        let bare = Dataset::from_json_lines(br#"{"id": "a", "context": "c", "question": "q"}"#).unwrap();
        assert!(!bare.examples[0].has_answer());
    }

    #[test]
    fn bad_json_lines_name_the_line() {
        let e =
            Dataset::from_json_lines(b"{\"id\": \"a\", \"context\": \"c\", \"question\": \"q\"}\n{\"id\": \"b\"}\n").unwrap_err();
        assert!(matches!(&e, FlatError::Json { line: 2, .. }), "{e}");
        assert!(e.to_string().starts_with("line 2: not a flat SQuAD example"), "{e}");
        let uneven = br#"{"id": "a", "context": "c", "question": "q", "answers": {"text": ["c"], "answer_start": []}}"#;
        assert_eq!(
            Dataset::from_json_lines(uneven).unwrap_err().to_string(),
            "example a: answers has 1 texts but 0 answer_start values"
        );
        assert_eq!(Dataset::from_json_lines(b"\n\n").unwrap_err(), FlatError::Empty);
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), V2.as_bytes()].concat();
        assert_eq!(Dataset::from_squad_json(&with_bom).unwrap(), Dataset::from_squad_json(V2.as_bytes()).unwrap());
    }

    #[test]
    fn flat_examples_regroup_into_articles_and_paragraphs() {
        let d = Dataset::from_squad_json(V2.as_bytes()).unwrap();
        let flat = Dataset::from_examples(d.examples.clone());
        assert_eq!(flat.examples, d.examples);
    }
}
