//! The feature cache `squadkit prepare` writes: every window of a dataset in one compact file.
//!
//! Layout (little-endian), read back with one read and no parsing per token:
//!
//! ```text
//! "SQKFEAT1"                      8 bytes magic
//! u64 header length, header JSON  config, split, tokenizer ids and vocab size, report, example ids
//! per window (16 bytes)           example u32, n_tokens u16, context_start u16, context_len u16,
//!                                 padded_len u16, start_position u16, end_position u16
//! token ids                       u32 per token, all windows back to back (no padding)
//! offsets                         (u32 start, u32 end) code points per token
//! ```
//!
//! The example ids tie the cache to its DATA: `decode` refuses a cache made from other data.

use crate::error::{CliError, Result};
use serde::{Deserialize, Serialize};
use squadkit_core::preprocess::{Features, PreprocessConfig, PreprocessReport, Recipe, Split, StartLabel, Window};
use std::path::Path;

const MAGIC: &[u8; 8] = b"SQKFEAT1";
const WINDOW_BYTES: usize = 16;

/// What the cache says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheHeader {
    pub max_seq_length: usize,
    pub doc_stride: usize,
    pub max_query_length: usize,
    pub pad_to_max_length: bool,
    pub start_label: String,
    /// `run-qa` or `seed` (absent in caches made before the seed recipe: run-qa).
    #[serde(default = "run_qa")]
    pub recipe: String,
    pub split: String,
    /// Ids the model's embedding table must cover: ids are below this.
    pub vocab_size: usize,
    pub pad_id: u32,
    pub cls_id: u32,
    pub windows: usize,
    pub tokens: usize,
    pub report: serde_json::Value,
    pub example_ids: Vec<String>,
}

fn run_qa() -> String {
    Recipe::RunQa.name().into()
}

/// A feature cache in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureCache {
    pub header: CacheHeader,
    pub features: Features,
}

impl FeatureCache {
    pub fn new(
        features: Features,
        split: Split,
        example_ids: Vec<String>,
        vocab_size: usize,
        pad_id: u32,
        cls_id: u32,
    ) -> FeatureCache {
        let c = &features.config;
        let header = CacheHeader {
            max_seq_length: c.max_seq_length,
            doc_stride: c.doc_stride,
            max_query_length: c.max_query_length,
            pad_to_max_length: c.pad_to_max_length,
            start_label: match c.start_label {
                StartLabel::RunQa => "run-qa".into(),
                StartLabel::WithinContext => "within-context".into(),
            },
            recipe: c.recipe.name().into(),
            split: match split {
                Split::Train => "train".into(),
                Split::Validation => "validation".into(),
            },
            vocab_size,
            pad_id,
            cls_id,
            windows: features.windows.len(),
            tokens: features.windows.iter().map(Window::n_tokens).sum(),
            report: serde_json::to_value(&features.report).expect("a report serialises"),
            example_ids,
        };
        FeatureCache { header, features }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("a header serialises");
        let n = self.features.windows.len();
        let t = self.header.tokens;
        let mut out = Vec::with_capacity(16 + header.len() + n * WINDOW_BYTES + t * 12);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        for w in &self.features.windows {
            out.extend_from_slice(&w.example.to_le_bytes());
            for v in [w.n_tokens() as u16, w.context_start, w.context_len, w.padded_len, w.start_position, w.end_position] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        for w in &self.features.windows {
            for id in &w.input_ids {
                out.extend_from_slice(&id.to_le_bytes());
            }
        }
        for w in &self.features.windows {
            for (s, e) in &w.offsets {
                out.extend_from_slice(&s.to_le_bytes());
                out.extend_from_slice(&e.to_le_bytes());
            }
        }
        out
    }

    /// Parse a cache; `path` names the file in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<FeatureCache> {
        let bad = |what: &str| CliError::input(path, format!("not a squadkit feature cache: {what}"));
        if bytes.len() < 16 || &bytes[..8] != MAGIC {
            return Err(bad("wrong magic bytes (make one with `squadkit prepare`)"));
        }
        let hlen = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
        let body = bytes.get(16..).ok_or_else(|| bad("truncated"))?;
        let header: CacheHeader = serde_json::from_slice(body.get(..hlen).ok_or_else(|| bad("truncated header"))?)
            .map_err(|e| bad(&format!("header: {e}")))?;
        let (n, t) = (header.windows, header.tokens);
        let rest = &body[hlen..];
        if rest.len() != n * WINDOW_BYTES + t * 12 {
            return Err(bad(&format!("{} bytes of windows, expected {}", rest.len(), n * WINDOW_BYTES + t * 12)));
        }
        let (table, rest) = rest.split_at(n * WINDOW_BYTES);
        let (ids, offsets) = rest.split_at(t * 4);
        let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let mut windows = Vec::with_capacity(n);
        let mut pos = 0usize;
        for r in table.chunks_exact(WINDOW_BYTES) {
            let k = u16_at(r, 4) as usize;
            if pos + k > t {
                return Err(bad("window tokens run past the token table"));
            }
            let w = Window {
                example: u32_at(r, 0),
                input_ids: (pos..pos + k).map(|i| u32_at(ids, i * 4)).collect(),
                offsets: (pos..pos + k).map(|i| (u32_at(offsets, i * 8), u32_at(offsets, i * 8 + 4))).collect(),
                context_start: u16_at(r, 6),
                context_len: u16_at(r, 8),
                padded_len: u16_at(r, 10),
                start_position: u16_at(r, 12),
                end_position: u16_at(r, 14),
            };
            if w.context_range().end > k || w.len() < k || w.example as usize >= header.example_ids.len() {
                return Err(bad("inconsistent window"));
            }
            windows.push(w);
            pos += k;
        }
        let config = PreprocessConfig {
            max_seq_length: header.max_seq_length,
            doc_stride: header.doc_stride,
            max_query_length: header.max_query_length,
            pad_to_max_length: header.pad_to_max_length,
            start_label: if header.start_label == "within-context" { StartLabel::WithinContext } else { StartLabel::RunQa },
            recipe: match header.recipe.as_str() {
                "run-qa" => Recipe::RunQa,
                "seed" => Recipe::Seed,
                other => return Err(bad(&format!("unknown recipe {other:?} (run-qa or seed)"))),
            },
        };
        let report: PreprocessReport = serde_json::from_value(header.report.clone()).unwrap_or_default();
        Ok(FeatureCache { features: Features { config, windows, report }, header })
    }

