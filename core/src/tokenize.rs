//! The RoBERTa byte-level BPE tokenizer, loaded from bytes, encoding with code-point offsets.
//!
//! [`QaTokenizer`] wraps the HF `tokenizers` crate, built with the same features on every
//! target (`unstable_wasm`: fancy-regex, no onig) so that native and wasm tokenize
//! identically. It loads from a `tokenizer.json` or from `vocab.json` + `merges.txt` (the
//! layout `RobertaTokenizerFast` converts from), always from bytes: the CLI reads the files,
//! the browser gets them from the user.
//!
//! [`QaTokenizer::encode`] tokenizes one text without special tokens; offsets are Unicode code
//! points with RoBERTa's trimmed offsets (a token's leading space is not part of its span), as
//! Python's `return_offsets_mapping` gives them. The pair template (`<s> Q </s></s> C </s>`) is
//! applied by [`crate::preprocess`], which checks it against the tokenizer's own post-processor
//! at load time.

use serde_json::{json, Map, Value};
use tokenizers::Tokenizer;

/// One text tokenized without special tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    /// `(start, end)` in code points of the encoded text, end exclusive.
    pub offsets: Vec<(u32, u32)>,
}

impl Encoded {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("not a usable tokenizer.json: {0}")]
    Load(String),
    #[error("not a usable vocab.json: {0}")]
    Vocab(String),
    #[error("not a usable merges.txt: line {line}: {message}")]
    Merges { line: usize, message: String },
    #[error("the tokenizer has no `{0}` token (a RoBERTa tokenizer needs <s>, </s> and <pad>)")]
    MissingToken(&'static str),
    #[error("the tokenizer's pair template is not RoBERTa's `<s> A </s></s> B </s>`: {0}")]
    Template(String),
    #[error("cannot tokenize: {0}")]
    Encode(String),
}

/// The RoBERTa tokenizer used by preprocessing.
#[derive(Clone)]
pub struct QaTokenizer {
    inner: Tokenizer,
    cls_id: u32,
    sep_id: u32,
    pad_id: u32,
}

impl std::fmt::Debug for QaTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QaTokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("cls_id", &self.cls_id)
            .field("sep_id", &self.sep_id)
            .field("pad_id", &self.pad_id)
            .finish()
    }
}

impl QaTokenizer {
    /// Load a `tokenizer.json` (HF `tokenizers` serialization).
    pub fn from_tokenizer_json(bytes: &[u8]) -> Result<QaTokenizer, TokenizerError> {
        let inner = Tokenizer::from_bytes(bytes).map_err(|e| TokenizerError::Load(e.to_string()))?;
        QaTokenizer::new(inner)
    }

