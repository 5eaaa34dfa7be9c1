//! Training checkpoints that survive preemption, kill -9 and full disks.
//!
//! A checkpoint is a directory `RUN/checkpoint-<step>/` holding the files the trainer hands
//! over (the model as an HF directory: `config.json` + `model.safetensors`; the optimizer
//! moments; `trainer_state.json` with the schedule step, RNG seed and data position) and a
//! `manifest.json` written last, with the size and SHA-256 of every file.
//!
//! [`save`] is atomic: the files go into a hidden temporary directory beside the final one
//! (each written and fsynced), the manifest is written, the directory is read back and
//! verified against it, and only then renamed to `checkpoint-<step>`. A crash at any point
//! leaves either the previous checkpoints untouched plus a `.checkpoint-*.tmp` directory
//! (removed by the next [`latest_valid`]), or the complete new checkpoint. After a save the
//! oldest checkpoints beyond `save_total_limit` are removed (never one listed in `keep`, such
//! as the best model's).
//!
//! [`latest_valid`] picks the newest checkpoint that verifies; a corrupt or partial one is
//! reported (and skipped, never deleted) and the one before it is used.
//!
//! Fault injection for the test suites (`SQUADKIT_FAULT`, a comma-separated list):
//! `save-enospc[=STEP]` makes the checkpoint save (of STEP, or every one) fail with "No space
//! left on device" after its first file; `save-pause=SECS[@STEP]` sleeps that long in the
//! middle of the save (after the first file, before the manifest), so a test can kill -9 the
//! process there.

