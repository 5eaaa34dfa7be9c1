//! A `squadkit train` run from its arguments: everything is loaded and checked before the
//! backend starts ([`prepare`]: config, tokenizer and its fit, windows of both data sets, the
//! checkpoint to resume), then the [`Trainer`] runs on the chosen backend ([`train`]).

use super::args::TrainArgs;
use super::checkpoint;
use super::state::{EvalStrategy, Hyper};
use super::trainer::{Outcome, RunSpec, Trainer};
use crate::error::{CliError, Result};
use crate::fsio;
use crate::inputs::model_dir::{check_fit, config_path, read_config};
use crate::inputs::{load_tokenizer, Split};
use crate::model::roberta::{RobertaConfig, RobertaForQuestionAnswering};
use crate::model::{run_on, weights, BackendTask};
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
}

pub fn prepare(args: &TrainArgs) -> Result<Prepared> {
    let hyper = args.hyper();
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
    let tok_path = args.tokenizer.as_ref().or(args.model.as_ref()).expect("clap requires --tokenizer without --model");
    let tok = load_tokenizer(tok_path)?;
    check_fit(&tok.tokenizer, tok_path, &config, &config_path(model_path), Some(args.window.max_seq_length))?;
    let pad_id = tok.tokenizer.pad_id();
    let pipeline =
        QaPipeline::new(tok.tokenizer, args.window.preprocess_config(!args.dynamic_padding), args.answers.decode_options())?;
    let train = pipeline.load(&args.train_file, Split::Train)?;
    let eval = args.validation_file.as_ref().map(|p| pipeline.load(p, Split::Validation)).transpose()?;
    let resume = match &args.resume {
        None => None,
        Some(p) if p.as_os_str() == "auto" => latest_checkpoint(&args.output_dir),
        Some(p) => {
            checkpoint::verify(p).map_err(|why| CliError::input(p, format!("not a valid checkpoint: {why}")))?;
            Some(p.clone())
        }
    };
    Ok(Prepared { args: args.clone(), hyper, config, tokenizer_dir: tok.dir, pad_id, train, eval, resume })
}

/// The newest valid checkpoint of a run directory (saying what was skipped), if any.
fn latest_checkpoint(run_dir: &Path) -> Option<PathBuf> {
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
            Some(f.dir)
        }
        None => {
            tracing::info!("no valid checkpoint in {}: starting from the beginning", run_dir.display());
            None
        }
    }
}

struct TrainTask<'a>(&'a Prepared);

impl BackendTask for TrainTask<'_> {
    type Output = Outcome;
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Outcome> {
        let p = self.0;
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
        };
        Trainer::new(spec, model, &device)?.run()
    }
}

/// Train as `args` say; a run stopped by a signal (after its checkpoint) is
/// [`CliError::Preempted`].
pub fn train(args: &TrainArgs) -> Result<Outcome> {
    let prepared = prepare(args)?;
    let r = &prepared.train.features.report;
    tracing::info!(
        "{} training questions → {} windows{}",
        r.examples,
        r.windows,
        prepared.eval.as_ref().map(|e| format!("; {} evaluation questions", e.dataset.len())).unwrap_or_default()
    );
    let text = serde_json::to_string_pretty(&prepared.hyper).expect("hyperparameters serialise") + "\n";
    fsio::write_atomic(&args.output_dir.join("train_args.json"), text.as_bytes())?;
    match run_on(args.backend, TrainTask(&prepared))? {
        Outcome::Preempted { signal, checkpoint } => Err(CliError::Preempted { signal, checkpoint }),
        finished => Ok(finished),
    }
}
