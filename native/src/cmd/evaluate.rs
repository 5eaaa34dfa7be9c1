//! `squadkit evaluate`: a drop-in for the official "Evaluation Script v2.0".
//!
//! Same positional arguments and flags (`-o`, `-n`, `-t`, `-p`, `-v`), same JSON on stdout
//! (or in the `-o` file), same numbers. Beyond the script: missing predictions are an error
//! unless `--allow-missing`, `--per-question` writes one JSON line per question, and a
//! terminal gets a readable table.

use crate::error::{CliError, Result};
use crate::inputs::scores::{load_na_probs, load_predictions};
use crate::inputs::{load_dataset, Split};
use crate::output::{self, Inputs, OutputSet};
use clap::{Args, ValueEnum};
use squadkit_core::report::{na_prob_histogram_svg, pr_curve_svg};
use squadkit_core::scorer::{MissingPredictions, ScoreError, ScoreOptions};
use squadkit_core::validate::validate;
use squadkit_core::{Evaluation, GoldStandard, Scorer};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A table on a terminal, the script's JSON otherwise.
    #[default]
    Auto,
    Json,
    Table,
}

/// Score a predictions file as the official SQuAD v2.0 script does.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Input data JSON file (official SQuAD format, v1.1 or v2.0; also JSON lines, parquet or a
    /// `datasets` directory, as `prepare` reads them).
    #[arg(value_name = "data.json")]
    pub data_file: PathBuf,
    /// Model predictions: a JSON object mapping question id to answer text ("" = no answer).
    #[arg(value_name = "pred.json")]
    pub pred_file: PathBuf,
    /// Write accuracy metrics to file (default is stdout).
    #[arg(short = 'o', long = "out-file", value_name = "eval.json")]
    pub out_file: Option<PathBuf>,
    /// Model estimates of probability of no answer.
    #[arg(short = 'n', long = "na-prob-file", value_name = "na_prob.json")]
    pub na_prob_file: Option<PathBuf>,
    /// Predict "" if no-answer probability exceeds this.
    #[arg(short = 't', long = "na-prob-thresh", default_value_t = 1.0, allow_negative_numbers = true)]
    pub na_prob_thresh: f64,
    /// Save precision-recall curves and na_prob histograms (SVG) to directory (needs -n).
    #[arg(short = 'p', long = "out-image-dir", value_name = "out_images")]
    pub out_image_dir: Option<PathBuf>,
    /// List every dataset problem and every extra id instead of counts.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Score questions without a prediction as wrong instead of stopping.
    #[arg(long)]
    pub allow_missing: bool,
    /// Write one JSON line per question (id, prediction, na_prob, raw and final exact/f1, outcome).
    #[arg(long, value_name = "OUT.jsonl")]
    pub per_question: Option<PathBuf>,
    /// Output on stdout.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
}

pub fn run(args: &EvaluateArgs) -> Result<()> {
    let inputs = Inputs::new([Some(&args.data_file), Some(&args.pred_file), args.na_prob_file.as_ref()].into_iter().flatten());
    let mut outputs = OutputSet::new(&inputs);
    for path in [&args.out_file, &args.per_question].into_iter().flatten() {
        outputs.plan(path)?;
    }
    let dataset = load_dataset(&args.data_file, Split::Validation)?;
    let issues = validate(&dataset);
    if !issues.is_empty() {
        tracing::warn!(file = %args.data_file.display(), count = issues.len(), "dataset has integrity problems (scored anyway)");
        if args.verbose {
            for i in &issues {
                tracing::warn!("{i}");
            }
        }
    }
    let preds = load_predictions(&args.pred_file)?;
    let na_probs = args.na_prob_file.as_deref().map(load_na_probs).transpose()?;
    if args.out_image_dir.is_some() && na_probs.is_none() {
        tracing::warn!("-p/--out-image-dir draws nothing without -n/--na-prob-file (as the official script)");
    }

    let gold = GoldStandard::new(&dataset);
    let opts = ScoreOptions {
        na_prob_thresh: args.na_prob_thresh,
        missing: if args.allow_missing { MissingPredictions::ScoreAsWrong } else { MissingPredictions::Error },
        precision_recall: args.out_image_dir.is_some(),
    };
    let eval = Scorer::new(&gold).evaluate(&preds, na_probs.as_ref(), opts).map_err(|e| match e {
        ScoreError::MissingPredictions { .. } => {
            CliError::Invalid(format!("{}: {e} (use --allow-missing to score them as wrong)", args.pred_file.display()))
        }
        ScoreError::MissingNaProbs { .. } => {
            CliError::Invalid(format!("{}: {e}", args.na_prob_file.as_deref().unwrap_or(Path::new("")).display()))
        }
        ScoreError::Empty => CliError::input(&args.pred_file, e),
    })?;
    report_extras(args, &eval);

    write_outputs(&mut outputs, args, &eval, na_probs.is_some())?;
    outputs.commit()?;
    let table = match args.format {
        Format::Auto => std::io::stdout().is_terminal(),
        Format::Json => false,
        Format::Table => true,
    };
    if table {
        output::print(render_table(&eval))?;
    } else if args.out_file.is_none() {
        output::println(eval.to_json(true))?;
    }
    Ok(())
}

