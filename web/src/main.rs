//! Placeholder until the Leptos app lands (issue 6).
fn main() {}
