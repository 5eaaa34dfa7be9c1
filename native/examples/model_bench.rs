//! Times the burn RoBERTa-QA: a training step (forward + loss + backward + global-norm
//! clipping + AdamW) or a forward pass, on synthetic windows that `bench/model_torch.py`
//! builds the same way, and prints one JSON line per case. Also `--check-logits`: the tiny
//! golden model's logits on this backend as JSON (bench/gpu.sh compares them with PyTorch).
//! `--kernel-cache DIR` as `squadkit train`'s (compiled kernels and autotune results kept).
//!
//! cargo run --release -p squadkit --example model_bench -- --config CONFIG.json --batch 16 --seq 384 --mode train

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{FloatDType, Int, Tensor, TensorData};
use squadkit_native::model::batch::synthetic;
use squadkit_native::model::roberta::{qa_loss, QaInput, RobertaConfig};
use squadkit_native::model::weights::{load_model_dir, to_host};
use squadkit_native::model::{run_on, runtime, BackendKind, BackendTask};
use squadkit_native::train::optim::{AdamW, AdamWConfig};
use std::path::PathBuf;
use std::time::Instant;

// The allocator the `squadkit` binary uses, so the timings are those of `squadkit train`.
#[global_allocator]
static GLOBAL: squadkit_native::allocator::MiMalloc = squadkit_native::allocator::MiMalloc;

struct Args {
    backend: BackendKind,
    config: Option<PathBuf>,
    batch: usize,
    seq: usize,
    mode: String,
    iters: usize,
    warmup: usize,
    bf16: bool,
    check_logits: Option<PathBuf>,
    plain_attention: bool,
    kernel_cache: Option<PathBuf>,
}

fn parse() -> Args {
    let mut a = Args {
        backend: BackendKind::Cpu,
        config: None,
        batch: 2,
        seq: 384,
        mode: "train".into(),
        iters: 3,
        warmup: 1,
        bf16: false,
        check_logits: None,
        plain_attention: false,
        kernel_cache: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--backend" => {
                a.backend = match v.as_str() {
                    "cpu" => BackendKind::Cpu,
                    "wgpu" => BackendKind::Wgpu,
                    "cuda" => BackendKind::Cuda,
                    o => panic!("unknown backend {o}"),
                }
            }
            "--config" => a.config = Some(v.into()),
            "--batch" => a.batch = v.parse().unwrap(),
            "--seq" => a.seq = v.parse().unwrap(),
            "--mode" => a.mode = v,
            "--iters" => a.iters = v.parse().unwrap(),
            "--warmup" => a.warmup = v.parse().unwrap(),
            "--dtype" => a.bf16 = v == "bf16",
            "--check-logits" => a.check_logits = Some(v.into()),
            "--kernel-cache" => a.kernel_cache = Some(v.into()),
            "--plain-attention" => {
                a.plain_attention = true;
                i += 1;
                continue;
            }
            o => panic!("unknown argument {o}"),
        }
        i += 2;
    }
    a
}

struct Bench(Args);

