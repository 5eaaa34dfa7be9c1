//! Windows ("features") of question/context pairs, exactly as run_qa's preprocessing makes them.
//!
//! [`preprocess`] turns each [`Example`] into one or more [`Window`]s the way HF's `run_qa.py`
//! does with a fast tokenizer: the question is left-stripped (Python's `str.lstrip`), the pair
//! is encoded as `<s> question </s></s> context </s>` with `truncation="only_second"`, and a
//! context too long for `max_seq_length` is cut into overlapping windows that share
//! `doc_stride` context tokens (`return_overflowing_tokens=True`). Each window keeps its
//! example index, char (code point) offsets, sequence ids, and the training labels of
//! `prepare_train_features`; [`Window::context_offset`] is the offset mapping of
//! `prepare_validation_features` (None outside the context).
//!
//! The context is tokenized once per paragraph and windows are cut here, not by the tokenizer,
//! with the arithmetic of `tokenizers`' `Encoding::truncate`; the test suite checks every
//! window of the SQuAD 2.0 dev set against goldens made by the Python libraries.
//!
//! [`Recipe::Seed`] makes the windows of the blog pipeline squadkit's users come from instead:
//! one window per question (the question stripped on both sides, a long context simply cut,
//! no stride), always padded to `max_seq_length`, with the blog's labels (an answer only partly
//! in the window still gets positions); its golden test runs the blog's function on the dev set.
//!
//! Two deliberate departures, both counted in the [`PreprocessReport`]:
//! - a question so long that the tokenizer would fail ("Truncation error") is cut to
//!   `max_query_length` tokens (run_qa's tokenizer call raises instead);
//! - [`StartLabel::RunQa`] (the default) reproduces run_qa's start label when an answer
//!   starts in a window's last context token (the label walks over `</s>` and padding and lands
//!   on the window's last index, after the end label); [`StartLabel::WithinContext`] stops
//!   the walk at the last context token instead.

use crate::squad::{Dataset, Example};
use crate::text::{char_len, py_lstrip, py_strip};
use crate::tokenize::{Encoded, QaTokenizer, TokenizerError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Tokens `<s>`, `</s></s>` and `</s>` that RoBERTa adds to a pair.
pub const PAIR_SPECIAL_TOKENS: usize = 4;

/// How the start label of an answer that starts in a window's last context token is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartLabel {
    /// As run_qa: the walk runs past the context to the window's last index (after the end
    /// label). Compatible with published roberta-base SQuAD 2.0 training.
    #[default]
    RunQa,
    /// The walk stops at the window's last context token, so start <= end always.
    WithinContext,
}

/// Whose preprocessing the windows reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recipe {
    /// HF run_qa's: overlapping windows every `max_seq_length - doc_stride` context tokens, the
    /// question left-stripped, an answer labelled only in a window that holds all of it.
    #[default]
    RunQa,
    /// The seed blog's: one window per question (`truncation="only_second"` without stride or
    /// overflow), the question stripped on both sides, `padding="max_length"`, and its label
    /// walk: (0, 0) only when the answer lies wholly outside the window's context.
    Seed,
}

impl Recipe {
    /// The name on the command line and in caches.
    pub fn name(self) -> &'static str {
        match self {
            Recipe::RunQa => "run-qa",
            Recipe::Seed => "seed",
        }
    }
}

/// Which run_qa function a window is made for: it decides what the offsets mean downstream
/// (training labels vs. validation offsets); windows themselves are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    #[default]
    Validation,
}

impl Split {
    /// The split's name in HF `datasets` (`train`, `validation`).
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
        }
    }
}

/// run_qa's preprocessing arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreprocessConfig {
    /// `--max_seq_length`: tokens per window, special tokens included.
    pub max_seq_length: usize,
    /// `--doc_stride`: context tokens shared by consecutive windows.
    pub doc_stride: usize,
    /// Questions are cut to this many tokens only when they would leave no room for context.
    pub max_query_length: usize,
    /// `--pad_to_max_length` (run_qa's default: true). Padding is `<pad>` with offsets (0, 0).
    pub pad_to_max_length: bool,
    pub start_label: StartLabel,
    pub recipe: Recipe,
}

impl Default for PreprocessConfig {
    fn default() -> Self {
        PreprocessConfig {
            max_seq_length: 384,
            doc_stride: 128,
            max_query_length: 64,
            pad_to_max_length: true,
            start_label: StartLabel::RunQa,
            recipe: Recipe::RunQa,
        }
    }
}

