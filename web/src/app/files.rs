//! Reading the files a user picks or drops: bytes in the browser, never sent anywhere. While a
//! file is read and parsed, the app's busy line says so (a 50 MB dataset takes a moment).

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FileList, HtmlInputElement};

/// The files of a `FileList`.
pub fn file_list(list: &FileList) -> Vec<File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// "dev.json (4.2 MB)" for the busy line.
fn described(files: &[File]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.name()).collect();
    let bytes: f64 = files.iter().map(|f| f.size()).sum();
    let size = if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else {
        format!("{:.0} kB", (bytes / 1e3).ceil())
    };
    format!("{} ({size})", names.join(", "))
}

/// Resolves after the browser has painted a frame, so that a message set before a long
/// synchronous step is on screen while it runs.
async fn next_paint() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let w = window.clone();
        let after_frame = Closure::once_into_js(move || {
            let _ =
                w.set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), 0);
        });
        let _ = window.request_animation_frame(after_frame.unchecked_ref());
    });
    let _ = JsFuture::from(promise).await;
}

/// Read `files` (name, bytes), then call `done` with them; a file that cannot be read is
/// left out. `busy` says what is being read and opened until `done` returns.
pub fn read_all(
    files: Vec<File>,
    busy: RwSignal<Option<String>>,
    done: impl FnOnce(Vec<(String, Vec<u8>)>) + 'static,
) {
    if files.is_empty() {
        return;
    }
    let what = described(&files);
    busy.set(Some(format!("Reading {what}…")));
    spawn_local(async move {
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            if let Ok(buf) = JsFuture::from(f.array_buffer()).await {
                out.push((f.name(), js_sys::Uint8Array::new(&buf).to_vec()));
            }
        }
        busy.set(Some(format!("Opening {what}…")));
        next_paint().await;
        if !out.is_empty() {
            done(out);
        }
        busy.set(None);
    });
}

/// A labelled file picker: a button that opens the browser's dialog and the name of what is
/// open now (`current`), instead of the browser's "No file chosen". The `<input>` keeps
/// `data-testid=test_id`; the name is `{test_id}-name`.
#[component]
pub fn FileInput(
    label: &'static str,
    test_id: &'static str,
    multiple: bool,
    #[prop(into)] current: Signal<Option<String>>,
    on_files: impl Fn(Vec<(String, Vec<u8>)>) + Clone + 'static,
) -> impl IntoView {
    let busy = expect_context::<super::Ctx>().busy;
    let change = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let files = input.files().map(|l| file_list(&l)).unwrap_or_default();
        // Let the same file be picked again (after fixing it on disk).
        input.set_value("");
        read_all(files, busy, on_files.clone());
    };
    view! {
        <label class="file">
            <span class="file-label">{label}</span>
            <span class="file-row">
                <input type="file" class="visually-hidden" data-testid=test_id multiple=multiple on:change=change/>
                <span class="button" aria-hidden="true">"Open…"</span>
                <span class="file-name" class:muted=move || current.with(Option::is_none) data-testid=format!("{test_id}-name")>
                    {move || current.get().unwrap_or_else(|| "none open".into())}
                </span>
            </span>
        </label>
    }
}
