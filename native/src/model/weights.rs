//! HF model directories in and out: `config.json` + `model.safetensors` (or
//! `pytorch_model.bin`) to a [`RobertaForQuestionAnswering`], and back to a directory that
//! transformers' `AutoModelForQuestionAnswering.from_pretrained` loads as is. The tensors'
//! side (parsing, checks against the config, the model from and to HF tensors) is the model
//! crate's [`squadkit_model::weights`], re-exported here.

pub use squadkit_model::weights::*;

use crate::error::{CliError, Result};
use crate::fsio;
use burn::tensor::backend::Backend;
use squadkit_model::roberta::{RobertaConfig, RobertaForQuestionAnswering};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The tokenizer files copied into a saved model directory when the source has them.
pub const TOKENIZER_FILES: &[&str] =
    &["tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"];

/// Load an HF model directory onto `device`.
pub fn load_model_dir<B: Backend>(
    dir: &Path,
    device: &B::Device,
) -> Result<(RobertaConfig, RobertaForQuestionAnswering<B>, LoadReport)> {
    let config = crate::inputs::model_dir::read_config(dir)?;
    let (weights_file, tensors) = read_weights(dir)?;
    let (model, report) = model_from_tensors(&config, tensors, device).map_err(|m| CliError::input(&weights_file, m))?;
    Ok((config, model, LoadReport { weights_file, ..report }))
}

/// The checkpoint's tensors, from `model.safetensors` or else `pytorch_model.bin`.
pub fn read_weights(dir: &Path) -> Result<(PathBuf, BTreeMap<String, HostTensor>)> {
    let st = dir.join("model.safetensors");
    if st.exists() {
        let bytes = fsio::read(&st)?;
        let tensors = parse_safetensors(&bytes).map_err(|m| CliError::input(&st, m))?;
        return Ok((st, tensors));
    }
    let bin = dir.join("pytorch_model.bin");
    if bin.exists() {
        let tensors = read_pytorch_bin(&bin).map_err(|m| CliError::input(&bin, m))?;
        return Ok((bin, tensors));
    }
    let hint = if dir.join("model.safetensors.index.json").exists() {
        " (sharded checkpoints are not supported: save it as one file)"
    } else {
        ""
    };
    Err(CliError::input(dir, format!("no model.safetensors or pytorch_model.bin in this directory{hint}")))
}

/// Every float tensor of a PyTorch `pytorch_model.bin` (zip or legacy pickle format).
fn read_pytorch_bin(path: &Path) -> std::result::Result<BTreeMap<String, HostTensor>, WeightsError> {
    let reader = burn_store::pytorch::PytorchReader::new(path).map_err(|e| WeightsError::Pytorch(e.to_string()))?;
    let mut out = BTreeMap::new();
    for (name, snap) in reader.into_tensors() {
        let data = snap.to_data().map_err(|e| WeightsError::Tensor { name: name.clone(), problem: format!("{e:?}") })?;
        let shape = data.shape.to_vec();
        let data = if data.dtype.is_float() {
            data.convert::<f32>()
                .to_vec::<f32>()
                .map_err(|e| WeightsError::Tensor { name: name.clone(), problem: format!("{e:?}") })?
        } else {
            Vec::new()
        };
        out.insert(normalize_key(&name), HostTensor { shape, data });
    }
    Ok(out)
}

/// Save as an HF directory: `config.json` (QA architecture), `model.safetensors`, and the
/// tokenizer files found in `tokenizer_from`. The directory is written beside `out` and
/// renamed into place: an interrupted save leaves any previous model there whole.
pub fn save_model_dir<B: Backend>(
    model: &RobertaForQuestionAnswering<B>,
    config: &RobertaConfig,
    tokenizer_from: Option<&Path>,
    out: &Path,
) -> Result<()> {
    if out.exists() && !(out.is_dir() && (out.join("config.json").exists() || is_empty_dir(out))) {
        return Err(CliError::input(out, "exists and is not a model directory: not overwriting it"));
    }
    let dir = crate::output::DirAside::new(out)?;
    crate::output::write_owned(&dir.path().join("config.json"), config.to_qa_json().as_bytes())?;
    crate::output::write_owned(&dir.path().join("model.safetensors"), &serialize_safetensors(&model_to_tensors(model)))?;
    if let Some(src) = tokenizer_from {
        for f in TOKENIZER_FILES {
            let p = src.join(f);
            if p.exists() {
                crate::output::write_owned(&dir.path().join(f), &fsio::read(&p)?)?;
            }
        }
    }
    dir.commit()
}

fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).map(|mut d| d.next().is_none()).unwrap_or(false)
}
