//! The official SQuAD "Evaluation Script v2.0", reproduced number for number.
//!
//! Stages, as in the script: [`normalize_answer`] (Python's `str.lower`, `string.punctuation`,
//! Unicode `\b(a|an|the)\b`, `str.split`), per-question raw exact/F1 against the
//! [`GoldStandard`], the no-answer threshold on `na_prob`, the totals (float64 sums in dataset
//! order), the best-threshold search (stable sort of the na_prob file's keys) and the
//! precision–recall analysis. [`Scorer::evaluate`] returns an [`Evaluation`] whose
//! [`Evaluation::to_dict`] is the script's output dictionary, key for key, and the
//! per-question [`QuestionScore`]s the error analysis needs.

use crate::json::{self, JsonError, OrderedMap, PyNumber, PyValue};
use crate::squad::Dataset;
use crate::text::{is_py_punctuation, is_py_space, is_py_word, py_lower};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

/// `normalize_answer` of the official script: lower, drop ASCII punctuation, drop the words
/// "a", "an", "the", collapse whitespace.
///
/// One pass after lowering: punctuation is skipped (it goes first in the script, so "th.e" is
/// an article), runs of `\w` characters are held until they end and become a space when they
/// are an article (`re.sub(r'\b(a|an|the)\b', ' ', ...)`), whitespace becomes single spaces
/// between tokens (`' '.join(s.split())`).
pub fn normalize_answer(s: &str) -> String {
    let lowered = py_lower(s);
    let mut out = String::with_capacity(lowered.len());
    let mut word = String::new();
    let mut pending_space = false;
    let emit = |out: &mut String, pending_space: &mut bool, piece: &str| {
        if *pending_space && !out.is_empty() {
            out.push(' ');
        }
        *pending_space = false;
        out.push_str(piece);
    };
    let flush = |out: &mut String, pending_space: &mut bool, word: &mut String| {
        if word.is_empty() {
            return;
        }
        if matches!(word.as_str(), "a" | "an" | "the") {
            *pending_space = true;
        } else {
            emit(out, pending_space, word);
        }
        word.clear();
    };
    let mut buf = [0u8; 4];
    for c in lowered.chars() {
        if is_py_punctuation(c) {
            continue;
        }
        if is_py_word(c) {
            word.push(c);
            continue;
        }
        flush(&mut out, &mut pending_space, &mut word);
        if is_py_space(c) {
            pending_space = true;
        } else {
            emit(&mut out, &mut pending_space, c.encode_utf8(&mut buf));
        }
    }
    flush(&mut out, &mut pending_space, &mut word);
    out
}

