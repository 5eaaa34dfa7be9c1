//! Training on a GPU backend, tested here: bounded batch shapes (`--pad-to-multiple-of`,
//! filled last batches, `--dataloader-drop-last`), the run log's shapes and timings, `--warmup-only` runs every shape and changes nothing, and
//! `--backend wgpu` (Mesa's lavapipe here: Vulkan on the CPU) trains as the CPU does and
//! compiles no new kernel in its second epoch. The wgpu parts skip, loudly, without a
//! Vulkan driver or without the `wgpu` feature in the binary.

use serde_json::Value;
use squadkit_tests::{demo_prepared, small_train_file, squadkit, start_model, strings, Run, DEMO_WINDOWS};
use std::path::Path;

fn run_ok(a: &[String]) -> Run {
    let r = squadkit(a);
    assert_eq!(r.code, 0, "squadkit {a:?}\n{}", r.stderr);
    r
}

fn metrics(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("metrics.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn events<'a>(m: &'a [Value], kind: &str) -> Vec<&'a Value> {
    m.iter().filter(|v| v["event"] == kind).collect()
}

/// `train` from `model` on `train` (windows of at most 128 tokens), a line every step, with
/// batches of `batch` for `epochs` epochs, plus `extra`.
fn train_args(model: &Path, train: &Path, out: &Path, [batch, epochs]: [u32; 2], extra: &[&str]) -> Vec<String> {
    let mut a = vec!["train".to_string(), "--model".into(), model.to_str().unwrap().into()];
    a.extend(["--train-file".into(), train.to_str().unwrap().into()]);
    a.extend(["--output-dir".into(), out.to_str().unwrap().into()]);
    a.extend(strings(DEMO_WINDOWS));
    a.extend(["--per-device-train-batch-size".into(), batch.to_string(), "--num-train-epochs".into(), epochs.to_string()]);
    a.extend(strings(["--learning-rate", "1e-3", "--logging-steps", "1", "--save-steps", "0", "--seed", "11"]));
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// Batches of 16 for 2 epochs.
const RUN: [u32; 2] = [16, 2];

fn train_losses(m: &[Value]) -> Vec<f64> {
    events(m, "train").iter().map(|v| v["loss"].as_f64().unwrap()).collect()
}

fn assert_close(a: &[f64], b: &[f64], rel: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let e = (x - y).abs() / y.abs().max(1e-12);
        assert!(e <= rel, "{what}: step {} loss {x} vs {y} (rel {e:e} > {rel:e})", i + 1);
    }
}

/// Why the wgpu parts cannot run here, if they cannot.
fn wgpu_unavailable() -> Option<String> {
    let has_vulkan = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
        .iter()
        .any(|d| std::fs::read_dir(d).map(|mut e| e.next().is_some()).unwrap_or(false));
    if !has_vulkan {
        return Some("no Vulkan driver (apt-get install mesa-vulkan-drivers libvulkan1)".into());
    }
    let v = squadkit(["--version"]);
    assert!(v.code == 0 && v.stdout.contains("backends: cpu"), "{}", v.stdout);
    if !v.stdout.contains("wgpu") {
        return Some(format!(
            "the squadkit binary has no wgpu backend ({}); cargo xtask test builds it with one",
            v.stdout.trim()
        ));
    }
    None
}

#[test]
fn bounded_shapes_are_logged_and_a_full_width_bucket_is_fixed_padding() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let train = small_train_file(&prep, 12);
    let model = start_model(&prep, &train, d.path());
    let run = |name: &str, extra: &[&str]| {
        let out = d.path().join(name);
        run_ok(&train_args(&model, &train, &out, RUN, extra));
        metrics(&out)
    };
    // Padding columns are masked keys, but their logits enter the loss's softmax (as in
    // transformers): the width matters, so compare equal widths. Every window padded to
    // --max-seq-length, and dynamic padding rounded up to a multiple of it, are the same batches.
    let fixed = run("fixed", &[]);
    let bucketed = run("bucketed", &["--dynamic-padding", "--pad-to-multiple-of", "128"]);
    assert!(train_losses(&fixed).len() >= 6, "{fixed:?}");
    assert_close(&train_losses(&bucketed), &train_losses(&fixed), 1e-6, "dynamic padding to a multiple of 128 vs fixed 128");

    // The run log names its shapes: dynamic padding to the longest window makes many widths,
    // a multiple of 64 at most 2 (windows are at most 128 tokens), fixed padding one.
    let shapes = |m: &[Value]| events(m, "shapes")[0]["train"].as_array().unwrap().clone();
    assert!(shapes(&fixed).iter().all(|s| s[1] == 128), "{fixed:?}");
    let longest = run("longest", &["--dynamic-padding"]);
    let by64 = run("by64", &["--dynamic-padding", "--pad-to-multiple-of", "64"]);
    let (sl, s64) = (shapes(&longest), shapes(&by64));
    assert!(s64.len() <= 2 && s64.iter().all(|s| [64, 128].contains(&s[1].as_u64().unwrap())), "{s64:?}");
    assert!(sl.len() > s64.len(), "dynamic padding to the longest window: {sl:?}");
    // On the CPU a last partial batch is not filled: rows are 16 or the remainder.
    assert!(s64.iter().all(|s| s[0].as_u64().unwrap() <= 16), "{s64:?}");

    // Timing: the first step on its own, then step time, throughput and memory on each line.
    let first = events(&by64, "first_step");
    assert_eq!(first.len(), 1, "{by64:?}");
    assert!(first[0]["step_time"].as_f64().unwrap() > 0.0 && first[0]["step"] == 1);
    let lines = events(&by64, "train");
    assert!(lines[0].get("step_time").is_none(), "the first step is not a steady-state time: {}", lines[0]);
    for l in &lines[1..] {
        for k in ["step_time", "samples_per_second", "tokens_per_second", "peak_memory_bytes"] {
            assert!(l[k].as_f64().is_some_and(|x| x > 0.0), "{k} in {l}");
        }
        assert!(l.get("kernels_compiled").is_none(), "no kernels on the CPU: {l}");
    }
}

