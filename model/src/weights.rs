//! HF weights without I/O: a checkpoint's tensors parsed from safetensors bytes
//! ([`parse_safetensors`]), checked against the config and turned into a
//! [`RobertaForQuestionAnswering`] ([`model_from_tensors`]), and back ([`model_to_tensors`],
//! [`serialize_safetensors`]). Files and directories are the callers' (the CLI's
//! `model/weights.rs`, the browser's worker).
//!
//! A base checkpoint (`RobertaForMaskedLM`, `RobertaModel`) loads too: its LM head and pooler
//! are reported as unused and the QA head is new, initialised as transformers does (normal(0,
//! initializer_range) weights, zero bias). Any other missing key, and any shape mismatch, is an
//! error naming the key.

use crate::roberta::{ConfigError, Layout, ParamVisitor, RobertaConfig, RobertaForQuestionAnswering};
use burn::module::Param;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A float32 tensor on the host in HF layout (row-major, PyTorch's shape).
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// What is wrong with a weights file, or with how it fits the config (the caller names the
/// file).
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("not a valid safetensors file: {0}")]
    Safetensors(#[from] safetensors::SafeTensorError),
    #[error("not a readable PyTorch checkpoint: {0}")]
    Pytorch(String),
    #[error("tensor {name}: {problem}")]
    Tensor { name: String, problem: String },
    #[error("{name}: shape {found:?} in the checkpoint, the config needs {expected:?}")]
    Shape { name: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("{name}: not a float tensor")]
    NotFloat { name: String },
    #[error("{name} has shape {found:?} but config.json says {expected:?} ({fields})")]
    ConfigSize { name: &'static str, found: Vec<usize>, expected: Vec<usize>, fields: &'static str },
    #[error("the checkpoint has {found} layers but config.json says num_hidden_layers {config}")]
    Layers { found: usize, config: usize },
    #[error("{} parameter(s) missing from the checkpoint (not a RoBERTa checkpoint for this config?): {}{}", .names.len(), .names.iter().take(5).cloned().collect::<Vec<_>>().join(", "), if .names.len() > 5 { ", ..." } else { "" })]
    Missing { names: Vec<String> },
    #[error("{name}.exp_avg_sq is missing")]
    MomentMissing { name: String },
    #[error("{name}: exp_avg and exp_avg_sq differ in size")]
    MomentSizes { name: String },
    #[error("unexpected tensor {0}")]
    Unexpected(String),
}

/// What loading found: keys the model did not use, and keys it needed but the file lacked
/// (only the QA head may be missing: it is then freshly initialised).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    pub weights_file: PathBuf,
    pub loaded: usize,
    pub missing: Vec<String>,
    pub unused: Vec<String>,
}

impl LoadReport {
    /// True when the QA head was not in the checkpoint (a base model such as roberta-base).
    pub fn fresh_qa_head(&self) -> bool {
        self.missing.iter().any(|k| k.starts_with("qa_outputs."))
    }
}

/// Every tensor of a safetensors file as float32 (F32, F16, BF16 and F64 are accepted).
pub fn parse_safetensors(bytes: &[u8]) -> std::result::Result<BTreeMap<String, HostTensor>, WeightsError> {
    use safetensors::Dtype;
    let st = safetensors::SafeTensors::deserialize(bytes)?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => raw.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            Dtype::BF16 => raw.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            Dtype::F64 => raw.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32).collect(),
            // Integer buffers (e.g. an old `position_ids`) are not parameters: kept only as unused keys.
            _ => Vec::new(),
        };
        out.insert(normalize_key(&name), HostTensor { shape: view.shape().to_vec(), data });
    }
    Ok(out)
}

