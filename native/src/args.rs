//! Flag groups that several subcommands share, defined once so that the same thing has the
//! same name, type and default everywhere (HF's names where HF has one; older spellings are
//! kept as hidden aliases).

use crate::model::batch::Padding;
use crate::model::{runtime, BackendKind};
use clap::{Args, ValueEnum};
use squadkit_core::decode::{DecodeOptions, Strategy};
use squadkit_core::preprocess::{PreprocessConfig, Recipe};
use std::path::{Path, PathBuf};

/// `--recipe`: whose windows and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum RecipeArg {
    /// HF run_qa's: overlapping windows every max-seq-length − doc-stride context tokens.
    #[default]
    RunQa,
    /// The seed blog's: one window per question (a long context is cut; no stride), the
    /// question stripped on both sides, padded to max length, the blog's labels.
    Seed,
}

/// `--strategy`: how answers are chosen from the logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum StrategyArg {
    /// utils_qa's: the best of the n-best spans inside the context vs the null score.
    #[default]
    Nbest,
    /// The seed blog's: argmax of start and of end; an answer only when end > start (one
    /// window per question: `--recipe seed`). Writes predictions.json only.
    Argmax,
}

/// run_qa's window options (`prepare`, `train`, `predict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct WindowArgs {
    /// Tokens per window: question, context part and special tokens.
    #[arg(long, default_value_t = 384)]
    pub max_seq_length: usize,
    /// Tokens that consecutive windows of a long context share.
    #[arg(long, default_value_t = 128)]
    pub doc_stride: usize,
    /// A question that would leave no room for context is cut to this many tokens (counted).
    #[arg(long, default_value_t = 64)]
    pub max_query_length: usize,
    /// Whose preprocessing: run_qa's windows, or the seed blog's one window per question
    /// (`seed` pads every window to max length and ignores --doc-stride).
    #[arg(long, value_enum, default_value_t = RecipeArg::RunQa)]
    pub recipe: RecipeArg,
}

impl Default for WindowArgs {
    fn default() -> Self {
        WindowArgs { max_seq_length: 384, doc_stride: 128, max_query_length: 64, recipe: RecipeArg::RunQa }
    }
}

impl WindowArgs {
    /// The preprocessing these options ask for (run_qa's start labels).
    pub fn preprocess_config(&self, pad_to_max_length: bool) -> PreprocessConfig {
        PreprocessConfig {
            max_seq_length: self.max_seq_length,
            doc_stride: self.doc_stride,
            max_query_length: self.max_query_length,
            pad_to_max_length,
            recipe: match self.recipe {
                RecipeArg::RunQa => Recipe::RunQa,
                RecipeArg::Seed => Recipe::Seed,
            },
            ..Default::default()
        }
    }
}

/// utils_qa's answer options (`postprocess_qa_predictions`), with run_qa's flag names
/// (`train`'s evaluation, `predict`, `decode`).
#[derive(Debug, Clone, Copy, PartialEq, Args)]
pub struct AnswerArgs {
    /// Candidate answers kept per question (nbest_predictions.json).
    #[arg(long, default_value_t = 20, alias = "n-best", value_parser = at_least_one)]
    pub n_best_size: usize,
    /// The longest answer, in tokens.
    #[arg(long, default_value_t = 30)]
    pub max_answer_length: usize,
    /// Predict "" when the null score minus the best span's score exceeds this (compared in
    /// float32, as utils_qa compares its float32 scores).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, alias = "null-threshold", value_parser = finite::<f32>)]
    pub null_score_diff_threshold: f32,
    /// How answers are chosen: utils_qa's n-best decoding, or the seed blog's argmax.
    #[arg(long, value_enum, default_value_t = StrategyArg::Nbest)]
    pub strategy: StrategyArg,
}

impl Default for AnswerArgs {
    fn default() -> Self {
        AnswerArgs { n_best_size: 20, max_answer_length: 30, null_score_diff_threshold: 0.0, strategy: StrategyArg::Nbest }
    }
}

impl AnswerArgs {
    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            n_best: self.n_best_size,
            max_answer_length: self.max_answer_length,
            null_threshold: self.null_score_diff_threshold,
            strategy: match self.strategy {
                StrategyArg::Nbest => Strategy::NBest,
                StrategyArg::Argmax => Strategy::Argmax,
            },
        }
    }
}