/// `get_tokens`: the normalized answer split on whitespace.
pub fn answer_tokens(s: &str) -> Vec<String> {
    normalize_answer(s).split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

/// `compute_exact`: 1 when the normalized strings are equal.
pub fn compute_exact(gold: &str, pred: &str) -> u8 {
    u8::from(normalize_answer(gold) == normalize_answer(pred))
}

/// `compute_f1` on raw strings.
pub fn compute_f1(gold: &str, pred: &str) -> f64 {
    let mut g = answer_tokens(gold);
    let mut p = answer_tokens(pred);
    g.sort_unstable();
    p.sort_unstable();
    f1_sorted(&g, &p)
}

/// F1 of two token lists, each sorted (so that equal tokens are adjacent).
fn f1_sorted<T: Ord>(gold: &[T], pred: &[T]) -> f64 {
    if gold.is_empty() || pred.is_empty() {
        return f64::from(u8::from(gold == pred));
    }
    // Multiset intersection (collections.Counter &) by merging the sorted lists.
    let (mut i, mut j, mut same) = (0, 0, 0usize);
    while i < gold.len() && j < pred.len() {
        match gold[i].cmp(&pred[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                same += 1;
                i += 1;
                j += 1;
            }
        }
    }
    if same == 0 {
        return 0.0;
    }
    let precision = 1.0 * same as f64 / pred.len() as f64;
    let recall = 1.0 * same as f64 / gold.len() as f64;
    (2.0 * precision * recall) / (precision + recall)
}

/// One gold answer, normalized once; its tokens as ids in the [`GoldStandard`]'s vocabulary.
#[derive(Debug, Clone, PartialEq)]
struct GoldAnswer {
    normalized: String,
    sorted_tokens: Vec<u32>,
}

/// Token id of a prediction token no gold answer has: it can never match.
const UNKNOWN_TOKEN: u32 = u32::MAX;

impl GoldAnswer {
    fn new(text: &str, vocab: &mut HashMap<String, u32>) -> GoldAnswer {
        let normalized = normalize_answer(text);
        let mut sorted_tokens: Vec<u32> = normalized
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(|t| match vocab.get(t) {
                Some(&id) => id,
                None => {
                    let id = vocab.len() as u32;
                    vocab.insert(t.to_owned(), id);
                    id
                }
            })
            .collect();
        sorted_tokens.sort_unstable();
        GoldAnswer { normalized, sorted_tokens }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct GoldQuestion {
    id: String,
    has_answer: bool,
    golds: Vec<GoldAnswer>,
}

/// The gold answers of a dataset, normalized once, keyed by question id in dataset order.
///
/// A repeated id behaves as in the script's dicts: its first position, its last answers.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldStandard {
    questions: Vec<GoldQuestion>,
    index: HashMap<String, usize>,
    /// Every token of every gold answer, interned.
    vocab: HashMap<String, u32>,
}

impl GoldStandard {
    pub fn new(dataset: &Dataset) -> GoldStandard {
        let mut questions: Vec<GoldQuestion> = Vec::with_capacity(dataset.examples.len());
        let mut index = HashMap::with_capacity_and_hasher(dataset.examples.len(), Default::default());
        let mut vocab = HashMap::default();
        for e in &dataset.examples {
            let mut golds: Vec<GoldAnswer> =
                e.answers.text.iter().map(|t| GoldAnswer::new(t, &mut vocab)).filter(|g| !g.normalized.is_empty()).collect();
            if golds.is_empty() {
                golds.push(GoldAnswer::new("", &mut vocab));
            }
            let q = GoldQuestion { id: e.id.clone(), has_answer: e.has_answer(), golds };
            match index.get(&e.id) {
                Some(&i) => questions[i] = q,
                None => {
                    index.insert(e.id.clone(), questions.len());
                    questions.push(q);
                }
            }
        }
        GoldStandard { questions, index, vocab }
    }

    /// Number of distinct question ids.
    pub fn len(&self) -> usize {
        self.questions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.questions.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.questions.iter().map(|q| q.id.as_str())
    }

    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    pub fn has_answer(&self, id: &str) -> Option<bool> {
        self.index.get(id).map(|&i| self.questions[i].has_answer)
    }
}

/// A predictions file: question id → answer text (`""` for no answer).
pub type Predictions = OrderedMap<String>;

/// A na_prob file: question id → the model's probability (or any score) of no answer.
pub type NaProbs = OrderedMap<PyNumber>;

/// Parse a predictions file (a JSON object of strings).
pub fn parse_predictions(bytes: &[u8]) -> Result<Predictions, JsonError> {
    json::from_slice(bytes)
}

/// Parse a na_prob file (a JSON object of numbers).
/// Python's `NaN`, `Infinity` and `-Infinity` are read as the script's `json.load` reads them
/// (`squadkit decode` writes them where utils_qa would).
pub fn parse_na_probs(bytes: &[u8]) -> Result<NaProbs, JsonError> {
    json::from_slice_py(bytes)
}

/// What to do with questions that have no prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingPredictions {
    /// Refuse to score ([`ScoreError::MissingPredictions`]).
    #[default]
    Error,
    /// Score them as wrong: 0 exact and 0 F1, counted in every total; they take no part in
    /// the best-threshold search and count as wrong in the precision–recall analysis.
    ScoreAsWrong,
}

/// Options of one evaluation: the script's `-t` and whether `-n` was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreOptions {
    /// `--na-prob-thresh`: a question whose na_prob exceeds it counts as predicted no-answer.
    pub na_prob_thresh: f64,
    pub missing: MissingPredictions,
    /// Compute the precision–recall analysis (the script does it with `-n` and `-p`).
    pub precision_recall: bool,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions { na_prob_thresh: 1.0, missing: MissingPredictions::Error, precision_recall: false }
    }
}

/// Why a set of predictions cannot be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoreError {
    #[error("{count} question(s) have no prediction, first: {}", .first.join(", "))]
    MissingPredictions { count: usize, first: Vec<String> },
    #[error("{count} predicted question(s) have no na_prob, first: {}", .first.join(", "))]
    MissingNaProbs { count: usize, first: Vec<String> },
    #[error("nothing to score: no question of the dataset has a prediction")]
    Empty,
}

/// The result of one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionScore {
    pub id: String,
    pub has_answer: bool,
    /// `None` when the question had no prediction (only with [`MissingPredictions::ScoreAsWrong`]).
    pub prediction: Option<String>,
    pub na_prob: Option<f64>,
    /// na_prob > threshold: the answer is replaced by "no answer".
    pub predicted_no_answer: bool,
    /// Exact match and F1 of the prediction text, before the threshold.
    pub exact_raw: f64,
    pub f1_raw: f64,
    /// After the threshold: what the totals add up.
    pub exact: f64,
    pub f1: f64,
}

impl QuestionScore {
    /// The error-analysis category of this question.
    pub fn outcome(&self) -> Outcome {
        let answered = !self.predicted_no_answer && self.prediction.as_deref().is_some_and(|p| !p.is_empty());
        match (self.has_answer, answered) {
            (false, false) => Outcome::Correct,
            (false, true) => Outcome::FalseAnswer,
            (true, false) => Outcome::FalseNoAnswer,
            (true, true) if self.exact == 1.0 => Outcome::Correct,
            (true, true) if self.f1 > 0.0 => Outcome::Partial,
            (true, true) => Outcome::WrongAnswer,
        }
    }
}

/// Error-analysis categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Exact match (answerable) or no answer given (unanswerable).
    Correct,
    /// Some token overlap, not exact.
    Partial,
    /// An answer with no overlap.
    WrongAnswer,
    /// No answer given to an answerable question.
    FalseNoAnswer,
    /// An answer given to an unanswerable question.
    FalseAnswer,
}

