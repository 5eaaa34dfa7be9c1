//! What a training run is and where it stands: the hyperparameters (the HF Trainer's names
//! and defaults), the step plan derived from them and the data, and `trainer_state.json`,
//! which a checkpoint saves and a resume checks.

use crate::args::finite;
use crate::error::CliError;
use squadkit_core::preprocess::{Features, Window};

/// When to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalStrategy {
    No,
    Steps,
    Epoch,
}

/// The hyperparameters, with the HF Trainer's names and defaults (`TrainingArguments()`,
/// except where noted). This clap struct is the configuration: `train` flattens it into its
/// flags, `demo` sets its own values on it, and checkpoints save it.
#[derive(Debug, Clone, PartialEq, clap::Args, serde::Serialize, serde::Deserialize)]
pub struct Hyper {
    #[arg(long, default_value_t = 5e-5, value_parser = finite::<f64>)]
    pub learning_rate: f64,
    #[arg(long, default_value_t = 8)]
    pub per_device_train_batch_size: usize,
    #[arg(long, default_value_t = 8)]
    pub per_device_eval_batch_size: usize,
    #[arg(long, default_value_t = 1)]
    pub gradient_accumulation_steps: usize,
    #[arg(long, default_value_t = 3.0, value_parser = finite::<f64>)]
    pub num_train_epochs: f64,
    /// Total optimizer steps; > 0 overrides --num-train-epochs.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub max_steps: i64,
    /// The fraction of the steps with a linear warmup (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = finite::<f64>)]
    pub warmup_ratio: f64,
    /// > 0 overrides --warmup-ratio.
    #[arg(long, default_value_t = 0)]
    pub warmup_steps: usize,
    #[arg(long, default_value_t = 0.0, value_parser = finite::<f64>)]
    pub weight_decay: f64,
    #[arg(long, default_value_t = 0.9, value_parser = finite::<f64>)]
    pub adam_beta1: f64,
    #[arg(long, default_value_t = 0.999, value_parser = finite::<f64>)]
    pub adam_beta2: f64,
    #[arg(long, default_value_t = 1e-8, value_parser = finite::<f64>)]
    pub adam_epsilon: f64,
    /// Global gradient-norm clipping (0 = none).
    #[arg(long, default_value_t = 1.0, value_parser = finite::<f64>)]
    pub max_grad_norm: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 500)]
    pub logging_steps: usize,
    /// Save a checkpoint every N steps (0 = only at the end and when stopped).
    #[arg(long, default_value_t = 500)]
    pub save_steps: usize,
    /// Keep at most this many checkpoints (the best model's is never removed).
    #[arg(long)]
    pub save_total_limit: Option<usize>,
    #[arg(long, value_enum, default_value_t = EvalStrategy::No)]
    pub eval_strategy: EvalStrategy,
    /// Evaluate every N steps with --eval-strategy steps [default: --logging-steps].
    #[arg(long)]
    pub eval_steps: Option<usize>,
    /// Batches of similar lengths (HF's `--group_by_length`); same windows per epoch.
    #[arg(long)]
    pub group_by_length: bool,
    /// Run the matmuls in bfloat16 with float32 master weights.
    #[arg(long)]
    pub bf16: bool,
    /// Drop each epoch's last partial batch (on a GPU backend it is otherwise filled up with
    /// empty rows, so every batch has the same height).
    #[arg(long)]
    #[serde(default)]
    pub dataloader_drop_last: bool,
    /// The devices each global batch is split over (HF's `world_size`; set from `train
    /// --devices`): a step takes `per_device_train_batch_size` × this × accumulation windows.
    #[arg(skip = 1usize)]
    #[serde(default = "one_device")]
    pub world_size: usize,
}

fn one_device() -> usize {
    1
}

impl Default for Hyper {
    /// `TrainingArguments()` defaults (the flags' defaults).
    fn default() -> Self {
        <HyperFlags as clap::Parser>::parse_from(["squadkit"]).hyper
    }
}

impl Hyper {
    /// Values clap's types do not rule out.
    /// Refuse a run whose every batch would be dropped (`--dataloader-drop-last` with fewer
    /// training windows than a batch).
    pub fn check_batches(&self, windows: usize) -> Result<(), CliError> {
        if self.dataloader_drop_last && windows < self.train_batch_size() {
            return Err(CliError::Invalid(format!(
                "--dataloader-drop-last with {windows} training windows and batches of {}: every batch would be dropped",
                self.train_batch_size()
            )));
        }
        Ok(())
    }