/// The charts (`-p`), the per-question lines and the `-o` file, into one set (they land together).
fn write_outputs(set: &mut OutputSet<'_>, args: &EvaluateArgs, eval: &Evaluation, have_na_probs: bool) -> Result<()> {
    if let (Some(dir), Some(pr)) = (&args.out_image_dir, &eval.precision_recall) {
        let charts = [
            ("pr_exact.svg", pr_curve_svg(&pr.exact, "Precision-Recall curve for Exact Match score")),
            ("pr_f1.svg", pr_curve_svg(&pr.f1, "Precision-Recall curve for F1 score")),
            ("pr_oracle.svg", pr_curve_svg(&pr.oracle, "Oracle Precision-Recall curve (binary task of HasAns vs. NoAns)")),
        ];
        for (name, svg) in charts {
            set.bytes(&dir.join(name), svg.as_bytes())?;
        }
    }
    if let Some(dir) = args.out_image_dir.as_ref().filter(|_| have_na_probs) {
        for (name, has) in [("hasAns", true), ("noAns", false)] {
            let values: Vec<f64> = eval.questions.iter().filter(|q| q.has_answer == has).filter_map(|q| q.na_prob).collect();
            if !values.is_empty() {
                let svg = na_prob_histogram_svg(&values, name);
                set.bytes(&dir.join(format!("na_prob_hist_{name}.svg")), svg.as_bytes())?;
            }
        }
    }
    if let Some(path) = &args.per_question {
        set.bytes(path, eval.per_question_jsonl().as_bytes())?;
    }
    if let Some(path) = &args.out_file {
        set.bytes(path, eval.to_json(false).as_bytes())?;
    }
    Ok(())
}

fn report_extras(args: &EvaluateArgs, eval: &Evaluation) {
    let lists = [
        ("predictions for ids not in the dataset (ignored)", &eval.extra_predictions),
        ("na_probs for ids not in the dataset (ignored)", &eval.extra_na_probs),
        ("questions without a prediction (scored as wrong)", &eval.missing_predictions),
    ];
    for (what, ids) in lists {
        if ids.is_empty() {
            continue;
        }
        if args.verbose {
            tracing::warn!(count = ids.len(), ids = %ids.join(", "), "{what}");
        } else {
            let first: Vec<&str> = ids.iter().take(3).map(String::as_str).collect();
            tracing::warn!(count = ids.len(), first = %first.join(", "), "{what}");
        }
    }
}

/// A human-readable score card: core's rows, then the outcome counts.
pub fn render_table(eval: &Evaluation) -> String {
    let mut s = String::new();
    for r in eval.score_card() {
        s.push_str(&format!("{:<18} {:>8}\n", r.label, r.value));
    }
    let counts = eval.outcome_counts();
    let parts: Vec<String> = counts.iter().map(|(o, n)| format!("{} {n}", o.label())).collect();
    s.push_str(&format!("outcomes: {}\n", parts.join(", ")));
    s
}
