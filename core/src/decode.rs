//! Span decoding: start/end logits of every window → one answer per example, as utils_qa does.
//!
//! [`decode`] follows `postprocess_qa_predictions(version_2_with_negative=True)` of HF's
//! `utils_qa.py` step by step, in float32 where numpy computes in float32, so that its outputs
//! (predictions, n-best lists, null odds) are the Python ones bit for bit:
//!
//! - the example's null score is the MINIMUM over its windows of `start[0] + end[0]` (a later
//!   window replaces it only when strictly smaller);
//! - candidates are the `n_best` highest start indices × the `n_best` highest end indices of each
//!   window (no full sort: a partial selection gives numpy's `argsort()[::-1][:n]`), minus
//!   spans outside the context, reversed, or longer than `max_answer_length`;
//! - with the null candidate they are sorted by score (stable, descending) and cut to
//!   `n_best`, the null is re-appended if cut; texts are context slices in code points;
//! - probabilities are a float32 softmax with numpy's pairwise summation; null odds are
//!   `null_score - best.start_logit - best.end_logit` in float32 against the threshold rounded
//!   to float32.
//!
//! [`Strategy::Argmax`] is the seed blog's decoding instead: per window, the argmax of the start
//! and of the end logits over every position, the span's text when end > start, else "".
//!
//! Where utils_qa has no single answer, squadkit defines one:
//! - equal logits: numpy's unstable argsort orders ties differently on different CPUs; here the
//!   HIGHER index comes first among equals (the reverse of a stable ascending argsort) and NaN
//!   counts as the largest value, as numpy sorts it;
//! - an n-best list with no non-empty text raises IndexError in utils_qa when it has two or
//!   more entries (possible with a small `n_best`); here the "empty" fallback that utils_qa
//!   inserts for a lone null entry is inserted for every such list.

use crate::json::{push_py_json_float, push_py_json_str, PyNumber};
use crate::preprocess::{Features, Window};
use crate::scorer::{NaProbs, Predictions};
use crate::squad::Dataset;
use std::cmp::Ordering;
use std::fmt;

/// How an answer is chosen from a window's logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// utils_qa's `postprocess_qa_predictions`: the best of the n-best start × end spans
    /// inside the context against the null score and the threshold; n-best lists and null odds.
    #[default]
    NBest,
    /// The seed blog's: `s = argmax(start)`, `e = argmax(end)` over every position of the
    /// example's one window (the first on ties, a NaN first, as numpy), the text from `s`'s
    /// start offset to `e`'s end offset when `e > s` (question and padding tokens included:
    /// their offsets slice the context as Python would), else "". No n-best list, no null odds,
    /// no threshold, no maximum length.
    Argmax,
}

impl Strategy {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::NBest => "nbest",
            Strategy::Argmax => "argmax",
        }
    }
}

/// utils_qa's arguments, and the strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeOptions {
    pub n_best: usize,
    pub max_answer_length: usize,
    /// `null_score_diff_threshold`, compared in float32 as numpy does.
    pub null_threshold: f32,
    pub strategy: Strategy,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { n_best: 20, max_answer_length: 30, null_threshold: 0.0, strategy: Strategy::NBest }
    }
}

/// Logits of all windows: row-major `[windows, width]` matrices; positions of a row beyond
/// its window's length are ignored.
#[derive(Debug, Clone, Copy)]
pub struct Logits<'a> {
    pub start: &'a [f32],
    pub end: &'a [f32],
    pub width: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("logits have {got} rows but the features have {expected} windows")]
    Rows { expected: usize, got: usize },
    #[error("logit rows have {got} positions but a window has {expected} tokens")]
    Width { expected: usize, got: usize },
    #[error("start logits have {start} values and end logits {end}: they must have the same shape")]
    Shape { start: usize, end: usize },
    #[error("a window belongs to example {index} but the dataset has {examples} examples")]
    Example { index: usize, examples: usize },
    #[error("n-best size must be at least 1")]
    NBest,
    #[error(
        "argmax decoding takes one window per question (the seed recipe) but example {id} has {windows}: \
         prepare with `--recipe seed`, or decode with the n-best strategy"
    )]
    ArgmaxWindows { id: String, windows: usize },
}

/// One n-best entry, as utils_qa writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NbestEntry {
    pub text: String,
    pub start_logit: f32,
    pub end_logit: f32,
    /// Float32 softmax widened to f64, or the float64 softmax of a list with the fallback.
    pub probability: f64,
    /// Where the text is in the context: code-point offsets `[start, end)`; (0, 0) for the
    /// null answer and the placeholder. Not written to the n-best file (utils_qa drops them).
    pub offsets: (u32, u32),
    /// utils_qa's `{"text": "empty", ...}` placeholder (its keys come in another order).
    pub fallback: bool,
}

