//! AdamW whose state can be checkpointed: the same update as [`crate::train::optim::AdamW`]
//! (torch's AdamW with HF's settings and global-norm clipping; see that module for the
//! formulas), with the moments keyed by HF parameter name instead of burn's `ParamId`, so that
//! they can be written to `optimizer.safetensors` and read back onto a model loaded from a
//! checkpoint (whose `ParamId`s are new).
//!
//! `optim::AdamW` keeps its moments private; until it can export and import them, the trainer
//! uses this one. The unit test below checks that both give bit-identical weights.

use crate::model::roberta::{Layout, ParamVisitor, RobertaForQuestionAnswering};
use crate::model::weights::{decays, HostTensor};
use crate::train::optim::{AdamWConfig, StepStats};
use burn::module::Param;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor, TensorData};
use std::collections::{BTreeMap, HashMap};

type Moment<B> = Tensor<<B as AutodiffBackend>::InnerBackend, 1>;

/// AdamW with named, exportable moments.
pub struct ResumableAdamW<B: AutodiffBackend> {
    pub config: AdamWConfig,
    /// Steps taken so far (bias correction uses it).
    pub steps: usize,
    moments: HashMap<String, (Moment<B>, Moment<B>)>,
}

impl<B: AutodiffBackend> ResumableAdamW<B> {
    pub fn new(config: AdamWConfig) -> Self {
        ResumableAdamW { config, steps: 0, moments: HashMap::new() }
    }

    /// One optimizer step at `lr` with the gradients of a backward pass through `model`.
    pub fn step(&mut self, lr: f64, mut model: RobertaForQuestionAnswering<B>, grads: &B::Gradients) -> (RobertaForQuestionAnswering<B>, StepStats) {
        struct Gather<'a, B: AutodiffBackend> {
            grads: &'a B::Gradients,
            out: BTreeMap<String, Moment<B>>,
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
        let mut grads = gather.out;
        // The squares are summed in parameter-name order: a fixed order makes the norm, and so
        // the clipping, reproducible bit for bit (optim::AdamW sums in a HashMap's random order).
        let squares: Vec<Moment<B>> = grads.values().map(|g| g.clone().square().sum()).collect();
        let grad_norm = if squares.is_empty() { 0.0 } else { Tensor::cat(squares, 0).sum().into_scalar().elem::<f64>().sqrt() };
        if let Some(max) = self.config.max_grad_norm {
            let coef = (max / (grad_norm + 1e-6)).min(1.0);
            for g in grads.values_mut() {
                *g = g.clone() * coef;
            }
        }
        self.steps += 1;
        let t = self.steps as i32;
        struct Update<'a, B: AutodiffBackend> {
            c: &'a AdamWConfig,
            lr: f64,
            bias1: f64,
            bias2_sqrt: f64,
            grads: BTreeMap<String, Moment<B>>,
            moments: &'a mut HashMap<String, (Moment<B>, Moment<B>)>,
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

    /// The moments as host tensors `<param>.exp_avg` and `<param>.exp_avg_sq` (flat), sorted by name.
    pub fn export_moments(&self) -> Vec<(String, HostTensor)> {
        let host = |t: &Moment<B>| {
            let data = t.clone().into_data().convert::<f32>().to_vec::<f32>().expect("float moments");
            HostTensor { shape: vec![data.len()], data }
        };
        let sorted: BTreeMap<&String, &(Moment<B>, Moment<B>)> = self.moments.iter().collect();
        sorted
            .into_iter()
            .flat_map(|(name, (m, v))| [(format!("{name}.exp_avg"), host(m)), (format!("{name}.exp_avg_sq"), host(v))])
            .collect()
    }

    /// Restore moments written by [`Self::export_moments`]; the error names what does not fit.
    pub fn import_moments(&mut self, mut tensors: BTreeMap<String, HostTensor>, device: &B::Device) -> Result<(), String> {
        self.moments.clear();
        let names: Vec<String> = tensors.keys().filter_map(|k| k.strip_suffix(".exp_avg").map(str::to_string)).collect();
        for name in names {
            let m = tensors.remove(&format!("{name}.exp_avg")).expect("listed");
            let v = tensors.remove(&format!("{name}.exp_avg_sq")).ok_or_else(|| format!("{name}.exp_avg_sq is missing"))?;
            if m.data.len() != v.data.len() {
                return Err(format!("{name}: exp_avg and exp_avg_sq differ in size"));
            }
            let t = |h: HostTensor| Tensor::<B::InnerBackend, 1>::from_data(TensorData::new(h.data, [h.shape.iter().product::<usize>()]), device);
            self.moments.insert(name, (t(m), t(v)));
        }
        if let Some(k) = tensors.keys().next() {
            return Err(format!("unexpected tensor {k}"));
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use crate::model::roberta::{qa_loss, QaInput, RobertaConfig};
    use crate::model::weights::model_to_tensors;
    use crate::train::optim::AdamW;
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
    fn same_weights_as_optim_adamw_and_moments_round_trip() {
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
        // Without clipping (optim::AdamW's norm depends on a HashMap's order in its last bits).
        // Parameters initialise lazily (a clone draws its own values): start both from data.
        let host: BTreeMap<String, HostTensor> = model_to_tensors(&start).into_iter().collect();
        let load = || crate::model::weights::model_from_tensors::<B>(&tiny(), host.clone(), &device).unwrap().0;
        let cfg = AdamWConfig { weight_decay: 0.01, max_grad_norm: None, ..Default::default() };
        let (mut a, mut b) = (load(), load());
        let mut oa = AdamW::<B>::new(cfg.clone());
        let mut ob = ResumableAdamW::<B>::new(cfg.clone());
        for step in 0..3 {
            let ga = qa_loss(&a.forward(input()), pos(vec![5, 0]), pos(vec![6, 0])).backward();
            a = oa.step(1e-2, a, &ga).0;
            let gb = qa_loss(&b.forward(input()), pos(vec![5, 0]), pos(vec![6, 0])).backward();
            b = ob.step(1e-2, b, &gb).0;
            if step == 1 {
                // Checkpoint and restore the moments mid-way.
                let saved: BTreeMap<String, HostTensor> = ob.export_moments().into_iter().collect();
                let mut fresh = ResumableAdamW::<B>::new(cfg.clone());
                fresh.steps = ob.steps;
                fresh.import_moments(saved, &device).unwrap();
                ob = fresh;
            }
        }
        let diffs: Vec<(String, f32)> = model_to_tensors(&a)
            .into_iter()
            .zip(model_to_tensors(&b))
            .map(|((n, x), (_, y))| (n, x.data.iter().zip(&y.data).map(|(p, q)| (p - q).abs()).fold(0.0, f32::max)))
            .filter(|(_, d)| *d != 0.0)
            .collect();
        assert!(diffs.is_empty(), "weights differ: {diffs:?}");
    }
}
