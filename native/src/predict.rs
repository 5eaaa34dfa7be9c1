//! Prediction with a trained model: an HF model directory + data → `predictions.json`,
//! `nbest_predictions.json` and `null_odds.json` exactly as utils_qa writes them (and with
//! `--raw-logits`, the start/end logits of every window as `logits.safetensors`); with
//! `--evaluate`, scored by the official scorer (`eval.json`). Used by `squadkit predict` and
//! `squadkit demo`.

use crate::args::{user_cache_dir, AnswerArgs, DeviceArgs, WindowArgs};
use crate::error::{CliError, Result};
use crate::inputs::model_dir::{check_fit, config_path, read_config};
use crate::inputs::{load_tokenizer, Split};
use crate::model::batch::Padding;
use crate::model::batch::{predict_logits, WindowLogits};
use crate::model::weights::{self, HostTensor};
use crate::model::{run_on, BackendKind, BackendTask};
use crate::output::{Inputs, OutputSet};
use crate::pipeline::{self, QaPipeline, WindowSet, ANSWER_FILES};
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
    /// Data to answer: SQuAD JSON, JSON lines, parquet (a file or the hub's directory: its
    /// `validation` split), or a `datasets` save_to_disk directory (a DatasetDict: its
    /// `validation` split).
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// Where to write the prediction files.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub output_dir: PathBuf,
    /// The tokenizer [default: the model directory].
    #[arg(long, value_name = "PATH")]
    pub tokenizer: Option<PathBuf>,
    #[command(flatten)]
    pub window: WindowArgs,
    #[arg(long, default_value_t = 8, value_parser = crate::args::at_least_one)]
    pub per_device_eval_batch_size: usize,
    #[command(flatten)]
    pub answers: AnswerArgs,
    /// Also write `logits.safetensors` (start_logits, end_logits: [windows, max window length]).
    #[arg(long)]
    pub raw_logits: bool,
    /// Also score the predictions against DATA's answers and write `eval.json`.
    #[arg(long)]
    pub evaluate: bool,
    #[command(flatten)]
    pub device: DeviceArgs,
}

struct PredictTask<'a> {
    args: &'a PredictArgs,
    set: &'a WindowSet,
    pad_id: u32,
    padding: Padding,
}

impl BackendTask for PredictTask<'_> {
    type Output = WindowLogits;
    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>, kind: BackendKind) -> Result<WindowLogits> {
        let device = devices.into_iter().next().expect("run_on gives a device");
        let (_, model, report) = weights::load_model_dir::<B::InnerBackend>(&self.args.model, &device)?;
        let model = model.with_kernels(kind.kernels());
        if report.fresh_qa_head() {
            let missing: Vec<&str> = report.missing.iter().map(String::as_str).collect();
            return Err(CliError::input(
                &report.weights_file,
                format!(
                    "has no QA head ({} missing): a base model cannot answer questions; fine-tune it with `squadkit train` first",
                    missing.join(", ")
                ),
            ));
        }
        let batch = self.args.per_device_eval_batch_size;
        Ok(predict_logits(&model, &self.set.features, batch, self.pad_id, &self.padding, &device))
    }
}

/// Predict, write the files, and score when asked.
pub fn predict(args: &PredictArgs) -> Result<Option<Evaluation>> {
    let out = &args.output_dir;
    let inputs = Inputs::new([Some(&args.model), Some(&args.data), args.tokenizer.as_ref()].into_iter().flatten());
    let mut files = OutputSet::new(&inputs);
    let extra = [args.raw_logits.then_some("logits.safetensors"), args.evaluate.then_some("eval.json")];
    for f in ANSWER_FILES.into_iter().chain(extra.into_iter().flatten()) {
        files.plan(&out.join(f))?;
    }
    let config = read_config(&args.model)?;
    let tok_path = args.tokenizer.as_ref().unwrap_or(&args.model);
    let tok = load_tokenizer(tok_path)?;
    check_fit(&tok.tokenizer, tok_path, &config, &config_path(&args.model), Some(args.window.max_seq_length))?;
    let pad_id = tok.tokenizer.pad_id();
    let pipeline = QaPipeline::new(tok.tokenizer, args.window.preprocess_config(false), args.answers.decode_options())?;
    let set = pipeline.load(&args.data, Split::Validation)?;
    let padding = args.device.padding(Some(args.per_device_eval_batch_size), args.window.max_seq_length);
    args.device.configure_runtime(&user_cache_dir())?;
    let logits = run_on(args.device.backend, &[0], PredictTask { args, set: &set, pad_id, padding })?;
    let decoded = pipeline::answers(&set.dataset, &set.features, logits.as_logits(), &pipeline.answers)?;
    let eval = args.evaluate.then(|| pipeline::score(&set.dataset, &decoded)).transpose()?;
    pipeline::write_answers(&mut files, out, &decoded)?;
    if args.raw_logits {
        let rows = set.features.windows.len();
        let t = |data: Vec<f32>| HostTensor { shape: vec![rows, logits.width], data };
        let tensors = [("start_logits".into(), t(logits.start)), ("end_logits".into(), t(logits.end))];
        files.bytes(&out.join("logits.safetensors"), &weights::serialize_safetensors(&tensors))?;
    }
    if let Some(e) = &eval {
        files.bytes(&out.join("eval.json"), e.to_json(false).as_bytes())?;
    }
    files.commit()?;
    Ok(eval)
}
