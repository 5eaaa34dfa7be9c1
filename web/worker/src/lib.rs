//! squadkit-worker: the browser app's model, in a web worker of its own.
//!
//! - [`protocol`]: the messages between the app and the worker (serde only: the app links this
//!   crate without the model);
//! - [`engine`] (feature `engine`): a RoBERTa-QA model loaded from an HF directory's files (or
//!   the bundled demo model), one question answered and a dataset predicted, with core's
//!   preprocessing and decoding and the model crate's batches: the code `squadkit predict` runs;
//! - `worker` (wasm32): the worker's message loop.

pub mod protocol;

#[cfg(feature = "engine")]
pub mod engine;

#[cfg(all(feature = "engine", target_arch = "wasm32"))]
pub mod worker;
