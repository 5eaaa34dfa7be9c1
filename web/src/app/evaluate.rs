//! The Evaluate view: the score card, the threshold slider (re-scoring through core's raw
//! scores, nothing normalized again), precision–recall curves and na_prob histograms, the
//! per-question table (filter by outcome, sort), and a question's detail with the predicted
//! and gold spans highlighted.

use super::widgets::{download, opens_row, reveal, Chart, Highlighted, Pager};
use super::Ctx;
use crate::browse::{answer_list, answer_spans, mark, page, prediction_span, segments};
use crate::evaluate::{
    example_index, fmt2, na_prob_values, outcome_from_label, question_score, score_card,
    shown_prediction, slider_position, slider_threshold, table_rows, SortKey, SLIDER_STEPS,
};
use leptos::prelude::*;
use squadkit_core::report::{na_prob_histogram_svg, pr_curve_svg};
use squadkit_core::scorer::{Evaluation, Outcome};

const PER_PAGE: usize = 50;

#[component]
pub fn EvaluateView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        match ctx.eval_a.get() {
        None => view! { <p class="hint">"Open a predictions file (and optionally its na_prob file) to score it."</p> }.into_any(),
        Some(Err(e)) => view! { <p class="hint">{e}</p> }.into_any(),
        Some(Ok(_)) => view! {
            <section class="view">
                <ScoreCard/>
                <Exports/>
                <Threshold/>
                <Charts/>
                <QuestionTable/>
            </section>
        }
        .into_any(),
    }
    }
}

/// The evaluation at the current threshold (the view is only shown when there is one).
fn current(ctx: Ctx) -> Option<crate::shared::Shared<Evaluation>> {
    ctx.eval_a.get().and_then(Result::ok)
}

#[component]
fn ScoreCard() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <table class="card" data-testid="score-card">
            <tbody>
                {move || current(ctx).map(|e| {
                    score_card(&e).into_iter().map(|(label, id, value)| view! {
                        <tr><th>{label}</th><td data-testid=id>{value}</td></tr>
                    }).collect_view()
                })}
            </tbody>
        </table>
        <p class="outcomes">
            {move || current(ctx).map(|e| e.outcome_counts().into_iter().map(|(o, n)| view! {
                <span class=format!("outcome {}", o.label().replace(' ', "-"))>{format!("{}: {n}", o.label())}</span>
            }).collect_view())}
        </p>
    }
}

/// Downloads of the evaluation at the current threshold: the score card as the CLI's `-o`
/// JSON (with na_probs the app draws the PR curves, so their APs are in it, as with `-p`), the
/// per-question rows as its `--per-question` JSON lines and as CSV.
#[component]
fn Exports() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let save = move |kind: &'static str| {
        let Some(e) = ctx.eval_a.get_untracked().and_then(Result::ok) else {
            return;
        };
        let stem = ctx.run_a.with_untracked(|r| {
            r.as_ref().map_or("predictions".into(), |r| {
                r.name.trim_end_matches(".json").to_string()
            })
        });
        match kind {
            "json" => download(
                &format!("{stem}.eval.json"),
                "application/json",
                &e.to_json(true),
            ),
            "jsonl" => download(
                &format!("{stem}.per-question.jsonl"),
                "application/x-ndjson",
                &e.per_question_jsonl(),
            ),
            _ => download(
                &format!("{stem}.per-question.csv"),
                "text/csv",
                &e.per_question_csv(),
            ),
        }
    };
    view! {
        <div class="exports">
            <span class="muted">"Save: "</span>
            <button data-testid="export-scores" on:click=move |_| save("json")>"scores (JSON)"</button>
            <button data-testid="export-csv" on:click=move |_| save("csv")>"per question (CSV)"</button>
            <button data-testid="export-jsonl" on:click=move |_| save("jsonl")>"per question (JSON lines)"</button>
        </div>
    }
}

