//! `squadkit download` against a loopback HTTP server (127.0.0.1 only) that serves a hub-layout
//! mirror made by this test: a tiny RoBERTa QA model (config, safetensors weights, tokenizer)
//! and a tiny parquet dataset, with the hub's API routes and headers as hf-hub 0.4 expects them
//! (`/api/{models,datasets}/REPO/revision/REV`, `[/datasets]/REPO/resolve/REV/FILE` with
//! `etag`, `x-repo-commit` and `content-range` on ranged GETs).
//!
//! Checks: HF_ENDPOINT and HF_TOKEN are honoured (every request carries the bearer token),
//! the files arrive byte for byte, the downloaded model predicts, a second run with everything
//! present makes no request at all, a damaged file is fetched again, and errors are clear.

use squadkit_tests::{squadkit_bin, Run};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// (method, path, authorization) of every request.
type Log = Arc<Mutex<Vec<(String, String, String)>>>;

struct Hub {
    endpoint: String,
    log: Log,
}

fn respond(mut s: TcpStream, files: &BTreeMap<String, Vec<u8>>, repos: &BTreeMap<String, Vec<String>>, log: &Log) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let (mut range, mut auth) = (None, String::new());
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        let (k, v) = h.split_once(':').unwrap_or((&h, ""));
        match k.to_ascii_lowercase().as_str() {
            "range" => range = v.trim().strip_prefix("bytes=").map(str::to_string),
            "authorization" => auth = v.trim().to_string(),
            _ => {}
        }
    }
    log.lock().unwrap().push((method, path.clone(), auth));
    let send = |s: &mut TcpStream, status: &str, headers: &[(String, String)], body: &[u8]| {
        let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(body);
    };
    if let Some(rest) = path.strip_prefix("/api/") {
        // /api/models/ORG/NAME/revision/main or /api/datasets/...
        let repo = rest.split("/revision/").next().unwrap_or("");
        match repos.get(repo) {
            Some(names) => {
                let siblings: Vec<serde_json::Value> = names.iter().map(|n| serde_json::json!({"rfilename": n})).collect();
                let body = serde_json::json!({"sha": COMMIT, "siblings": siblings}).to_string();
                send(&mut s, "200 OK", &[("Content-Type".into(), "application/json".into())], body.as_bytes());
            }
            None => send(&mut s, "404 Not Found", &[], b"{\"error\": \"Repository not found\"}"),
        }
        return;
    }
    // /ORG/NAME/resolve/main/FILE or /datasets/ORG/NAME/resolve/main/FILE
    let key = path.replacen("/resolve/main/", "/", 1);
    let Some(body) = files.get(key.trim_start_matches('/')) else {
        send(&mut s, "404 Not Found", &[], b"Entry not found");
        return;
    };
    let etag = format!("\"{}\"", sha256(body));
    let from: usize = range.as_deref().and_then(|r| r.split('-').next()?.parse().ok()).unwrap_or(0);
    let to: usize = range
        .as_deref()
        .and_then(|r| r.split('-').nth(1).filter(|t| !t.is_empty())?.parse().ok())
        .unwrap_or(body.len().saturating_sub(1))
        .min(body.len().saturating_sub(1));
    let headers = vec![
        ("etag".to_string(), etag),
        ("x-repo-commit".to_string(), COMMIT.to_string()),
        ("content-range".to_string(), format!("bytes {from}-{to}/{}", body.len())),
    ];
    send(&mut s, "206 Partial Content", &headers, &body[from..=to]);
}

fn sha256(b: &[u8]) -> String {
    // Only an etag: any stable content hash works; use the length and a simple FNV-1a.
    let mut h: u64 = 0xcbf29ce484222325;
    for &x in b {
        h = (h ^ u64::from(x)).wrapping_mul(0x100000001b3);
    }
    format!("{:016x}{:08x}", h, b.len())
}

