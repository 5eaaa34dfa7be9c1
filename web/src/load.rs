//! Recognising and parsing the files a user opens. Parsing is core's; this module only picks
//! the parser, checks that a file is of the kind the user meant, and words the error.
//!
//! Every function returns `Err(message)` for a file it cannot use: the app shows the message
//! and keeps what it had loaded before.

use serde_json::Value;
use squadkit_core::json::JsonError;
use squadkit_core::scorer::{parse_na_probs, parse_predictions, NaProbs, Predictions};
use squadkit_core::squad::Dataset;
use squadkit_core::tokenize::QaTokenizer;

/// What a JSON file that is not the expected kind looks like, for the error message.
fn guess_kind(bytes: &[u8]) -> Option<&'static str> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    match &v {
        Value::Object(m) if m.contains_key("data") => Some("a SQuAD dataset"),
        Value::Object(m) if m.contains_key("model") && m.contains_key("added_tokens") => {
            Some("a tokenizer.json")
        }
        Value::Object(m) if !m.is_empty() && m.values().all(Value::is_string) => {
            Some("a predictions file (question id → answer text)")
        }
        Value::Object(m) if !m.is_empty() && m.values().all(Value::is_number) => {
            Some("a na_prob file (question id → probability of no answer)")
        }
        _ => None,
    }
}

fn json_error(file: &str, what: &str, bytes: &[u8], e: &JsonError) -> String {
    match guess_kind(bytes) {
        Some(kind) if kind != what => format!("{file} is not {what}: it looks like {kind}."),
        None if serde_json::from_slice::<Value>(bytes).is_err() => {
            format!(
                "{file} is not valid JSON: line {}, column {}: {}",
                e.line, e.column, e.message
            )
        }
        _ => format!("{file} is not {what}: {e}"),
    }
}

/// What a dropped file is, guessed from its content (and for JSON lines, its first line), in
/// the order files dropped together are opened: the dataset before what is scored on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Dataset,
    Predictions,
    /// A JSON object of numbers: a na_prob file, or a tokenizer's vocab.json when a merges.txt
    /// comes with it.
    NaProbs,
    Tokenizer,
    /// A BPE merges.txt: `#version` and/or lines of two tokens.
    Merges,
    Metrics,
}

/// Whether `bytes` read as a merges.txt: not JSON, the first line a `#version` header or a
/// pair of tokens.
fn looks_like_merges(bytes: &[u8]) -> bool {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let Ok(first) = std::str::from_utf8(first) else {
        return false;
    };
    let first = first.trim_end_matches('\r');
    first.starts_with("#version")
        || (!first.starts_with('{') && first.split(' ').filter(|t| !t.is_empty()).count() == 2)
}

pub fn sniff(bytes: &[u8]) -> Kind {
    match guess_kind(bytes) {
        Some(k) if k.starts_with("a predictions") => Kind::Predictions,
        Some(k) if k.starts_with("a na_prob") => Kind::NaProbs,
        Some(k) if k.starts_with("a tokenizer") => Kind::Tokenizer,
        Some(_) => Kind::Dataset,
        None if looks_like_merges(bytes) => Kind::Merges,
        None => {
            let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            match serde_json::from_slice::<Value>(first) {
                Ok(Value::Object(m)) if !m.contains_key("context") => Kind::Metrics,
                _ => Kind::Dataset,
            }
        }
    }
}

/// A dataset: the official SQuAD JSON (v1.1/v2.0) or flat JSON lines in the HF layout
/// (`id, title, context, question, answers {text[], answer_start[]}` per line; `title` and
/// `answers` optional), told apart by core's rule, as the CLI does.
pub fn dataset(file: &str, bytes: &[u8]) -> Result<Dataset, String> {
    let parsed = if squadkit_core::squad::is_json_lines(bytes) {
        Dataset::from_json_lines(bytes).map_err(|e| format!("{file}: {e}"))
    } else {
        Dataset::from_squad_json(bytes).map_err(|e| json_error(file, "a SQuAD dataset", bytes, &e))
    };
    let dataset = parsed.map_err(|message| match guess_kind(bytes) {
        Some(kind) if kind != "a SQuAD dataset" => {
            format!("{file} is not a SQuAD dataset: it looks like {kind}.")
        }
        _ => message,
    })?;
    if dataset.is_empty() {
        return Err(format!("{file} holds no questions."));
    }
    Ok(dataset)
}

/// A predictions file: a JSON object of question id → answer text.
pub fn predictions(file: &str, bytes: &[u8]) -> Result<Predictions, String> {
    parse_predictions(bytes).map_err(|e| json_error(file, "a predictions file", bytes, &e))
}