/// The decoded answer of one example.
#[derive(Debug, Clone, PartialEq)]
pub struct ExamplePrediction {
    pub id: String,
    /// "" when the null answer wins.
    pub prediction: String,
    /// `score_diff`: null score minus the best non-null span's score (float32).
    pub null_odds: f32,
    pub nbest: Vec<NbestEntry>,
}

/// All examples' predictions, in dataset order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    pub examples: Vec<ExamplePrediction>,
    /// How they were chosen: [`Strategy::Argmax`] leaves n-best lists empty and null odds NaN.
    pub strategy: Strategy,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    offsets: (u32, u32),
    score: f32,
    start_logit: f32,
    end_logit: f32,
}

/// Decode every example of `dataset` from the logits of `features`' windows.
pub fn decode(dataset: &Dataset, features: &Features, logits: Logits, opts: &DecodeOptions) -> Result<Decoded, DecodeError> {
    decode_with(dataset, features, logits, opts, |n, run| run(0..n))
}

/// [`decode`], letting `split` run the examples in parts (e.g. one thread per range): it gets
/// the number of examples and a function decoding a range of them, and returns the parts'
/// results in example order. No I/O or threads here, so the browser uses the same code.
pub fn decode_with<S>(
    dataset: &Dataset,
    features: &Features,
    logits: Logits,
    opts: &DecodeOptions,
    split: S,
) -> Result<Decoded, DecodeError>
where
    S: FnOnce(usize, &(dyn Fn(std::ops::Range<usize>) -> Vec<ExamplePrediction> + Sync)) -> Vec<ExamplePrediction>,
{
    if opts.n_best == 0 {
        return Err(DecodeError::NBest);
    }
    if logits.start.len() != logits.end.len() {
        return Err(DecodeError::Shape { start: logits.start.len(), end: logits.end.len() });
    }
    let rows = logits.start.len().checked_div(logits.width).unwrap_or(0);
    if rows * logits.width != logits.start.len() || rows != features.windows.len() {
        return Err(DecodeError::Rows { expected: features.windows.len(), got: rows });
    }
    if let Some(w) = features.windows.iter().find(|w| w.len() > logits.width) {
        return Err(DecodeError::Width { expected: w.len(), got: logits.width });
    }
    if let Some(w) = features.windows.iter().find(|w| w.example as usize >= dataset.examples.len()) {
        return Err(DecodeError::Example { index: w.example as usize, examples: dataset.examples.len() });
    }
    let by_example = features.windows_by_example(dataset.examples.len());
    if opts.strategy == Strategy::Argmax {
        if let Some((e, r)) = by_example.iter().enumerate().find(|(_, r)| r.len() != 1) {
            return Err(DecodeError::ArgmaxWindows { id: dataset.examples[e].id.clone(), windows: r.len() });
        }
    }
    let run = |examples: std::ops::Range<usize>| -> Vec<ExamplePrediction> {
        let mut scratch = Scratch::default();
        examples
            .map(|e| {
                let example = &dataset.examples[e];
                let mut windows = by_example[e].clone().map(|i| {
                    let row = i * logits.width..i * logits.width + features.windows[i].len();
                    (&features.windows[i], &logits.start[row.clone()], &logits.end[row])
                });
                match opts.strategy {
                    Strategy::NBest => decode_example(&example.id, &example.context, windows, opts, &mut scratch),
                    Strategy::Argmax => {
                        let one = windows.next().expect("checked: one window per example");
                        argmax_example(&example.id, &example.context, one, &mut scratch)
                    }
                }
            })
            .collect()
    };
    let examples = split(dataset.examples.len(), &run);
    Ok(Decoded { examples, strategy: opts.strategy })
}

/// numpy's `argmax`: the first index of the largest value, or of the first NaN.
fn argmax(x: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v.is_nan() {
            return i;
        }
        if v > x[best] {
            best = i;
        }
    }
    best
}

/// The seed blog's decoding of an example's one window ([`Strategy::Argmax`]).
fn argmax_example(
    id: &str,
    context: &str,
    (window, start, end): (&Window, &[f32], &[f32]),
    scratch: &mut Scratch,
) -> ExamplePrediction {
    let (s, e) = (argmax(start), argmax(end));
    let prediction = if e > s {
        char_slice_fast(context, &mut scratch.char_bytes, (window.raw_offset(s).0, window.raw_offset(e).1)).to_string()
    } else {
        String::new()
    };
    ExamplePrediction { id: id.to_string(), prediction, null_odds: f32::NAN, nbest: Vec::new() }
}

/// Reusable buffers.
#[derive(Default)]
struct Scratch {
    /// Sort keys: an order key in the high half, an index in the low half.
    keys: Vec<u64>,
    prelim: Vec<Candidate>,
    /// Byte index of every code point of the current context (built on first use).
    char_bytes: (usize, Vec<u32>),
}