impl Outcome {
    pub const ALL: [Outcome; 5] =
        [Outcome::Correct, Outcome::Partial, Outcome::WrongAnswer, Outcome::FalseNoAnswer, Outcome::FalseAnswer];

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Correct => "correct",
            Outcome::Partial => "partial",
            Outcome::WrongAnswer => "wrong answer",
            Outcome::FalseNoAnswer => "false no-answer",
            Outcome::FalseAnswer => "false answer",
        }
    }
}

/// exact, f1 and total over a set of questions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub exact: f64,
    pub f1: f64,
    pub total: usize,
}

/// `find_all_best_thresh`'s four numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BestThresholds {
    pub best_exact: f64,
    /// The na_prob value (as the file wrote it: int or float) where the best was reached.
    #[serde(serialize_with = "ser_pynumber")]
    pub best_exact_thresh: PyNumber,
    pub best_f1: f64,
    #[serde(serialize_with = "ser_pynumber")]
    pub best_f1_thresh: PyNumber,
}

fn ser_pynumber<S: serde::Serializer>(n: &PyNumber, s: S) -> Result<S::Ok, S::Error> {
    match *n {
        PyNumber::Int(i) => s.serialize_i64(i),
        PyNumber::Float(f) => s.serialize_f64(f),
    }
}

/// One precision–recall curve and its average precision (in percent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrCurve {
    pub ap: f64,
    /// Points (recall, precision) where a threshold can be put, starting at (0, 1).
    pub recalls: Vec<f64>,
    pub precisions: Vec<f64>,
}

/// `run_precision_recall_analysis`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrecisionRecall {
    pub exact: PrCurve,
    pub f1: PrCurve,
    pub oracle: PrCurve,
}

/// Everything one evaluation computes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub overall: Summary,
    pub has_ans: Option<Summary>,
    pub no_ans: Option<Summary>,
    /// With a na_prob file.
    pub best: Option<BestThresholds>,
    /// With a na_prob file and [`ScoreOptions::precision_recall`]; `None` also when no question
    /// has an answer (the script then adds nothing).
    pub precision_recall: Option<PrecisionRecall>,
    /// Per question, in dataset order.
    pub questions: Vec<QuestionScore>,
    /// Predicted ids that are not in the dataset (the script ignores them).
    pub extra_predictions: Vec<String>,
    /// na_prob ids that are not in the dataset.
    pub extra_na_probs: Vec<String>,
    /// Questions without a prediction (scored as wrong).
    pub missing_predictions: Vec<String>,
}

impl Evaluation {
    /// The script's output dictionary, keys in its order.
    pub fn to_dict(&self) -> Vec<(String, PyValue)> {
        let mut d: Vec<(String, PyValue)> = Vec::new();
        let mut summary = |prefix: &str, s: &Summary| {
            d.push((format!("{prefix}exact"), PyValue::Float(s.exact)));
            d.push((format!("{prefix}f1"), PyValue::Float(s.f1)));
            d.push((format!("{prefix}total"), PyValue::Int(s.total as i64)));
        };
        summary("", &self.overall);
        if let Some(s) = &self.has_ans {
            summary("HasAns_", s);
        }
        if let Some(s) = &self.no_ans {
            summary("NoAns_", s);
        }
        if let Some(b) = &self.best {
            d.push(("best_exact".into(), PyValue::Float(b.best_exact)));
            d.push(("best_exact_thresh".into(), b.best_exact_thresh.into()));
            d.push(("best_f1".into(), PyValue::Float(b.best_f1)));
            d.push(("best_f1_thresh".into(), b.best_f1_thresh.into()));
        }
        if let Some(pr) = &self.precision_recall {
            d.push(("pr_exact_ap".into(), PyValue::Float(pr.exact.ap)));
            d.push(("pr_f1_ap".into(), PyValue::Float(pr.f1.ap)));
            d.push(("pr_oracle_ap".into(), PyValue::Float(pr.oracle.ap)));
        }
        d
    }

    /// `json.dumps(out_eval, indent=2)` (stdout) or `json.dump` (the `-o` file).
    pub fn to_json(&self, indent: bool) -> String {
        json::dumps(&self.to_dict(), indent)
    }

    /// One JSON object per question, in dataset order: its [`QuestionScore`] fields and its
    /// `outcome` (`squadkit evaluate --per-question`, and the browser's export).
    pub fn per_question_jsonl(&self) -> String {
        let mut lines = String::new();
        for q in &self.questions {
            let mut v = serde_json::to_value(q).expect("a question score serialises");
            v["outcome"] = serde_json::to_value(q.outcome()).expect("an outcome serialises");
            lines.push_str(&v.to_string());
            lines.push('\n');
        }
        lines
    }

