//! Component and core tests in a real browser (wasm-bindgen-test, `run_in_browser`):
//! `cargo test -p squadkit-web --target wasm32-unknown-unknown` with
//! `WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver` (as `cargo xtask test` runs it).
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use squadkit_web::app::{App, Ctx, Tab, Which};
use squadkit_web::{demo, evaluate, load};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Event, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Let Leptos run its effects and render.
async fn tick() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

fn by_test_id(id: &str) -> Option<HtmlElement> {
    let doc = web_sys::window()?.document()?;
    doc.query_selector(&format!("[data-testid=\"{id}\"]"))
        .ok()??
        .dyn_into()
        .ok()
}

fn text(id: &str) -> String {
    by_test_id(id)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn core_scores_the_demo_in_wasm_as_natively() {
    let d = load::dataset(demo::NAME, demo::DEV).unwrap();
    let gold = squadkit_core::GoldStandard::new(&d);
    let p = load::predictions("p", demo::PREDICTIONS.unwrap()).unwrap();
    let run = evaluate::Run::new(&gold, "p", p.clone()).unwrap();
    let direct = squadkit_core::Scorer::new(&gold)
        .evaluate(&p, None, Default::default())
        .unwrap();
    assert_eq!(run.evaluate(&gold, 1.0).unwrap(), direct);
}

#[wasm_bindgen_test]
fn a_bad_file_keeps_the_state() {
    let owner = Owner::new();
    owner.with(|| {
        let ctx = Ctx::new();
        let before = ctx.data.get_untracked();
        ctx.open_dataset("p.json", demo::PREDICTIONS.unwrap());
        assert!(ctx
            .error
            .get_untracked()
            .unwrap()
            .contains("looks like a predictions file"));
        assert!(ctx.data.get_untracked() == before, "the dataset is kept");
        let run = ctx.run_a.get_untracked();
        ctx.open_na_probs("na.json", br#"{"x": 1}"#, Which::A);
        assert!(ctx.run_a.get_untracked() == run, "the run is kept");
        ctx.open_predictions("p.json", demo::PREDICTIONS.unwrap(), Which::A);
        assert_eq!(
            ctx.error.get_untracked(),
            None,
            "a good file clears the error"
        );
    });
}

#[wasm_bindgen_test]
async fn app_mounts_the_demo_and_the_slider_rescores() {
    let _handle = leptos::mount::mount_to_body(App);
    tick().await;
    let n = load::dataset(demo::NAME, demo::DEV).unwrap().len();
    assert_eq!(text("stat-questions"), n.to_string());
    by_test_id("tab-evaluate").unwrap().click();
    tick().await;
    let at_one = text("score-exact");
    assert!(!at_one.is_empty());
    assert_eq!(text("threshold-value"), "1.0000");
    let slider: HtmlInputElement = by_test_id("threshold-slider").unwrap().dyn_into().unwrap();
    slider.set_value("0");
    slider
        .dispatch_event(&Event::new("input").unwrap())
        .unwrap();
    tick().await;
    assert_eq!(text("threshold-value"), "0.0000");
    assert_ne!(
        text("score-exact"),
        at_one,
        "every question turned no-answer"
    );
    let tbody = by_test_id("question-row")
        .unwrap()
        .parent_element()
        .unwrap();
    assert_eq!(
        tbody.child_element_count() as usize,
        n,
        "one row per question"
    );
    assert_eq!(Tab::ALL.len(), 6);
}
