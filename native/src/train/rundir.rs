//! A run directory, owned by one run at a time.
//!
//! [`RunDir::claim`] takes `--output-dir` for a run before anything is loaded:
//! - a lock (an advisory `flock` on `RUN/.squadkit.lock`, held until the run ends; the kernel
//!   drops it when the process dies, so a killed or requeued job never leaves it taken): a
//!   second run in the same directory is refused, and cannot delete the first one's
//!   in-progress save;
//! - the run's identity: a fresh `train` (no `--resume`) into a directory that holds another
//!   run's files (`train_args.json`, `metrics.jsonl`, `checkpoint-*`, `best/`, `final/`) is
//!   refused unless `--overwrite-output-dir` (HF's name), which removes those files first;
//!   other files (an sbatch script, SLURM logs) are left alone;
//! - leftovers of a killed save (`.checkpoint-*.tmp`, `.final.*.tmp`, `.best.*.tmp`, `.*.old-*`)
//!   are removed, safely, as no other run holds the directory;
//! - a `best/` or `final/` that is not a model directory is refused now, not after training.

use crate::error::{CliError, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The files and directories a run writes (what another run's presence is recognised by).
const RUN_FILES: [&str; 4] = ["train_args.json", "metrics.jsonl", "best", "final"];
const LOCK: &str = ".squadkit.lock";

/// How the run means to use its directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// A new run: the directory must not hold another one (unless `overwrite`).
    Fresh { overwrite: bool },
    /// Continuing the run in the directory (`--resume`).
    Resume,
}

/// A run directory this process holds (the lock is released when dropped).
#[derive(Debug)]
pub struct RunDir {
    pub path: PathBuf,
    _lock: File,
}

impl RunDir {
    pub fn claim(path: &Path, claim: Claim) -> Result<RunDir> {
        let out_err = |e| CliError::output(path, e);
        if path.exists() && !path.is_dir() {
            return Err(CliError::Invalid(format!("{}: --output-dir exists and is not a directory", path.display())));
        }
        std::fs::create_dir_all(path).map_err(out_err)?;
        let lock_path = path.join(LOCK);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|e| CliError::output(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
                let holder = holder.trim();
                let who = if holder.is_empty() { String::new() } else { format!(" (process {holder})") };
                return Err(CliError::Invalid(format!(
                    "{}: another squadkit run is using this directory{who}; wait for it to end or choose another --output-dir",
                    path.display()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(CliError::output(&lock_path, e)),
        }
        // Who holds it, for the message above (the lock itself is what counts).
        let _ = lock.set_len(0);
        let _ = std::io::Write::write_all(&mut &lock, format!("{}\n", std::process::id()).as_bytes());
        // Before anything is removed: --overwrite-output-dir never deletes a directory that is
        // not a model.
        for model in ["best", "final"] {
            let p = path.join(model);
            let empty = std::fs::read_dir(&p).is_ok_and(|mut d| d.next().is_none());
            if p.exists() && !(p.is_dir() && (p.join("config.json").is_file() || empty)) {
                return Err(CliError::Invalid(format!(
                    "{}: exists and is not a model directory; the run saves its {model} model there: move it away",
                    p.display()
                )));
            }
        }
        let dir = RunDir { path: path.to_path_buf(), _lock: lock };
        dir.remove_leftovers();
        let theirs = dir.run_files();
        match claim {
            Claim::Fresh { overwrite: false } if !theirs.is_empty() => {
                return Err(CliError::Invalid(format!(
                    "{} holds another run ({}): continue it with --resume, or replace it with --overwrite-output-dir",
                    path.display(),
                    names(&theirs)
                )));
            }
            Claim::Fresh { overwrite: true } => {
                for p in &theirs {
                    let removed = if p.is_dir() { std::fs::remove_dir_all(p) } else { std::fs::remove_file(p) };
                    removed.map_err(|e| CliError::output(p, e))?;
                }
                if !theirs.is_empty() {
                    tracing::warn!("--overwrite-output-dir: removed the earlier run's {}", names(&theirs));
                }
            }
            _ => {}
        }
        Ok(dir)
    }

    /// The earlier run's files here.
    fn run_files(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = RUN_FILES.iter().map(|f| self.path.join(f)).filter(|p| p.exists()).collect();
        found.extend(super::checkpoint::list(&self.path).into_iter().map(|f| f.dir));
        found
    }

    /// Temporary files and directories of saves that a kill interrupted.
    fn remove_leftovers(&self) {
        for e in std::fs::read_dir(&self.path).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = ["checkpoint-", "final.", "best.", "metrics.jsonl.", "train_args.json."]
                .iter()
                .any(|p| name.starts_with(&format!(".{p}")));
            if ours && (name.ends_with(".tmp") || name.contains(".old-")) {
                let p = e.path();
                let removed = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
                if removed.is_ok() {
                    tracing::warn!("removed {} (left by an interrupted save)", p.display());
                }
            }
        }
    }
}

fn names(paths: &[PathBuf]) -> String {
    let mut n: Vec<String> = paths.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect();
    n.sort();
    if n.len() > 4 {
        let more = n.len() - 4;
        n.truncate(4);
        n.push(format!("and {more} more"));
    }
    n.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_at_a_time_and_its_identity_is_kept() {
        let d = tempfile::tempdir().unwrap();
        let run = d.path().join("run");
        let first = RunDir::claim(&run, Claim::Fresh { overwrite: false }).unwrap();
        let e = RunDir::claim(&run, Claim::Resume).unwrap_err();
        assert!(e.to_string().contains("another squadkit run is using this directory"), "{e}");
        assert!(e.to_string().contains(&std::process::id().to_string()), "{e}");
        std::fs::write(run.join("train_args.json"), "{}").unwrap();
        std::fs::create_dir(run.join("checkpoint-3")).unwrap();
        std::fs::write(run.join("train.sbatch"), "#!/bin/bash\n").unwrap();
        drop(first);
        let e = RunDir::claim(&run, Claim::Fresh { overwrite: false }).unwrap_err();
        assert!(e.to_string().contains("holds another run (checkpoint-3, train_args.json)"), "{e}");
        assert!(e.to_string().contains("--overwrite-output-dir"), "{e}");
        drop(RunDir::claim(&run, Claim::Resume).unwrap());
        assert!(run.join("checkpoint-3").exists(), "a resume keeps the run");
        drop(RunDir::claim(&run, Claim::Fresh { overwrite: true }).unwrap());
        assert!(!run.join("checkpoint-3").exists() && !run.join("train_args.json").exists());
        assert!(run.join("train.sbatch").exists(), "files that are not the run's are left alone");
    }

    #[test]
    fn leftovers_are_removed_and_a_foreign_final_is_refused_up_front() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".final.x1.tmp")).unwrap();
        std::fs::create_dir_all(d.path().join(".checkpoint-4.x2.tmp")).unwrap();
        std::fs::write(d.path().join(".notes.tmp"), "mine").unwrap();
        drop(RunDir::claim(d.path(), Claim::Resume).unwrap());
        assert!(!d.path().join(".final.x1.tmp").exists() && !d.path().join(".checkpoint-4.x2.tmp").exists());
        assert!(d.path().join(".notes.tmp").exists());
        std::fs::create_dir(d.path().join("final")).unwrap();
        std::fs::write(d.path().join("final/notes.txt"), "mine").unwrap();
        let e = RunDir::claim(d.path(), Claim::Resume).unwrap_err();
        assert!(e.to_string().contains("final: exists and is not a model directory"), "{e}");
    }
}
