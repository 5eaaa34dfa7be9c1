//! Parity of the burn RoBERTa-QA with transformers + torch (golden files from
//! `tools/gen_model_golden.py`, under tests/fixtures/model/): logits, loss, every gradient,
//! the parameters after three HF-style AdamW steps, HF directories in and out, and the real
//! roberta-base config end to end. All on the Flex CPU backend; one forward on wgpu.

use burn::backend::{Autodiff, Flex};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use squadkit_native::model::roberta::{qa_loss, Kernels, QaInput, QaOutput, RobertaForQuestionAnswering};
use squadkit_native::model::weights::{
    load_model_dir, model_to_tensors, parse_safetensors, save_model_dir, serialize_safetensors, to_host, HostTensor,
};
use squadkit_native::train::optim::{AdamW, AdamWConfig, LinearSchedule};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

type B = Autodiff<Flex>;
type Inner = Flex;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/model")
}

fn shared_data_or_skip(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SQUADKIT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    if dir.join("roberta-base/config.json").exists() {
        Some(dir)
    } else {
        eprintln!("SKIPPED {test}: ../shared/data/roberta-base is absent (set SQUADKIT_SHARED_DATA to run it)");
        None
    }
}

struct Inputs {
    ids: Vec<Vec<i64>>,
    mask: Vec<Vec<i64>>,
    starts: Vec<i64>,
    ends: Vec<i64>,
    roberta_base_ids: Vec<Vec<i64>>,
}

fn inputs() -> Inputs {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(fixtures().join("inputs.json")).unwrap()).unwrap();
    let rows = |k: &str| -> Vec<Vec<i64>> { serde_json::from_value(v[k].clone()).unwrap() };
    let row = |k: &str| -> Vec<i64> { serde_json::from_value(v[k].clone()).unwrap() };
    Inputs {
        ids: rows("input_ids"),
        mask: rows("attention_mask"),
        starts: row("start_positions"),
        ends: row("end_positions"),
        roberta_base_ids: rows("roberta_base_ids"),
    }
}

fn int2<Bk: Backend>(rows: &[Vec<i64>], device: &Bk::Device) -> Tensor<Bk, 2, Int> {
    let (b, s) = (rows.len(), rows[0].len());
    Tensor::from_data(TensorData::new(rows.concat(), [b, s]), device)
}

fn int1<Bk: Backend>(v: &[i64], device: &Bk::Device) -> Tensor<Bk, 1, Int> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

fn batch<Bk: Backend>(inp: &Inputs, device: &Bk::Device) -> QaInput<Bk> {
    QaInput { input_ids: int2(&inp.ids, device), attention_mask: int2(&inp.mask, device) }
}

fn golden() -> BTreeMap<String, HostTensor> {
    parse_safetensors(&std::fs::read(fixtures().join("golden.safetensors")).unwrap()).unwrap()
}

fn tiny<Bk: Backend>(device: &Bk::Device) -> RobertaForQuestionAnswering<Bk> {
    let (_, model, report) = load_model_dir::<Bk>(&fixtures().join("tiny"), device).unwrap();
    assert!(report.missing.is_empty() && report.unused.is_empty(), "{report:?}");
    model.with_dropout(0.0, 0.0)
}

fn host<Bk: Backend, const D: usize>(t: Tensor<Bk, D>) -> HostTensor {
    to_host(t, squadkit_native::model::roberta::Layout::Same)
}

/// max |a - b| / max |b|: the error relative to the tensor's scale.
fn rel_err(a: &HostTensor, b: &HostTensor) -> f64 {
    assert_eq!(a.shape, b.shape);
    let scale = b.data.iter().fold(0f64, |m, x| m.max(x.abs() as f64));
    abs_err(a, b) / scale.max(1e-30)
}

fn zero_like(t: &HostTensor) -> HostTensor {
    HostTensor { shape: t.shape.clone(), data: vec![0.0; t.data.len()] }
}

fn abs_err(a: &HostTensor, b: &HostTensor) -> f64 {
    assert_eq!(a.shape, b.shape);
    a.data.iter().zip(&b.data).fold(0f64, |m, (x, y)| m.max((*x as f64 - *y as f64).abs()))
}

