//! The worker's entry point: Trunk builds this binary to its own wasm module
//! (`data-type="worker"` in web/index.html) and the app starts it when the Ask view opens.

#[cfg(target_arch = "wasm32")]
fn main() {
    squadkit_worker::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "squadkit-worker runs in a browser's web worker (trunk build); the CLI is `squadkit`"
    );
    std::process::exit(2);
}
