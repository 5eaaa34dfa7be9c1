//! The training loop of `squadkit train` (and `squadkit demo`): HF Trainer semantics with
//! step-level checkpoints that survive preemption.
//!
//! - Data order: every epoch is a permutation of the training windows drawn from a
//!   counter-based generator keyed by `(seed, epoch)`; with `group_by_length` it is regrouped
//!   as HF's `LengthGroupedSampler` does (mega-batches of 50 batches sorted by length, the
//!   longest batch first). The data position is therefore just `(epoch, step in epoch)`.
//! - RNG: the backend is reseeded with a value derived from `(seed, step)` before every step,
//!   so dropout masks depend only on the step: a resumed run draws exactly what an
//!   uninterrupted one draws. With the CPU backend (deterministic) an interrupted and resumed
//!   run ends with bit-identical weights.
//! - Gradient accumulation: the losses of `gradient_accumulation_steps` micro-batches, each
//!   divided by their number, are summed into one backward pass (activations of all
//!   micro-batches are held until then).
//! - Stop requests (SIGTERM/SIGUSR1/SIGINT, see [`crate::signals`]) are honoured after the
//!   current optimizer step: a checkpoint is saved and [`Outcome::Preempted`] returned. A loss
//!   that is NaN or infinite stops the run before the update, with the step number; no
//!   checkpoint is written after it, so the last one saved is the last good state.
//! - Evaluation (every N steps or every epoch, and at the end): windows → logits → core
//!   `decode` → core scorer; the best model (by F1) is saved as an HF directory `RUN/best`,
//!   the final one as `RUN/final`.
//!
//! Fault injection for the test suites: `SQUADKIT_FAULT=nan-at-step=N` multiplies the loss of
//! step N (1-based) by NaN.

use crate::checkpoint;
use crate::error::{CliError, Result};
use crate::fsio;
use crate::model::roberta::{qa_loss, QaInput, RobertaConfig, RobertaForQuestionAnswering};
use crate::model::weights::{self, HostTensor, TOKENIZER_FILES};
use crate::runlog::{MetricsLog, Progress};
use crate::signals::StopFlag;
use crate::train::optim::{AdamW, AdamWConfig, LinearSchedule};
use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, FloatDType, Int, Tensor, TensorData};
use serde_json::{json, Map, Value};
use squadkit_core::decode::{decode, DecodeOptions, Decoded, Logits};
use squadkit_core::preprocess::{Features, Window};
use squadkit_core::scorer::ScoreOptions;
use squadkit_core::{Dataset, Evaluation, GoldStandard, Scorer};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// When to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalStrategy {
    No,
    Steps,
    Epoch,
}

/// The hyperparameters, with the HF Trainer's names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hyper {
    pub learning_rate: f64,
    pub per_device_train_batch_size: usize,
    pub per_device_eval_batch_size: usize,
    pub gradient_accumulation_steps: usize,
    pub num_train_epochs: f64,
    /// > 0 overrides `num_train_epochs`.
    pub max_steps: i64,
    pub warmup_ratio: f64,
    /// > 0 overrides `warmup_ratio`.
    pub warmup_steps: usize,
    pub weight_decay: f64,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_epsilon: f64,
    pub max_grad_norm: f64,
    pub seed: u64,
    pub logging_steps: usize,
    /// 0 = only at the end (and on a stop request).
    pub save_steps: usize,
    pub save_total_limit: Option<usize>,
    pub eval_strategy: EvalStrategy,
    pub eval_steps: Option<usize>,
    pub group_by_length: bool,
    pub bf16: bool,
}

impl Default for Hyper {
    /// `TrainingArguments()` defaults.
    fn default() -> Self {
        Hyper {
            learning_rate: 5e-5,
            per_device_train_batch_size: 8,
            per_device_eval_batch_size: 8,
            gradient_accumulation_steps: 1,
            num_train_epochs: 3.0,
            max_steps: -1,
            warmup_ratio: 0.0,
            warmup_steps: 0,
            weight_decay: 0.0,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            max_grad_norm: 1.0,
            seed: 42,
            logging_steps: 500,
            save_steps: 500,
            save_total_limit: None,
            eval_strategy: EvalStrategy::No,
            eval_steps: None,
            group_by_length: false,
            bf16: false,
        }
    }
}

