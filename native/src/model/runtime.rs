//! The GPU backends' runtime (cubecl, under burn's CUDA and WGPU backends): where compiled
//! kernels and autotune results are cached ([`configure`], set once per process before a
//! device is first used), how many kernels this process has compiled ([`kernels_compiled`]),
//! and how much memory the device holds ([`memory_bytes`]).
//!
//! cubecl reads its settings once, from `cubecl.toml` (or `[cubecl]` in `burn.toml`) in the
//! working directory or above it, then from `CUBECL_*` variables; [`configure`] starts from
//! exactly that and changes two things: the autotune and compilation caches go to the
//! `--kernel-cache` directory, and every compilation is reported through the `log` crate, where
//! squadkit's log bridge ([`crate::logging`]) counts it ([`count_compilation`]). The compilation cache holds CUDA's PTX (and SPIR-V on Vulkan); WGSL
//! pipelines are compiled again by each process, so on WGPU only autotune results persist.

use crate::error::Result;
use crate::model::BackendKind;
use std::path::Path;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Kernels compiled by this process so far (GPU backends).
static COMPILED: AtomicU64 = AtomicU64::new(0);

/// The line cubecl's compilation logger writes for each kernel at level `basic`.
const COMPILING: &str = "[Compiling kernel]";

/// The number of kernels this process has compiled on a GPU backend so far. cubecl reports a
/// compilation from a logger thread, so a count read right after a step may miss the last few:
/// [`settled_kernels_compiled`] waits for it to stop moving.
pub fn kernels_compiled() -> u64 {
    COMPILED.load(Ordering::SeqCst)
}

