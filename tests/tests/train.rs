//! `squadkit train`, `predict` and `demo` end to end on the CPU: learning is real, an
//! interrupted-and-resumed run ends bit-identical to an uninterrupted one, and faults (bad
//! input, corrupt checkpoints, kill -9 mid-save, a NaN loss, a full disk) give clear errors and
//! lose nothing already saved.

use serde_json::Value;
use squadkit_tests::{demo_prepared, squadkit, squadkit_bin, strings, tiny_model_flags, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A short training run on the demo data (dropout on, so the per-step RNG matters).
fn args(prep: &Path, out: &Path, max_steps: u32, save_steps: u32) -> Vec<String> {
    let mut a = vec!["train".to_string()];
    a.extend(tiny_model_flags(prep, &prep.join("data/train.json")));
    a.extend(["--output-dir".into(), out.to_str().unwrap().into()]);
    a.extend(strings(["--dynamic-padding", "--group-by-length", "--per-device-train-batch-size", "16"]));
    a.extend(strings(["--learning-rate", "1e-3", "--warmup-ratio", "0.1", "--weight-decay", "0.01"]));
    a.extend(strings(["--logging-steps", "2", "--seed", "7"]));
    a.extend(["--max-steps".into(), max_steps.to_string(), "--save-steps".into(), save_steps.to_string()]);
    a
}

fn run_ok(a: &[String]) -> Run {
    let r = squadkit(a);
    assert_eq!(r.code, 0, "squadkit {a:?}\n{}", r.stderr);
    r
}

fn bytes(p: PathBuf) -> Vec<u8> {
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn metrics(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("metrics.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// (step, loss, grad_norm, learning_rate) of the train lines: everything but the timings.
fn losses(run: &Path) -> Vec<(u64, String, String, String)> {
    metrics(run)
        .iter()
        .filter(|v| v["event"] == "train")
        .map(|v| (v["step"].as_u64().unwrap(), v["loss"].to_string(), v["grad_norm"].to_string(), v["learning_rate"].to_string()))
        .collect()
}

fn checkpoints(run: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(run)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("checkpoint-"))
        .collect();
    v.sort();
    v
}

#[test]
fn interrupted_and_resumed_runs_end_bit_identical() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    run_ok(&args(&prep, &a, 24, 8));
    // Stopped after 10 steps (as a signal would): a checkpoint, exit status 75.
    let r = squadkit(args(&prep, &b, 24, 8).into_iter().chain(["--stop-after".to_string(), "10".into()]));
    assert_eq!(r.code, 75, "{}", r.stderr);
    assert!(r.stderr.contains("checkpoint-10"), "{}", r.stderr);
    let r = run_ok(&args(&prep, &b, 24, 8).into_iter().chain(["--resume".to_string()]).collect::<Vec<_>>());
    assert!(r.stderr.contains("resuming from") && r.stderr.contains("checkpoint-10"), "{}", r.stderr);
    let (wa, wb) = (bytes(a.join("final/model.safetensors")), bytes(b.join("final/model.safetensors")));
    assert!(wa == wb, "final weights differ after resume");
    assert!(bytes(a.join("checkpoint-24/optimizer.safetensors")) == bytes(b.join("checkpoint-24/optimizer.safetensors")));
    assert_eq!(losses(&a), losses(&b), "the metrics log reads as one run");
    assert_eq!(losses(&a).len(), 12);
    let events: Vec<String> = metrics(&b).iter().map(|v| v["event"].as_str().unwrap().to_string()).collect();
    assert!(events.contains(&"stop".to_string()) && events.contains(&"resume".to_string()), "{events:?}");
    // A config.json and weights: each checkpoint is an HF model directory too.
    assert!(b.join("checkpoint-24/config.json").exists() && b.join("checkpoint-24/tokenizer.json").exists());
    println!("resume: {} bytes of final weights identical; {} logged steps identical", wa.len(), losses(&a).len());
}

#[test]
fn sigterm_finishes_the_step_saves_and_exits_75() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let run = d.path().join("run");
    let child = Command::new(squadkit_bin())
        .args(args(&prep, &run, 100000, 0))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !std::fs::read_to_string(run.join("metrics.jsonl")).is_ok_and(|s| s.lines().count() >= 2) {
        assert!(t.elapsed() < Duration::from_secs(120), "no training progress");
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");
    let cps = checkpoints(&run);
    assert_eq!(cps.len(), 1, "{cps:?}");
    let stop = metrics(&run).into_iter().find(|v| v["event"] == "stop").expect("a stop line");
    assert_eq!(stop["signal"], "SIGTERM");
    assert_eq!(format!("checkpoint-{}", stop["step"]), cps[0]);
}

#[test]
fn corrupt_and_partial_checkpoints_are_skipped_and_nothing_is_lost() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    run_ok(&args(&prep, &a, 16, 4));
    // kill -9 in the middle of saving checkpoint-8 (after its first file, before the manifest).
    let mut child = Command::new(squadkit_bin())
        .args(args(&prep, &b, 16, 4))
        .env("SQUADKIT_FAULT", "save-pause=60@8")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    loop {
        let partial = std::fs::read_dir(&b).into_iter().flatten().flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(".checkpoint-8.") && e.path().join("config.json").exists()
        });
        if partial {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "the save of step 8 never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(checkpoints(&b).iter().filter(|c| !c.starts_with('.')).collect::<Vec<_>>(), ["checkpoint-4"]);
    // Resuming removes the partial save and continues from checkpoint-4.
    let r = run_ok(&args(&prep, &b, 16, 4).into_iter().chain(["--resume".to_string()]).collect::<Vec<_>>());
    assert!(r.stderr.contains("an interrupted save"), "{}", r.stderr);
    assert!(r.stderr.contains("checkpoint-4 (step 4)"), "{}", r.stderr);
    assert!(bytes(a.join("final/model.safetensors")) == bytes(b.join("final/model.safetensors")), "resumed past a kill -9");

    // A flipped byte in the newest checkpoint: reported, and the one before it is used.
    let newest = b.join("checkpoint-16/model.safetensors");
    let mut w = bytes(newest.clone());
    let n = w.len();
    w[n - 3] ^= 0x40;
    std::fs::write(&newest, w).unwrap();
    std::fs::remove_dir_all(b.join("final")).unwrap();
    let r = run_ok(&args(&prep, &b, 16, 4).into_iter().chain(["--resume".to_string()]).collect::<Vec<_>>());
    assert!(r.stderr.contains("skipping") && r.stderr.contains("does not match its SHA-256"), "{}", r.stderr);
    assert!(r.stderr.contains("checkpoint-12 (step 12)"), "{}", r.stderr);
    assert!(bytes(a.join("final/model.safetensors")) == bytes(b.join("final/model.safetensors")));

    // The resumed run saved a good checkpoint-16 over the corrupt one; corrupt it again: an
    // explicit checkpoint that does not verify is bad input.
    let mut w = bytes(newest.clone());
    w[n - 3] ^= 0x40;
    std::fs::write(&newest, w).unwrap();
    let r = squadkit(
        args(&prep, &b, 16, 4).into_iter().chain(["--resume".to_string(), b.join("checkpoint-16").to_str().unwrap().into()]),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("checkpoint-16: not a valid checkpoint"), "{}", r.stderr);
}

#[test]
fn a_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let run = d.path().join("run");
    let out =
        Command::new(squadkit_bin()).args(args(&prep, &run, 20, 4)).env("SQUADKIT_FAULT", "nan-at-step=7").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the loss is NaN at step 7"), "{stderr}");
    assert!(stderr.contains("the last good checkpoint is") && stderr.contains("checkpoint-4"), "{stderr}");
    assert_eq!(checkpoints(&run), ["checkpoint-4"]);
    assert!(!run.join("final").exists());
    let r = squadkit([
        "predict",
        "--model",
        run.join("checkpoint-4").to_str().unwrap(),
        prep.join("data/dev.json").to_str().unwrap(),
        "--output-dir",
        d.path().join("p").to_str().unwrap(),
        "--max-seq-length",
        "128",
        "--doc-stride",
        "32",
        "--max-query-length",
        "32",
    ]);
    assert_eq!(r.code, 0, "the last good checkpoint is a usable model: {}", r.stderr);
}