fn check_logits<Bk: Backend>(out: &QaOutput<Bk>, start: &HostTensor, end: &HostTensor, what: &str) {
    let (s, e) = (rel_err(&host(out.start_logits.clone()), start), rel_err(&host(out.end_logits.clone()), end));
    eprintln!("{what}: start logits rel err {s:.2e}, end {e:.2e}");
    assert!(s <= 1e-4 && e <= 1e-4, "{what}: start {s:e}, end {e:e} > 1e-4");
}

/// The model's two forms: the CPU's (key mask folded into the score matmul, dropout masks
/// drawn on the host) and the GPU's (additive key bias, device dropout), both computed here.
const KERNELS: [(Kernels, &str); 2] = [(Kernels::CPU, "cpu kernels"), (Kernels::GPU, "gpu kernels")];

#[test]
fn logits_match_transformers_fused_and_plain_attention() {
    let device = Default::default();
    let g = golden();
    let inp = inputs();
    assert!(inp.mask.iter().any(|m| m.contains(&0)), "the fixture has padding");
    for (kernels, form) in KERNELS {
        // Inference backend: fused attention.
        let out = tiny::<Inner>(&device).with_kernels(kernels).forward(batch(&inp, &device));
        check_logits(&out, &g["start_logits"], &g["end_logits"], &format!("flex, fused attention, {form}"));
        // Autodiff backend: plain matmul + softmax attention.
        let out = tiny::<B>(&device).with_kernels(kernels).forward(batch(&inp, &device));
        check_logits(&out, &g["start_logits"], &g["end_logits"], &format!("autodiff flex, plain attention, {form}"));
    }
}

/// Every parameter's gradient, by HF name, in HF's layout.
fn gradients(
    model: &mut RobertaForQuestionAnswering<B>,
    grads: &<B as burn::tensor::backend::AutodiffBackend>::Gradients,
) -> Vec<(String, Option<HostTensor>)> {
    struct Collect<'a> {
        grads: &'a <B as burn::tensor::backend::AutodiffBackend>::Gradients,
        out: Vec<(String, Option<HostTensor>)>,
    }
    impl squadkit_native::model::roberta::ParamVisitor<B> for Collect<'_> {
        fn visit<const D: usize>(
            &mut self,
            name: &str,
            p: &mut burn::module::Param<Tensor<B, D>>,
            layout: squadkit_native::model::roberta::Layout,
        ) {
            self.out.push((name.to_string(), p.val().grad(self.grads).map(|t| to_host(t, layout))));
        }
    }
    let mut c = Collect { grads, out: Vec::new() };
    model.visit_params(&mut c);
    c.out
}

#[test]
fn loss_and_every_gradient_match_torch() {
    for (kernels, form) in KERNELS {
        eprintln!("{form}:");
        loss_and_gradients_match_torch(kernels);
    }
}

fn loss_and_gradients_match_torch(kernels: Kernels) {
    let device = Default::default();
    let g = golden();
    let inp = inputs();
    let mut model = tiny::<B>(&device).with_kernels(kernels);
    let out = model.forward(batch(&inp, &device));
    let loss = qa_loss(&out, int1(&inp.starts, &device), int1(&inp.ends, &device));
    let ours = host(loss.clone());
    let d = abs_err(&ours, &g["loss"]);
    eprintln!("loss {} vs torch {}: diff {d:.2e}", ours.data[0], g["loss"].data[0]);
    assert!(d <= 1e-5, "loss differs by {d:e}");
    let grads = loss.backward();

    let gradients = gradients(&mut model, &grads);
    let expected: Vec<&String> = g.keys().filter(|k| k.starts_with("grad.")).collect();
    assert_eq!(gradients.len(), expected.len(), "every parameter has a golden gradient");
    let mut worst = (0f64, String::new());
    let mut zeros = 0;
    for (name, grad) in gradients {
        let grad = grad.unwrap_or_else(|| panic!("{name} got no gradient"));
        let golden = &g[&format!("grad.{name}")];
        if zero_gradient(&name, model.num_layers()) {
            let (a, b) = (abs_err(&grad, &zero_like(golden)), abs_err(golden, &zero_like(golden)));
            assert!(a <= 1e-6 && b <= 1e-6, "{name}: should be ~0, max |ours| {a:e}, |torch| {b:e}");
            zeros += 1;
            continue;
        }
        let e = rel_err(&grad, golden);
        if e > worst.0 {
            worst = (e, name.clone());
        }
        assert!(e <= 1e-3, "gradient of {name}: rel err {e:e} > 1e-3");
    }
    assert_eq!(zeros, model.num_layers() + 2);
    eprintln!(
        "{} gradients: {zeros} analytically zero (|g| <= 1e-6 both sides), the others' worst rel err {:.2e} ({})",
        expected.len(),
        worst.0,
        worst.1
    );
}

