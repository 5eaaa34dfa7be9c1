//! Windows into model inputs and model outputs back into logits: token ids and attention
//! masks padded as [`Padding`] says (to the longest window of a batch, rounded up to a
//! multiple; a last partial batch filled up with empty rows), training labels, and the
//! start/end logits of every window for decoding.

use crate::roberta::{QaInput, RobertaForQuestionAnswering};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use squadkit_core::preprocess::{Features, Window};

/// How batches are shaped. Each new shape is a new set of GPU kernels to compile and tune, so
/// GPU runs keep the set small: widths rounded up to a multiple (HF's `pad_to_multiple_of`)
/// and every batch `rows` high (a last partial batch gets empty rows: all padding, no label,
/// no effect on the loss or its gradients). The CPU default pads to the longest window only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Padding {
    /// Round the width up to a multiple of this.
    pub multiple_of: Option<usize>,
    /// Fill a batch with empty rows up to this many.
    pub rows: Option<usize>,
    /// Never wider than this (the longest window a run makes: `--max-seq-length`).
    pub max_width: usize,
}

impl Default for Padding {
    /// To the longest window of each batch.
    fn default() -> Self {
        Padding { multiple_of: None, rows: None, max_width: usize::MAX }
    }
}

impl Padding {
    /// `[rows, width]` of a batch of windows of these lengths.
    pub fn shape(&self, lengths: impl IntoIterator<Item = usize>) -> [usize; 2] {
        let (mut n, mut longest) = (0, 1);
        for l in lengths {
            n += 1;
            longest = longest.max(l);
        }
        let width = match self.multiple_of {
            Some(m) if m > 1 => longest.div_ceil(m) * m,
            _ => longest,
        };
        [n.max(self.rows.unwrap_or(0)), width.min(self.max_width.max(longest))]
    }
}

/// Token ids and attention mask of `windows`, padded as `padding` says (with fixed padding
/// every window already has the full length); also the number of real tokens.
pub fn batch_input<B: Backend>(windows: &[&Window], pad_id: u32, padding: &Padding, device: &B::Device) -> (QaInput<B>, usize) {
    let [rows, width] = padding.shape(windows.iter().map(|w| w.len()));
    let mut ids = Vec::with_capacity(rows * width);
    let mut mask = Vec::with_capacity(rows * width);
    let mut real = 0;
    for w in windows {
        for i in 0..width {
            ids.push(i64::from(w.input_id(i, pad_id)));
            mask.push(i64::from(i < w.n_tokens()));
        }
        real += w.n_tokens();
    }
    // Empty rows: all padding, attending to nothing (every key masked: uniform attention, no NaN).
    ids.resize(rows * width, i64::from(pad_id));
    mask.resize(rows * width, 0);
    let shape = [rows, width];
    (
        QaInput {
            input_ids: Tensor::from_data(TensorData::new(ids, shape), device),
            attention_mask: Tensor::from_data(TensorData::new(mask, shape), device),
        },
        real,
    )
}

/// The start and end labels of `windows`, then `ignore` for the empty rows up to `rows`
/// (`ignore` = the batch's width: the loss's ignore index).
pub fn labels<B: Backend>(
    windows: &[&Window],
    [rows, ignore]: [usize; 2],
    device: &B::Device,
) -> (Tensor<B, 1, Int>, Tensor<B, 1, Int>) {
    let column = |f: fn(&Window) -> u16| -> Vec<i64> {
        let mut v: Vec<i64> = windows.iter().map(|w| i64::from(f(w))).collect();
        v.resize(rows.max(windows.len()), ignore as i64);
        v
    };
    let (s, e) = (column(|w| w.start_position), column(|w| w.end_position));
    let n = s.len();
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
/// at a time, padded as `padding` says (the logits of padding are dropped).
pub fn predict_logits<B: Backend>(
    model: &RobertaForQuestionAnswering<B>,
    features: &Features,
    batch: usize,
    pad_id: u32,
    padding: &Padding,
    device: &B::Device,
) -> WindowLogits {
    let width = features.windows.iter().map(|w| w.len()).max().unwrap_or(1);
    predict_window_logits(model, &features.windows, width, batch, pad_id, padding, device)
}

/// [`predict_logits`] of some windows (a rank's share of an evaluation), rows `width` wide
/// (the longest window of all the shares).
pub fn predict_window_logits<B: Backend>(
    model: &RobertaForQuestionAnswering<B>,
    windows: &[Window],
    width: usize,
    batch: usize,
    pad_id: u32,
    padding: &Padding,
    device: &B::Device,
) -> WindowLogits {
    let mut start = vec![0f32; windows.len() * width];
    let mut end = vec![0f32; windows.len() * width];
    let mut row = 0;
    for chunk in windows.chunks(batch.max(1)) {
        let refs: Vec<&Window> = chunk.iter().collect();
        let (input, _) = batch_input::<B>(&refs, pad_id, padding, device);
        let out = model.forward(input);
        let w = out.start_logits.dims()[1];
        let s = out.start_logits.into_data().convert::<f32>().to_vec::<f32>().expect("float logits");
        let e = out.end_logits.into_data().convert::<f32>().to_vec::<f32>().expect("float logits");
        // A batch rounded up to a multiple may be wider than the longest window of all.
        let keep = w.min(width);
        for r in 0..chunk.len() {
            start[(row + r) * width..(row + r) * width + keep].copy_from_slice(&s[r * w..r * w + keep]);
            end[(row + r) * width..(row + r) * width + keep].copy_from_slice(&e[r * w..r * w + keep]);
        }
        row += chunk.len();
    }
    WindowLogits { start, end, width }
}

/// A synthetic batch for benchmarks (`native/examples/model_bench.rs`, the browser worker's
/// bench), as bench/model_torch.py builds it: deterministic ids, row b padded
/// from `seq - 8 * b` on (at least half the row is real), answers inside.
pub fn synthetic(batch: usize, seq: usize, vocab: usize) -> (Vec<i64>, Vec<i64>, Vec<i64>, Vec<i64>) {
    let (mut ids, mut mask) = (Vec::new(), Vec::new());
    for b in 0..batch {
        let real = (seq - (8 * b).min(seq / 2)).max(2);
        for j in 0..seq {
            if j == 0 {
                ids.push(0);
                mask.push(1);
            } else if j == real - 1 {
                ids.push(2);
                mask.push(1);
            } else if j < real {
                ids.push(4 + ((b * 7919 + j * 104729) % (vocab - 4)) as i64);
                mask.push(1);
            } else {
                ids.push(1);
                mask.push(0);
            }
        }
    }
    let starts = (0..batch).map(|b| ((b * 37) % (seq / 2)) as i64).collect();
    let ends = (0..batch).map(|b| ((b * 37) % (seq / 2) + 3) as i64).collect();
    (ids, mask, starts, ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_rounds_widths_fills_rows_and_never_passes_the_longest_window_allowed() {
        let plain = Padding::default();
        assert_eq!(plain.shape([3, 70, 12]), [3, 70]);
        let gpu = Padding { multiple_of: Some(64), rows: Some(8), max_width: 384 };
        assert_eq!(gpu.shape([3, 70, 12]), [8, 128]);
        assert_eq!(gpu.shape([64; 8]), [8, 64]);
        assert_eq!(gpu.shape([380]), [8, 384], "capped at the longest window a run makes");
        let odd = Padding { multiple_of: Some(64), rows: None, max_width: 100 };
        assert_eq!(odd.shape([90, 2]), [2, 100]);
        // A window longer than max_width (not made by this run) is never cut.
        assert_eq!(odd.shape([120]), [1, 120]);
    }
}