/// Where the model runs and how its batches are shaped (`train`, `predict`).
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct DeviceArgs {
    /// The burn backend: `cpu` (Flex), `wgpu` (Vulkan/Metal/DX12) or `cuda`.
    #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
    pub backend: BackendKind,
    /// Pad each batch's width up to a multiple of this (HF's `pad_to_multiple_of`) [default:
    /// 64 on wgpu and cuda, where each new width is new kernels to compile and tune; none on
    /// the CPU].
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub pad_to_multiple_of: Option<usize>,
    /// Keep compiled GPU kernels and autotune results under this directory, one subdirectory per
    /// GPU model, for later jobs of the run (and `--warmup-only`) to start warm [default:
    /// `train`: OUTPUT_DIR/kernel-cache; `predict`: ~/.cache/squadkit/kernel-cache].
    #[arg(long, value_name = "DIR")]
    pub kernel_cache: Option<PathBuf>,
}

impl Default for DeviceArgs {
    fn default() -> Self {
        DeviceArgs { backend: BackendKind::Cpu, pad_to_multiple_of: None, kernel_cache: None }
    }
}

impl DeviceArgs {
    /// How batches of `batch_size` windows of at most `max_width` tokens are padded: on a GPU
    /// widths are rounded up (`--pad-to-multiple-of`, default 64) and a last partial batch is
    /// filled up to `batch_size` rows (`None`: left short, as a dropped last batch needs no
    /// filling), so a run has a handful of shapes; on the CPU, to the longest window.
    pub fn padding(&self, batch_size: Option<usize>, max_width: usize) -> Padding {
        let gpu = self.backend.is_gpu();
        let multiple_of = self.pad_to_multiple_of.or(gpu.then_some(64));
        Padding { multiple_of, rows: batch_size.filter(|_| gpu), max_width }
    }

    /// The kernel cache directory of this process (GPU backends only):
    /// `(--kernel-cache or default_root/kernel-cache)/<GPU model>`.
    pub fn kernel_cache(&self, default_root: &Path) -> Option<PathBuf> {
        self.backend.is_gpu().then(|| {
            let root = self.kernel_cache.clone().unwrap_or_else(|| default_root.join("kernel-cache"));
            runtime::cache_dir(&root, self.backend)
        })
    }

    /// Set the GPU runtime's caches (before the device is first used; nothing on the CPU).
    pub fn configure_runtime(&self, default_root: &Path) -> crate::error::Result<()> {
        match self.kernel_cache(default_root) {
            Some(dir) => runtime::configure(Some(&dir)),
            None => Ok(()),
        }
    }
}

/// The user's cache directory for squadkit (`$XDG_CACHE_HOME/squadkit`, else
/// `~/.cache/squadkit`, else a `squadkit-cache` directory in the temporary directory).
pub fn user_cache_dir() -> PathBuf {
    let xdg = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
    let home = std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache"));
    match xdg.or(home) {
        Some(d) => d.join("squadkit"),
        None => std::env::temp_dir().join("squadkit-cache"),
    }
}

/// Why a flag's value was refused (clap prints it after the flag's name).
#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    #[error("{0}")]
    NotANumber(String),
    #[error("must be at least 1")]
    Zero,
    #[error("{0} is not a finite number")]
    NotFinite(String),
}

/// A count flag that must be at least 1.
pub fn at_least_one(s: &str) -> Result<usize, FlagError> {
    match s.parse::<usize>() {
        Ok(0) => Err(FlagError::Zero),
        Ok(n) => Ok(n),
        Err(e) => Err(FlagError::NotANumber(e.to_string())),
    }
}

/// A flag value that is a number (not NaN or infinite): `value_parser = finite::<f64>`.
pub fn finite<T>(s: &str) -> Result<T, FlagError>
where
    T: std::str::FromStr + Copy + Into<f64>,
    T::Err: std::fmt::Display,
{
    let v: T = s.parse().map_err(|e: T::Err| FlagError::NotANumber(e.to_string()))?;
    if v.into().is_finite() {
        Ok(v)
    } else {
        Err(FlagError::NotFinite(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        answers: AnswerArgs,
    }

    #[test]
    fn answer_flags_refuse_what_cannot_work_and_keep_old_spellings() {
        assert!(Flags::try_parse_from(["s", "--n-best-size", "0"]).is_err());
        assert!(Flags::try_parse_from(["s", "--null-score-diff-threshold", "NaN"]).is_err());
        let f = Flags::try_parse_from(["s", "--n-best", "5", "--null-threshold", "-1.5"]).unwrap();
        assert_eq!((f.answers.n_best_size, f.answers.null_score_diff_threshold), (5, -1.5));
        assert_eq!(Flags::parse_from(["s"]).answers, AnswerArgs::default());
    }
}
