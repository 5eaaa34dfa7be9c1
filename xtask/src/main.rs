//! Project tasks, in Rust so they run wherever cargo does (the convention burn uses).
//!
//! - `cargo xtask test`: check the formatting (`cargo fmt --check`) and lints (clippy with
//!   `-D warnings`, run as the workspace's compiler during the one build, see [`linted`]),
//!   install what the suites need (idempotent: the wasm32 target,
//!   wasm-bindgen's test runner at the pinned version, Trunk, Debian's chromium and
//!   chromedriver, the browser suite's npm packages), build the `squadkit` binary, then run
//!   every suite: the workspace's native tests, core's suites under wasm32, the web app's
//!   component tests and the model's logits in Chrome, `trunk build --release` (the app and
//!   its model worker) and the browser end-to-end suites.
//!   The native suites are built once with the wgpu backend beside the CPU one (one build of
//!   burn), so the model's forward pass on wgpu runs among them, through Mesa's software
//!   Vulkan driver (lavapipe, installed from Debian when missing). `--skip-wasm` and
//!   `--skip-wgpu` leave those parts out (saying so).
//! - `cargo xtask setup`: only the installs.
//! - `cargo xtask bench evaluate`: the official script vs `squadkit evaluate`, side by side.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Must equal the `wasm-bindgen` version pinned in core/Cargo.toml.
const WASM_BINDGEN: &str = "0.2.130";