    /// Refuse a model whose embedding table cannot hold the tokenizer's ids.
    pub fn check_vocab(&self, path: &Path, model_vocab_size: usize) -> Result<()> {
        if model_vocab_size < self.header.vocab_size {
            return Err(CliError::input(
                path,
                format!(
                    "the features were made with a tokenizer of {} tokens but the model has a vocabulary of {}: \
                     wrong tokenizer for this model",
                    self.header.vocab_size, model_vocab_size
                ),
            ));
        }
        Ok(())
    }
}

/// Load a feature cache and check that it was made from `dataset`'s examples (read from
/// `dataset_path`).
pub fn load_features(path: &Path, dataset: &squadkit_core::Dataset, dataset_path: &Path) -> Result<FeatureCache> {
    let cache = FeatureCache::from_bytes(path, &crate::fsio::map(path)?)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FeatureCache {
        let w = Window {
            example: 1,
            input_ids: vec![0, 7, 2, 2, 9, 10, 2],
            offsets: vec![(0, 0), (0, 3), (0, 0), (0, 0), (0, 2), (3, 5), (0, 0)],
            context_start: 4,
            context_len: 2,
            padded_len: 16,
            start_position: 4,
            end_position: 5,
        };
        let features = Features {
            config: PreprocessConfig::default(),
            windows: vec![w.clone(), Window { example: 0, ..w }],
            report: Default::default(),
        };
        FeatureCache::new(features, Split::Train, vec!["a".into(), "b".into()], 50265, 1, 0)
    }

    #[test]
    fn round_trips() {
        let c = sample();
        let back = FeatureCache::from_bytes(Path::new("f.bin"), &c.to_bytes()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn damaged_caches_are_refused_with_the_file_name() {
        let bytes = sample().to_bytes();
        for bad in [&bytes[..bytes.len() - 1], &b"PAR1xxxxxxxxxxxxxxxxxxx"[..], &bytes[..20]] {
            let e = FeatureCache::from_bytes(Path::new("f.bin"), bad).unwrap_err();
            assert!(e.to_string().starts_with("f.bin: not a squadkit feature cache"), "{e}");
            assert_eq!(e.exit_code(), 2);
        }
        let e = sample().check_vocab(Path::new("model"), 30522).unwrap_err();
        assert!(e.to_string().contains("50265 tokens but the model has a vocabulary of 30522"), "{e}");
    }
}
