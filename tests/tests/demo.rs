//! Learning is real: a tiny RoBERTa trained from scratch on the CPU by `squadkit train` on the
//! generated demo task reaches F1 >= 80 on held-out questions about unseen people (the
//! always-no-answer baseline is 40); and
//! `squadkit demo` runs the whole pipeline, leaving a run directory the web app can open.

use serde_json::Value;
use squadkit_tests::{demo_prepared, squadkit, strings, tiny_model_flags};

#[test]
fn a_tiny_model_trained_from_scratch_reaches_f1_80_on_held_out_questions() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let p = |s: &str| prep.join(s).to_str().unwrap().to_string();
    let run = d.path().join("run");
    let t = std::time::Instant::now();
    let mut a = vec!["train".to_string()];
    a.extend(tiny_model_flags(&prep, &prep.join("data/train.json")));
    a.extend(["--validation-file".into(), p("data/dev.json"), "--output-dir".into(), run.to_str().unwrap().into()]);
    a.extend(strings(["--dynamic-padding", "--group-by-length", "--per-device-train-batch-size", "32"]));
    a.extend(strings(["--learning-rate", "2e-3", "--warmup-ratio", "0.1", "--weight-decay", "0.01"]));
    a.extend(strings(["--num-train-epochs", "22", "--logging-steps", "20", "--save-steps", "0", "--eval-strategy", "epoch"]));
    let r = squadkit(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let train_secs = t.elapsed().as_secs_f64();
    // Score the final model on the held-out split with predict → decode → the official scorer.
    let pred = d.path().join("pred");
    let r = squadkit([
        "predict",
        "--model",
        run.join("final").to_str().unwrap(),
        &p("data/dev.json"),
        "--output-dir",
        pred.to_str().unwrap(),
        "--max-seq-length",
        "128",
        "--doc-stride",
        "32",
        "--max-query-length",
        "32",
        "--evaluate",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let eval: Value = serde_json::from_slice(&std::fs::read(pred.join("eval.json")).unwrap()).unwrap();
    let (f1, no_ans, total) =
        (eval["f1"].as_f64().unwrap(), eval["NoAns_total"].as_f64().unwrap(), eval["total"].as_f64().unwrap());
    let baseline = 100.0 * no_ans / total;
    println!(
        "held-out F1 {f1:.2} (exact {:.2}; always-no-answer baseline {baseline:.2}) after {train_secs:.0} s of training",
        eval["exact"]
    );
    // Five seeds of this recipe gave F1 86.1 (seed 42, the default), 91.8, 91.8, 91.3 and 92.2
    // (2026-11-27, AVX-512 gemm). A trajectory changes with the last bits of the arithmetic
    // (another CPU's gemm kernels, another summation order), so the bound leaves room below
    // the worst of them.
    assert!(f1 >= 80.0, "F1 {f1} < 80: {eval}");
    // The evaluations during training are in the metrics log, and the final one agrees.
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let evals: Vec<Value> =
        text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|v| v["event"] == "eval").collect();
    assert_eq!(evals.len(), 22, "one evaluation per epoch");
    assert_eq!(evals.last().unwrap()["f1"].as_f64().unwrap(), f1);
    for key in ["exact", "HasAns_f1", "NoAns_f1", "best_f1", "best_f1_thresh"] {
        assert!(evals[0].get(key).is_some(), "eval lines carry {key}");
    }
}

#[test]
fn the_demo_trains_predicts_scores_and_leaves_a_run_directory() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("demo-run");
    let t = std::time::Instant::now();
    let r = squadkit(["demo", "--out", out.to_str().unwrap()]);
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = |k: &str| -> f64 {
        r.stdout
            .lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().find_map(|w| w.parse().ok()))
            .unwrap_or_else(|| panic!("no {k} line in {}", r.stdout))
    };
    let (f1, baseline) = (line("f1 "), line("always-no-answer baseline"));
    println!("demo: f1 {f1}, always-no-answer baseline {baseline}, {secs:.0} s in all");
    assert!(f1 >= baseline + 30.0, "{}", r.stdout);
    for f in [
        "final/config.json",
        "final/model.safetensors",
        "final/tokenizer.json",
        "predictions.json",
        "nbest_predictions.json",
        "null_odds.json",
        "eval.json",
        "metrics.jsonl",
        "tokenizer/tokenizer.json",
        "data/dev.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing from the run directory");
    }
    // A second demo replaces its own run directory, and refuses to touch anything else.
    let other = d.path().join("notes");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("mine.txt"), b"keep").unwrap();
    let r = squadkit(["demo", "--out", other.to_str().unwrap(), "--prepare-only"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(other.join("mine.txt").exists());
}
