//! Helpers shared by the end-to-end suites: where the repo, the built binary and the shared
//! data are, and a loud skip when the shared data is absent.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repo").to_path_buf()
}

/// `../shared/data` beside the repository (a developer's or CI's checkout), or `SQUADKIT_SHARED_DATA`.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SQUADKIT_SHARED_DATA").map(PathBuf::from).unwrap_or_else(|| repo_root().join("../shared/data"));
    dir.join("dev-v2.0.json").exists().then_some(dir)
}

/// The shared data directory, or a loud skip message (the caller returns).
pub fn shared_data_or_skip(test: &str) -> Option<PathBuf> {
    let d = shared_data();
    if d.is_none() {
        eprintln!("SKIPPED {test}: ../shared/data/dev-v2.0.json is absent (set SQUADKIT_SHARED_DATA to run it)");
    }
    d
}

/// The goldens made from files of the shared data, with the generator that makes each: every
/// one records `"inputs": {path under the shared data: SHA-256}`.
pub const SHARED_GOLDENS: [(&str, &str); 3] = [
    ("scorer/dev_cases.json", "tools/gen_scorer_golden.py"),
    ("preprocess/summary.json", "tools/gen_preprocess_golden.py"),
    ("preprocess/seed_summary.json", "tools/gen_seed_golden.py"),
];

/// The lowercase hex SHA-256 of a file's bytes.
pub fn sha256_hex(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Panics unless the shared files that the golden `golden_rel` (under `tests/fixtures`) was
/// generated from have the content it records: a golden made from other data (a corrected dev
/// set, say) must be regenerated, not compared against. Returns the golden's JSON.
pub fn check_golden_inputs(shared: &Path, golden_rel: &str) -> serde_json::Value {
    let generator = SHARED_GOLDENS
        .iter()
        .find(|(g, _)| *g == golden_rel)
        .map(|(_, gen)| *gen)
        .unwrap_or_else(|| panic!("{golden_rel} is not in SHARED_GOLDENS"));
    let path = fixture(golden_rel);
    let golden: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("golden is committed"))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let inputs = golden["inputs"].as_object().unwrap_or_else(|| panic!("{} records no \"inputs\"", path.display()));
    assert!(!inputs.is_empty(), "{} records no inputs", path.display());
    for (rel, recorded) in inputs {
        let file = shared.join(rel);
        let actual = sha256_hex(&file);
        assert_eq!(
            actual,
            recorded.as_str().unwrap_or_default(),
            "{} (sha256 {actual}) is not the file tests/fixtures/{golden_rel} was generated from (sha256 {recorded}): \
             the shared data changed; rerun {generator} and commit what it writes",
            file.display()
        );
    }
    golden
}

/// Owned strings from string slices (the suites' argument lists).
pub fn strings<const N: usize>(a: [&str; N]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// `squadkit demo --prepare-only` into `dir/prep`: the demo's data, trained tokenizer and tiny
/// config, which the training suites train on.
pub fn demo_prepared(dir: &Path) -> PathBuf {
    let out = dir.join("prep");
    let r = squadkit(["demo", "--prepare-only", "--output-dir", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    out
}

/// The flags every training run of the suites starts with (after `train`): the demo's tiny
/// config and tokenizer from `prep` ([`demo_prepared`]), `train_file`, and the demo's windows
/// (the tiny config has 130 positions).
pub fn tiny_model_flags(prep: &Path, train_file: &Path) -> Vec<String> {
    let path = |p: &Path| p.to_str().expect("UTF-8 paths in the suites").to_string();
    let mut a = vec!["--config".into(), path(&prep.join("tiny-config.json"))];
    a.extend(["--tokenizer".into(), path(&prep.join("tokenizer/tokenizer.json"))]);
    a.extend(["--train-file".into(), path(train_file)]);
    a.extend(strings(DEMO_WINDOWS));
    a
}

/// The demo's window flags (the tiny config has 130 positions).
pub const DEMO_WINDOWS: [&str; 6] = ["--max-seq-length", "128", "--doc-stride", "32", "--max-query-length", "32"];

/// The first `n` articles of the demo's training data (a few steps an epoch).
pub fn small_train_file(prep: &Path, n: usize) -> PathBuf {
    let mut d: serde_json::Value = serde_json::from_slice(&std::fs::read(prep.join("data/train.json")).unwrap()).unwrap();
    d["data"].as_array_mut().unwrap().truncate(n);
    let p = prep.join(format!("train-{n}.json"));
    std::fs::write(&p, serde_json::to_vec(&d).unwrap()).unwrap();
    p
}

/// A model to start from, the same on every backend (a fresh model's initial weights come
/// from each backend's own generator): one CPU step from the demo's config, saved as an HF
/// model directory, with dropout off so that runs on different backends can be compared.
pub fn start_model(prep: &Path, train: &Path, dir: &Path) -> PathBuf {
    let run = dir.join("start");
    let mut a = vec!["train".to_string()];
    a.extend(tiny_model_flags(prep, train));
    a.extend(["--output-dir".into(), run.to_str().unwrap().into()]);
    a.extend(strings(["--max-steps", "1", "--save-steps", "0", "--learning-rate", "1e-3"]));
    let r = squadkit(&a);
    assert_eq!(r.code, 0, "squadkit {a:?}\n{}", r.stderr);
    let model = run.join("final");
    let cfg_path = model.join("config.json");
    let mut cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg_path).unwrap()).unwrap();
    cfg["hidden_dropout_prob"] = 0.0.into();
    cfg["attention_probs_dropout_prob"] = 0.0.into();
    std::fs::write(&cfg_path, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    model
}

/// The float32 tensors of a `.safetensors` file, by name, flattened (its format: an 8-byte
/// little-endian header length, a JSON header of dtype/shape/data_offsets, the data).
pub fn read_f32_safetensors(path: &Path) -> std::collections::BTreeMap<String, Vec<f32>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    let mut out = std::collections::BTreeMap::new();
    for (name, t) in header.as_object().unwrap() {
        if name == "__metadata__" {
            continue;
        }
        assert_eq!(t["dtype"], "F32", "{name} in {}", path.display());
        let [a, b] = [0, 1].map(|i| t["data_offsets"][i].as_u64().unwrap() as usize);
        out.insert(name.clone(), data[a..b].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect());
    }
    out
}

/// A float32 `.npy` file of shape [rows, width] (numpy's format 1.0), as `np.save` writes it.
pub fn npy(rows: usize, width: usize, data: &[f32]) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {width}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(data.iter().flat_map(|x| x.to_le_bytes()));
    out
}

/// A committed fixture under `tests/fixtures`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

/// The `squadkit` binary of this build (`SQUADKIT_BIN`, else next to this test executable's
/// `deps/` folder). `cargo xtask test` builds it before the suites run.
pub fn squadkit_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("SQUADKIT_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join(format!("squadkit{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} is missing: build it first (`cargo build -p squadkit`; `cargo xtask test` does it)", bin.display());
    bin
}

/// The output of one `squadkit` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `squadkit` with `args` and capture everything.
pub fn squadkit<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = std::process::Command::new(squadkit_bin()).args(args).env("NO_COLOR", "1").output().expect("squadkit runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `json.dumps(d, indent=2)` text turned into `json.dump(d)`'s compact form.
pub fn compact_py_json(indented: &str) -> String {
    indented.trim_end().replace("{\n  ", "{").replace(",\n  ", ", ").replace("\n}", "}")
}