    /// Build the tokenizer `RobertaTokenizerFast(vocab_file, merges_file)` builds: byte-level
    /// BPE, no normalizer, RoBERTa post-processing with trimmed offsets.
    pub fn from_vocab_merges(vocab_json: &[u8], merges_txt: &[u8]) -> Result<QaTokenizer, TokenizerError> {
        let vocab: Map<String, Value> = serde_json::from_slice(vocab_json).map_err(|e| TokenizerError::Vocab(e.to_string()))?;
        let merges_txt =
            std::str::from_utf8(merges_txt).map_err(|e| TokenizerError::Merges { line: 0, message: e.to_string() })?;
        let mut merges = Vec::new();
        for (i, line) in merges_txt.lines().enumerate() {
            if (i == 0 && line.starts_with("#version")) || line.is_empty() {
                continue;
            }
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() => merges.push(json!([a, b])),
                _ => {
                    return Err(TokenizerError::Merges {
                        line: i + 1,
                        message: format!("expected two symbols separated by one space, got {line:?}"),
                    })
                }
            }
        }
        let id_of = |t: &str| vocab.get(t).and_then(Value::as_u64);
        let mut added = Vec::new();
        for (token, lstrip) in [("<s>", false), ("<pad>", false), ("</s>", false), ("<unk>", false), ("<mask>", true)] {
            if let Some(id) = id_of(token) {
                added.push(json!({"id": id, "special": true, "content": token, "single_word": false,
                    "lstrip": lstrip, "rstrip": false, "normalized": true}));
            }
        }
        let sep = id_of("</s>").ok_or(TokenizerError::MissingToken("</s>"))?;
        let cls = id_of("<s>").ok_or(TokenizerError::MissingToken("<s>"))?;
        let spec = json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": added,
            "normalizer": null,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
            "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", sep], "cls": ["<s>", cls],
                "trim_offsets": true, "add_prefix_space": false},
            "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
            "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": Value::Object(vocab.clone()), "merges": merges},
        });
        let bytes = serde_json::to_vec(&spec).expect("a JSON value serialises");
        let inner = Tokenizer::from_bytes(bytes).map_err(|e| TokenizerError::Vocab(e.to_string()))?;
        QaTokenizer::new(inner)
    }

    fn new(mut inner: Tokenizer) -> Result<QaTokenizer, TokenizerError> {
        // Windows are cut by `preprocess`, never by the tokenizer.
        inner.with_truncation(None).map_err(|e| TokenizerError::Load(e.to_string()))?;
        inner.with_padding(None);
        let id = |t: &'static str| inner.token_to_id(t).ok_or(TokenizerError::MissingToken(t));
        let tok = QaTokenizer { cls_id: id("<s>")?, sep_id: id("</s>")?, pad_id: id("<pad>")?, inner };
        tok.check_pair_template()?;
        Ok(tok)
    }

    /// The pair template `preprocess` builds must be the one the tokenizer's post-processor
    /// builds (ids, sequence ids and offsets).
    fn check_pair_template(&self) -> Result<(), TokenizerError> {
        let (q, c) = ("Who wrote it?", "It was  written by Ada, in 1843.");
        let full = self.inner.encode_char_offsets((q, c), true).map_err(|e| TokenizerError::Template(e.to_string()))?;
        let (eq, ec) = (self.encode(q)?, self.encode(c)?);
        let mut ids = vec![self.cls_id];
        ids.extend(&eq.ids);
        ids.extend([self.sep_id, self.sep_id]);
        ids.extend(&ec.ids);
        ids.push(self.sep_id);
        let mut seq: Vec<Option<usize>> = vec![None];
        seq.extend(std::iter::repeat_n(Some(0), eq.len()));
        seq.extend([None, None]);
        seq.extend(std::iter::repeat_n(Some(1), ec.len()));
        seq.push(None);
        let offsets: Vec<(u32, u32)> = full.get_offsets().iter().map(|&(s, e)| (s as u32, e as u32)).collect();
        let mut want_offsets = vec![(0, 0)];
        want_offsets.extend(&eq.offsets);
        want_offsets.extend([(0, 0), (0, 0)]);
        want_offsets.extend(&ec.offsets);
        want_offsets.push((0, 0));
        if full.get_ids() != ids.as_slice() {
            return Err(TokenizerError::Template(format!("ids {:?}, expected {ids:?}", full.get_ids())));
        }
        if full.get_sequence_ids() != seq {
            return Err(TokenizerError::Template("sequence ids differ".into()));
        }
        if offsets != want_offsets {
            return Err(TokenizerError::Template(format!("offsets {offsets:?}, expected {want_offsets:?}")));
        }
        Ok(())
    }

    /// Tokenize `text` without special tokens; offsets in code points of `text`.
    pub fn encode(&self, text: &str) -> Result<Encoded, TokenizerError> {
        let enc = self.inner.encode_char_offsets(text, false).map_err(|e| TokenizerError::Encode(e.to_string()))?;
        Ok(Encoded {
            ids: enc.get_ids().to_vec(),
            offsets: enc.get_offsets().iter().map(|&(s, e)| (s as u32, e as u32)).collect(),
        })
    }

    /// Number of ids, added tokens included (50265 for roberta-base): a model's embedding
    /// table must have at least this many rows.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// `<s>`: the CLS/BOS token starting every window.
    pub fn cls_id(&self) -> u32 {
        self.cls_id
    }

    /// `</s>`: the separator.
    pub fn sep_id(&self) -> u32 {
        self.sep_id
    }

    /// `<pad>`.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// The wrapped HF tokenizer.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny byte-level BPE: enough to exercise loading, offsets and the template.
    pub(crate) fn tiny() -> QaTokenizer {
        let mut vocab = serde_json::Map::new();
        for (i, t) in ["<s>", "<pad>", "</s>", "<unk>"].iter().enumerate() {
            vocab.insert(t.to_string(), json!(i));
        }
        // Every byte symbol of the byte-level alphabet, so any text encodes.
        for (i, c) in tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet().into_iter().enumerate() {
            vocab.insert(c.to_string(), json!(4 + i));
        }
        let n = vocab.len();
        vocab.insert("Ġw".into(), json!(n));
        vocab.insert("<mask>".into(), json!(n + 1));
        let merges = "#version: 0.2\nĠ w\n";
        QaTokenizer::from_vocab_merges(&serde_json::to_vec(&vocab).unwrap(), merges.as_bytes()).unwrap()
    }

    #[test]
    fn vocab_and_merges_build_a_roberta_tokenizer() {
        let t = tiny();
        assert_eq!((t.cls_id(), t.pad_id(), t.sep_id()), (0, 1, 2));
        let e = t.encode("a wé").unwrap();
        // "a", "Ġw" (merged), and é as two byte tokens that both cover the one code point.
        assert_eq!(e.offsets, [(0, 1), (2, 3), (3, 4), (3, 4)]);
        assert_eq!(e.ids[1], t.inner().token_to_id("Ġw").unwrap());
    }

    #[test]
    fn bad_merges_name_the_line() {
        let vocab = br#"{"<s>": 0, "</s>": 1, "<pad>": 2}"#;
        let e = QaTokenizer::from_vocab_merges(vocab, b"#version: 0.2\na b c\n").unwrap_err();
        assert!(matches!(e, TokenizerError::Merges { line: 2, .. }), "{e}");
    }

    #[test]
    fn missing_special_tokens_are_named() {
        let e = QaTokenizer::from_vocab_merges(br#"{"a": 0}"#, b"").unwrap_err();
        assert!(e.to_string().contains("</s>"), "{e}");
        assert!(QaTokenizer::from_tokenizer_json(b"{}").is_err());
    }
}
