//! One module per `squadkit` subcommand.

pub mod decode;
pub mod demo;
pub mod download;
pub mod evaluate;
pub mod predict;
pub mod prepare;
pub mod sbatch;
pub mod train;