    /// The same rows as [`Evaluation::per_question_jsonl`] as CSV (RFC 4180 quoting; an empty
    /// cell where a value is absent), for a spreadsheet.
    pub fn per_question_csv(&self) -> String {
        fn cell(s: &str) -> String {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        }
        let mut out = String::from("id,has_answer,prediction,na_prob,predicted_no_answer,exact_raw,f1_raw,exact,f1,outcome\r\n");
        for q in &self.questions {
            let row = [
                cell(&q.id),
                q.has_answer.to_string(),
                q.prediction.as_deref().map(cell).unwrap_or_default(),
                q.na_prob.map(|p| p.to_string()).unwrap_or_default(),
                q.predicted_no_answer.to_string(),
                q.exact_raw.to_string(),
                q.f1_raw.to_string(),
                q.exact.to_string(),
                q.f1.to_string(),
                q.outcome().label().to_string(),
            ];
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// Counts per [`Outcome`], in [`Outcome::ALL`] order.
    pub fn outcome_counts(&self) -> [(Outcome, usize); 5] {
        let mut counts = Outcome::ALL.map(|o| (o, 0));
        for q in &self.questions {
            let o = q.outcome();
            counts.iter_mut().find(|(k, _)| *k == o).expect("every outcome is listed").1 += 1;
        }
        counts
    }
}

/// Raw (unthresholded) scores of every question, computed once per predictions file; re-scoring
/// at another threshold ([`RawScores::evaluate`]) does not normalize anything again.
#[derive(Debug, Clone, PartialEq)]
pub struct RawScores {
    /// Per gold question: (prediction, exact, f1), `None` when missing.
    per_question: Vec<Option<(String, f64, f64)>>,
    extra_predictions: Vec<String>,
}

/// Scores predictions against a [`GoldStandard`].
#[derive(Debug, Clone)]
pub struct Scorer<'g> {
    gold: &'g GoldStandard,
}

impl<'g> Scorer<'g> {
    pub fn new(gold: &'g GoldStandard) -> Scorer<'g> {
        Scorer { gold }
    }

    /// `get_raw_scores`: exact and F1 of each prediction, max over the gold answers.
    pub fn raw_scores(&self, preds: &Predictions) -> RawScores {
        let per_question = self
            .gold
            .questions
            .iter()
            .map(|q| {
                preds.get(&q.id).map(|pred| {
                    let norm = normalize_answer(pred);
                    let mut toks: Vec<u32> = norm
                        .split(' ')
                        .filter(|t| !t.is_empty())
                        .map(|t| self.gold.vocab.get(t).copied().unwrap_or(UNKNOWN_TOKEN))
                        .collect();
                    toks.sort_unstable();
                    let exact = q.golds.iter().any(|g| g.normalized == norm);
                    let f1 = q.golds.iter().map(|g| f1_sorted(&g.sorted_tokens, &toks)).fold(f64::MIN, f64::max);
                    (pred.clone(), f64::from(u8::from(exact)), f1)
                })
            })
            .collect();
        let extra_predictions = preds.keys().filter(|k| !self.gold.contains(k)).map(str::to_owned).collect();
        RawScores { per_question, extra_predictions }
    }

    /// Score `preds` with the script's defaults for what is not given: without `na_probs`
    /// every predicted question has na_prob 0.0 and no best threshold is searched.
    pub fn evaluate(
        &self,
        preds: &Predictions,
        na_probs: Option<&NaProbs>,
        opts: ScoreOptions,
    ) -> Result<Evaluation, ScoreError> {
        self.raw_scores(preds).evaluate(self.gold, na_probs, opts)
    }
}

fn first_ids<'a>(ids: impl Iterator<Item = &'a str>) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut first = Vec::new();
    for id in ids {
        if first.len() < 5 {
            first.push(id.to_owned());
        }
        count += 1;
    }
    (count, first)
}