/// What is wrong with a model's files, named as in an HF model directory.
#[derive(Debug, thiserror::Error)]
pub enum ModelFilesError {
    #[error("config.json: {0}")]
    Config(#[from] ConfigError),
    #[error("model.safetensors: {0}")]
    Weights(#[from] WeightsError),
}

/// A model from the bytes of an HF directory's `config.json` and `model.safetensors`, with
/// what loading found (the caller decides whether a fresh QA head is acceptable).
pub fn model_from_bytes<B: Backend>(
    config_json: &[u8],
    safetensors: &[u8],
    device: &B::Device,
) -> Result<(RobertaConfig, RobertaForQuestionAnswering<B>, LoadReport), ModelFilesError> {
    let config = RobertaConfig::from_json(config_json)?;
    let tensors = parse_safetensors(safetensors)?;
    let (model, report) = model_from_tensors(&config, tensors, device)?;
    Ok((config, model, report))
}

/// Checkpoint keys as `RobertaForQuestionAnswering` names them: a bare `RobertaModel`'s keys
/// get the `roberta.` prefix, and old LayerNorm names (`gamma`, `beta`) become `weight`, `bias`
/// (as transformers renames them on load).
pub fn normalize_key(key: &str) -> String {
    let mut k = key.to_string();
    if ["embeddings.", "encoder.", "pooler."].iter().any(|p| k.starts_with(p)) {
        k = format!("roberta.{k}");
    }
    if k.contains("LayerNorm.") {
        if let Some(s) = k.strip_suffix(".gamma") {
            k = format!("{s}.weight");
        } else if let Some(s) = k.strip_suffix(".beta") {
            k = format!("{s}.bias");
        }
    }
    k
}

/// Build the model from HF tensors. The error says which key is wrong and how.
pub fn model_from_tensors<B: Backend>(
    config: &RobertaConfig,
    mut tensors: BTreeMap<String, HostTensor>,
    device: &B::Device,
) -> std::result::Result<(RobertaForQuestionAnswering<B>, LoadReport), WeightsError> {
    struct Loader<'a, B: Backend> {
        tensors: &'a mut BTreeMap<String, HostTensor>,
        device: &'a B::Device,
        loaded: usize,
        missing: Vec<String>,
        error: Option<WeightsError>,
    }
    impl<B: Backend> ParamVisitor<B> for Loader<'_, B> {
        fn visit<const D: usize>(&mut self, name: &str, param: &mut Param<Tensor<B, D>>, layout: Layout) {
            if self.error.is_some() {
                return;
            }
            let Some(t) = self.tensors.remove(name) else {
                self.missing.push(name.to_string());
                return;
            };
            let ours = param.shape().to_vec();
            let expected = hf_shape(&ours, layout);
            if t.shape != expected {
                self.error = Some(WeightsError::Shape { name: name.to_string(), found: t.shape, expected });
                return;
            }
            if t.data.len() != expected.iter().product::<usize>() {
                self.error = Some(WeightsError::NotFloat { name: name.to_string() });
                return;
            }
            let data = match layout {
                Layout::Same => t.data,
                Layout::Transposed => transpose(&t.data, expected[0], expected[1]),
            };
            let tensor = Tensor::<B, D>::from_data(TensorData::new(data, ours), self.device);
            *param = Param::initialized(param.id, tensor.require_grad());
            self.loaded += 1;
        }
    }
    check_sizes(config, &tensors)?;
    let mut model = config.init::<B>(device);
    let mut loader = Loader::<B> { tensors: &mut tensors, device, loaded: 0, missing: Vec::new(), error: None };
    model.visit_params(&mut loader);
    if let Some(e) = loader.error {
        return Err(e);
    }
    let (loaded, missing) = (loader.loaded, loader.missing);
    let not_head: Vec<String> = missing.iter().filter(|k| !k.starts_with("qa_outputs.")).cloned().collect();
    if !not_head.is_empty() {
        return Err(WeightsError::Missing { names: not_head });
    }
    let unused = tensors.into_keys().collect();
    Ok((model, LoadReport { weights_file: PathBuf::new(), loaded, missing, unused }))
}

/// The config's sizes against the checkpoint's tensors, before a model of the config's size
/// is allocated: the embeddings, the number of layers and the feed-forward width.
fn check_sizes(config: &RobertaConfig, tensors: &BTreeMap<String, HostTensor>) -> std::result::Result<(), WeightsError> {
    let c = config;
    let expect = [
        ("roberta.embeddings.word_embeddings.weight", vec![c.vocab_size, c.hidden_size], "vocab_size, hidden_size"),
        (
            "roberta.embeddings.position_embeddings.weight",
            vec![c.max_position_embeddings, c.hidden_size],
            "max_position_embeddings, hidden_size",
        ),
        (
            "roberta.encoder.layer.0.intermediate.dense.weight",
            vec![c.intermediate_size, c.hidden_size],
            "intermediate_size, hidden_size",
        ),
    ];
    for (name, want, fields) in expect {
        if let Some(t) = tensors.get(name) {
            if t.shape != want {
                return Err(WeightsError::ConfigSize { name, found: t.shape.clone(), expected: want, fields });
            }
        }
    }
    let layers = tensors
        .keys()
        .filter_map(|k| k.strip_prefix("roberta.encoder.layer.")?.split('.').next()?.parse::<usize>().ok())
        .max()
        .map(|n| n + 1);
    match layers {
        Some(n) if n != c.num_hidden_layers => Err(WeightsError::Layers { found: n, config: c.num_hidden_layers }),
        _ => Ok(()),
    }
}

