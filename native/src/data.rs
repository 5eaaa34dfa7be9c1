//! Reading DATA and tokenizers from disk: every format a SQuAD user has, one error naming the file.
//!
//! DATA may be the official SQuAD JSON (v1.1/v2.0), JSON lines in the flat HF layout (`id,
//! title, context, question, answers {text[], answer_start[]}`), the HF hub's parquet files, or
//! a `datasets` `save_to_disk` directory (Arrow IPC files + `dataset_info.json` + `state.json`).
//! The format is recognised from the content, not the name. Arrow and parquet are read by
//! [`crate::arrow_data`] (native only: core stays light for wasm).

use crate::error::{CliError, Result};
use crate::fsio;
use serde::Deserialize;
use squadkit_core::squad::{Answers, Dataset, Example};
use squadkit_core::tokenize::QaTokenizer;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One line of the flat HF layout.
#[derive(Debug, Deserialize)]
pub struct FlatExample {
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub context: String,
    pub question: String,
    #[serde(default)]
    pub answers: Answers,
}

/// Build a dataset from flat rows; consecutive equal contexts share one `Arc<str>`.
pub fn from_flat(rows: impl IntoIterator<Item = FlatExample>) -> Dataset {
    let mut examples: Vec<Example> = Vec::new();
    for r in rows {
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
            plausible_answers: Answers::default(),
            article: 0,
            paragraph: 0,
        });
    }
    Dataset::from_examples(examples)
}

/// Check the parallel lists of every example's answers.
fn check_answers(path: &Path, d: &Dataset) -> Result<()> {
    for e in &d.examples {
        if e.answers.text.len() != e.answers.answer_start.len() {
            return Err(CliError::input(
                path,
                format!(
                    "example {}: answers has {} texts but {} answer_start values",
                    e.id,
                    e.answers.text.len(),
                    e.answers.answer_start.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Load DATA in any supported format.
pub fn load_dataset(path: &Path) -> Result<Dataset> {
    let dataset = if path.is_dir() {
        crate::arrow_data::load_save_to_disk(path)?
    } else {
        let bytes = fsio::read(path)?;
        if bytes.starts_with(b"PAR1") {
            crate::arrow_data::load_parquet(path)?
        } else if bytes.starts_with(b"ARROW1") || bytes.starts_with(&[0xff, 0xff, 0xff, 0xff]) {
            crate::arrow_data::load_arrow_file(path)?
        } else {
            load_json_or_jsonl(path, &bytes)?
        }
    };
    check_answers(path, &dataset)?;
    if dataset.is_empty() {
        return Err(CliError::input(path, "the dataset has no questions"));
    }
    Ok(dataset)
}

fn load_json_or_jsonl(path: &Path, bytes: &[u8]) -> Result<Dataset> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| CliError::input(path, "not a SQuAD JSON, JSON lines, parquet file or datasets directory (not UTF-8 text)"))?;
    let first = text.trim_start().chars().next();
    if first != Some('{') {
        return Err(CliError::input(path, "not a SQuAD JSON, JSON lines, parquet file or datasets directory"));
    }
    // JSON lines: the first line is a whole flat example. The official file is one object
    // with `data` (often on one line).
    let first_line = text.trim_start().lines().next().unwrap_or("");
    // (Probed without building a value: the official file is often one 4 MB line.)
    #[derive(serde::Deserialize)]
    struct Probe {
        question: Option<serde::de::IgnoredAny>,
    }
    let is_jsonl = serde_json::from_str::<Probe>(first_line).is_ok_and(|p| p.question.is_some());
    if is_jsonl {
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row: FlatExample = squadkit_core::json::from_slice(line.as_bytes()).map_err(|e| {
                CliError::input(path, format!("line {}: not a flat SQuAD example: {} at `{}`", i + 1, e.message, e.path))
            })?;
            rows.push(row);
        }
        return Ok(from_flat(rows));
    }
    Dataset::from_squad_json(bytes).map_err(|e| fsio::json_error(path, "SQuAD dataset", e))
}

/// Load a tokenizer: a `tokenizer.json`, or a directory holding `tokenizer.json` or
/// `vocab.json` + `merges.txt`, or a `vocab.json` with its `merges.txt` beside it.
pub fn load_tokenizer(path: &Path) -> Result<QaTokenizer> {
    let (json, vocab_merges): (Option<PathBuf>, Option<(PathBuf, PathBuf)>) = if path.is_dir() {
        let j = path.join("tokenizer.json");
        if j.exists() {
            (Some(j), None)
        } else {
            (None, Some((path.join("vocab.json"), path.join("merges.txt"))))
        }
    } else if path.file_name().is_some_and(|n| n == "vocab.json") {
        (None, Some((path.to_path_buf(), path.with_file_name("merges.txt"))))
    } else {
        (Some(path.to_path_buf()), None)
    };
    if let Some(j) = json {
        let bytes = fsio::read(&j)?;
        return QaTokenizer::from_tokenizer_json(&bytes).map_err(|e| CliError::input(&j, e.to_string()));
    }
    let (v, m) = vocab_merges.expect("one of the two layouts");
    if !v.exists() {
        return Err(CliError::input(path, "no tokenizer.json, and no vocab.json + merges.txt"));
    }
    let (vb, mb) = (fsio::read(&v)?, fsio::read(&m)?);
    QaTokenizer::from_vocab_merges(&vb, &mb).map_err(|e| {
        let file = match e {
            squadkit_core::tokenize::TokenizerError::Merges { .. } => &m,
            _ => &v,
        };
        CliError::input(file, e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICIAL: &str = r#"{"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": "Ab cd", "qas": [
        {"id": "a", "question": "Q1", "answers": [{"text": "cd", "answer_start": 3}]},
        {"id": "b", "question": "Q2", "answers": []}]}]}]}"#;
    const JSONL: &str = "{\"id\": \"a\", \"title\": \"T\", \"context\": \"Ab cd\", \"question\": \"Q1\", \"answers\": {\"text\": [\"cd\"], \"answer_start\": [3]}}\n\
        {\"id\": \"b\", \"title\": \"T\", \"context\": \"Ab cd\", \"question\": \"Q2\", \"answers\": {\"text\": [], \"answer_start\": []}}\n";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn official_json_and_jsonl_give_the_same_examples() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_dataset(&write(dir.path(), "dev.json", OFFICIAL)).unwrap();
        let b = load_dataset(&write(dir.path(), "dev.data", JSONL)).unwrap();
        assert_eq!(a.examples, b.examples);
        assert!(Arc::ptr_eq(&b.examples[0].context, &b.examples[1].context));
    }

    #[test]
    fn unknown_and_broken_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.csv", "id,question\n1,q\n");
        let e = load_dataset(&p).unwrap_err();
        assert!(e.to_string().contains("x.csv: not a SQuAD JSON, JSON lines, parquet file or datasets directory"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let p = write(dir.path(), "bad.jsonl", &JSONL.replace("\"question\": \"Q2\", ", ""));
        let e = load_dataset(&p).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let p = write(dir.path(), "uneven.jsonl", &JSONL.replace("\"answer_start\": [3]", "\"answer_start\": []"));
        assert!(load_dataset(&p).unwrap_err().to_string().contains("answers has 1 texts but 0 answer_start"));
    }

    #[test]
    fn tokenizer_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "tokenizer.json", "{}");
        let e = load_tokenizer(&p).unwrap_err();
        assert!(e.to_string().starts_with(&format!("{}: not a usable tokenizer.json", p.display())), "{e}");
        let e = load_tokenizer(dir.path().join("nothing").as_path()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
