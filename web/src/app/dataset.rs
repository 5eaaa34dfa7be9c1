//! The Dataset view: statistics, article/paragraph navigation, search and answerability
//! filters, a paginated question list, and the selected question with its answers highlighted.

use super::widgets::{opens_row, reveal, Chart, Highlighted, Pager};
use super::Ctx;
use crate::browse::{
    answer_list, answer_spans, filter_indices, page, paragraph_questions, search_hits, segments,
    Answerability, Filter,
};
use crate::evaluate::{question_score, shown_prediction, Run};
use crate::shared::Shared;
use leptos::prelude::*;
use squadkit_core::chart::bar_chart;
use squadkit_core::scorer::Evaluation;
use squadkit_core::Dataset;

const PER_PAGE: usize = 50;

#[component]
pub fn DatasetView() -> impl IntoView {
    view! {
        <section class="view">
            <Stats/>
            <Browser/>
        </section>
    }
}

#[component]
fn Stats() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let s = ctx.data.with(|d| d.stats.clone());
        let c = s.counts;
        let cell = |label: &'static str, id: &'static str, v: usize| {
            view! { <div class="stat"><span class="muted">{label}</span><b data-testid=id>{v}</b></div> }
        };
        view! {
            <div class="stats">
                {cell("articles", "stat-articles", c.articles)}
                {cell("paragraphs", "stat-paragraphs", c.paragraphs)}
                {cell("questions", "stat-questions", c.questions)}
                {cell("answerable", "stat-answerable", c.answerable)}
                {cell("unanswerable", "stat-unanswerable", c.unanswerable)}
                <div class="stat"><span class="muted">"version"</span><b>{s.version.clone().unwrap_or_else(|| "–".into())}</b></div>
            </div>
            <details class="charts">
                <summary>"Length histograms (words)"</summary>
                <Chart svg=bar_chart("Context length (words)", "questions", &s.context_words) alt="context length histogram".into()/>
                <Chart svg=bar_chart("Question length (words)", "questions", &s.question_words) alt="question length histogram".into()/>
                <Chart svg=bar_chart("Answer length (words)", "questions", &s.answer_words) alt="answer length histogram".into()/>
            </details>
        }
    }
}

#[component]
fn Browser() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let filter = RwSignal::new(Filter::default());
    let current = RwSignal::new(0usize);
    // A new dataset resets the filters.
    Effect::new(move |_| {
        ctx.data.track();
        filter.set(Filter::default());
        current.set(0);
    });
    // Filtering scans the pre-lowered index; paging only slices the result.
    let matches = Memo::new(move |_| {
        filter.with(|f| ctx.data.with(|d| filter_indices(&d.dataset, &d.index, f)))
    });
    let total = Signal::derive(move || matches.with(Vec::len));
    let set_filter = move |f: &dyn Fn(&mut Filter)| {
        filter.update(|x| f(x));
        current.set(0);
    };
    view! {
        <div class="browser">
            <div class="filters">
                <input type="search" placeholder="search questions and contexts" aria-label="Search questions and contexts" data-testid="search"
                    prop:value=move || filter.with(|f| f.query.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); set_filter(&|f| f.query = v.clone()) }/>
                <select data-testid="answerability" aria-label="Answerability" on:change=move |ev| {
                    let v = Answerability::from_label(&event_target_value(&ev));
                    set_filter(&|f| f.answerability = v)
                }>
                    {Answerability::ALL.into_iter().map(|a| view! {
                        <option value=a.label() prop:selected=move || filter.with(|f| f.answerability == a)>{a.label()}</option>
                    }).collect_view()}
                </select>
                <select data-testid="article-select" aria-label="Article" on:change=move |ev| {
                    let v = event_target_value(&ev).parse::<usize>().ok();
                    set_filter(&|f| { f.article = v; f.paragraph = None; })
                }>
                    <option value="">"all articles"</option>
                    {move || ctx.data.with(|d| d.articles.iter().map(|a| {
                        let i = a.index;
                        view! {
                            <option value=i.to_string() prop:selected=move || filter.with(|f| f.article == Some(i))>
                                {format!("{} ({} paragraphs, {} questions)", a.title, a.paragraphs, a.questions)}
                            </option>
                        }
                    }).collect_view())}
                </select>
                {move || filter.with(|f| f.article).map(|a| {
                    let n = ctx.data.with(|d| d.articles.iter().find(|x| x.index == a).map_or(0, |x| x.paragraphs));
                    view! {
                        <select data-testid="paragraph-select" aria-label="Paragraph" on:change=move |ev| {
                            let v = event_target_value(&ev).parse::<usize>().ok();
                            set_filter(&|f| f.paragraph = v)
                        }>
                            <option value="">"all paragraphs"</option>
                            {(0..n).map(|p| view! {
                                <option value=p.to_string() prop:selected=move || filter.with(|f| f.paragraph == Some(p))>{format!("paragraph {}", p + 1)}</option>
                            }).collect_view()}
                        </select>
                    }
                })}
                <span data-testid="match-count">{move || format!("{} questions", total.get())}</span>
            </div>
            <Pager total=total current=current per_page=PER_PAGE test_id="dataset-pager"/>
            <div class="scroll-x"><table class="list dataset">
                <thead><tr><th scope="col">"#"</th><th scope="col">"article"</th><th scope="col">"question"</th><th scope="col">"answers"</th></tr></thead>
                <tbody>
                    {move || {
                        let p = page(total.get(), current.get(), PER_PAGE);
                        let d = ctx.data.with(|d| d.dataset.clone());
                        let query = filter.with(|f| f.query.clone());
                        matches.with(|m| m[p.start..p.end].iter().map(|&i| {
                            let e = &d.examples[i];
                            let answers = if e.has_answer() {
                                answer_list(&e.answers.text)
                            } else {
                                "(unanswerable)".to_string()
                            };
                            view! {
                                <tr data-testid="dataset-row" tabindex="0" class:selected=move || ctx.selected.get() == Some(i)
                                    on:click=move |_| { ctx.selected.set(Some(i)); reveal("example-detail") }
                                    on:keydown=move |ev| if opens_row(&ev) { ctx.selected.set(Some(i)); reveal("example-detail") }>
                                    <td>{i + 1}</td>
                                    <td>{e.title.clone()}</td>
                                    <td>{hits(&e.question, &query)}</td>
                                    <td class:muted=!e.has_answer()>{hits(&answers, &query)}</td>
                                </tr>
                            }
                        }).collect_view())
                    }}
                </tbody>
            </table></div>
            <ExampleDetail/>
        </div>
    }
}

