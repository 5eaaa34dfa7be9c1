//! `squadkit evaluate` end to end: the real dev set and BERT predictions, deterministic
//! variants of them scored by the official script (golden), and every kind of bad input.

use serde_json::{json, Map, Value};
use squadkit_tests::{check_golden_inputs, compact_py_json, shared_data_or_skip, squadkit};
use std::path::Path;

/// The official script's outputs on the shared dev set (after checking that they were made from
/// the shared files as they are now).
fn golden_dev_cases(shared: &Path) -> Map<String, Value> {
    match check_golden_inputs(shared, "scorer/dev_cases.json")["cases"].take() {
        Value::Object(cases) => cases,
        other => panic!("dev_cases.json: \"cases\" is {other}"),
    }
}

/// The question ids of the dev set in dataset order.
fn dev_ids(dev: &Path) -> Vec<String> {
    let v: Value = serde_json::from_slice(&std::fs::read(dev).unwrap()).unwrap();
    let mut ids = Vec::new();
    for art in v["data"].as_array().unwrap() {
        for p in art["paragraphs"].as_array().unwrap() {
            for qa in p["qas"].as_array().unwrap() {
                ids.push(qa["id"].as_str().unwrap().to_string());
            }
        }
    }
    ids
}

/// The na_prob file of `tools/gen_scorer_golden.py`'s dev variants: ((i * 7919) % 1009) / 1009
/// for the i-th question, keys in reverse dataset order.
fn write_na_probs(ids: &[String], path: &Path) {
    let mut s = String::from("{");
    for (k, (i, id)) in ids.iter().enumerate().rev().enumerate() {
        if k > 0 {
            s.push_str(", ");
        }
        let p = ((i * 7919) % 1009) as f64 / 1009.0;
        s.push_str(&format!("{}: {}", serde_json::to_string(id).unwrap(), squadkit_core::json::py_float_repr(p)));
    }
    s.push('}');
    std::fs::write(path, s).unwrap();
}

#[test]
fn bert_predictions_score_as_published() {
    let Some(data) = shared_data_or_skip("bert_predictions_score_as_published") else { return };
    let dev = data.join("dev-v2.0.json");
    let bert = data.join("predictions/bert-single-google-v2.0-dev.json");
    let run = squadkit(["evaluate".as_ref(), dev.as_os_str(), bert.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The figures of ../shared/data/README.md, to the last digit.
    for line in [
        "\"exact\": 78.74168280973637,",
        "\"f1\": 81.77528052374723,",
        "\"total\": 11873,",
        "\"HasAns_exact\": 74.10593792172739,",
        "\"HasAns_f1\": 80.18183293833508,",
        "\"NoAns_exact\": 83.36417157275021,",
    ] {
        assert!(run.stdout.contains(line), "missing {line} in\n{}", run.stdout);
    }
    assert_eq!(run.stdout, golden_dev_cases(&data)["bert"].as_str().unwrap());
}

#[test]
fn dev_variants_match_the_official_script() {
    let Some(data) = shared_data_or_skip("dev_variants_match_the_official_script") else { return };
    let golden = golden_dev_cases(&data);
    let dev = data.join("dev-v2.0.json");
    let bert_path = data.join("predictions/bert-single-google-v2.0-dev.json");
    let ids = dev_ids(&dev);
    let tmp = tempfile::tempdir().unwrap();
    let na = tmp.path().join("na.json");
    write_na_probs(&ids, &na);
    let bert: Map<String, Value> = serde_json::from_slice(&std::fs::read(&bert_path).unwrap()).unwrap();
    let blank5: Map<String, Value> =
        ids.iter().enumerate().map(|(i, id)| (id.clone(), if i % 5 == 0 { json!("") } else { bert[id].clone() })).collect();
    let blank5_path = tmp.path().join("blank5.json");
    std::fs::write(&blank5_path, serde_json::to_string(&blank5).unwrap()).unwrap();

    let cases: [(&str, &Path, Option<&str>, bool); 3] = [
        ("bert_na", &bert_path, None, false),
        ("bert_na_t05_pr", &bert_path, Some("0.5"), true),
        ("blank5_na_t03_pr", &blank5_path, Some("0.3"), true),
    ];
    for (name, preds, thresh, pr) in cases {
        let img = tmp.path().join(format!("img-{name}"));
        let mut args: Vec<std::ffi::OsString> =
            vec!["evaluate".into(), dev.clone().into(), preds.into(), "-n".into(), na.clone().into()];
        if let Some(t) = thresh {
            args.extend(["-t".into(), t.into()]);
        }
        if pr {
            args.extend(["-p".into(), img.clone().into()]);
        }
        args.extend(["--format".into(), "json".into()]);
        let run = squadkit(&args);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert_eq!(run.stdout, golden[name].as_str().unwrap(), "{name}");
        if pr {
            for f in ["pr_exact.svg", "pr_f1.svg", "pr_oracle.svg", "na_prob_hist_hasAns.svg", "na_prob_hist_noAns.svg"] {
                let svg = std::fs::read_to_string(img.join(f)).unwrap_or_else(|e| panic!("{name}: {f}: {e}"));
                assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{f}");
            }
        }
    }

    // -o writes json.dump's compact form of the same dictionary, and nothing on stdout.
    let out = tmp.path().join("eval.json");
    let run = squadkit([
        "evaluate".as_ref(),
        dev.as_os_str(),
        bert_path.as_os_str(),
        "-n".as_ref(),
        na.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), compact_py_json(golden["bert_na"].as_str().unwrap()));

    // --per-question: one line per question, in dataset order.
    let pq = tmp.path().join("per_question.jsonl");
    let run = squadkit([
        "evaluate".as_ref(),
        dev.as_os_str(),
        bert_path.as_os_str(),
        "--per-question".as_ref(),
        pq.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = std::fs::read_to_string(&pq).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 11873);
    assert_eq!(lines[0]["id"], ids[0].as_str());
    let exact: f64 = lines.iter().map(|l| l["exact"].as_f64().unwrap()).sum();
    assert_eq!(100.0 * exact / 11873.0, 78.74168280973637);
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        let dir = tempfile::tempdir().unwrap();
        let data = r#"{"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "the cat sat", "qas": [
            {"id": "a", "question": "?", "answers": [{"text": "cat", "answer_start": 4}]},
            {"id": "b", "question": "?", "answers": []}]}]}]}"#;
        std::fs::write(dir.path().join("data.json"), data).unwrap();
        Files { dir }
    }

    fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Run evaluate on data.json and `pred`, with `extra` flags and an `-o` file.
    fn evaluate(&self, pred: &str, extra: &[&str]) -> squadkit_tests::Run {
        let mut args: Vec<std::ffi::OsString> = vec!["evaluate".into(), self.path("data.json").into(), self.path(pred).into()];
        args.extend(extra.iter().map(|s| s.into()));
        args.extend(["-o".into(), self.path("out.json").into()]);
        squadkit(&args)
    }
}