/// The empty rows that fill a GPU run's last batch up to the batch size (all padding, every
/// key masked, labels at the ignore index) change neither the loss nor any gradient.
#[test]
fn filler_rows_change_neither_the_loss_nor_a_gradient() {
    let device = Default::default();
    let inp = inputs();
    let seq = inp.ids[0].len();
    let mut filled = inputs();
    for _ in 0..3 {
        filled.ids.push(vec![1; seq]);
        filled.mask.push(vec![0; seq]);
        filled.starts.push(seq as i64);
        filled.ends.push(seq as i64);
    }
    for (kernels, form) in KERNELS {
        let grads_of = |inp: &Inputs| {
            let mut model = tiny::<B>(&device).with_kernels(kernels);
            let loss = qa_loss(&model.forward(batch(inp, &device)), int1(&inp.starts, &device), int1(&inp.ends, &device));
            let value = host(loss.clone()).data[0];
            let grads = loss.backward();
            let all: Vec<HostTensor> = gradients(&mut model, &grads).into_iter().map(|(_, g)| g.expect("a gradient")).collect();
            (value, all)
        };
        let ((l0, g0), (l1, g1)) = (grads_of(&inp), grads_of(&filled));
        assert!(l1.is_finite() && (l0 - l1).abs() <= 1e-6 * l0.abs(), "{form}: loss {l0} vs {l1} with filler rows");
        // Summed in another order over the batch: equal up to float rounding.
        let worst = g0.iter().zip(&g1).map(|(a, b)| abs_err(a, b) / (1e-3 + abs_err(a, &zero_like(a)))).fold(0.0, f64::max);
        eprintln!("{form}: filler rows: loss {l0} vs {l1}, gradients' worst diff {worst:.2e} of their largest value");
        assert!(worst <= 1e-5, "{form}: gradients differ by {worst:e} with filler rows");
    }
}

/// Parameters whose gradient is 0 in exact arithmetic (float noise on both sides, ~1e-10..1e-8):
/// key biases (softmax ignores a constant per row), the QA bias and the last LayerNorm bias
/// (the cross-entropy gradient sums to 0 over each window's positions).
fn zero_gradient(name: &str, layers: usize) -> bool {
    name.ends_with("attention.self.key.bias")
        || name == "qa_outputs.bias"
        || name == format!("roberta.encoder.layer.{}.output.LayerNorm.bias", layers - 1)
}

/// The tiny model after three AdamW steps with HF's settings, and the per-step LRs and losses.
fn three_steps() -> (RobertaForQuestionAnswering<B>, Vec<f64>, Vec<f32>) {
    let device = Default::default();
    let inp = inputs();
    let mut model = tiny::<B>(&device);
    let mut opt = AdamW::<B>::new(AdamWConfig::default());
    let schedule = LinearSchedule { peak_lr: 1e-3, warmup_steps: 1, total_steps: 5 };
    let (mut lrs, mut losses) = (Vec::new(), Vec::new());
    for step in 0..3 {
        let out = model.forward(batch(&inp, &device));
        let loss = qa_loss(&out, int1(&inp.starts, &device), int1(&inp.ends, &device));
        losses.push(host(loss.clone()).data[0]);
        let grads = loss.backward();
        let (m, stats) = opt.step(schedule.lr(step), model, &grads);
        model = m;
        lrs.push(stats.lr);
    }
    (model, lrs, losses)
}

