//! DATA from disk in every format a SQuAD user has, with one error naming the file.
//!
//! - the official SQuAD JSON (v1.1/v2.0);
//! - JSON lines in the flat HF layout (`id, title, context, question, answers {text[],
//!   answer_start[]}`; core's [`squadkit_core::squad::is_json_lines`] tells them apart, as in
//!   the browser);
//! - a parquet file, or a directory of them as the HF hub lays out a dataset
//!   (`squad_v2/validation-00000-of-00001.parquet`: the split is the file name's prefix);
//! - a `datasets` `save_to_disk` directory: one `Dataset` (Arrow IPC files + `state.json` +
//!   `dataset_info.json`) or a `DatasetDict` (`dataset_dict.json`, one directory per split).
//!
//! The format is recognised from the content, not the name. Where a path holds several splits
//! (a `DatasetDict`, a hub directory), the caller says which one it wants ([`Split`]): the
//! training data of `train` is the `train` split, everything else reads `validation`, and a
//! split can be named by giving its directory or file instead. Arrow and parquet are read by
//! [`super::arrow`].

use super::arrow;
use crate::error::{CliError, Result};
use crate::fsio;
pub use squadkit_core::preprocess::Split;
use squadkit_core::squad::{is_json_lines, Dataset};
use std::path::{Path, PathBuf};

/// Load DATA in any supported format (`split`: the split to take from a multi-split input).
pub fn load_dataset(path: &Path, split: Split) -> Result<Dataset> {
    let dataset = if path.is_dir() {
        load_dir(path, split)?
    } else {
        let bytes = fsio::read(path)?;
        if bytes.starts_with(b"PAR1") {
            arrow::load_parquet(path)?
        } else if bytes.starts_with(b"ARROW1") || bytes.starts_with(&[0xff, 0xff, 0xff, 0xff]) {
            arrow::load_arrow_file(path)?
        } else {
            load_json(path, &bytes)?
        }
    };
    if dataset.is_empty() {
        return Err(CliError::input(path, "the dataset has no questions"));
    }
    Ok(dataset)
}

/// A `save_to_disk` Dataset or DatasetDict, or a directory of the hub's parquet files.
fn load_dir(dir: &Path, split: Split) -> Result<Dataset> {
    if dir.join("dataset_dict.json").exists() {
        let names = dict_splits(dir)?;
        if !names.iter().any(|n| n == split.name()) {
            return Err(CliError::input(
                dir,
                format!(
                    "a DatasetDict without a `{}` split (it has: {}): give the directory of one split, e.g. {}",
                    split.name(),
                    names.join(", "),
                    dir.join(names.first().map(String::as_str).unwrap_or("validation")).display()
                ),
            ));
        }
        return arrow::load_save_to_disk(&dir.join(split.name()));
    }
    if dir.join("state.json").exists() {
        return arrow::load_save_to_disk(dir);
    }
    let parquet = parquet_files(dir);
    if parquet.is_empty() {
        return Err(CliError::input(
            dir,
            "neither a `datasets` save_to_disk directory (state.json, dataset_dict.json) nor a directory of parquet files",
        ));
    }
    let of_split: Vec<&PathBuf> = parquet.iter().filter(|p| split_of(p) == split.name()).collect();
    if of_split.is_empty() {
        let mut names: Vec<String> = parquet.iter().map(|p| split_of(p)).collect();
        names.sort();
        names.dedup();
        return Err(CliError::input(
            dir,
            format!(
                "no parquet files of the `{}` split (`{}-*.parquet`); it has: {}",
                split.name(),
                split.name(),
                names.join(", ")
            ),
        ));
    }
    let mut examples = Vec::new();
    for p in of_split {
        examples.extend(arrow::load_parquet(p)?.examples);
    }
    Ok(Dataset::from_examples(examples))
}

/// The split names a `dataset_dict.json` lists.
fn dict_splits(dir: &Path) -> Result<Vec<String>> {
    let path = dir.join("dataset_dict.json");
    let v: serde_json::Value = serde_json::from_slice(squadkit_core::json::strip_bom(&fsio::read(&path)?))
        .map_err(|e| CliError::input(&path, format!("not valid JSON: {e}")))?;
    let names: Vec<String> =
        v["splits"].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default();
    if names.is_empty() {
        return Err(CliError::input(&path, "lists no `splits`"));
    }
    Ok(names)
}

/// Every `*.parquet` under `dir` (recursively), sorted by path (the hub's shard order).
fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The split of a hub parquet file: its name up to the first `-` (`validation-00000-of-00001`).
fn split_of(p: &Path) -> String {
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    stem.split('-').next().unwrap_or(stem).to_string()
}

