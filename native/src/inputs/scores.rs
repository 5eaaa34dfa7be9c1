//! What `evaluate` scores: a predictions file (question id → answer text) and a na_prob file
//! (question id → number), read by core's parsers; the errors name the file and JSON path.

use crate::error::Result;
use crate::fsio;
use squadkit_core::scorer::{parse_na_probs, parse_predictions, NaProbs, Predictions};
use std::path::Path;

pub fn load_predictions(path: &Path) -> Result<Predictions> {
    parse_predictions(&fsio::read(path)?)
        .map_err(|e| fsio::json_error(path, "predictions file (an object of id: answer text)", e))
}

pub fn load_na_probs(path: &Path) -> Result<NaProbs> {
    parse_na_probs(&fsio::read(path)?).map_err(|e| fsio::json_error(path, "na_prob file (an object of id: number)", e))
}