#[test]
fn three_adamw_steps_match_torch_and_the_hf_trainer() {
    let g = golden();
    let (model, lrs, losses) = three_steps();
    // (the golden's float64 LRs are read back as float32)
    assert_eq!(lrs.iter().map(|&x| x as f32).collect::<Vec<_>>(), g["step_lrs"].data, "schedule");
    for (i, (a, b)) in losses.iter().zip(&g["step_losses"].data).enumerate() {
        assert!((a - b).abs() <= 1e-5, "loss before step {i}: {a} vs {b}");
    }
    let mut worst = (0f64, String::new());
    let mut n = 0;
    let tiny: BTreeMap<String, HostTensor> = model_to_tensors(&tiny::<Inner>(&Default::default())).into_iter().collect();
    let moved: f64 = lrs.iter().sum();
    for (name, p) in model_to_tensors(&model) {
        let golden = &g[&format!("step3.{name}")];
        if zero_gradient(&name, model.num_layers()) {
            // Adam normalises the gradient, so a noise gradient moves these by up to ~lr a
            // step in a direction set by the noise, in torch as here: all that can be
            // compared is that both moved no more than Adam's bound.
            let (ours, torch) = (abs_err(&p, &tiny[&name]), abs_err(golden, &tiny[&name]));
            eprintln!("{name} (noise gradient): moved {ours:.2e} here, {torch:.2e} in torch");
            assert!(ours <= 1.5 * moved && torch <= 1.5 * moved, "{name}: moved {ours:e} / {torch:e}");
            continue;
        }
        let e = abs_err(&p, golden);
        if e > worst.0 {
            worst = (e, name.clone());
        }
        assert!(e <= 1e-4, "{name} after 3 steps: max abs diff {e:e} > 1e-4");
        n += 1;
    }
    assert_eq!(n, tiny.len() - (model.num_layers() + 2));
    eprintln!("{n} parameters after 3 steps, worst max abs diff {:.2e} ({})", worst.0, worst.1);
}

fn tokenizer_dir() -> Option<PathBuf> {
    shared_data_or_skip("tokenizer files in the export").map(|d| d.join("roberta-base"))
}

/// Writes the export that `tools/gen_model_golden.py` loads with transformers.
#[test]
#[ignore = "run by tools/gen_model_golden.py"]
fn export_for_golden() {
    let out = PathBuf::from(std::env::var("SQUADKIT_EXPORT_TO").expect("SQUADKIT_EXPORT_TO"));
    let (config, _, _) = load_model_dir::<Inner>(&fixtures().join("tiny"), &Default::default()).unwrap();
    let (model, _, _) = three_steps();
    save_model_dir(&model, &config, tokenizer_dir().as_deref(), &out).unwrap();
}

