//! squadkit-model: `RobertaForQuestionAnswering` in burn, shared by the CLI (`native/`) and the
//! browser's model worker (`web/worker/`): one model definition, built for every target.
//!
//! - [`roberta`]: the architecture, HF parameter names kept;
//! - [`weights`]: HF tensors from and to safetensors bytes, checked against the config;
//! - [`batch`]: core's windows into model inputs, and logits back out for core's decoding.
//!
//! No I/O and no backend of its own: callers choose the burn backend (and its device) and
//! read the files.

pub mod batch;
pub mod roberta;
pub mod weights;

pub use roberta::{RobertaConfig, RobertaForQuestionAnswering};
