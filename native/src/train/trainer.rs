//! The training loop of `squadkit train` (and `squadkit demo`): HF Trainer semantics with
//! step-level checkpoints that survive preemption. [`Trainer`] holds a run's model, optimizer
//! and position; each stage is a method: [`Trainer::new`] (optimizer setup, resume),
//! [`Trainer::step`], [`Trainer::evaluate`], [`Trainer::save`], and [`Trainer::run`], which
//! strings them together until the last step or a stop request.
//!
//! - Data order and RNG: see [`super::order`]. The backend is reseeded with a value derived
//!   from `(seed, step)` before every step, so dropout masks depend only on the step: a resumed
//!   run draws exactly what an uninterrupted one draws. With the CPU backend (deterministic) an
//!   interrupted and resumed run ends with bit-identical weights.
//! - Gradient accumulation: the losses of `gradient_accumulation_steps` micro-batches, each
//!   divided by their number, are summed into one backward pass (activations of all
//!   micro-batches are held until then).
//! - Stop requests (SIGTERM/SIGUSR1/SIGINT/SIGHUP, see [`crate::signals`]) are honoured after the
//!   current optimizer step: a checkpoint is saved and [`Outcome::Preempted`] returned. A loss
//!   that is NaN or infinite stops the run before the update, with the step number; no
//!   checkpoint is written after it, so the last one saved is the last good state.
//! - Evaluation (every N steps or every epoch, and at the end): windows → logits → core
//!   `decode` → core scorer ([`crate::pipeline`]); the best model (by F1) is saved as an HF
//!   directory `RUN/best`, the final one as `RUN/final`.
//! - Shapes: every batch is padded as [`Padding`] says, so the run's batch shapes are known
//!   before it starts ([`Trainer::shapes`], logged); [`Trainer::warmup`] runs each once (on a
//!   GPU: compiles and tunes every kernel the run will use) and changes nothing.
//! - Devices (`--devices`): the trainer is rank 0; [`Trainer::run`] starts the other ranks on
//!   threads of their own ([`super::replicas`]). Each step's global micro-batches are split
//!   between the ranks, gradients summed across them, and every rank takes the same AdamW step;
//!   evaluation is shared and gathered here; only this rank logs and saves.
//! - Timing: the first step of an attempt (on a GPU: kernel compilation and autotuning) is
//!   logged on its own; train lines carry the mean time of the steps after it, the backend's
//!   memory and, on a GPU, the kernels compiled so far.
//!
//! Fault injection for the test suites: `SQUADKIT_FAULT=nan-at-step=N` multiplies the loss of
//! step N (1-based) by NaN.

use super::checkpoint;
use super::optim::{AdamW, LinearSchedule, StepStats};
use super::order::epoch_batches;
use super::replicas::{eval_ranges, split, training_form, Peers, Replica, Start};
use super::runlog::{Event, MetricsLog, Progress};
use super::state::{Hyper, StepPlan, TrainerState};
use crate::error::{CliError, Result};
use crate::fsio;
use crate::model::batch::{batch_input, labels, Padding};
use crate::model::roberta::{qa_loss, RobertaConfig, RobertaForQuestionAnswering};
use crate::model::weights::{self, HostTensor, TOKENIZER_FILES};
use crate::model::{runtime, BackendKind};
use crate::pipeline::{self, WindowSet};
use crate::signals::StopFlag;
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::ElementConversion;
use serde_json::{json, Map, Value};
use squadkit_core::decode::DecodeOptions;
use squadkit_core::preprocess::Window;
use squadkit_core::Evaluation;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a finished run did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Finished {
        global_step: u64,
        last_eval: Option<Map<String, Value>>,
    },
    /// Stopped by a signal after saving this checkpoint.
    Preempted {
        signal: &'static str,
        checkpoint: PathBuf,
    },
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
    /// How train batches are padded.
    pub padding: Padding,
    /// How evaluation batches are padded.
    pub eval_padding: Padding,
    /// The backend (for its memory and compile counters).
    pub backend: BackendKind,
    /// Only [`Trainer::warmup`] will run: metrics.jsonl is left as it was.
    pub warmup_only: bool,
}