    /// AdamW's settings (HF's names: `adam_beta1`, ..., `max_grad_norm`, 0 = no clipping).
    pub fn adamw(&self) -> super::optim::AdamWConfig {
        super::optim::AdamWConfig {
            beta1: self.adam_beta1,
            beta2: self.adam_beta2,
            eps: self.adam_epsilon,
            weight_decay: self.weight_decay,
            max_grad_norm: (self.max_grad_norm > 0.0).then_some(self.max_grad_norm),
        }
    }

    /// The windows of one micro-batch over all devices (HF's `train_batch_size`).
    pub fn train_batch_size(&self) -> usize {
        self.per_device_train_batch_size.max(1) * self.world_size.max(1)
    }

    pub fn check(&self) -> Result<(), CliError> {
        let bad = |m: String| Err(CliError::Invalid(m));
        if self.per_device_train_batch_size == 0 || self.per_device_eval_batch_size == 0 || self.gradient_accumulation_steps == 0
        {
            return bad("batch sizes and gradient accumulation steps must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.warmup_ratio) {
            return bad(format!("--warmup-ratio {} is not between 0 and 1", self.warmup_ratio));
        }
        if self.max_steps <= 0 && self.num_train_epochs <= 0.0 {
            return bad(format!(
                "--num-train-epochs {} trains nothing (give a positive number, or --max-steps)",
                self.num_train_epochs
            ));
        }
        if self.learning_rate < 0.0 || self.weight_decay < 0.0 || self.max_grad_norm < 0.0 {
            return bad("--learning-rate, --weight-decay and --max-grad-norm cannot be negative".into());
        }
        Ok(())
    }
}

/// [`Hyper`] as a command line of its own (its defaults).
#[derive(clap::Parser)]
struct HyperFlags {
    #[command(flatten)]
    hyper: Hyper,
}

/// The step plan of a run: how many micro-batches make a step, steps per epoch, the total,
/// warmup, and when to evaluate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepPlan {
    /// Windows per device in a micro-batch.
    pub micro_batch: usize,
    /// Devices (a micro-batch is `micro_batch` × this windows, split between them).
    pub world: usize,
    pub accumulation: usize,
    pub steps_per_epoch: u64,
    pub max_steps: u64,
    pub warmup_steps: usize,
    /// Evaluate every this many steps (and at the end).
    pub eval_every: Option<u64>,
}

impl StepPlan {
    pub fn new(h: &Hyper, windows: usize) -> StepPlan {
        let micro_batch = h.per_device_train_batch_size.max(1);
        let world = h.world_size.max(1);
        let accumulation = h.gradient_accumulation_steps.max(1);
        let global = h.train_batch_size();
        let batches = if h.dataloader_drop_last { windows / global } else { windows.div_ceil(global) };
        let steps_per_epoch = (batches.div_ceil(accumulation) as u64).max(1);
        let max_steps =
            if h.max_steps > 0 { h.max_steps as u64 } else { (h.num_train_epochs * steps_per_epoch as f64).ceil() as u64 };
        let warmup_steps = if h.warmup_steps > 0 { h.warmup_steps } else { (h.warmup_ratio * max_steps as f64).ceil() as usize };
        let eval_every = match h.eval_strategy {
            EvalStrategy::No => None,
            EvalStrategy::Steps => Some(h.eval_steps.unwrap_or(h.logging_steps).max(1) as u64),
            EvalStrategy::Epoch => Some(steps_per_epoch),
        };
        StepPlan { micro_batch, world, accumulation, steps_per_epoch, max_steps, warmup_steps, eval_every }
    }

