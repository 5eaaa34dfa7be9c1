//! A training run's logs: the JSON-lines metrics file (`RUN/metrics.jsonl`, one object per
//! logged step or evaluation, which the web app plots) and what a person watching sees (an
//! indicatif progress bar on a terminal, plain lines in a batch log).
//!
//! Every line has `event` (`"train"`, `"eval"`, `"resume"`, `"stop"`), `step`, `epoch` and
//! `wall_time` (seconds since the run first started, carried across resumes); train lines add
//! `loss`, `learning_rate`, `grad_norm`, `samples_per_second`, `tokens_per_second` (real,
//! non-padding tokens); eval lines add the scorer's keys (`exact`, `f1`, `HasAns_f1`, ...,
//! `best_f1`, `best_f1_thresh`). On resume, lines after the checkpoint's step (written by the
//! interrupted attempt) are dropped, so the log reads as one uninterrupted run.

use crate::error::{CliError, Result};
use serde_json::{Map, Value};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The metrics file of a run directory.
pub fn metrics_path(run_dir: &Path) -> PathBuf {
    run_dir.join("metrics.jsonl")
}

/// Appends metrics lines, flushed line by line.
pub struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsLog {
    /// Open `RUN/metrics.jsonl` for appending; with `resume_step`, first drop every line whose
    /// step is above it (atomically).
    pub fn open(run_dir: &Path, resume_step: Option<u64>) -> Result<MetricsLog> {
        let path = metrics_path(run_dir);
        let out_err = |source| CliError::Output { path: path.clone(), source };
        std::fs::create_dir_all(run_dir).map_err(out_err)?;
        match resume_step {
            Some(step) if path.exists() => {
                let text = std::fs::read_to_string(&path).map_err(out_err)?;
                let kept: String = text
                    .lines()
                    .filter(|l| {
                        serde_json::from_str::<Value>(l)
                            .ok()
                            .and_then(|v| v.get("step").and_then(Value::as_u64))
                            .is_some_and(|s| s <= step)
                    })
                    .map(|l| format!("{l}\n"))
                    .collect();
                crate::fsio::write_atomic(&path, kept.as_bytes())?;
            }
            None => {
                // A fresh run starts a fresh log.
                crate::fsio::write_atomic(&path, b"")?;
            }
            _ => {}
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(out_err)?;
        Ok(MetricsLog { path, file })
    }

    /// Append one line: `event`, then the fields in order.
    pub fn write(&mut self, event: &str, fields: Map<String, Value>) -> Result<()> {
        let mut line = Map::new();
        line.insert("event".into(), Value::from(event));
        line.extend(fields);
        let text = Value::Object(line).to_string() + "\n";
        self.file
            .write_all(text.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|source| CliError::Output { path: self.path.clone(), source })
    }

    /// The last `wall_time` logged (to continue the clock after a resume).
    pub fn last_wall_time(run_dir: &Path) -> f64 {
        std::fs::read_to_string(metrics_path(run_dir))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok()?.get("wall_time")?.as_f64())
            .next_back()
            .unwrap_or(0.0)
    }
}

/// A progress bar on a terminal, else a plain line every `every` steps.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    every: u64,
}

impl Progress {
    pub fn new(total_steps: u64, done: u64, every: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total_steps);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} train [{bar:30}] {pos}/{len} steps {elapsed_precise}<{eta_precise} {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_position(done);
            bar
        });
        Progress { bar, every: every.max(1) }
    }

    /// Report a finished step; `message` is shown beside the bar or printed on its line.
    pub fn step(&self, step: u64, total: u64, message: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(step);
                bar.set_message(message.to_string());
            }
            None => {
                if step.is_multiple_of(self.every) || step == total {
                    eprintln!("step {step}/{total} {message}");
                }
            }
        }
    }

    /// A line that does not disturb the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(step: u64, wall: f64) -> Map<String, Value> {
        json!({"step": step, "epoch": 0.5, "wall_time": wall}).as_object().unwrap().clone()
    }

    #[test]
    fn resume_drops_lines_after_the_checkpoint() {
        let d = tempfile::tempdir().unwrap();
        let mut log = MetricsLog::open(d.path(), None).unwrap();
        for s in 1..=4 {
            log.write("train", fields(s, s as f64)).unwrap();
        }
        drop(log);
        let mut log = MetricsLog::open(d.path(), Some(2)).unwrap();
        assert_eq!(MetricsLog::last_wall_time(d.path()), 2.0);
        log.write("resume", fields(2, 2.0)).unwrap();
        let text = std::fs::read_to_string(metrics_path(d.path())).unwrap();
        let steps: Vec<u64> = text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["step"].as_u64().unwrap()).collect();
        assert_eq!(steps, vec![1, 2, 2]);
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["event"], "resume");
    }
}