impl RawScores {
    /// Apply the threshold, add up, and search the best thresholds.
    pub fn evaluate(
        &self,
        gold: &GoldStandard,
        na_probs: Option<&NaProbs>,
        opts: ScoreOptions,
    ) -> Result<Evaluation, ScoreError> {
        let qs = &gold.questions;
        let missing = || qs.iter().zip(&self.per_question).filter(|(_, s)| s.is_none()).map(|(q, _)| q.id.as_str());
        if opts.missing == MissingPredictions::Error && missing().next().is_some() {
            let (count, first) = first_ids(missing());
            return Err(ScoreError::MissingPredictions { count, first });
        }
        if self.per_question.iter().all(Option::is_none) {
            return Err(ScoreError::Empty);
        }
        if let Some(na) = na_probs {
            let lacking = qs
                .iter()
                .zip(&self.per_question)
                .filter(|(q, s)| s.is_some() && !na.contains_key(&q.id))
                .map(|(q, _)| q.id.as_str());
            let (count, first) = first_ids(lacking);
            if count > 0 {
                return Err(ScoreError::MissingNaProbs { count, first });
            }
        }
        let na_prob_of = |id: &str, predicted: bool| -> Option<f64> {
            match na_probs {
                Some(na) => na.get(id).map(|n| n.as_f64()),
                None => predicted.then_some(0.0),
            }
        };

        // apply_no_ans_threshold, per question in dataset order.
        let questions: Vec<QuestionScore> = qs
            .iter()
            .zip(&self.per_question)
            .map(|(q, s)| {
                let na_prob = na_prob_of(&q.id, s.is_some());
                match s {
                    Some((pred, exact_raw, f1_raw)) => {
                        let predicted_no_answer = na_prob.is_some_and(|p| p > opts.na_prob_thresh);
                        let (exact, f1) = if predicted_no_answer {
                            let v = f64::from(u8::from(!q.has_answer));
                            (v, v)
                        } else {
                            (*exact_raw, *f1_raw)
                        };
                        QuestionScore {
                            id: q.id.clone(),
                            has_answer: q.has_answer,
                            prediction: Some(pred.clone()),
                            na_prob,
                            predicted_no_answer,
                            exact_raw: *exact_raw,
                            f1_raw: *f1_raw,
                            exact,
                            f1,
                        }
                    }
                    None => QuestionScore {
                        id: q.id.clone(),
                        has_answer: q.has_answer,
                        prediction: None,
                        na_prob,
                        predicted_no_answer: false,
                        exact_raw: 0.0,
                        f1_raw: 0.0,
                        exact: 0.0,
                        f1: 0.0,
                    },
                }
            })
            .collect();

        // make_eval_dict: 100 * float64 sum in dataset order / count.
        let summarize = |filter: &dyn Fn(&QuestionScore) -> bool| -> Option<Summary> {
            let mut exact = 0.0f64;
            let mut f1 = 0.0f64;
            let mut total = 0usize;
            for q in questions.iter().filter(|q| filter(q)) {
                exact += q.exact;
                f1 += q.f1;
                total += 1;
            }
            (total > 0).then(|| Summary { exact: 100.0 * exact / total as f64, f1: 100.0 * f1 / total as f64, total })
        };
        let overall = summarize(&|_| true).expect("at least one question is scored");
        let has_ans = summarize(&|q| q.has_answer);
        let no_ans = summarize(&|q| !q.has_answer);

        let extra_na_probs: Vec<String> =
            na_probs.map(|na| na.keys().filter(|k| !gold.contains(k)).map(str::to_owned).collect()).unwrap_or_default();
        let by_id: HashMap<&str, usize> = questions.iter().enumerate().map(|(i, q)| (q.id.as_str(), i)).collect();

        let (best, precision_recall) = match na_probs {
            None => (None, None),
            Some(na) => {
                // sorted(na_probs, key=na_probs.get): a stable sort on the file's key order
                // (infinities in their place). NaN, which compares false with everything, is
                // put last: where Python's sort leaves it depends on its merge order, not on
                // the values, so no order reproduces every Python.
                let mut order: Vec<(&str, PyNumber)> = na.iter().map(|(k, v)| (k, *v)).collect();
                order.sort_by(|a, b| {
                    let (x, y) = (a.1.as_f64(), b.1.as_f64());
                    x.is_nan().cmp(&y.is_nan()).then(x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal))
                });
                let best = best_thresholds(&questions, &by_id, &order);
                let pr = if opts.precision_recall { precision_recall(&questions, &by_id, &order) } else { None };
                (Some(best), pr)
            }
        };

        Ok(Evaluation {
            overall,
            has_ans,
            no_ans,
            best,
            precision_recall,
            missing_predictions: questions.iter().filter(|q| q.prediction.is_none()).map(|q| q.id.clone()).collect(),
            questions,
            extra_predictions: self.extra_predictions.clone(),
            extra_na_probs,
        })
    }
}

/// `find_best_thresh` for exact and for F1.
fn best_thresholds(questions: &[QuestionScore], by_id: &HashMap<&str, usize>, order: &[(&str, PyNumber)]) -> BestThresholds {
    let scored = questions.iter().filter(|q| q.prediction.is_some()).count();
    let search = |raw: &dyn Fn(&QuestionScore) -> f64| -> (f64, PyNumber) {
        let num_no_ans = questions.iter().filter(|q| !q.has_answer && q.prediction.is_some()).count();
        let mut cur = num_no_ans as f64;
        let mut best = cur;
        let mut best_thresh = PyNumber::Float(0.0);
        for &(id, na_prob) in order {
            let Some(q) = by_id.get(id).map(|&i| &questions[i]) else { continue };
            let Some(pred) = q.prediction.as_deref() else { continue };
            let diff = if q.has_answer {
                raw(q)
            } else if !pred.is_empty() {
                -1.0
            } else {
                0.0
            };
            cur += diff;
            if cur > best {
                best = cur;
                best_thresh = na_prob;
            }
        }
        (100.0 * best / scored as f64, best_thresh)
    };
    let (best_exact, best_exact_thresh) = search(&|q| q.exact_raw);
    let (best_f1, best_f1_thresh) = search(&|q| q.f1_raw);
    BestThresholds { best_exact, best_exact_thresh, best_f1, best_f1_thresh }
}

