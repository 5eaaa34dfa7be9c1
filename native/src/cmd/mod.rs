//! One module per `squadkit` subcommand: thin adapters from a command line to the library's
//! layers ([`crate::inputs`], [`crate::pipeline`], [`crate::model`], [`crate::train`],
//! [`crate::predict`]). They never use each other.

pub mod decode;
pub mod demo;
pub mod download;
pub mod evaluate;
pub mod predict;
pub mod prepare;
pub mod sbatch;
pub mod train;
