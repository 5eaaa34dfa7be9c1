//! The Training run view: a metrics log (JSON lines) → one curve per numeric field (loss,
//! learning rate, grad norm, eval scores, ...).

use super::widgets::Chart;
use super::{Ctx, FileInput};
use crate::charts::line_chart;
use leptos::prelude::*;

#[component]
pub fn TrainingView() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <section class="view">
            <FileInput label="Metrics log (JSON lines)" test_id="metrics-file" multiple=false
                on_files=move |f| { if let Some((n, b)) = f.first() { ctx.open_metrics(n, b) } }/>
            {move || match ctx.metrics.get() {
                None => view! { <p class="hint">"Open a training run's metrics log: one JSON object per line (step, epoch, loss, learning_rate, grad_norm, eval metrics...)."</p> }.into_any(),
                Some((name, m)) => view! {
                    <p data-testid="metrics-summary">{format!("{name}: {} records, {} series against {}", m.records, m.series.len(), m.x_name)}</p>
                    <div class="charts">
                        {m.series.iter().map(|s| view! {
                            <Chart svg=line_chart(&s.name, m.x_name, &s.points) alt=s.name.clone() test_id="metric-chart"/>
                        }).collect_view()}
                    </div>
                }.into_any(),
            }}
        </section>
    }
}
