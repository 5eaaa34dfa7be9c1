//! `squadkit demo`: the whole pipeline on a fresh machine, nothing downloaded.
//!
//! 1. writes the demo dataset that ships inside the binary (`examples/demo/`, made by
//!    `tools/gen_demo_data.py`: generated people, answerable and unanswerable questions, a
//!    held-out split with unseen names) to `OUT/data/`;
//! 2. trains a byte-level BPE tokenizer on the training split with the `tokenizers` trainer
//!    (RoBERTa's special tokens `<s> <pad> </s> <unk> <mask>`, pad id 1) → `OUT/tokenizer/`;
//! 3. trains a tiny RoBERTa from scratch on the CPU with `squadkit train`'s loop (progress bar,
//!    `OUT/metrics.jsonl`, evaluation each epoch, `OUT/final/` and `OUT/best/` as HF model
//!    directories);
//! 4. predicts the held-out split (`OUT/predictions.json`, `nbest_predictions.json`,
//!    `null_odds.json`), scores it with the official scorer (`OUT/eval.json`) and prints the
//!    scores beside the always-no-answer baseline.

use crate::args::{AnswerArgs, DeviceArgs, RecipeArg, StrategyArg, WindowArgs};
use crate::error::{CliError, Result};
use crate::model::BackendKind;
use crate::predict::{predict, PredictArgs};
use crate::train::{train, TrainCommand};
use clap::{Args, Parser, ValueEnum};
use squadkit_core::tokenize::QaTokenizer;
use std::path::{Path, PathBuf};

const DEMO_TRAIN: &[u8] = include_bytes!("../../../examples/demo/train.json");
const DEMO_DEV: &[u8] = include_bytes!("../../../examples/demo/dev.json");
const MARKER: &str = ".squadkit-demo";

/// Train and evaluate a tiny QA model on the bundled demo data (CPU, a few minutes).
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The run directory (replaced if it holds an earlier demo).
    #[arg(long, default_value = "squadkit-demo", alias = "out")]
    pub output_dir: PathBuf,
    #[arg(long, default_value_t = 14.0)]
    pub epochs: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Tokenizer vocabulary size (special tokens and the 256 byte symbols included).
    #[arg(long, default_value_t = 1000)]
    pub vocab_size: usize,
    #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
    pub backend: BackendKind,
    /// Whose preprocessing: run_qa's windows, or the seed blog's one window per question
    /// (with `--strategy argmax`: the blog's whole pipeline, to compare).
    #[arg(long, value_enum, default_value_t = RecipeArg::RunQa)]
    pub recipe: RecipeArg,
    /// How answers are chosen: utils_qa's n-best, or the seed blog's argmax.
    #[arg(long, value_enum, default_value_t = StrategyArg::Nbest)]
    pub strategy: StrategyArg,
    /// Only write the data, the trained tokenizer and the tiny model's config (`data/`,
    /// `tokenizer/tokenizer.json`, `tiny-config.json`), for your own `squadkit train` runs.
    #[arg(long)]
    pub prepare_only: bool,
}

/// Train the demo's byte-level BPE tokenizer on `texts`; returns `tokenizer.json` text.
pub fn train_tokenizer<'a>(texts: impl Iterator<Item = &'a str> + Send, vocab_size: usize) -> Result<String> {
    use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
    use tokenizers::models::TrainerWrapper;
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    use tokenizers::processors::roberta::RobertaProcessing;
    use tokenizers::{AddedToken, Tokenizer};
    let specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"].map(|t| AddedToken::from(t, true)).to_vec();
    let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
        .vocab_size(vocab_size)
        .min_frequency(2)
        .show_progress(false)
        .special_tokens(specials)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build()
        .into();
    let mut tk = Tokenizer::new(BPE::default());
    tk.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
    tk.with_post_processor(Some(
        RobertaProcessing::new(("</s>".into(), 2), ("<s>".into(), 0)).trim_offsets(true).add_prefix_space(false),
    ));
    tk.with_decoder(Some(ByteLevel::new(false, true, true)));
    tk.train(&mut trainer, texts).map_err(|e| CliError::Internal(format!("training the tokenizer failed: {e}")))?;
    let json = tk.to_string(true).map_err(|e| CliError::Internal(format!("cannot serialise the tokenizer: {e}")))?;
    // The ids preprocessing relies on.
    let qa = QaTokenizer::from_tokenizer_json(json.as_bytes())
        .map_err(|e| CliError::Internal(format!("the trained tokenizer is unusable: {e}")))?;
    if (qa.cls_id(), qa.pad_id(), qa.sep_id()) != (0, 1, 2) {
        return Err(CliError::Internal(format!(
            "special token ids {:?}, expected (0, 1, 2)",
            (qa.cls_id(), qa.pad_id(), qa.sep_id())
        )));
    }
    Ok(json)
}

