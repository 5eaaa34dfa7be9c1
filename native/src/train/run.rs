//! A `squadkit train` run from its arguments: everything is loaded and checked before the
//! backend starts ([`prepare`]: the GPU runtime's kernel cache and the `--devices` list first,
//! then config, tokenizer and its fit, windows of both data sets, the checkpoint to resume),
//! then the [`Trainer`] runs on the chosen backend and devices ([`train`]).

use super::args::TrainArgs;
use super::checkpoint;
use super::rundir::{Claim, RunDir};
use super::state::{EvalStrategy, Hyper};
use super::trainer::{Outcome, RunSpec, Trainer, Warmup};
use crate::error::{CliError, Result};
use crate::inputs::model_dir::{check_fit, config_path, read_config};
use crate::inputs::{load_tokenizer, Split};
use crate::model::roberta::{RobertaConfig, RobertaForQuestionAnswering};
use crate::model::{run_on, weights, BackendKind, BackendTask};
use crate::pipeline::{QaPipeline, WindowSet};
use crate::signals::StopFlag;
use burn::tensor::backend::AutodiffBackend;
use std::path::{Path, PathBuf};

/// Everything loaded and checked before the backend starts.
pub struct Prepared {
    pub args: TrainArgs,
    pub hyper: Hyper,
    pub config: RobertaConfig,
    pub tokenizer_dir: PathBuf,
    pub pad_id: u32,
    pub train: WindowSet,
    pub eval: Option<WindowSet>,
    pub resume: Option<PathBuf>,
    /// The device ordinals of `--devices` (rank 0 first).
    pub devices: Vec<usize>,
}

pub fn prepare(args: &TrainArgs) -> Result<Prepared> {
    // The devices first: a bad list is an error before anything is loaded. Counting GPUs
    // starts the runtime, so its kernel cache is set before.
    args.device.configure_runtime(&args.output_dir)?;
    let devices = args.devices.resolve(args.device.backend)?;
    let hyper = Hyper { world_size: devices.len(), ..args.hyper() };
    hyper.check()?;
    if hyper.eval_strategy != EvalStrategy::No && args.validation_file.is_none() {
        return Err(CliError::Invalid(
            format!("--eval-strategy {:?} needs --validation-file", hyper.eval_strategy).to_lowercase(),
        ));
    }
    let model_path = args
        .model
        .as_ref()
        .or(args.config.as_ref())
        .ok_or_else(|| CliError::Invalid("give --model DIR or --config config.json".into()))?;
    let config = read_config(model_path)?;
    check_memory(&config, args, model_path)?;
    let tok_path = args.tokenizer.as_ref().or(args.model.as_ref()).expect("clap requires --tokenizer without --model");
    let tok = load_tokenizer(tok_path)?;
    check_fit(&tok.tokenizer, tok_path, &config, &config_path(model_path), Some(args.window.max_seq_length))?;
    let pad_id = tok.tokenizer.pad_id();
    let pipeline =
        QaPipeline::new(tok.tokenizer, args.window.preprocess_config(!args.dynamic_padding), args.answers.decode_options())?;
    let train = pipeline.load(&args.train_file, Split::Train)?;
    hyper.check_batches(train.features.windows.len())?;
    let eval = args.validation_file.as_ref().map(|p| pipeline.load(p, Split::Validation)).transpose()?;
    let resume = match &args.resume {
        None => None,
        Some(p) if p.as_os_str() == "auto" => latest_checkpoint(&args.output_dir)?,
        Some(p) => {
            checkpoint::verify(p).map_err(|why| CliError::input(p, format!("not a valid checkpoint: {why}")))?;
            Some(p.clone())
        }
    };
    Ok(Prepared { args: args.clone(), hyper, config, tokenizer_dir: tok.dir, pad_id, train, eval, resume, devices })
}

/// On the CPU, refuse a model whose training state (weights, gradients and AdamW's two
/// moments, float32) cannot fit in the memory available now: an error instead of an abort.
fn check_memory(config: &RobertaConfig, args: &TrainArgs, config_file: &Path) -> Result<()> {
    if args.device.backend != crate::model::BackendKind::Cpu {
        return Ok(());
    }
    let Some(available) = available_memory() else { return Ok(()) };
    let needed = config.parameter_count() * 4 * 4;
    if needed > u128::from(available) {
        return Err(CliError::input(
            &config_path(config_file),
            format!(
                "a model of {} parameters needs {:.1} GB to train (weights, gradients, optimizer moments) \
                 but this machine has {:.1} GB available",
                config.parameter_count(),
                needed as f64 / 1e9,
                available as f64 / 1e9
            ),
        ));
    }
    Ok(())
}