fn load_json(path: &Path, bytes: &[u8]) -> Result<Dataset> {
    let text = squadkit_core::json::strip_bom(bytes);
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    if std::str::from_utf8(text).is_err() || first != Some(&b'{') {
        return Err(CliError::input(path, "not a SQuAD JSON, JSON lines, parquet file or datasets directory"));
    }
    if is_json_lines(text) {
        return Dataset::from_json_lines(text).map_err(|e| CliError::input(path, e));
    }
    Dataset::from_squad_json(text).map_err(|e| fsio::json_error(path, "SQuAD dataset", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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

    fn fixture(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(rel)
    }

    #[test]
    fn official_json_and_jsonl_give_the_same_examples() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_dataset(&write(dir.path(), "dev.json", OFFICIAL), Split::Validation).unwrap();
        let b = load_dataset(&write(dir.path(), "dev.data", JSONL), Split::Validation).unwrap();
        assert_eq!(a.examples, b.examples);
        assert!(Arc::ptr_eq(&b.examples[0].context, &b.examples[1].context));
        let bom = load_dataset(&write(dir.path(), "bom.json", &format!("\u{feff}{OFFICIAL}")), Split::Validation).unwrap();
        assert_eq!(bom.examples, a.examples);
    }

    #[test]
    fn unknown_and_broken_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.csv", "id,question\n1,q\n");
        let e = load_dataset(&p, Split::Validation).unwrap_err();
        assert!(e.to_string().contains("x.csv: not a SQuAD JSON, JSON lines, parquet file or datasets directory"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let p = write(dir.path(), "bad.jsonl", &JSONL.replace("\"question\": \"Q2\", ", ""));
        let e = load_dataset(&p, Split::Validation).unwrap_err();
        assert!(e.to_string().contains("bad.jsonl: line 2"), "{e}");
        let p = write(dir.path(), "uneven.jsonl", &JSONL.replace("\"answer_start\": [3]", "\"answer_start\": []"));
        assert!(load_dataset(&p, Split::Validation).unwrap_err().to_string().contains("answers has 1 texts but 0 answer_start"));
    }

    /// Files written by pyarrow / `datasets` (tools/gen_data_fixtures.py) read back to the
    /// examples of the official JSON they were made from.
    #[test]
    fn every_format_gives_the_official_examples() {
        let official = load_dataset(&fixture("preprocess/tricky_dataset.json"), Split::Validation).unwrap();
        assert_eq!(official.len(), 30);
        for rel in [
            "data/tricky.jsonl",
            "data/tricky.parquet",
            "data/tricky_large.parquet",
            "data/tricky_saved",
            "data/tricky_saved/data-00000-of-00001.arrow",
            "data/tricky_dict",
            "data/tricky_dict/validation",
        ] {
            let d = load_dataset(&fixture(rel), Split::Validation).unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert_eq!(d.len(), official.len(), "{rel}");
            // Flat layouts cannot tell two consecutive paragraphs with one context apart, so
            // paragraph numbers are not compared.
            for (a, b) in d.examples.iter().zip(&official.examples) {
                let key = |e: &squadkit_core::Example| {
                    (e.id.clone(), e.title.clone(), e.context.clone(), e.question.clone(), e.answers.clone())
                };
                assert!(key(a) == key(b), "{rel}: example {} differs", b.id);
            }
        }
    }

    #[test]
    fn a_hub_directory_gives_the_split_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("squad_v2");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(fixture("data/tricky.parquet"), sub.join("validation-00000-of-00001.parquet")).unwrap();
        let d = load_dataset(dir.path(), Split::Validation).unwrap();
        assert_eq!(d.len(), 30);
        let e = load_dataset(dir.path(), Split::Train).unwrap_err();
        assert!(e.to_string().contains("no parquet files of the `train` split (`train-*.parquet`); it has: validation"), "{e}");
    }

    #[test]
    fn a_dataset_dict_without_the_split_says_which_it_has() {
        let e = load_dataset(&fixture("data/tricky_dict"), Split::Train).unwrap_err();
        assert!(e.to_string().contains("a DatasetDict without a `train` split (it has: validation)"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let dir = tempfile::tempdir().unwrap();
        let e = load_dataset(dir.path(), Split::Validation).unwrap_err();
        assert!(e.to_string().contains("neither a `datasets` save_to_disk directory"), "{e}");
        let p = dir.path().join("broken.parquet");
        std::fs::write(&p, b"PAR1 not really").unwrap();
        let e = load_dataset(&p, Split::Validation).unwrap_err();
        assert!(e.to_string().contains("broken.parquet: not a readable parquet file"), "{e}");
    }
}