#[test]
fn a_full_disk_fails_the_save_cleanly() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let run = d.path().join("run");
    let out =
        Command::new(squadkit_bin()).args(args(&prep, &run, 20, 4)).env("SQUADKIT_FAULT", "save-enospc=8").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("checkpoint-8") && stderr.contains("No space left on device"), "{stderr}");
    // Nothing half-written: checkpoint-4 verifies, no temporary directory is left.
    assert_eq!(checkpoints(&run), ["checkpoint-4"]);
    let r = squadkit(args(&prep, &run, 20, 4).into_iter().chain(["--resume".to_string()]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("checkpoint-4 (step 4)"), "{}", r.stderr);
}

#[test]
fn bad_input_is_named_with_exit_status_2() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let run = d.path().join("run");
    let base = args(&prep, &run, 4, 0);
    let with = |flag: &str, value: &Path| -> Vec<String> {
        let mut a = base.clone();
        let i = a.iter().position(|x| x == flag).unwrap();
        a[i + 1] = value.to_str().unwrap().into();
        a
    };
    // A missing training file.
    let missing = d.path().join("nope.json");
    let r = squadkit(with("--train-file", &missing));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nope.json: cannot read"), "{}", r.stderr);
    // A corrupt one.
    let bad = d.path().join("bad.json");
    std::fs::write(&bad, b"{\"data\": [").unwrap();
    let r = squadkit(with("--train-file", &bad));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bad.json: not a valid SQuAD dataset"), "{}", r.stderr);
    // A tokenizer that does not fit the model: the config has fewer embeddings than tokens.
    let small = d.path().join("small-config.json");
    let mut c: Value = serde_json::from_slice(&bytes(prep.join("tiny-config.json"))).unwrap();
    c["vocab_size"] = 300.into();
    std::fs::write(&small, c.to_string()).unwrap();
    let r = squadkit(with("--config", &small));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("tokenizer.json: the tokenizer has") && r.stderr.contains("vocab_size 300"), "{}", r.stderr);
    // A corrupt tokenizer.
    let tok = d.path().join("tokenizer.json");
    std::fs::write(&tok, b"{\"model\": 3}").unwrap();
    let r = squadkit(with("--tokenizer", &tok));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("tokenizer.json: not a usable tokenizer.json"), "{}", r.stderr);
    // A corrupt config.
    let cfg = d.path().join("config.json");
    std::fs::write(&cfg, b"{\"hidden_size\": 64}").unwrap();
    let r = squadkit(with("--config", &cfg));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("config.json: not a valid RoBERTa config"), "{}", r.stderr);
    // Nothing was written for any of them.
    assert!(!run.join("metrics.jsonl").exists() && !run.join("train_args.json").exists() && checkpoints(&run).is_empty());
    // A model directory without weights.
    let empty_model = d.path().join("model");
    std::fs::create_dir_all(&empty_model).unwrap();
    std::fs::copy(prep.join("tiny-config.json"), empty_model.join("config.json")).unwrap();
    std::fs::copy(prep.join("tokenizer/tokenizer.json"), empty_model.join("tokenizer.json")).unwrap();
    let r = squadkit([
        "predict",
        "--model",
        empty_model.to_str().unwrap(),
        prep.join("data/dev.json").to_str().unwrap(),
        "--max-seq-length",
        "128",
        "--doc-stride",
        "32",
        "--max-query-length",
        "32",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no model.safetensors or pytorch_model.bin"), "{}", r.stderr);
}