/// Every parameter as an HF tensor (float32, PyTorch layout), keyed by its HF name, in the
/// model's order.
pub fn model_to_tensors<B: Backend>(model: &RobertaForQuestionAnswering<B>) -> Vec<(String, HostTensor)> {
    struct Collector(Vec<(String, HostTensor)>);
    impl<B: Backend> ParamVisitor<B> for Collector {
        fn visit<const D: usize>(&mut self, name: &str, param: &mut Param<Tensor<B, D>>, layout: Layout) {
            self.0.push((name.to_string(), to_host(param.val(), layout)));
        }
    }
    let mut c = Collector(Vec::new());
    model.clone().visit_params(&mut c);
    c.0
}

/// A tensor (a parameter or its gradient) as float32 in PyTorch layout.
pub fn to_host<B: Backend, const D: usize>(t: Tensor<B, D>, layout: Layout) -> HostTensor {
    let ours = t.dims().to_vec();
    let data = t.into_data().convert::<f32>().to_vec::<f32>().expect("float data");
    match layout {
        Layout::Same => HostTensor { shape: ours, data },
        Layout::Transposed => HostTensor { shape: hf_shape(&ours, layout), data: transpose(&data, ours[0], ours[1]) },
    }
}

/// `tensors` as a safetensors file (float32, metadata `format: pt` as transformers expects).
pub fn serialize_safetensors(tensors: &[(String, HostTensor)]) -> Vec<u8> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, t)| (n.clone(), t.shape.clone(), t.data.iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(n, s, b)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b).expect("sizes agree"))
        })
        .collect();
    let metadata = Some(std::collections::HashMap::from([("format".to_string(), "pt".to_string())]));
    safetensors::serialize(views, metadata).expect("safetensors serializes")
}

/// The names of the parameters that get weight decay in the HF Trainer: all but biases and
/// LayerNorm weights.
pub fn decays(name: &str) -> bool {
    !(name.ends_with(".bias") || name.contains("LayerNorm."))
}

/// The set of HF parameter names of a model.
pub fn param_names<B: Backend>(model: &RobertaForQuestionAnswering<B>) -> BTreeSet<String> {
    model_to_tensors(model).into_iter().map(|(n, _)| n).collect()
}

fn hf_shape(ours: &[usize], layout: Layout) -> Vec<usize> {
    match layout {
        Layout::Same => ours.to_vec(),
        Layout::Transposed => vec![ours[1], ours[0]],
    }
}

/// Row-major `[rows, cols]` → `[cols, rows]`.
fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = data[r * cols + c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_bare_and_old_checkpoints_are_normalized() {
        assert_eq!(normalize_key("embeddings.LayerNorm.gamma"), "roberta.embeddings.LayerNorm.weight");
        assert_eq!(
            normalize_key("roberta.encoder.layer.0.output.LayerNorm.beta"),
            "roberta.encoder.layer.0.output.LayerNorm.bias"
        );
        assert_eq!(normalize_key("lm_head.dense.weight"), "lm_head.dense.weight");
        assert_eq!(normalize_key("qa_outputs.bias"), "qa_outputs.bias");
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        assert_eq!(transpose(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn weight_decay_skips_biases_and_layer_norms() {
        assert!(decays("roberta.encoder.layer.0.attention.self.query.weight"));
        assert!(decays("roberta.embeddings.word_embeddings.weight"));
        assert!(!decays("roberta.encoder.layer.0.attention.self.query.bias"));
        assert!(!decays("roberta.embeddings.LayerNorm.weight"));
        assert!(!decays("roberta.encoder.layer.1.output.LayerNorm.bias"));
        assert!(!decays("qa_outputs.bias"));
    }
}