impl PreprocessConfig {
    /// Context tokens a window can hold besides `question_tokens` and the special tokens.
    fn room(&self, question_tokens: usize) -> usize {
        (self.max_seq_length - PAIR_SPECIAL_TOKENS).saturating_sub(question_tokens)
    }

    /// Context tokens that consecutive windows share (none in the seed recipe, which makes
    /// one window).
    pub fn stride(&self) -> usize {
        match self.recipe {
            Recipe::RunQa => self.doc_stride,
            Recipe::Seed => 0,
        }
    }

    /// Whether windows are padded to `max_seq_length` (always in the seed recipe).
    pub fn pads(&self) -> bool {
        self.pad_to_max_length || self.recipe == Recipe::Seed
    }

    pub fn check(&self) -> Result<(), PreprocessError> {
        let budget = self.max_seq_length.saturating_sub(PAIR_SPECIAL_TOKENS);
        if self.recipe == Recipe::Seed && self.max_query_length >= budget {
            return Err(PreprocessError::Config(format!(
                "max query length {} must be below max seq length {} - {PAIR_SPECIAL_TOKENS} special tokens, \
                 or a window could hold no context",
                self.max_query_length, self.max_seq_length
            )));
        }
        if self.recipe == Recipe::RunQa && self.max_query_length + self.doc_stride >= budget {
            return Err(PreprocessError::Config(format!(
                "max query length {} + doc stride {} must be below max seq length {} - {PAIR_SPECIAL_TOKENS} special tokens, \
                 or a window could hold no new context",
                self.max_query_length, self.doc_stride, self.max_seq_length
            )));
        }
        if self.max_seq_length > u16::MAX as usize {
            return Err(PreprocessError::Config(format!("max seq length {} is above {}", self.max_seq_length, u16::MAX)));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    #[error("{0}")]
    Config(String),
    #[error("example {id}: {source}")]
    Tokenizer { id: String, source: TokenizerError },
    #[error("{0} examples are more than a feature cache can index")]
    TooManyExamples(usize),
}

/// One window of one example: `<s> question </s></s> context[part] </s>` (unpadded here;
/// [`Window::len`] and the accessors include padding when the config pads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Index of the example in the dataset (`overflow_to_sample_mapping`).
    pub example: u32,
    /// Token ids without padding.
    pub input_ids: Vec<u32>,
    /// Code-point offsets of every token without padding: question tokens in the question
    /// (as stripped), context tokens in the context, (0, 0) for special tokens.
    pub offsets: Vec<(u32, u32)>,
    /// Index of the first context token (`1 + question tokens + 2`).
    pub context_start: u16,
    /// Number of context tokens.
    pub context_len: u16,
    /// Length with padding (`max_seq_length` when padding, else `input_ids.len()`).
    pub padded_len: u16,
    /// Training labels (CLS index 0 when there is no answer or it is not fully inside).
    pub start_position: u16,
    pub end_position: u16,
}

impl Window {
    /// Tokens, padding included.
    pub fn len(&self) -> usize {
        self.padded_len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.padded_len == 0
    }

    /// Tokens that are not padding (the attention mask's sum).
    pub fn n_tokens(&self) -> usize {
        self.input_ids.len()
    }

    /// Token id at `i`, `<pad>`'s id in the padding.
    pub fn input_id(&self, i: usize, pad_id: u32) -> u32 {
        self.input_ids.get(i).copied().unwrap_or(pad_id)
    }

    /// Token ids with padding.
    pub fn padded_ids(&self, pad_id: u32) -> Vec<u32> {
        (0..self.len()).map(|i| self.input_id(i, pad_id)).collect()
    }

    /// Range of context token indices.
    pub fn context_range(&self) -> std::ops::Range<usize> {
        self.context_start as usize..self.context_start as usize + self.context_len as usize
    }

    /// The tokenizer's sequence id: 0 question, 1 context, None special or padding.
    pub fn sequence_id(&self, i: usize) -> Option<u8> {
        if self.context_range().contains(&i) {
            Some(1)
        } else if i >= 1 && i + 2 < self.context_start as usize {
            Some(0)
        } else {
            None
        }
    }

    /// The validation offset mapping: the token's span in the context, None outside it.
    pub fn context_offset(&self, i: usize) -> Option<(u32, u32)> {
        self.context_range().contains(&i).then(|| self.offsets[i])
    }

