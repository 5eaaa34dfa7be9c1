//! The seed user's workflow with no conversion step: what `datasets` gives them (a
//! `save_to_disk` DatasetDict) or what `squadkit download` fetches (the hub's parquet
//! directory) goes straight through `train` → `predict` → `evaluate`, and gives what the same
//! questions in SQuAD JSON give: the same trained weights, predictions and scores.
//!
//! The Arrow and parquet files are the committed fixtures `tools/gen_data_fixtures.py` made
//! with `datasets`/pyarrow from `tests/fixtures/preprocess/tricky_dataset.json`; the tests lay
//! them out as a two-split DatasetDict and a hub directory (`train-…`/`validation-…` files).

use squadkit_tests::{demo_prepared, fixture, squadkit, strings, tiny_model_flags, Run};
use std::path::{Path, PathBuf};

fn run_ok<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(args: I) -> Run {
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let r = squadkit(&args);
    assert_eq!(r.code, 0, "squadkit {args:?}\n{}", r.stderr);
    r
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// The three layouts of the same 30 questions: SQuAD JSON, a DatasetDict with `train` and
/// `validation` splits, and a hub parquet directory with both splits.
fn layouts(dir: &Path) -> [(&'static str, PathBuf, PathBuf); 3] {
    let json = fixture("preprocess/tricky_dataset.json");
    let dict = dir.join("squad_dict");
    for split in ["train", "validation"] {
        copy_dir(&fixture("data/tricky_dict/validation"), &dict.join(split));
    }
    std::fs::write(dict.join("dataset_dict.json"), r#"{"splits": ["train", "validation"]}"#).unwrap();
    let hub = dir.join("hub/rajpurkar/squad_v2/squad_v2");
    std::fs::create_dir_all(&hub).unwrap();
    for split in ["train", "validation"] {
        std::fs::copy(fixture("data/tricky.parquet"), hub.join(format!("{split}-00000-of-00001.parquet"))).unwrap();
    }
    let hub = dir.join("hub");
    [("json", json.clone(), json), ("dataset_dict", dict.clone(), dict), ("hub_parquet", hub.clone(), hub)]
}

#[test]
fn a_dataset_dict_and_hub_parquet_train_predict_and_score_as_squad_json() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let mut results = Vec::new();
    for (name, train, validation) in layouts(d.path()) {
        let run = d.path().join(format!("run-{name}"));
        let window = ["--max-seq-length", "128", "--doc-stride", "32", "--max-query-length", "32"];
        let mut train_args = vec!["train".to_string()];
        train_args.extend(tiny_model_flags(&prep, &train));
        train_args.extend(["--validation-file".into(), validation.to_str().unwrap().into()]);
        train_args.extend(["--output-dir".into(), run.to_str().unwrap().into()]);
        train_args.extend(strings(["--max-steps", "3", "--per-device-train-batch-size", "8", "--learning-rate", "1e-3"]));
        train_args.extend(strings(["--eval-strategy", "steps", "--eval-steps", "3"]));
        run_ok(&train_args);
        let preds = d.path().join(format!("preds-{name}"));
        let mut predict: Vec<std::ffi::OsString> =
            vec!["predict".into(), "--model".into(), run.join("final").into(), validation.clone().into()];
        predict.extend(["--output-dir".into(), preds.clone().into(), "--evaluate".into()]);
        predict.extend(window.iter().map(|s| s.into()));
        let scored = run_ok(&predict);
        let evaluate = run_ok([
            "evaluate".as_ref(),
            validation.as_os_str(),
            preds.join("predictions.json").as_os_str(),
            "-n".as_ref(),
            preds.join("null_odds.json").as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ]);
        let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{name}: {}: {e}", p.display()));
        results.push((
            name,
            read(run.join("final/model.safetensors")),
            read(preds.join("predictions.json")),
            read(preds.join("null_odds.json")),
            scored.stdout,
            evaluate.stdout,
        ));
    }
    let (_, weights, predictions, null_odds, scored, evaluated) = &results[0];
    assert!(evaluated.contains("\"exact\":") && evaluated.contains("\"total\": 30"), "{evaluated}");
    for (name, w, p, n, s, e) in &results[1..] {
        assert!(w == weights, "{name}: the trained weights differ from SQuAD JSON's");
        assert!(p == predictions, "{name}: predictions.json differs from SQuAD JSON's");
        assert!(n == null_odds, "{name}: null_odds.json differs");
        assert_eq!(s, scored, "{name}: predict --evaluate");
        assert_eq!(e, evaluated, "{name}: evaluate");
    }
}
