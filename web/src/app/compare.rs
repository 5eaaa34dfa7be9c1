//! The Compare view: a second predictions file (B) against the first (A) on the same data,
//! at the same threshold: score deltas per category and outcome, and the questions where the
//! answers differ with who is right.

use super::widgets::Pager;
use super::{na_name, run_name, Ctx, FileInput, Which};
use crate::browse::page;
use crate::compare::{compare, Comparison, Winner};
use crate::evaluate::{example_index, fmt2, shown_prediction};
use crate::shared::Shared;
use leptos::prelude::*;

const PER_PAGE: usize = 50;

#[component]
pub fn CompareView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let comparison = Memo::new(move |_| match (ctx.eval_a.get(), ctx.eval_b.get()) {
        (Some(Ok(a)), Some(Ok(b))) => Some(compare(&a, &b).map(Shared::new)),
        (_, Some(Err(e))) => Some(Err(e)),
        _ => None,
    });
    view! {
        <section class="view">
            <div class="open-bar">
                <FileInput label="Predictions B (compared with A, opened above)" test_id="predictions-b-file" multiple=false
                    current=run_name(ctx.run_b)
                    on_files=move |f| { if let Some((n, b)) = f.first() { ctx.open_predictions(n, b, Which::B) } }/>
                <FileInput label="B's na_prob / null_odds" test_id="na-probs-b-file" multiple=false
                    current=na_name(ctx.run_b)
                    on_files=move |f| { if let Some((n, b)) = f.first() { ctx.open_na_probs(n, b, Which::B) } }/>
            </div>
            <p class="muted" data-testid="compare-scored-with">{move || scored_with(ctx)}</p>
            {move || match comparison.get() {
                None => view! { <p class="hint">"Open predictions A (above) and B (here) for the same dataset."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="hint">{e}</p> }.into_any(),
                Some(Ok(c)) => view! { <Deltas c=c.clone()/><Differences c=c/> }.into_any(),
            }}
        </section>
    }
}

/// How each run is scored: with its own na_probs or as predicted.
fn scored_with(ctx: Ctx) -> String {
    let say = |which: &str, r: &Option<Shared<crate::evaluate::Run>>| match r {
        None => format!("{which}: none open"),
        Some(r) => match &r.na_probs {
            Some((n, _)) => format!("{which}: {} with its na_probs {n}", r.name),
            None => format!(
                "{which}: {} as predicted (no na_probs of its own: the threshold does not apply)",
                r.name
            ),
        },
    };
    format!(
        "Both at threshold {:.4}. {}; {}.",
        ctx.threshold.get(),
        ctx.run_a.with(|r| say("A", r)),
        ctx.run_b.with(|r| say("B", r))
    )
}

fn signed(x: f64) -> String {
    format!("{x:+.2}")
}

#[component]
fn Deltas(c: Shared<Comparison>) -> impl IntoView {
    view! {
        <div class="scroll-x"><table class="card" data-testid="compare-delta">
            <thead><tr><th></th><th>"A exact"</th><th>"B exact"</th><th>"Δ exact"</th><th>"A f1"</th><th>"B f1"</th><th>"Δ f1"</th></tr></thead>
            <tbody>
                {c.categories.iter().map(|d| view! {
                    <tr>
                        <th>{d.category}</th>
                        <td>{fmt2(d.a.exact)}</td><td>{fmt2(d.b.exact)}</td><td>{signed(d.exact_delta())}</td>
                        <td>{fmt2(d.a.f1)}</td><td>{fmt2(d.b.f1)}</td><td>{signed(d.f1_delta())}</td>
                    </tr>
                }).collect_view()}
                {c.outcomes.iter().map(|&(o, a, b)| view! {
                    <tr><th>{o.label()}</th><td>{a}</td><td>{b}</td><td>{format!("{:+}", b as i64 - a as i64)}</td><td></td><td></td><td></td></tr>
                }).collect_view()}
            </tbody>
        </table></div>
        <p data-testid="compare-summary">
            {format!("{} questions answered differently: A better on {}, B better on {}, same score on {}.", c.differences.len(), c.a_better, c.b_better, c.ties)}
        </p>
    }
}

#[component]
fn Differences(c: Shared<Comparison>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let winner = RwSignal::new(None::<Winner>);
    let current = RwSignal::new(0usize);
    let c2 = c.clone();
    let rows = Memo::new(move |_| {
        let w = winner.get();
        c2.differences
            .iter()
            .filter(|d| w.is_none_or(|w| d.winner == w))
            .map(|d| (d.index, d.winner))
            .collect::<Vec<_>>()
    });
    let total = Signal::derive(move || rows.with(Vec::len));
    view! {
        <div class="filters">
            <select data-testid="winner-filter" aria-label="Which differences" on:change=move |ev| {
                winner.set(match event_target_value(&ev).as_str() { "A" => Some(Winner::A), "B" => Some(Winner::B), "tie" => Some(Winner::Tie), _ => None });
                current.set(0);
            }>
                <option value="all">"all differences"</option>
                <option value="A">"A is better"</option>
                <option value="B">"B is better"</option>
                <option value="tie">"same score"</option>
            </select>
        </div>
        <Pager total=total current=current per_page=PER_PAGE test_id="diff-pager"/>
        <div class="scroll-x"><table class="list">
            <thead><tr><th>"id"</th><th>"question"</th><th>"A"</th><th>"f1 A"</th><th>"B"</th><th>"f1 B"</th><th>"better"</th></tr></thead>
            <tbody>
                {move || {
                    let (Some(Ok(a)), Some(Ok(b))) = (ctx.eval_a.get(), ctx.eval_b.get()) else { return Vec::new() };
                    let d = ctx.data.with(|d| d.dataset.clone());
                    let p = page(total.get(), current.get(), PER_PAGE);
                    rows.with(|r| r[p.start..p.end].iter().map(|&(i, w)| {
                        let (qa, qb) = (&a.questions[i], &b.questions[i]);
                        let question = example_index(&d, i, &qa.id).map(|x| d.examples[x].question.clone()).unwrap_or_default();
                        view! {
                            <tr data-testid="diff-row">
                                <td>{qa.id.clone()}</td><td>{question}</td>
                                <td>{shown_prediction(qa)}</td><td>{fmt2(qa.f1)}</td>
                                <td>{shown_prediction(qb)}</td><td>{fmt2(qb.f1)}</td>
                                <td>{w.label()}</td>
                            </tr>
                        }
                    }).collect::<Vec<_>>())
                }}
            </tbody>
        </table></div>
    }
}
