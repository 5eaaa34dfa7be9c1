//! The model: RoBERTa for question answering in burn ([`roberta`], [`batch`]: the model crate's,
//! shared with the browser), HF model directories in and out ([`weights`]), the GPU runtime's kernel
//! caches, compile counter and memory ([`runtime`]), the burn backend chosen at run time
//! (`--backend cpu|wgpu|cuda`; each is a cargo feature of this crate: `flex` (the CPU backend,
//! default), `wgpu`, `cuda`), and the devices of a run on it (`train --devices`, [`DeviceList`]).

pub use squadkit_model::{batch, roberta};
pub mod runtime;
pub mod weights;

use crate::error::{CliError, Result};
use burn::tensor::backend::AutodiffBackend;
use roberta::Kernels;
use std::collections::BTreeSet;

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
/// `B::InnerBackend` for inference), its devices (one unless `train --devices` asks for more;
/// the first is rank 0's), and which backend it is (for the model's [`Kernels`]:
/// `kind.kernels()`).
pub trait BackendTask {
    type Output;
    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>, kind: BackendKind) -> Result<Self::Output>;
}

/// Run `task` on the backend `kind` and its devices `ordinals` (checked by
/// [`DeviceList::resolve`]; one device: `&[0]`): an error when the backend is not compiled in
/// or has no device. On a GPU backend, cubecl's settings ([`runtime::configure`]) must be made
/// before this.
pub fn run_on<T: BackendTask>(kind: BackendKind, ordinals: &[usize], task: T) -> Result<T::Output> {
    match kind {
        // The CPU is one device: several ordinals are replicas sharing its cores.
        #[cfg(feature = "flex")]
        BackendKind::Cpu => {
            task.run::<burn::backend::Autodiff<CpuBackend>>(vec![Default::default(); ordinals.len().max(1)], kind)
        }
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => run_on_gpu::<WgpuBackend, T>(kind, ordinals, task),
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => run_on_gpu::<CudaBackend, T>(kind, ordinals, task),
        #[allow(unreachable_patterns)]
        _ => Err(not_compiled(kind)),
    }
}

/// A GPU backend: its devices by ordinal, each probed before the task starts.
#[allow(dead_code)]
fn run_on_gpu<B: burn::tensor::backend::Backend, T: BackendTask>(
    kind: BackendKind,
    ordinals: &[usize],
    task: T,
) -> Result<T::Output> {
    use burn::tensor::backend::{Device as _, DeviceId};
    runtime::configure(None)?;
    let default = B::Device::default();
    let devices: Vec<B::Device> = if ordinals.len() <= 1 && ordinals.first().is_none_or(|&o| o == 0) {
        vec![default]
    } else {
        let type_id = default.to_id().type_id;
        ordinals.iter().map(|&o| B::Device::from_id(DeviceId::new(type_id, o as u16))).collect()
    };
    for device in &devices {
        probe::<B>(kind, device)?;
    }
    task.run::<burn::backend::Autodiff<B>>(devices, kind)
}

/// How many devices GPU backend `B` has of the kind of its default device.
#[allow(dead_code)]
fn gpu_device_count<B: burn::tensor::backend::Backend>() -> usize {
    use burn::tensor::backend::Device as _;
    B::device_count(B::Device::default().to_id().type_id)
}

/// The devices of a training run (`train --devices`): `all` of the backend's, or a list of
/// ordinals (`0,1,2,3`). On the CPU backend the "devices" are replicas of the model sharing the
/// machine's cores (at most one per core): data parallelism there is for tests and the
/// equivalence proofs, and for small models that leave cores idle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceList {
    All,
    Ordinals(Vec<usize>),
}

impl Default for DeviceList {
    fn default() -> Self {
        DeviceList::Ordinals(vec![0])
    }
}

impl std::fmt::Display for DeviceList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceList::All => f.write_str("all"),
            DeviceList::Ordinals(v) => f.write_str(&v.iter().map(usize::to_string).collect::<Vec<_>>().join(",")),
        }
    }
}

/// Why a `--devices` value was refused (clap prints it after the flag).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeviceListError {
    #[error("{0:?} is not a device number (give ordinals such as 0,1,2,3, or `all`)")]
    NotANumber(String),
    #[error("device {0} is listed twice")]
    Duplicate(usize),
}

impl DeviceList {
    /// `all`, or comma-separated device ordinals, each once.
    pub fn parse(s: &str) -> std::result::Result<DeviceList, DeviceListError> {
        if s.trim() == "all" {
            return Ok(DeviceList::All);
        }
        let mut seen = BTreeSet::new();
        let mut ordinals = Vec::new();
        for part in s.split(',') {
            let o: usize = part.trim().parse().map_err(|_| DeviceListError::NotANumber(part.trim().to_string()))?;
            if !seen.insert(o) {
                return Err(DeviceListError::Duplicate(o));
            }
            ordinals.push(o);
        }
        Ok(DeviceList::Ordinals(ordinals))
    }

    /// The ordinals on backend `kind` here: an error naming the device when one does not exist.
    /// A list other than the default asks the backend ([`device_count`]): on a GPU, after
    /// cubecl's settings are made.
    pub fn resolve(&self, kind: BackendKind) -> Result<Vec<usize>> {
        if *self == DeviceList::default() {
            return Ok(vec![0]);
        }
        let available = device_count(kind)?;
        let ordinals = match self {
            DeviceList::All => (0..available).collect(),
            DeviceList::Ordinals(v) => v.clone(),
        };
        if let Some(&o) = ordinals.iter().find(|&&o| o >= available) {
            let what = match kind {
                BackendKind::Cpu => {
                    format!("the CPU backend runs at most one replica per core, and this machine has {available} cores")
                }
                BackendKind::Wgpu => "wgpu trains on one device (several GPUs: --backend cuda)".to_string(),
                BackendKind::Cuda => format!("this machine has {available} CUDA device{}", if available == 1 { "" } else { "s" }),
            };
            return Err(CliError::Invalid(format!(
                "--devices {self}: there is no device {o}: {what} (0..{})",
                available.saturating_sub(1)
            )));
        }
        Ok(ordinals)
    }
}

/// How many devices `kind` offers: on the CPU, its cores (replicas share them); wgpu, one; CUDA,
/// the visible GPUs (`CUDA_VISIBLE_DEVICES`, as SLURM sets it). On CUDA this starts the runtime:
/// make cubecl's settings ([`runtime::configure`], the kernel cache) first.
pub fn device_count(kind: BackendKind) -> Result<usize> {
    match kind {
        BackendKind::Cpu => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        BackendKind::Wgpu => Ok(1),
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => {
            let count = std::panic::catch_unwind(gpu_device_count::<CudaBackend>);
            match count {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(CliError::Internal("--backend cuda: no usable device".into())),
            }
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
