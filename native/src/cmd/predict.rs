//! `squadkit predict`: an HF model directory + SQuAD data → `predictions.json`,
//! `nbest_predictions.json` and `null_odds.json` exactly as utils_qa writes them (and with
//! `--raw-logits`, the start/end logits of every window as `logits.safetensors`). With
//! `--evaluate`, the predictions are also scored (`eval.json`, the official script's keys).

use crate::cmd::train::{check_fit, load_tokenizer, windows};
use crate::error::{CliError, Result};
use crate::fsio;
use crate::model::weights::{self, HostTensor};
use crate::model::{run_on, BackendKind, BackendTask};
use crate::trainer::{decode_and_score, predict_logits, WindowSet};
use burn::tensor::backend::AutodiffBackend;
use clap::Args;
use squadkit_core::Evaluation;
use std::path::PathBuf;

/// Predict answers with a trained model.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// The HF model directory (config.json, weights; the tokenizer unless --tokenizer).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// Data to answer (SQuAD JSON).
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// Where to write the prediction files.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub output_dir: PathBuf,
    /// The tokenizer [default: the model directory].
    #[arg(long, value_name = "PATH")]
    pub tokenizer: Option<PathBuf>,
    #[command(flatten)]
    pub window: super::WindowArgs,
    #[arg(long, default_value_t = 32)]
    pub per_device_eval_batch_size: usize,
    #[command(flatten)]
    pub answers: super::AnswerArgs,
    /// Also write `logits.safetensors` (start_logits, end_logits: [windows, max window length]).
    #[arg(long)]
    pub raw_logits: bool,
    /// Also score the predictions against DATA's answers and write `eval.json`.
    #[arg(long)]
    pub evaluate: bool,
    #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
    pub backend: BackendKind,
}

struct PredictTask<'a> {
    args: &'a PredictArgs,
    set: &'a WindowSet,
    pad_id: u32,
}

impl BackendTask for PredictTask<'_> {
    type Output = (Vec<f32>, Vec<f32>, usize);
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Self::Output> {
        let (_, model, _) = weights::load_model_dir::<B::InnerBackend>(&self.args.model, &device)?;
        Ok(predict_logits(&model, &self.set.features, self.args.per_device_eval_batch_size, self.pad_id, &device))
    }
}

/// Predict, write the files, and score when asked.
pub fn predict(args: &PredictArgs) -> Result<Option<Evaluation>> {
    let config = weights::read_config(&args.model)?;
    let tok_path = args.tokenizer.clone().unwrap_or_else(|| args.model.clone());
    let (tok, _) = load_tokenizer(&tok_path)?;
    check_fit(&tok, &tok_path, &config, &args.model.join("config.json"), args.window.max_seq_length)?;
    let pp = args.window.preprocess_config(false);
    pp.check().map_err(|e| CliError::Invalid(e.to_string()))?;
    let set = windows(&tok, &args.data, &pp)?;
    let (start, end, width) = run_on(args.backend, PredictTask { args, set: &set, pad_id: tok.pad_id() })?;
    let opts = args.answers.decode_options();
    let (decoded, eval) = decode_and_score(&set, &start, &end, width, &opts)?;
    let out = &args.output_dir;
    super::decode::write_decoded(out, &decoded)?;
    if args.raw_logits {
        let rows = set.features.windows.len();
        let t = |data: Vec<f32>| HostTensor { shape: vec![rows, width], data };
        let bytes = weights::serialize_safetensors(&[("start_logits".into(), t(start)), ("end_logits".into(), t(end))]);
        fsio::write_atomic(&out.join("logits.safetensors"), &bytes)?;
    }
    if args.evaluate {
        fsio::write_atomic(&out.join("eval.json"), eval.to_json(false).as_bytes())?;
        Ok(Some(eval))
    } else {
        Ok(None)
    }
}

pub fn run(args: &PredictArgs) -> Result<()> {
    let eval = predict(args)?;
    eprintln!("wrote predictions.json, nbest_predictions.json, null_odds.json to {}", args.output_dir.display());
    if let Some(e) = eval {
        println!("{}", e.to_json(false));
    }
    Ok(())
}
