//! The Leptos components. [`Ctx`] holds the app's state as signals (provided as context);
//! each view is a small component in its own module and reads only what it shows.
//!
//! Opening a file goes through one [`Ctx`] method per kind: it parses and checks with the
//! plain-Rust modules and either replaces the state or sets the error message, leaving
//! everything loaded before intact.

mod ask;
mod compare;
mod dataset;
mod evaluate;
mod files;
pub mod model;
pub mod storage;
mod tokenization;
mod training;
pub mod widgets;

use crate::evaluate::Run;
use crate::metrics::MetricsLog;
use crate::route::Route;
use crate::session::Loaded;
use crate::shared::Shared;
use crate::{demo, load};
use leptos::prelude::*;
use squadkit_core::scorer::Evaluation;
use squadkit_core::tokenize::QaTokenizer;

pub use files::FileInput;

pub use crate::route::Tab;

/// Which predictions file: the main one (A) or the one compared with it (B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    A,
    B,
}

type EvalResult = Option<Result<Shared<Evaluation>, String>>;

/// The app's state.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub data: RwSignal<Loaded>,
    pub run_a: RwSignal<Option<Shared<Run>>>,
    pub run_b: RwSignal<Option<Shared<Run>>>,
    /// The no-answer threshold both runs are scored at.
    pub threshold: RwSignal<f64>,
    pub error: RwSignal<Option<String>>,
    /// What changed without being asked for (predictions closed with their dataset), shown
    /// until dismissed or replaced.
    pub notice: RwSignal<Option<String>>,
    /// Whether opened files are kept in the browser's storage (set by the app once it has
    /// restored what was kept; plain `Ctx`s, as in tests, keep nothing).
    pub persist: RwSignal<bool>,
    /// A file being read or parsed ("Reading dev-v2.0.json (42.1 MB)…"); None when idle.
    pub busy: RwSignal<Option<String>>,
    pub tab: RwSignal<Tab>,
    /// The example (dataset index) shown in detail and tokenized.
    pub selected: RwSignal<Option<usize>>,
    pub tokenizer: RwSignal<Option<(String, Shared<QaTokenizer>)>>,
    /// The training runs' metrics logs, overlaid in the Training view.
    pub metrics: RwSignal<Vec<(String, Shared<MetricsLog>)>>,
    /// The evaluations at the threshold: recomputed only when a run, the dataset or the
    /// threshold changes (never for a filter or a sort).
    pub eval_a: Memo<EvalResult>,
    pub eval_b: Memo<EvalResult>,
    /// The model worker's state (the Ask view).
    pub model: model::ModelState,
}

fn evaluation(
    data: RwSignal<Loaded>,
    run: RwSignal<Option<Shared<Run>>>,
    threshold: RwSignal<f64>,
) -> Memo<EvalResult> {
    Memo::new(move |_| {
        let run = run.get()?;
        let gold = data.with(|d| d.gold.clone());
        Some(run.evaluate(&gold, threshold.get()).map(Shared::new))
    })
}

impl Ctx {
    /// The state with the embedded demo loaded.
    pub fn new() -> Ctx {
        let demo = load::dataset(demo::NAME, demo::DEV).expect("the embedded demo dataset parses");
        let data = RwSignal::new(Loaded::new(demo::NAME, demo, demo::DEV));
        let run_a = RwSignal::new(None);
        let run_b = RwSignal::new(None);
        let threshold = RwSignal::new(1.0);
        let ctx = Ctx {
            data,
            run_a,
            run_b,
            threshold,
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            busy: RwSignal::new(None),
            persist: RwSignal::new(false),
            tab: RwSignal::new(Tab::Dataset),
            selected: RwSignal::new(None),
            tokenizer: RwSignal::new(None),
            metrics: RwSignal::new(Vec::new()),
            eval_a: evaluation(data, run_a, threshold),
            eval_b: evaluation(data, run_b, threshold),
            model: model::ModelState::new(),
        };
        if let Some(p) = demo::PREDICTIONS {
            ctx.open_predictions("predictions.json", p, Which::A);
        }
        if let Some(na) = demo::NA_PROBS {
            ctx.open_na_probs("na_probs.json", na, Which::A);
        }
        ctx
    }