/// Python's `context[start:end]` in code points, with a code point → byte table per context
/// (identified by its address: the examples of a paragraph share one `Arc<str>`).
fn char_slice_fast<'c>(context: &'c str, table: &mut (usize, Vec<u32>), (start, end): (u32, u32)) -> &'c str {
    if context.is_ascii() {
        let n = context.len();
        let (s, e) = ((start as usize).min(n), (end as usize).min(n));
        return if e <= s { "" } else { &context[s..e] };
    }
    let key = context.as_ptr() as usize ^ context.len().rotate_left(48);
    if table.0 != key || table.1.is_empty() {
        table.0 = key;
        table.1.clear();
        table.1.extend(context.char_indices().map(|(b, _)| b as u32));
        table.1.push(context.len() as u32);
    }
    let n = table.1.len() - 1;
    let (s, e) = ((start as usize).min(n), (end as usize).min(n));
    if e <= s {
        return "";
    }
    &context[table.1[s] as usize..table.1[e] as usize]
}

/// utils_qa's loop body for one example; `windows` yields each window with its logits rows
/// (exactly the window's length). An example without windows gets the "empty" fallback.
fn decode_example<'a>(
    id: &str,
    context: &str,
    windows: impl Iterator<Item = (&'a Window, &'a [f32], &'a [f32])>,
    opts: &DecodeOptions,
    scratch: &mut Scratch,
) -> ExamplePrediction {
    let mut min_null: Option<Candidate> = None;
    scratch.prelim.clear();
    for (window, start, end) in windows {
        let null_score = start[0] + end[0];
        if min_null.is_none_or(|m| m.score > null_score) {
            min_null = Some(Candidate { offsets: (0, 0), score: null_score, start_logit: start[0], end_logit: end[0] });
        }
        let starts = top_k(start, opts.n_best, &mut scratch.keys);
        let ends = top_k(end, opts.n_best, &mut scratch.keys);
        for &s in &starts {
            let Some(so) = window.context_offset(s) else { continue };
            for &e in &ends {
                let Some(eo) = window.context_offset(e) else { continue };
                if e < s || e - s + 1 > opts.max_answer_length {
                    continue;
                }
                scratch.prelim.push(Candidate {
                    offsets: (so.0, eo.1),
                    score: start[s] + end[e],
                    start_logit: start[s],
                    end_logit: end[e],
                });
            }
        }
    }
    let mut kept: Vec<Candidate> = Vec::with_capacity(opts.n_best + 2);
    if let Some(null) = min_null {
        scratch.prelim.push(null);
        // `sorted(..., reverse=True)` is stable: equal scores keep their order.
        // `sorted(..., reverse=True)[:n_best]` without sorting everything: select the first
        // n_best by (score descending, position ascending), a total order equal to the stable
        // sort's, then sort those.
        // As integers: ascending keys = score descending, then position ascending.
        let prelim = &scratch.prelim;
        let keys = &mut scratch.keys;
        keys.clear();
        keys.extend(prelim.iter().enumerate().map(|(i, c)| u64::from(!order_key(c.score)) << 32 | i as u64));
        if opts.n_best < keys.len() {
            keys.select_nth_unstable(opts.n_best - 1);
            keys.truncate(opts.n_best);
        }
        keys.sort_unstable();
        kept.extend(keys.iter().map(|&k| prelim[k as u32 as usize]));
        if !kept.iter().any(|c| c.offsets == (0, 0)) {
            kept.push(null);
        }
    }
    let mut nbest: Vec<NbestEntry> = kept
        .iter()
        .map(|c| NbestEntry {
            text: char_slice_fast(context, &mut scratch.char_bytes, c.offsets).to_string(),
            start_logit: c.start_logit,
            end_logit: c.end_logit,
            probability: 0.0,
            offsets: c.offsets,
            fallback: false,
        })
        .collect();
    let fallback = nbest.iter().all(|p| p.text.is_empty());
    if fallback {
        nbest.insert(
            0,
            NbestEntry {
                text: "empty".into(),
                start_logit: 0.0,
                end_logit: 0.0,
                probability: 0.0,
                offsets: (0, 0),
                fallback: true,
            },
        );
        // The Python float 0.0 makes numpy compute this softmax in float64.
        let scores: Vec<f64> = std::iter::once(0.0).chain(kept.iter().map(|c| f64::from(c.score))).collect();
        for (p, prob) in nbest.iter_mut().zip(softmax_f64(&scores)) {
            p.probability = prob;
        }
    } else {
        let scores: Vec<f32> = kept.iter().map(|c| c.score).collect();
        for (p, prob) in nbest.iter_mut().zip(softmax_f32(&scores)) {
            p.probability = f64::from(prob);
        }
    }
    let null_score = min_null.map_or(0.0, |m| m.score);
    let best = nbest.iter().find(|p| !p.text.is_empty()).expect("the fallback has a text");
    let null_odds = null_score - best.start_logit - best.end_logit;
    let prediction = if null_odds > opts.null_threshold { String::new() } else { best.text.clone() };
    ExamplePrediction { id: id.to_string(), prediction, null_odds, nbest }
}

