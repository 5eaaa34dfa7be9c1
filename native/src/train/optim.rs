//! AdamW, global gradient-norm clipping and the linear warmup/decay schedule, exactly as the
//! HF Trainer sets them up with PyTorch (not burn's `AdamW`, whose defaults and per-tensor
//! clipping differ: see ../shared/notes/burn.md).
//!
//! - AdamW (torch's, decoupled weight decay): `p *= 1 - lr * wd`; `m = b1 m + (1 - b1) g`;
//!   `v = b2 v + (1 - b2) g²`; `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`,
//!   with eps 1e-8, betas (0.9, 0.999) and weight decay 0.01 on every parameter except biases
//!   and LayerNorm weights ([`decays`]).
//! - Clipping: the global L2 norm over all gradients, scaled by
//!   `min(1, max_norm / (norm + 1e-6))` as `torch.nn.utils.clip_grad_norm_` does.
//! - Schedule: `get_linear_schedule_with_warmup`: the LR of the optimizer step that follows
//!   `s` earlier steps is `peak * s / warmup` during warmup, then decays linearly to 0 at
//!   `total` (so with warmup the first step has LR 0, as in the Trainer).
//!
//! Moments live on the inner (non-autodiff) backend in float32, flattened per parameter.

use crate::model::roberta::{Layout, ParamVisitor, RobertaForQuestionAnswering};
use crate::model::weights::decays;
use burn::module::{Param, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};
use std::collections::HashMap;

/// The optimizer's settings (defaults: the HF Trainer's with the seed's weight decay).
#[derive(Debug, Clone, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Applied to the parameters for which [`decays`] is true.
    pub weight_decay: f64,
    /// Global gradient-norm clipping; None = no clipping.
    pub max_grad_norm: Option<f64>,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01, max_grad_norm: Some(1.0) }
    }
}

/// `get_linear_schedule_with_warmup`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSchedule {
    pub peak_lr: f64,
    pub warmup_steps: usize,
    pub total_steps: usize,
}

impl LinearSchedule {
    /// The LR of the optimizer step taken after `done` steps.
    pub fn lr(&self, done: usize) -> f64 {
        let factor = if done < self.warmup_steps {
            done as f64 / self.warmup_steps.max(1) as f64
        } else {
            (self.total_steps as f64 - done as f64).max(0.0) / (self.total_steps.saturating_sub(self.warmup_steps)).max(1) as f64
        };
        self.peak_lr * factor
    }
}

/// What one step saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    pub lr: f64,
}

/// AdamW with HF's settings over a [`RobertaForQuestionAnswering`].
pub struct AdamW<B: AutodiffBackend> {
    pub config: AdamWConfig,
    /// Steps taken so far.
    pub steps: usize,
    moments: HashMap<ParamId, (Tensor<B::InnerBackend, 1>, Tensor<B::InnerBackend, 1>)>,
}

impl<B: AutodiffBackend> AdamW<B> {
    pub fn new(config: AdamWConfig) -> Self {
        AdamW { config, steps: 0, moments: HashMap::new() }
    }

