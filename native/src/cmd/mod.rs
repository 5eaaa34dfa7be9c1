//! One module per `squadkit` subcommand.

pub mod evaluate;