/// `trainer_state.json` of a checkpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainerState {
    /// Optimizer steps done (the schedule's position).
    pub global_step: u64,
    pub max_steps: u64,
    pub steps_per_epoch: u64,
    /// The data position: epoch and optimizer step within it of the next step.
    pub epoch: u64,
    pub step_in_epoch: u64,
    /// Seed of the data order and of the per-step RNG streams.
    pub seed: u64,
    pub best_f1: Option<f64>,
    pub best_step: Option<u64>,
    pub wall_time: f64,
    /// The hyperparameters the run started with.
    pub hyper: Hyper,
    /// A fingerprint of the training windows (count and total tokens): resuming on other data
    /// is refused.
    pub data_fingerprint: String,
}

/// A labelled or evaluation set: the examples and their windows.
pub struct WindowSet {
    pub dataset: Dataset,
    pub features: Features,
}

/// What a finished `train` call did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Finished { global_step: u64, last_eval: Option<Map<String, Value>> },
    /// Stopped by a signal after saving this checkpoint.
    Preempted { signal: &'static str, checkpoint: PathBuf },
}

/// Everything a run needs besides the model.
pub struct RunSpec<'a> {
    pub out: &'a Path,
    pub config: &'a RobertaConfig,
    pub hyper: &'a Hyper,
    pub train: &'a WindowSet,
    pub eval: Option<&'a WindowSet>,
    pub pad_id: u32,
    /// Directory with the tokenizer files copied into saved models.
    pub tokenizer_dir: Option<&'a Path>,
    pub decode: DecodeOptions,
    pub stop: StopFlag,
    /// Resume from this checkpoint directory.
    pub resume: Option<PathBuf>,
    /// Stop (as a signal would) after this many steps of this attempt (tests).
    pub stop_after: Option<u64>,
}