/// A na_prob (null odds) file: a JSON object of question id → number.
pub fn na_probs(file: &str, bytes: &[u8]) -> Result<NaProbs, String> {
    parse_na_probs(bytes).map_err(|e| json_error(file, "a na_prob file", bytes, &e))
}

/// A tokenizer from one `tokenizer.json`, or from `vocab.json` + `merges.txt` (any order).
pub fn tokenizer(files: &[(String, Vec<u8>)]) -> Result<QaTokenizer, String> {
    match files {
        [(name, bytes)] => {
            QaTokenizer::from_tokenizer_json(bytes).map_err(|e| format!("{name}: {e}"))
        }
        [a, b] => {
            let (vocab, merges) = if a.0.ends_with(".txt") {
                (b, a)
            } else {
                (a, b)
            };
            QaTokenizer::from_vocab_merges(&vocab.1, &merges.1)
                .map_err(|e| format!("{} + {}: {e}", vocab.0, merges.0))
        }
        _ => Err("open one tokenizer.json, or vocab.json together with merges.txt".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &[u8] = include_bytes!("../../examples/tiny/dev.json");
    const PREDS: &[u8] = include_bytes!("../../examples/tiny/predictions.json");
    const NA: &[u8] = include_bytes!("../../examples/tiny/na_probs.json");

    #[test]
    fn opens_squad_json_and_json_lines() {
        let d = dataset("dev.json", TINY).unwrap();
        assert!(d.len() >= 10);
        let lines: String = d
            .examples
            .iter()
            .map(|e| serde_json::to_string(e).unwrap() + "\n")
            .collect();
        let flat = dataset("dev.jsonl", lines.as_bytes()).unwrap();
        assert_eq!(flat.examples, d.examples);
    }

    #[test]
    fn wrong_kinds_are_named() {
        let e = dataset("p.json", PREDS).unwrap_err();
        assert_eq!(e, "p.json is not a SQuAD dataset: it looks like a predictions file (question id → answer text).");
        let e = dataset("n.json", NA).unwrap_err();
        assert!(e.contains("looks like a na_prob file"), "{e}");
        let e = predictions("dev.json", TINY).unwrap_err();
        assert!(
            e.contains("dev.json is not a predictions file: it looks like a SQuAD dataset"),
            "{e}"
        );
        let e = na_probs("p.json", PREDS).unwrap_err();
        assert!(e.contains("not a na_prob file"), "{e}");
    }

    #[test]
    fn invalid_json_and_schema_errors_say_where() {
        let e = dataset("bad.json", b"{\"data\": [").unwrap_err();
        assert!(e.starts_with("bad.json is not valid JSON: line 1"), "{e}");
        let e = dataset(
            "x.json",
            br#"{"data": [{"title": "t", "paragraphs": [{"context": 3, "qas": []}]}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("data[0].paragraphs[0].context"), "{e}");
        let e = dataset("l.jsonl", b"{\"id\": \"a\"}\n{\"id\": \"b\"}\n").unwrap_err();
        assert!(
            e.starts_with("l.jsonl: line 1: not a flat SQuAD example"),
            "{e}"
        );
        // The same rule as the CLI's: a line without a title (an untitled article) opens.
        let d = dataset(
            "t.jsonl",
            b"{\"id\": \"a\", \"context\": \"c\", \"question\": \"q\"}\n",
        )
        .unwrap();
        assert_eq!(d.len(), 1);
        let e = dataset("empty.json", br#"{"data": []}"#).unwrap_err();
        assert_eq!(e, "empty.json holds no questions.");
    }

    #[test]
    fn dropped_files_are_sniffed() {
        assert_eq!(sniff(TINY), Kind::Dataset);
        assert_eq!(sniff(PREDS), Kind::Predictions);
        assert_eq!(sniff(NA), Kind::NaProbs);
        assert_eq!(
            sniff(br#"{"model": {}, "added_tokens": []}"#),
            Kind::Tokenizer
        );
        assert_eq!(
            sniff(b"{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"loss\": 1}\n"),
            Kind::Metrics
        );
        assert_eq!(
            sniff(b"{\"id\": \"a\", \"context\": \"c\"}\n{}\n"),
            Kind::Dataset
        );
        assert_eq!(sniff(b"#version: 0.2\n\xc4\xa0 t\n"), Kind::Merges);
        assert_eq!(sniff(b"\xc4\xa0 t\n\xc4\xa0 a\n"), Kind::Merges);
        assert_eq!(
            sniff(b"garbage"),
            Kind::Dataset,
            "the dataset parser explains it"
        );
    }

    #[test]
    fn tokenizer_needs_one_or_two_files() {
        assert!(tokenizer(&[]).unwrap_err().contains("tokenizer.json"));
        let e = tokenizer(&[("t.json".into(), b"{}".to_vec())]).unwrap_err();
        assert!(e.starts_with("t.json: "), "{e}");
    }
}
