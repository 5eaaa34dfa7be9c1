//! `squadkit train`: fine-tune RoBERTa for extractive QA (or train a fresh one from a
//! config) with the HF Trainer's hyperparameter names and defaults, step-level checkpoints,
//! `--resume`, and preemption handling (see [`crate::trainer`]).
//!
//! Inputs: `--model DIR` (an HF model directory: config, weights, tokenizer) or `--config
//! config.json` + `--tokenizer`; `--train-file` and optionally `--validation-file` (SQuAD
//! JSON). Outputs in `--output-dir RUN`: `checkpoint-<step>/`, `best/` and `final/` (HF model
//! directories), `metrics.jsonl`, `train_args.json`.
//!
//! Exit status: 0 when finished, 2 for bad input, 75 when stopped by SIGTERM/SIGUSR1/SIGINT
//! after saving a checkpoint (`squadkit sbatch` scripts requeue on it), 1 otherwise (a NaN loss
//! included).

use crate::checkpoint;
use crate::cmd::evaluate::load_dataset;
use crate::error::{CliError, Result};
use crate::fsio;
use crate::model::roberta::{RobertaConfig, RobertaForQuestionAnswering};
use crate::model::{run_on, weights, BackendKind, BackendTask};
use crate::signals::{StopFlag, EXIT_PREEMPTED};
use crate::trainer::{self, EvalStrategy, Hyper, Outcome, RunSpec, WindowSet};
use burn::tensor::backend::AutodiffBackend;
use clap::{Args, ValueEnum};
use squadkit_core::preprocess::{preprocess, PreprocessConfig};
use squadkit_core::tokenize::QaTokenizer;
use std::path::{Path, PathBuf};

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
    /// The tokenizer: a `tokenizer.json`, or a directory with it or vocab.json + merges.txt [default: the model directory].
    #[arg(long, value_name = "PATH")]
    pub tokenizer: Option<PathBuf>,
    /// Training data (SQuAD JSON, v1.1 or v2.0).
    #[arg(long, value_name = "DATA")]
    pub train_file: PathBuf,
    /// Evaluation data (SQuAD JSON); needed for --eval-strategy steps|epoch.
    #[arg(long, value_name = "DATA")]
    pub validation_file: Option<PathBuf>,
    /// The run directory.
    #[arg(long, value_name = "RUN")]
    pub output_dir: PathBuf,
    /// Continue from a checkpoint: with no value (or `auto`), the newest valid one in the run
    /// directory (a fresh start when there is none); else the given checkpoint directory.
    #[arg(long, value_name = "CHECKPOINT", num_args = 0..=1, default_missing_value = "auto")]
    pub resume: Option<PathBuf>,
    #[command(flatten)]
    pub window: super::WindowArgs,
    /// Pad each batch to its longest window instead of to --max-seq-length (run_qa's
    /// `--pad_to_max_length False`).
    #[arg(long)]
    pub dynamic_padding: bool,
    /// Batches of similar lengths (HF's `--group_by_length`); same windows per epoch.
    #[arg(long)]
    pub group_by_length: bool,
    #[arg(long, default_value_t = 5e-5)]
    pub learning_rate: f64,
    #[arg(long, default_value_t = 8)]
    pub per_device_train_batch_size: usize,
    #[arg(long, default_value_t = 8)]
    pub per_device_eval_batch_size: usize,
    #[arg(long, default_value_t = 1)]
    pub gradient_accumulation_steps: usize,
    #[arg(long, default_value_t = 3.0)]
    pub num_train_epochs: f64,
    /// Total optimizer steps; > 0 overrides --num-train-epochs.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub max_steps: i64,
    #[arg(long, default_value_t = 0.0)]
    pub warmup_ratio: f64,
    /// > 0 overrides --warmup-ratio.
    #[arg(long, default_value_t = 0)]
    pub warmup_steps: usize,
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    #[arg(long, default_value_t = 0.9)]
    pub adam_beta1: f64,
    #[arg(long, default_value_t = 0.999)]
    pub adam_beta2: f64,
    #[arg(long, default_value_t = 1e-8)]
    pub adam_epsilon: f64,
    /// Global gradient-norm clipping (0 = none).
    #[arg(long, default_value_t = 1.0)]
    pub max_grad_norm: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 500)]
    pub logging_steps: usize,
    /// Save a checkpoint every N steps (0 = only at the end and when stopped).
    #[arg(long, default_value_t = 500)]
    pub save_steps: usize,
    /// Keep at most this many checkpoints (the best model's is never removed).
    #[arg(long)]
    pub save_total_limit: Option<usize>,
    #[arg(long, value_enum, default_value_t = EvalStrategy::No)]
    pub eval_strategy: EvalStrategy,
    /// Evaluate every N steps with --eval-strategy steps [default: --logging-steps].
    #[arg(long)]
    pub eval_steps: Option<usize>,
    #[command(flatten)]
    pub answers: super::AnswerArgs,
    #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
    pub backend: BackendKind,
    /// bf16 runs the matmuls in bfloat16 with float32 master weights.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    pub precision: Precision,
    /// Stop as a signal would after this many steps of this invocation (tests, time-boxed runs).
    #[arg(long, hide = true)]
    pub stop_after: Option<u64>,
}

