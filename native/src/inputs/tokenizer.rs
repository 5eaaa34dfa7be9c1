//! The tokenizer from disk, in every form a RoBERTa user has: a `tokenizer.json`, a `vocab.json`
//! with its `merges.txt` beside it, or a directory (an HF model directory) holding either.

use crate::error::{CliError, Result};
use crate::fsio;
use squadkit_core::tokenize::{QaTokenizer, TokenizerError};
use std::path::{Path, PathBuf};

/// A tokenizer and the directory its files are in (copied into the model directories a
/// training run saves).
pub struct LoadedTokenizer {
    pub tokenizer: QaTokenizer,
    pub dir: PathBuf,
}

/// Load a tokenizer: a `tokenizer.json` file, a `vocab.json` (its `merges.txt` beside it), or
/// a directory with `tokenizer.json` (preferred) or `vocab.json` + `merges.txt`.
pub fn load_tokenizer(path: &Path) -> Result<LoadedTokenizer> {
    let parent = || path.parent().map(Path::to_path_buf).unwrap_or_default();
    if path.is_file() {
        if path.file_name().is_some_and(|n| n == "vocab.json") {
            let tokenizer = from_vocab_merges(path, &path.with_file_name("merges.txt"))?;
            return Ok(LoadedTokenizer { tokenizer, dir: parent() });
        }
        return Ok(LoadedTokenizer { tokenizer: from_json(path)?, dir: parent() });
    }
    if !path.is_dir() {
        return Err(CliError::input(path, "no such tokenizer file or directory"));
    }
    let json = path.join("tokenizer.json");
    let tokenizer = if json.exists() {
        from_json(&json)?
    } else if path.join("vocab.json").exists() {
        from_vocab_merges(&path.join("vocab.json"), &path.join("merges.txt"))?
    } else {
        return Err(CliError::input(path, "no tokenizer here: expected tokenizer.json, or vocab.json and merges.txt"));
    };
    Ok(LoadedTokenizer { tokenizer, dir: path.to_path_buf() })
}

fn from_json(path: &Path) -> Result<QaTokenizer> {
    QaTokenizer::from_tokenizer_json(&fsio::read(path)?).map_err(|e| CliError::input(path, e))
}

fn from_vocab_merges(vocab: &Path, merges: &Path) -> Result<QaTokenizer> {
    let (v, m) = (fsio::read(vocab)?, fsio::read(merges)?);
    QaTokenizer::from_vocab_merges(&v, &m).map_err(|e| {
        let file = if matches!(e, TokenizerError::Merges { .. }) { merges } else { vocab };
        CliError::input(file, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tokenizer.json");
        std::fs::write(&p, "{}").unwrap();
        let e = load_tokenizer(&p).err().unwrap();
        assert!(e.to_string().starts_with(&format!("{}: not a usable tokenizer.json", p.display())), "{e}");
        let e = load_tokenizer(&dir.path().join("nothing")).err().unwrap();
        assert_eq!(e.exit_code(), 2);
        let empty = tempfile::tempdir().unwrap();
        let e = load_tokenizer(empty.path()).err().unwrap();
        assert!(e.to_string().contains("expected tokenizer.json, or vocab.json and merges.txt"), "{e}");
        // vocab.json without its merges.txt: the missing file is named.
        std::fs::write(empty.path().join("vocab.json"), "{}").unwrap();
        let e = load_tokenizer(&empty.path().join("vocab.json")).err().unwrap();
        assert!(e.to_string().contains("merges.txt: cannot read"), "{e}");
    }
}
