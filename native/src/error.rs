//! The CLI's error type: what went wrong, with the file it concerns, and the exit status.

use std::path::{Path, PathBuf};

/// Exit status for bad input (a file that is missing, malformed or of the wrong kind) and
/// for usage errors, as clap uses.
pub const EXIT_INPUT: i32 = 2;
/// Exit status for any other failure.
pub const EXIT_FAILURE: i32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A problem with an input file: named, with what is wrong (and where, for JSON).
    #[error("{}: {message}", .path.display())]
    Input { path: PathBuf, message: String },
    /// Input that is well formed but cannot be used (for example, predictions missing).
    #[error("{0}")]
    Invalid(String),
    /// Writing an output failed.
    #[error("cannot write {}: {source}", .path.display())]
    Output { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Other(String),
}

impl CliError {
    pub fn input(path: &Path, message: impl Into<String>) -> CliError {
        CliError::Input { path: path.to_path_buf(), message: message.into() }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input { .. } | CliError::Invalid(_) => EXIT_INPUT,
            CliError::Output { .. } | CliError::Other(_) => EXIT_FAILURE,
        }
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;
