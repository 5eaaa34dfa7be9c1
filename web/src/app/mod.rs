//! The Leptos components. [`Ctx`] holds the app's state as signals (provided as context);
//! each view is a small component in its own module and reads only what it shows.
//!
//! Opening a file goes through one [`Ctx`] method per kind: it parses and checks with the
//! plain-Rust modules and either replaces the state or sets the error message, leaving
//! everything loaded before intact.

mod compare;
mod dataset;
mod evaluate;
mod files;
mod tokenization;
mod training;
pub mod widgets;

use crate::evaluate::Run;
use crate::metrics::MetricsLog;
use crate::session::Loaded;
use crate::shared::Shared;
use crate::{demo, load};
use leptos::prelude::*;
use squadkit_core::scorer::Evaluation;
use squadkit_core::tokenize::QaTokenizer;

pub use files::FileInput;

/// The views, one per tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Dataset,
    Evaluate,
    Compare,
    Tokenization,
    Training,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Dataset,
        Tab::Evaluate,
        Tab::Compare,
        Tab::Tokenization,
        Tab::Training,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Dataset => "Dataset",
            Tab::Evaluate => "Evaluate",
            Tab::Compare => "Compare",
            Tab::Tokenization => "Tokenization",
            Tab::Training => "Training run",
        }
    }

    fn test_id(self) -> &'static str {
        match self {
            Tab::Dataset => "tab-dataset",
            Tab::Evaluate => "tab-evaluate",
            Tab::Compare => "tab-compare",
            Tab::Tokenization => "tab-tokenization",
            Tab::Training => "tab-training",
        }
    }
}

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
    pub tab: RwSignal<Tab>,
    /// The example (dataset index) shown in detail and tokenized.
    pub selected: RwSignal<Option<usize>>,
    pub tokenizer: RwSignal<Option<(String, Shared<QaTokenizer>)>>,
    pub metrics: RwSignal<Option<(String, Shared<MetricsLog>)>>,
    /// The evaluations at the threshold: recomputed only when a run, the dataset or the
    /// threshold changes (never for a filter or a sort).
    pub eval_a: Memo<EvalResult>,
    pub eval_b: Memo<EvalResult>,
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
        let data = RwSignal::new(Loaded::new(demo::NAME, demo));
        let run_a = RwSignal::new(None);
        let run_b = RwSignal::new(None);
        let threshold = RwSignal::new(1.0);
        let ctx = Ctx {
            data,
            run_a,
            run_b,
            threshold,
            error: RwSignal::new(None),
            tab: RwSignal::new(Tab::Dataset),
            selected: RwSignal::new(None),
            tokenizer: RwSignal::new(None),
            metrics: RwSignal::new(None),
            eval_a: evaluation(data, run_a, threshold),
            eval_b: evaluation(data, run_b, threshold),
        };
        if let Some(p) = demo::PREDICTIONS {
            ctx.open_predictions("predictions.json", p, Which::A);
        }
        if let Some(na) = demo::NA_PROBS {
            ctx.open_na_probs("na_probs.json", na);
        }
        ctx
    }

    fn done(&self, result: Result<(), String>) {
        self.error.set(result.err());
    }

    /// Open a dataset: predictions of the previous one are dropped (they do not fit).
    pub fn open_dataset(&self, name: &str, bytes: &[u8]) {
        self.done(load::dataset(name, bytes).map(|d| {
            self.data.set(Loaded::new(name, d));
            self.run_a.set(None);
            self.run_b.set(None);
            self.selected.set(None);
            self.threshold.set(1.0);
        }));
    }

    pub fn open_predictions(&self, name: &str, bytes: &[u8], which: Which) {
        let gold = self.data.with_untracked(|d| d.gold.clone());
        self.done(
            load::predictions(name, bytes)
                .and_then(|p| Run::new(&gold, name, p))
                .map(|run| match which {
                    Which::A => {
                        self.run_a.set(Some(Shared::new(run)));
                        self.threshold.set(1.0);
                    }
                    Which::B => {
                        // B is scored like A: with A's na_probs when they cover it.
                        let na = self
                            .run_a
                            .with_untracked(|a| a.as_ref().and_then(|a| a.na_probs.clone()));
                        let run = match na {
                            Some((n, na)) => {
                                run.with_na_probs(&gold, &n, na.clone()).unwrap_or(run)
                            }
                            None => run,
                        };
                        self.run_b.set(Some(Shared::new(run)));
                    }
                }),
        );
    }

    /// Open a na_prob file for the predictions (A) already opened.
    pub fn open_na_probs(&self, name: &str, bytes: &[u8]) {
        let gold = self.data.with_untracked(|d| d.gold.clone());
        let Some(run) = self.run_a.get_untracked() else {
            return self.done(Err(format!(
                "{name}: open a predictions file first; na_probs belong to predictions."
            )));
        };
        self.done(
            load::na_probs(name, bytes)
                .and_then(|na| run.with_na_probs(&gold, name, na))
                .map(|run| {
                    self.run_a.set(Some(Shared::new(run)));
                    self.threshold.set(1.0);
                }),
        );
    }

    pub fn open_tokenizer(&self, files: &[(String, Vec<u8>)]) {
        self.done(load::tokenizer(files).map(|t| {
            let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
            self.tokenizer
                .set(Some((names.join(" + "), Shared::new(t))));
        }));
    }

    pub fn open_metrics(&self, name: &str, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        self.done(
            crate::metrics::parse(name, &text)
                .map(|m| self.metrics.set(Some((name.to_string(), Shared::new(m))))),
        );
    }

    /// A file dropped anywhere on the page, routed by its content.
    pub fn open_dropped(&self, files: Vec<(String, Vec<u8>)>) {
        if files.len() == 2 {
            return self.open_tokenizer(&files);
        }
        for (name, bytes) in files {
            match load::sniff(&bytes) {
                load::Kind::Dataset => self.open_dataset(&name, &bytes),
                load::Kind::Predictions => self.open_predictions(&name, &bytes, Which::A),
                load::Kind::NaProbs => self.open_na_probs(&name, &bytes),
                load::Kind::Tokenizer => self.open_tokenizer(&[(name, bytes)]),
                load::Kind::Metrics => self.open_metrics(&name, &bytes),
            }
        }
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx::new()
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx::new();
    provide_context(ctx);
    let drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(list) = ev.data_transfer().and_then(|d| d.files()) {
            files::read_all(files::file_list(&list), move |files| {
                ctx.open_dropped(files)
            });
        }
    };
    view! {
        <div class="app" on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default() on:drop=drop>
            <header>
                <h1>"squadkit"</h1>
                <span class="muted">"SQuAD data, predictions and scores, all in your browser: nothing you open leaves it."</span>
                <OpenBar/>
            </header>
            <ErrorMessage/>
            <nav class="tabs">
                {Tab::ALL
                    .into_iter()
                    .map(|t| {
                        view! {
                            <button
                                data-testid=t.test_id()
                                class:active=move || ctx.tab.get() == t
                                on:click=move |_| ctx.tab.set(t)
                            >
                                {t.label()}
                            </button>
                        }
                    })
                    .collect_view()}
            </nav>
            <main>
                {move || match ctx.tab.get() {
                    Tab::Dataset => view! { <dataset::DatasetView/> }.into_any(),
                    Tab::Evaluate => view! { <evaluate::EvaluateView/> }.into_any(),
                    Tab::Compare => view! { <compare::CompareView/> }.into_any(),
                    Tab::Tokenization => view! { <tokenization::TokenizationView/> }.into_any(),
                    Tab::Training => view! { <training::TrainingView/> }.into_any(),
                }}
            </main>
        </div>
    }
}

