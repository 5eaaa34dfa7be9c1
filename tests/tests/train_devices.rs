//! `train --devices`: data parallelism, proven on the CPU backend (replicas sharing its cores).
//! Two devices with batches of B train as one device with batches of 2B (same parameters after
//! 3 steps, to float reduction order); a 2-device run stopped and resumed ends bit-identical
//! to an uninterrupted one (dropout on: each rank's masks come from its own stream); its
//! sharded evaluation equals `squadkit predict --evaluate` of the same model; a bad device
//! list, or resuming on another number of devices, is one clear error before any work.

use serde_json::Value;
use squadkit_tests::{
    demo_prepared, read_f32_safetensors, small_train_file, squadkit, start_model, strings, tiny_model_flags, Run, DEMO_WINDOWS,
};
use std::path::Path;

fn run_ok(a: &[String]) -> Run {
    let r = squadkit(a);
    assert_eq!(r.code, 0, "squadkit {a:?}\n{}", r.stderr);
    r
}

fn metrics(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("metrics.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn events(run: &Path, kind: &str) -> Vec<Value> {
    metrics(run).into_iter().filter(|v| v["event"] == kind).collect()
}

fn machine_has_two_cores() -> bool {
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    if n < 2 {
        eprintln!("SKIPPED: the CPU backend runs one replica per core and this machine has {n}");
    }
    n >= 2
}

/// The largest |a - b| over every parameter of two model directories, and where.
fn max_difference(a: &Path, b: &Path) -> (f32, String) {
    let (x, y) = (read_f32_safetensors(&a.join("model.safetensors")), read_f32_safetensors(&b.join("model.safetensors")));
    assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>());
    let mut worst = (0f32, String::new());
    for (name, xs) in &x {
        for (i, (p, q)) in xs.iter().zip(&y[name]).enumerate() {
            if (p - q).abs() > worst.0 {
                worst = ((p - q).abs(), format!("{name}[{i}]: {p} vs {q}"));
            }
        }
    }
    worst
}

#[test]
fn two_devices_with_batch_b_train_as_one_device_with_batch_2b() {
    if !machine_has_two_cores() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let train = small_train_file(&prep, 8);
    // Dropout off: the two runs draw different masks (one stream vs one per device).
    let model = start_model(&prep, &train, d.path());
    let run = |name: &str, batch: &str, devices: &str, extra: &[&str]| {
        let out = d.path().join(name);
        let mut a = strings(["train", "--model", model.to_str().unwrap(), "--train-file", train.to_str().unwrap()]);
        a.extend(["--output-dir".into(), out.to_str().unwrap().into()]);
        a.extend(strings(DEMO_WINDOWS));
        a.extend(strings(["--per-device-train-batch-size", batch, "--devices", devices, "--max-steps", "3"]));
        a.extend(strings(["--learning-rate", "1e-3", "--weight-decay", "0.01", "--logging-steps", "1", "--save-steps", "0"]));
        a.extend(extra.iter().map(|s| s.to_string()));
        let r = run_ok(&a);
        (out, r)
    };
    let (one, _) = run("one", "16", "0", &[]);
    let (two, r) = run("two", "8", "0,1", &[]);
    assert!(r.stderr.contains("training on 2 devices"), "{}", r.stderr);
    // The same windows per step: the logged losses and gradient norms agree.
    let lines = |run: &Path| -> Vec<(f64, f64, u64)> {
        events(run, "train")
            .iter()
            .map(|v| (v["loss"].as_f64().unwrap(), v["grad_norm"].as_f64().unwrap(), v["samples_per_second"].is_null() as u64))
            .collect()
    };
    let (l1, l2) = (lines(&one), lines(&two));
    assert_eq!(l1.len(), 3);
    for (step, (a, b)) in l1.iter().zip(&l2).enumerate() {
        assert!((a.0 - b.0).abs() <= 1e-5 * a.0.abs(), "step {}: loss {} (1 device) vs {} (2 devices)", step + 1, a.0, b.0);
        assert!((a.1 - b.1).abs() <= 1e-4 * a.1.abs(), "step {}: grad norm {} vs {}", step + 1, a.1, b.1);
    }
    // The parameters after 3 steps. AdamW divides by sqrt(v) + eps: with eps 1e-8 a gradient
    // that is zero but for rounding (qa_outputs.bias: the softmax ignores a shift; some
    // LayerNorm biases) becomes a full step of either sign, in any implementation. With eps
    // 1e-4 the update of such a gradient stays proportional to it, so the parameters compare
    // the two runs' gradients: equal to float reduction order.
    let (one, _) = run("one-eps", "16", "0", &["--adam-epsilon", "1e-4"]);
    let (two, _) = run("two-eps", "8", "0,1", &["--adam-epsilon", "1e-4"]);
    let (worst, at) = max_difference(&one.join("final"), &two.join("final"));
    println!("2 devices x 8 vs 1 device x 16, 3 steps of lr 1e-3: largest parameter difference {worst:e}, at {at}");
    // Measured 3.5e-7 here (0.03% of one step); the bound leaves room for other CPUs.
    assert!(worst <= 5e-6, "parameters differ by {worst:e} at {at}");
}