/// [`kernels_compiled`] once it has not changed for 50 ms (at most 2 s of waiting).
pub fn settled_kernels_compiled() -> u64 {
    let mut last = kernels_compiled();
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = kernels_compiled();
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

/// Count `text` if it is cubecl's report of a kernel compilation (true then). The `log`
/// bridge of [`crate::logging`] hands every `log` message here first.
pub fn count_compilation(text: &str) -> bool {
    let is = text.starts_with(COMPILING);
    if is {
        COMPILED.fetch_add(1, Ordering::SeqCst);
    }
    is
}

/// The kernel cache under a `--kernel-cache` root: `ROOT/<GPU model>` (kernels are tuned for
/// one GPU model, and a partition may mix models).
pub fn cache_dir(root: &Path, kind: BackendKind) -> std::path::PathBuf {
    root.join(device_model(kind))
}

/// A file-name-safe name of the GPU model this process will use (`NVIDIA-H200`), read where
/// it can be read before the device starts: the NVIDIA driver's /proc entry of GPU 0 for
/// CUDA (else `cuda`), `wgpu` for WGPU, `cpu` for the CPU.
pub fn device_model(kind: BackendKind) -> String {
    let name = match kind {
        BackendKind::Cuda => nvidia_model().unwrap_or_else(|| "cuda".into()),
        k => k.name().to_string(),
    };
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' { c } else { '-' }).collect()
}

/// `Model:` of the first GPU under /proc/driver/nvidia/gpus (sorted by PCI address, as CUDA's
/// default order on a one-GPU job).
fn nvidia_model() -> Option<String> {
    let mut gpus: Vec<_> = std::fs::read_dir("/proc/driver/nvidia/gpus").ok()?.flatten().map(|e| e.path()).collect();
    gpus.sort();
    let info = std::fs::read_to_string(gpus.first()?.join("information")).ok()?;
    let model = info.lines().find_map(|l| l.strip_prefix("Model:"))?.trim();
    (!model.is_empty()).then(|| model.to_string())
}

/// Where the kernel cache was set for this process (`Some(None)`: configured without one).
#[cfg(any(feature = "wgpu", feature = "cuda"))]
static CONFIGURED: std::sync::Mutex<Option<Option<PathBuf>>> = std::sync::Mutex::new(None);

/// Set cubecl's settings for this process, before any GPU device is used: the user's
/// (cubecl.toml, burn.toml, `CUBECL_*`), with autotune results and compiled kernels cached in
/// `cache` when given, and compilations counted. The settings are made once per process; a
/// later call with another cache directory says that the first one stays. Nothing to do in a
/// build without GPU backends.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub fn configure(cache: Option<&Path>) -> Result<()> {
    use crate::error::CliError;
    use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
    use serde_json::json;
    let mut configured = CONFIGURED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(first) = configured.as_ref() {
        if cache.is_some() && first.as_deref() != cache {
            tracing::warn!(
                "the kernel cache of this process is already {}: {} is not used",
                first.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "cubecl's default".into()),
                cache.map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
        return Ok(());
    }
    if CubeClRuntimeConfig::storage().lock().is_some() {
        // A device was used before squadkit could configure it (a library user's own code).
        *configured = Some(None);
        return Ok(());
    }
    let base = CubeClRuntimeConfig::from_current_dir().override_from_env();
    let mut v = serde_json::to_value(&base).map_err(|e| CliError::Internal(format!("cubecl's settings: {e}")))?;
    if let Some(dir) = cache {
        std::fs::create_dir_all(dir).map_err(|e| CliError::output(dir, e))?;
        let dir = dir.canonicalize().map_err(|e| CliError::output(dir, e))?;
        v["autotune"]["cache"] = json!({ "file": dir });
        v["compilation"]["cache"] = json!({ "file": dir });
    }
    let logger = &mut v["compilation"]["logger"];
    logger["log"] = json!("info");
    if logger["level"] == json!("disabled") {
        logger["level"] = json!("basic");
    }
    let config: CubeClRuntimeConfig =
        serde_json::from_value(v).map_err(|e| CliError::Internal(format!("cubecl's settings: {e}")))?;
    CubeClRuntimeConfig::set(config);
    if let Some(dir) = cache {
        tracing::info!("kernel cache (compiled kernels, autotune results): {}", dir.display());
    }
    *configured = Some(cache.map(Path::to_path_buf));
    Ok(())
}

/// Nothing to set in a build without GPU backends.
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
pub fn configure(_cache: Option<&Path>) -> Result<()> {
    Ok(())
}

/// Memory the backend holds now, in bytes: on the CPU the process's peak resident set so far
/// (VmHWM); on a GPU the bytes cubecl's memory pools have reserved on the device (what
/// `nvidia-smi` counts, less the CUDA context). `None` where it cannot be read.
pub fn memory_bytes(kind: BackendKind) -> Option<u64> {
    match kind {
        BackendKind::Cpu => {
            let status = std::fs::read_to_string("/proc/self/status").ok()?;
            let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.split_whitespace().next()?.parse().ok()?;
            Some(kb * 1024)
        }
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => {
            use burn::cubecl::Runtime;
            let client = burn::backend::wgpu::WgpuRuntime::client(&Default::default());
            client.memory_usage().ok().map(|m| m.bytes_reserved)
        }
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => {
            use burn::cubecl::Runtime;
            let client = burn::cubecl::cuda::CudaRuntime::client(&Default::default());
            client.memory_usage().ok().map(|m| m.bytes_reserved)
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_models_are_safe_directory_names() {
        assert_eq!(device_model(BackendKind::Wgpu), "wgpu");
        let cuda = device_model(BackendKind::Cuda);
        assert!(!cuda.is_empty() && cuda.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{cuda}");
        assert_eq!(cache_dir(Path::new("/runs/a/kernel-cache"), BackendKind::Wgpu), Path::new("/runs/a/kernel-cache/wgpu"));
    }

    #[test]
    fn the_cpu_reports_the_peak_resident_set() {
        let v = vec![1u8; 64 << 20];
        std::hint::black_box(&v);
        let peak = memory_bytes(BackendKind::Cpu).expect("VmHWM on Linux");
        assert!(peak >= 64 << 20, "{peak}");
    }
}
