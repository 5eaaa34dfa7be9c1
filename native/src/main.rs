//! `squadkit`: fine-tune, run and score extractive question answering on SQuAD.

use clap::{Parser, Subcommand};
use squadkit_native::cmd;
use squadkit_native::error::CliError;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: squadkit_native::allocator::MiMalloc = squadkit_native::allocator::MiMalloc;

#[cfg(all(feature = "wgpu", feature = "cuda"))]
macro_rules! backends {
    () => {
        "cpu, wgpu, cuda"
    };
}
#[cfg(all(feature = "wgpu", not(feature = "cuda")))]
macro_rules! backends {
    () => {
        "cpu, wgpu"
    };
}
#[cfg(all(not(feature = "wgpu"), feature = "cuda"))]
macro_rules! backends {
    () => {
        "cpu, cuda"
    };
}
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
macro_rules! backends {
    () => {
        "cpu"
    };
}

/// The version and the backends compiled in (`--backend` values this binary accepts).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (backends: ", backends!(), ")");

#[derive(Debug, Parser)]
#[command(name = "squadkit", version = VERSION, about = "Fine-tune, inspect and score extractive QA (RoBERTa x SQuAD 2.0)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Score predictions exactly as the official SQuAD v2.0 evaluation script does.
    Evaluate(cmd::evaluate::EvaluateArgs),
    /// Tokenize DATA into run_qa's windows: a feature cache and/or JSON lines.
    Prepare(cmd::prepare::PrepareArgs),
    /// Start/end logits → predictions.json, nbest_predictions.json, null_odds.json (utils_qa).
    Decode(cmd::decode::DecodeArgs),
    /// Train a tiny QA model on the bundled demo data and score it (CPU, nothing downloaded).
    Demo(cmd::demo::DemoArgs),
    /// Fine-tune (or train from scratch) RoBERTa for extractive QA, with resumable checkpoints.
    Train(Box<cmd::train::TrainArgs>),
    /// Answer questions with a trained model: predictions.json, nbest_predictions.json, null_odds.json.
    Predict(cmd::predict::PredictArgs),
    /// Write (and with --submit, submit) a SLURM batch script for a training run.
    Sbatch(Box<cmd::sbatch::SbatchArgs>),
    /// Fetch a model and a dataset from the Hugging Face hub (for the login node).
    Download(cmd::download::DownloadArgs),
}

fn main() -> ExitCode {
    squadkit_native::allocator::keep_freed_memory();
    squadkit_native::logging::init();
    let cli = Cli::parse();
    let result: Result<(), CliError> = match &cli.command {
        Command::Evaluate(args) => cmd::evaluate::run(args),
        Command::Prepare(args) => cmd::prepare::run(args),
        Command::Decode(args) => cmd::decode::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Train(args) => cmd::train::run(args),
        Command::Predict(args) => cmd::predict::run(args),
        Command::Sbatch(args) => cmd::sbatch::run(args),
        Command::Download(args) => cmd::download::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader has gone (`squadkit evaluate … | head`): nothing to report.
        Err(e @ CliError::BrokenPipe) => ExitCode::from(e.exit_code() as u8),
        Err(e @ CliError::Preempted { .. }) => {
            tracing::warn!("{e}; exiting with status {}", e.exit_code());
            ExitCode::from(e.exit_code() as u8)
        }
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