    /// The training offset mapping, unmasked: question tokens' offsets are in the question,
    /// special and padding tokens have (0, 0).
    pub fn raw_offset(&self, i: usize) -> (u32, u32) {
        self.offsets.get(i).copied().unwrap_or((0, 0))
    }
}

/// What preprocessing did to a dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PreprocessReport {
    pub examples: usize,
    pub windows: usize,
    /// Examples with more than one window.
    pub split_examples: usize,
    pub max_windows_per_example: usize,
    /// Windows whose labels are (CLS, CLS).
    pub cls_labelled: usize,
    /// Answerable examples whose first answer is fully inside none of their windows.
    pub answers_lost: usize,
    /// Questions cut to `max_query_length` tokens to leave room for context.
    pub questions_truncated: usize,
    /// Windows whose start label is after their end label (run_qa's quirk; 0 with
    /// [`StartLabel::WithinContext`]).
    pub start_after_end: usize,
    /// Answers with empty text: labelled CLS (run_qa's end walk would leave the window).
    pub empty_answers: usize,
}

impl PreprocessReport {
    pub fn windows_per_example(&self) -> f64 {
        if self.examples == 0 {
            0.0
        } else {
            self.windows as f64 / self.examples as f64
        }
    }
}

/// The windows of a dataset, in dataset order (an example's windows are consecutive).
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub config: PreprocessConfig,
    pub windows: Vec<Window>,
    pub report: PreprocessReport,
}

impl Features {
    /// For each example, the range of its windows (empty ranges never occur: every example
    /// gets at least one window).
    pub fn windows_by_example(&self, n_examples: usize) -> Vec<std::ops::Range<usize>> {
        let mut ranges = vec![0..0; n_examples];
        let mut i = 0;
        while i < self.windows.len() {
            let e = self.windows[i].example as usize;
            let start = i;
            while i < self.windows.len() && self.windows[i].example as usize == e {
                i += 1;
            }
            if e < n_examples {
                ranges[e] = start..i;
            }
        }
        ranges
    }
}

/// Make the windows of every example.
pub fn preprocess(tok: &QaTokenizer, dataset: &Dataset, config: &PreprocessConfig) -> Result<Features, PreprocessError> {
    config.check()?;
    if u32::try_from(dataset.examples.len()).is_err() {
        return Err(PreprocessError::TooManyExamples(dataset.examples.len()));
    }
    let mut windows = Vec::with_capacity(dataset.examples.len() * 11 / 10);
    let mut report = PreprocessReport { examples: dataset.examples.len(), ..Default::default() };
    let mut cached: Option<(Arc<str>, Encoded)> = None;
    for (index, example) in dataset.examples.iter().enumerate() {
        let err = |source| PreprocessError::Tokenizer { id: example.id.clone(), source };
        let reuse = cached.as_ref().is_some_and(|(c, _)| Arc::ptr_eq(c, &example.context) || **c == *example.context);
        if !reuse {
            cached = Some((Arc::clone(&example.context), tok.encode(&example.context).map_err(err)?));
        }
        let context = &cached.as_ref().expect("just filled").1;
        let question = match config.recipe {
            Recipe::RunQa => py_lstrip(&example.question),
            Recipe::Seed => py_strip(&example.question),
        };
        let question = tok.encode(question).map_err(err)?;
        let before = windows.len();
        example_windows(tok, example, index as u32, &question, context, config, &mut report, &mut windows);
        let made = &windows[before..];
        report.max_windows_per_example = report.max_windows_per_example.max(made.len());
        report.split_examples += usize::from(made.len() > 1);
        if example.has_answer() && made.iter().all(|w| w.start_position == 0 && w.end_position == 0) {
            report.answers_lost += 1;
        }
    }
    report.windows = windows.len();
    Ok(Features { config: config.clone(), windows, report })
}

