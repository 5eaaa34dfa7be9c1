//! Picks the embedded demo shown on first load: `examples/demo/` when it holds a dataset and
//! its predictions (a bigger demo), else `examples/tiny/`; na_probs come along when present.

use std::fmt::Write;
use std::path::Path;

fn main() {
    // Read at run time: `env!` would bake in the checkout the script was compiled in, and a
    // target directory shared by several checkouts reuses the compiled script.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest)
        .parent()
        .expect("web/ is inside the repo")
        .join("examples");
    println!("cargo::rerun-if-changed={}", root.join("demo").display());
    println!("cargo::rerun-if-changed={}", root.join("tiny").display());
    let complete = |d: &str| {
        root.join(d).join("dev.json").is_file() && root.join(d).join("predictions.json").is_file()
    };
    let dir = if complete("demo") { "demo" } else { "tiny" };
    // Paths relative to the manifest, not absolute: a target directory shared by several
    // checkouts (CI keeps one outside the clone) must not point at another checkout's files.
    let rel = |name: &str| {
        format!("concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../examples/{dir}/{name}\")")
    };
    let mut out = String::new();
    let _ = writeln!(out, "pub const NAME: &str = \"examples/{dir}/dev.json\";");
    let _ = writeln!(
        out,
        "pub const DEV: &[u8] = include_bytes!({});",
        rel("dev.json")
    );
    for (konst, names) in [
        ("PREDICTIONS", &["predictions.json"][..]),
        ("NA_PROBS", &["na_probs.json", "null_odds.json"][..]),
    ] {
        match names.iter().find(|n| root.join(dir).join(n).is_file()) {
            Some(n) => {
                let _ = writeln!(
                    out,
                    "pub const {konst}: Option<&[u8]> = Some(include_bytes!({}));",
                    rel(n)
                );
            }
            None => {
                let _ = writeln!(out, "pub const {konst}: Option<&[u8]> = None;");
            }
        }
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("demo.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