fn serve(files: BTreeMap<String, Vec<u8>>, repos: BTreeMap<String, Vec<String>>) -> Hub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let l2 = Arc::clone(&log);
    let files = Arc::new(files);
    let repos = Arc::new(repos);
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let (f, r, l) = (Arc::clone(&files), Arc::clone(&repos), Arc::clone(&l2));
            std::thread::spawn(move || respond(s, &f, &r, &l));
        }
    });
    Hub { endpoint, log }
}

/// A tiny parquet file (one UTF-8 column `question`, no row groups: schema only), written
/// byte by byte in parquet's thrift compact encoding: `PAR1`, FileMetaData, its length, `PAR1`.
fn tiny_parquet() -> Vec<u8> {
    let mut meta = vec![
        0x15, 0x02, // 1: version i32 = 1
        0x19, 0x2C, // 2: schema list<struct>, 2 elements
        // root: 4: name "schema", 5: num_children 1
        0x48, 0x06, b's', b'c', b'h', b'e', b'm', b'a', 0x15, 0x02, 0x00,
        // column: 1: type BYTE_ARRAY(6), 3: repetition OPTIONAL(1), 4: name "question", 6: converted UTF8(0)
        0x15, 0x0C, 0x25, 0x02, 0x18, 0x08,
    ];
    meta.extend_from_slice(b"question");
    meta.extend_from_slice(&[0x25, 0x00, 0x00]);
    meta.extend_from_slice(&[0x16, 0x00, 0x19, 0x0C, 0x00]); // 3: num_rows 0, 4: row_groups [], stop
    let mut f = b"PAR1".to_vec();
    f.extend_from_slice(&meta);
    f.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    f.extend_from_slice(b"PAR1");
    f
}