/// The distinct `[rows, width]` batch shapes of a run, sorted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shapes {
    pub train: Vec<[usize; 2]>,
    pub eval: Vec<[usize; 2]>,
}

/// What [`Trainer::warmup`] ran.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Warmup {
    pub train_shapes: usize,
    pub eval_shapes: usize,
    /// Kernels compiled (GPU backends; None on the CPU).
    pub kernels_compiled: Option<u64>,
    pub seconds: f64,
}

/// The means logged on a train line, over the steps since the last one (the first step of an
/// attempt is timed on its own: [`Event::FirstStep`]).
struct LogWindow {
    loss_sum: f64,
    steps: u64,
    /// Steps timed in this window (those after an attempt's first), and their seconds.
    timed_steps: u64,
    step_secs: f64,
    samples: usize,
    tokens: usize,
}

impl LogWindow {
    fn new() -> Self {
        LogWindow { loss_sum: 0.0, steps: 0, timed_steps: 0, step_secs: 0.0, samples: 0, tokens: 0 }
    }
}

/// A run in progress.
pub struct Trainer<'a, B: AutodiffBackend> {
    spec: RunSpec<'a>,
    device: B::Device,
    /// Rank 0's model and optimizer (the run's; with several devices the other ranks hold
    /// equal copies: [`super::replicas`]).
    replica: Replica<B>,
    plan: StepPlan,
    schedule: LinearSchedule,
    state: TrainerState,
    lengths: Vec<usize>,
    /// The current epoch's micro-batches.
    batches: Option<(u64, Vec<Vec<usize>>)>,
    log: MetricsLog,
    progress: Progress,
    /// Wall time of earlier attempts, and when this one started.
    wall0: f64,
    started: Instant,
    window: LogWindow,
    nan_at: Option<u64>,
    /// Steps done by this attempt.
    attempt_steps: u64,
    /// The most memory the backend has held at a logged step.
    peak_memory: Option<u64>,
}

/// Read a checkpoint: its state and optimizer moments.
pub fn read_checkpoint(dir: &Path) -> Result<(TrainerState, std::collections::BTreeMap<String, HostTensor>)> {
    let state_path = dir.join("trainer_state.json");
    let state: TrainerState = serde_json::from_slice(&fsio::read(&state_path)?)
        .map_err(|e| CliError::input(&state_path, format!("not a valid trainer state: {e}")))?;
    let opt_path = dir.join("optimizer.safetensors");
    let moments = weights::parse_safetensors(&fsio::read(&opt_path)?).map_err(|m| CliError::input(&opt_path, m))?;
    Ok((state, moments))
}

/// Continue from checkpoint `dir`: its weights, moments and state, refusing one of another run
/// (`fresh`: this run's starting state).
fn resume<B: AutodiffBackend>(
    dir: &Path,
    config: &RobertaConfig,
    fresh: &TrainerState,
    opt: &mut AdamW<B>,
    device: &B::Device,
) -> Result<(RobertaForQuestionAnswering<B>, TrainerState)> {
    let (saved, moments) = read_checkpoint(dir)?;
    if let Some(why) = saved.mismatch(fresh) {
        return Err(CliError::input(dir, why));
    }
    let (saved_config, model, _) = weights::load_model_dir::<B>(dir, device)?;
    if let Some(why) = config_mismatch(&saved_config, config) {
        return Err(CliError::input(&dir.join("config.json"), format!("the checkpoint's model is not this run's: {why}")));
    }
    opt.import_moments(moments, device).map_err(|m| CliError::input(&dir.join("optimizer.safetensors"), m))?;
    opt.steps = saved.global_step as usize;
    Ok((model, saved))
}

/// AdamW with the run's hyperparameters.
fn optimizer<B: AutodiffBackend>(h: &Hyper) -> AdamW<B> {
    AdamW::new(h.adamw())
}

