//! Reading the files a user picks or drops: bytes in the browser, never sent anywhere.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FileList, HtmlInputElement};

/// The files of a `FileList`.
pub fn file_list(list: &FileList) -> Vec<File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Read `files` (name, bytes), then call `done` with them; a file that cannot be read is
/// left out.
pub fn read_all(files: Vec<File>, done: impl FnOnce(Vec<(String, Vec<u8>)>) + 'static) {
    spawn_local(async move {
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            if let Ok(buf) = JsFuture::from(f.array_buffer()).await {
                out.push((f.name(), js_sys::Uint8Array::new(&buf).to_vec()));
            }
        }
        if !out.is_empty() {
            done(out);
        }
    });
}

/// A labelled file picker (`data-testid` on the `<input>`).
#[component]
pub fn FileInput(
    label: &'static str,
    test_id: &'static str,
    multiple: bool,
    on_files: impl Fn(Vec<(String, Vec<u8>)>) + Clone + 'static,
) -> impl IntoView {
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
        let on_files = on_files.clone();
        read_all(files, on_files);
    };
    view! {
        <label class="file">
            <span>{label}</span>
            <input type="file" data-testid=test_id multiple=multiple on:change=change/>
        </label>
    }
}
