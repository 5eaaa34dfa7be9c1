//! What squadkit guarantees when outputs, pipes, run directories and inputs are hostile
//! (issue 16): one test per numbered finding of the adversarial review, each failing on the
//! code before it. Special files are made inside temporary directories (`mkfifo`; `mknod`
//! as root, skipped loudly otherwise), never on the real /dev; a full disk is a file-size
//! limit (`ulimit -f`, SIGXFSZ ignored) on the command alone.

use serde_json::Value;
use squadkit_tests::{demo_prepared, fixture, npy, squadkit, squadkit_bin, strings, tiny_model_flags, Run};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn s(p: &Path) -> String {
    p.to_str().expect("UTF-8 paths in the suites").to_string()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Names in a directory, sorted (hidden ones included).
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

fn refused(r: &Run, code: i32, words: &[&str]) {
    assert_eq!(r.code, code, "{}", r.stderr);
    for w in words {
        assert!(r.stderr.contains(w), "{w:?} not in:\n{}", r.stderr);
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

/// The tricky dataset and its committed predictions and null odds.
fn scored_files() -> (PathBuf, PathBuf, PathBuf) {
    (
        fixture("preprocess/tricky_dataset.json"),
        fixture("preprocess/tricky_384_128_predictions.json"),
        fixture("preprocess/tricky_384_128_null_odds.json"),
    )
}

/// The demo's dev data prepared into windows with the demo tokenizer: (data, features, windows).
fn prepared(dir: &Path, prep: &Path) -> (PathBuf, PathBuf, usize) {
    let data = prep.join("data/dev.json");
    let features = dir.join("dev.features");
    let r = squadkit(
        strings(["prepare", &s(&data), "--tokenizer", &s(&prep.join("tokenizer/tokenizer.json"))])
            .into_iter()
            .chain(strings(["--max-seq-length", "128", "--doc-stride", "32", "--max-query-length", "32"]))
            .chain(["--output-file".into(), s(&features)]),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    (data, features, report["windows"].as_u64().unwrap() as usize)
}

/// start.npy and end.npy for `windows` windows of 128 positions: a gentle slope, and with
/// `cls` the no-answer position (0) at that value.
fn logits(dir: &Path, windows: usize, cls: f32) -> (PathBuf, PathBuf) {
    let mut start: Vec<f32> = (0..windows * 128).map(|i| ((i * 7) % 13) as f32 * 0.25).collect();
    let mut end: Vec<f32> = (0..windows * 128).map(|i| ((i * 5) % 11) as f32 * 0.25).collect();
    for w in 0..windows {
        start[w * 128] = cls;
        end[w * 128] = cls;
    }
    let (a, b) = (dir.join("start.npy"), dir.join("end.npy"));
    std::fs::write(&a, npy(windows, 128, &start)).unwrap();
    std::fs::write(&b, npy(windows, 128, &end)).unwrap();
    (a, b)
}

fn decode(data: &Path, features: &Path, (a, b): &(PathBuf, PathBuf), out: &Path, extra: &[&str]) -> Run {
    squadkit(
        strings(["decode", &s(data), &s(features), &s(a), &s(b), "--output-dir", &s(out)])
            .into_iter()
            .chain(extra.iter().map(|x| x.to_string())),
    )
}

/// A short training run of the tiny model on the demo data.
fn train_args(prep: &Path, run: &Path, steps: u32, save_steps: u32) -> Vec<String> {
    let mut a = vec!["train".to_string()];
    a.extend(tiny_model_flags(prep, &prep.join("data/train.json")));
    a.extend(["--output-dir".into(), s(run)]);
    a.extend(strings(["--dynamic-padding", "--per-device-train-batch-size", "16", "--learning-rate", "1e-3", "--seed", "3"]));
    a.extend(["--max-steps".into(), steps.to_string(), "--save-steps".into(), save_steps.to_string()]);
    a.extend(strings(["--logging-steps", "1"]));
    a
}

fn with(mut a: Vec<String>, more: &[&str]) -> Vec<String> {
    a.extend(more.iter().map(|x| x.to_string()));
    a
}

// 1. Special files and links.
#[test]
fn special_files_and_links_are_written_through_or_followed_never_replaced() {
    let d = tempfile::tempdir().unwrap();
    let (data, pred, _) = scored_files();
    let eval = |out: &Path| squadkit(["evaluate", &s(&data), &s(&pred), "-o", &s(out)]);
    let want = {
        let r = squadkit(["evaluate", &s(&data), &s(&pred), "--format", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str::<Value>(&r.stdout).unwrap()
    };
    // A FIFO: written through to its reader, still a FIFO after.
    let fifo = d.path().join("scores.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let r = eval(&fifo);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(serde_json::from_str::<Value>(&reader.join().unwrap()).unwrap(), want);
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
    // /dev/stdout, as the official script allows.
    let r = eval(Path::new("/dev/stdout"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(serde_json::from_str::<Value>(&r.stdout).unwrap(), want);
    // A link: the file it points to gets the scores, the link stays.
    let real = d.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = d.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert_eq!(eval(&link).code, 0);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(serde_json::from_slice::<Value>(&read(&real)).unwrap(), want);
    // A private file stays private.
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(eval(&real).code, 0);
    assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o600);
    // A character device (a null device made here, as root): written through, never replaced.
    let null = d.path().join("null");
    if Command::new("mknod").arg(&null).args(["c", "1", "3"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success()) {
        let r = eval(&null);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(std::fs::symlink_metadata(&null).unwrap().file_type().is_char_device(), "the device was replaced by a file");
    } else {
        eprintln!("SKIPPED the character-device part of special_files_and_links_…: mknod needs root");
    }
    // A directory is refused, naming it.
    refused(&eval(d.path()), 2, &["is a directory"]);
    assert!(entries(d.path()).iter().all(|n| !n.ends_with(".tmp")), "{:?}", entries(d.path()));
}

// 2. A closed pipe or a full standard output.
#[test]
fn a_closed_pipe_ends_quietly_and_a_full_stdout_is_an_error_not_a_panic() {
    let (data, pred, _) = scored_files();
    for args in [
        strings(["evaluate", &s(&data), &s(&pred), "--format", "json"]),
        strings(["evaluate", &s(&data), &s(&pred), "--format", "table"]),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(squadkit_bin()).args(&args).stdout(writer).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("error") && !stderr.contains("panicked"), "a closed pipe is not worth a message: {stderr}");
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Command::new(squadkit_bin()).args(&args).stdout(full).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("standard output") && stderr.contains("No space left"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

// 3. An output that is one of the inputs.
#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_kept() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let tok = prep.join("tokenizer/tokenizer.json");
    let data = d.path().join("d.json");
    std::fs::copy(prep.join("data/dev.json"), &data).unwrap();
    let before = read(&data);
    let prepare = |more: &[&str]| squadkit(with(strings(["prepare", &s(&data), "--tokenizer", &s(&tok)]), more));
    refused(&prepare(&["--output-file", &s(&data)]), 2, &["d.json: is one of this command's inputs"]);
    refused(&prepare(&["--jsonl", &s(&tok)]), 2, &["tokenizer.json: is one of this command's inputs"]);
    let x = d.path().join("x");
    refused(&prepare(&["--output-file", &s(&x), "--jsonl", &s(&x)]), 2, &["is already an output of this command"]);
    assert!(!x.exists());
    // decode and predict writing predictions.json over the DATA file at that path.
    let out = d.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let in_out = out.join("predictions.json");
    std::fs::copy(&data, &in_out).unwrap();
    let (_, features, windows) = prepared(d.path(), &prep);
    let l = logits(d.path(), windows, 0.0);
    let r = decode(&in_out, &features, &l, &out, &[]);
    refused(&r, 2, &["predictions.json: is one of this command's inputs"]);
    assert_eq!(read(&in_out), before);
    assert_eq!(entries(&out), ["predictions.json"], "nothing else was written");
    assert_eq!(read(&data), before);
}

// 4. A set of outputs lands whole or not at all.
#[test]
fn a_full_disk_during_decode_leaves_the_earlier_answers_whole() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let (data, features, windows) = prepared(d.path(), &prep);
    let l = logits(d.path(), windows, 0.0);
    let out = d.path().join("answers");
    let r = decode(&data, &features, &l, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names = ["predictions.json", "nbest_predictions.json", "null_odds.json"];
    let old: Vec<Vec<u8>> = names.iter().map(|n| read(&out.join(n))).collect();
    // A file-size limit between the small files and the n-best file: the disk "fills" while
    // nbest_predictions.json is written, after the two small files are complete.
    let small = old[0].len().max(old[2].len());
    let blocks = small / 1024 + 1;
    assert!(old[1].len() > blocks * 1024, "the n-best file ({} bytes) must exceed the limit", old[1].len());
    let cmd = format!(
        "trap '' XFSZ; ulimit -f {blocks}; exec {} decode {} {} {} {} --output-dir {} --null-score-diff-threshold 2.5",
        s(&squadkit_bin()),
        s(&data),
        s(&features),
        s(&l.0),
        s(&l.1),
        s(&out)
    );
    let o = Command::new("bash").arg("-c").arg(&cmd).env("NO_COLOR", "1").output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nbest_predictions.json") && stderr.contains("File too large"), "{stderr}");
    for (n, before) in names.iter().zip(&old) {
        assert!(read(&out.join(n)) == *before, "{n} changed: the set must land whole or not at all");
    }
    assert_eq!(entries(&out), ["nbest_predictions.json", "null_odds.json", "predictions.json"], "no temporary file is left");
}

// 5. A run directory belongs to one run.
#[test]
fn a_run_directory_belongs_to_one_run_at_a_time() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let run = d.path().join("run");
    // A run of 8 steps stopped after 4 (checkpoints 2 and 4).
    let r = squadkit(with(train_args(&prep, &run, 8, 2), &["--stop-after", "4"]));
    assert_eq!(r.code, 75, "{}", r.stderr);
    let saved = read(&run.join("checkpoint-4/model.safetensors"));
    let metrics = read(&run.join("metrics.jsonl"));
    // A fresh run into it is refused: nothing of the first run is touched.
    let r = squadkit(with(train_args(&prep, &run, 6, 3), &["--save-total-limit", "2"]));
    refused(&r, 2, &["holds another run", "checkpoint-2", "--resume", "--overwrite-output-dir"]);
    assert!(read(&run.join("checkpoint-4/model.safetensors")) == saved && read(&run.join("metrics.jsonl")) == metrics);
    assert!(run.join("checkpoint-2").is_dir() && run.join("checkpoint-4").is_dir());
    // A leftover of a killed save is removed by the next run that owns the directory.
    std::fs::create_dir(run.join(".final.abc123.tmp")).unwrap();
    // Two runs at once: the second is refused while the first is inside a save, and the
    // first's save in progress survives.
    let mut child = Command::new(squadkit_bin())
        .args(with(train_args(&prep, &run, 8, 2), &["--resume"]))
        .env("SQUADKIT_FAULT", "save-pause=30@6")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let partial = || entries(&run).into_iter().find(|n| n.starts_with(".checkpoint-6."));
    while partial().is_none() {
        assert!(t.elapsed() < Duration::from_secs(120), "the save of step 6 never started: {:?}", entries(&run));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!run.join(".final.abc123.tmp").exists(), "the leftover is removed");
    let r = squadkit(with(train_args(&prep, &run, 8, 2), &["--resume"]));
    refused(&r, 2, &["another squadkit run is using this directory", &format!("process {}", child.id())]);
    assert!(partial().is_some(), "the first run's save in progress was not touched");
    child.kill().unwrap();
    child.wait().unwrap();
    // Every checkpoint corrupt: --resume refuses instead of starting over on top of them.
    for c in ["checkpoint-2", "checkpoint-4"] {
        let p = run.join(c).join("model.safetensors");
        let mut b = read(&p);
        let n = b.len();
        b[n - 5] ^= 0x10;
        std::fs::write(&p, b).unwrap();
    }
    let r = squadkit(with(train_args(&prep, &run, 8, 2), &["--resume"]));
    refused(&r, 2, &["none of its 2 checkpoints is intact", "--overwrite-output-dir"]);
    assert!(run.join("checkpoint-2").is_dir() && run.join("checkpoint-4").is_dir(), "the damaged checkpoints are kept");
    // --overwrite-output-dir starts over, removing the old run's files.
    let r = squadkit(with(train_args(&prep, &run, 2, 0), &["--overwrite-output-dir"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!run.join("checkpoint-4").exists(), "{:?}", entries(&run));
    // A `final` that is not a model is refused before training, not after.
    let other = d.path().join("other");
    std::fs::create_dir_all(other.join("final")).unwrap();
    std::fs::write(other.join("final/notes.txt"), "mine").unwrap();
    let r = squadkit(train_args(&prep, &other, 200, 0));
    refused(&r, 2, &["final: exists and is not a model directory"]);
    assert!(!other.join("metrics.jsonl").exists(), "refused before the first step");
}

// 6. Resume checks the checkpoint's model config and hyperparameters.
#[test]
fn resume_refuses_a_checkpoint_of_another_model_or_other_hyperparameters() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let run = d.path().join("run");
    let r = squadkit(with(train_args(&prep, &run, 4, 2), &["--stop-after", "2"]));
    assert_eq!(r.code, 75, "{}", r.stderr);
    // The same run with a 2-layer config: the checkpoint's 3 layers are not this model.
    let mut c: Value = serde_json::from_slice(&read(&prep.join("tiny-config.json"))).unwrap();
    let layers = c["num_hidden_layers"].as_u64().unwrap();
    c["num_hidden_layers"] = (layers - 1).into();
    let other = d.path().join("two-layers.json");
    std::fs::write(&other, c.to_string()).unwrap();
    let mut a = with(train_args(&prep, &run, 4, 2), &["--resume"]);
    let i = a.iter().position(|x| x == "--config").unwrap();
    a[i + 1] = s(&other);
    let r = squadkit(&a);
    refused(&r, 2, &["the checkpoint's model is not this run's", "num_hidden_layers"]);
    assert!(!run.join("final").exists());
    // Another learning rate.
    let mut a = with(train_args(&prep, &run, 4, 2), &["--resume"]);
    let i = a.iter().position(|x| x == "--learning-rate").unwrap();
    a[i + 1] = "5e-4".into();
    refused(&squadkit(&a), 2, &["other hyperparameters", "--learning-rate 0.001 (this run: 0.0005)"]);
    // The right run resumes.
    let r = squadkit(with(train_args(&prep, &run, 4, 2), &["--resume"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// A safetensors file without the tensors whose names start with `prefix`.
fn without_tensors(bytes: &[u8], prefix: &str) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Map<String, Value> = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    let (mut kept, mut out_data) = (serde_json::Map::new(), Vec::new());
    for (name, mut t) in header {
        if name == "__metadata__" {
            kept.insert(name, t);
            continue;
        }
        if name.starts_with(prefix) {
            continue;
        }
        let (a, b) = (t["data_offsets"][0].as_u64().unwrap() as usize, t["data_offsets"][1].as_u64().unwrap() as usize);
        let at = out_data.len();
        out_data.extend_from_slice(&data[a..b]);
        t["data_offsets"] = serde_json::json!([at, out_data.len()]);
        kept.insert(name, t);
    }
    let h = Value::Object(kept).to_string().into_bytes();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(out_data);
    out
}

// 7. predict with a model that has no QA head.
#[test]
fn predict_refuses_a_model_without_a_qa_head() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let run = d.path().join("run");
    assert_eq!(squadkit(train_args(&prep, &run, 1, 0)).code, 0);
    let base = d.path().join("base");
    std::fs::create_dir(&base).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(run.join("final").join(f), base.join(f)).unwrap();
    }
    std::fs::write(base.join("model.safetensors"), without_tensors(&read(&run.join("final/model.safetensors")), "qa_outputs."))
        .unwrap();
    let out = d.path().join("pred");
    let predict = |model: &Path| {
        squadkit(with(
            strings(["predict", "--model", &s(model), &s(&prep.join("data/dev.json")), "--output-dir", &s(&out)]),
            &["--max-seq-length", "128", "--doc-stride", "32", "--max-query-length", "32"],
        ))
    };
    refused(&predict(&base), 2, &["model.safetensors: has no QA head", "qa_outputs.weight", "qa_outputs.bias"]);
    assert!(!out.exists() || entries(&out).is_empty(), "nothing written");
    assert_eq!(predict(&run.join("final")).code, 0, "the model with its head predicts");
}

// 8. Sizes from a config are checked before anything is allocated.
#[test]
fn absurd_or_mismatched_config_sizes_are_errors_not_aborts() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let mut c: Value = serde_json::from_slice(&read(&prep.join("tiny-config.json"))).unwrap();
    c["hidden_size"] = 96_000.into();
    c["intermediate_size"] = 400_000.into();
    c["num_attention_heads"] = 12.into();
    let huge = d.path().join("huge.json");
    std::fs::write(&huge, c.to_string()).unwrap();
    let mut a = train_args(&prep, &d.path().join("run"), 1, 0);
    let i = a.iter().position(|x| x == "--config").unwrap();
    a[i + 1] = s(&huge);
    refused(&squadkit(&a), 2, &["huge.json", "parameters, more than squadkit accepts"]);
    // A model directory whose config says one more layer than its weights hold.
    let run = d.path().join("run");
    assert_eq!(squadkit(train_args(&prep, &run, 1, 0)).code, 0);
    let model = run.join("final");
    let mut c: Value = serde_json::from_slice(&read(&model.join("config.json"))).unwrap();
    let layers = c["num_hidden_layers"].as_u64().unwrap();
    c["num_hidden_layers"] = (layers + 1).into();
    std::fs::write(model.join("config.json"), c.to_string()).unwrap();
    let r = squadkit(with(
        strings(["predict", "--model", &s(&model), &s(&prep.join("data/dev.json")), "--output-dir", &s(d.path())]),
        &["--max-seq-length", "128", "--doc-stride", "32", "--max-query-length", "32"],
    ));
    refused(&r, 2, &[&format!("the checkpoint has {layers} layers but config.json says num_hidden_layers {}", layers + 1)]);
}

// 9. squadkit reads its own null odds, infinities included.
#[test]
fn null_odds_with_python_infinities_are_read_back() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let (data, features, windows) = prepared(d.path(), &prep);
    // The no-answer position at +inf in every window: every null score is infinite.
    let l = logits(d.path(), windows, f32::INFINITY);
    let out = d.path().join("answers");
    assert_eq!(decode(&data, &features, &l, &out, &[]).code, 0);
    let odds = String::from_utf8(read(&out.join("null_odds.json"))).unwrap();
    assert!(odds.contains("Infinity"), "{odds}");
    let r = squadkit(["evaluate", &s(&data), &s(&out.join("predictions.json")), "-n", &s(&out.join("null_odds.json"))]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let e: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (e["HasAns_exact"].as_f64(), e["NoAns_exact"].as_f64()),
        (Some(0.0), Some(100.0)),
        "every answer is \"no answer\": {e}"
    );
    // NaN, as Python's json.dump writes it, is read too.
    let (data, pred, _) = scored_files();
    let nan = d.path().join("nan.json");
    let ids: serde_json::Map<String, Value> = serde_json::from_slice(&read(&pred)).unwrap();
    let body: Vec<String> =
        ids.keys().enumerate().map(|(i, k)| format!("\"{k}\": {}", if i == 0 { "NaN" } else { "0.5" })).collect();
    std::fs::write(&nan, format!("{{{}}}", body.join(", "))).unwrap();
    let r = squadkit(["evaluate", &s(&data), &s(&pred), "-n", &s(&nan), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

// 10. sbatch checks every value it writes.
#[test]
fn sbatch_writes_nothing_it_has_not_checked() {
    let d = tempfile::tempdir().unwrap();
    let train = ["--", "--model", "m", "--train-file", "data/train.json"];
    let sbatch = |run: &Path, more: &[&str]| {
        squadkit(with(with(strings(["sbatch", "--output-dir", &s(run)]), more), &train).into_iter().map(|x| x.to_string()))
    };
    let run = d.path().join("r");
    refused(&sbatch(&run, &["--partition", "gpu\nrm -rf ~"]), 2, &["--partition", "one line"]);
    refused(&sbatch(&run, &["--mail-user", "me@x.org\n#SBATCH --wrap=evil"]), 2, &["--mail-user"]);
    refused(&sbatch(&run, &["--time", "2h"]), 2, &["is not a SLURM time limit"]);
    refused(&squadkit(["sbatch", "--output-dir", &s(&run), "--", "--model", "m"]), 2, &["--train-file"]);
    assert!(!run.join("train.sbatch").exists(), "nothing written for a refused script");
    // A run directory with a space, relative paths, the log's directory made.
    let spaced = d.path().join("my runs/r 1");
    let logs = d.path().join("logs dir");
    let r = sbatch(&spaced, &["--slurm-output", &format!("{}/slurm-%j.out", s(&logs))]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let script = String::from_utf8(read(&spaced.join("train.sbatch"))).unwrap();
    assert!(script.contains(&format!("#SBATCH --output=\"{}/slurm-%j.out\"\n", s(&logs))), "{script}");
    assert!(script.contains("#SBATCH --chdir="), "{script}");
    assert!(logs.is_dir(), "SLURM does not create the log's directory");
    assert!(Command::new("bash").arg("-n").arg(spaced.join("train.sbatch")).status().unwrap().success());
}

// 12. Smaller findings.
#[test]
fn byte_order_marks_duplicate_ids_nonsense_numbers_and_sighup() {
    let d = tempfile::tempdir().unwrap();
    let (data, pred, _) = scored_files();
    // A UTF-8 BOM (Windows editors) is read past, in the data and the predictions.
    let (bom_data, bom_pred) = (d.path().join("bom.json"), d.path().join("bom_pred.json"));
    std::fs::write(&bom_data, [b"\xEF\xBB\xBF".as_slice(), &read(&data)].concat()).unwrap();
    std::fs::write(&bom_pred, [b"\xEF\xBB\xBF".as_slice(), &read(&pred)].concat()).unwrap();
    let plain = squadkit(["evaluate", &s(&data), &s(&pred), "--format", "json"]);
    let bom = squadkit(["evaluate", &s(&bom_data), &s(&bom_pred), "--format", "json"]);
    assert_eq!((bom.code, &bom.stdout), (0, &plain.stdout), "{}", bom.stderr);
    // Duplicate question ids would give duplicate keys in predictions.json: refused, named.
    let prep = demo_prepared(d.path());
    let mut dev: Value = serde_json::from_slice(&read(&prep.join("data/dev.json"))).unwrap();
    let first_id = dev["data"][0]["paragraphs"][0]["qas"][0]["id"].clone();
    dev["data"][0]["paragraphs"][0]["qas"][1]["id"] = first_id.clone();
    let dup = d.path().join("dup.json");
    std::fs::write(&dup, dev.to_string()).unwrap();
    let (_, features, windows) = prepared(d.path(), &prep);
    let l = logits(d.path(), windows, 0.0);
    let r = decode(&dup, &features, &l, &d.path().join("out"), &[]);
    refused(&r, 2, &["dup.json", &format!("question id {first_id} is used more than once")]);
    // Numbers that mean nothing.
    let run = d.path().join("run");
    for (flag, v, says) in [
        ("--num-train-epochs", "NaN", "not a finite number"),
        ("--warmup-ratio", "2", "is not between 0 and 1"),
        ("--learning-rate", "inf", "not a finite number"),
    ] {
        let mut a = train_args(&prep, &run, 2, 0);
        if let Some(i) = a.iter().position(|x| x == flag) {
            a.drain(i..i + 2);
        }
        a.extend([flag.to_string(), v.to_string()]);
        let r = squadkit(&a);
        refused(&r, 2, &[says]);
    }
    let r = decode(&data, &features, &l, &d.path().join("out"), &["--null-score-diff-threshold", "NaN"]);
    refused(&r, 2, &["not a finite number"]);
    // SIGHUP (the terminal closed) stops training like TERM: a checkpoint and status 75.
    let child = Command::new(squadkit_bin())
        .args(train_args(&prep, &run, 10_000, 0))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !std::fs::read_to_string(run.join("metrics.jsonl")).is_ok_and(|m| m.contains("\"train\"")) {
        assert!(t.elapsed() < Duration::from_secs(120), "no training step was logged");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("stopped by SIGHUP"), "{stderr}");
    assert!(entries(&run).iter().any(|n| n.starts_with("checkpoint-")), "{:?}", entries(&run));
}