/// The inputs for the dataset and the predictions, always at hand.
#[component]
fn OpenBar() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="open-bar">
            <FileInput label="Dataset (SQuAD JSON or JSON lines)" test_id="dataset-file" multiple=false
                on_files=move |f| { if let Some((n, b)) = f.first() { ctx.open_dataset(n, b) } }/>
            <FileInput label="Predictions" test_id="predictions-file" multiple=false
                on_files=move |f| { if let Some((n, b)) = f.first() { ctx.open_predictions(n, b, Which::A) } }/>
            <FileInput label="na_prob / null_odds" test_id="na-probs-file" multiple=false
                on_files=move |f| { if let Some((n, b)) = f.first() { ctx.open_na_probs(n, b) } }/>
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

/// Where a bad file is explained; empty (and hidden) otherwise.
#[component]
fn ErrorMessage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="error" role="alert" class:hidden=move || ctx.error.with(Option::is_none)>
            <span data-testid="error-message">{move || ctx.error.get().unwrap_or_default()}</span>
            <button class="dismiss" on:click=move |_| ctx.error.set(None)>"×"</button>
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
            assert!(ctx.metrics.get_untracked().is_none());
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
            // B is scored at the same threshold with A's na_probs.
            ctx.open_predictions("b.json", demo::PREDICTIONS.unwrap(), Which::B);
            let b = ctx.eval_b.get_untracked().unwrap().unwrap();
            assert_eq!(b.overall, at_zero.overall);
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
            assert_eq!(ctx.metrics.get_untracked().unwrap().1.records, 2);
            ctx.open_dropped(vec![("p.json".into(), demo::PREDICTIONS.unwrap().to_vec())]);
            assert_eq!(ctx.run_a.get_untracked().unwrap().name, "p.json");
        });
    }
}