fn download(endpoint: &str, args: &[&str], home: &Path) -> Run {
    let out = std::process::Command::new(squadkit_bin())
        .arg("download")
        .args(args)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_TOKEN", "hf_test_token")
        .env("HF_HOME", home)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn download_from_a_hub_mirror_then_work_offline() {
    let d = tempfile::tempdir().unwrap();
    // A real tiny model: the demo's tokenizer and config, weights from a 1-step training run.
    let prep = squadkit_tests::demo_prepared(d.path());
    let run = d.path().join("run");
    let mut a = vec!["train".to_string()];
    a.extend(squadkit_tests::tiny_model_flags(&prep, &prep.join("data/dev.json")));
    a.extend(["--output-dir".into(), run.to_str().unwrap().into(), "--max-steps".into(), "1".into()]);
    let r = squadkit_tests::squadkit(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let model_dir = run.join("final");
    let mut files = BTreeMap::new();
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        files.insert(format!("tiny-org/tiny-roberta-qa/{f}"), std::fs::read(model_dir.join(f)).unwrap());
    }
    files.insert("tiny-org/tiny-roberta-qa/README.md".into(), b"# tiny".to_vec());
    let parquet = tiny_parquet();
    files.insert("datasets/tiny-org/tiny-squad/plain_text/validation-00000-of-00001.parquet".into(), parquet.clone());
    files.insert("datasets/tiny-org/tiny-squad/plain_text/train-00000-of-00001.parquet".into(), parquet.clone());
    let mut repos = BTreeMap::new();
    repos.insert(
        "models/tiny-org/tiny-roberta-qa".to_string(),
        ["config.json", "model.safetensors", "tokenizer.json", "README.md"].map(String::from).to_vec(),
    );
    // A hostile listing (a name that climbs out of the cache), and a model whose weights 404.
    repos.insert(
        "datasets/evil-org/escape".to_string(),
        ["plain_text/validation-00000-of-00001.parquet", "../../../escaped.parquet"].map(String::from).to_vec(),
    );
    files.insert("datasets/evil-org/escape/plain_text/validation-00000-of-00001.parquet".into(), parquet.clone());
    repos.insert("models/tiny-org/no-weights".to_string(), ["config.json", "model.safetensors"].map(String::from).to_vec());
    files.insert("tiny-org/no-weights/config.json".into(), b"{}".to_vec());
    repos.insert(
        "datasets/tiny-org/tiny-squad".to_string(),
        ["README.md", "plain_text/train-00000-of-00001.parquet", "plain_text/validation-00000-of-00001.parquet"]
            .map(String::from)
            .to_vec(),
    );
    let hub = serve(files, repos);
    let out = d.path().join("hf");
    let home = d.path().join("hf-home");
    let args = ["--model", "tiny-org/tiny-roberta-qa", "--dataset", "tiny-org/tiny-squad", "--out", out.to_str().unwrap()];
    let r = download(&hub.endpoint, &args, &home);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert_eq!(std::fs::read(out.join("model").join(f)).unwrap(), std::fs::read(model_dir.join(f)).unwrap(), "{f}");
    }
    assert!(!out.join("model/README.md").exists(), "only what a model needs");
    assert_eq!(std::fs::read(out.join("dataset/plain_text/validation-00000-of-00001.parquet")).unwrap(), parquet);
    let requests = hub.log.lock().unwrap().clone();
    assert!(requests.iter().any(|(_, p, _)| p == "/api/models/tiny-org/tiny-roberta-qa/revision/main"), "{requests:?}");
    assert!(requests.iter().any(|(_, p, _)| p.starts_with("/datasets/tiny-org/tiny-squad/resolve/main/")), "{requests:?}");
    assert!(requests.iter().all(|(_, _, a)| a == "Bearer hf_test_token"), "HF_TOKEN on every request: {requests:?}");

    // The downloaded model works.
    let r = squadkit_tests::squadkit([
        "predict",
        "--model",
        out.join("model").to_str().unwrap(),
        prep.join("data/dev.json").to_str().unwrap(),
        "--output-dir",
        d.path().join("pred").to_str().unwrap(),
        "--max-seq-length",
        "128",
        "--doc-stride",
        "32",
        "--max-query-length",
        "32",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // Everything present: no network access at all.
    let before = hub.log.lock().unwrap().len();
    let r = download(&hub.endpoint, &args, &home);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("no network access"), "{}", r.stderr);
    assert_eq!(hub.log.lock().unwrap().len(), before, "a second run made requests");
    // Even with the mirror gone.
    let r = download("http://127.0.0.1:9", &args, &home);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A damaged file is fetched again (from hf-hub's cache or the mirror).
    std::fs::write(out.join("model/config.json"), b"{}").unwrap();
    let r = download(&hub.endpoint, &args, &home);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(out.join("model/config.json")).unwrap(), std::fs::read(model_dir.join("config.json")).unwrap());

    // Clear errors: an unknown repo, and an unreachable endpoint with nothing present.
    let r = download(&hub.endpoint, &["--model", "tiny-org/nope", "--out", d.path().join("x").to_str().unwrap()], &home);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("tiny-org/nope") && r.stderr.contains("404"), "{}", r.stderr);
    let r = download("http://127.0.0.1:9", &["--model", "tiny-org/other", "--out", d.path().join("y").to_str().unwrap()], &home);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("http://127.0.0.1:9"), "{}", r.stderr);
    let r = download(&hub.endpoint, &["--out", d.path().join("z").to_str().unwrap()], &home);
    assert_eq!(r.code, 2, "{}", r.stderr);

    // A mirror listing `../../../escaped.parquet`: refused whole, nothing written anywhere.
    let evil = d.path().join("evil/out");
    let r = download(&hub.endpoint, &["--dataset", "evil-org/escape", "--out", evil.to_str().unwrap()], &home);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a safe relative path") && !r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(!evil.join("dataset").exists());
    let escaped = |dir: &Path| walk(dir).into_iter().filter(|p| p.ends_with("escaped.parquet")).collect::<Vec<_>>();
    assert!(escaped(d.path()).is_empty(), "{:?}", escaped(d.path()));
    // Weights that 404 half-way: no partial model directory is left.
    let partial = d.path().join("partial");
    let r = download(&hub.endpoint, &["--model", "tiny-org/no-weights", "--out", partial.to_str().unwrap()], &home);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("model.safetensors"), "{}", r.stderr);
    assert!(!partial.join("model").exists(), "a failed fetch leaves no model directory");
    assert!(!partial.join("download.json").exists());
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
