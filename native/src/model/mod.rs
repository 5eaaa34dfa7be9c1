//! The model: RoBERTa for question answering in burn ([`roberta`]), HF model directories in
//! and out ([`weights`]), windows in and logits out ([`batch`]), the GPU runtime's kernel
//! caches, compile counter and memory ([`runtime`]), and the burn backend chosen at run time
//! (`--backend cpu|wgpu|cuda`; each is a cargo feature of this crate: `flex` (the CPU backend,
//! default), `wgpu`, `cuda`).

pub mod batch;
pub mod roberta;
pub mod runtime;
pub mod weights;

use crate::error::{CliError, Result};
use burn::tensor::backend::AutodiffBackend;
use roberta::Kernels;

/// Which burn backend to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// burn's Flex backend: pure-Rust, multi-threaded CPU (cargo feature `flex`).
    Cpu,
    /// WebGPU through Vulkan/Metal/DX12, or Mesa's lavapipe on a CPU (cargo feature `wgpu`).
    Wgpu,
    /// NVIDIA GPUs through CUDA, kernels compiled at run time by NVRTC (cargo feature `cuda`).
    Cuda,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
        }
    }

    /// The forms the model computes its device-dependent operations in on this backend.
    pub fn kernels(self) -> Kernels {
        match self {
            BackendKind::Cpu => Kernels::CPU,
            BackendKind::Wgpu | BackendKind::Cuda => Kernels::GPU,
        }
    }

    /// Whether this is a GPU backend (bounded batch shapes by default, kernel caches).
    pub fn is_gpu(self) -> bool {
        self != BackendKind::Cpu
    }

    fn feature(self) -> &'static str {
        match self {
            BackendKind::Cpu => "flex",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
        }
    }
}

/// The CPU backend (float32).
#[cfg(feature = "flex")]
pub type CpuBackend = burn::backend::Flex;
/// The WGPU backend (float32).
#[cfg(feature = "wgpu")]
pub type WgpuBackend = burn::backend::Wgpu;
/// The CUDA backend (float32 storage; bf16 compute through the model's compute dtype).
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Cuda;

/// Work generic over the backend: `run` gets the autodiff backend (use
/// `B::InnerBackend` for inference), its device, and which backend it is (for the model's
/// [`Kernels`]: `kind.kernels()`).
pub trait BackendTask {
    type Output;
    fn run<B: AutodiffBackend>(self, device: B::Device, kind: BackendKind) -> Result<Self::Output>;
}

/// Run `task` on the backend `kind`: an error when it is not compiled in or has no device.
/// On a GPU backend, cubecl's settings ([`runtime::configure`]) must be made before this.
pub fn run_on<T: BackendTask>(kind: BackendKind, task: T) -> Result<T::Output> {
    match kind {
        #[cfg(feature = "flex")]
        BackendKind::Cpu => task.run::<burn::backend::Autodiff<CpuBackend>>(Default::default(), kind),
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => {
            runtime::configure(None)?;
            let device = Default::default();
            probe::<WgpuBackend>(kind, &device)?;
            task.run::<burn::backend::Autodiff<WgpuBackend>>(device, kind)
        }
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => {
            runtime::configure(None)?;
            let device = Default::default();
            probe::<CudaBackend>(kind, &device)?;
            task.run::<burn::backend::Autodiff<CudaBackend>>(device, kind)
        }
        #[allow(unreachable_patterns)]
        _ => Err(not_compiled(kind)),
    }
}

/// The error for a backend this binary was built without.
pub fn not_compiled(kind: BackendKind) -> CliError {
    CliError::Invalid(format!(
        "--backend {} is not compiled into this binary: rebuild with `cargo build --release -p squadkit --features {}`",
        kind.name(),
        kind.feature()
    ))
}

/// True when `kind` is compiled into this binary.
pub fn compiled(kind: BackendKind) -> bool {
    match kind {
        BackendKind::Cpu => cfg!(feature = "flex"),
        BackendKind::Wgpu => cfg!(feature = "wgpu"),
        BackendKind::Cuda => cfg!(feature = "cuda"),
    }
}

/// Run one tiny operation so that a missing driver or device is an error here, not a panic
/// deep inside the first forward pass.
#[allow(dead_code)]
fn probe<B: burn::tensor::backend::Backend>(kind: BackendKind, device: &B::Device) -> Result<()> {
    let device = device.clone();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let t = burn::tensor::Tensor::<B, 1>::ones([2], &device);
        t.sum().into_data().convert::<f32>().to_vec::<f32>().ok().and_then(|v| v.first().copied())
    }));
    match r {
        Ok(Some(2.0)) => Ok(()),
        Ok(_) => Err(CliError::Internal(format!("--backend {}: the device gave a wrong result for 1 + 1", kind.name()))),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown error".into());
            Err(CliError::Internal(format!("--backend {}: no usable device ({msg})", kind.name())))
        }
    }
}