/// numpy's ordering of float32 values: NaN above everything.
fn py_cmp(a: f32, b: f32) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).expect("not NaN"),
    }
}

/// numpy's order of float32 values as an unsigned integer: NaN above everything (all NaNs
/// equal), -0.0 equal to 0.0, otherwise the IEEE order.
fn order_key(x: f32) -> u32 {
    if x.is_nan() {
        return u32::MAX;
    }
    let bits = if x == 0.0 { 0 } else { x.to_bits() };
    if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// `np.argsort(x)[-1:-k-1:-1]`: indices of the `k` largest values, largest first; among equal
/// values the higher index first. A partial selection on integer keys, O(n + k log k).
pub fn top_k(x: &[f32], k: usize, keys: &mut Vec<u64>) -> Vec<usize> {
    // Ascending keys = value descending, then index descending: a total order, so the result
    // is unique.
    keys.clear();
    keys.extend(x.iter().enumerate().map(|(i, &v)| !(u64::from(order_key(v)) << 32 | i as u64)));
    let k = k.min(x.len());
    if k == 0 {
        return Vec::new();
    }
    if k < keys.len() {
        keys.select_nth_unstable(k - 1);
    }
    let top = &mut keys[..k];
    top.sort_unstable();
    top.iter().map(|&key| (!key) as u32 as usize).collect()
}

/// numpy's float32 `exp(s - max(s)) / sum(...)`.
fn softmax_f32(scores: &[f32]) -> Vec<f32> {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, |m, s| if py_cmp(s, m) == Ordering::Greater { s } else { m });
    let exps: Vec<f32> = scores.iter().map(|&s| numpy_exp_f32(s - max)).collect();
    let sum = pairwise_sum_f32(&exps);
    exps.iter().map(|&e| e / sum).collect()
}

/// numpy's float32 `exp` on x86-64 (its AVX2+FMA3 and AVX-512F kernels): Cody–Waite range
/// reduction and a P5/Q2 rational approximation with fused multiply-adds (up to 2.5 ULP
/// from the true value, so NOT `f32::exp`). numpy builds without those SIMD kernels (other
/// CPUs) call libm's `expf` instead, whose results can differ in the last bit.
#[allow(clippy::excessive_precision)]
pub fn numpy_exp_f32(x: f32) -> f32 {
    const XMAX: f32 = 88.72283935546875;
    const XMIN: f32 = -103.97208404541015625;
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HIGH: f32 = -6.93145752e-1;
    const LN2_LOW: f32 = -1.42860677e-6;
    const P: [f32; 6] = [
        9.999999999980870924916e-01,
        7.257664613233124478488e-01,
        2.473615434895520810817e-01,
        5.114512081637298353406e-02,
        6.757896990527504603057e-03,
        5.082762527590693718096e-04,
    ];
    const Q: [f32; 3] = [1.0, -2.742335390411667452936e-01, 2.159509375685829852307e-02];
    if x.is_nan() {
        return x;
    }
    if x >= XMAX {
        return f32::INFINITY;
    }
    if x <= XMIN {
        return 0.0;
    }
    let k = (x * LOG2E).round_ties_even();
    let y = k.mul_add(LN2_HIGH, x);
    let y = k.mul_add(LN2_LOW, y);
    let mut num = P[5].mul_add(y, P[4]);
    for &p in P[..4].iter().rev() {
        num = num.mul_add(y, p);
    }
    let den = Q[2].mul_add(y, Q[1]).mul_add(y, Q[0]);
    let poly = num / den;
    // `scalef(poly, k)`: exact in f64, one rounding to f32 (also for subnormal results).
    (f64::from(poly) * 2f64.powi(k as i32)) as f32
}

fn softmax_f64(scores: &[f64]) -> Vec<f64> {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores.iter().map(|&s| (s - max).exp()).collect();
    let sum = pairwise_sum_f64(&exps);
    exps.iter().map(|&e| e / sum).collect()
}

macro_rules! pairwise_sum {
    ($name:ident, $t:ty) => {
        /// numpy's `pairwise_sum` (`np.add.reduce` on a contiguous array): 8 accumulators for
        /// blocks, halves above 128 elements.
        fn $name(a: &[$t]) -> $t {
            let n = a.len();
            if n < 8 {
                let mut res: $t = 0.0;
                for &x in a {
                    res += x;
                }
                res
            } else if n <= 128 {
                let mut r = [0.0 as $t; 8];
                r.copy_from_slice(&a[..8]);
                let mut i = 8;
                while i < n - n % 8 {
                    for j in 0..8 {
                        r[j] += a[i + j];
                    }
                    i += 8;
                }
                let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
                for &x in &a[i..] {
                    res += x;
                }
                res
            } else {
                let mut n2 = n / 2;
                n2 -= n2 % 8;
                $name(&a[..n2]) + $name(&a[n2..])
            }
        }
    };
}
pairwise_sum!(pairwise_sum_f32, f32);
pairwise_sum!(pairwise_sum_f64, f64);

