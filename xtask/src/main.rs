//! Project tasks, in Rust so they run wherever cargo does (the convention burn uses).
//!
//! - `cargo xtask test`: install what the suites need (idempotent: the wasm32 target,
//!   wasm-bindgen's test runner at the pinned version, the browser-test tools once the web
//!   suite exists), build the `squadkit` binary, then run every suite: the workspace's native
//!   tests, core's suites under wasm32, and the end-to-end suites.
//! - `cargo xtask setup`: only the installs.
//! - `cargo xtask bench evaluate`: the official script vs `squadkit evaluate`, side by side.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Must equal the `wasm-bindgen` version pinned in core/Cargo.toml.
const WASM_BINDGEN: &str = "0.2.130";

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
    Ok(())
}

fn test(args: &[String]) -> Result<(), String> {
    let skip_wasm = args.iter().any(|a| a == "--skip-wasm");
    if !skip_wasm {
        setup()?;
    }
    run(Command::new(cargo()).args(["build", "-p", "squadkit", "--bins"]))?;
    run(Command::new(cargo()).args(["test", "--workspace", "--exclude", "squadkit-web"]))?;
    if skip_wasm {
        eprintln!("xtask: SKIPPED the wasm32 suites (--skip-wasm)");
    } else {
        run(Command::new(cargo()).args(["test", "-p", "squadkit-core", "--target", "wasm32-unknown-unknown"]))?;
    }
    eprintln!("xtask: every suite passed");
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
        _ => Err("usage: cargo xtask <test [--skip-wasm] | setup | bench evaluate>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
