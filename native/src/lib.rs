//! The `squadkit` binary's library: one module per subcommand, plus the file handling they
//! share (clear errors naming the file, atomic writes). Logic lives in `squadkit-core`.

pub mod cmd;
pub mod error;
pub mod fsio;