impl Decoded {
    /// `predictions.json`: `json.dumps(all_predictions, indent=4) + "\n"`.
    pub fn write_predictions_json<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        write_dict(out, &self.examples, 0..self.examples.len(), |out, e| push_py_json_str(out, &e.prediction))
    }

    /// `null_odds.json`.
    pub fn write_null_odds_json<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        write_dict(out, &self.examples, 0..self.examples.len(), |out, e| push_py_json_float(out, f64::from(e.null_odds)))
    }

    /// `nbest_predictions.json`.
    pub fn write_nbest_json<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        self.write_nbest_json_part(out, 0..self.examples.len())
    }

    /// The part of `nbest_predictions.json` that holds the examples in `range` (with the
    /// opening brace when it starts at 0, the closing one when it ends at the last example):
    /// the parts of consecutive ranges, concatenated, are the whole file, so they can be
    /// formatted in parallel.
    pub fn write_nbest_json_part<W: fmt::Write + ?Sized>(&self, out: &mut W, range: std::ops::Range<usize>) -> fmt::Result {
        write_dict(out, &self.examples, range, |out, e| {
            out.write_char('[')?;
            for (i, p) in e.nbest.iter().enumerate() {
                out.write_str(if i == 0 { "\n        {" } else { ",\n        {" })?;
                let text = |out: &mut W| {
                    out.write_str("\n            \"text\": ")?;
                    push_py_json_str(out, &p.text)
                };
                let logits = |out: &mut W| {
                    out.write_str("\n            \"start_logit\": ")?;
                    push_py_json_float(out, f64::from(p.start_logit))?;
                    out.write_str(",\n            \"end_logit\": ")?;
                    push_py_json_float(out, f64::from(p.end_logit))
                };
                // utils_qa's dicts: the fallback is built text first, the others logits first.
                if p.fallback {
                    text(out)?;
                    out.write_char(',')?;
                    logits(out)?;
                } else {
                    logits(out)?;
                    out.write_char(',')?;
                    text(out)?;
                }
                out.write_str(",\n            \"probability\": ")?;
                push_py_json_float(out, p.probability)?;
                out.write_str("\n        }")?;
            }
            out.write_str(if e.nbest.is_empty() { "]" } else { "\n    ]" })
        })
    }

    /// The predictions as the scorer reads them from `predictions.json` (a repeated id keeps
    /// its first position and its last answer, as `json.load` does), without the JSON.
    pub fn predictions(&self) -> Predictions {
        self.examples.iter().map(|e| (e.id.clone(), e.prediction.clone())).collect()
    }

    /// Whether there are n-best lists and null odds (not with [`Strategy::Argmax`]).
    pub fn has_null_odds(&self) -> bool {
        self.strategy == Strategy::NBest
    }

    /// The null odds as the scorer reads them from `null_odds.json`, without the JSON (the
    /// file's `repr` of the float64 value reads back as that value).
    pub fn null_odds(&self) -> NaProbs {
        self.examples.iter().map(|e| (e.id.clone(), PyNumber::Float(f64::from(e.null_odds)))).collect()
    }

    /// [`Decoded::write_predictions_json`] into a string.
    pub fn predictions_json(&self) -> String {
        to_string(|s| self.write_predictions_json(s))
    }

    /// [`Decoded::write_null_odds_json`] into a string.
    pub fn null_odds_json(&self) -> String {
        to_string(|s| self.write_null_odds_json(s))
    }

    /// [`Decoded::write_nbest_json`] into a string.
    pub fn nbest_json(&self) -> String {
        to_string(|s| self.write_nbest_json(s))
    }
}

fn to_string(write: impl FnOnce(&mut String) -> fmt::Result) -> String {
    let mut s = String::new();
    write(&mut s).expect("writing to a String");
    s
}