#[test]
fn exported_model_gives_transformers_the_same_logits() {
    let device = Default::default();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(fixtures().join("exported.json")).unwrap()).unwrap();
    let to_host2 = |k: &str| {
        let rows: Vec<Vec<f32>> = serde_json::from_value(v[k].clone()).unwrap();
        HostTensor { shape: vec![rows.len(), rows[0].len()], data: rows.concat() }
    };
    let (hf_start, hf_end) = (to_host2("start_logits"), to_host2("end_logits"));
    let files: Vec<String> = serde_json::from_value(v["files"].clone()).unwrap();
    assert!(files.contains(&"config.json".into()) && files.contains(&"model.safetensors".into()), "{files:?}");

    // transformers' logits are those of the directory squadkit wrote when the golden was made
    // (tests/fixtures/model/exported, committed): squadkit loads that directory and computes them.
    let committed = fixtures().join("exported");
    let (_, exported, report) = load_model_dir::<Inner>(&committed, &device).unwrap();
    assert!(report.missing.is_empty() && report.unused.is_empty(), "{report:?}");
    let out = exported.forward(batch(&inputs(), &device));
    check_logits(&out, &hf_start, &hf_end, "exported model vs transformers");

    // That directory is what squadkit's export writes today: saving its weights again gives
    // the same config.json and model.safetensors, byte for byte.
    let (config, _, _) = load_model_dir::<Inner>(&fixtures().join("tiny"), &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let again = dir.path().join("again");
    save_model_dir(&exported, &config, None, &again).unwrap();
    for name in ["config.json", "model.safetensors"] {
        assert!(
            std::fs::read(again.join(name)).unwrap() == std::fs::read(committed.join(name)).unwrap(),
            "{name} differs from the committed export"
        );
    }

    // And a model trained here exports and loads back exactly (with the tokenizer files).
    let (trained, _, _) = three_steps();
    let out = dir.path().join("model");
    let tok = tokenizer_dir();
    save_model_dir(&trained, &config, tok.as_deref(), &out).unwrap();
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(saved["architectures"], serde_json::json!(["RobertaForQuestionAnswering"]));
    if tok.is_some() {
        assert!(out.join("tokenizer.json").exists() && out.join("vocab.json").exists() && out.join("merges.txt").exists());
    }
    let (_, back, report) = load_model_dir::<Inner>(&out, &device).unwrap();
    assert!(report.missing.is_empty() && report.unused.is_empty());
    assert_eq!(model_to_tensors(&back), model_to_tensors(&trained), "the round trip is exact");

    // Saving again over an existing model directory replaces it whole.
    save_model_dir(&trained, &config, None, &dir.path().join("model")).unwrap();
    assert!(!dir.path().join("model/tokenizer.json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 2, "no temporary directory is left behind: {leftovers:?}");
}

#[test]
fn pytorch_bin_loads_the_same_weights() {
    let device = Default::default();
    let (_, from_bin, report) = load_model_dir::<Inner>(&fixtures().join("tiny_bin"), &device).unwrap();
    assert!(report.weights_file.ends_with("pytorch_model.bin"));
    assert!(report.missing.is_empty() && report.unused.is_empty(), "{report:?}");
    assert_eq!(model_to_tensors(&from_bin), model_to_tensors(&tiny::<Inner>(&device)));
}

/// Write `tensors` and `config` as an HF directory, for the loading error tests.
fn write_dir(dir: &Path, config: &serde_json::Value, tensors: &BTreeMap<String, HostTensor>) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), serde_json::to_vec(config).unwrap()).unwrap();
    let list: Vec<(String, HostTensor)> = tensors.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    std::fs::write(dir.join("model.safetensors"), serialize_safetensors(&list)).unwrap();
}

fn tiny_parts() -> (serde_json::Value, BTreeMap<String, HostTensor>) {
    let config = serde_json::from_slice(&std::fs::read(fixtures().join("tiny/config.json")).unwrap()).unwrap();
    let tensors = parse_safetensors(&std::fs::read(fixtures().join("tiny/model.safetensors")).unwrap()).unwrap();
    (config, tensors)
}

#[test]
fn a_base_checkpoint_gets_a_fresh_qa_head_and_reports_its_lm_head() {
    let (mut config, mut tensors) = tiny_parts();
    config["architectures"] = serde_json::json!(["RobertaForMaskedLM"]);
    tensors.remove("qa_outputs.weight");
    tensors.remove("qa_outputs.bias");
    tensors.insert("lm_head.dense.weight".into(), HostTensor { shape: vec![32, 32], data: vec![0.5; 32 * 32] });
    tensors.insert("lm_head.bias".into(), HostTensor { shape: vec![8], data: vec![0.0; 8] });
    // A bare RobertaModel's keys (no `roberta.` prefix) load too.
    let word = tensors.remove("roberta.embeddings.word_embeddings.weight").unwrap();
    tensors.insert("embeddings.word_embeddings.weight".into(), word);
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &config, &tensors);
    let (_, model, report) = load_model_dir::<Inner>(dir.path(), &Default::default()).unwrap();
    assert_eq!(report.missing, vec!["qa_outputs.weight", "qa_outputs.bias"]);
    assert_eq!(report.unused, vec!["lm_head.bias", "lm_head.dense.weight"]);
    assert!(report.fresh_qa_head());
    let head: BTreeMap<String, HostTensor> = model_to_tensors(&model).into_iter().collect();
    assert!(head["qa_outputs.bias"].data.iter().all(|&b| b == 0.0), "fresh bias is zero");
    let w = &head["qa_outputs.weight"].data;
    let std = (w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32).sqrt();
    assert!((0.01..0.03).contains(&std), "fresh weights are normal(0, 0.02): std {std}");
    assert_eq!(head["roberta.embeddings.word_embeddings.weight"], tiny_parts().1["roberta.embeddings.word_embeddings.weight"]);
}

