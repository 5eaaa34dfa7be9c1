//! The Tokenization view: a tokenizer (tokenizer.json, or vocab.json + merges.txt) and, for
//! the selected question, the windows core's preprocessing makes: tokens with offsets,
//! question vs context, the stride overlap, the label positions, answers lost to truncation.

use super::{Ctx, FileInput};
use crate::tokens::{config, windows, TokenView, WindowView};
use leptos::prelude::*;

fn number_input(
    label: &'static str,
    test_id: &'static str,
    value: RwSignal<usize>,
) -> impl IntoView {
    view! {
        <label>
            {label}" "
            <input type="number" min="1" data-testid=test_id prop:value=move || value.get().to_string()
                on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<usize>() { value.set(v) } }/>
        </label>
    }
}

#[component]
pub fn TokenizationView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let max_len = RwSignal::new(384usize);
    let stride = RwSignal::new(128usize);
    let max_query = RwSignal::new(64usize);
    let index = Memo::new(move |_| ctx.selected.get().unwrap_or(0));
    // Only this question is tokenized, again only when it, the tokenizer or the sizes change.
    let view_model = Memo::new(move |_| {
        let (_, tok) = ctx.tokenizer.get()?;
        let d = ctx.data.with(|d| d.dataset.clone());
        let e = d.examples.get(index.get())?;
        Some(
            config(max_len.get(), stride.get(), max_query.get()).and_then(|c| windows(&tok, e, &c)),
        )
    });
    view! {
        <section class="view">
            <FileInput label="Tokenizer (tokenizer.json, or vocab.json + merges.txt)" test_id="tokenizer-file" multiple=true
                current=Signal::derive(move || ctx.tokenizer.with(|t| t.as_ref().map(|(n, _)| n.clone())))
                on_files=move |f| ctx.open_tokenizer(&f)/>
            <div class="filters">
                <label>
                    "question # "
                    <input type="number" min="1" data-testid="token-question"
                        prop:value=move || (index.get() + 1).to_string()
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<usize>() {
                                let n = ctx.data.with_untracked(|d| d.dataset.len());
                                ctx.selected.set(Some(v.clamp(1, n.max(1)) - 1));
                            }
                        }/>
                </label>
                {number_input("max length", "max-length", max_len)}
                {number_input("stride", "stride", stride)}
                {number_input("max query length", "max-query-length", max_query)}
            </div>
            {move || {
                let d = ctx.data.with(|d| d.dataset.clone());
                d.examples.get(index.get()).map(|e| view! {
                    <p><b>{e.question.clone()}</b>" "<span class="muted">{format!("{} · {}", e.id, if e.has_answer() { format!("answer: {}", e.answers.text[0]) } else { "unanswerable".into() })}</span></p>
                })
            }}
            {move || match view_model.get() {
                None => view! { <p class="hint">"Open a tokenizer to see the windows of the selected question."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="hint" data-testid="token-error">{e}</p> }.into_any(),
                Some(Ok(v)) => view! {
                    <p data-testid="window-count">
                        {format!("{} window(s); {} question token(s) truncated", v.windows.len(), v.report.questions_truncated)}
                    </p>
                    {v.answer_lost().then(|| view! { <p class="warn" data-testid="answer-lost">"The answer is lost to truncation: no window holds it whole (every window is labelled CLS)."</p> })}
                    <p class="legend"><span class="tok question">"question"</span><span class="tok context">"context"</span><span class="tok context overlap">"stride overlap"</span><span class="tok special">"special"</span><span class="tok label">"label"</span></p>
                    {v.windows.into_iter().enumerate().map(|(k, w)| view! { <Window k=k w=w/> }).collect_view()}
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Window(k: usize, w: WindowView) -> impl IntoView {
    let labels = if w.has_answer_label() {
        format!("labels: start {} end {}", w.start_position, w.end_position)
    } else {
        "labels: CLS (no answer in this window)".to_string()
    };
    view! {
        <div class="window" data-testid="token-window">
            <h4>{format!("window {} · context characters {}–{} · {} tokens + {} padding · {labels}", k + 1, w.context_chars.0, w.context_chars.1, w.tokens.len(), w.padding)}</h4>
            <div class="tokens">{w.tokens.into_iter().map(token).collect_view()}</div>
        </div>
    }
}

fn token(t: TokenView) -> impl IntoView {
    let mut class = t.kind.class().to_string();
    if t.overlap {
        class += " overlap";
    }
    if t.start_label || t.end_label {
        class += " label";
    }
    let title = format!(
        "#{} id {} {:?} offsets {}–{}{}{}",
        t.position,
        t.id,
        t.piece,
        t.offsets.0,
        t.offsets.1,
        if t.start_label { " · start label" } else { "" },
        if t.end_label { " · end label" } else { "" }
    );
    view! { <span class=class title=title>{t.text}</span> }
}