    fn done(&self, result: Result<(), String>) {
        self.error.set(result.err());
    }

    /// Open a dataset: predictions of the previous one are closed (they do not fit), and the
    /// notice says which.
    pub fn open_dataset(&self, name: &str, bytes: &[u8]) {
        self.done(load::dataset(name, bytes).map(|d| {
            let closed: Vec<String> = [self.run_a, self.run_b]
                .iter()
                .filter_map(|r| r.with_untracked(|r| r.as_ref().map(|r| r.name.clone())))
                .collect();
            self.notice.set((!closed.is_empty()).then(|| {
                format!(
                    "Opened {name}; closed {}: predictions belong to the dataset they were made for.",
                    closed.join(" and ")
                )
            }));
            self.data.set(Loaded::new(name, d, bytes));
            self.keep(storage::DATASET, name, bytes);
            for w in [Which::A, Which::B] {
                self.forget(storage::predictions(w));
                self.forget(storage::na_probs(w));
            }
            self.run_a.set(None);
            self.run_b.set(None);
            self.selected.set(None);
            self.threshold.set(1.0);
        }));
    }

    fn keep(&self, key: &str, name: &str, bytes: &[u8]) {
        if self.persist.get_untracked() {
            storage::save(key, name, bytes);
        }
    }

    fn forget(&self, prefix: &str) {
        if self.persist.get_untracked() {
            storage::forget(prefix);
        }
    }

    /// Reopen what the browser kept (key, name, bytes; in [`storage::restore_order`]), and
    /// say so in the notice.
    pub fn restore(&self, kept: Vec<(String, String, Vec<u8>)>) {
        if kept.is_empty() {
            return;
        }
        let names: Vec<String> = kept.iter().map(|k| k.1.clone()).collect();
        let mut tokenizer = Vec::new();
        for (key, name, bytes) in kept {
            match key.as_str() {
                storage::DATASET => self.open_dataset(&name, &bytes),
                k if k.starts_with(storage::TOKENIZER) => tokenizer.push((name, bytes)),
                k if k.starts_with(storage::METRICS) => self.open_metrics(&name, &bytes),
                k => {
                    for w in [Which::A, Which::B] {
                        if k == storage::predictions(w) {
                            self.open_predictions(&name, &bytes, w);
                        } else if k == storage::na_probs(w) {
                            self.open_na_probs(&name, &bytes, w);
                        }
                    }
                }
            }
        }
        if !tokenizer.is_empty() {
            self.open_tokenizer(&tokenizer);
        }
        self.notice.set(Some(format!(
            "Reopened {} from this browser's storage (“Forget opened files” clears it).",
            names.join(", ")
        )));
    }

    fn run(&self, which: Which) -> RwSignal<Option<Shared<Run>>> {
        match which {
            Which::A => self.run_a,
            Which::B => self.run_b,
        }
    }

    /// Open predictions as A or B; each run is scored with its own na_prob file only (opening
    /// new predictions drops the old one's na_probs).
    pub fn open_predictions(&self, name: &str, bytes: &[u8], which: Which) {
        let gold = self.data.with_untracked(|d| d.gold.clone());
        self.done(
            load::predictions(name, bytes)
                .and_then(|p| Run::new(&gold, name, p))
                .map(|run| {
                    self.run(which).set(Some(Shared::new(run)));
                    self.keep(storage::predictions(which), name, bytes);
                    self.forget(storage::na_probs(which));
                    if which == Which::A {
                        self.threshold.set(1.0);
                    }
                }),
        );
    }