/// The fields in which two model configs differ (`None` when equal).
fn config_mismatch(saved: &RobertaConfig, this: &RobertaConfig) -> Option<String> {
    if saved == this {
        return None;
    }
    let (a, b) = (serde_json::to_value(saved).ok()?, serde_json::to_value(this).ok()?);
    let (Value::Object(a), Value::Object(b)) = (a, b) else { return Some("the configs differ".into()) };
    let diff: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, v)| format!("{k} {v} (this run: {})", b.get(k).unwrap_or(&Value::Null)))
        .collect();
    Some(diff.join(", "))
}

impl<'a, B: AutodiffBackend> Trainer<'a, B> {
    /// Set up the optimizer and schedule, and continue from `spec.resume` when given
    /// (`model`'s weights are then replaced by the checkpoint's).
    pub fn new(spec: RunSpec<'a>, model: RobertaForQuestionAnswering<B>, device: &B::Device) -> Result<Self> {
        let h = spec.hyper;
        let windows = &spec.train.features.windows;
        if windows.is_empty() {
            return Err(CliError::Invalid("the training data has no windows".into()));
        }
        let plan = StepPlan::new(h, windows.len());
        h.check_batches(windows.len())?;
        let schedule =
            LinearSchedule { peak_lr: h.learning_rate, warmup_steps: plan.warmup_steps, total_steps: plan.max_steps as usize };
        let mut opt = optimizer(h);
        let mut state = TrainerState::start(h, &plan, &spec.train.features);
        let mut model = model;
        if let Some(dir) = &spec.resume {
            (model, state) = resume(dir, spec.config, &state, &mut opt, device)?;
        }
        let model = training_form(model, spec.backend.kernels(), h.bf16);
        let wall0 = state.wall_time;
        let mut log = if spec.warmup_only {
            MetricsLog::discard(spec.out)
        } else {
            MetricsLog::open(spec.out, spec.resume.as_ref().map(|_| state.global_step))?
        };
        if spec.resume.is_some() {
            let step = state.global_step;
            log.write(&Event::Resume { step, epoch: plan.epoch(step), wall_time: wall0 })?;
        }
        Ok(Trainer {
            lengths: windows.iter().map(Window::len).collect(),
            progress: Progress::new(plan.max_steps, state.global_step, h.logging_steps.max(1) as u64),
            log,
            device: device.clone(),
            replica: Replica::new(0, plan.world, device.clone(), model, opt),
            plan,
            schedule,
            state,
            batches: None,
            wall0,
            started: Instant::now(),
            window: LogWindow::new(),
            nan_at: fault_nan_step(),
            attempt_steps: 0,
            peak_memory: None,
            spec,
        })
    }

    /// The first train batch (window indices) of each batch shape the run will use, over all
    /// its epochs (the data order is known in advance), by shape.
    fn train_batch_of_each_shape(&self) -> BTreeMap<[usize; 2], Vec<usize>> {
        let (plan, h) = (self.plan, self.spec.hyper);
        let mut by_shape = BTreeMap::new();
        let global = h.train_batch_size();
        for epoch in 0..plan.max_steps.div_ceil(plan.steps_per_epoch) {
            let batches = epoch_batches(&self.lengths, global, h.seed, epoch, h.group_by_length, h.dataloader_drop_last);
            for shard in split(&batches, plan.micro_batch, plan.world).into_iter().flat_map(|s| s.micro_batches) {
                if !shard.is_empty() {
                    let shape = self.spec.padding.shape(shard.iter().map(|&i| self.lengths[i]));
                    by_shape.entry(shape).or_insert(shard);
                }
            }
        }
        by_shape
    }

