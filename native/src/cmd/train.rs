//! `squadkit train`: fine-tune RoBERTa for extractive QA (or train a fresh one from a config)
//! with the HF Trainer's hyperparameter names and defaults, step-level checkpoints, `--resume`,
//! and preemption handling ([`crate::train`]).
//!
//! Outputs in `--output-dir RUN`: `checkpoint-<step>/`, `best/` and `final/` (HF model
//! directories), `metrics.jsonl`, `train_args.json`. Exit status: 0 when finished, 2 for bad
//! input, 75 when stopped by SIGTERM/SIGUSR1/SIGINT/SIGHUP after saving a checkpoint (`squadkit
//! sbatch` scripts requeue on it), 1 otherwise (a NaN loss included).
//!
//! `--warmup-only` runs each batch shape of the run once and exits (on a GPU: compiles and
//! tunes every kernel into the kernel cache), printing what it did as JSON.

use crate::error::Result;
pub use crate::train::TrainArgs;
use crate::train::{train, warmup, Outcome};

pub fn run(args: &TrainArgs) -> Result<()> {
    if args.warmup_only {
        let w = warmup(args)?;
        tracing::info!(
            "warm-up done: {} train and {} evaluation batch shapes in {:.1} s{}",
            w.train_shapes,
            w.eval_shapes,
            w.seconds,
            w.kernels_compiled.map(|k| format!(", {k} kernels compiled")).unwrap_or_default()
        );
        return crate::output::println(serde_json::to_value(&w).expect("a warm-up report serialises"));
    }
    if let Outcome::Finished { global_step, last_eval } = train(args)? {
        tracing::info!("finished after {global_step} steps; model in {}", args.output_dir.join("final").display());
        if let Some(e) = last_eval {
            crate::output::println(serde_json::Value::Object(e))?;
        }
    }
    Ok(())
}