/// The windows of one example, given its tokenized question and context.
#[allow(clippy::too_many_arguments)]
pub fn example_windows(
    tok: &QaTokenizer,
    example: &Example,
    index: u32,
    question: &Encoded,
    context: &Encoded,
    config: &PreprocessConfig,
    report: &mut PreprocessReport,
    out: &mut Vec<Window>,
) {
    let budget = config.max_seq_length - PAIR_SPECIAL_TOKENS;
    let (c, mut q) = (context.len(), question.len());
    // The tokenizer fails when the pair must be truncated and the question leaves the context
    // no more than the stride: cut the question instead.
    if q + c > budget && config.room(q) <= config.stride() {
        q = config.max_query_length.min(q);
        report.questions_truncated += 1;
    }
    let keep = if q + c > budget { config.room(q) } else { c };
    // `Encoding::truncate(keep, stride)`: windows start every `keep - stride` tokens until one
    // reaches the end.
    let mut parts = Vec::new();
    let mut start = 0;
    loop {
        let stop = (start + keep).min(c);
        parts.push((start, stop));
        if stop == c || config.recipe == Recipe::Seed {
            break;
        }
        start += keep - config.doc_stride;
    }
    let answer = example.answers.iter().next().map(|(text, start)| (start, start + char_len(text) as i64));
    for (s, e) in parts {
        let n = 1 + q + 2 + (e - s) + 1;
        let mut input_ids = Vec::with_capacity(n);
        let mut offsets = Vec::with_capacity(n);
        input_ids.push(tok.cls_id());
        offsets.push((0, 0));
        input_ids.extend_from_slice(&question.ids[..q]);
        offsets.extend_from_slice(&question.offsets[..q]);
        input_ids.extend([tok.sep_id(), tok.sep_id()]);
        offsets.extend([(0, 0), (0, 0)]);
        input_ids.extend_from_slice(&context.ids[s..e]);
        offsets.extend_from_slice(&context.offsets[s..e]);
        input_ids.push(tok.sep_id());
        offsets.push((0, 0));
        let padded_len = if config.pads() { config.max_seq_length.max(n) } else { n };
        let mut w = Window {
            example: index,
            input_ids,
            offsets,
            context_start: (q + 3) as u16,
            context_len: (e - s) as u16,
            padded_len: padded_len as u16,
            start_position: 0,
            end_position: 0,
        };
        if let Some((start_char, end_char)) = answer {
            let positions = match config.recipe {
                Recipe::Seed => seed_labels(&w, start_char, end_char),
                Recipe::RunQa if start_char == end_char => {
                    report.empty_answers += 1;
                    None
                }
                Recipe::RunQa => labels(&w, start_char, end_char, config.start_label),
            };
            if let Some((sp, ep)) = positions {
                (w.start_position, w.end_position) = (sp, ep);
            }
        }
        report.cls_labelled += usize::from(w.start_position == 0 && w.end_position == 0);
        report.start_after_end += usize::from(w.start_position > w.end_position);
        out.push(w);
    }
}

/// run_qa's label walk on the unmasked (training) offsets, padding included. None: CLS.
fn labels(w: &Window, start_char: i64, end_char: i64, mode: StartLabel) -> Option<(u16, u16)> {
    if w.context_len == 0 {
        return None;
    }
    let off = |i: usize| {
        let (s, e) = w.raw_offset(i);
        (s as i64, e as i64)
    };
    let (ts, te) = (w.context_start as usize, w.context_range().end - 1);
    if !(off(ts).0 <= start_char && off(te).1 >= end_char) {
        return None;
    }
    let limit = match mode {
        StartLabel::RunQa => w.len(),
        StartLabel::WithinContext => te + 1,
    };
    let mut s = ts;
    while s < limit && off(s).0 <= start_char {
        s += 1;
    }
    // The end walk stops inside the context: off(te).1 >= end_char > 0 and the separators
    // before the context have offset (0, 0).
    let mut e = te;
    while off(e).1 >= end_char {
        e -= 1;
    }
    Some(((s - 1) as u16, (e + 1) as u16))
}