#[test]
fn drop_last_drops_the_partial_batch_and_warmup_only_changes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let train = small_train_file(&prep, 12);
    let model = start_model(&prep, &train, d.path());
    let steps = |extra: &[&str]| {
        let out = d.path().join(format!("run{}", extra.len()));
        let r = run_ok(&train_args(&model, &train, &out, [7, 1], extra));
        let windows: usize = r
            .stderr
            .split(" windows")
            .next()
            .and_then(|s| s.rsplit("→ ").next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("the window count in {}", r.stderr));
        let m = metrics(&out);
        (windows, events(&m, "train").last().unwrap()["step"].as_u64().unwrap())
    };
    let (windows, kept) = steps(&[]);
    let (_, dropped) = steps(&["--dataloader-drop-last"]);
    assert!(windows % 7 != 0, "{windows} windows: the test needs a partial last batch");
    assert_eq!((kept, dropped), (windows.div_ceil(7) as u64, (windows / 7) as u64));
    // Batches bigger than the data with --dataloader-drop-last: refused before anything is written.
    let none = d.path().join("none");
    let r = squadkit(train_args(&model, &train, &none, [1000, 1], &["--dataloader-drop-last"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("every batch would be dropped"), "{}", r.stderr);
    assert!(!none.join("train_args.json").exists() && !none.join("metrics.jsonl").exists());

    // --warmup-only: every shape once, then exit; nothing of a run is written.
    let out = d.path().join("warm");
    let r = run_ok(&train_args(&model, &train, &out, RUN, &["--dynamic-padding", "--pad-to-multiple-of", "64", "--warmup-only"]));
    let w: Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    assert!((1..=2).contains(&w["train_shapes"].as_u64().unwrap()), "{w}");
    assert_eq!(w["eval_shapes"], 0);
    assert!(w["kernels_compiled"].is_null(), "{w}");
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "--warmup-only wrote {left:?}");
    // Into a finished run's directory: its files are left as they were.
    let done = d.path().join("run0");
    let before = std::fs::read(done.join("metrics.jsonl")).unwrap();
    run_ok(&train_args(&model, &train, &done, [7, 1], &["--warmup-only"]));
    assert_eq!(std::fs::read(done.join("metrics.jsonl")).unwrap(), before);
    assert!(done.join("final/config.json").exists());
}