/// `run_precision_recall_analysis`: `None` when no question has an answer. na_prob ids that
/// are not in the dataset are left out (the script stops with a KeyError on them).
fn precision_recall(
    questions: &[QuestionScore],
    by_id: &HashMap<&str, usize>,
    order: &[(&str, PyNumber)],
) -> Option<PrecisionRecall> {
    let num_true_pos = questions.iter().filter(|q| q.has_answer).count();
    if num_true_pos == 0 {
        return None;
    }
    let known: Vec<(&QuestionScore, f64)> =
        order.iter().filter_map(|&(id, p)| by_id.get(id).map(|&i| (&questions[i], p.as_f64()))).collect();
    let curve = |score: &dyn Fn(&QuestionScore) -> f64| -> PrCurve {
        let mut true_pos = 0.0f64;
        let mut precisions = vec![1.0];
        let mut recalls = vec![0.0];
        let mut avg_prec = 0.0f64;
        for (i, &(q, p)) in known.iter().enumerate() {
            if q.has_answer {
                true_pos += score(q);
            }
            let cur_p = true_pos / (i + 1) as f64;
            let cur_r = true_pos / num_true_pos as f64;
            if i == known.len() - 1 || p != known[i + 1].1 {
                avg_prec += cur_p * (cur_r - recalls.last().copied().expect("starts with one point"));
                precisions.push(cur_p);
                recalls.push(cur_r);
            }
        }
        PrCurve { ap: 100.0 * avg_prec, recalls, precisions }
    };
    Some(PrecisionRecall {
        exact: curve(&|q| q.exact_raw),
        f1: curve(&|q| q.f1_raw),
        oracle: curve(&|q| f64::from(u8::from(q.has_answer))),
    })
}

/// `numpy.histogram(x, bins, range=(lo, hi), weights=1/len(x))`: the share of values in each
/// of `bins` equal bins; the last bin includes `hi`, values outside the range are dropped.
pub fn histogram(values: &[f64], bins: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut counts = vec![0.0f64; bins];
    if values.is_empty() || bins == 0 {
        return counts;
    }
    let w = 1.0 / values.len() as f64;
    let edges: Vec<f64> = (0..=bins).map(|i| lo + (hi - lo) * i as f64 / bins as f64).collect();
    for &x in values {
        if !(lo..=hi).contains(&x) {
            continue;
        }
        let mut b = (((x - lo) / (hi - lo)) * bins as f64) as usize;
        b = b.min(bins - 1);
        // numpy corrects the computed bin against the edges.
        if x < edges[b] {
            b -= 1;
        } else if x >= edges[b + 1] && b + 1 < bins {
            b += 1;
        }
        counts[b] += w;
    }
    counts
}

/// One row of the score card that `squadkit evaluate` prints on a terminal and the browser
/// shows: a label, a key (`exact`, `hasans-f1`, `best-f1-thresh`, ...; the browser's test id
/// is `score-` + key) and the value as shown (scores with two decimals, counts whole,
/// thresholds with four decimals; the JSON keeps every digit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRow {
    pub label: &'static str,
    pub key: &'static str,
    pub value: String,
}

fn fmt_thresh(n: PyNumber) -> String {
    match n {
        PyNumber::Int(i) => format!("{i}.00"),
        PyNumber::Float(f) => format!("{f:.4}"),
    }
}