    /// The epoch (fractional) after `step` steps.
    pub fn epoch(&self, step: u64) -> f64 {
        step as f64 / self.steps_per_epoch as f64
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

impl TrainerState {
    /// The state of a run that has not taken a step.
    pub fn start(h: &Hyper, plan: &StepPlan, features: &Features) -> TrainerState {
        TrainerState {
            global_step: 0,
            max_steps: plan.max_steps,
            steps_per_epoch: plan.steps_per_epoch,
            epoch: 0,
            step_in_epoch: 0,
            seed: h.seed,
            best_f1: None,
            best_step: None,
            wall_time: 0.0,
            hyper: h.clone(),
            data_fingerprint: data_fingerprint(features),
        }
    }

    /// Why a saved state cannot be continued by this run (other data, length or seed).
    /// Why a saved state cannot be continued by this run: other data, length or seed, or other
    /// hyperparameters of the trajectory (those that only change what is logged, saved or
    /// evaluated may differ).
    pub fn mismatch(&self, fresh: &TrainerState) -> Option<String> {
        if self.data_fingerprint != fresh.data_fingerprint || self.max_steps != fresh.max_steps || self.seed != fresh.seed {
            return Some(format!(
                "the checkpoint is of another run (data {:?}, {} steps, seed {}); this run has data {:?}, {} steps, seed {}",
                self.data_fingerprint, self.max_steps, self.seed, fresh.data_fingerprint, fresh.max_steps, fresh.seed
            ));
        }
        let (a, b) = (&self.hyper, &fresh.hyper);
        let differ: Vec<String> = [
            ("learning_rate", a.learning_rate.to_string(), b.learning_rate.to_string()),
            ("per_device_train_batch_size", a.per_device_train_batch_size.to_string(), b.per_device_train_batch_size.to_string()),
            ("gradient_accumulation_steps", a.gradient_accumulation_steps.to_string(), b.gradient_accumulation_steps.to_string()),
            ("warmup_ratio", a.warmup_ratio.to_string(), b.warmup_ratio.to_string()),
            ("warmup_steps", a.warmup_steps.to_string(), b.warmup_steps.to_string()),
            ("weight_decay", a.weight_decay.to_string(), b.weight_decay.to_string()),
            ("adam_beta1", a.adam_beta1.to_string(), b.adam_beta1.to_string()),
            ("adam_beta2", a.adam_beta2.to_string(), b.adam_beta2.to_string()),
            ("adam_epsilon", a.adam_epsilon.to_string(), b.adam_epsilon.to_string()),
            ("max_grad_norm", a.max_grad_norm.to_string(), b.max_grad_norm.to_string()),
            ("group_by_length", a.group_by_length.to_string(), b.group_by_length.to_string()),
            ("bf16", a.bf16.to_string(), b.bf16.to_string()),
            // The global batch: the run's devices (`--devices`, a count here).
            ("devices", a.world_size.to_string(), b.world_size.to_string()),
        ]
        .into_iter()
        .filter(|(_, x, y)| x != y)
        .map(|(name, x, y)| format!("--{} {x} (this run: {y})", name.replace('_', "-")))
        .collect();
        (!differ.is_empty()).then(|| format!("the checkpoint was trained with other hyperparameters: {}", differ.join(", ")))
    }

    /// Count one optimizer step.
    pub fn advance(&mut self) {
        self.global_step += 1;
        self.epoch = self.global_step / self.steps_per_epoch;
        self.step_in_epoch = self.global_step % self.steps_per_epoch;
    }
}

fn data_fingerprint(f: &Features) -> String {
    let tokens: usize = f.windows.iter().map(Window::n_tokens).sum();
    let labels: u64 = f.windows.iter().map(|w| u64::from(w.start_position) * 31 + u64::from(w.end_position)).sum();
    format!("{} windows, {tokens} tokens, labels {labels}, max_seq_length {}", f.windows.len(), f.config.max_seq_length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_hf_trainers() {
        let h = Hyper::default();
        assert_eq!((h.learning_rate, h.per_device_train_batch_size, h.num_train_epochs, h.max_steps), (5e-5, 8, 3.0, -1));
        assert_eq!((h.adam_beta1, h.adam_beta2, h.adam_epsilon, h.max_grad_norm), (0.9, 0.999, 1e-8, 1.0));
        assert_eq!((h.logging_steps, h.save_steps, h.seed, h.eval_strategy), (500, 500, 42, EvalStrategy::No));
        assert!(h.check().is_ok());
        assert!(Hyper { warmup_ratio: 2.0, ..Hyper::default() }.check().unwrap_err().to_string().contains("--warmup-ratio 2"));
        assert!(<HyperFlags as clap::Parser>::try_parse_from(["s", "--num-train-epochs", "NaN"]).is_err());
    }
}
