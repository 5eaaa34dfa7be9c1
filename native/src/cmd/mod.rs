//! One module per `squadkit` subcommand.

pub mod decode;
pub mod evaluate;
pub mod prepare;
