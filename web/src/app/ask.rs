//! The Ask view: a model (the bundled demo model, or an HF model directory's files) answers a
//! question about a context — typed, pasted or taken from the open dataset — in the model
//! worker, on this machine: the answer highlighted in the context, the n-best list, the null
//! score and the decision at the threshold, the windows; and the whole open dataset predicted
//! in the worker (progress, cancel), opened as predictions + null odds for Evaluate and Compare.

use super::model::{self, Job};
use super::widgets::download;
use super::{Ctx, FileInput, Which};
use crate::ask::{answer_line, decision_line, highlight, model_line, progress_line, Answer};
use leptos::prelude::*;

/// roberta-base's sizes, for the speed check with random weights.
const ROBERTA_BASE: &str = r#"{"vocab_size": 50265, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
 "intermediate_size": 3072, "max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1,
 "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}"#;

fn number<T: std::str::FromStr + ToString + Copy + Send + Sync + 'static>(
    label: &'static str,
    test_id: &'static str,
    get: impl Fn() -> T + Copy + Send + Sync + 'static,
    set: impl Fn(T) + Copy + 'static,
) -> impl IntoView {
    view! {
        <label>
            {label}" "
            <input type="number" step="any" data-testid=test_id prop:value=move || get().to_string()
                on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<T>() { set(v) } }/>
        </label>
    }
}

#[component]
pub fn AskView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let m = ctx.model;
    model::ensure_started(ctx);
    // The context and question start from the selected (or first) question of the dataset.
    let pick = move || {
        let i = ctx.selected.get_untracked().unwrap_or(0);
        ctx.data.with_untracked(|d| {
            d.dataset
                .examples
                .get(i)
                .map(|e| (e.context.to_string(), e.question.clone()))
        })
    };
    let (c0, q0) = pick().unwrap_or_default();
    let context = RwSignal::new(c0);
    let question = RwSignal::new(q0);
    let busy = move || m.job.get().is_some();
    let s = m.settings;
    let submit = move || model::ask(ctx, question.get_untracked(), context.get_untracked());
    view! {
        <section class="view ask">
            <div class="model-bar">
                <FileInput label="Model (an HF directory's config.json, model.safetensors, tokenizer.json)" test_id="model-files" multiple=true
                    current=Signal::derive(move || m.info.with(|i| i.as_ref().map(|i| i.name.clone())))
                    on_files=move |f| model::load_files(ctx, f)/>
                <button data-testid="model-demo" on:click=move |_| model::load_demo(ctx) disabled=busy>"Use the demo model"</button>
            </div>
            <p class="muted" data-testid="model-info">
                {move || match (m.info.get(), m.job.get()) {
                    (_, Some(job)) => job.describe().to_string(),
                    (Some(i), None) => model_line(&i),
                    (None, None) => "No model loaded.".to_string(),
                }}
            </p>
            <label class="block">"Context"
                <textarea data-testid="ask-context" rows="6" prop:value=move || context.get()
                    on:input=move |ev| context.set(event_target_value(&ev))></textarea>
            </label>
            <div class="filters">
                <label class="grow">"Question "
                    <input type="text" data-testid="ask-question" prop:value=move || question.get()
                        on:input=move |ev| question.set(event_target_value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" && !busy() { submit() }/>
                </label>
                <button data-testid="ask-pick" title="The selected question of the open dataset (or its first)"
                    on:click=move |_| { if let Some((c, q)) = pick() { context.set(c); question.set(q) } }>"From the dataset"</button>
                <button class="primary" data-testid="ask-submit" disabled=move || busy() || m.info.with(Option::is_none)
                    on:click=move |_| submit()>"Ask"</button>
            </div>
            <details class="settings">
                <summary>"Windows and answers"</summary>
                <div class="filters">
                    {number("max seq length", "ask-max-seq-length", move || s.get().max_seq_length, move |v| s.update(|s| s.max_seq_length = v))}
                    {number("doc stride", "ask-doc-stride", move || s.get().doc_stride, move |v| s.update(|s| s.doc_stride = v))}
                    {number("max query length", "ask-max-query-length", move || s.get().max_query_length, move |v| s.update(|s| s.max_query_length = v))}
                    {number("n-best size", "ask-n-best-size", move || s.get().n_best_size, move |v| s.update(|s| s.n_best_size = v))}
                    {number("max answer length", "ask-max-answer-length", move || s.get().max_answer_length, move |v| s.update(|s| s.max_answer_length = v))}
                    {number("null score diff threshold", "ask-threshold", move || s.get().null_score_diff_threshold, move |v| s.update(|s| s.null_score_diff_threshold = v))}
                </div>
            </details>
            {move || m.answer.get().map(|a| view! { <AnswerView a=a/> })}
            <PredictPanel/>
            <details class="settings">
                <summary>"Speed"</summary>
                <p class="muted">"The forward pass of one synthetic 384-token window, with random weights (the loaded model's sizes with 386 positions, or roberta-base's), as bench/wasm_model.sh times it."</p>
                <div class="filters">
                    <button data-testid="bench-model" disabled=busy
                        on:click=move |_| model::bench(ctx, None, 384, 10)>
                        "This model's size"</button>
                    <button data-testid="bench-base" disabled=busy on:click=move |_| model::bench(ctx, Some(ROBERTA_BASE.to_string()), 384, 6)>"roberta-base size"</button>
                </div>
                <pre data-testid="bench-result">{move || m.bench.get().unwrap_or_default()}</pre>
            </details>
        </section>
    }
}

