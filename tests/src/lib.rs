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
