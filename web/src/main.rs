//! Entry point of the browser app: Trunk builds this binary to wasm and runs it on load.
fn main() {
    squadkit_web::mount();
}
