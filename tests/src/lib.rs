//! Helpers shared by the end-to-end suites: where the repo, the built binary and the shared
//! data are, and a loud skip when the shared data is absent.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repo").to_path_buf()
}

/// `../shared/data` beside the repository (a developer's or CI's checkout), or `SQUADKIT_SHARED_DATA`.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SQUADKIT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"));
    dir.join("dev-v2.0.json").exists().then_some(dir)
}

/// The shared data directory, or a loud skip message (the caller returns).
pub fn shared_data_or_skip(test: &str) -> Option<PathBuf> {
    let d = shared_data();
    if d.is_none() {
        eprintln!(
            "SKIPPED {test}: ../shared/data/dev-v2.0.json is absent (set SQUADKIT_SHARED_DATA to run it)"
        );
    }
    d
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
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p squadkit`; `cargo xtask test` does it)",
        bin.display()
    );
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
    let out = std::process::Command::new(squadkit_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("squadkit runs");
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
