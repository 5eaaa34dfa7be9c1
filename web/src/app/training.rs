//! The Training run view: one or more metrics logs (JSON lines) overlaid, one chart per metric,
//! losses and evaluation first; smoothing, a log scale and a step or wall-time x axis, as
//! TensorBoard has them; metrics that never change are listed, not drawn.

use super::widgets::Chart;
use super::{Ctx, FileInput};
use crate::metrics::{panels, time_axis_available, MetricsLog, XAxis};
use leptos::prelude::*;
use squadkit_core::chart::{line_chart, LineStyle, Series};

#[component]
pub fn TrainingView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let smoothing = RwSignal::new(0.0f64);
    let log_y = RwSignal::new(false);
    let x_axis = RwSignal::new(XAxis::Step);
    let names = Signal::derive(move || {
        ctx.metrics.with(|m| {
            (!m.is_empty()).then(|| {
                m.iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        })
    });
    view! {
        <section class="view">
            <div class="open-bar">
                <FileInput label="Metrics logs (JSON lines; open several to overlay runs)" test_id="metrics-file" multiple=true
                    current=names
                    on_files=move |f| { for (n, b) in &f { ctx.open_metrics(n, b) } }/>
                <button data-testid="metrics-clear" disabled=move || ctx.metrics.with(Vec::is_empty)
                    on:click=move |_| ctx.close_metrics()>"close all runs"</button>
            </div>
            {move || {
                let runs = ctx.metrics.get();
                if runs.is_empty() {
                    return view! { <p class="hint">"Open a training run's metrics log: one JSON object per line (step, epoch, loss, learning_rate, grad_norm, eval metrics...). Open more to compare runs."</p> }.into_any();
                }
                let logs: Vec<&MetricsLog> = runs.iter().map(|(_, m)| &**m).collect();
                let can_time = time_axis_available(&logs);
                let x = if can_time { x_axis.get() } else { XAxis::Step };
                let p = panels(&logs, x);
                let x_label = match x { XAxis::Step => logs[0].x_name, XAxis::WallTime => "wall time (min)" };
                let summary = runs.iter().map(|(n, m)| format!("{n}: {} records, {} series against {}", m.records, m.series.len(), m.x_name)).collect::<Vec<_>>().join("; ");
                let style = LineStyle { smoothing: smoothing.get(), log_y: log_y.get(), x_range: p.x_range };
                let mut group = None;
                view! {
                    <p data-testid="metrics-summary">{summary}</p>
                    <div class="filters">
                        <label>"smoothing "<input type="range" min="0" max="0.99" step="0.01" data-testid="metrics-smoothing"
                            prop:value=move || smoothing.get().to_string()
                            on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse() { smoothing.set(v) } }/>
                            " "{move || format!("{:.2}", smoothing.get())}</label>
                        <label><input type="checkbox" data-testid="metrics-log" prop:checked=move || log_y.get()
                            on:change=move |ev| log_y.set(event_target_checked(&ev))/>" log scale"</label>
                        <select data-testid="metrics-x" aria-label="x axis" disabled=!can_time
                            on:change=move |ev| x_axis.set(if event_target_value(&ev) == "time" { XAxis::WallTime } else { XAxis::Step })>
                            <option value="step" selected=x == XAxis::Step>"x: step"</option>
                            <option value="time" selected=x == XAxis::WallTime>"x: wall time"</option>
                        </select>
                    </div>
                    {(!p.constants.is_empty()).then(|| view! {
                        <p class="muted" data-testid="metrics-constants">
                            {format!("Constant: {}", p.constants.iter().map(|(n, v)| format!("{n} = {v}")).collect::<Vec<_>>().join(", "))}
                        </p>
                    })}
                    <div class="charts">
                        {p.panels.iter().map(|panel| {
                            let heading = (group != Some(panel.group)).then(|| view! { <h3 class="group">{panel.group.label()}</h3> });
                            group = Some(panel.group);
                            let names: Vec<&str> = panel.runs.iter().map(|(r, _)| runs[*r].0.as_str()).collect();
                            let series: Vec<Series> = panel.runs.iter().zip(&names).map(|((_, pts), name)| Series { name, points: pts }).collect();
                            view! {
                                {heading}
                                <Chart svg=line_chart(&panel.name, x_label, &series, style) alt=panel.name.clone() test_id="metric-chart"/>
                            }
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
        </section>
    }
}