impl BackendTask for Bench {
    type Output = ();
    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>, kind: BackendKind) -> squadkit_native::error::Result<()> {
        let device = devices.into_iter().next().expect("run_on gives a device");
        let a = self.0;
        let kernels = kind.kernels();
        if let Some(dir) = &a.check_logits {
            return check_logits::<B::InnerBackend>(dir, &device, kind);
        }
        let path = a.config.clone().expect("--config");
        let config = RobertaConfig::from_json(&std::fs::read(&path).unwrap()).unwrap();
        let (ids, mask, starts, ends) = synthetic(a.batch, a.seq, config.vocab_size);
        let ids2 = |v: &Vec<i64>, d: &B::Device| -> Tensor<B, 2, Int> {
            Tensor::from_data(TensorData::new(v.clone(), [a.batch, a.seq]), d)
        };
        let dtype = if a.bf16 { Some(FloatDType::BF16) } else { None };
        let mut times = Vec::new();
        // The first iteration: on a GPU, kernel compilation and autotuning (or the cache's load).
        let mut first = 0.0;
        if a.mode == "train" {
            let mut model = config.init::<B>(&device).with_kernels(kernels).with_compute_dtype(dtype);
            let mut opt = AdamW::<B>::new(AdamWConfig::default());
            for i in 0..a.warmup + a.iters {
                let t = Instant::now();
                let input = QaInput { input_ids: ids2(&ids, &device), attention_mask: ids2(&mask, &device) };
                let out = model.forward(input);
                let s = Tensor::from_data(TensorData::new(starts.clone(), [a.batch]), &device);
                let e = Tensor::from_data(TensorData::new(ends.clone(), [a.batch]), &device);
                let loss = qa_loss(&out, s, e);
                let grads = loss.backward();
                let (m, _stats) = opt.step(2e-5, model, &grads);
                model = m;
                B::sync(&device).expect("the device runs");
                if i == 0 {
                    first = t.elapsed().as_secs_f64();
                }
                if i >= a.warmup {
                    times.push(t.elapsed().as_secs_f64());
                }
            }
        } else {
            let model = config
                .init::<B::InnerBackend>(&device)
                .with_kernels(kernels)
                .with_compute_dtype(dtype)
                .with_fused_attention(!a.plain_attention);
            for i in 0..a.warmup + a.iters {
                let t = Instant::now();
                let input = QaInput::<B::InnerBackend> {
                    input_ids: Tensor::from_data(TensorData::new(ids.clone(), [a.batch, a.seq]), &device),
                    attention_mask: Tensor::from_data(TensorData::new(mask.clone(), [a.batch, a.seq]), &device),
                };
                let out = model.forward(input);
                let _ = out.start_logits.into_data();
                if i == 0 {
                    first = t.elapsed().as_secs_f64();
                }
                if i >= a.warmup {
                    times.push(t.elapsed().as_secs_f64());
                }
            }
        }
        times.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let median = times[times.len() / 2];
        println!(
            "{}",
            serde_json::json!({
                "impl": "squadkit", "backend": a.backend.name(), "mode": a.mode, "batch": a.batch, "seq": a.seq,
                "dtype": if a.bf16 { "bf16" } else { "f32" }, "config": path, "fused_attention": !a.plain_attention, "median_s": median, "times_s": times,
                "first_s": first, "kernels_compiled": kind.is_gpu().then(runtime::settled_kernels_compiled),
            })
        );
        Ok(())
    }
}

/// The tiny golden model's logits on the fixture windows, as JSON.
fn check_logits<B: Backend>(
    fixtures: &std::path::Path,
    device: &B::Device,
    kind: BackendKind,
) -> squadkit_native::error::Result<()> {
    let (_, model, _) = load_model_dir::<B>(&fixtures.join("tiny"), device)?;
    let model = model.with_kernels(kind.kernels());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(fixtures.join("inputs.json")).unwrap()).unwrap();
    let rows: Vec<Vec<i64>> = serde_json::from_value(v["input_ids"].clone()).unwrap();
    let mask: Vec<Vec<i64>> = serde_json::from_value(v["attention_mask"].clone()).unwrap();
    let (b, s) = (rows.len(), rows[0].len());
    let input = QaInput {
        input_ids: Tensor::from_data(TensorData::new(rows.concat(), [b, s]), device),
        attention_mask: Tensor::from_data(TensorData::new(mask.concat(), [b, s]), device),
    };
    let out = model.forward(input);
    let layout = squadkit_native::model::roberta::Layout::Same;
    let (st, en) = (to_host(out.start_logits, layout), to_host(out.end_logits, layout));
    println!("{}", serde_json::json!({"shape": st.shape, "start_logits": st.data, "end_logits": en.data}));
    Ok(())
}

fn main() {
    squadkit_native::allocator::keep_freed_memory();
    // squadkit's log (stderr), which also counts cubecl's kernel compilations.
    squadkit_native::logging::init();
    let a = parse();
    let kind = a.backend;
    let configured = match &a.kernel_cache {
        Some(dir) => runtime::configure(Some(&runtime::cache_dir(dir, kind))),
        None => Ok(()),
    };
    if let Err(e) = configured.and_then(|()| run_on(kind, &[0], Bench(a))) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