    /// Open a na_prob (or null odds) file for the predictions A or B already opened.
    pub fn open_na_probs(&self, name: &str, bytes: &[u8], which: Which) {
        let gold = self.data.with_untracked(|d| d.gold.clone());
        let Some(run) = self.run(which).get_untracked() else {
            return self.done(Err(format!(
                "{name}: open a predictions file{} first; na_probs belong to predictions.",
                if which == Which::B { " B" } else { "" }
            )));
        };
        self.done(
            load::na_probs(name, bytes)
                .and_then(|na| run.with_na_probs(&gold, name, na))
                .map(|run| {
                    self.run(which).set(Some(Shared::new(run)));
                    self.keep(storage::na_probs(which), name, bytes);
                    if which == Which::A {
                        self.threshold.set(1.0);
                    }
                }),
        );
    }

    pub fn open_tokenizer(&self, files: &[(String, Vec<u8>)]) {
        self.done(load::tokenizer(files).map(|t| {
            let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
            self.forget(storage::TOKENIZER);
            for (i, (name, bytes)) in files.iter().enumerate() {
                self.keep(&format!("{}{i}", storage::TOKENIZER), name, bytes);
            }
            self.tokenizer
                .set(Some((names.join(" + "), Shared::new(t))));
        }));
    }

    pub fn open_metrics(&self, name: &str, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        self.done(crate::metrics::parse(name, &text).map(|m| {
            // A log opened again (same name) replaces its old self; others are added.
            self.keep(&format!("{}{name}", storage::METRICS), name, bytes);
            self.metrics
                .update(|runs| match runs.iter_mut().find(|(n, _)| n == name) {
                    Some(run) => run.1 = Shared::new(m),
                    None => runs.push((name.to_string(), Shared::new(m))),
                })
        }));
    }

    /// Close every training run.
    pub fn close_metrics(&self) {
        self.metrics.set(Vec::new());
        self.forget(storage::METRICS);
    }

    /// Forget what the browser kept; what is open stays open until the page is reloaded.
    pub fn forget_kept(&self) {
        if self.persist.get_untracked() {
            storage::clear();
        }
        self.notice.set(Some(
            "This browser no longer keeps the files you opened; they stay open until you reload."
                .into(),
        ));
    }

    /// Files dropped anywhere on the page, routed by content: a dataset first, then predictions
    /// and their na_probs (so that any set dropped together lands in the right order), a
    /// merges.txt with the vocab.json beside it as one tokenizer.
    pub fn open_dropped(&self, files: Vec<(String, Vec<u8>)>) {
        let mut routed: Vec<(load::Kind, String, Vec<u8>)> = files
            .into_iter()
            .map(|(name, bytes)| (load::sniff(&bytes), name, bytes))
            .collect();
        routed.sort_by_key(|r| r.0);
        if let Some(m) = routed.iter().position(|r| r.0 == load::Kind::Merges) {
            let merges = routed.remove(m);
            let vocab = routed.iter().position(|r| r.0 == load::Kind::NaProbs);
            let Some(v) = vocab else {
                return self.done(Err(format!(
                    "{}: a merges.txt opens together with its vocab.json; drop both.",
                    merges.1
                )));
            };
            let vocab = routed.remove(v);
            self.open_tokenizer(&[(vocab.1, vocab.2), (merges.1, merges.2)]);
        }
        for (kind, name, bytes) in routed {
            match kind {
                load::Kind::Dataset => self.open_dataset(&name, &bytes),
                load::Kind::Predictions => self.open_predictions(&name, &bytes, Which::A),
                load::Kind::NaProbs => self.open_na_probs(&name, &bytes, Which::A),
                load::Kind::Tokenizer => self.open_tokenizer(&[(name, bytes)]),
                load::Kind::Metrics => self.open_metrics(&name, &bytes),
                load::Kind::Merges => unreachable!("taken out above"),
            }
            if self.error.with_untracked(Option::is_some) {
                return;
            }
        }
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx::new()
    }
}

/// The dataset index of the question with `id`.
fn index_of(ctx: Ctx, id: &str) -> Option<usize> {
    ctx.data
        .with_untracked(|d| d.dataset.examples.iter().position(|e| e.id == id))
}

