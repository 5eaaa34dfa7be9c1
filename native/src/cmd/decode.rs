//! `squadkit decode`: DATA + feature cache + logits → predictions.json, nbest_predictions.json,
//! null_odds.json, as utils_qa writes them (the files `squadkit evaluate -n` takes).

use crate::data::load_dataset;
use crate::error::{CliError, Result};
use crate::features_file::FeatureCache;
use crate::fsio;
use crate::logits::read_logits;
use clap::Args;
use squadkit_core::decode::{decode_with, DecodeError, DecodeOptions, Decoded, ExamplePrediction, Logits};
use std::path::{Path, PathBuf};

/// Turn start/end logits into answers as HF utils_qa's postprocess_qa_predictions does.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The data the features were made from (any format `prepare` reads).
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
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 20)]
    pub n_best: usize,
    #[arg(long, default_value_t = 30)]
    pub max_answer_length: usize,
    /// Predict "" when null score - best span score exceeds this (compared in float32).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub null_threshold: f64,
}

/// Load a feature cache and check that it was made from `dataset_path`'s examples.
pub fn load_features(path: &Path, dataset: &squadkit_core::Dataset, dataset_path: &Path) -> Result<FeatureCache> {
    let cache = FeatureCache::from_bytes(path, &fsio::map(path)?)?;
    let ids = &cache.header.example_ids;
    let same = ids.len() == dataset.examples.len() && ids.iter().zip(&dataset.examples).all(|(a, e)| *a == e.id);
    if !same {
        let first = ids.iter().zip(&dataset.examples).position(|(a, e)| *a != e.id).unwrap_or(ids.len().min(dataset.len()));
        return Err(CliError::input(
            path,
            format!(
                "made from other data than {}: {} examples vs {}, first difference at example {first}",
                dataset_path.display(),
                ids.len(),
                dataset.len()
            ),
        ));
    }
    Ok(cache)
}

/// Decode contiguous ranges of examples on every core; results stay in example order.
fn in_parallel(n: usize, run: &(dyn Fn(std::ops::Range<usize>) -> Vec<ExamplePrediction> + Sync)) -> Vec<ExamplePrediction> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).min(n.max(1));
    let chunk = n.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..n).step_by(chunk).map(|a| s.spawn(move || run(a..(a + chunk).min(n)))).collect();
        parts.into_iter().flat_map(|p| p.join().expect("a decoding thread panicked")).collect()
    })
}

/// Write `predictions.json`, `nbest_predictions.json` and `null_odds.json` into `dir`, each
/// atomically; the n-best file (most of the bytes) in pieces of 256 examples formatted on
/// every core.
pub fn write_decoded(dir: &Path, decoded: &Decoded) -> Result<()> {
    const PIECE: usize = 256;
    fsio::write_atomic_text(&dir.join("predictions.json"), |w| decoded.write_predictions_json(w))?;
    fsio::write_atomic_text(&dir.join("null_odds.json"), |w| decoded.write_null_odds_json(w))?;
    let n = decoded.examples.len();
    fsio::write_atomic_parts(&dir.join("nbest_predictions.json"), n.div_ceil(PIECE).max(1), |k, w| {
        decoded.write_nbest_json_part(w, k * PIECE..((k + 1) * PIECE).min(n))
    })
}

pub fn run(args: &DecodeArgs) -> Result<()> {
    if args.n_best == 0 {
        return Err(CliError::Invalid("--n-best must be at least 1".into()));
    }
    let t_load = std::time::Instant::now();
    let dataset = load_dataset(&args.data)?;
    let data_s = t_load.elapsed().as_secs_f64();
    let cache = load_features(&args.features, &dataset, &args.data)?;
    let features_s = t_load.elapsed().as_secs_f64() - data_s;
    let (start, end) = read_logits(&args.logits)?;
    let load_s = t_load.elapsed().as_secs_f64();
    let logits_file = args.logits.last().expect("clap requires one").as_path();
    if (start.rows, start.width) != (end.rows, end.width) {
        return Err(CliError::input(logits_file, format!("start logits are {}x{} but end logits {}x{}", start.rows, start.width, end.rows, end.width)));
    }
    let opts = DecodeOptions {
        n_best: args.n_best,
        max_answer_length: args.max_answer_length,
        null_threshold: args.null_threshold as f32,
    };
    let logits = Logits { start: &start.data, end: &end.data, width: start.width };
    let t_decode = std::time::Instant::now();
    let decoded = decode_with(&dataset, &cache.features, logits, &opts, in_parallel).map_err(|e| match e {
        DecodeError::Rows { expected, got } => CliError::input(
            logits_file,
            format!("{got} rows of logits but {} has {expected} windows", args.features.display()),
        ),
        DecodeError::Width { expected, got } => CliError::input(
            logits_file,
            format!("rows of {got} positions but {} has windows of {expected} tokens", args.features.display()),
        ),
        other => CliError::input(logits_file, other.to_string()),
    })?;
    let decode_s = t_decode.elapsed().as_secs_f64();
    let t_write = std::time::Instant::now();
    write_decoded(&args.out, &decoded)?;
    let write_s = t_write.elapsed().as_secs_f64();
    let empty = decoded.examples.iter().filter(|p| p.prediction.is_empty()).count();
    tracing::info!(
        examples = decoded.examples.len(),
        windows = cache.features.windows.len(),
        no_answer = empty,
        out = %args.out.display(),
        data_s = format!("{data_s:.3}"),
        features_s = format!("{features_s:.3}"),
        load_s = format!("{load_s:.3}"),
        decode_s = format!("{decode_s:.3}"),
        write_s = format!("{write_s:.3}"),
        "decoded"
    );
    Ok(())
}
