//! `squadkit prepare`: DATA → windows (run_qa's features) in a feature cache, and/or JSON lines.

use crate::args::WindowArgs;
use crate::error::{CliError, Result};
use crate::inputs::features::FeatureCache;
use crate::inputs::model_dir::model_vocab_size;
use crate::inputs::{load_dataset, load_tokenizer};
use crate::output::{self, Inputs, OutputSet};
use clap::{Args, ValueEnum};
use squadkit_core::json::py_json_str;
use squadkit_core::preprocess::{preprocess, PreprocessConfig, Split, StartLabel};
use squadkit_core::Dataset;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// Training labels (start/end token, CLS when the answer is not in the window).
    Train,
    /// Evaluation windows: no labels in the JSON lines.
    Validation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartLabelArg {
    /// As run_qa: an answer starting in a window's last context token gets the window's last index.
    RunQa,
    /// Stop the start walk at the last context token (start <= end always).
    WithinContext,
}

/// Tokenize DATA into windows as HF run_qa does, for training and prediction.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// SQuAD JSON, JSON lines (flat HF layout), parquet (a file or the hub's directory), or a
    /// `datasets` save_to_disk directory; of a multi-split input, the split of --split.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// tokenizer.json, a vocab.json (merges.txt beside it), or a directory with either.
    #[arg(long, value_name = "PATH")]
    pub tokenizer: PathBuf,
    #[command(flatten)]
    pub window: WindowArgs,
    #[arg(long, value_enum, default_value_t = SplitArg::Validation)]
    pub split: SplitArg,
    /// Do not pad windows to --max-seq-length (dynamic padding is then the trainer's job).
    #[arg(long)]
    pub no_padding: bool,
    #[arg(long, value_enum, default_value_t = StartLabelArg::RunQa)]
    pub start_label: StartLabelArg,
    /// The feature cache to write.
    #[arg(long, value_name = "FEATURES", alias = "out")]
    pub output_file: Option<PathBuf>,
    /// Also write the windows as JSON lines.
    #[arg(long, value_name = "OUT.jsonl")]
    pub jsonl: Option<PathBuf>,
    /// A model's config.json (or its directory): refuse a tokenizer with ids beyond its vocab_size.
    #[arg(long, value_name = "CONFIG")]
    pub model_config: Option<PathBuf>,
}

pub fn run(args: &PrepareArgs) -> Result<()> {
    if args.output_file.is_none() && args.jsonl.is_none() {
        return Err(CliError::Invalid("nothing to write: give --output-file FEATURES and/or --jsonl OUT.jsonl".into()));
    }
    let inputs = Inputs::new([Some(&args.data), Some(&args.tokenizer), args.model_config.as_ref()].into_iter().flatten());
    let mut outputs = OutputSet::new(&inputs);
    for path in [&args.output_file, &args.jsonl].into_iter().flatten() {
        outputs.plan(path)?;
    }
    let config = PreprocessConfig {
        start_label: match args.start_label {
            StartLabelArg::RunQa => StartLabel::RunQa,
            StartLabelArg::WithinContext => StartLabel::WithinContext,
        },
        ..args.window.preprocess_config(!args.no_padding)
    };
    config.check()?;
    let split = match args.split {
        SplitArg::Train => Split::Train,
        SplitArg::Validation => Split::Validation,
    };
    let tokenizer = load_tokenizer(&args.tokenizer)?.tokenizer;
    if let Some(config) = &args.model_config {
        let n = model_vocab_size(config)?;
        if tokenizer.vocab_size() > n {
            return Err(CliError::input(
                &args.tokenizer,
                format!(
                    "this tokenizer has {} tokens but the model ({}) has a vocabulary of {n}: wrong tokenizer for this model",
                    tokenizer.vocab_size(),
                    config.display()
                ),
            ));
        }
    }
    let dataset = load_dataset(&args.data, split)?;
    let features = preprocess(&tokenizer, &dataset, &config).map_err(|e| CliError::input(&args.data, e.to_string()))?;
    let r = &features.report;
    tracing::info!(
        file = %args.data.display(),
        examples = r.examples,
        windows = r.windows,
        windows_per_example = format!("{:.3}", r.windows_per_example()),
        answers_lost = r.answers_lost,
        questions_truncated = r.questions_truncated,
        "prepared"
    );
    if r.questions_truncated > 0 {
        tracing::warn!(
            count = r.questions_truncated,
            max_query_length = config.max_query_length,
            "questions cut to leave room for context"
        );
    }
    let ids = dataset.examples.iter().map(|e| e.id.clone()).collect();
    let cache = FeatureCache::new(features, split, ids, tokenizer.vocab_size(), tokenizer.pad_id(), tokenizer.cls_id());
    // Both files land together, or neither.
    if let Some(out) = &args.output_file {
        outputs.bytes(out, &cache.to_bytes())?;
    }
    if let Some(path) = &args.jsonl {
        outputs.bytes(path, jsonl_lines(&cache, &dataset, split, tokenizer.pad_id()).as_bytes())?;
    }
    outputs.commit()?;
    let mut report = serde_json::to_value(&cache.features.report).expect("a report serialises");
    report["windows_per_example"] = serde_json::json!(cache.features.report.windows_per_example());
    output::println(report)?;
    Ok(())
}

/// One JSON object per window: example_id, input_ids (padded as the config pads), offsets
/// (null outside the context), and for training the labels.
pub fn jsonl_lines(cache: &FeatureCache, dataset: &Dataset, split: Split, pad_id: u32) -> String {
    let mut s = String::new();
    for w in &cache.features.windows {
        let id = &dataset.examples[w.example as usize].id;
        s.push_str("{\"example_id\": ");
        s.push_str(&py_json_str(id));
        s.push_str(", \"input_ids\": [");
        for i in 0..w.len() {
            if i > 0 {
                s.push_str(", ");
            }
            write!(s, "{}", w.input_id(i, pad_id)).expect("writing to a String");
        }
        s.push_str("], \"offsets\": [");
        for i in 0..w.len() {
            if i > 0 {
                s.push_str(", ");
            }
            match w.context_offset(i) {
                Some((a, b)) => write!(s, "[{a}, {b}]").expect("writing to a String"),
                None => s.push_str("null"),
            }
        }
        s.push(']');
        match split {
            Split::Train => write!(s, ", \"start_position\": {}, \"end_position\": {}", w.start_position, w.end_position)
                .expect("writing to a String"),
            Split::Validation => s.push_str(", \"start_position\": null, \"end_position\": null"),
        }
        s.push_str("}\n");
    }
    s
}
