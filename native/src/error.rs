//! The one error type of `squadkit`: what went wrong, with the file it concerns, and the exit
//! status that kind of failure gets (`main` maps it; nothing else exits the process).
//!
//! | kind | exit |
//! |---|---|
//! | bad input: a file missing, malformed or of the wrong kind ([`CliError::Input`]), or input that is well formed but unusable, and usage errors ([`CliError::Invalid`]) | 2 (as clap's usage errors) |
//! | a training run stopped by a signal after saving its checkpoint ([`CliError::Preempted`]) | 75 (`EX_TEMPFAIL`: the sbatch script requeues on it) |
//! | writing an output failed ([`CliError::Output`]), anything else ([`CliError::Internal`]) | 1 |
//! | standard output (or a stream output) is a pipe whose reader has gone ([`CliError::BrokenPipe`]) | 141, quietly (what a shell reports for a tool ended by SIGPIPE) |
//!
//! Core's errors convert with `From` (as bad input: they are all about the data given); where
//! the file is known, [`CliError::input`] names it.

use squadkit_core::decode::DecodeError;
use squadkit_core::preprocess::PreprocessError;
use squadkit_core::scorer::ScoreError;
use squadkit_core::tokenize::TokenizerError;
use std::path::{Path, PathBuf};

/// Exit status for bad input (a file that is missing, malformed or of the wrong kind) and
/// for usage errors, as clap uses.
pub const EXIT_INPUT: i32 = 2;
/// Exit status for any other failure.
pub const EXIT_FAILURE: i32 = 1;
/// Exit status when the reader of standard output has gone (128 + SIGPIPE).
pub const EXIT_BROKEN_PIPE: i32 = 141;
/// Exit status of a run stopped by a signal after saving its checkpoint ("try again later":
/// BSD's `EX_TEMPFAIL`). The `squadkit sbatch` script requeues the job when squadkit exits with it.
pub const EXIT_PREEMPTED: i32 = 75;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A problem with an input file: named, with what is wrong (and where, for JSON).
    #[error("{}: {message}", .path.display())]
    Input { path: PathBuf, message: String },
    /// Input that is well formed but cannot be used (for example, predictions missing), or
    /// options that do not go together.
    #[error("{0}")]
    Invalid(String),
    /// Writing an output failed.
    #[error("cannot write {}: {source}", .path.display())]
    Output { path: PathBuf, source: std::io::Error },
    /// A run stopped by a signal after saving this checkpoint (resume with `--resume`).
    #[error("stopped by {signal}; saved {} (resume with --resume)", .checkpoint.display())]
    Preempted { signal: &'static str, checkpoint: PathBuf },
    /// The reader of standard output (or of a stream output) has gone: nothing more to say.
    #[error("broken pipe")]
    BrokenPipe,
    /// Anything else: a failure of the machine or of squadkit, not of the input.
    #[error("{0}")]
    Internal(String),
}

impl CliError {
    pub fn input(path: &Path, message: impl std::fmt::Display) -> CliError {
        CliError::Input { path: path.to_path_buf(), message: message.to_string() }
    }

    pub fn output(path: &Path, source: std::io::Error) -> CliError {
        CliError::Output { path: path.to_path_buf(), source }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input { .. } | CliError::Invalid(_) => EXIT_INPUT,
            CliError::Preempted { .. } => EXIT_PREEMPTED,
            CliError::Output { .. } | CliError::Internal(_) => EXIT_FAILURE,
            CliError::BrokenPipe => EXIT_BROKEN_PIPE,
        }
    }
}

/// Core's errors are about the data given: bad input.
macro_rules! bad_input_from {
    ($($t:ty),*) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                CliError::Invalid(e.to_string())
            }
        }
    )*};
}

bad_input_from!(ScoreError, DecodeError, PreprocessError, TokenizerError);

pub type Result<T, E = CliError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_exit_status() {
        assert_eq!(CliError::input(Path::new("d.json"), "bad").exit_code(), 2);
        assert_eq!(CliError::input(Path::new("d.json"), "bad").to_string(), "d.json: bad");
        assert_eq!(CliError::from(ScoreError::Empty).exit_code(), 2);
        let p = CliError::Preempted { signal: "SIGUSR1", checkpoint: "run/checkpoint-3".into() };
        assert_eq!(p.exit_code(), 75);
        assert_eq!(p.to_string(), "stopped by SIGUSR1; saved run/checkpoint-3 (resume with --resume)");
        assert_eq!(CliError::Internal("x".into()).exit_code(), 1);
        assert_eq!(CliError::output(Path::new("o"), std::io::Error::other("full")).exit_code(), 1);
        assert_eq!(CliError::BrokenPipe.exit_code(), 141);
    }
}