/// Open the place a URL hash names (a tab, and a question of the open dataset).
fn follow(ctx: Ctx, hash: &str) {
    let Some(route) = Route::parse(hash) else {
        return;
    };
    ctx.tab.set(route.tab);
    match route.question {
        None => ctx.selected.set(None),
        Some(id) => match index_of(ctx, &id) {
            Some(i) => ctx.selected.set(Some(i)),
            None => ctx.notice.set(Some(format!(
                "The link names question {id}, which is not in {}.",
                ctx.data.with_untracked(|d| d.name.clone())
            ))),
        },
    }
}

/// Keep the URL's hash on the current place: a new tab is a history entry (Back returns to
/// the previous tab), a new question only replaces the address. Nothing is written before the
/// app has restored what the browser kept (`persist`), so that the link it was opened with
/// survives until it is followed.
fn keep_address(ctx: Ctx) {
    Effect::new(move |previous: Option<Option<Tab>>| {
        if !ctx.persist.get() {
            return None;
        }
        let previous = previous.flatten();
        let tab = ctx.tab.get();
        let question = ctx.selected.get().and_then(|i| {
            ctx.data
                .with(|d| d.dataset.examples.get(i).map(|e| e.id.clone()))
        });
        let hash = Route { tab, question }.to_hash();
        let Some(window) = web_sys::window() else {
            return Some(tab);
        };
        let location = window.location();
        if location.hash().ok().as_deref() != Some(hash.as_str()) {
            if previous.is_some_and(|p| p != tab) {
                let _ = location.set_hash(&hash);
            } else if let Ok(history) = window.history() {
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&hash));
            }
        }
        Some(tab)
    });
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx::new();
    provide_context(ctx);
    let hash = || {
        web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default()
    };
    // The tab at once; the question once what the browser kept (its dataset) is open again.
    if let Some(route) = Route::parse(&hash()) {
        ctx.tab.set(route.tab);
    }
    leptos::task::spawn_local(async move {
        ctx.restore(storage::load().await);
        follow(ctx, &hash());
        ctx.persist.set(true);
    });
    keep_address(ctx);
    let _ = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(hash) = web_sys::window().and_then(|w| w.location().hash().ok()) {
            follow(ctx, &hash);
        }
    });
    let drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(list) = ev.data_transfer().and_then(|d| d.files()) {
            files::read_all(files::file_list(&list), ctx.busy, move |files| {
                ctx.open_dropped(files)
            });
        }
    };
    view! {
        <div class="app" on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default() on:drop=drop>
            <header>
                <h1>"squadkit"</h1>
                <span class="muted tagline">"SQuAD data, predictions and scores, all in your browser: nothing you open leaves it."</span>
                <button class="forget" data-testid="storage-clear" title="Opened files are kept in this browser (IndexedDB) so that a reload reopens them"
                    on:click=move |_| ctx.forget_kept()>"Forget opened files"</button>
                <OpenBar/>
            </header>
            <Messages/>
            <Tabs/>
            <main role="tabpanel" aria-labelledby=move || format!("tab-{}", ctx.tab.get().slug())>
                {move || match ctx.tab.get() {
                    Tab::Dataset => view! { <dataset::DatasetView/> }.into_any(),
                    Tab::Evaluate => view! { <evaluate::EvaluateView/> }.into_any(),
                    Tab::Compare => view! { <compare::CompareView/> }.into_any(),
                    Tab::Tokenization => view! { <tokenization::TokenizationView/> }.into_any(),
                    Tab::Training => view! { <training::TrainingView/> }.into_any(),
                    Tab::Ask => view! { <ask::AskView/> }.into_any(),
                }}
            </main>
        </div>
    }
}

