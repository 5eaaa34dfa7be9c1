//! Windows into model inputs and model outputs back into logits: token ids and attention
//! masks padded to the longest window of a batch, training labels, and the start/end logits
//! of every window for decoding.

use crate::model::roberta::{QaInput, RobertaForQuestionAnswering};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use squadkit_core::preprocess::{Features, Window};

/// Token ids and attention mask of `windows`, padded to the longest of them (with fixed
/// padding every window already has the full length); also the number of real tokens.
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

/// The start and end labels of `windows`.
pub fn labels<B: Backend>(windows: &[&Window], device: &B::Device) -> (Tensor<B, 1, Int>, Tensor<B, 1, Int>) {
    let s: Vec<i64> = windows.iter().map(|w| i64::from(w.start_position)).collect();
    let e: Vec<i64> = windows.iter().map(|w| i64::from(w.end_position)).collect();
    let n = windows.len();
    (Tensor::from_data(TensorData::new(s, [n]), device), Tensor::from_data(TensorData::new(e, [n]), device))
}

/// Start and end logits of every window, row-major `[windows, width]` (width = the longest
/// window).
pub struct WindowLogits {
    pub start: Vec<f32>,
    pub end: Vec<f32>,
    pub width: usize,
}

impl WindowLogits {
    pub fn as_logits(&self) -> squadkit_core::decode::Logits<'_> {
        squadkit_core::decode::Logits { start: &self.start, end: &self.end, width: self.width }
    }
}

/// The logits of every window of `features` from a model in inference mode, `batch` windows
/// at a time.
pub fn predict_logits<B: Backend>(
    model: &RobertaForQuestionAnswering<B>,
    features: &Features,
    batch: usize,
    pad_id: u32,
    device: &B::Device,
) -> WindowLogits {
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
    WindowLogits { start, end, width }
}