impl TrainArgs {
    pub fn hyper(&self) -> Hyper {
        Hyper {
            learning_rate: self.learning_rate,
            per_device_train_batch_size: self.per_device_train_batch_size,
            per_device_eval_batch_size: self.per_device_eval_batch_size,
            gradient_accumulation_steps: self.gradient_accumulation_steps,
            num_train_epochs: self.num_train_epochs,
            max_steps: self.max_steps,
            warmup_ratio: self.warmup_ratio,
            warmup_steps: self.warmup_steps,
            weight_decay: self.weight_decay,
            adam_beta1: self.adam_beta1,
            adam_beta2: self.adam_beta2,
            adam_epsilon: self.adam_epsilon,
            max_grad_norm: self.max_grad_norm,
            seed: self.seed,
            logging_steps: self.logging_steps,
            save_steps: self.save_steps,
            save_total_limit: self.save_total_limit,
            eval_strategy: self.eval_strategy,
            eval_steps: self.eval_steps,
            group_by_length: self.group_by_length,
            bf16: self.precision == Precision::Bf16,
        }
    }
}

/// Load a tokenizer from a `tokenizer.json` file or a directory (tokenizer.json, else
/// vocab.json + merges.txt). Returns it with the directory its files are in.
pub fn load_tokenizer(path: &Path) -> Result<(QaTokenizer, PathBuf)> {
    if path.is_file() {
        let tok = QaTokenizer::from_tokenizer_json(&fsio::read(path)?).map_err(|e| CliError::input(path, e.to_string()))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        return Ok((tok, dir));
    }
    let json = path.join("tokenizer.json");
    if json.exists() {
        let tok = QaTokenizer::from_tokenizer_json(&fsio::read(&json)?).map_err(|e| CliError::input(&json, e.to_string()))?;
        return Ok((tok, path.to_path_buf()));
    }
    let (vocab, merges) = (path.join("vocab.json"), path.join("merges.txt"));
    if vocab.exists() && merges.exists() {
        let tok = QaTokenizer::from_vocab_merges(&fsio::read(&vocab)?, &fsio::read(&merges)?)
            .map_err(|e| CliError::input(&vocab, e.to_string()))?;
        return Ok((tok, path.to_path_buf()));
    }
    Err(CliError::input(path, "no tokenizer here: expected tokenizer.json, or vocab.json and merges.txt"))
}

/// The tokenizer must fit the model: ids inside the embedding table, the same padding id,
/// windows within the position embeddings.
pub fn check_fit(tok: &QaTokenizer, tok_path: &Path, config: &RobertaConfig, config_path: &Path, max_seq_length: usize) -> Result<()> {
    if tok.vocab_size() > config.vocab_size {
        return Err(CliError::input(
            tok_path,
            format!(
                "the tokenizer has {} tokens but the model ({}) has vocab_size {}: they do not belong together",
                tok.vocab_size(),
                config_path.display(),
                config.vocab_size
            ),
        ));
    }
    if tok.pad_id() as usize != config.pad_token_id {
        return Err(CliError::input(
            tok_path,
            format!("the tokenizer's <pad> is id {} but the model's pad_token_id is {}", tok.pad_id(), config.pad_token_id),
        ));
    }
    if max_seq_length > config.max_seq_len() {
        return Err(CliError::input(
            config_path,
            format!("--max-seq-length {max_seq_length} is longer than the model's positions allow ({})", config.max_seq_len()),
        ));
    }
    Ok(())
}

/// Tokenize and window a SQuAD file.
pub fn windows(tok: &QaTokenizer, path: &Path, config: &PreprocessConfig) -> Result<WindowSet> {
    let dataset = load_dataset(path)?;
    if dataset.is_empty() {
        return Err(CliError::input(path, "has no questions"));
    }
    let features = preprocess(tok, &dataset, config).map_err(|e| CliError::input(path, e.to_string()))?;
    Ok(WindowSet { dataset, features })
}

/// Everything loaded and checked before the backend starts.
pub struct Prepared {
    pub args: TrainArgs,
    pub config: RobertaConfig,
    pub tokenizer_dir: PathBuf,
    pub pad_id: u32,
    pub train: WindowSet,
    pub eval: Option<WindowSet>,
    pub resume: Option<PathBuf>,
}