impl Evaluation {
    /// The score card, in the official script's key order.
    pub fn score_card(&self) -> Vec<ScoreRow> {
        let mut rows = Vec::new();
        let mut summary = |s: &Summary, labels: [&'static str; 3], keys: [&'static str; 3]| {
            let values = [format!("{:.2}", s.exact), format!("{:.2}", s.f1), s.total.to_string()];
            for ((label, key), value) in labels.into_iter().zip(keys).zip(values) {
                rows.push(ScoreRow { label, key, value });
            }
        };
        summary(&self.overall, ["exact", "f1", "total"], ["exact", "f1", "total"]);
        if let Some(s) = &self.has_ans {
            summary(s, ["HasAns exact", "HasAns f1", "HasAns total"], ["hasans-exact", "hasans-f1", "hasans-total"]);
        }
        if let Some(s) = &self.no_ans {
            summary(s, ["NoAns exact", "NoAns f1", "NoAns total"], ["noans-exact", "noans-f1", "noans-total"]);
        }
        let mut row = |label, key, value| rows.push(ScoreRow { label, key, value });
        if let Some(b) = &self.best {
            row("best exact", "best-exact", format!("{:.2}", b.best_exact));
            row("best exact thresh", "best-exact-thresh", fmt_thresh(b.best_exact_thresh));
            row("best f1", "best-f1", format!("{:.2}", b.best_f1));
            row("best f1 thresh", "best-f1-thresh", fmt_thresh(b.best_f1_thresh));
        }
        if let Some(pr) = &self.precision_recall {
            row("PR exact AP", "pr-exact-ap", format!("{:.2}", pr.exact.ap));
            row("PR f1 AP", "pr-f1-ap", format!("{:.2}", pr.f1.ap));
            row("PR oracle AP", "pr-oracle-ap", format!("{:.2}", pr.oracle.ap));
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_follows_the_script() {
        assert_eq!(normalize_answer("The  Quick, brown fox!"), "quick brown fox");
        assert_eq!(normalize_answer("an apple a day"), "apple day");
        assert_eq!(normalize_answer("theatre an_a"), "theatre ana", "_ is punctuation, removed first");
        assert_eq!(normalize_answer("an\u{301}"), "\u{301}");
        // A combining mark is not \w in Python: "the" before it is still a word.
        assert_eq!(normalize_answer("the\u{301} end"), "\u{301} end");
        assert_eq!(normalize_answer("a-b"), "ab");
        assert_eq!(normalize_answer("x\u{1c}y\u{85}z"), "x y z");
        assert_eq!(normalize_answer("“Quoted”"), "“quoted”", "non-ASCII punctuation stays");
        assert_eq!(normalize_answer("A"), "");
    }

    #[test]
    fn f1_is_the_multiset_overlap() {
        // gold [cat, sat] ("a" dropped), pred [cat, cat]: one common token, P = R = 1/2.
        assert_eq!(compute_f1("a cat sat", "cat cat"), 0.5);
        assert_eq!(compute_f1("", ""), 1.0);
        assert_eq!(compute_f1("the", "a"), 1.0, "both normalize to no tokens");
        assert_eq!(compute_f1("x", ""), 0.0);
        assert_eq!(compute_f1("x y", "z"), 0.0);
        assert_eq!(compute_exact("The Cat.", "cat"), 1);
    }

    fn dataset() -> Dataset {
        Dataset::from_squad_json(
            br#"{"data": [{"title": "t", "paragraphs": [{"context": "the cat sat on the mat", "qas": [
            {"id": "1", "question": "q", "answers": [{"text": "the cat", "answer_start": 0}, {"text": "cat sat", "answer_start": 4}]},
            {"id": "2", "question": "q", "answers": []},
            {"id": "3", "question": "q", "answers": [{"text": "mat", "answer_start": 19}]},
            {"id": "4", "question": "q", "answers": []}]}]}]}"#,
        )
        .unwrap()
    }

    fn preds(json: &str) -> Predictions {
        parse_predictions(json.as_bytes()).unwrap()
    }

    #[test]
    fn per_question_exports_have_a_row_per_question() {
        let d = dataset();
        let gold = GoldStandard::new(&d);
        let p = preds(r#"{"1": "on, \"the\"", "2": "", "3": "mat", "4": "sat"}"#);
        let na = parse_na_probs(br#"{"1": 0.1, "2": 0.9, "3": 0.2, "4": 0.7}"#).unwrap();
        let opts = ScoreOptions { na_prob_thresh: 0.5, ..Default::default() };
        let e = Scorer::new(&gold).evaluate(&p, Some(&na), opts).unwrap();
        let lines: Vec<serde_json::Value> = e.per_question_jsonl().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[3]["predicted_no_answer"], true);
        assert_eq!(lines[3]["outcome"], "correct");
        let csv = e.per_question_csv();
        let rows: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(rows.len(), 6, "header, 4 rows, and the final line break");
        assert!(rows[0].starts_with("id,has_answer,prediction,na_prob,"));
        assert_eq!(rows[1], r#"1,true,"on, ""the""",0.1,false,0,0,0,0,wrong answer"#);
        assert_eq!(rows[4], "4,false,sat,0.7,true,0,0,1,1,correct");
    }

    #[test]
    fn python_constants_in_na_probs_score_as_the_script_reads_them() {
        let d = dataset();
        let gold = GoldStandard::new(&d);
        let p = preds(r#"{"1": "cat", "2": "", "3": "rug", "4": "sat"}"#);
        // json.load reads NaN, Infinity and -Infinity; squadkit decode writes them.
        let na = parse_na_probs(b"{\"1\": -Infinity, \"2\": Infinity, \"3\": NaN, \"4\": 0.8}").unwrap();
        assert_eq!(na.get("1"), Some(&PyNumber::Float(f64::NEG_INFINITY)));
        assert!(matches!(na.get("3"), Some(PyNumber::Float(x)) if x.is_nan()));
        let opts = ScoreOptions { na_prob_thresh: 0.5, ..Default::default() };
        let e = Scorer::new(&gold).evaluate(&p, Some(&na), opts).unwrap();
        // Infinity > 0.5: question 2 is "no answer" (right); NaN > 0.5 is false: 3 keeps "rug".
        let finite = parse_na_probs(br#"{"1": -1e300, "2": 1e300, "3": 0.1, "4": 0.8}"#).unwrap();
        let f = Scorer::new(&gold).evaluate(&p, Some(&finite), opts).unwrap();
        assert_eq!((e.overall, e.has_ans, e.no_ans), (f.overall, f.has_ans, f.no_ans));
        // The walk: -inf (1: +1), 0.8 (4: -1), inf (2: 0), then NaN (3) last.
        let b = e.best.unwrap();
        assert_eq!((b.best_exact, b.best_exact_thresh), (75.0, PyNumber::Float(f64::NEG_INFINITY)));
        assert!(e.to_json(false).contains("\"best_exact_thresh\": -Infinity"), "{}", e.to_json(false));
        // Strings are left alone, a bare word that is not a constant is still an error.
        assert!(parse_na_probs(br#"{"NaN": 0.5}"#).unwrap().get("NaN").is_some());
        assert!(parse_na_probs(br#"{"1": Nan}"#).is_err());
        assert!(parse_na_probs(br#"{"1": "\u0000NaN"}"#).is_err(), "a string is not a number, whatever it holds");
    }

    #[test]
    fn totals_thresholds_and_best() {
        let d = dataset();
        let gold = GoldStandard::new(&d);
        let p = preds(r#"{"1": "cat", "2": "", "3": "rug", "4": "sat"}"#);
        let na = parse_na_probs(br#"{"1": 0.1, "2": 0.9, "3": 0.7, "4": 0.8}"#).unwrap();
        let e = Scorer::new(&gold).evaluate(&p, Some(&na), ScoreOptions::default()).unwrap();
        // "cat" matches "the cat" exactly; "" is right for 2; 3 and 4 are wrong.
        assert_eq!(e.overall, Summary { exact: 50.0, f1: 50.0, total: 4 });
        let b = e.best.unwrap();
        // Walk by na_prob: 1 (+1 exact), 3 (+0), 4 (-1), 2 (0): best after "1" at 0.1.
        assert_eq!(b.best_exact, 100.0 * 3.0 / 4.0);
        assert_eq!(b.best_exact_thresh, PyNumber::Float(0.1));
        // With -t 0.75 questions 2 and 4 become "no answer": 4 turns right.
        let e = Scorer::new(&gold).evaluate(&p, Some(&na), ScoreOptions { na_prob_thresh: 0.75, ..Default::default() }).unwrap();
        assert_eq!(e.overall.exact, 75.0);
        assert_eq!(e.no_ans.unwrap().exact, 100.0);
        let keys: Vec<_> = e.to_dict().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "exact",
                "f1",
                "total",
                "HasAns_exact",
                "HasAns_f1",
                "HasAns_total",
                "NoAns_exact",
                "NoAns_f1",
                "NoAns_total",
                "best_exact",
                "best_exact_thresh",
                "best_f1",
                "best_f1_thresh"
            ]
        );
    }

    #[test]
    fn missing_predictions_are_an_error_unless_allowed() {
        let d = dataset();
        let gold = GoldStandard::new(&d);
        let p = preds(r#"{"1": "cat", "9": "x"}"#);
        let err = Scorer::new(&gold).evaluate(&p, None, ScoreOptions::default()).unwrap_err();
        assert_eq!(err, ScoreError::MissingPredictions { count: 3, first: vec!["2".into(), "3".into(), "4".into()] });
        let e = Scorer::new(&gold)
            .evaluate(&p, None, ScoreOptions { missing: MissingPredictions::ScoreAsWrong, ..Default::default() })
            .unwrap();
        assert_eq!(e.overall.total, 4);
        assert_eq!(e.overall.exact, 25.0);
        assert_eq!(e.extra_predictions, ["9"]);
        assert_eq!(e.missing_predictions, ["2", "3", "4"]);
    }

    #[test]
    fn outcomes() {
        let d = dataset();
        let gold = GoldStandard::new(&d);
        let p = preds(r#"{"1": "cat sat on", "2": "", "3": "", "4": "sat"}"#);
        let e = Scorer::new(&gold).evaluate(&p, None, ScoreOptions::default()).unwrap();
        let o: Vec<_> = e.questions.iter().map(QuestionScore::outcome).collect();
        assert_eq!(o, [Outcome::Partial, Outcome::Correct, Outcome::FalseNoAnswer, Outcome::FalseAnswer]);
    }

    #[test]
    fn histogram_matches_numpy_edges() {
        let h = histogram(&[0.0, 0.05, 0.5, 1.0, 1.5], 20, 0.0, 1.0);
        assert_eq!(h[0], 0.2);
        assert_eq!(h[1], 0.2);
        assert_eq!(h[10], 0.2);
        assert_eq!(h[19], 0.2);
        assert_eq!(h.iter().sum::<f64>(), 0.8);
    }

    #[test]
    fn the_score_card_lists_what_was_scored() {
        let data = br#"{"data": [{"title": "t", "paragraphs": [{"context": "the cat sat", "qas": [
            {"id": "a", "question": "?", "answers": [{"text": "cat", "answer_start": 4}]},
            {"id": "b", "question": "?", "answers": []}]}]}]}"#;
        let d = Dataset::from_squad_json(data).unwrap();
        let gold = GoldStandard::new(&d);
        let preds = parse_predictions(br#"{"a": "cat", "b": "sat"}"#).unwrap();
        let na = parse_na_probs(br#"{"a": 0.1, "b": 1}"#).unwrap();
        let e = Scorer::new(&gold).evaluate(&preds, Some(&na), ScoreOptions::default()).unwrap();
        let card = e.score_card();
        let keys: Vec<&str> = card.iter().map(|r| r.key).collect();
        assert_eq!(
            keys,
            [
                "exact",
                "f1",
                "total",
                "hasans-exact",
                "hasans-f1",
                "hasans-total",
                "noans-exact",
                "noans-f1",
                "noans-total",
                "best-exact",
                "best-exact-thresh",
                "best-f1",
                "best-f1-thresh"
            ]
        );
        assert_eq!((card[0].label, card[0].value.as_str()), ("exact", "50.00"));
        assert_eq!(card[2].value, "2");
    }
}