/// `json.dumps(d, indent=4) + "\n"` for a dict of example id → the value `value` writes;
/// only the entries of `range` (and the braces that belong to its ends).
fn write_dict<W: fmt::Write + ?Sized>(
    out: &mut W,
    examples: &[ExamplePrediction],
    range: std::ops::Range<usize>,
    value: impl Fn(&mut W, &ExamplePrediction) -> fmt::Result,
) -> fmt::Result {
    let n = examples.len();
    // The braces go with the parts holding the first and the last example.
    if range.start == 0 && (range.end > 0 || n == 0) {
        out.write_char('{')?;
    }
    for i in range.clone() {
        out.write_str(if i > 0 { ",\n    " } else { "\n    " })?;
        push_py_json_str(out, &examples[i].id)?;
        out.write_str(": ")?;
        value(out, &examples[i])?;
    }
    if range.end == n && (range.start < n || n == 0) {
        out.write_str(if n == 0 { "}\n" } else { "\n}\n" })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(n_tokens: usize, context_start: usize, offsets: &[(u32, u32)]) -> Window {
        let mut all = vec![(0, 0); context_start];
        all.extend_from_slice(offsets);
        all.resize(n_tokens, (0, 0));
        Window {
            example: 0,
            input_ids: vec![5; n_tokens],
            offsets: all,
            context_start: context_start as u16,
            context_len: offsets.len() as u16,
            padded_len: n_tokens as u16,
            start_position: 0,
            end_position: 0,
        }
    }

    fn one(context: &str, w: &Window, start: &[f32], end: &[f32], opts: &DecodeOptions) -> ExamplePrediction {
        decode_example("q", context, std::iter::once((w, start, end)), opts, &mut Scratch::default())
    }

    #[test]
    fn argmax_is_the_seed_blogs_decoding() {
        // "The cat sat": context tokens at 2..5; token 1 is a question token with offsets in
        // the question (4, 7), which slice the context as Python would.
        let mut w = window(7, 2, &[(0, 3), (4, 7), (8, 11)]);
        w.offsets[1] = (4, 7);
        let pick = |start: &[f32], end: &[f32]| argmax_example("q", "The cat sat", (&w, start, end), &mut Scratch::default());
        let p = pick(&[0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0]);
        assert_eq!((p.prediction.as_str(), p.nbest.len()), ("cat sat", 0));
        assert!(p.null_odds.is_nan());
        // end == start: "" (a one-token answer is never given); a question token's offsets.
        assert_eq!(pick(&[0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0]).prediction, "");
        assert_eq!(pick(&[0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0]).prediction, "cat sat");
        // A padding end (offsets (0, 0)) gives "", ties take the first index, NaN wins.
        assert_eq!(pick(&[0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 9.0]).prediction, "");
        assert_eq!(pick(&[0.0, 0.0, 5.0, 5.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]).prediction, "The cat");
        assert_eq!(argmax(&[1.0, 3.0, f32::NAN, 3.0, f32::NAN]), 2);
        assert_eq!(argmax(&[1.0, 3.0, 0.0, 3.0]), 1);
    }

    #[test]
    fn argmax_refuses_an_example_with_several_windows() {
        use crate::squad::{Answers, Example};
        let example = |id: &str| Example {
            id: id.into(),
            title: "t".into(),
            context: "The cat sat".into(),
            question: "q".into(),
            answers: Answers::default(),
            plausible_answers: Answers::default(),
            article: 0,
            paragraph: 0,
        };
        let dataset = Dataset::from_examples(vec![example("a"), example("b")]);
        let w = window(6, 2, &[(0, 3), (4, 7), (8, 11)]);
        let mut second = w.clone();
        second.example = 1;
        let features =
            Features { config: Default::default(), windows: vec![w.clone(), second.clone(), second], report: Default::default() };
        let zeros = [0.0f32; 18];
        let logits = Logits { start: &zeros, end: &zeros, width: 6 };
        let opts = DecodeOptions { strategy: Strategy::Argmax, ..Default::default() };
        let e = decode(&dataset, &features, logits, &opts).unwrap_err();
        assert_eq!(e, DecodeError::ArgmaxWindows { id: "b".into(), windows: 2 });
        let one = Features { windows: vec![w, features.windows[1].clone()], ..features };
        let d = decode(&dataset, &one, Logits { start: &zeros[..12], end: &zeros[..12], width: 6 }, &opts).unwrap();
        assert_eq!((d.examples.len(), d.has_null_odds()), (2, false));
    }

    #[test]
    fn top_k_is_numpy_descending_argsort_with_higher_index_first_on_ties() {
        let x = [1.0, 3.0, f32::NAN, 3.0, -1.0, 2.0];
        let mut buf = Vec::new();
        assert_eq!(top_k(&x, 4, &mut buf), [2, 3, 1, 5]);
        assert_eq!(top_k(&x, 10, &mut buf), [2, 3, 1, 5, 0, 4]);
        assert_eq!(top_k(&x[..0], 3, &mut buf), Vec::<usize>::new());
    }

    #[test]
    fn integer_keys_order_as_the_float_comparison_does() {
        // The comparator form (numpy's order via `py_cmp`, higher index first on ties) as the
        // oracle, on values full of ties, signed zeros, NaNs and infinities.
        let pool = [0.0, -0.0, 1.5, -1.5, f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e-40, -1e-40, 3.0];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut keys = Vec::new();
        for round in 0..2000 {
            let n = 1 + round % 50;
            let x: Vec<f32> = (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    if state.is_multiple_of(3) {
                        f32::from_bits(state as u32 >> 1)
                    } else {
                        pool[(state >> 8) as usize % pool.len()]
                    }
                })
                .collect();
            let mut want: Vec<usize> = (0..n).collect();
            want.sort_by(|&a, &b| py_cmp(x[b], x[a]).then(b.cmp(&a)));
            let k = 1 + (state as usize >> 3) % (n + 2);
            want.truncate(k);
            assert_eq!(top_k(&x, k, &mut keys), want, "{x:?} k={k}");
        }
    }

    #[test]
    fn exp_is_numpy_simd_exp_bit_for_bit() {
        // numpy 2.4.6's `np.exp` on float32 arrays (AVX-512F), written by the golden generator.
        let table = include_str!("../../tests/fixtures/preprocess/numpy_exp_f32.tsv");
        let mut n = 0;
        let mut bad = Vec::new();
        for line in table.lines() {
            let (x, y) = line.split_once('\t').unwrap();
            let x = f32::from_bits(u32::from_str_radix(x, 16).unwrap());
            let y = u32::from_str_radix(y, 16).unwrap();
            n += 1;
            if numpy_exp_f32(x).to_bits() != y {
                bad.push((x, f32::from_bits(y), numpy_exp_f32(x)));
            }
        }
        assert_eq!(n, 4012);
        assert!(bad.is_empty(), "{} of {n} differ, first {:?}", bad.len(), &bad[..bad.len().min(5)]);
        let not_libm = table
            .lines()
            .map(|l| f32::from_bits(u32::from_str_radix(&l[..8], 16).unwrap()))
            .filter(|x| numpy_exp_f32(*x) != x.exp())
            .count();
        assert!(not_libm > 100, "numpy's kernel is not libm's expf ({not_libm} differ)");
    }

    #[test]
    fn context_slices_are_python_slices() {
        let mut table = (0, Vec::new());
        for ctx in ["The cat", "é 😀 b", "東京は日本"] {
            for s in 0..9u32 {
                for e in 0..9u32 {
                    let want = crate::text::char_slice(ctx, s as usize, e as usize);
                    assert_eq!(char_slice_fast(ctx, &mut table, (s, e)), want, "{ctx:?}[{s}:{e}]");
                }
            }
        }
    }

    #[test]
    fn pairwise_sum_matches_numpy_blocking() {
        let a: Vec<f32> = (0..300).map(|i| 1.0 + (i as f32) * 1e-3).collect();
        let mut naive = 0f32;
        for &x in &a[..7] {
            naive += x;
        }
        assert_eq!(pairwise_sum_f32(&a[..7]), naive, "under 8: a plain loop");
        // 9 elements: 8 accumulators, then the rest.
        let nine = &a[..9];
        let r = nine;
        let want = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])) + r[8];
        assert_eq!(pairwise_sum_f32(nine), want);
        assert_eq!(pairwise_sum_f32(&a), pairwise_sum_f32(&a[..144]) + pairwise_sum_f32(&a[144..]));
    }

    #[test]
    fn best_span_null_odds_and_threshold() {
        // Context "The cat sat": tokens The(0,3) cat(4,7) sat(8,11) at indices 2..5.
        let w = window(6, 2, &[(0, 3), (4, 7), (8, 11)]);
        let start = [1.0, 0.0, 0.5, 3.0, 0.0, 0.0];
        let end = [1.0, 0.0, 0.0, 0.25, 2.0, 0.0];
        let p = one("The cat sat", &w, &start, &end, &DecodeOptions::default());
        assert_eq!(p.prediction, "cat sat");
        assert_eq!(p.nbest[0].text, "cat sat");
        assert_eq!(p.null_odds, 2.0 - 3.0 - 2.0);
        assert!(p.nbest.iter().any(|e| e.text.is_empty()), "the null answer is in the n-best list");
        let sum: f64 = p.nbest.iter().map(|e| e.probability).sum();
        assert!((sum - 1.0).abs() < 1e-6);
        let strict = DecodeOptions { null_threshold: -3.5, ..Default::default() };
        assert_eq!(one("The cat sat", &w, &start, &end, &strict).prediction, "");
    }

    #[test]
    fn spans_outside_the_context_or_too_long_are_dropped() {
        let w = window(6, 2, &[(0, 3), (4, 7), (8, 11)]);
        // The best start is a question token (index 1): no candidate uses it.
        let start = [0.0, 9.0, 1.0, 0.5, 0.0, 0.0];
        let end = [0.0, 9.0, 0.0, 0.0, 1.5, 0.0];
        let opts = DecodeOptions { max_answer_length: 2, ..Default::default() };
        let p = one("The cat sat", &w, &start, &end, &opts);
        assert!(p.nbest.iter().all(|e| e.text != "The cat sat"), "3 tokens > max answer length 2");
        assert_eq!(p.nbest[0].text, "cat sat");
    }

    #[test]
    fn only_null_gives_the_empty_fallback_in_float64() {
        let w = window(4, 2, &[(0, 3)]);
        // The only context token can start but nothing ends after it in the context.
        let start = [2.0, 0.0, 1.0, 0.0];
        let end = [2.0, 0.0, f32::NEG_INFINITY, 0.0];
        let opts = DecodeOptions { n_best: 1, ..Default::default() };
        let p = one("abc", &w, &start, &end, &opts);
        assert!(p.nbest[0].fallback);
        assert_eq!(p.nbest.len(), 2);
        assert_eq!(p.nbest[0].text, "empty");
        assert_eq!(p.null_odds, 4.0);
        assert_eq!(p.prediction, "");
        let e4 = (-4.0f64).exp();
        assert_eq!(p.nbest[0].probability, e4 / (e4 + 1.0));
        let json = Decoded { examples: vec![p], ..Default::default() }.nbest_json();
        assert!(json.contains("{\n            \"text\": \"empty\",\n            \"start_logit\": 0.0,"), "{json}");
    }

    #[test]
    fn all_empty_texts_use_the_fallback_where_utils_qa_raises() {
        // A whitespace token with an empty (trimmed) span is the only context token.
        let w = window(4, 2, &[(1, 1)]);
        let start = [0.0, 0.0, 5.0, 0.0];
        let end = [0.0, 0.0, 5.0, 0.0];
        let p = one("a  b", &w, &start, &end, &DecodeOptions::default());
        assert_eq!(p.nbest.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(), ["empty", "", ""]);
        assert_eq!(p.prediction, "empty");
        assert_eq!(p.null_odds, 0.0);
    }

    #[test]
    fn minimum_null_over_windows_and_json_layout() {
        let w = window(4, 2, &[(0, 1), (2, 3)]);
        let ctx = "é 😀";
        let (s1, e1) = ([1.0, 0.0, 0.0, 2.0], [1.0, 0.0, 0.0, 2.0]);
        let (s2, e2) = ([0.5, 0.0, 0.0, 0.0], [0.25, 0.0, 0.0, 0.0]);
        let p = decode_example(
            "q1",
            ctx,
            [(&w, &s1[..], &e1[..]), (&w, &s2[..], &e2[..])].into_iter(),
            &DecodeOptions::default(),
            &mut Scratch::default(),
        );
        assert_eq!(p.prediction, "😀");
        assert_eq!(p.null_odds, 0.75 - 4.0);
        let d = Decoded { examples: vec![p], ..Default::default() };
        assert_eq!(d.predictions_json(), "{\n    \"q1\": \"\\ud83d\\ude00\"\n}\n");
        assert_eq!(d.null_odds_json(), "{\n    \"q1\": -3.25\n}\n");
        let nbest = d.nbest_json();
        assert!(nbest.starts_with("{\n    \"q1\": [\n        {\n            \"start_logit\": 2.0,\n            \"end_logit\": 2.0,\n            \"text\": \"\\ud83d\\ude00\",\n            \"probability\": "), "{nbest}");
        assert!(nbest.ends_with("\n        }\n    ]\n}\n"), "{nbest}");
        assert_eq!(Decoded::default().predictions_json(), "{}\n");

        // What the scorer gets without the files is what it reads from them, repeated ids too.
        let mut twice = d.clone();
        twice.examples.push(ExamplePrediction { id: "q2".into(), prediction: String::new(), null_odds: 0.1, nbest: vec![] });
        twice.examples.push(ExamplePrediction { id: "q1".into(), prediction: "é".into(), null_odds: -1.0 / 3.0, nbest: vec![] });
        let preds = crate::scorer::parse_predictions(twice.predictions_json().as_bytes()).unwrap();
        assert_eq!(twice.predictions(), preds);
        assert_eq!(preds.get("q1").map(String::as_str), Some("é"));
        let odds = crate::scorer::parse_na_probs(twice.null_odds_json().as_bytes()).unwrap();
        assert_eq!(twice.null_odds(), odds);
        assert_eq!(odds.keys().collect::<Vec<_>>(), ["q1", "q2"]);

        // Parts of consecutive ranges concatenate to the whole file, wherever the cut is.
        let mut three = Decoded { examples: vec![d.examples[0].clone(); 3], ..Default::default() };
        for (i, e) in three.examples.iter_mut().enumerate() {
            e.id = format!("q{i}");
        }
        let whole = three.nbest_json();
        for cut in 0..=3 {
            let mut parts = String::new();
            three.write_nbest_json_part(&mut parts, 0..cut).unwrap();
            three.write_nbest_json_part(&mut parts, cut..3).unwrap();
            assert_eq!(parts, whole, "cut at {cut}");
        }
        let mut empty = String::new();
        Decoded::default().write_nbest_json_part(&mut empty, 0..0).unwrap();
        assert_eq!(empty, "{}\n");
    }
}