#[component]
fn Threshold() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let range = Memo::new(move |_| {
        ctx.run_a
            .with(|r| r.as_ref().map_or((0.0, 1.0), |r| r.threshold_range()))
    });
    let has_na = move || {
        ctx.run_a
            .with(|r| r.as_ref().is_some_and(|r| r.na_probs.is_some()))
    };
    let best = move || {
        current(ctx)
            .and_then(|e| e.best)
            .map(|b| b.best_f1_thresh.as_f64())
    };
    view! {
        <div class="threshold">
            <label>
                "no-answer threshold "
                <input type="range" min="0" max=SLIDER_STEPS.to_string() step="1" data-testid="threshold-slider" disabled=move || !has_na()
                    prop:value=move || slider_position(range.get(), ctx.threshold.get()).to_string()
                    on:input=move |ev| {
                        if let Ok(pos) = event_target_value(&ev).parse::<u32>() {
                            ctx.threshold.set(slider_threshold(range.get_untracked(), pos));
                        }
                    }/>
                " "<b data-testid="threshold-value">{move || format!("{:.4}", ctx.threshold.get())}</b>
            </label>
            " "
            <button data-testid="use-best-threshold" disabled=move || best().is_none()
                on:click=move |_| { if let Some(t) = best() { ctx.threshold.set(t) } }>"use the best F1 threshold"</button>
            <button disabled=move || !has_na() on:click=move |_| ctx.threshold.set(1.0)>"reset to 1.0"</button>
            <p class="muted" data-testid="threshold-hint">
                {move || if has_na() {
                    "A question counts as “no answer” when its na_prob (or null odds) is above the threshold."
                } else {
                    "No na_prob or null_odds file is open for these predictions: every prediction stands as written, and the threshold has nothing to act on. Open one above to use it."
                }}
            </p>
        </div>
    }
}

#[component]
fn Charts() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let e = current(ctx)?;
        let pr = e.precision_recall.clone()?;
        let (has, no) = na_prob_values(&e);
        Some(view! {
            <details class="charts" open>
                <summary>"Precision–recall and na_prob histograms"</summary>
                <Chart svg=pr_curve_svg(&pr.exact, "Precision-Recall curve for Exact Match score") alt="PR curve exact".into() test_id="pr-exact"/>
                <Chart svg=pr_curve_svg(&pr.f1, "Precision-Recall curve for F1 score") alt="PR curve f1".into()/>
                <Chart svg=pr_curve_svg(&pr.oracle, "Oracle Precision-Recall curve (binary task of HasAns vs. NoAns)") alt="PR curve oracle".into()/>
                <Chart svg=na_prob_histogram_svg(&has, "hasAns") alt="na_prob histogram hasAns".into()/>
                <Chart svg=na_prob_histogram_svg(&no, "noAns") alt="na_prob histogram noAns".into()/>
            </details>
        })
    }
}