#[component]
fn AnswerView(a: Answer) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let best = a.best_span().cloned();
    view! {
        <div class="answer">
            <p class="big" data-testid="ask-answer" class:muted=a.no_answer()>{answer_line(&a)}</p>
            <p class="muted" data-testid="ask-null-score">{decision_line(&a)}</p>
            <ContextMark text=ctx.model.asked.get_untracked() offsets=best.as_ref().map(|b| b.offsets)/>
            <div class="table-scroll">
                <table class="nbest">
                    <thead><tr><th>"#"</th><th>"text"</th><th>"start logit"</th><th>"end logit"</th><th>"score"</th><th>"probability"</th></tr></thead>
                    <tbody>
                        {a.nbest.iter().enumerate().map(|(k, c)| view! {
                            <tr data-testid="ask-nbest-row" class:null=c.null>
                                <td>{k + 1}</td>
                                <td>{if c.null { "(no answer)".to_string() } else { c.text.clone() }}</td>
                                <td>{format!("{:.4}", c.start_logit)}</td>
                                <td>{format!("{:.4}", c.end_logit)}</td>
                                <td>{format!("{:.4}", c.start_logit + c.end_logit)}</td>
                                <td>{format!("{:.4}", c.probability)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <ul class="windows">
                {a.windows.iter().enumerate().map(|(k, w)| view! {
                    <li data-testid="ask-window">{format!(
                        "window {}: {} tokens ({} question, {} context), context characters {}–{}",
                        k + 1, w.tokens, w.question_tokens, w.context_tokens, w.context_chars.0, w.context_chars.1
                    )}</li>
                }).collect_view()}
            </ul>
        </div>
    }
}

/// The context the question was asked about, with the best span marked (the worker's answer
/// refers to it by code points).
#[component]
fn ContextMark(text: String, offsets: Option<(u32, u32)>) -> impl IntoView {
    let (before, span, after) = highlight(&text, offsets.unwrap_or((0, 0)));
    view! { <p class="context" data-testid="ask-context-marked">{before}<mark data-testid="ask-span">{span}</mark>{after}</p> }
}

#[component]
fn PredictPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let m = ctx.model;
    let predicting = move || m.job.get() == Some(Job::Predicting);
    view! {
        <h3>"Predict the open dataset"</h3>
        <p class="muted">"Every window of the open dataset through the model, on this machine: meant for small models (a roberta-base-sized model takes seconds per window in the browser)."</p>
        <div class="filters">
            <span>{move || ctx.data.with(|d| format!("{} ({} questions)", d.name, d.dataset.len()))}</span>
            <label>"open the answers as "
                <select data-testid="predict-target" aria-label="Open the answers as predictions A or B"
                    on:change=move |ev| m.target.set(if event_target_value(&ev) == "b" { Which::B } else { Which::A })>
                    <option value="a">"A"</option>
                    <option value="b">"B"</option>
                </select>
            </label>
            <button class="primary" data-testid="predict-start" disabled=move || m.job.get().is_some() || m.info.with(Option::is_none)
                on:click=move |_| model::predict(ctx)>"Predict"</button>
            <button data-testid="predict-cancel" disabled=move || !predicting() on:click=move |_| model::cancel(ctx)>"Cancel"</button>
        </div>
        {move || m.progress.get().map(|(done, total)| view! {
            <div class="progress">
                <progress data-testid="predict-progress" aria-label="Windows predicted" max=total.max(1).to_string() value=done.to_string()></progress>
                <span data-testid="predict-progress-text">{progress_line(done, total)}</span>
            </div>
        })}
        {move || m.predicted.get().map(|p| {
            let (preds, null_odds) = (p.predictions.clone(), p.null_odds.clone());
            view! {
                <p data-testid="predict-done">{format!(
                    "{} questions ({} windows) of {} predicted in {:.1} s; opened as predictions.json + null_odds.json in Evaluate and Compare.",
                    p.questions, p.windows, p.name, p.seconds
                )}</p>
                <div class="filters">
                    <button data-testid="predict-download-predictions" on:click=move |_| download("predictions.json", "application/json", &preds)>"predictions.json"</button>
                    <button data-testid="predict-download-null-odds" on:click=move |_| download("null_odds.json", "application/json", &null_odds)>"null_odds.json"</button>
                </div>
            }
        })}
    }
}
