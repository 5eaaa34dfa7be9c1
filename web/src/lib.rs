//! squadkit-web: the browser app (Leptos, client-side rendering, built by Trunk).
//!
//! Everything it computes comes from `squadkit-core`; the modules here only turn core's
//! results into what a view shows, as plain Rust functions tested natively:
//! - [`load`]: recognising and parsing the files a user opens (with errors that say why);
//! - [`browse`]: search, filters, pagination and highlighted spans of a dataset;
//! - [`stats`]: dataset counts and length histograms;
//! - [`evaluate`]: a scored predictions file, re-scored at any threshold, and its table;
//! - [`compare`]: two prediction files on the same data;
//! - [`tokens`]: the windows core's preprocessing makes for one question;
//! - [`demo`]: the embedded dataset shown on first load;
//! - [`metrics`]: a training run's metrics log as series;
//! - [`session`]: an opened dataset and what is derived from it once;
//! - [`route`]: the view and question in the URL's hash;
//! - [`ask`]: the Ask view's answer, decision and progress lines (the model itself runs in
//!   the `squadkit-worker` web worker, its own wasm module);
//!
//! The components are in [`app`]; [`mount`] starts the app.

pub mod app;
pub mod ask;
pub mod browse;
pub mod compare;
pub mod demo;
pub mod evaluate;
pub mod load;
pub mod metrics;
pub mod route;
pub mod session;
pub mod shared;
pub mod stats;
pub mod tokens;

/// Mount the app on `<body>`, in place of index.html's loading line.
pub fn mount() {
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
