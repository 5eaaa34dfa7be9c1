//! `squadkit train`'s command line: inputs, the run directory, window and answer options,
//! the device, and the hyperparameters ([`Hyper`], flattened in with the HF Trainer's names).

use super::state::Hyper;
use crate::args::{AnswerArgs, DeviceArgs, WindowArgs};
use crate::model::DeviceList;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// The compute precision (older spelling of `--bf16`, kept hidden).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Precision {
    F32,
    Bf16,
}

/// Fine-tune (or train from scratch) a RoBERTa QA model.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// An HF model directory to start from (config.json, model.safetensors or pytorch_model.bin, tokenizer).
    #[arg(long, value_name = "DIR", conflicts_with = "config", required_unless_present = "config")]
    pub model: Option<PathBuf>,
    /// A `config.json` for a freshly initialised model (needs --tokenizer).
    #[arg(long, value_name = "config.json", requires = "tokenizer")]
    pub config: Option<PathBuf>,
    /// The tokenizer: a `tokenizer.json`, a `vocab.json` (merges.txt beside it), or a directory with either [default: the model directory].
    #[arg(long, value_name = "PATH")]
    pub tokenizer: Option<PathBuf>,
    /// Training data: SQuAD JSON, JSON lines, parquet (a file or the hub's directory: its
    /// `train` split), or a `datasets` save_to_disk directory (a DatasetDict: its `train` split).
    #[arg(long, value_name = "DATA")]
    pub train_file: PathBuf,
    /// Evaluation data, any format of --train-file (the `validation` split of a multi-split
    /// input); needed for --eval-strategy steps|epoch.
    #[arg(long, value_name = "DATA")]
    pub validation_file: Option<PathBuf>,
    /// The run directory.
    #[arg(long, value_name = "RUN")]
    pub output_dir: PathBuf,
    /// Continue from a checkpoint: with no value (or `auto`), the newest valid one in the run
    /// directory (a fresh start when there is none); else the given checkpoint directory.
    #[arg(long, value_name = "CHECKPOINT", num_args = 0..=1, default_missing_value = "auto")]
    pub resume: Option<PathBuf>,
    /// Start a new run in a directory that holds another one, removing the other run's
    /// checkpoints, models and logs (HF's `--overwrite_output_dir`).
    #[arg(long, conflicts_with = "resume")]
    pub overwrite_output_dir: bool,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Pad each batch to its longest window instead of to --max-seq-length (run_qa's
    /// `--pad_to_max_length False`).
    #[arg(long)]
    pub dynamic_padding: bool,
    #[command(flatten)]
    pub hyper: Hyper,
    #[command(flatten)]
    pub answers: AnswerArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Train data-parallel on these devices of --backend: ordinals such as `0,1,2,3`, or `all`
    /// (e.g. every GPU SLURM gave the job). Each device holds a replica of the model and takes
    /// --per-device-train-batch-size windows of every micro-batch; the gradients are summed
    /// across devices before each step (burn-collective), so N devices train as one device
    /// with N times the batch. Evaluation is shared between the devices; rank 0 (the first)
    /// logs and saves. On the CPU backend the devices are replicas sharing its cores (at most
    /// one per core).
    #[arg(long, value_name = "LIST", default_value = "0", value_parser = DeviceList::parse)]
    pub devices: DeviceList,
    /// Run every batch shape of the run once (train and evaluation) and exit: on a GPU this
    /// fills the kernel cache, so that the run itself (e.g. the compute job) starts at full
    /// speed. Writes nothing but the cache; prints the shapes and the time taken.
    #[arg(long, conflicts_with_all = ["resume", "overwrite_output_dir"])]
    pub warmup_only: bool,
    #[arg(long, value_enum, hide = true)]
    pub precision: Option<Precision>,
    /// Stop as a signal would after this many steps of this invocation (tests, time-boxed runs).
    #[arg(long, hide = true)]
    pub stop_after: Option<u64>,
}

impl TrainArgs {
    /// The hyperparameters in effect (`--precision bf16` as `--bf16`).
    pub fn hyper(&self) -> Hyper {
        Hyper { bf16: self.hyper.bf16 || self.precision == Some(Precision::Bf16), ..self.hyper.clone() }
    }
}

/// [`TrainArgs`] as a command line of its own, for runs built in code (`demo`, tests):
/// `TrainCommand::parse_from(["train", "--train-file", ...]).args`.
#[derive(Debug, clap::Parser)]
pub struct TrainCommand {
    #[command(flatten)]
    pub args: TrainArgs,
}