/// The seed blog's label walk (see [`Recipe::Seed`]). None: (0, 0).
fn seed_labels(w: &Window, start_char: i64, end_char: i64) -> Option<(u16, u16)> {
    if w.context_len == 0 {
        return None;
    }
    let off = |i: usize| {
        let (s, e) = w.raw_offset(i);
        (s as i64, e as i64)
    };
    let (cs, ce) = (w.context_start as usize, w.context_range().end - 1);
    if off(cs).0 > end_char || off(ce).1 < start_char {
        return None;
    }
    let mut s = cs;
    while s <= ce && off(s).0 <= start_char {
        s += 1;
    }
    // `cs` is at least 3 (`<s>`, a question token, `</s></s>`), so the walk down stays in range.
    let mut e = ce;
    while e >= cs && off(e).1 >= end_char {
        e -= 1;
    }
    Some(((s - 1) as u16, (e + 1) as u16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::squad::Answers;
    use crate::tokenize::tests::tiny;

    fn example(question: &str, context: &str, answer: Option<(&str, i64)>) -> Example {
        Example {
            id: "q".into(),
            title: "t".into(),
            context: Arc::from(context),
            question: question.into(),
            answers: answer.map(|(t, s)| Answers { text: vec![t.into()], answer_start: vec![s] }).unwrap_or_default(),
            plausible_answers: Answers::default(),
            article: 0,
            paragraph: 0,
        }
    }

    fn run(examples: Vec<Example>, config: &PreprocessConfig) -> Features {
        preprocess(&tiny(), &Dataset::from_examples(examples), config).unwrap()
    }

    fn cfg(max: usize, stride: usize, query: usize) -> PreprocessConfig {
        PreprocessConfig { max_seq_length: max, doc_stride: stride, max_query_length: query, ..Default::default() }
    }

    #[test]
    fn windows_overlap_by_the_stride_and_cover_the_context() {
        // The tiny tokenizer gives one token per byte (except " w"): 26 context tokens.
        let f = run(vec![example("ab", "abcdefghijklmnopqrstuvwxyz", None)], &cfg(16, 3, 2));
        // room = 16 - 4 - 2 = 10 context tokens per window, new windows every 7.
        let ranges: Vec<_> = f.windows.iter().map(|w| (w.offsets[w.context_start as usize].0, w.context_len)).collect();
        assert_eq!(ranges, [(0, 10), (7, 10), (14, 10), (21, 5)]);
        assert!(f.windows.iter().all(|w| w.len() == 16 && w.n_tokens() <= 16));
        let w = &f.windows[3];
        assert_eq!(w.sequence_id(0), None);
        assert_eq!(w.sequence_id(1), Some(0));
        assert_eq!(w.sequence_id(3), None);
        assert_eq!(w.sequence_id(5), Some(1));
        assert_eq!(w.context_offset(4), None);
        assert_eq!(w.context_offset(5), Some((21, 22)));
        assert_eq!(w.padded_ids(1)[10..], [2, 1, 1, 1, 1, 1]);
        assert_eq!(f.report.split_examples, 1);
        assert_eq!(f.report.cls_labelled, 4);
    }

    #[test]
    fn context_shorter_than_the_stride_gives_one_window() {
        let f = run(vec![example("ab", "xyz", Some(("xyz", 0)))], &cfg(16, 3, 2));
        assert_eq!(f.windows.len(), 1);
        let w = &f.windows[0];
        assert_eq!((w.start_position, w.end_position), (5, 7));
        assert_eq!(w.n_tokens(), 9);
    }

    #[test]
    fn answers_at_the_edges_and_cut_by_a_window() {
        let ctx = "abcdefghijklmnopqrstuvwxyz";
        // At the very start, at the very end, and across the first window's end (j..l, window 1
        // holds a..j): only the second window (h..q) labels it.
        let f = run(
            vec![example("ab", ctx, Some(("ab", 0))), example("ab", ctx, Some(("yz", 24))), example("ab", ctx, Some(("jkl", 9)))],
            &cfg(16, 3, 2),
        );
        let labels: Vec<Vec<(u16, u16)>> = (0..3)
            .map(|e| f.windows.iter().filter(|w| w.example == e).map(|w| (w.start_position, w.end_position)).collect())
            .collect();
        assert_eq!(labels[0], [(5, 6), (0, 0), (0, 0), (0, 0)]);
        assert_eq!(labels[1], [(0, 0), (0, 0), (0, 0), (8, 9)]);
        assert_eq!(labels[2], [(0, 0), (7, 9), (0, 0), (0, 0)]);
        assert_eq!(f.report.answers_lost, 0);
    }

    #[test]
    fn run_qa_start_quirk_and_the_within_context_option() {
        // Window 1 holds context tokens a..j; an answer starting at j (its last context token)
        // that also ends inside it: run_qa's start walk runs into the padding.
        let ctx = "abcdefghijklmnopqrstuvwxyz";
        let ex = || vec![example("ab", ctx, Some(("j", 9)))];
        let f = run(ex(), &cfg(16, 3, 2));
        assert_eq!((f.windows[0].start_position, f.windows[0].end_position), (15, 14));
        assert_eq!(f.report.start_after_end, 1);
        let within = PreprocessConfig { start_label: StartLabel::WithinContext, ..cfg(16, 3, 2) };
        let f = run(ex(), &within);
        assert_eq!((f.windows[0].start_position, f.windows[0].end_position), (14, 14));
        assert_eq!(f.report.start_after_end, 0);
        // In a window shorter than max length, the walk lands on the last padding index, or
        // on the final `</s>` without padding.
        let short = || vec![example("ab", "xyz", Some(("z", 2)))];
        assert_eq!(run(short(), &cfg(16, 3, 2)).windows[0].start_position, 15);
        let unpadded = PreprocessConfig { pad_to_max_length: false, ..cfg(16, 3, 2) };
        let w = &run(short(), &unpadded).windows[0];
        assert_eq!((w.start_position, w.end_position, w.len()), (8, 7, 9));
    }

    #[test]
    fn a_question_longer_than_max_length_is_cut_and_counted() {
        let long_q = "q".repeat(40);
        let f = run(vec![example(&long_q, "abcdefghijklmnopqrstuvwxyz", Some(("z", 25)))], &cfg(16, 3, 4));
        assert_eq!(f.report.questions_truncated, 1);
        assert!(f.windows.iter().all(|w| w.context_start == 1 + 4 + 2 && w.n_tokens() <= 16));
        assert_eq!(f.windows.last().unwrap().end_position as usize, f.windows.last().unwrap().context_range().end - 1);
        // A long question with a short context needs no truncation and keeps every token.
        let f = run(vec![example(&"q".repeat(10), "ab", None)], &cfg(16, 3, 4));
        assert_eq!((f.report.questions_truncated, f.windows[0].context_start), (0, 13));
    }

    #[test]
    fn question_is_left_stripped_the_python_way() {
        let f = run(vec![example("\u{3000}\u{85} ab ", "xyz", None)], &cfg(16, 3, 2));
        // "ab " = a, b, Ġ (a lone trailing space token has a trimmed, empty span).
        assert_eq!(f.windows[0].context_start, 1 + 3 + 2);
        assert_eq!(f.windows[0].offsets[1], (0, 1));
    }

    fn seed(max: usize) -> PreprocessConfig {
        PreprocessConfig { recipe: Recipe::Seed, pad_to_max_length: false, ..cfg(max, 3, 2) }
    }

    #[test]
    fn the_seed_recipe_makes_one_padded_window_with_the_question_stripped() {
        let ctx = "abcdefghijklmnopqrstuvwxyz";
        let f = run(vec![example(" ab ", ctx, Some(("yz", 24)))], &seed(16));
        // One window of the first 10 context tokens, padded although padding was not asked for;
        // "ab" without its trailing space (run_qa's lstrip would keep a "Ġ" token).
        assert_eq!(f.windows.len(), 1);
        let w = &f.windows[0];
        assert_eq!((w.context_start, w.context_len, w.len()), (5, 10, 16));
        assert_eq!(w.offsets[1..3], [(0, 1), (1, 2)]);
        // "yz" is wholly outside the window: (0, 0), as run_qa would too.
        assert_eq!((w.start_position, w.end_position), (0, 0));
        assert_eq!(f.report.split_examples, 0);
        // The stride is not used: a config run_qa refuses is fine for one window.
        let f = run(vec![example("ab", ctx, None)], &PreprocessConfig { doc_stride: 100, ..seed(16) });
        assert_eq!(f.windows.len(), 1);
    }

    #[test]
    fn the_seed_labels_an_answer_partly_in_the_window() {
        let ctx = "abcdefghijklmnopqrstuvwxyz";
        // The window holds a..j (tokens 5..15). "ijkl" starts inside and ends outside: run_qa
        // gives (0, 0), the seed's weaker test gives a start and an end walk that never moves
        // (end = last context token + 1, the final </s>).
        let ex = || vec![example("ab", ctx, Some(("ijkl", 8)))];
        let w = &run(ex(), &seed(16)).windows[0];
        assert_eq!((w.start_position, w.end_position), (13, 15));
        assert_eq!((run(ex(), &cfg(16, 3, 2)).windows[0].start_position), 0);
        // An answer wholly inside gets the run_qa labels; an empty answer is walked like any
        // other (run_qa's walk would leave the window, so squadkit labels it CLS there).
        let w = &run(vec![example("ab", ctx, Some(("cd", 2)))], &seed(16)).windows[0];
        assert_eq!((w.start_position, w.end_position), (7, 8));
        let f = run(vec![example("ab", ctx, Some(("", 2)))], &seed(16));
        assert_eq!((f.windows[0].start_position, f.windows[0].end_position), (7, 6));
        assert_eq!((f.report.empty_answers, f.report.start_after_end), (0, 1));
    }

    #[test]
    fn bad_config_is_refused() {
        let e = preprocess(&tiny(), &Dataset::default(), &cfg(16, 8, 4)).unwrap_err();
        assert!(e.to_string().contains("doc stride"), "{e}");
    }
}