pub fn prepare(args: &TrainArgs) -> Result<Prepared> {
    let (config_path, config) = match (&args.model, &args.config) {
        (Some(dir), _) => (dir.join("config.json"), weights::read_config(dir)?),
        (None, Some(p)) => (p.clone(), RobertaConfig::from_json(&fsio::read(p)?).map_err(|m| CliError::input(p, m))?),
        (None, None) => return Err(CliError::Invalid("give --model DIR or --config config.json".into())),
    };
    let tok_path = args.tokenizer.clone().or_else(|| args.model.clone()).expect("clap requires one");
    let (tok, tokenizer_dir) = load_tokenizer(&tok_path)?;
    check_fit(&tok, &tok_path, &config, &config_path, args.window.max_seq_length)?;
    if args.eval_strategy != EvalStrategy::No && args.validation_file.is_none() {
        return Err(CliError::Invalid(format!("--eval-strategy {:?} needs --validation-file", args.eval_strategy).to_lowercase()));
    }
    if args.per_device_train_batch_size == 0 || args.gradient_accumulation_steps == 0 {
        return Err(CliError::Invalid("batch size and gradient accumulation steps must be at least 1".into()));
    }
    let pp = args.window.preprocess_config(!args.dynamic_padding);
    pp.check().map_err(|e| CliError::Invalid(e.to_string()))?;
    let train = windows(&tok, &args.train_file, &pp)?;
    let eval = args.validation_file.as_ref().map(|p| windows(&tok, p, &pp)).transpose()?;
    let resume = match &args.resume {
        None => None,
        Some(p) if p.as_os_str() == "auto" => {
            let search = checkpoint::latest_valid(&args.output_dir);
            for p in &search.removed_partial {
                eprintln!("squadkit: removed {} (an interrupted save)", p.display());
            }
            for (dir, why) in &search.rejected {
                eprintln!("squadkit: skipping {}: {why}", dir.display());
            }
            match search.valid {
                Some(f) => {
                    eprintln!("squadkit: resuming from {} (step {})", f.dir.display(), f.step);
                    Some(f.dir)
                }
                None => {
                    eprintln!("squadkit: no valid checkpoint in {}: starting from the beginning", args.output_dir.display());
                    None
                }
            }
        }
        Some(p) => {
            checkpoint::verify(p).map_err(|why| CliError::input(p, format!("not a valid checkpoint: {why}")))?;
            Some(p.clone())
        }
    };
    Ok(Prepared { args: args.clone(), config, tokenizer_dir, pad_id: tok.pad_id(), train, eval, resume })
}

struct TrainTask<'a>(&'a Prepared);

impl BackendTask for TrainTask<'_> {
    type Output = Outcome;
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Outcome> {
        let p = self.0;
        let a = &p.args;
        B::seed(&device, a.seed);
        let model: RobertaForQuestionAnswering<B> = match (&a.model, &p.resume) {
            (_, Some(_)) => p.config.init(&device), // replaced by the checkpoint's weights
            (Some(dir), None) => {
                let (_, m, report) = weights::load_model_dir::<B>(dir, &device)?;
                if report.fresh_qa_head() {
                    eprintln!("squadkit: {} has no QA head: a new one is initialised", dir.display());
                }
                m
            }
            (None, None) => p.config.init(&device),
        };
        let stop = StopFlag::install().map_err(|e| CliError::Other(format!("cannot install signal handlers: {e}")))?;
        let hyper = a.hyper();
        let spec = RunSpec {
            out: &a.output_dir,
            config: &p.config,
            hyper: &hyper,
            train: &p.train,
            eval: p.eval.as_ref(),
            pad_id: p.pad_id,
            tokenizer_dir: Some(&p.tokenizer_dir),
            decode: a.answers.decode_options(),
            stop,
            resume: p.resume.clone(),
            stop_after: a.stop_after,
        };
        trainer::train(spec, model, &device)
    }
}

/// Train; the outcome tells whether the run finished or was stopped by a signal.
pub fn train(args: &TrainArgs) -> Result<Outcome> {
    let prepared = prepare(args)?;
    let r = &prepared.train.features.report;
    eprintln!(
        "squadkit: {} training questions → {} windows{}",
        r.examples,
        r.windows,
        prepared.eval.as_ref().map(|e| format!("; {} evaluation questions", e.dataset.len())).unwrap_or_default()
    );
    let text = serde_json::to_string_pretty(&args.hyper()).expect("hyperparameters serialise") + "\n";
    fsio::write_atomic(&args.output_dir.join("train_args.json"), text.as_bytes())?;
    run_on(args.backend, TrainTask(&prepared))
}

pub fn run(args: &TrainArgs) -> Result<()> {
    match train(args)? {
        Outcome::Finished { global_step, last_eval } => {
            eprintln!("squadkit: finished after {global_step} steps; model in {}", args.output_dir.join("final").display());
            if let Some(e) = last_eval {
                println!("{}", serde_json::Value::Object(e));
            }
            Ok(())
        }
        Outcome::Preempted { signal, checkpoint } => {
            eprintln!(
                "squadkit: stopped by {signal}; saved {} (resume with --resume); exiting with status {EXIT_PREEMPTED}",
                checkpoint.display()
            );
            std::process::exit(EXIT_PREEMPTED);
        }
    }
}