    /// One optimizer step at `lr` with the gradients of a backward pass through `model`.
    pub fn step(
        &mut self,
        lr: f64,
        mut model: RobertaForQuestionAnswering<B>,
        grads: &B::Gradients,
    ) -> (RobertaForQuestionAnswering<B>, StepStats) {
        // Gather the gradients, flattened.
        struct Gather<'a, B: AutodiffBackend> {
            grads: &'a B::Gradients,
            out: HashMap<ParamId, Tensor<B::InnerBackend, 1>>,
        }
        impl<B: AutodiffBackend> ParamVisitor<B> for Gather<'_, B> {
            fn visit<const D: usize>(&mut self, _name: &str, p: &mut Param<Tensor<B, D>>, _l: Layout) {
                if let Some(g) = p.val().grad(self.grads) {
                    self.out.insert(p.id, g.flatten::<1>(0, D - 1));
                }
            }
        }
        let mut gather = Gather::<B> { grads, out: HashMap::new() };
        model.visit_params(&mut gather);
        let mut grads = gather.out;

        // Global-norm clipping.
        let squares: Vec<Tensor<B::InnerBackend, 1>> = grads.values().map(|g| g.clone().square().sum()).collect();
        let grad_norm = if squares.is_empty() {
            0.0
        } else {
            let total: f64 = Tensor::cat(squares, 0).sum().into_scalar().elem::<f64>();
            total.sqrt()
        };
        if let Some(max) = self.config.max_grad_norm {
            let coef = (max / (grad_norm + 1e-6)).min(1.0);
            for g in grads.values_mut() {
                *g = g.clone() * coef;
            }
        }

        // The update.
        self.steps += 1;
        let t = self.steps as i32;
        struct Update<'a, B: AutodiffBackend> {
            c: &'a AdamWConfig,
            lr: f64,
            bias1: f64,
            bias2_sqrt: f64,
            grads: HashMap<ParamId, Tensor<B::InnerBackend, 1>>,
            moments: &'a mut HashMap<ParamId, (Tensor<B::InnerBackend, 1>, Tensor<B::InnerBackend, 1>)>,
        }
        impl<B: AutodiffBackend> ParamVisitor<B> for Update<'_, B> {
            fn visit<const D: usize>(&mut self, name: &str, p: &mut Param<Tensor<B, D>>, _l: Layout) {
                let Some(g) = self.grads.remove(&p.id) else { return };
                let value = p.val().inner();
                let shape = value.shape();
                let mut w = value.flatten::<1>(0, D - 1);
                if decays(name) && self.c.weight_decay != 0.0 {
                    w = w * (1.0 - self.lr * self.c.weight_decay);
                }
                let (m, v) = match self.moments.remove(&p.id) {
                    Some(mv) => mv,
                    None => (g.zeros_like(), g.zeros_like()),
                };
                let m = m * self.c.beta1 + g.clone() * (1.0 - self.c.beta1);
                let v = v * self.c.beta2 + g.square() * (1.0 - self.c.beta2);
                let denom = v.clone().sqrt() / self.bias2_sqrt + self.c.eps;
                let w = w - m.clone() / denom * (self.lr / self.bias1);
                self.moments.insert(p.id, (m, v));
                let w: Tensor<B::InnerBackend, D> = w.reshape(shape);
                *p = Param::initialized(p.id, Tensor::from_inner(w).require_grad());
            }
        }
        let mut update = Update::<B> {
            c: &self.config,
            lr,
            bias1: 1.0 - self.config.beta1.powi(t),
            bias2_sqrt: (1.0 - self.config.beta2.powi(t)).sqrt(),
            grads,
            moments: &mut self.moments,
        };
        model.visit_params(&mut update);
        (model, StepStats { grad_norm, lr })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_schedule_matches_transformers() {
        // get_linear_schedule_with_warmup(opt, 1, 5) with lr 1e-3: 0, 1e-3, 7.5e-4, 5e-4, 2.5e-4.
        let s = LinearSchedule { peak_lr: 1e-3, warmup_steps: 1, total_steps: 5 };
        let lrs: Vec<f64> = (0..6).map(|i| s.lr(i)).collect();
        assert_eq!(lrs, vec![0.0, 1e-3, 7.5e-4, 5e-4, 2.5e-4, 0.0]);
        let s = LinearSchedule { peak_lr: 2e-5, warmup_steps: 0, total_steps: 4 };
        assert_eq!(s.lr(0), 2e-5);
        assert_eq!(s.lr(2), 1e-5);
        let s = LinearSchedule { peak_lr: 3e-5, warmup_steps: 10, total_steps: 100 };
        assert!((s.lr(5) - 1.5e-5).abs() < 1e-20);
        assert!((s.lr(55) - 1.5e-5).abs() < 1e-18);
    }
}
