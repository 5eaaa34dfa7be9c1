//! The tiny golden model (tests/fixtures/model/tiny, made by tools/gen_model_golden.py) on the
//! fixture's four windows, through burn's CPU backend as the CLI and the browser's worker run
//! it (fused attention, the CPU's kernel forms), on both targets:
//! - natively, the logits equal the committed `native_logits.json` within 1e-6 relative (the
//!   last bits move with the CPU's SIMD width) and transformers' within 1e-5;
//!   `SQUADKIT_WRITE_FIXTURES=1` rewrites the file from this machine's run;
//! - under wasm32 (in Chromium: `cargo xtask test` runs this suite with wasm-bindgen-test in
//!   the browser), they equal those native logits within 1e-5 relative, and transformers'.

use burn::tensor::{Tensor, TensorData};
use squadkit_model::roberta::{Kernels, QaInput};
use squadkit_model::weights::{model_from_bytes, parse_safetensors};

type B = burn::backend::Flex;

const CONFIG: &[u8] = include_bytes!("../../tests/fixtures/model/tiny/config.json");
const WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/model/tiny/model.safetensors");
const INPUTS: &[u8] = include_bytes!("../../tests/fixtures/model/inputs.json");
const GOLDEN: &[u8] = include_bytes!("../../tests/fixtures/model/golden.safetensors");
const NATIVE: &[u8] = include_bytes!("../../tests/fixtures/model/native_logits.json");

/// Start and end logits, row-major `[4, 128]`.
fn logits() -> (Vec<f32>, Vec<f32>) {
    let device = Default::default();
    let (_, model, report) = model_from_bytes::<B>(CONFIG, WEIGHTS, &device).unwrap();
    assert!(report.missing.is_empty() && report.unused.is_empty());
    let model = model.with_kernels(Kernels::CPU);
    let v: serde_json::Value = serde_json::from_slice(INPUTS).unwrap();
    let rows: Vec<Vec<i64>> = serde_json::from_value(v["input_ids"].clone()).unwrap();
    let mask: Vec<Vec<i64>> = serde_json::from_value(v["attention_mask"].clone()).unwrap();
    let shape = [rows.len(), rows[0].len()];
    let input = QaInput::<B> {
        input_ids: Tensor::from_data(TensorData::new(rows.concat(), shape), &device),
        attention_mask: Tensor::from_data(TensorData::new(mask.concat(), shape), &device),
    };
    let out = model.forward(input);
    let host = |t: Tensor<B, 2>| t.into_data().to_vec::<f32>().unwrap();
    (host(out.start_logits), host(out.end_logits))
}

/// max |a - b| / max |b|.
fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f64, |m, x| m.max(f64::from(x.abs())));
    let diff = a.iter().zip(b).fold(0f64, |m, (x, y)| m.max((f64::from(*x) - f64::from(*y)).abs()));
    diff / scale.max(1e-30)
}

fn native() -> (Vec<f32>, Vec<f32>) {
    let v: serde_json::Value = serde_json::from_slice(NATIVE).unwrap();
    (serde_json::from_value(v["start_logits"].clone()).unwrap(), serde_json::from_value(v["end_logits"].clone()).unwrap())
}

fn check(bound_native: f64) {
    let (start, end) = logits();
    let golden = parse_safetensors(GOLDEN).unwrap();
    let (gs, ge) = (&golden["start_logits"].data, &golden["end_logits"].data);
    let (ns, ne) = native();
    let errs = [rel_err(&start, &ns), rel_err(&end, &ne), rel_err(&start, gs), rel_err(&end, ge)];
    let report = format!(
        "vs native: start {:.2e}, end {:.2e}; vs transformers: start {:.2e}, end {:.2e}",
        errs[0], errs[1], errs[2], errs[3]
    );
    println!("{report}");
    assert!(errs[0] <= bound_native && errs[1] <= bound_native, "{report}: above {bound_native:e} against native");
    assert!(errs[2] <= 1e-5 && errs[3] <= 1e-5, "{report}: above 1e-5 against transformers");
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_logits_equal_the_committed_ones_and_transformers() {
    if std::env::var_os("SQUADKIT_WRITE_FIXTURES").is_some() {
        let (start, end) = logits();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/model/native_logits.json");
        let text = serde_json::json!({"shape": [4, 128], "start_logits": start, "end_logits": end}).to_string();
        std::fs::write(path, text + "\n").unwrap();
        eprintln!("wrote {path}");
        return;
    }
    check(1e-6);
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use wasm_bindgen_test::*;
    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn wasm_logits_equal_native_within_1e_5() {
        super::check(1e-5);
    }
}
