//! Small building blocks shared by the views: a chart, a pager, a highlighted context.

use crate::browse::{page, Segment};
use crate::charts::svg_data_uri;
use leptos::prelude::*;

/// An SVG chart (a string from core's `report` or [`crate::charts`]) shown as an `<img>`:
/// nothing in it can run or load anything.
#[component]
pub fn Chart(svg: String, alt: String, #[prop(optional)] test_id: &'static str) -> impl IntoView {
    view! { <img class="chart" src=svg_data_uri(&svg) alt=alt data-testid=test_id/> }
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