/// The tiny RoBERTa's `config.json`.
pub fn tiny_config(vocab_size: usize, max_seq_length: usize) -> String {
    let c = serde_json::json!({
        "architectures": ["RobertaForQuestionAnswering"],
        "model_type": "roberta",
        "vocab_size": vocab_size,
        "hidden_size": 96,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "intermediate_size": 384,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": max_seq_length + 2,
        "type_vocab_size": 1,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-5,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2
    });
    serde_json::to_string_pretty(&c).expect("a config serialises") + "\n"
}

fn prepare_out(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !empty && !out.join(MARKER).exists() {
            return Err(CliError::input(out, "exists and is not a demo run directory: not touching it (use --output-dir)"));
        }
        if !empty {
            std::fs::remove_dir_all(out).map_err(|source| CliError::output(out, source))?;
        }
    }
    crate::output::write_owned(&out.join(MARKER), b"squadkit demo run directory\n")
}

/// What the demo's first stage leaves in the run directory.
struct DemoFiles {
    train: PathBuf,
    dev: PathBuf,
    tokenizer: PathBuf,
    config: PathBuf,
    vocab: usize,
}

/// The demo's data, its trained tokenizer and the tiny config, written into `out`.
fn write_inputs(args: &DemoArgs, out: &Path) -> Result<DemoFiles> {
    prepare_out(out)?;
    let (train, dev) = (out.join("data/train.json"), out.join("data/dev.json"));
    crate::output::write_owned(&train, DEMO_TRAIN)?;
    crate::output::write_owned(&dev, DEMO_DEV)?;
    tracing::info!("[1/4] training a byte-level BPE tokenizer on the demo questions and paragraphs");
    let train_set = squadkit_core::Dataset::from_squad_json(DEMO_TRAIN).expect("the bundled demo data parses");
    let mut texts: Vec<&str> = Vec::new();
    let mut last_context: Option<&str> = None;
    for e in &train_set.examples {
        if last_context != Some(&*e.context) {
            texts.push(&e.context);
            last_context = Some(&e.context);
        }
        texts.push(&e.question);
    }
    let tokenizer_json = train_tokenizer(texts.into_iter(), args.vocab_size)?;
    let tokenizer = out.join("tokenizer/tokenizer.json");
    crate::output::write_owned(&tokenizer, tokenizer_json.as_bytes())?;
    let vocab = QaTokenizer::from_tokenizer_json(tokenizer_json.as_bytes()).expect("checked above").vocab_size();
    let config = out.join("tiny-config.json");
    crate::output::write_owned(&config, tiny_config(vocab, WINDOW.max_seq_length).as_bytes())?;
    Ok(DemoFiles { train, dev, tokenizer, config, vocab })
}

/// The demo's windows: 128 tokens (the tiny model's positions), stride 32.
const WINDOW: WindowArgs = WindowArgs { max_seq_length: 128, doc_stride: 32, max_query_length: 32, recipe: RecipeArg::RunQa };

impl DemoArgs {
    fn window(&self) -> WindowArgs {
        WindowArgs { recipe: self.recipe, ..WINDOW }
    }

