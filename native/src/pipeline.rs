//! The QA pipeline between examples and answers, written once for `train`'s evaluation,
//! `predict`, `decode` and `demo`: a tokenizer and run_qa's window options turn examples into
//! windows ([`QaPipeline::windows`]); utils_qa's answer options turn the windows' start/end
//! logits into answers ([`answers`]), which the official scorer scores ([`score`]) and
//! [`write_answers`] writes as utils_qa does. The model between the two stages is
//! [`crate::model::batch::predict_logits`].

use crate::error::{CliError, Result};
use crate::inputs::{load_dataset, Split};
use crate::output::OutputSet;
use squadkit_core::decode::{decode_with, DecodeError, DecodeOptions, Decoded, ExamplePrediction, Logits};
use squadkit_core::preprocess::{preprocess, Features, PreprocessConfig};
use squadkit_core::scorer::ScoreOptions;
use squadkit_core::tokenize::QaTokenizer;
use squadkit_core::{Dataset, Evaluation, GoldStandard, Scorer};
use std::path::Path;

/// Examples and their windows.
pub struct WindowSet {
    pub dataset: Dataset,
    pub features: Features,
}

/// The two ends of extractive QA around a model.
pub struct QaPipeline {
    pub tokenizer: QaTokenizer,
    /// run_qa's preprocessing (`--max-seq-length`, `--doc-stride`, padding).
    pub windows: PreprocessConfig,
    /// utils_qa's postprocessing (`--n-best-size`, `--max-answer-length`, the null threshold).
    pub answers: DecodeOptions,
}

impl QaPipeline {
    /// A pipeline whose window options are checked (a stride that leaves no room, ...; the
    /// answer options are checked by core's decoding).
    pub fn new(tokenizer: QaTokenizer, windows: PreprocessConfig, answers: DecodeOptions) -> Result<QaPipeline> {
        windows.check()?;
        Ok(QaPipeline { tokenizer, windows, answers })
    }

    /// Windows of a dataset read from `path` (any format; `split` of a multi-split input).
    /// Examples to answer must have distinct ids (they key the answer files).
    pub fn load(&self, path: &Path, split: Split) -> Result<WindowSet> {
        let dataset = load_dataset(path, split)?;
        if split == Split::Validation {
            distinct_ids(&dataset, path)?;
        }
        self.windows(dataset, path)
    }

    /// Windows of `dataset` (read from `path`, which errors name).
    pub fn windows(&self, dataset: Dataset, path: &Path) -> Result<WindowSet> {
        let features = preprocess(&self.tokenizer, &dataset, &self.windows).map_err(|e| CliError::input(path, e))?;
        Ok(WindowSet { dataset, features })
    }
}

/// Refuse a dataset to answer whose question ids repeat: the answer files are keyed by id, so
/// one answer would silently replace another (Python's dict would keep the last).
pub fn distinct_ids(dataset: &Dataset, path: &Path) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(dataset.examples.len());
    match dataset.examples.iter().find(|e| !seen.insert(e.id.as_str())) {
        Some(e) => Err(CliError::input(
            path,
            format!(
                "question id {:?} is used more than once: the answer files are keyed by id; give each question its own id",
                e.id
            ),
        )),
        None => Ok(()),
    }
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

/// utils_qa's `postprocess_qa_predictions` over every example (on every core).
pub fn answers(dataset: &Dataset, features: &Features, logits: Logits, opts: &DecodeOptions) -> Result<Decoded, DecodeError> {
    decode_with(dataset, features, logits, opts, in_parallel)
}

/// Score decoded answers with the official scorer (the null odds as na_probs, when the
/// strategy has them).
pub fn score(dataset: &Dataset, decoded: &Decoded) -> Result<Evaluation> {
    let preds = decoded.predictions();
    let na = decoded.has_null_odds().then(|| decoded.null_odds());
    let gold = GoldStandard::new(dataset);
    Ok(Scorer::new(&gold).evaluate(&preds, na.as_ref(), ScoreOptions::default())?)
}

/// The answer files in `dir`, as utils_qa writes them.
pub const ANSWER_FILES: [&str; 3] = ["predictions.json", "nbest_predictions.json", "null_odds.json"];

/// Add `predictions.json`, `nbest_predictions.json` and `null_odds.json` in `dir` to `set`, as
/// utils_qa writes them (they land together when the set is committed); the n-best file (most
/// of the bytes) in pieces of 256 examples formatted on every core.
pub fn write_answers(set: &mut OutputSet<'_>, dir: &Path, decoded: &Decoded) -> Result<()> {
    const PIECE: usize = 256;
    let [predictions, nbest, null_odds] = ANSWER_FILES.map(|f| dir.join(f));
    set.text(&predictions, |w| decoded.write_predictions_json(w))?;
    if !decoded.has_null_odds() {
        // The seed's argmax has no n-best lists or null odds: predictions.json alone, as the
        // blog writes it.
        return Ok(());
    }
    set.text(&null_odds, |w| decoded.write_null_odds_json(w))?;
    let n = decoded.examples.len();
    set.parts(&nbest, n.div_ceil(PIECE).max(1), |k, w| decoded.write_nbest_json_part(w, k * PIECE..((k + 1) * PIECE).min(n)))
}