/// Trunk's version (Trunk.toml's `[tools]` pins were checked with it); installed with
/// `--debug`, which builds in ~5.5 min instead of ~13 on 2 cores.
const TRUNK: &str = "0.21.14";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ is inside the repo").to_path_buf()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: $ {}", format!("{cmd:?}").replace('"', ""));
    let status = cmd.current_dir(root()).status().map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn setup() -> Result<(), String> {
    let targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t.trim() == "wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let have = output("wasm-bindgen-test-runner", &["--version"]).unwrap_or_default();
    if !have.contains(WASM_BINDGEN) {
        // `--locked` fails for this version (a locked dependency left the registry): see
        // ../shared/notes/web.md.
        run(Command::new(cargo()).args(["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN]))?;
    }
    setup_web()
}

/// Trunk, Chromium + chromedriver (Debian), and tests/browser's packages (playwright-core,
/// binaryen's wasm-opt): each only when missing or out of date.
fn setup_web() -> Result<(), String> {
    if !output("trunk", &["--version"]).unwrap_or_default().contains(TRUNK) {
        run(Command::new(cargo()).args(["install", "trunk", "--version", TRUNK, "--locked", "--debug"]))?;
    }
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        let install =
            || run(Command::new("apt-get").args(["install", "-y", "--no-install-recommends", "chromium", "chromium-driver"]));
        if install().is_err() {
            run(Command::new("apt-get").arg("update"))?;
            install()?;
        }
    }
    let browser = root().join("tests/browser");
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let installed = mtime(&browser.join("node_modules/.package-lock.json"));
    if installed.is_none() || installed < mtime(&browser.join("package-lock.json")) {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefix", "tests/browser"]))?;
    }
    Ok(())
}

/// The web app in a browser: component tests and the model's logits (wasm32, burn's CPU
/// backend) in Chrome, the release build (the app and its model worker), the E2E suites.
fn web_tests() -> Result<(), String> {
    run(Command::new(cargo())
        .args(["test", "-p", "squadkit-web", "--target", "wasm32-unknown-unknown", "--test", "components"])
        .env("WASM_BINDGEN_USE_BROWSER", "1")
        .env("CHROMEDRIVER", CHROMEDRIVER))?;
    run(Command::new(cargo())
        .args(["test", "-p", "squadkit-model", "--target", "wasm32-unknown-unknown", "--test", "logits"])
        .env("WASM_BINDGEN_USE_BROWSER", "1")
        .env("CHROMEDRIVER", CHROMEDRIVER))?;
    // wasm-opt (binaryen 132) comes from tests/browser's node_modules.
    let path =
        format!("{}:{}", root().join("tests/browser/node_modules/.bin").display(), std::env::var("PATH").unwrap_or_default());
    run(Command::new("trunk").args(["build", "--release"]).env("PATH", path).env("TRUNK_SKIP_VERSION_CHECK", "true"))?;
    run(Command::new("npm").args(["test", "--prefix", "tests/browser"]))
}

/// Install and start the single-node SLURM of the SLURM suite (idempotent; needs root and
/// apt). When it cannot start, the suite itself reports SKIPPED with the reason.
fn slurm_setup() -> Option<String> {
    match run(Command::new("bash").arg("tests/slurm/setup.sh")) {
        Ok(()) => None,
        Err(e) => {
            eprintln!("xtask: SLURM could not be started ({e}); the SLURM suite will say SKIPPED");
            Some(format!("the SLURM suite (SLURM could not be started: {e})"))
        }
    }
}

/// Whether the tests that need the shared data will run: the same rule as the tests'
/// (`SQUADKIT_SHARED_DATA`, else ../shared/data, holding dev-v2.0.json). cargo shows a test's
/// own SKIPPED line only when it fails, so the skip is said here, before and after the suites.
fn shared_data_skip() -> Option<String> {
    let dir =
        std::env::var_os("SQUADKIT_SHARED_DATA").map(std::path::PathBuf::from).unwrap_or_else(|| root().join("../shared/data"));
    (!dir.join("dev-v2.0.json").exists()).then(|| {
        format!("the tests on the SQuAD dev set and the roberta-base tokenizer ({}/dev-v2.0.json is absent; set SQUADKIT_SHARED_DATA)", dir.display())
    })
}

/// Mesa's software Vulkan driver (lavapipe) for the wgpu tests, from Debian when missing.
fn vulkan_setup() -> Result<(), String> {
    if !Path::new("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json").exists() && Path::new("/usr/bin/apt-get").exists() {
        let install = || {
            run(Command::new("apt-get").args(["install", "-y", "--no-install-recommends", "mesa-vulkan-drivers", "libvulkan1"]))
        };
        if install().is_err() {
            run(Command::new("apt-get").arg("update"))?;
            install()?;
        }
    }
    Ok(())
}

/// The workspace's own crates compiled by clippy-driver with `-D warnings`: the lints of
/// `cargo clippy --all-targets` checked during the build the tests need anyway, instead of a
/// second pass that checks every dependency again (~8.5 min on a fresh 2-core machine).
/// Dependencies are compiled by rustc as usual; `CLIPPY_ARGS` is how `cargo clippy` itself
/// hands its options to the driver.
fn linted(c: &mut Command) -> &mut Command {
    c.env("RUSTC_WORKSPACE_WRAPPER", "clippy-driver").env("CLIPPY_ARGS", "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__")
}

/// cargo with the workspace's native suites' features: with the wgpu backend compiled in
/// (unless `--skip-wgpu`), so that one build of burn (CPU + wgpu) serves the binary the CLI
/// suites drive, every native test and the wgpu forward test on lavapipe.
fn cargo_native(sub: &str, args: &[&str], wgpu: bool) -> Command {
    let mut c = Command::new(cargo());
    c.arg(sub);
    if wgpu {
        // Before `args`, which may end with `-- <options of the tool>`.
        c.args(["--features", "squadkit/wgpu"]);
        let runtime = std::env::temp_dir().join("squadkit-xdg-runtime");
        let _ = std::fs::create_dir_all(&runtime);
        c.env("XDG_RUNTIME_DIR", runtime);
    }
    c.args(args);
    c
}

fn test(args: &[String]) -> Result<(), String> {
    let skip_wasm = args.iter().any(|a| a == "--skip-wasm");
    let skip_wgpu = args.iter().any(|a| a == "--skip-wgpu");
    if !skip_wasm {
        setup()?;
    }
    let mut skipped: Vec<String> = shared_data_skip().into_iter().collect();
    for s in &skipped {
        eprintln!("xtask: SKIPPING {s}");
    }
    skipped.extend(slurm_setup());
    let wgpu = !skip_wgpu;
    if wgpu {
        vulkan_setup()?;
    } else {
        eprintln!("xtask: SKIPPED the wgpu forward test (--skip-wgpu)");
        skipped.push("the wgpu forward test (--skip-wgpu)".into());
    }
    run(Command::new(cargo()).args(["fmt", "--all", "--check"]))?;
    run(linted(&mut cargo_native("build", &["-p", "squadkit", "--bins"], wgpu)))?;
    run(linted(&mut cargo_native("test", &["--workspace", "--exclude", "squadkit-web"], wgpu)))?;
    run(linted(Command::new(cargo()).args(["test", "-p", "squadkit-web"])))?;
    if skip_wasm {
        eprintln!("xtask: SKIPPED the wasm32 suites and the web app's browser suites (--skip-wasm)");
        skipped.push("the wasm32 and browser suites (--skip-wasm)".into());
    } else {
        run(Command::new(cargo()).args(["test", "-p", "squadkit-core", "--target", "wasm32-unknown-unknown", "--test", "*"]))?;
        web_tests()?;
    }
    if skipped.is_empty() {
        eprintln!("xtask: every suite passed");
    } else {
        eprintln!("xtask: every suite that ran passed; SKIPPED:");
        for s in &skipped {
            eprintln!("xtask:   - {s}");
        }
    }
    Ok(())
}

fn bench(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("evaluate") => run(Command::new("bash").arg("bench/evaluate.sh")),
        _ => Err("usage: cargo xtask bench evaluate".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("setup") => setup(),
        Some("bench") => bench(&args[1..]),
        _ => Err("usage: cargo xtask <test [--skip-wasm] [--skip-wgpu] | setup | bench evaluate>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
