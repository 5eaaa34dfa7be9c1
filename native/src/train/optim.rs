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
//! Moments live on the inner (non-autodiff) backend in float32, flattened per parameter and
//! keyed by the HF parameter name (not burn's `ParamId`), so that a checkpoint can write them
//! to `optimizer.safetensors` and put them back onto a model loaded later (whose `ParamId`s
//! are new). Gradients are gathered in name order, so the global norm is summed in the same
//! order every run: a resumed run is bit-identical to an uninterrupted one.

use crate::model::roberta::{Layout, ParamVisitor, RobertaForQuestionAnswering};
use crate::model::weights::{decays, HostTensor, WeightsError};
use burn::module::Param;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor, TensorData};
use std::collections::BTreeMap;

/// A flattened parameter-sized tensor on the inner backend (a gradient or a moment).
type Flat<B> = Tensor<<B as AutodiffBackend>::InnerBackend, 1>;

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

/// The gradients of one step, flattened, by parameter name (name order: the order every
/// replica sums, clips and all-reduces them in).
pub type Gradients<B> = BTreeMap<String, Flat<B>>;

/// Gather the gradients of a backward pass through `model`, flattened, by name.
pub fn gradients<B: AutodiffBackend>(model: &mut RobertaForQuestionAnswering<B>, grads: &B::Gradients) -> Gradients<B> {
    struct Gather<'a, B: AutodiffBackend> {
        grads: &'a B::Gradients,
        out: Gradients<B>,
    }
    impl<B: AutodiffBackend> ParamVisitor<B> for Gather<'_, B> {
        fn visit<const D: usize>(&mut self, name: &str, p: &mut Param<Tensor<B, D>>, _l: Layout) {
            if let Some(g) = p.val().grad(self.grads) {
                self.out.insert(name.to_string(), g.flatten::<1>(0, D - 1));
            }
        }
    }
    let mut gather = Gather::<B> { grads, out: BTreeMap::new() };
    model.visit_params(&mut gather);
    gather.out
}

/// Zero gradients for every parameter of `model` (a replica with no rows in a step still
/// takes part in the all-reduce).
pub fn zero_gradients<B: AutodiffBackend>(model: &mut RobertaForQuestionAnswering<B>) -> Gradients<B> {
    struct Zeros<B: AutodiffBackend>(Gradients<B>);
    impl<B: AutodiffBackend> ParamVisitor<B> for Zeros<B> {
        fn visit<const D: usize>(&mut self, name: &str, p: &mut Param<Tensor<B, D>>, _l: Layout) {
            self.0.insert(name.to_string(), p.val().inner().flatten::<1>(0, D - 1).zeros_like());
        }
    }
    let mut zeros = Zeros::<B>(BTreeMap::new());
    model.visit_params(&mut zeros);
    zeros.0
}

/// AdamW with HF's settings over a [`RobertaForQuestionAnswering`].
pub struct AdamW<B: AutodiffBackend> {
    pub config: AdamWConfig,
    /// Steps taken so far (bias correction uses it).
    pub steps: usize,
    /// `exp_avg` and `exp_avg_sq` by parameter name.
    moments: BTreeMap<String, (Flat<B>, Flat<B>)>,
}

impl<B: AutodiffBackend> AdamW<B> {
    pub fn new(config: AdamWConfig) -> Self {
        AdamW { config, steps: 0, moments: BTreeMap::new() }
    }

    /// One optimizer step at `lr` with the gradients of a backward pass through `model`.
    pub fn step(
        &mut self,
        lr: f64,
        mut model: RobertaForQuestionAnswering<B>,
        grads: &B::Gradients,
    ) -> (RobertaForQuestionAnswering<B>, StepStats) {
        let grads = gradients(&mut model, grads);
        self.apply(lr, model, grads)
    }