    fn answers(&self) -> AnswerArgs {
        AnswerArgs { strategy: self.strategy, ..AnswerArgs::default() }
    }
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let out = &args.output_dir;
    let files = write_inputs(args, out)?;
    if args.prepare_only {
        crate::output::println(out.display())?;
        tracing::info!("wrote data/, tokenizer/tokenizer.json and tiny-config.json to {}", out.display());
        return Ok(());
    }
    let questions = squadkit_core::Dataset::from_squad_json(DEMO_TRAIN).expect("the bundled demo data parses").len();
    tracing::info!(
        "[2/4] training a tiny RoBERTa (hidden 96, 3 layers, vocab {}) from scratch on {questions} questions",
        files.vocab
    );
    train_tiny(args, out, &files)?;
    tracing::info!("[3/4] predicting the held-out questions (unseen people)");
    let pargs = PredictArgs {
        model: out.join("final"),
        data: files.dev,
        output_dir: out.clone(),
        tokenizer: None,
        window: args.window(),
        per_device_eval_batch_size: 64,
        answers: args.answers(),
        raw_logits: false,
        evaluate: true,
        device: DeviceArgs { backend: args.backend, ..DeviceArgs::default() },
    };
    let eval = predict(&pargs)?.expect("evaluate was asked");
    tracing::info!("[4/4] scores on {} held-out questions (official SQuAD v2.0 scorer)", eval.overall.total);
    crate::output::print(report(&eval))?;
    crate::output::println(format_args!(
        "run directory: {} (final/ = HF model, predictions.json, metrics.jsonl, eval.json); {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    ))
}

/// The scores beside the always-no-answer baseline.
fn report(eval: &squadkit_core::Evaluation) -> String {
    use std::fmt::Write as _;
    let s = &eval.overall;
    let no_ans = eval.no_ans.as_ref().map(|n| n.total).unwrap_or(0);
    let baseline = 100.0 * no_ans as f64 / s.total.max(1) as f64;
    let mut text = format!("exact  {:6.2}\nf1     {:6.2}\n", s.exact, s.f1);
    if let Some(h) = &eval.has_ans {
        writeln!(text, "HasAns f1 {:6.2} ({} questions)", h.f1, h.total).expect("writing to a String");
    }
    if let Some(n) = &eval.no_ans {
        writeln!(text, "NoAns  f1 {:6.2} ({} questions)", n.f1, n.total).expect("writing to a String");
    }
    writeln!(text, "always-no-answer baseline f1 {baseline:6.2}").expect("writing to a String");
    text
}

/// `squadkit train` on the demo data with its own flags: HF's defaults but for what a tiny
/// model from scratch needs.
fn train_tiny(args: &DemoArgs, out: &Path, files: &DemoFiles) -> Result<()> {
    let (epochs, seed) = (args.epochs.to_string(), args.seed.to_string());
    let argv: [std::ffi::OsString; 35] = [
        "train".into(),
        "--config".into(),
        files.config.as_os_str().into(),
        "--tokenizer".into(),
        files.tokenizer.as_os_str().into(),
        "--train-file".into(),
        files.train.as_os_str().into(),
        "--validation-file".into(),
        files.dev.as_os_str().into(),
        "--output-dir".into(),
        out.as_os_str().into(),
        "--max-seq-length=128".into(),
        "--doc-stride=32".into(),
        "--max-query-length=32".into(),
        "--dynamic-padding".into(),
        "--group-by-length".into(),
        "--learning-rate=2e-3".into(),
        "--per-device-train-batch-size=32".into(),
        "--per-device-eval-batch-size=64".into(),
        "--num-train-epochs".into(),
        epochs.into(),
        "--warmup-ratio=0.1".into(),
        "--weight-decay=0.01".into(),
        "--seed".into(),
        seed.into(),
        "--logging-steps=10".into(),
        "--save-steps=0".into(),
        "--save-total-limit=1".into(),
        "--eval-strategy=epoch".into(),
        "--backend".into(),
        args.backend.name().into(),
        "--recipe".into(),
        args.recipe.to_possible_value().expect("a named value").get_name().into(),
        "--strategy".into(),
        args.strategy.to_possible_value().expect("a named value").get_name().into(),
    ];
    let targs = TrainCommand::parse_from(argv).args;
    debug_assert_eq!((targs.window, targs.answers), (args.window(), args.answers()));
    train(&targs)?;
    Ok(())
}