/// One clear error naming the file (and the JSON path), exit 2, and no output file.
fn assert_input_error(f: &Files, run: &squadkit_tests::Run, file: &str, needles: &[&str]) {
    assert_eq!(run.code, 2, "stdout {} stderr {}", run.stdout, run.stderr);
    let err = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect::<Vec<_>>();
    assert_eq!(err.len(), 1, "exactly one error line in {}", run.stderr);
    assert!(err[0].contains(file), "{} does not name {file}", err[0]);
    for n in needles {
        assert!(err[0].contains(n), "{} does not say {n}", err[0]);
    }
    assert!(!f.path("out.json").exists(), "nothing is written on error");
}

#[test]
fn bad_inputs_give_one_clear_error_and_write_nothing() {
    let f = Files::new();
    f.write("bad.json", r#"{"a": "cat", "b": "#);
    assert_input_error(&f, &f.evaluate("bad.json", &[]), "bad.json", &["not a valid predictions file", "line 1"]);

    f.write("nonstring.json", r#"{"a": "cat", "b": 3}"#);
    assert_input_error(&f, &f.evaluate("nonstring.json", &[]), "nonstring.json", &["`b`", "expected a string"]);

    f.write("list.json", r#"["cat"]"#);
    assert_input_error(&f, &f.evaluate("list.json", &[]), "list.json", &["a JSON object"]);

    f.write("ok.json", r#"{"a": "cat", "b": ""}"#);
    let na = f.write("na.json", r#"{"a": 0.1, "b": "high"}"#);
    let run = f.evaluate("ok.json", &["-n", na.to_str().unwrap()]);
    assert_input_error(&f, &run, "na.json", &["`b`", "expected a number"]);

    let na = f.write("na_missing.json", r#"{"a": 0.1}"#);
    let run = f.evaluate("ok.json", &["-n", na.to_str().unwrap()]);
    assert_input_error(&f, &run, "na_missing.json", &["1 predicted question(s) have no na_prob", "b"]);

    let run = f.evaluate("absent.json", &[]);
    assert_input_error(&f, &run, "absent.json", &["cannot read"]);

    f.write("data.json", r#"{"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": 1}]}]}]}"#);
    let run = f.evaluate("ok.json", &[]);
    assert_input_error(&f, &run, "data.json", &["data[0].paragraphs[0].qas[0].id"]);
}

#[test]
fn missing_predictions_stop_unless_allowed() {
    let f = Files::new();
    f.write("partial.json", r#"{"a": "the cat", "zzz": "extra"}"#);
    let run = f.evaluate("partial.json", &[]);
    assert_input_error(&f, &run, "partial.json", &["1 question(s) have no prediction", "first: b", "--allow-missing"]);

    let run = f.evaluate("partial.json", &["--allow-missing"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&std::fs::read_to_string(f.path("out.json")).unwrap()).unwrap();
    assert_eq!(out["exact"], 50.0, "the missing question counts as wrong");
    assert_eq!(out["total"], 2);
    assert!(run.stderr.contains("not in the dataset"), "extra ids are warned about: {}", run.stderr);
}

#[test]
fn a_terminal_table_on_request() {
    let f = Files::new();
    f.write("ok.json", r#"{"a": "cat", "b": "x"}"#);
    let run = squadkit([
        "evaluate".as_ref(),
        f.path("data.json").as_os_str(),
        f.path("ok.json").as_os_str(),
        "--format".as_ref(),
        "table".as_ref(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // core's score card (the browser shows the same rows).
    assert!(
        run.stdout.starts_with("exact                 50.00\nf1                    50.00\ntotal                     2\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("false answer 1"), "{}", run.stdout);
}