/// SplitMix64: a tiny counter-based generator whose stream depends only on its seed.
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// A seed derived from `(seed, stream, index)`.
pub fn derive_seed(seed: u64, stream: u64, index: u64) -> u64 {
    let mut r = SplitMix::new(seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
    r.next_u64()
}

/// The micro-batches of one epoch: window indices, in training order.
pub fn epoch_batches(lengths: &[usize], batch: usize, seed: u64, epoch: u64, group_by_length: bool) -> Vec<Vec<usize>> {
    let n = lengths.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix::new(derive_seed(seed, 1, epoch));
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    let batch = batch.max(1);
    if group_by_length {
        // LengthGroupedSampler: mega-batches of 50 batches, each sorted by length
        // (descending, stable), and the batch holding the longest window moved first.
        let mega = 50 * batch;
        for chunk in order.chunks_mut(mega) {
            chunk.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
        }
        let mut batches: Vec<Vec<usize>> = order.chunks(batch).map(<[usize]>::to_vec).collect();
        if let Some((longest, _)) =
            batches.iter().enumerate().max_by_key(|(i, b)| (b.iter().map(|&w| lengths[w]).max().unwrap_or(0), usize::MAX - i))
        {
            batches.swap(0, longest);
        }
        batches
    } else {
        order.chunks(batch).map(<[usize]>::to_vec).collect()
    }
}

/// Token ids and attention mask of `windows`, padded to the longest of them (with fixed
/// padding every window already has the full length).
pub fn batch_input<B: Backend>(windows: &[&Window], pad_id: u32, device: &B::Device) -> (QaInput<B>, usize) {
    let width = windows.iter().map(|w| w.len()).max().unwrap_or(1).max(1);
    let mut ids = Vec::with_capacity(windows.len() * width);
    let mut mask = Vec::with_capacity(windows.len() * width);
    let mut real = 0;
    for w in windows {
        for i in 0..width {
            ids.push(i64::from(w.input_id(i, pad_id)));
            mask.push(i64::from(i < w.n_tokens()));
        }
        real += w.n_tokens();
    }
    let shape = [windows.len(), width];
    (
        QaInput {
            input_ids: Tensor::from_data(TensorData::new(ids, shape), device),
            attention_mask: Tensor::from_data(TensorData::new(mask, shape), device),
        },
        real,
    )
}

fn labels<B: Backend>(windows: &[&Window], device: &B::Device) -> (Tensor<B, 1, Int>, Tensor<B, 1, Int>) {
    let s: Vec<i64> = windows.iter().map(|w| i64::from(w.start_position)).collect();
    let e: Vec<i64> = windows.iter().map(|w| i64::from(w.end_position)).collect();
    let n = windows.len();
    (Tensor::from_data(TensorData::new(s, [n]), device), Tensor::from_data(TensorData::new(e, [n]), device))
}

/// Start and end logits of every window (row-major `[windows, width]`, width = the longest
/// window), from a model in inference mode.
pub fn predict_logits<B: Backend>(
    model: &RobertaForQuestionAnswering<B>,
    features: &Features,
    batch: usize,
    pad_id: u32,
    device: &B::Device,
) -> (Vec<f32>, Vec<f32>, usize) {
    let width = features.windows.iter().map(|w| w.len()).max().unwrap_or(1);
    let mut start = vec![0f32; features.windows.len() * width];
    let mut end = vec![0f32; features.windows.len() * width];
    let mut row = 0;
    for chunk in features.windows.chunks(batch.max(1)) {
        let refs: Vec<&Window> = chunk.iter().collect();
        let (input, _) = batch_input::<B>(&refs, pad_id, device);
        let out = model.forward(input);
        let w = out.start_logits.dims()[1];
        let s = out.start_logits.into_data().convert::<f32>().to_vec::<f32>().expect("float logits");
        let e = out.end_logits.into_data().convert::<f32>().to_vec::<f32>().expect("float logits");
        for r in 0..chunk.len() {
            start[(row + r) * width..(row + r) * width + w].copy_from_slice(&s[r * w..(r + 1) * w]);
            end[(row + r) * width..(row + r) * width + w].copy_from_slice(&e[r * w..(r + 1) * w]);
        }
        row += chunk.len();
    }
    (start, end, width)
}

/// Decode logits and score them with the official scorer (na_probs = null odds).
pub fn decode_and_score(set: &WindowSet, start: &[f32], end: &[f32], width: usize, opts: &DecodeOptions) -> Result<(Decoded, Evaluation)> {
    let decoded = decode(&set.dataset, &set.features, Logits { start, end, width }, opts)
        .map_err(|e| CliError::Other(format!("decoding failed: {e}")))?;
    let (preds, na) = (decoded.predictions(), decoded.null_odds());
    let gold = GoldStandard::new(&set.dataset);
    let eval = Scorer::new(&gold)
        .evaluate(&preds, Some(&na), ScoreOptions::default())
        .map_err(|e| CliError::Other(format!("scoring failed: {e}")))?;
    Ok((decoded, eval))
}

/// The evaluation's numbers as a JSON object (the scorer's keys).
pub fn eval_fields(eval: &Evaluation) -> Map<String, Value> {
    eval.to_dict().into_iter().map(|(k, v)| (k, json!(v.as_f64()))).collect()
}

fn data_fingerprint(f: &Features) -> String {
    let tokens: usize = f.windows.iter().map(Window::n_tokens).sum();
    let labels: u64 = f.windows.iter().map(|w| u64::from(w.start_position) * 31 + u64::from(w.end_position)).sum();
    format!("{} windows, {tokens} tokens, labels {labels}, max_seq_length {}", f.windows.len(), f.config.max_seq_length)
}

fn checkpoint_files<B: AutodiffBackend>(
    spec: &RunSpec,
    model: &RobertaForQuestionAnswering<B>,
    opt: &AdamW<B>,
    state: &TrainerState,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = vec![
        ("config.json".to_string(), spec.config.to_qa_json().into_bytes()),
        ("model.safetensors".to_string(), weights::serialize_safetensors(&weights::model_to_tensors(model))),
        ("optimizer.safetensors".to_string(), weights::serialize_safetensors(&opt.export_moments())),
        ("trainer_state.json".to_string(), (serde_json::to_string_pretty(state).expect("state serialises") + "\n").into_bytes()),
    ];
    if let Some(dir) = spec.tokenizer_dir {
        for f in TOKENIZER_FILES {
            let p = dir.join(f);
            if p.exists() {
                files.push((f.to_string(), fsio::read(&p)?));
            }
        }
    }
    Ok(files)
}

/// Read a checkpoint: its state, model and optimizer moments.
pub fn read_checkpoint(dir: &Path) -> Result<(TrainerState, std::collections::BTreeMap<String, HostTensor>)> {
    let state_path = dir.join("trainer_state.json");
    let state: TrainerState = serde_json::from_slice(&fsio::read(&state_path)?)
        .map_err(|e| CliError::input(&state_path, format!("not a valid trainer state: {e}")))?;
    let opt_path = dir.join("optimizer.safetensors");
    let moments = weights::parse_safetensors(&fsio::read(&opt_path)?).map_err(|m| CliError::input(&opt_path, m))?;
    Ok((state, moments))
}

/// Run (or continue) training. `model` is the starting model (ignored weights when resuming:
/// the checkpoint's are loaded).
pub fn train<B: AutodiffBackend>(spec: RunSpec, mut model: RobertaForQuestionAnswering<B>, device: &B::Device) -> Result<Outcome> {
    let h = spec.hyper;
    let windows = &spec.train.features.windows;
    if windows.is_empty() {
        return Err(CliError::Invalid("the training data has no windows".into()));
    }
    let lengths: Vec<usize> = windows.iter().map(Window::len).collect();
    let micro = h.per_device_train_batch_size.max(1);
    let accum = h.gradient_accumulation_steps.max(1);
    let micro_per_epoch = windows.len().div_ceil(micro);
    let steps_per_epoch = micro_per_epoch.div_ceil(accum) as u64;
    let max_steps = if h.max_steps > 0 { h.max_steps as u64 } else { (h.num_train_epochs * steps_per_epoch as f64).ceil() as u64 };
    let warmup = if h.warmup_steps > 0 { h.warmup_steps } else { (h.warmup_ratio * max_steps as f64).ceil() as usize };
    let schedule = LinearSchedule { peak_lr: h.learning_rate, warmup_steps: warmup, total_steps: max_steps as usize };
    let mut opt = AdamW::<B>::new(AdamWConfig {
        beta1: h.adam_beta1,
        beta2: h.adam_beta2,
        eps: h.adam_epsilon,
        weight_decay: h.weight_decay,
        max_grad_norm: (h.max_grad_norm > 0.0).then_some(h.max_grad_norm),
    });
    let fingerprint = data_fingerprint(&spec.train.features);
    let mut state = TrainerState {
        global_step: 0,
        max_steps,
        steps_per_epoch,
        epoch: 0,
        step_in_epoch: 0,
        seed: h.seed,
        best_f1: None,
        best_step: None,
        wall_time: 0.0,
        hyper: h.clone(),
        data_fingerprint: fingerprint.clone(),
    };
    if let Some(dir) = &spec.resume {
        let (saved, moments) = read_checkpoint(dir)?;
        if saved.data_fingerprint != fingerprint || saved.max_steps != max_steps || saved.seed != h.seed {
            return Err(CliError::Invalid(format!(
                "{}: the checkpoint is of another run (data {:?}, {} steps, seed {}); this run has data {:?}, {} steps, seed {}",
                dir.display(), saved.data_fingerprint, saved.max_steps, saved.seed, fingerprint, max_steps, h.seed
            )));
        }
        let (_, m, _) = weights::load_model_dir::<B>(dir, device)?;
        model = m;
        opt.import_moments(moments, device).map_err(|m| CliError::input(&dir.join("optimizer.safetensors"), m))?;
        opt.steps = saved.global_step as usize;
        state = saved;
    }
    if h.bf16 {
        model = model.with_compute_dtype(Some(FloatDType::BF16));
    }
    let mut log = MetricsLog::open(spec.out, spec.resume.as_ref().map(|_| state.global_step))?;
    let wall0 = state.wall_time;
    let started = Instant::now();
    let wall = |started: &Instant| wall0 + started.elapsed().as_secs_f64();
    if spec.resume.is_some() {
        let mut f = Map::new();
        f.insert("step".into(), json!(state.global_step));
        f.insert("epoch".into(), json!(state.global_step as f64 / steps_per_epoch as f64));
        f.insert("wall_time".into(), json!(wall0));
        log.write("resume", f)?;
    }
    let progress = Progress::new(max_steps, state.global_step, h.logging_steps.max(1) as u64);
    let eval_every = match h.eval_strategy {
        EvalStrategy::No => None,
        EvalStrategy::Steps => Some(h.eval_steps.unwrap_or(h.logging_steps).max(1) as u64),
        EvalStrategy::Epoch => Some(steps_per_epoch),
    };
    let nan_at = std::env::var("SQUADKIT_FAULT").ok().and_then(|v| {
        v.split(',').find_map(|f| f.trim().strip_prefix("nan-at-step=").and_then(|n| n.parse::<u64>().ok()))
    });

    let mut plan: Option<(u64, Vec<Vec<usize>>)> = None;
    let (mut loss_sum, mut loss_n, mut samples, mut tokens) = (0f64, 0u64, 0usize, 0usize);
    let mut window_start = Instant::now();
    let mut last_eval = None;
    let mut steps_this_attempt = 0u64;
    while state.global_step < max_steps {
        let step = state.global_step; // 0-based index of this step
        let epoch = step / steps_per_epoch;
        let in_epoch = step % steps_per_epoch;
        if plan.as_ref().is_none_or(|(e, _)| *e != epoch) {
            plan = Some((epoch, epoch_batches(&lengths, micro, h.seed, epoch, h.group_by_length)));
        }
        let batches = &plan.as_ref().expect("just planned").1;
        let first = in_epoch as usize * accum;
        let micro_batches = &batches[first..(first + accum).min(batches.len())];
        B::seed(device, derive_seed(h.seed, 2, step));
        let mut total: Option<Tensor<B, 1>> = None;
        for mb in micro_batches {
            let refs: Vec<&Window> = mb.iter().map(|&i| &windows[i]).collect();
            let (input, real) = batch_input::<B>(&refs, spec.pad_id, device);
            let (s, e) = labels::<B>(&refs, device);
            let out = model.forward(input);
            let loss = qa_loss(&out, s, e) / micro_batches.len() as f64;
            total = Some(match total {
                Some(t) => t + loss,
                None => loss,
            });
            samples += refs.len();
            tokens += real;
        }
        let mut loss = total.expect("at least one micro-batch");
        if nan_at == Some(step + 1) {
            loss = loss * f64::NAN;
        }
        let loss_value: f64 = loss.clone().into_scalar().elem::<f64>();
        if !loss_value.is_finite() {
            progress.finish();
            let mut f = Map::new();
            f.insert("step".into(), json!(step + 1));
            f.insert("epoch".into(), json!((step + 1) as f64 / steps_per_epoch as f64));
            f.insert("loss".into(), json!(loss_value.to_string()));
            f.insert("wall_time".into(), json!(wall(&started)));
            log.write("stop", f)?;
            let last = checkpoint::list(spec.out).into_iter().find(|c| checkpoint::verify(&c.dir).is_ok());
            return Err(CliError::Other(format!(
                "the loss is {loss_value} at step {} (epoch {:.2}): stopping before the update; {}",
                step + 1,
                (step + 1) as f64 / steps_per_epoch as f64,
                match last {
                    Some(c) => format!("the last good checkpoint is {}", c.dir.display()),
                    None => "no checkpoint was saved yet".into(),
                }
            )));
        }
        let grads = loss.backward();
        let lr = schedule.lr(step as usize);
        let (m, stats) = opt.step(lr, model, &grads);
        model = m;
        state.global_step += 1;
        steps_this_attempt += 1;
        state.epoch = state.global_step / steps_per_epoch;
        state.step_in_epoch = state.global_step % steps_per_epoch;
        loss_sum += loss_value;
        loss_n += 1;
        let gs = state.global_step;
        let epoch_f = gs as f64 / steps_per_epoch as f64;
        progress.step(gs, max_steps, &format!("loss {:.4} lr {:.2e}", loss_sum / loss_n as f64, lr));
        if gs.is_multiple_of(h.logging_steps.max(1) as u64) || gs == max_steps {
            let secs = window_start.elapsed().as_secs_f64().max(1e-9);
            let mut f = Map::new();
            f.insert("step".into(), json!(gs));
            f.insert("epoch".into(), json!(epoch_f));
            f.insert("loss".into(), json!(loss_sum / loss_n as f64));
            f.insert("learning_rate".into(), json!(lr));
            f.insert("grad_norm".into(), json!(stats.grad_norm));
            f.insert("samples_per_second".into(), json!(samples as f64 / secs));
            f.insert("tokens_per_second".into(), json!(tokens as f64 / secs));
            f.insert("wall_time".into(), json!(wall(&started)));
            log.write("train", f)?;
            (loss_sum, loss_n, samples, tokens) = (0.0, 0, 0, 0);
            window_start = Instant::now();
        }
        let finished = gs == max_steps;
        if let Some(set) = spec.eval.filter(|_| eval_every.is_some_and(|n| gs.is_multiple_of(n)) || finished) {
            let inner = model.valid();
            let (s, e, w) = predict_logits(&inner, &set.features, h.per_device_eval_batch_size, spec.pad_id, device);
            let (_, eval) = decode_and_score(set, &s, &e, w, &spec.decode)?;
            let mut f = Map::new();
            f.insert("step".into(), json!(gs));
            f.insert("epoch".into(), json!(epoch_f));
            f.extend(eval_fields(&eval));
            f.insert("wall_time".into(), json!(wall(&started)));
            log.write("eval", f.clone())?;
            progress.println(&format!("eval at step {gs}: exact {:.2} f1 {:.2}", eval.overall.exact, eval.overall.f1));
            if state.best_f1.is_none_or(|b| eval.overall.f1 > b) {
                state.best_f1 = Some(eval.overall.f1);
                state.best_step = Some(gs);
                weights::save_model_dir(&model, spec.config, spec.tokenizer_dir, &spec.out.join("best"))?;
            }
            last_eval = Some(f);
        }
        let stop_signal = spec.stop.received().or_else(|| spec.stop_after.filter(|&n| steps_this_attempt >= n && !finished).map(|_| "--stop-after"));
        let save_now = finished || stop_signal.is_some() || (h.save_steps > 0 && gs.is_multiple_of(h.save_steps as u64));
        if save_now {
            state.wall_time = wall(&started);
            let files = checkpoint_files(&spec, &model, &opt, &state)?;
            let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
            let keep: Vec<u64> = state.best_step.into_iter().collect();
            let dir = checkpoint::save(spec.out, gs, &refs, h.save_total_limit, &keep)?;
            progress.println(&format!("saved {}", dir.display()));
            if let (Some(signal), false) = (stop_signal, finished) {
                progress.finish();
                let mut f = Map::new();
                f.insert("step".into(), json!(gs));
                f.insert("epoch".into(), json!(epoch_f));
                f.insert("signal".into(), json!(signal));
                f.insert("wall_time".into(), json!(state.wall_time));
                log.write("stop", f)?;
                return Ok(Outcome::Preempted { signal, checkpoint: dir });
            }
        }
    }
    progress.finish();
    weights::save_model_dir(&model, spec.config, spec.tokenizer_dir, &spec.out.join("final"))?;
    Ok(Outcome::Finished { global_step: state.global_step, last_eval })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_are_seeded_permutations() {
        let lengths = vec![10; 23];
        let a = epoch_batches(&lengths, 4, 42, 0, false);
        assert_eq!(a, epoch_batches(&lengths, 4, 42, 0, false));
        assert_ne!(a, epoch_batches(&lengths, 4, 42, 1, false));
        assert_eq!(a.len(), 6);
        let mut all: Vec<usize> = a.concat();
        all.sort();
        assert_eq!(all, (0..23).collect::<Vec<_>>());
    }

    #[test]
    fn length_grouping_keeps_every_window_and_pads_less() {
        let mut r = SplitMix::new(7);
        let lengths: Vec<usize> = (0..500).map(|_| 20 + r.below(100)).collect();
        let padded = |bs: &[Vec<usize>]| -> usize { bs.iter().map(|b| b.len() * b.iter().map(|&i| lengths[i]).max().unwrap()).sum() };
        let plain = epoch_batches(&lengths, 8, 1, 0, false);
        let grouped = epoch_batches(&lengths, 8, 1, 0, true);
        let mut all = grouped.concat();
        all.sort();
        assert_eq!(all, (0..500).collect::<Vec<_>>());
        assert!(padded(&grouped) < padded(&plain) * 8 / 10, "{} vs {}", padded(&grouped), padded(&plain));
        let longest = *lengths.iter().max().unwrap();
        assert!(grouped[0].iter().any(|&i| lengths[i] == longest), "the longest batch comes first");
    }
}