    /// One optimizer step at `lr` with gradients already gathered (and, with several devices,
    /// summed across them): clipping, then the update.
    pub fn apply(
        &mut self,
        lr: f64,
        mut model: RobertaForQuestionAnswering<B>,
        mut grads: Gradients<B>,
    ) -> (RobertaForQuestionAnswering<B>, StepStats) {
        // Global-norm clipping; the squares are summed in name order.
        let squares: Vec<Flat<B>> = grads.values().map(|g| g.clone().square().sum()).collect();
        let grad_norm = if squares.is_empty() { 0.0 } else { Tensor::cat(squares, 0).sum().into_scalar().elem::<f64>().sqrt() };
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
            grads: BTreeMap<String, Flat<B>>,
            moments: &'a mut BTreeMap<String, (Flat<B>, Flat<B>)>,
        }
        impl<B: AutodiffBackend> ParamVisitor<B> for Update<'_, B> {
            fn visit<const D: usize>(&mut self, name: &str, p: &mut Param<Tensor<B, D>>, _l: Layout) {
                let Some(g) = self.grads.remove(name) else { return };
                let value = p.val().inner();
                let shape = value.shape();
                let mut w = value.flatten::<1>(0, D - 1);
                if decays(name) && self.c.weight_decay != 0.0 {
                    w = w * (1.0 - self.lr * self.c.weight_decay);
                }
                let (m, v) = match self.moments.remove(name) {
                    Some(mv) => mv,
                    None => (g.zeros_like(), g.zeros_like()),
                };
                let m = m * self.c.beta1 + g.clone() * (1.0 - self.c.beta1);
                let v = v * self.c.beta2 + g.square() * (1.0 - self.c.beta2);
                let denom = v.clone().sqrt() / self.bias2_sqrt + self.c.eps;
                let w = w - m.clone() / denom * (self.lr / self.bias1);
                self.moments.insert(name.to_string(), (m, v));
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

    /// The moments as host tensors `<param>.exp_avg` and `<param>.exp_avg_sq` (flat), by name.
    pub fn export_moments(&self) -> Vec<(String, HostTensor)> {
        let host = |t: &Flat<B>| {
            let data = t.clone().into_data().convert::<f32>().to_vec::<f32>().expect("float moments");
            HostTensor { shape: vec![data.len()], data }
        };
        self.moments
            .iter()
            .flat_map(|(name, (m, v))| [(format!("{name}.exp_avg"), host(m)), (format!("{name}.exp_avg_sq"), host(v))])
            .collect()
    }

    /// Restore moments written by [`Self::export_moments`]; the error names what does not fit.
    pub fn import_moments(&mut self, mut tensors: BTreeMap<String, HostTensor>, device: &B::Device) -> Result<(), WeightsError> {
        self.moments.clear();
        let names: Vec<String> = tensors.keys().filter_map(|k| k.strip_suffix(".exp_avg").map(str::to_string)).collect();
        for name in names {
            let m = tensors.remove(&format!("{name}.exp_avg")).expect("listed");
            let v = tensors
                .remove(&format!("{name}.exp_avg_sq"))
                .ok_or_else(|| WeightsError::MomentMissing { name: name.clone() })?;
            if m.data.len() != v.data.len() {
                return Err(WeightsError::MomentSizes { name });
            }
            let t = |h: HostTensor| Flat::<B>::from_data(TensorData::new(h.data, [h.shape.iter().product::<usize>()]), device);
            self.moments.insert(name, (t(m), t(v)));
        }
        if let Some(k) = tensors.keys().next() {
            return Err(WeightsError::Unexpected(k.clone()));
        }
        Ok(())
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

#[cfg(all(test, feature = "flex"))]
mod resume_tests {
    use super::*;
    use crate::model::roberta::{qa_loss, QaInput, RobertaConfig};
    use crate::model::weights::model_to_tensors;
    use std::collections::BTreeMap;
    type B = burn::backend::Autodiff<burn::backend::Flex>;

    fn tiny() -> RobertaConfig {
        RobertaConfig::from_json(
            br#"{"vocab_size": 40, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "intermediate_size": 32, "max_position_embeddings": 20, "type_vocab_size": 1,
                 "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "layer_norm_eps": 1e-5}"#,
        )
        .unwrap()
    }

    #[test]
    fn moments_saved_and_restored_midway_give_bit_identical_weights() {
        let device = Default::default();
        <B as burn::tensor::backend::Backend>::seed(&device, 3);
        let start = tiny().init::<B>(&device);
        let ids: Vec<i64> = vec![0, 5, 6, 2, 2, 7, 8, 9, 2, 1, 0, 11, 2, 2, 12, 13, 14, 15, 2, 1];
        let mask: Vec<i64> = ids.iter().enumerate().map(|(i, _)| i64::from(i % 10 != 9)).collect();
        let input = || QaInput::<B> {
            input_ids: Tensor::from_data(TensorData::new(ids.clone(), [2, 10]), &device),
            attention_mask: Tensor::from_data(TensorData::new(mask.clone(), [2, 10]), &device),
        };
        let pos = |v: Vec<i64>| Tensor::<B, 1, burn::tensor::Int>::from_data(TensorData::new(v, [2]), &device);
        // Both runs start from the same weights, loaded from host tensors as a resume does.
        let host: BTreeMap<String, HostTensor> = model_to_tensors(&start).into_iter().collect();
        let load = || crate::model::weights::model_from_tensors::<B>(&tiny(), host.clone(), &device).unwrap().0;
        // Clipping on (max norm small enough to clip): the norm's summation order matters.
        let cfg = AdamWConfig { weight_decay: 0.01, max_grad_norm: Some(0.5), ..Default::default() };
        let (mut a, mut b) = (load(), load());
        let (mut oa, mut ob) = (AdamW::<B>::new(cfg.clone()), AdamW::<B>::new(cfg.clone()));
        let mut clipped = false;
        for step in 0..4 {
            let ga = qa_loss(&a.forward(input()), pos(vec![5, 0]), pos(vec![6, 0])).backward();
            let (next, stats) = oa.step(1e-2, a, &ga);
            a = next;
            clipped |= stats.grad_norm > 0.5;
            let gb = qa_loss(&b.forward(input()), pos(vec![5, 0]), pos(vec![6, 0])).backward();
            b = ob.step(1e-2, b, &gb).0;
            if step == 1 {
                // Checkpoint: moments and weights through host tensors, onto new ParamIds.
                let saved: BTreeMap<String, HostTensor> = ob.export_moments().into_iter().collect();
                assert_eq!(saved.len(), 2 * model_to_tensors(&b).len(), "two moments per parameter");
                let weights: BTreeMap<String, HostTensor> = model_to_tensors(&b).into_iter().collect();
                b = crate::model::weights::model_from_tensors::<B>(&tiny(), weights, &device).unwrap().0;
                let mut fresh = AdamW::<B>::new(cfg.clone());
                fresh.steps = ob.steps;
                fresh.import_moments(saved, &device).unwrap();
                ob = fresh;
            }
        }
        assert!(clipped, "the test must exercise clipping");
        let diffs: Vec<(String, f32)> = model_to_tensors(&a)
            .into_iter()
            .zip(model_to_tensors(&b))
            .map(|((n, x), (_, y))| (n, x.data.iter().zip(&y.data).map(|(p, q)| (p - q).abs()).fold(0.0, f32::max)))
            .filter(|(_, d)| *d != 0.0)
            .collect();
        assert!(diffs.is_empty(), "weights differ: {diffs:?}");
    }

    #[test]
    fn import_names_what_does_not_fit() {
        let device = Default::default();
        let mut opt = AdamW::<B>::new(AdamWConfig::default());
        let h = |n: usize| HostTensor { shape: vec![n], data: vec![0.0; n] };
        let only_avg: BTreeMap<String, HostTensor> = [("w.exp_avg".to_string(), h(2))].into_iter().collect();
        assert_eq!(opt.import_moments(only_avg, &device).unwrap_err().to_string(), "w.exp_avg_sq is missing");
        let sizes: BTreeMap<String, HostTensor> =
            [("w.exp_avg".to_string(), h(2)), ("w.exp_avg_sq".to_string(), h(3))].into_iter().collect();
        assert!(opt.import_moments(sizes, &device).unwrap_err().to_string().contains("differ in size"));
        let stray: BTreeMap<String, HostTensor> = [("x.other".to_string(), h(1))].into_iter().collect();
        assert_eq!(opt.import_moments(stray, &device).unwrap_err().to_string(), "unexpected tensor x.other");
    }
}
