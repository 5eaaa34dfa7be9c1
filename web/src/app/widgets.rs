//! Small building blocks shared by the views: a chart, a pager, a highlighted context, row
//! keys, scrolling a detail into view, downloads.

use crate::browse::{page, Segment};
use leptos::prelude::*;

/// An SVG chart (a string from core's `chart` or `report`, every text in it escaped there)
/// inlined, so that its points' and bars' tooltips show on hover; `alt` is its accessible name.
/// A button under it saves it as an `.svg` file.
#[component]
pub fn Chart(svg: String, alt: String, #[prop(optional)] test_id: &'static str) -> impl IntoView {
    let file = format!("{}.svg", alt.replace(['/', '\\', ':'], "-"));
    let label = format!("Save the chart “{alt}” as SVG");
    let data = svg.clone();
    view! {
        <figure class="chart-box">
            <div class="chart" role="img" aria-label=alt.clone() data-alt=alt data-testid=test_id inner_html=svg></div>
            <button class="chart-save" data-testid="chart-save" aria-label=label
                on:click=move |_| download(&file, "image/svg+xml", &data)>"SVG"</button>
        </figure>
    }
}

/// Previous / next over `total` items, `per_page` at a time; `current` is clamped.
#[component]
pub fn Pager(
    total: Signal<usize>,
    current: RwSignal<usize>,
    per_page: usize,
    test_id: &'static str,
) -> impl IntoView {
    let p = move || page(total.get(), current.get(), per_page);
    view! {
        <div class="pager" data-testid=test_id>
            <button on:click=move |_| current.set(p().page.saturating_sub(1)) disabled=move || { p().page == 0 }>"◀ prev"</button>
            <span>{move || { let p = p(); format!(" page {} of {} ({} items) ", p.page + 1, p.pages, total.get()) }}</span>
            <button on:click=move |_| current.set(p().page + 1) disabled=move || { let p = p(); p.page + 1 >= p.pages }>"next ▶"</button>
        </div>
    }
}

/// A context with its marked segments (gold, plausible, predicted), as text.
#[component]
pub fn Highlighted(
    segments: Vec<Segment>,
    #[prop(optional)] test_id: &'static str,
) -> impl IntoView {
    view! {
        <p class="context" data-testid=test_id>
            {segments
                .into_iter()
                .map(|s| {
                    let class = s.classes();
                    if class.is_empty() {
                        view! { <span>{s.text}</span> }.into_any()
                    } else {
                        view! { <mark class=class>{s.text}</mark> }.into_any()
                    }
                })
                .collect_view()}
        </p>
    }
}

/// Scroll the element with `data-testid=test_id` into view once the current update has
/// rendered (a question's detail, opened from a row far down a table).
pub fn reveal(test_id: &'static str) {
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let scroll = Closure::once_into_js(move || {
        let el = web_sys::window().and_then(|w| w.document()).and_then(|d| {
            d.query_selector(&format!("[data-testid=\"{test_id}\"]"))
                .ok()
                .flatten()
        });
        if let Some(el) = el {
            let opts = web_sys::ScrollIntoViewOptions::new();
            opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
            el.scroll_into_view_with_scroll_into_view_options(&opts);
        }
    });
    let _ = window.request_animation_frame(scroll.unchecked_ref());
}

/// Whether a key press on a focused table row opens it (Enter or Space, as a button).
pub fn opens_row(ev: &leptos::ev::KeyboardEvent) -> bool {
    let open = matches!(ev.key().as_str(), "Enter" | " ");
    if open {
        ev.prevent_default();
    }
    open
}

/// Save `text` as a file called `name` through the browser's download (a Blob URL: nothing
/// leaves the page).
pub fn download(name: &str, mime: &str, text: &str) {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let a = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    if let Some(a) = a {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    // Revoked once the download has taken the data.
    let revoke = wasm_bindgen::prelude::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    }
}
