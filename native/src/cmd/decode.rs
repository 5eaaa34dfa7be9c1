//! `squadkit decode`: DATA + feature cache + logits → predictions.json, nbest_predictions.json,
//! null_odds.json, as utils_qa writes them (the files `squadkit evaluate -n` takes).

use crate::args::AnswerArgs;
use crate::error::{CliError, Result};
use crate::inputs::features::load_features;
use crate::inputs::logits::read_logits;
use crate::inputs::{load_dataset, Split};
use crate::output::{Inputs, OutputSet};
use crate::pipeline::{answers, distinct_ids, write_answers, ANSWER_FILES};
use clap::Args;
use squadkit_core::decode::{DecodeError, Logits};
use std::path::PathBuf;

/// Turn start/end logits into answers as HF utils_qa's postprocess_qa_predictions does.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The data the features were made from (any format `prepare` reads; the `validation`
    /// split of a multi-split input).
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// The feature cache written by `squadkit prepare`.
    #[arg(value_name = "FEATURES")]
    pub features: PathBuf,
    /// A .safetensors file with float32 `start_logits` and `end_logits` [windows, positions],
    /// or two .npy files (start, end); rows in the feature cache's order.
    #[arg(value_name = "LOGITS", num_args = 1..=2, required = true)]
    pub logits: Vec<PathBuf>,
    /// Directory for predictions.json, nbest_predictions.json and null_odds.json.
    #[arg(long, value_name = "DIR", alias = "out")]
    pub output_dir: PathBuf,
    #[command(flatten)]
    pub answers: AnswerArgs,
}

pub fn run(args: &DecodeArgs) -> Result<()> {
    let inputs = Inputs::new([&args.data, &args.features].into_iter().chain(&args.logits));
    let mut out = OutputSet::new(&inputs);
    for f in ANSWER_FILES {
        out.plan(&args.output_dir.join(f))?;
    }
    let t_load = std::time::Instant::now();
    let dataset = load_dataset(&args.data, Split::Validation)?;
    distinct_ids(&dataset, &args.data)?;
    let data_s = t_load.elapsed().as_secs_f64();
    let cache = load_features(&args.features, &dataset, &args.data)?;
    let features_s = t_load.elapsed().as_secs_f64() - data_s;
    let (start, end) = read_logits(&args.logits)?;
    let load_s = t_load.elapsed().as_secs_f64();
    let logits_file = args.logits.last().expect("clap requires one").as_path();
    if (start.rows, start.width) != (end.rows, end.width) {
        return Err(CliError::input(
            logits_file,
            format!("start logits are {}x{} but end logits {}x{}", start.rows, start.width, end.rows, end.width),
        ));
    }
    let opts = args.answers.decode_options();
    let logits = Logits { start: &start.data, end: &end.data, width: start.width };
    let t_decode = std::time::Instant::now();
    let decoded = answers(&dataset, &cache.features, logits, &opts).map_err(|e| match e {
        DecodeError::Rows { expected, got } => {
            CliError::input(logits_file, format!("{got} rows of logits but {} has {expected} windows", args.features.display()))
        }
        DecodeError::Width { expected, got } => CliError::input(
            logits_file,
            format!("rows of {got} positions but {} has windows of {expected} tokens", args.features.display()),
        ),
        other => CliError::input(logits_file, other.to_string()),
    })?;
    let decode_s = t_decode.elapsed().as_secs_f64();
    let t_write = std::time::Instant::now();
    write_answers(&mut out, &args.output_dir, &decoded)?;
    out.commit()?;
    let write_s = t_write.elapsed().as_secs_f64();
    let empty = decoded.examples.iter().filter(|p| p.prediction.is_empty()).count();
    tracing::info!(
        examples = decoded.examples.len(),
        windows = cache.features.windows.len(),
        no_answer = empty,
        out = %args.output_dir.display(),
        data_s = format!("{data_s:.3}"),
        features_s = format!("{features_s:.3}"),
        load_s = format!("{load_s:.3}"),
        decode_s = format!("{decode_s:.3}"),
        write_s = format!("{write_s:.3}"),
        "decoded"
    );
    Ok(())
}
