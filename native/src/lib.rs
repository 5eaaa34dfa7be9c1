//! The `squadkit` binary's library: one module per subcommand, plus the file handling they
//! share (clear errors naming the file, atomic writes). Logic lives in `squadkit-core`.

pub mod allocator;
pub mod arrow_data;
pub mod checkpoint;
pub mod cmd;
pub mod data;
pub mod error;
pub mod features_file;
pub mod fsio;
pub mod logits;
pub mod runlog;
pub mod signals;
pub mod trainer;
pub mod model;
pub mod train;