/// `MemAvailable` of /proc/meminfo, in bytes.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The newest valid checkpoint of a run directory (saying what was skipped), if any; when
/// there are checkpoints and none is valid, an error (starting over would overwrite them).
fn latest_checkpoint(run_dir: &Path) -> Result<Option<PathBuf>> {
    let search = checkpoint::latest_valid(run_dir);
    for p in &search.removed_partial {
        tracing::warn!("removed {} (an interrupted save)", p.display());
    }
    for (dir, why) in &search.rejected {
        tracing::warn!("skipping {}: {why}", dir.display());
    }
    match search.valid {
        Some(f) => {
            tracing::info!("resuming from {} (step {})", f.dir.display(), f.step);
            Ok(Some(f.dir))
        }
        None if !search.rejected.is_empty() => Err(CliError::Invalid(format!(
            "{}: none of its {} checkpoints is intact (see above), so there is nothing to resume; \
             --overwrite-output-dir starts the run over and removes them",
            run_dir.display(),
            search.rejected.len()
        ))),
        None => {
            tracing::info!("no checkpoint in {}: starting from the beginning", run_dir.display());
            Ok(None)
        }
    }
}

/// What a [`TrainTask`] does on the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Train,
    WarmupOnly,
}

/// What a [`TrainTask`] ends with.
enum Done {
    Trained(Outcome),
    WarmedUp(Warmup),
}

struct TrainTask<'a>(&'a Prepared, Mode);

impl BackendTask for TrainTask<'_> {
    type Output = Done;
    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>, kind: BackendKind) -> Result<Done> {
        let (p, mode) = (self.0, self.1);
        let mut devices = devices.into_iter();
        let device = devices.next().expect("run_on gives a device");
        let a = &p.args;
        B::seed(&device, p.hyper.seed);
        let model: RobertaForQuestionAnswering<B> = match (&a.model, &p.resume) {
            (Some(dir), None) => {
                let (_, m, report) = weights::load_model_dir::<B>(dir, &device)?;
                if report.fresh_qa_head() {
                    tracing::warn!("{} has no QA head: a new one is initialised", dir.display());
                }
                m
            }
            // A fresh model, or one whose weights the checkpoint replaces.
            _ => p.config.init(&device),
        };
        let stop = StopFlag::install().map_err(|e| CliError::Internal(format!("cannot install signal handlers: {e}")))?;
        let max_width = a.window.max_seq_length;
        let micro_batch = p.hyper.per_device_train_batch_size;
        let spec = RunSpec {
            out: &a.output_dir,
            config: &p.config,
            hyper: &p.hyper,
            train: &p.train,
            eval: p.eval.as_ref(),
            pad_id: p.pad_id,
            tokenizer_dir: Some(&p.tokenizer_dir),
            decode: a.answers.decode_options(),
            stop,
            resume: p.resume.clone(),
            stop_after: a.stop_after,
            // A dropped last batch needs no filling.
            padding: a.device.padding((!p.hyper.dataloader_drop_last).then_some(micro_batch), max_width),
            eval_padding: a.device.padding(Some(p.hyper.per_device_eval_batch_size), max_width),
            backend: kind,
            warmup_only: mode == Mode::WarmupOnly,
        };
        let mut trainer = Trainer::new(spec, model, &device)?;
        match mode {
            Mode::Train => trainer.run(devices.collect()).map(Done::Trained),
            Mode::WarmupOnly => {
                trainer.log_shapes()?;
                trainer.warmup().map(Done::WarmedUp)
            }
        }
    }
}

/// Train as `args` say; a run stopped by a signal (after its checkpoint) is
/// [`CliError::Preempted`].
pub fn train(args: &TrainArgs) -> Result<Outcome> {
    let claim = if args.resume.is_some() { Claim::Resume } else { Claim::Fresh { overwrite: args.overwrite_output_dir } };
    // Held until the run ends.
    let _run_dir = RunDir::claim(&args.output_dir, claim)?;
    let prepared = prepare(args)?;
    let r = &prepared.train.features.report;
    tracing::info!(
        "{} training questions → {} windows{}",
        r.examples,
        r.windows,
        prepared.eval.as_ref().map(|e| format!("; {} evaluation questions", e.dataset.len())).unwrap_or_default()
    );
    let text = serde_json::to_string_pretty(&prepared.hyper).expect("hyperparameters serialise") + "\n";
    crate::output::write_owned(&args.output_dir.join("train_args.json"), text.as_bytes())?;
    match run_on(args.device.backend, &prepared.devices, TrainTask(&prepared, Mode::Train))? {
        Done::Trained(Outcome::Preempted { signal, checkpoint }) => Err(CliError::Preempted { signal, checkpoint }),
        Done::Trained(finished) => Ok(finished),
        Done::WarmedUp(_) => unreachable!("a training task trains"),
    }
}

/// `train --warmup-only`: run each batch shape of the run once (on a GPU: compile and tune
/// every kernel into the kernel cache) and change nothing else. The run directory is locked
/// meanwhile (a run in it is not disturbed: its checkpoints, logs and models stay as they are).
pub fn warmup(args: &TrainArgs) -> Result<Warmup> {
    let _run_dir = RunDir::claim(&args.output_dir, Claim::Resume)?;
    let prepared = prepare(args)?;
    // Rank 0's device: the kernel cache is shared by the devices of a GPU model.
    match run_on(args.device.backend, &prepared.devices[..1], TrainTask(&prepared, Mode::WarmupOnly))? {
        Done::WarmedUp(w) => Ok(w),
        Done::Trained(_) => unreachable!("a warm-up task only warms up"),
    }
}