#[component]
fn QuestionTable() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let outcome = RwSignal::new(None::<Outcome>);
    let key = RwSignal::new(SortKey::Dataset);
    let descending = RwSignal::new(false);
    let current_page = RwSignal::new(0usize);
    // Filtering and sorting reuse the evaluation; nothing is scored again.
    let rows = Memo::new(move |_| {
        current(ctx)
            .map(|e| table_rows(&e, outcome.get(), key.get(), descending.get()))
            .unwrap_or_default()
    });
    let total = Signal::derive(move || rows.with(Vec::len));
    view! {
        <div class="filters">
            <select data-testid="outcome-filter" aria-label="Outcome" on:change=move |ev| { outcome.set(outcome_from_label(&event_target_value(&ev))); current_page.set(0); }>
                <option value="all">"all outcomes"</option>
                {Outcome::ALL.into_iter().map(|o| view! { <option value=o.label()>{o.label()}</option> }).collect_view()}
            </select>
            <select data-testid="sort-key" aria-label="Sort by" on:change=move |ev| { key.set(SortKey::from_label(&event_target_value(&ev))); current_page.set(0); }>
                {SortKey::ALL.into_iter().map(|k| view! { <option value=k.label()>{format!("sort by {}", k.label())}</option> }).collect_view()}
            </select>
            <label><input type="checkbox" data-testid="sort-descending" on:change=move |ev| descending.set(event_target_checked(&ev))/>" descending"</label>
            <span data-testid="row-count">{move || format!("{} questions", total.get())}</span>
        </div>
        <Pager total=total current=current_page per_page=PER_PAGE test_id="question-pager"/>
        <div class="scroll-x"><table class="list questions">
            <thead><tr><th scope="col" class="id">"id"</th><th scope="col">"question"</th><th scope="col">"prediction"</th><th scope="col">"gold"</th><th scope="col">"exact"</th><th scope="col">"f1"</th><th scope="col">"na_prob"</th><th scope="col">"outcome"</th></tr></thead>
            <tbody>
                {move || {
                    let Some(e) = current(ctx) else { return Vec::new() };
                    let d = ctx.data.with(|d| d.dataset.clone());
                    let p = page(total.get(), current_page.get(), PER_PAGE);
                    rows.with(|r| r[p.start..p.end].iter().map(|&i| {
                        let q = &e.questions[i];
                        let index = example_index(&d, i, &q.id);
                        let ex = index.map(|x| &d.examples[x]);
                        let question = ex.map(|x| x.question.clone()).unwrap_or_default();
                        let gold = ex.map(|x| if x.has_answer() { answer_list(&x.answers.text) } else { "(no answer)".into() }).unwrap_or_default();
                        let o = q.outcome();
                        view! {
                            <tr data-testid="question-row" tabindex="0" class:selected=move || index.is_some() && ctx.selected.get() == index
                                on:click=move |_| { ctx.selected.set(index); reveal("question-detail") }
                                on:keydown=move |ev| if opens_row(&ev) { ctx.selected.set(index); reveal("question-detail") }>
                                <td class="id">{q.id.clone()}</td>
                                <td>{question}</td>
                                <td>{shown_prediction(q)}</td>
                                <td>{gold}</td>
                                <td>{format!("{:.0}", q.exact)}</td>
                                <td>{fmt2(q.f1)}</td>
                                <td>{q.na_prob.map(|p| format!("{p:.4}")).unwrap_or_default()}</td>
                                <td class=format!("outcome {}", o.label().replace(' ', "-"))>{o.label()}</td>
                            </tr>
                        }
                    }).collect::<Vec<_>>())
                }}
            </tbody>
        </table></div>
        <QuestionDetail/>
    }
}

/// The selected question: the predicted span and the gold spans highlighted in the context.
#[component]
fn QuestionDetail() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let index = ctx.selected.get()?;
        let e = current(ctx)?;
        let d = ctx.data.with(|d| d.dataset.clone());
        let ex = d.examples.get(index)?;
        let q = question_score(&e, index, &ex.id)?.clone();
        let mut spans = answer_spans(ex);
        let answered = !q.predicted_no_answer;
        if let Some((s, t)) = answered
            .then(|| prediction_span(&ex.context, q.prediction.as_deref().unwrap_or(""), &spans))
            .flatten()
        {
            spans.push((s, t, mark::PREDICTED));
        }
        let segs = segments(&ex.context, &spans);
        Some(view! {
            <div class="detail" data-testid="question-detail">
                <h3>{ex.question.clone()}</h3>
                <p class="muted">{format!("{} · {} · outcome: {} · exact {:.0} · f1 {} · na_prob {}", q.id, ex.title, q.outcome().label(), q.exact, fmt2(q.f1), q.na_prob.map(|p| format!("{p:.4}")).unwrap_or_else(|| "–".into()))}</p>
                <Highlighted segments=segs test_id="detail-context"/>
                <p>
                    <mark class="predicted">"predicted"</mark>" "<span data-testid="detail-prediction">{shown_prediction(&q)}</span>" "
                    <mark class="gold">"gold"</mark>" "{if ex.has_answer() { answer_list(&ex.answers.text) } else { "(no answer)".into() }}
                </p>
                <button on:click=move |_| ctx.tab.set(super::Tab::Tokenization)>"see its tokenization windows"</button>
            </div>
        })
    }
}
