//! squadkit-core: extractive question answering on SQuAD, without I/O and without an ML
//! framework, so that the `squadkit` CLI and the browser app share one implementation.
//!
//! - [`squad`]: the data model (official JSON v1.1/v2.0, flattened into HF-layout examples).
//! - [`validate`]: integrity checks that report instead of failing.
//! - [`scorer`]: the official "Evaluation Script v2.0", number for number.
//! - [`chart`]: SVG charts as strings (one frame, nice 1-2-5 ticks; bars, lines, overlays).
//! - [`report`]: SVG charts of precision–recall curves and na_prob histograms.
//! - [`text`]: Python's text semantics (`str.lower`, `\w`, `str.split`) and code-point offsets.
//! - [`json`]: JSON read and written the way Python's `json` module does.
//! - [`tokenize`]: the RoBERTa tokenizer from bytes, with code-point offsets.
//! - [`preprocess`]: run_qa's windows (features) and training labels.
//! - [`decode`]: utils_qa's span decoding, float32 for float32.
//!
//! Every offset is in Unicode code points (Python `str` indices) unless its name says bytes.

pub mod chart;
pub mod decode;
pub mod json;
pub mod preprocess;
pub mod report;
pub mod scorer;
pub mod squad;
pub mod text;
pub mod tokenize;
pub mod validate;

pub use scorer::{Evaluation, GoldStandard, NaProbs, Predictions, ScoreOptions, Scorer};
pub use squad::{Answers, Dataset, Example, SquadFile};