#[test]
fn wgpu_trains_as_the_cpu_does_and_compiles_nothing_in_its_second_epoch() {
    if let Some(why) = wgpu_unavailable() {
        eprintln!("SKIPPED wgpu training: {why}");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let train = small_train_file(&prep, 12);
    let model = start_model(&prep, &train, d.path());
    let cpu = d.path().join("cpu");
    run_ok(&train_args(&model, &train, &cpu, RUN, &["--dynamic-padding", "--pad-to-multiple-of", "64"]));
    let gpu = d.path().join("wgpu");
    let r = run_ok(&train_args(&model, &train, &gpu, RUN, &["--dynamic-padding", "--backend", "wgpu"]));
    let (mc, mg) = (metrics(&cpu), metrics(&gpu));
    let (lc, lg) = (train_losses(&mc), train_losses(&mg));
    eprintln!("losses cpu {lc:?}\nlosses wgpu {lg:?}");
    assert_close(&lg[..5], &lc[..5], 1e-3, "wgpu vs cpu, the first 5 steps");

    // Bounded shapes by default on a GPU backend: widths a multiple of 64, every batch 16 rows.
    let shapes = events(&mg, "shapes")[0]["train"].as_array().unwrap().clone();
    assert!(!shapes.is_empty() && shapes.iter().all(|s| s[0] == 16 && s[1].as_u64().unwrap() % 64 == 0), "{shapes:?}");

    // Kernels: compiled in the first epoch, none after it.
    let lines = events(&mg, "train");
    let per_epoch = lines.len() / 2;
    let count = |l: &Value| l["kernels_compiled"].as_u64().unwrap_or_else(|| panic!("kernels_compiled in {l}"));
    let (after_first, at_end) = (count(lines[per_epoch - 1]), count(lines.last().unwrap()));
    eprintln!("kernels compiled: {after_first} by the end of epoch 1, {at_end} by the end of epoch 2");
    assert!(after_first > 0, "kernels are counted: {:?}", lines);
    assert_eq!(at_end, after_first, "the second epoch compiled new kernels: {:?}", lines);
    assert!(gpu.join("kernel-cache/wgpu").is_dir(), "the default kernel cache: {}", r.stderr);

    // Prediction on wgpu (bounded shapes: batches filled to 8 rows, widths in multiples of 64)
    // answers as the CPU does.
    let answers = |backend: &str| {
        let out = d.path().join(format!("pred-{backend}"));
        let (m, o) = (gpu.join("final"), out.to_str().unwrap().to_string());
        let mut a = strings(["predict", "--model", m.to_str().unwrap(), train.to_str().unwrap(), "--output-dir", &o]);
        a.extend(strings(DEMO_WINDOWS).into_iter().chain(strings(["--backend", backend])));
        run_ok(&a);
        let read = |f: &str| -> Value { serde_json::from_slice(&std::fs::read(out.join(f)).unwrap()).unwrap() };
        (read("predictions.json"), read("null_odds.json"))
    };
    let ((pc, nc), (pg, ng)) = (answers("cpu"), answers("wgpu"));
    assert_eq!(pg, pc, "wgpu and cpu predictions");
    for (id, v) in nc.as_object().unwrap() {
        let (a, b) = (v.as_f64().unwrap(), ng[id].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-3 * a.abs().max(1.0), "null odds of {id}: cpu {a}, wgpu {b}");
    }

    // --warmup-only compiles the run's kernels and leaves the run alone.
    let warm = d.path().join("warm");
    let r = run_ok(&train_args(&model, &train, &warm, RUN, &["--dynamic-padding", "--backend", "wgpu", "--warmup-only"]));
    let w: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(w["train_shapes"].as_u64().unwrap(), shapes.len() as u64, "{w}");
    assert!(w["kernels_compiled"].as_u64().unwrap() > 0, "{w}");
    assert!(!warm.join("metrics.jsonl").exists() && !warm.join("final").exists());
}
