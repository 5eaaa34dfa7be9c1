//! The `squadkit` binary's library, in layers with one job each (logic on data itself lives
//! in `squadkit-core`):
//!
//! - [`inputs`]: everything read from disk (datasets in every format, tokenizers, model
//!   configs, feature caches, logits, predictions), errors naming the file;
//! - [`pipeline`]: examples → windows, logits → answers → scores, and the answer files;
//! - [`model`]: RoBERTa-QA in burn, HF weights in and out, the backends;
//! - [`train`]: the training run: loop, optimizer, data order, checkpoints, metrics;
//! - [`predict`]: a trained model over a dataset;
//! - [`cmd`]: one thin adapter per subcommand;
//! - shared: [`args`] (flag groups), [`error`] (the one error type and exit statuses),
//!   [`fsio`] (reads), [`output`] (the one write path: every file and standard output),
//!   [`logging`], [`signals`], [`allocator`].

pub mod allocator;
pub mod args;
pub mod cmd;
pub mod error;
pub mod fsio;
pub mod inputs;
pub mod logging;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod predict;
pub mod signals;
pub mod train;