/// `text` with the search's hits marked.
fn hits(text: &str, query: &str) -> impl IntoView {
    search_hits(text, query)
        .into_iter()
        .map(|(piece, hit)| {
            if hit {
                view! { <mark class="hit">{piece}</mark> }.into_any()
            } else {
                piece.into_any()
            }
        })
        .collect_view()
}

/// The selected question: its context with every gold and plausible answer highlighted.
#[component]
fn ExampleDetail() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let i = ctx.selected.get()?;
        let d = ctx.data.with(|d| d.dataset.clone());
        let e = d.examples.get(i)?.clone();
        let segs = segments(&e.context, &answer_spans(&e));
        let plausible = answer_list(&e.plausible_answers.text);
        Some(view! {
            <div class="detail" data-testid="example-detail">
                <h3>{e.question.clone()}</h3>
                <p class="muted">{format!("{} · {} · paragraph {}", e.id, e.title, e.paragraph + 1)}</p>
                <Highlighted segments=segs test_id="example-context"/>
                <p>
                    <mark class="gold">"gold"</mark>" "{if e.has_answer() { answer_list(&e.answers.text) } else { "(none: unanswerable)".into() }}
                    " "
                    {(!plausible.is_empty()).then(|| view! { <mark class="plausible">"plausible"</mark>" "{plausible} })}
                </p>
                <button on:click=move |_| ctx.tab.set(super::Tab::Tokenization)>"see its tokenization windows"</button>
                <ParagraphQuestions index=i/>
            </div>
        })
    }
}

/// The answer run `eval` gives question `j` of `d`, as the tables show it.
fn answer_of(eval: &Evaluation, d: &Dataset, j: usize) -> String {
    question_score(eval, j, &d.examples[j].id)
        .map(shown_prediction)
        .unwrap_or_default()
}

/// Every question on the selected question's paragraph, with the gold answers and each open
/// model's answer (A, B) side by side: the paragraph as SQuAD-explorer shows it.
#[component]
fn ParagraphQuestions(index: usize) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let d = ctx.data.with_untracked(|d| d.dataset.clone());
    let rows = paragraph_questions(&d, index);
    let run_header = move |which: &'static str, r: RwSignal<Option<Shared<Run>>>| {
        move || {
            r.with(|r| {
                r.as_ref()
                    .map(|r| view! { <th scope="col">{format!("{which}: {}", r.name)}</th> })
            })
        }
    };
    let cell = move |eval: Memo<Option<Result<Shared<Evaluation>, String>>>,
                     d: Shared<Dataset>,
                     j: usize| {
        move || {
            eval.get()
                .and_then(Result::ok)
                .map(|e| view! { <td>{answer_of(&e, &d, j)}</td> })
        }
    };
    view! {
        <h4>{format!("All {} questions on this paragraph", rows.len())}</h4>
        <div class="scroll-x"><table class="list paragraph" data-testid="paragraph-questions">
            <thead><tr>
                <th scope="col">"question"</th><th scope="col">"gold"</th>
                {run_header("A", ctx.run_a)}{run_header("B", ctx.run_b)}
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|j| {
                    let e = &d.examples[j];
                    let gold = if e.has_answer() { answer_list(&e.answers.text) } else { "(unanswerable)".into() };
                    view! {
                        <tr data-testid="paragraph-question-row" tabindex="0" class:selected=move || ctx.selected.get() == Some(j)
                            on:click=move |_| ctx.selected.set(Some(j))
                            on:keydown=move |ev| if opens_row(&ev) { ctx.selected.set(Some(j)) }>
                            <td>{e.question.clone()}</td>
                            <td class:muted=!e.has_answer()>{gold}</td>
                            {cell(ctx.eval_a, d.clone(), j)}{cell(ctx.eval_b, d.clone(), j)}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
}