use crate::error::{CliError, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The manifest's file name and format tag.
pub const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "squadkit-checkpoint-1";
const PREFIX: &str = "checkpoint-";

/// One file of a checkpoint: size and SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileSum {
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`: what a complete checkpoint holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: String,
    pub step: u64,
    pub files: BTreeMap<String, FileSum>,
}

/// A checkpoint found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub dir: PathBuf,
    pub step: u64,
}

/// The result of looking for the newest valid checkpoint.
#[derive(Debug, Default)]
pub struct Search {
    pub valid: Option<Found>,
    /// Checkpoints skipped as corrupt or partial, newest first, with the reason.
    pub rejected: Vec<(PathBuf, String)>,
    /// Leftover temporary directories of interrupted saves (removed).
    pub removed_partial: Vec<PathBuf>,
}

/// SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn fault(name: &str) -> Option<String> {
    let v = std::env::var("SQUADKIT_FAULT").ok()?;
    v.split(',').find_map(|f| {
        let (k, val) = f.split_once('=').unwrap_or((f, ""));
        (k.trim() == name).then(|| val.trim().to_string())
    })
}

/// The directory name of the checkpoint at `step`.
pub fn dir_name(step: u64) -> String {
    format!("{PREFIX}{step}")
}

/// Write `bytes` to a new file and fsync it.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn sync_dir(dir: &Path) {
    // Directory fsync makes the rename durable; not every filesystem supports it.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Save `files` (name, content) as `run_dir/checkpoint-<step>` atomically, then remove the
/// oldest checkpoints beyond `total_limit` (keeping those whose step is in `keep`). Returns
/// the checkpoint's directory. On error nothing of this save is left behind and every earlier
/// checkpoint is intact.
pub fn save(run_dir: &Path, step: u64, files: &[(&str, &[u8])], total_limit: Option<usize>, keep: &[u64]) -> Result<PathBuf> {
    let dest = run_dir.join(dir_name(step));
    let out_err = |source| CliError::Output { path: dest.clone(), source };
    std::fs::create_dir_all(run_dir).map_err(out_err)?;
    let tmp =
        tempfile::Builder::new().prefix(&format!(".{}.", dir_name(step))).suffix(".tmp").tempdir_in(run_dir).map_err(out_err)?;
    let at_step = |v: &str| v.is_empty() || v.parse::<u64>().is_ok_and(|s| s == step);
    let enospc = fault("save-enospc").is_some_and(|v| at_step(&v));
    let pause = fault("save-pause").and_then(|v| {
        let (secs, when) = v.split_once('@').unwrap_or((&v, ""));
        if at_step(when) {
            secs.parse::<f64>().ok()
        } else {
            None
        }
    });
    let mut manifest = Manifest { format: FORMAT.into(), step, files: BTreeMap::new() };
    for (i, (name, bytes)) in files.iter().enumerate() {
        if enospc && i == 1 {
            return Err(out_err(std::io::Error::from_raw_os_error(28)));
        }
        write_synced(&tmp.path().join(name), bytes).map_err(out_err)?;
        manifest.files.insert(name.to_string(), FileSum { bytes: bytes.len() as u64, sha256: sha256_hex(bytes) });
        if i == 0 {
            if let Some(secs) = pause {
                tracing::warn!("SQUADKIT_FAULT save-pause: pausing {secs} s inside the save of {}", dest.display());
                std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            }
        }
    }
    let text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises") + "\n";
    write_synced(&tmp.path().join(MANIFEST), text.as_bytes()).map_err(out_err)?;
    sync_dir(tmp.path());
    verify(tmp.path())
        .map_err(|m| CliError::Internal(format!("{}: the checkpoint did not verify after writing: {m}", dest.display())))?;
    if dest.exists() {
        // A checkpoint of the same step from an earlier attempt: replace it.
        let old = run_dir.join(format!(".{}.old-{}", dir_name(step), std::process::id()));
        std::fs::rename(&dest, &old).map_err(out_err)?;
        std::fs::rename(tmp.keep(), &dest).map_err(out_err)?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(tmp.keep(), &dest).map_err(out_err)?;
    }
    sync_dir(run_dir);
    if let Some(limit) = total_limit {
        rotate(run_dir, limit.max(1), keep)?;
    }
    Ok(dest)
}

/// Why a checkpoint directory is not intact.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("no readable {MANIFEST} ({0}): a partial save")]
    NoManifest(std::io::Error),
    #[error("{MANIFEST} is corrupt: {0}")]
    Corrupt(serde_json::Error),
    #[error("{MANIFEST} has format {0:?}, expected {FORMAT:?}")]
    Format(String),
    #[error("{MANIFEST} lists {0:?}, which is not a file name in the checkpoint")]
    Name(String),
    #[error("{name} is unreadable: {source}")]
    Unreadable { name: String, source: std::io::Error },
    #[error("{name} has {found} bytes, the manifest says {recorded}")]
    Size { name: String, found: u64, recorded: u64 },
    #[error("{0} does not match its SHA-256 in the manifest (corrupt)")]
    Checksum(String),
    #[error("its manifest is for step {0}")]
    Step(u64),
}

/// Check a checkpoint directory against its manifest: every file present, of the recorded
/// size and SHA-256. The error says what is wrong.
pub fn verify(dir: &Path) -> std::result::Result<Manifest, CheckpointError> {
    let text = std::fs::read(dir.join(MANIFEST)).map_err(CheckpointError::NoManifest)?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(CheckpointError::Corrupt)?;
    if manifest.format != FORMAT {
        return Err(CheckpointError::Format(manifest.format));
    }
    for (name, sum) in &manifest.files {
        // Only plain names: a manifest never makes squadkit read outside the checkpoint.
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
            return Err(CheckpointError::Name(name.clone()));
        }
        let path = dir.join(name);
        let unreadable = |source| CheckpointError::Unreadable { name: name.clone(), source };
        let found = std::fs::metadata(&path).map_err(unreadable)?.len();
        if found != sum.bytes {
            return Err(CheckpointError::Size { name: name.clone(), found, recorded: sum.bytes });
        }
        let bytes = std::fs::read(&path).map_err(unreadable)?;
        if sha256_hex(&bytes) != sum.sha256 {
            return Err(CheckpointError::Checksum(name.clone()));
        }
    }
    Ok(manifest)
}

/// Every `checkpoint-<step>` directory in `run_dir`, newest (highest step) first.
pub fn list(run_dir: &Path) -> Vec<Found> {
    let mut found: Vec<Found> = std::fs::read_dir(run_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let step = name.strip_prefix(PREFIX)?.parse::<u64>().ok()?;
            e.path().is_dir().then(|| Found { dir: e.path(), step })
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.step));
    found
}

/// The newest checkpoint of `run_dir` that verifies. Temporary directories of interrupted
/// saves are removed; corrupt checkpoints are reported in [`Search::rejected`] and kept.
pub fn latest_valid(run_dir: &Path) -> Search {
    let mut search = Search::default();
    for e in std::fs::read_dir(run_dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!(".{PREFIX}")) && (name.ends_with(".tmp") || name.contains(".old-")) {
            let _ = std::fs::remove_dir_all(e.path());
            search.removed_partial.push(e.path());
        }
    }
    for f in list(run_dir) {
        match verify(&f.dir) {
            Ok(m) if m.step == f.step => {
                search.valid = Some(f);
                break;
            }
            Ok(m) => search.rejected.push((f.dir.clone(), CheckpointError::Step(m.step).to_string())),
            Err(why) => search.rejected.push((f.dir.clone(), why.to_string())),
        }
    }
    search
}

/// Remove the oldest checkpoints so that at most `limit` remain, never one whose step is in
/// `keep` (those count toward the limit but are not removed).
pub fn rotate(run_dir: &Path, limit: usize, keep: &[u64]) -> Result<()> {
    let all = list(run_dir);
    let mut kept = 0;
    for f in all {
        if kept < limit || keep.contains(&f.step) {
            kept += 1;
            continue;
        }
        std::fs::remove_dir_all(&f.dir).map_err(|source| CliError::Output { path: f.dir.clone(), source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(tag: &str) -> Vec<(String, Vec<u8>)> {
        vec![("model.safetensors".into(), format!("weights {tag}").into_bytes()), ("trainer_state.json".into(), b"{}".to_vec())]
    }

    fn save_tag(dir: &Path, step: u64, limit: Option<usize>, keep: &[u64]) -> PathBuf {
        let f = files(&step.to_string());
        let refs: Vec<(&str, &[u8])> = f.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        save(dir, step, &refs, limit, keep).unwrap()
    }

    #[test]
    fn a_saved_checkpoint_verifies_and_is_the_newest() {
        let d = tempfile::tempdir().unwrap();
        save_tag(d.path(), 5, None, &[]);
        let p = save_tag(d.path(), 10, None, &[]);
        let m = verify(&p).unwrap();
        assert_eq!(m.step, 10);
        assert_eq!(m.files["model.safetensors"].sha256, sha256_hex(b"weights 10"));
        let s = latest_valid(d.path());
        assert_eq!(s.valid.unwrap().step, 10);
        assert!(s.rejected.is_empty());
        let names: Vec<String> =
            std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names.len(), 2, "no temporary directory is left: {names:?}");
    }

    #[test]
    fn a_corrupt_or_partial_checkpoint_is_reported_and_the_previous_used() {
        let d = tempfile::tempdir().unwrap();
        save_tag(d.path(), 1, None, &[]);
        let p2 = save_tag(d.path(), 2, None, &[]);
        let p3 = save_tag(d.path(), 3, None, &[]);
        // Step 3 loses its manifest (a partial copy); step 2 gets a flipped byte.
        std::fs::remove_file(p3.join(MANIFEST)).unwrap();
        let mut bytes = std::fs::read(p2.join("model.safetensors")).unwrap();
        bytes[0] ^= 1;
        std::fs::write(p2.join("model.safetensors"), bytes).unwrap();
        std::fs::create_dir(d.path().join(".checkpoint-4.abc.tmp")).unwrap();
        let s = latest_valid(d.path());
        assert_eq!(s.valid.unwrap().step, 1);
        assert_eq!(s.rejected.len(), 2);
        assert!(s.rejected[0].1.contains("partial"), "{:?}", s.rejected);
        assert!(s.rejected[1].1.contains("SHA-256"), "{:?}", s.rejected);
        assert_eq!(s.removed_partial.len(), 1);
        assert!(!d.path().join(".checkpoint-4.abc.tmp").exists());
        assert!(p3.exists() && p2.exists(), "rejected checkpoints are kept for inspection");
    }

    #[test]
    fn save_total_limit_keeps_the_newest_and_the_protected() {
        let d = tempfile::tempdir().unwrap();
        for step in 1..=5 {
            save_tag(d.path(), step, Some(2), &[2]);
        }
        let steps: Vec<u64> = list(d.path()).iter().map(|f| f.step).collect();
        assert_eq!(steps, vec![5, 4, 2]);
    }

    #[test]
    fn a_failed_write_leaves_earlier_checkpoints_whole() {
        let d = tempfile::tempdir().unwrap();
        save_tag(d.path(), 1, None, &[]);
        // A read-only run directory: the temporary directory cannot be created.
        let ro = d.path().join("checkpoint-1");
        let f = files("x");
        let refs: Vec<(&str, &[u8])> = f.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let err = save(&ro.join("model.safetensors"), 2, &refs, None, &[]).unwrap_err();
        assert!(err.to_string().contains("checkpoint-2"), "{err}");
        assert_eq!(latest_valid(d.path()).valid.unwrap().step, 1);
    }
}
