//! A training run's logs: the JSON-lines metrics file (`RUN/metrics.jsonl`, one object per
//! logged step or evaluation, which the web app plots) and what a person watching sees (an
//! indicatif progress bar on a terminal, plain lines in a batch log).
//!
//! Every line has `event` (`"shapes"`, `"first_step"`, `"train"`, `"eval"`, `"resume"`,
//! `"stop"`), `step`, `epoch` and `wall_time` (seconds since the run first started, carried
//! across resumes). `shapes` lists the run's batch shapes (`[rows, width]`, train and eval);
//! `first_step` times an attempt's first step (`step_time`: on a GPU, kernel compilation and
//! autotuning included; `kernels_compiled`). Train lines add `loss`, `learning_rate`,
//! `grad_norm`, and over the steps after the attempt's first: `step_time` (mean seconds per
//! optimizer step), `samples_per_second`, `tokens_per_second` (real, non-padding tokens), then
//! `peak_memory_bytes` (the most the backend has held at a logged step: the process's peak
//! resident set on the CPU, cubecl's reserved device memory on a GPU) and, on a GPU,
//! `kernels_compiled` (so far, by this process). Eval lines add the scorer's keys (`exact`,
//! `f1`, `HasAns_f1`, ..., `best_f1`, `best_f1_thresh`). On resume, lines after the
//! checkpoint's step (written by the interrupted attempt) are dropped, so the log reads as one
//! uninterrupted run.

use crate::error::{CliError, Result};
use serde::Serialize;
use serde_json::{Map, Value};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The metrics file of a run directory.
pub fn metrics_path(run_dir: &Path) -> PathBuf {
    run_dir.join("metrics.jsonl")
}

/// One line of `metrics.jsonl`: the only place its fields are named.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Event {
    /// The batch shapes (`[rows, width]`) the run uses, when it starts or resumes.
    Shapes {
        step: u64,
        epoch: f64,
        train: Vec<[usize; 2]>,
        eval: Vec<[usize; 2]>,
        wall_time: f64,
    },
    /// The first step of an attempt, timed to its end on the device.
    #[serde(rename = "first_step")]
    FirstStep {
        step: u64,
        epoch: f64,
        step_time: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        kernels_compiled: Option<u64>,
        wall_time: f64,
    },
    /// The mean over the steps since the last train line (timings: over those after the
    /// attempt's first step; absent when there are none).
    Train {
        step: u64,
        epoch: f64,
        loss: f64,
        learning_rate: f64,
        grad_norm: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        step_time: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        samples_per_second: Option<f64>,
        /// Real (non-padding) tokens.
        #[serde(skip_serializing_if = "Option::is_none")]
        tokens_per_second: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        peak_memory_bytes: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        kernels_compiled: Option<u64>,
        wall_time: f64,
    },
    /// The official scorer's keys (`exact`, `f1`, `HasAns_f1`, ..., `best_f1_thresh`).
    Eval {
        step: u64,
        epoch: f64,
        #[serde(flatten)]
        scores: Map<String, Value>,
        wall_time: f64,
    },
    Resume {
        step: u64,
        epoch: f64,
        wall_time: f64,
    },
    /// A stop before the end: by a signal (after saving), or a non-finite loss (before the update).
    Stop {
        step: u64,
        epoch: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        signal: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        loss: Option<String>,
        wall_time: f64,
    },
}

/// Appends metrics lines, flushed line by line (or, for a warm-up, keeps nothing).
pub struct MetricsLog {
    path: PathBuf,
    file: Option<std::fs::File>,
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
                crate::output::write_owned(&path, kept.as_bytes())?;
            }
            None => {
                // A fresh run starts a fresh log.
                crate::output::write_owned(&path, b"")?;
            }
            _ => {}
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(out_err)?;
        Ok(MetricsLog { path, file: Some(file) })
    }

    /// A log that writes nothing (`train --warmup-only` leaves the run's log as it was).
    pub fn discard(run_dir: &Path) -> MetricsLog {
        MetricsLog { path: metrics_path(run_dir), file: None }
    }

    /// Append one line.
    pub fn write(&mut self, event: &Event) -> Result<()> {
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        let text = serde_json::to_string(event).expect("an event serialises") + "\n";
        file.write_all(text.as_bytes())
            .and_then(|_| file.flush())
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
                indicatif::ProgressStyle::with_template(
                    "{spinner} train [{bar:30}] {pos}/{len} steps {elapsed_precise}<{eta_precise} {msg}",
                )
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
                    tracing::info!("step {step}/{total} {message}");
                }
            }
        }
    }

    /// A line that does not disturb the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => tracing::info!("{line}"),
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

    fn line(step: u64, wall: f64) -> Event {
        Event::Resume { step, epoch: 0.5, wall_time: wall }
    }

    #[test]
    fn resume_drops_lines_after_the_checkpoint() {
        let d = tempfile::tempdir().unwrap();
        let mut log = MetricsLog::open(d.path(), None).unwrap();
        for s in 1..=4 {
            log.write(&line(s, s as f64)).unwrap();
        }
        drop(log);
        let mut log = MetricsLog::open(d.path(), Some(2)).unwrap();
        assert_eq!(MetricsLog::last_wall_time(d.path()), 2.0);
        log.write(&line(2, 2.0)).unwrap();
        let text = std::fs::read_to_string(metrics_path(d.path())).unwrap();
        let steps: Vec<u64> = text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["step"].as_u64().unwrap()).collect();
        assert_eq!(steps, vec![1, 2, 2]);
        assert_eq!(text.lines().last().unwrap(), r#"{"event":"resume","step":2,"epoch":0.5,"wall_time":2.0}"#);
    }
}
