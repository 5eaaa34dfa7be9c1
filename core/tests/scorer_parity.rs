//! Parity of the scorer with the real official script, on golden files it produced.
//!
//! `tools/gen_scorer_golden.py` ran the official "Evaluation Script v2.0" (from the `datasets`
//! 1.18.4 sdist on PyPI) over a generated edge-case dataset: hundreds of prediction and na_prob
//! files, thresholds and precision–recall runs, and thousands of answer pairs. Each test here
//! checks squadkit's output against the script's, byte for byte. The fixtures are compiled in,
//! so the same suite runs natively and under wasm32 (wasm-bindgen-test).

use serde::Deserialize;
use sha2::{Digest, Sha256};
use squadkit_core::json::{OrderedMap, PyNumber};
use squadkit_core::scorer::{compute_exact, compute_f1, normalize_answer, MissingPredictions};
use squadkit_core::{Dataset, GoldStandard, ScoreOptions, Scorer};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const DATASET: &str = include_str!("../../tests/fixtures/scorer/dataset.json");
const CASES: &str = include_str!("../../tests/fixtures/scorer/cases.jsonl");
const PAIRS: &str = include_str!("../../tests/fixtures/scorer/pairs.jsonl");
const CODEPOINTS: &str = include_str!("../../tests/fixtures/scorer/codepoints.json");

#[derive(Deserialize)]
struct Case {
    name: String,
    preds: OrderedMap<String>,
    na_probs: Option<OrderedMap<PyNumber>>,
    thresh: Option<String>,
    pr: bool,
    expected: String,
}

#[test]
fn every_generated_case_prints_what_the_official_script_prints() {
    let dataset = Dataset::from_squad_json(DATASET.as_bytes()).expect("fixture dataset parses");
    let gold = GoldStandard::new(&dataset);
    let scorer = Scorer::new(&gold);
    let mut n = 0;
    let mut with_pr = 0;
    for line in CASES.lines() {
        let case: Case = serde_json::from_str(line).expect("case line parses");
        let opts = ScoreOptions {
            na_prob_thresh: case.thresh.as_deref().map_or(1.0, |t| t.parse().expect("threshold parses")),
            missing: MissingPredictions::Error,
            precision_recall: case.pr,
        };
        let eval = scorer.evaluate(&case.preds, case.na_probs.as_ref(), opts).expect("case scores");
        assert_eq!(eval.to_json(true) + "\n", case.expected, "{}", case.name);
        n += 1;
        with_pr += usize::from(case.pr && eval.precision_recall.is_some());
    }
    assert!(n >= 200, "only {n} cases");
    assert!(with_pr >= 20, "only {with_pr} cases with a precision-recall analysis");
}

#[test]
fn normalize_exact_and_f1_match_the_script_on_answer_pairs() {
    let mut n = 0;
    for line in PAIRS.lines() {
        let (gold, pred, norm_gold, norm_pred, exact, f1): (String, String, String, String, u8, String) =
            serde_json::from_str(line).expect("pair parses");
        assert_eq!(normalize_answer(&gold), norm_gold, "normalize_answer({gold:?})");
        assert_eq!(normalize_answer(&pred), norm_pred, "normalize_answer({pred:?})");
        assert_eq!(compute_exact(&gold, &pred), exact, "exact({gold:?}, {pred:?})");
        let ours = compute_f1(&gold, &pred);
        // The script returns int 0/1 in some branches and a float otherwise: compare values.
        let theirs: f64 = f1.parse().expect("f1 repr parses");
        assert_eq!(ours.to_bits(), theirs.to_bits(), "f1({gold:?}, {pred:?})");
        n += 1;
    }
    assert!(n >= 2000);
}

#[derive(Deserialize)]
struct CodepointGolden {
    chunk: u32,
    sha256_16: Vec<String>,
}

/// normalize_answer over every Unicode code point, each placed next to articles, a capital
/// sigma and spaces, hashed in chunks: Python's lower/\w/split semantics for all of Unicode.
#[test]
fn normalize_answer_matches_python_on_every_code_point() {
    let golden: CodepointGolden = serde_json::from_str(CODEPOINTS).expect("codepoints.json parses");
    let mut mismatched = Vec::new();
    for (k, want) in golden.sha256_16.iter().enumerate() {
        let base = k as u32 * golden.chunk;
        let mut h = Sha256::new();
        for cp in base..base + golden.chunk {
            let Some(c) = char::from_u32(cp) else { continue };
            let text = format!("A{c}the {c}x{c}\u{3a3}{c} an{c}");
            h.update(normalize_answer(&text).as_bytes());
            h.update(b"\n");
        }
        let got: String = h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
        if &got != want {
            mismatched.push(format!("U+{base:04X}..U+{:04X}", base + golden.chunk - 1));
        }
    }
    assert!(mismatched.is_empty(), "chunks that differ from Python: {mismatched:?}");
    assert_eq!(golden.sha256_16.len(), 0x110000 / 4096);
}