#[test]
fn a_shape_mismatch_or_a_missing_encoder_weight_is_an_error_naming_it() {
    let (config, tensors) = tiny_parts();
    let dir = tempfile::tempdir().unwrap();
    let mut bad = tensors.clone();
    bad.insert(
        "roberta.encoder.layer.1.intermediate.dense.weight".into(),
        HostTensor { shape: vec![32, 64], data: vec![0.0; 2048] },
    );
    write_dir(dir.path(), &config, &bad);
    let e = load_model_dir::<Inner>(dir.path(), &Default::default()).unwrap_err().to_string();
    assert!(
        e.contains("model.safetensors") && e.contains("roberta.encoder.layer.1.intermediate.dense.weight: shape [32, 64]"),
        "{e}"
    );

    let mut bad = tensors;
    bad.remove("roberta.encoder.layer.0.attention.self.key.bias");
    write_dir(dir.path(), &config, &bad);
    let e = load_model_dir::<Inner>(dir.path(), &Default::default()).unwrap_err().to_string();
    assert!(e.contains("roberta.encoder.layer.0.attention.self.key.bias") && e.contains("missing"), "{e}");

    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("config.json"), b"{}").unwrap();
    let e = load_model_dir::<Inner>(empty.path(), &Default::default()).unwrap_err().to_string();
    assert!(e.contains("config.json") && e.contains("not a valid RoBERTa config"), "{e}");
}

#[test]
fn roberta_base_config_with_random_weights_runs_a_real_window() {
    let Some(shared) = shared_data_or_skip("roberta_base_config_with_random_weights_runs_a_real_window") else { return };
    let config = squadkit_native::inputs::model_dir::read_config(&shared.join("roberta-base")).unwrap();
    assert_eq!((config.hidden_size, config.num_hidden_layers, config.vocab_size), (768, 12, 50265));
    let device = Default::default();
    let model = config.init::<Inner>(&device);
    let inp = inputs();
    let ids = vec![inp.roberta_base_ids[3].clone()];
    let mask = vec![inp.mask[3].clone()];
    assert!(mask[0].contains(&0), "a padded real window");
    let out = model.forward(QaInput { input_ids: int2(&ids, &device), attention_mask: int2(&mask, &device) });
    let start = host(out.start_logits);
    assert_eq!(start.shape, vec![1, ids[0].len()]);
    assert!(start.data.iter().all(|x| x.is_finite()));
    let spread = start.data.iter().fold(f32::MIN, |m, &x| m.max(x)) - start.data.iter().fold(f32::MAX, |m, &x| m.min(x));
    assert!(spread > 0.0, "the logits depend on the tokens");
}

#[test]
fn wgpu_forward_matches_transformers_where_a_vulkan_driver_exists() {
    #[cfg(not(feature = "wgpu"))]
    eprintln!("SKIPPED wgpu_forward: this build has no `wgpu` feature (cargo test -p squadkit --features wgpu)");
    #[cfg(feature = "wgpu")]
    {
        let has_vulkan = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
            .iter()
            .any(|d| std::fs::read_dir(d).map(|mut e| e.next().is_some()).unwrap_or(false));
        if !has_vulkan {
            eprintln!("SKIPPED wgpu_forward: no Vulkan driver (apt-get install mesa-vulkan-drivers libvulkan1)");
            return;
        }
        if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
            std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
        }
        type W = burn::backend::Wgpu;
        let device = Default::default();
        let g = golden();
        for (kernels, form) in KERNELS {
            let out = tiny::<W>(&device).with_kernels(kernels).forward(batch(&inputs(), &device));
            check_logits(&out, &g["start_logits"], &g["end_logits"], &format!("wgpu, fused attention, {form}"));
        }
    }
}
