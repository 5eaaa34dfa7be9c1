//! Model configurations from disk and the fit check between a tokenizer and a model: ids
//! inside the embedding table, the same padding id, windows within the position embeddings.

use crate::error::{CliError, Result};
use crate::fsio;
use crate::model::roberta::RobertaConfig;
use squadkit_core::tokenize::QaTokenizer;
use std::path::{Path, PathBuf};

/// A model's `config.json`: the file, or the HF model directory holding it.
pub fn config_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("config.json")
    } else {
        path.to_path_buf()
    }
}

/// Read a RoBERTa config (a `config.json` or the directory holding it); the error names the file.
pub fn read_config(path: &Path) -> Result<RobertaConfig> {
    let file = config_path(path);
    RobertaConfig::from_json(squadkit_core::json::strip_bom(&fsio::read(&file)?)).map_err(|m| CliError::input(&file, m))
}

/// The tokenizer must fit the model: ids inside the embedding table, the same padding id, and
/// (when `max_seq_length` is given) windows within the position embeddings.
pub fn check_fit(
    tok: &QaTokenizer,
    tok_path: &Path,
    config: &RobertaConfig,
    config_path: &Path,
    max_seq_length: Option<usize>,
) -> Result<()> {
    use squadkit_model::roberta::FitError;
    match config.check_fit(tok, max_seq_length) {
        Ok(()) => Ok(()),
        Err(FitError::Length { len, max }) => Err(CliError::input(
            config_path,
            format!("--max-seq-length {len} is longer than the model's positions allow ({max})"),
        )),
        Err(e) => Err(CliError::input(tok_path, format!("{e} (the model: {})", config_path.display()))),
    }
}

/// The `vocab_size` of any HF model config (a config.json or the directory holding it).
pub fn model_vocab_size(path: &Path) -> Result<usize> {
    let file = config_path(path);
    let v: serde_json::Value = serde_json::from_slice(squadkit_core::json::strip_bom(&fsio::read(&file)?))
        .map_err(|e| CliError::input(&file, format!("not a model config (JSON): {e}")))?;
    v["vocab_size"]
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| CliError::input(&file, "no integer `vocab_size`: not a model config.json"))
}