#[test]
fn a_stopped_and_resumed_two_device_run_equals_an_uninterrupted_one_and_evaluates_as_predict_does() {
    if !machine_has_two_cores() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let train = small_train_file(&prep, 6);
    let valid = prep.join("data/dev.json");
    let args = |out: &Path, devices: &str| {
        let mut a = vec!["train".to_string()];
        a.extend(tiny_model_flags(&prep, &train));
        a.extend(["--output-dir".into(), out.to_str().unwrap().into()]);
        // Dropout on (the demo config's): each rank's masks must be drawn again on resume.
        a.extend(strings(["--per-device-train-batch-size", "4", "--devices", devices, "--max-steps", "8", "--save-steps", "4"]));
        a.extend(strings(["--learning-rate", "1e-3", "--warmup-ratio", "0.1", "--logging-steps", "1", "--seed", "5"]));
        a.extend(["--validation-file".into(), valid.to_str().unwrap().into()]);
        a.extend(strings(["--eval-strategy", "steps", "--eval-steps", "4", "--per-device-eval-batch-size", "8"]));
        a
    };
    let whole = d.path().join("whole");
    run_ok(&args(&whole, "0,1"));
    let cut = d.path().join("cut");
    let r = squadkit(args(&cut, "0,1").into_iter().chain(strings(["--stop-after", "3"])));
    assert_eq!(r.code, 75, "stopped as by a signal: {}", r.stderr);
    // Resuming on another number of devices would change every later batch: refused.
    let r = squadkit(args(&cut, "0").into_iter().chain(["--resume".to_string()]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--devices 2 (this run: 1)"), "{}", r.stderr);
    run_ok(&args(&cut, "0,1").into_iter().chain(["--resume".to_string()]).collect::<Vec<_>>());
    let (a, b) = (
        std::fs::read(whole.join("final/model.safetensors")).unwrap(),
        std::fs::read(cut.join("final/model.safetensors")).unwrap(),
    );
    assert!(a == b, "the resumed 2-device run's final weights differ from the uninterrupted run's");
    // An eval line: the scores, the step and the wall time.
    let evals = |run: &Path| {
        events(run, "eval")
            .into_iter()
            .map(|mut v| {
                v.as_object_mut().unwrap().remove("wall_time");
                v
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(evals(&whole), evals(&cut), "evaluations of the two runs");
    // Dropout is on: a run with other seeds per rank would differ (the check can fail).
    let mut other = args(&d.path().join("other"), "0,1");
    let seed = other.iter().position(|a| a == "--seed").unwrap();
    other[seed + 1] = "6".into();
    run_ok(&other);
    assert!(std::fs::read(d.path().join("other/final/model.safetensors")).unwrap() != a);

    // The 2-device evaluation (each rank a range of windows, gathered) is the one-device one.
    let preds = d.path().join("preds");
    let mut p = strings(["predict", "--model", whole.join("final").to_str().unwrap(), valid.to_str().unwrap()]);
    p.extend(["--output-dir".into(), preds.to_str().unwrap().into(), "--evaluate".into()]);
    p.extend(strings(DEMO_WINDOWS).into_iter().chain(strings(["--per-device-eval-batch-size", "8"])));
    run_ok(&p);
    let scored: Value = serde_json::from_slice(&std::fs::read(preds.join("eval.json")).unwrap()).unwrap();
    let last = evals(&whole).pop().unwrap();
    for key in ["exact", "f1", "total", "HasAns_exact", "NoAns_exact"] {
        assert!(scored[key].is_number(), "{key} in eval.json: {scored}");
        assert_eq!(last[key].as_f64(), scored[key].as_f64(), "{key}: the run's last evaluation vs predict --evaluate");
    }
}

#[test]
fn a_bad_device_list_is_one_clear_error_before_any_work() {
    let d = tempfile::tempdir().unwrap();
    let prep = demo_prepared(d.path());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let beyond = cores.to_string();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["--devices", "0,0"], "device 0 is listed twice".into()),
        (vec!["--devices", "0,x"], "\"x\" is not a device number".into()),
        (vec!["--devices", ""], "\"\" is not a device number".into()),
        (vec!["--devices", &beyond], format!("there is no device {cores}: the CPU backend runs at most one replica per core")),
        (vec!["--backend", "wgpu", "--devices", "0,1"], "there is no device 1: wgpu trains on one device".into()),
    ];
    for (i, (flags, want)) in cases.iter().enumerate() {
        let out = d.path().join(format!("run{i}"));
        let mut a = vec!["train".to_string()];
        a.extend(tiny_model_flags(&prep, &prep.join("data/train.json")));
        a.extend(["--output-dir".into(), out.to_str().unwrap().into(), "--max-steps".into(), "2".into()]);
        a.extend(flags.iter().map(|s| s.to_string()));
        let r = squadkit(&a);
        assert_eq!(r.code, 2, "{flags:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{flags:?}: want {want:?} in\n{}", r.stderr);
        assert_eq!(r.stderr.lines().filter(|l| l.contains("error")).count(), 1, "one error line: {}", r.stderr);
        for f in ["train_args.json", "metrics.jsonl"] {
            assert!(!out.join(f).exists(), "{flags:?}: {f} was written");
        }
    }
}