    /// The first evaluation batch of each shape, by shape.
    fn eval_batch_of_each_shape(&self) -> BTreeMap<[usize; 2], &'a [Window]> {
        let mut by_shape = BTreeMap::new();
        if let Some(set) = self.spec.eval {
            for chunk in set.features.windows.chunks(self.spec.hyper.per_device_eval_batch_size.max(1)) {
                by_shape.entry(self.spec.eval_padding.shape(chunk.iter().map(Window::len))).or_insert(chunk);
            }
        }
        by_shape
    }

    /// Every batch shape the run will use, train and evaluation.
    pub fn shapes(&self) -> Shapes {
        Shapes {
            train: self.train_batch_of_each_shape().into_keys().collect(),
            eval: self.eval_batch_of_each_shape().into_keys().collect(),
        }
    }

    /// Log the run's batch shapes (metrics.jsonl and the log).
    pub fn log_shapes(&mut self) -> Result<Shapes> {
        let shapes = self.shapes();
        let list = |v: &[[usize; 2]]| v.iter().map(|[r, w]| format!("{r}x{w}")).collect::<Vec<_>>().join(" ");
        tracing::info!(
            "{} batch shapes (rows x width): train {}{}",
            shapes.train.len() + shapes.eval.len(),
            list(&shapes.train),
            if shapes.eval.is_empty() { String::new() } else { format!("; eval {}", list(&shapes.eval)) }
        );
        let step = self.state.global_step;
        self.log.write(&Event::Shapes {
            step,
            epoch: self.plan.epoch(step),
            train: shapes.train.clone(),
            eval: shapes.eval.clone(),
            wall_time: self.wall(),
        })?;
        Ok(shapes)
    }

    /// Run every batch shape of the run once, on real windows of that shape: a train step's
    /// forward, backward and optimizer update on a copy of the model (thrown away), and an
    /// evaluation forward. On a GPU this compiles and tunes every kernel the run will use (into
    /// the kernel cache); the model, optimizer, logs and checkpoints are left as they were.
    pub fn warmup(&mut self) -> Result<Warmup> {
        let started = Instant::now();
        let before = self.spec.backend.is_gpu().then(runtime::settled_kernels_compiled);
        let (train, eval) = (self.train_batch_of_each_shape(), self.eval_batch_of_each_shape());
        let windows = &self.spec.train.features.windows;
        let mut throwaway = optimizer::<B>(self.spec.hyper);
        for (shape, batch) in &train {
            let refs: Vec<&Window> = batch.iter().map(|&i| &windows[i]).collect();
            let (input, _) = batch_input::<B>(&refs, self.spec.pad_id, &self.spec.padding, &self.device);
            let (s, e) = labels::<B>(&refs, *shape, &self.device);
            let model = self.model().clone();
            let grads = qa_loss(&model.forward(input), s, e).backward();
            drop(throwaway.step(1e-9, model, &grads));
            self.sync()?;
            self.progress.println(&format!("warm-up: train shape {}x{} done", shape[0], shape[1]));
        }
        let inner = self.model().valid();
        for chunk in eval.values() {
            let refs: Vec<&Window> = chunk.iter().collect();
            let (input, _) = batch_input::<B::InnerBackend>(&refs, self.spec.pad_id, &self.spec.eval_padding, &self.device);
            let _ = inner.forward(input).start_logits.into_data();
        }
        Ok(Warmup {
            train_shapes: train.len(),
            eval_shapes: eval.len(),
            kernels_compiled: before.map(|b| runtime::settled_kernels_compiled() - b),
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Wait for the device to finish the work queued on it.
    fn sync(&self) -> Result<()> {
        B::sync(&self.device).map_err(|e| CliError::Internal(format!("the device failed: {e:?}")))
    }

    fn wall(&self) -> f64 {
        self.wall0 + self.started.elapsed().as_secs_f64()
    }

    fn model(&self) -> &RobertaForQuestionAnswering<B> {
        self.replica.model()
    }

    /// The micro-batches of optimizer step `step` (0-based), over all devices.
    fn micro_batches(&mut self, step: u64) -> Vec<Vec<usize>> {
        let (h, plan) = (self.spec.hyper, self.plan);
        let epoch = step / plan.steps_per_epoch;
        if self.batches.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let global = h.train_batch_size();
            let batches = epoch_batches(&self.lengths, global, h.seed, epoch, h.group_by_length, h.dataloader_drop_last);
            self.batches = Some((epoch, batches));
        }
        let batches = &self.batches.as_ref().expect("just planned").1;
        let first = (step % plan.steps_per_epoch) as usize * plan.accumulation;
        batches[first..(first + plan.accumulation).min(batches.len())].to_vec()
    }

    /// One optimizer step: forward and backward over its micro-batches, then AdamW; with
    /// several devices each rank takes its shard of every micro-batch (`peers`: ranks 1..) and
    /// the gradients are summed across them. A loss that is not finite stops the run before
    /// the update.
    pub fn step(&mut self, peers: &Peers<'_>) -> Result<StepStats> {
        let started = Instant::now();
        let step = self.state.global_step;
        let micro_batches = self.micro_batches(step);
        let shards = split(&micro_batches, self.plan.micro_batch, self.plan.world);
        let lr = self.schedule.lr(step as usize);
        peers.start_step(step, &shards[1..], lr)?;
        self.replica.seed_step(self.spec.hyper.seed, step);
        let windows = &self.spec.train.features.windows;
        let mut loss = self.replica.loss(windows, &shards[0], self.spec.pad_id, &self.spec.padding);
        for mb in &micro_batches {
            self.window.samples += mb.len();
            self.window.tokens += mb.iter().map(|&i| windows[i].n_tokens()).sum::<usize>();
        }
        if self.nan_at == Some(step + 1) {
            loss = loss.map(|l| l * f64::NAN);
        }
        let own: f64 = loss.as_ref().map_or(0.0, |l| l.clone().into_scalar().elem::<f64>());
        let loss_value = own + peers.losses()?.iter().flatten().sum::<f64>();
        if !loss_value.is_finite() {
            peers.proceed(false)?;
            return Err(self.non_finite_loss(loss_value));
        }
        peers.proceed(true)?;
        let stats = self.replica.update(loss, lr)?;
        self.state.advance();
        self.window.loss_sum += loss_value;
        self.window.steps += 1;
        self.attempt_steps += 1;
        if self.attempt_steps == 1 {
            // The first step of an attempt compiles and tunes (on a GPU): timed to its end on
            // the device, logged on its own, and kept out of the steady-state means.
            self.sync()?;
            let step = self.state.global_step;
            let seconds = started.elapsed().as_secs_f64();
            let kernels_compiled = self.spec.backend.is_gpu().then(runtime::settled_kernels_compiled);
            self.log.write(&Event::FirstStep {
                step,
                epoch: self.plan.epoch(step),
                step_time: seconds,
                kernels_compiled,
                wall_time: self.wall(),
            })?;
            self.progress.println(&format!("first step: {seconds:.2} s"));
            self.window.samples = 0;
            self.window.tokens = 0;
        } else {
            // Work still queued on the device is counted in a later step (and at the line's end).
            self.window.timed_steps += 1;
            self.window.step_secs += started.elapsed().as_secs_f64();
        }
        Ok(stats)
    }

    /// Log the stop and say which checkpoint is the last good state.
    fn non_finite_loss(&mut self, loss: f64) -> CliError {
        self.progress.finish();
        let step = self.state.global_step + 1;
        let (epoch, wall_time) = (self.plan.epoch(step), self.wall());
        if let Err(e) = self.log.write(&Event::Stop { step, epoch, signal: None, loss: Some(loss.to_string()), wall_time }) {
            return e;
        }
        let last = checkpoint::list(self.spec.out).into_iter().find(|c| checkpoint::verify(&c.dir).is_ok());
        CliError::Internal(format!(
            "the loss is {loss} at step {step} (epoch {epoch:.2}): stopping before the update; {}",
            match last {
                Some(c) => format!("the last good checkpoint is {}", c.dir.display()),
                None => "no checkpoint was saved yet".into(),
            }
        ))
    }

    /// The train line of the steps since the last one.
    fn log_train(&mut self, stats: &StepStats) -> Result<()> {
        // The steps of the window have run on the device when the clock stops; evaluations and
        // saves between steps are not counted.
        let sync = Instant::now();
        self.sync()?;
        if self.window.timed_steps > 0 {
            self.window.step_secs += sync.elapsed().as_secs_f64();
        }
        let w = std::mem::replace(&mut self.window, LogWindow::new());
        let secs = w.step_secs.max(1e-9);
        let step = self.state.global_step;
        let memory = runtime::memory_bytes(self.spec.backend);
        self.peak_memory = self.peak_memory.max(memory);
        let timed = (w.timed_steps > 0).then_some(secs);
        self.log.write(&Event::Train {
            step,
            epoch: self.plan.epoch(step),
            loss: w.loss_sum / w.steps.max(1) as f64,
            learning_rate: stats.lr,
            grad_norm: stats.grad_norm,
            step_time: timed.map(|s| s / w.timed_steps as f64),
            samples_per_second: timed.map(|s| w.samples as f64 / s),
            tokens_per_second: timed.map(|s| w.tokens as f64 / s),
            peak_memory_bytes: self.peak_memory,
            // Settled: cubecl reports compilations from its logger thread.
            kernels_compiled: self.spec.backend.is_gpu().then(runtime::settled_kernels_compiled),
            wall_time: self.wall(),
        })
    }

    /// Score the current model on `set`: windows → logits (with several devices, each rank
    /// computes those of a range of windows, gathered here) → answers → the official scorer.
    pub fn evaluate(&self, set: &WindowSet, peers: &Peers<'_>) -> Result<Evaluation> {
        let windows = &set.features.windows;
        let batch = self.spec.hyper.per_device_eval_batch_size;
        let width = windows.iter().map(Window::len).max().unwrap_or(1);
        let ranges = eval_ranges(windows.len(), batch, self.plan.world);
        let (pad_id, padding) = (self.spec.pad_id, &self.spec.eval_padding);
        let logits =
            peers.logits(&ranges, width, || self.replica.logits(&windows[ranges[0].clone()], width, batch, pad_id, padding))?;
        let decoded = pipeline::answers(&set.dataset, &set.features, logits.as_logits(), &self.spec.decode)?;
        pipeline::score(&set.dataset, &decoded)
    }

    /// Evaluate, log it, and save `RUN/best` when the F1 is the best so far.
    fn evaluate_and_keep_best(&mut self, set: &WindowSet, peers: &Peers<'_>) -> Result<Map<String, Value>> {
        let eval = self.evaluate(set, peers)?;
        let step = self.state.global_step;
        let scores: Map<String, Value> = eval.to_dict().into_iter().map(|(k, v)| (k, json!(v.as_f64()))).collect();
        self.log.write(&Event::Eval { step, epoch: self.plan.epoch(step), scores: scores.clone(), wall_time: self.wall() })?;
        self.progress.println(&format!("eval at step {step}: exact {:.2} f1 {:.2}", eval.overall.exact, eval.overall.f1));
        if self.state.best_f1.is_none_or(|b| eval.overall.f1 > b) {
            self.state.best_f1 = Some(eval.overall.f1);
            self.state.best_step = Some(step);
            weights::save_model_dir(self.model(), self.spec.config, self.spec.tokenizer_dir, &self.spec.out.join("best"))?;
        }
        Ok(scores)
    }

    /// Save a checkpoint of the current step (model, moments, state, tokenizer files).
    pub fn save(&mut self) -> Result<PathBuf> {
        self.state.wall_time = self.wall();
        let mut files = vec![
            ("config.json".to_string(), self.spec.config.to_qa_json().into_bytes()),
            ("model.safetensors".to_string(), weights::serialize_safetensors(&weights::model_to_tensors(self.model()))),
            ("optimizer.safetensors".to_string(), weights::serialize_safetensors(&self.replica.opt.export_moments())),
            (
                "trainer_state.json".to_string(),
                (serde_json::to_string_pretty(&self.state).expect("state serialises") + "\n").into_bytes(),
            ),
        ];
        if let Some(dir) = self.spec.tokenizer_dir {
            for f in TOKENIZER_FILES {
                let p = dir.join(f);
                if p.exists() {
                    files.push((f.to_string(), fsio::read(&p)?));
                }
            }
        }
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let keep: Vec<u64> = self.state.best_step.into_iter().collect();
        let dir = checkpoint::save(self.spec.out, self.state.global_step, &refs, self.spec.hyper.save_total_limit, &keep)?;
        self.progress.println(&format!("saved {}", dir.display()));
        Ok(dir)
    }

    /// The signal (or `--stop-after`) that asks this run to stop after the current step.
    fn stop_request(&self, steps_this_attempt: u64, finished: bool) -> Option<&'static str> {
        self.spec
            .stop
            .received()
            .or_else(|| self.spec.stop_after.filter(|&n| steps_this_attempt >= n && !finished).map(|_| "--stop-after"))
    }

    /// Train until the last step, evaluating, logging and saving as the hyperparameters say;
    /// a stop request ends the run after a checkpoint. `others`: the devices of ranks 1.. (one
    /// per device after the first of `--devices`; empty for one device), each driven by a
    /// thread of its own that starts from this rank's model and optimizer.
    pub fn run(self, others: Vec<B::Device>) -> Result<Outcome> {
        if others.len() + 1 != self.plan.world {
            return Err(CliError::Internal(format!("{} devices for a run planned on {}", others.len() + 1, self.plan.world)));
        }
        if others.is_empty() {
            return self.run_ranks(&Peers::none());
        }
        let spec = &self.spec;
        let (train, eval): (&'a WindowSet, Option<&'a WindowSet>) = (spec.train, spec.eval);
        let start = Start {
            config: spec.config,
            weights: weights::model_to_tensors(self.model()).into_iter().collect(),
            moments: self.replica.opt.export_moments(),
            optimizer_steps: self.replica.opt.steps,
            hyper: spec.hyper,
            kernels: spec.backend.kernels(),
            train: &train.features.windows,
            eval: eval.map(|e| e.features.windows.as_slice()),
            pad_id: spec.pad_id,
            padding: spec.padding,
            eval_padding: spec.eval_padding,
        };
        tracing::info!("training on {} devices: {} windows per device per micro-batch", self.plan.world, self.plan.micro_batch);
        std::thread::scope(|scope| {
            let peers = Peers::spawn::<B>(scope, &start, &self.device, others)?;
            let outcome = self.run_ranks(&peers);
            peers.close::<B>();
            outcome
        })
    }

    fn run_ranks(mut self, peers: &Peers<'_>) -> Result<Outcome> {
        let (h, plan) = (self.spec.hyper, self.plan);
        let mut last_eval = None;
        let mut steps_this_attempt = 0u64;
        self.log_shapes()?;
        while self.state.global_step < plan.max_steps {
            let stats = self.step(peers)?;
            steps_this_attempt += 1;
            let step = self.state.global_step;
            let finished = step == plan.max_steps;
            let mean = self.window.loss_sum / self.window.steps.max(1) as f64;
            self.progress.step(step, plan.max_steps, &format!("loss {mean:.4} lr {:.2e}", stats.lr));
            if step.is_multiple_of(h.logging_steps.max(1) as u64) || finished {
                self.log_train(&stats)?;
            }
            let eval_now = plan.eval_every.is_some_and(|n| step.is_multiple_of(n)) || finished;
            if let Some(set) = self.spec.eval.filter(|_| eval_now) {
                last_eval = Some(self.evaluate_and_keep_best(set, peers)?);
            }
            let stop = self.stop_request(steps_this_attempt, finished);
            if finished || stop.is_some() || (h.save_steps > 0 && step.is_multiple_of(h.save_steps as u64)) {
                let checkpoint = self.save()?;
                if let (Some(signal), false) = (stop, finished) {
                    self.progress.finish();
                    let (epoch, wall_time) = (plan.epoch(step), self.state.wall_time);
                    self.log.write(&Event::Stop { step, epoch, signal: Some(signal), loss: None, wall_time })?;
                    return Ok(Outcome::Preempted { signal, checkpoint });
                }
            }
        }
        self.progress.finish();
        weights::save_model_dir(self.model(), self.spec.config, self.spec.tokenizer_dir, &self.spec.out.join("final"))?;
        Ok(Outcome::Finished { global_step: self.state.global_step, last_eval })
    }
}

/// `SQUADKIT_FAULT=nan-at-step=N`: the step whose loss is made NaN (tests).
fn fault_nan_step() -> Option<u64> {
    std::env::var("SQUADKIT_FAULT")
        .ok()
        .and_then(|v| v.split(',').find_map(|f| f.trim().strip_prefix("nan-at-step=").and_then(|n| n.parse::<u64>().ok())))
}