/// The tab bar: ARIA tabs, one tab stop, arrow keys (and Home/End) move between them.
#[component]
fn Tabs() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let key = move |ev: leptos::ev::KeyboardEvent| {
        let now = ctx.tab.get_untracked();
        let next = match ev.key().as_str() {
            "ArrowRight" => now.cycle(1),
            "ArrowLeft" => now.cycle(-1),
            "Home" => Tab::ALL[0],
            "End" => Tab::ALL[Tab::ALL.len() - 1],
            _ => return,
        };
        ev.prevent_default();
        ctx.tab.set(next);
        focus(&format!("tab-{}", next.slug()));
    };
    view! {
        <nav class="tabs" role="tablist" aria-label="Views" on:keydown=key>
            {Tab::ALL
                .into_iter()
                .map(|t| {
                    let active = move || ctx.tab.get() == t;
                    view! {
                        <button role="tab" id=format!("tab-{}", t.slug()) data-testid=format!("tab-{}", t.slug())
                            aria-selected=move || active().to_string() tabindex=move || if active() { "0" } else { "-1" }
                            class:active=active on:click=move |_| ctx.tab.set(t)>
                            {t.label()}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// Focus the element with `id` once it is rendered.
fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// The inputs for the dataset and the predictions, always at hand.
#[component]
fn OpenBar() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="open-bar">
            <FileInput label="Dataset (SQuAD JSON or JSON lines)" test_id="dataset-file" multiple=false
                current=Signal::derive(move || Some(ctx.data.with(|d| format!("{} ({} questions)", d.name, d.dataset.len()))))
                on_files=move |f| { if let Some((n, b)) = f.first() { ctx.open_dataset(n, b) } }/>
            <FileInput label="Predictions (A)" test_id="predictions-file" multiple=false current=run_name(ctx.run_a)
                on_files=move |f| { if let Some((n, b)) = f.first() { ctx.open_predictions(n, b, Which::A) } }/>
            <FileInput label="A's na_prob / null_odds" test_id="na-probs-file" multiple=false current=na_name(ctx.run_a)
                on_files=move |f| { if let Some((n, b)) = f.first() { ctx.open_na_probs(n, b, Which::A) } }/>
            <span class="loaded" data-testid="loaded-names">
                {move || {
                    let mut s = ctx.data.with(|d| format!("{} ({} questions)", d.name, d.dataset.len()));
                    if let Some(r) = ctx.run_a.get() {
                        s += &format!(" · {}", r.name);
                        if let Some((n, _)) = &r.na_probs {
                            s += &format!(" + {n}");
                        }
                    }
                    s
                }}
            </span>
        </div>
    }
}

/// The name of a run's predictions file, for its picker.
fn run_name(run: RwSignal<Option<Shared<Run>>>) -> Signal<Option<String>> {
    Signal::derive(move || run.with(|r| r.as_ref().map(|r| r.name.clone())))
}

/// The name of a run's na_prob file, for its picker.
fn na_name(run: RwSignal<Option<Shared<Run>>>) -> Signal<Option<String>> {
    Signal::derive(move || {
        run.with(|r| {
            r.as_ref()
                .and_then(|r| r.na_probs.as_ref().map(|(n, _)| n.clone()))
        })
    })
}

/// The error of the last file that could not be used, what changed unasked (a notice), and
/// what is being read now; each line hidden when empty.
#[component]
fn Messages() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="error" role="alert" class:hidden=move || ctx.error.with(Option::is_none)>
            <span data-testid="error-message">{move || ctx.error.get().unwrap_or_default()}</span>
            <button class="dismiss" aria-label="Dismiss the error" on:click=move |_| ctx.error.set(None)>"×"</button>
        </div>
        <div class="notice" role="status" class:hidden=move || ctx.notice.with(Option::is_none)>
            <span data-testid="notice-message">{move || ctx.notice.get().unwrap_or_default()}</span>
            <button class="dismiss" aria-label="Dismiss the notice" on:click=move |_| ctx.notice.set(None)>"×"</button>
        </div>
        <div class="busy" role="status" aria-live="polite" class:hidden=move || ctx.busy.with(Option::is_none)>
            <span class="spinner" aria-hidden="true"></span>
            <span data-testid="busy-message">{move || ctx.busy.get().unwrap_or_default()}</span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_set_the_error_and_keep_the_state() {
        let owner = Owner::new();
        owner.with(|| {
            let ctx = Ctx::new();
            let data = ctx.data.get_untracked();
            let run = ctx.run_a.get_untracked();
            assert!(run.is_some(), "the demo's predictions are loaded");
            ctx.open_dataset("broken.json", b"{\"data\": [");
            assert!(ctx
                .error
                .get_untracked()
                .unwrap()
                .starts_with("broken.json is not valid JSON"));
            assert!(ctx.data.get_untracked() == data);
            ctx.open_predictions("few.json", br#"{"tiny-01": "x"}"#, Which::A);
            assert!(ctx
                .error
                .get_untracked()
                .unwrap()
                .contains("have no prediction"));
            assert!(ctx.run_a.get_untracked() == run);
            ctx.open_metrics("m.jsonl", b"oops");
            assert!(ctx.metrics.get_untracked().is_empty());
            ctx.open_dataset("dev.json", demo::DEV);
            assert_eq!(ctx.error.get_untracked(), None);
            assert!(ctx.data.get_untracked() != data, "a new dataset");
            assert!(
                ctx.run_a.get_untracked().is_none(),
                "predictions of the old dataset are dropped"
            );
        });
    }

    #[test]
    fn the_evaluation_follows_the_threshold() {
        let owner = Owner::new();
        owner.with(|| {
            let ctx = Ctx::new();
            let at_one = ctx.eval_a.get_untracked().unwrap().unwrap();
            assert_eq!(ctx.threshold.get_untracked(), 1.0);
            ctx.threshold.set(0.0);
            let at_zero = ctx.eval_a.get_untracked().unwrap().unwrap();
            assert_ne!(at_one.overall, at_zero.overall);
            assert!(at_zero
                .questions
                .iter()
                .all(|q| q.predicted_no_answer || q.na_prob == Some(0.0)));
            // B is scored at the same threshold with its own na_probs, never A's.
            ctx.open_predictions("b.json", demo::PREDICTIONS.unwrap(), Which::B);
            let b = ctx.eval_b.get_untracked().unwrap().unwrap();
            assert!(
                b.questions.iter().all(|q| !q.predicted_no_answer),
                "no na_probs of its own yet: as predicted"
            );
            assert_ne!(
                b.overall, at_zero.overall,
                "A's na_probs would have made them equal"
            );
            ctx.open_na_probs("nb.json", demo::NA_PROBS.unwrap(), Which::B);
            let b = ctx.eval_b.get_untracked().unwrap().unwrap();
            assert_eq!(b.overall, at_zero.overall);
            ctx.open_na_probs("bad.json", br#"{"x": 1}"#, Which::B);
            assert!(ctx.error.get_untracked().unwrap().contains("does not fit"));
            assert_eq!(
                ctx.run_b
                    .get_untracked()
                    .unwrap()
                    .na_probs
                    .as_ref()
                    .unwrap()
                    .0,
                "nb.json",
                "B kept"
            );
        });
    }

    #[test]
    fn a_new_dataset_says_which_predictions_it_closed() {
        let owner = Owner::new();
        owner.with(|| {
            let ctx = Ctx::new();
            ctx.open_predictions("b.json", demo::PREDICTIONS.unwrap(), Which::B);
            ctx.open_dataset("dev.json", demo::DEV);
            let n = ctx.notice.get_untracked().unwrap();
            assert!(n.contains("closed predictions.json and b.json"), "{n}");
            ctx.open_dataset("again.json", demo::DEV);
            assert_eq!(ctx.notice.get_untracked(), None, "nothing closed this time");
        });
    }

    #[test]
    fn kept_files_reopen_in_their_slots() {
        let owner = Owner::new();
        owner.with(|| {
            let ctx = Ctx::new();
            let (p, na) = (
                demo::PREDICTIONS.unwrap().to_vec(),
                demo::NA_PROBS.unwrap().to_vec(),
            );
            let kept = |k: &str, n: &str, b: &[u8]| (k.to_string(), n.to_string(), b.to_vec());
            ctx.restore(vec![
                kept("dataset", "dev.json", demo::DEV),
                kept("predictions-a", "a.json", &p),
                kept("na-a", "na.json", &na),
                kept("predictions-b", "b.json", &p),
                kept("metrics/m.jsonl", "m.jsonl", b"{\"loss\": 1}\n"),
            ]);
            assert_eq!(ctx.error.get_untracked(), None);
            assert_eq!(ctx.data.get_untracked().name, "dev.json");
            let a = ctx.run_a.get_untracked().unwrap();
            assert_eq!(
                (a.name.as_str(), a.na_probs.as_ref().unwrap().0.as_str()),
                ("a.json", "na.json")
            );
            let b = ctx.run_b.get_untracked().unwrap();
            assert!(b.name == "b.json" && b.na_probs.is_none());
            assert_eq!(ctx.metrics.get_untracked()[0].0, "m.jsonl");
            let n = ctx.notice.get_untracked().unwrap();
            assert!(
                n.starts_with("Reopened dev.json, a.json, na.json, b.json, m.jsonl"),
                "{n}"
            );
        });
    }

    #[test]
    fn files_dropped_together_open_in_order() {
        let owner = Owner::new();
        owner.with(|| {
            let ctx = Ctx::new();
            let preds = demo::PREDICTIONS.unwrap().to_vec();
            let na = demo::NA_PROBS.unwrap().to_vec();
            // Predictions + na_probs (either order): both, not a tokenizer.
            ctx.open_dropped(vec![
                ("n.json".into(), na.clone()),
                ("p.json".into(), preds.clone()),
            ]);
            assert_eq!(ctx.error.get_untracked(), None);
            let a = ctx.run_a.get_untracked().unwrap();
            assert_eq!(
                (a.name.as_str(), a.na_probs.as_ref().unwrap().0.as_str()),
                ("p.json", "n.json")
            );
            // Predictions before their dataset in the list: the dataset opens first.
            ctx.open_dropped(vec![
                ("q.json".into(), preds),
                ("d.json".into(), demo::DEV.to_vec()),
            ]);
            assert_eq!(ctx.error.get_untracked(), None);
            assert_eq!(ctx.data.get_untracked().name, "d.json");
            assert_eq!(ctx.run_a.get_untracked().unwrap().name, "q.json");
            // A merges.txt alone is explained; with a vocab.json it is a tokenizer.
            ctx.open_dropped(vec![(
                "merges.txt".into(),
                b"#version: 0.2\nh i\n".to_vec(),
            )]);
            assert!(ctx
                .error
                .get_untracked()
                .unwrap()
                .contains("together with its vocab.json"));
            let vocab =
                br#"{"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "h": 4, "i": 5, "hi": 6}"#;
            ctx.open_dropped(vec![
                ("merges.txt".into(), b"#version: 0.2\nh i\n".to_vec()),
                ("vocab.json".into(), vocab.to_vec()),
            ]);
            assert_eq!(ctx.error.get_untracked(), None);
            assert_eq!(
                ctx.tokenizer.get_untracked().unwrap().0,
                "vocab.json + merges.txt"
            );
        });
    }

    #[test]
    fn the_evaluation_is_computed_once_per_threshold() {
        let owner = Owner::new();
        owner.with(|| {
            let ctx = Ctx::new();
            let a = ctx.eval_a.get_untracked().unwrap().unwrap();
            // Reading again (as a filter or sort of the table does) reuses the same value.
            let b = ctx.eval_a.get_untracked().unwrap().unwrap();
            assert!(a == b, "the same Arc: not scored again");
            ctx.threshold.set(0.5);
            let c = ctx.eval_a.get_untracked().unwrap().unwrap();
            assert!(a != c, "a new threshold is a new evaluation");
        });
    }

    #[test]
    fn dropped_files_are_routed_by_content() {
        let owner = Owner::new();
        owner.with(|| {
            let ctx = Ctx::new();
            ctx.open_dropped(vec![(
                "m.jsonl".into(),
                b"{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"loss\": 1}\n".to_vec(),
            )]);
            assert_eq!(ctx.metrics.get_untracked()[0].1.records, 2);
            ctx.open_dropped(vec![("p.json".into(), demo::PREDICTIONS.unwrap().to_vec())]);
            assert_eq!(ctx.run_a.get_untracked().unwrap().name, "p.json");
        });
    }
}
