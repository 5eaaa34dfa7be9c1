//! A training run's metrics log (JSON lines: `step`, `epoch`, `loss`, `learning_rate`,
//! `grad_norm`, eval metrics, ...) as one series per numeric field, plotted against `step`
//! (or the line number when a line has no step) or `wall_time`; several runs overlaid as
//! grouped panels (losses and evaluation first), constant metrics listed apart.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// (x, value), in file order.
    pub points: Vec<(f64, f64)>,
    /// The record's `wall_time` beside each point, when every record has one.
    pub times: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricsLog {
    pub records: usize,
    /// What x is: `step` or `line`.
    pub x_name: &'static str,
    /// Whether every record has a `wall_time` (seconds; squadkit's run log writes it).
    pub has_time: bool,
    /// Series in the order their fields first appear (line by line; by name within a line).
    pub series: Vec<Series>,
}

/// Fields that place a record rather than measure the run.
const PLACES: [&str; 2] = ["step", "wall_time"];

/// Parse a metrics log; a line that is not a JSON object is an error naming it.
pub fn parse(file: &str, text: &str) -> Result<MetricsLog, String> {
    let mut series: Vec<Series> = Vec::new();
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| format!("{file} line {}: not JSON: {e}", n + 1))?;
        let Value::Object(m) = v else {
            return Err(format!(
                "{file} line {}: not a JSON object of metrics",
                n + 1
            ));
        };
        rows.push((n + 1, m));
    }
    if rows.is_empty() {
        return Err(format!(
            "{file} holds no metrics (expected one JSON object per line)"
        ));
    }
    let all_have = |k: &str| {
        rows.iter()
            .all(|(_, m)| m.get(k).and_then(Value::as_f64).is_some())
    };
    let (all_have_step, has_time) = (all_have("step"), all_have("wall_time"));
    let x_name = if all_have_step { "step" } else { "line" };
    for (line, m) in &rows {
        let x = if all_have_step {
            m["step"].as_f64().unwrap_or_default()
        } else {
            *line as f64
        };
        let t = m
            .get("wall_time")
            .and_then(Value::as_f64)
            .unwrap_or_default();
        for (k, v) in m {
            let Some(y) = v.as_f64() else { continue };
            if PLACES.contains(&k.as_str()) && (k != "step" || all_have_step) {
                continue;
            }
            match series.iter_mut().find(|s| s.name == *k) {
                Some(s) => {
                    s.points.push((x, y));
                    s.times.push(t);
                }
                None => series.push(Series {
                    name: k.clone(),
                    points: vec![(x, y)],
                    times: vec![t],
                }),
            }
        }
    }
    if series.is_empty() {
        return Err(format!("{file} has no numeric field to plot"));
    }
    Ok(MetricsLog {
        records: rows.len(),
        x_name,
        has_time,
        series,
    })
}

/// What the training charts are plotted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XAxis {
    Step,
    /// Wall time, in minutes.
    WallTime,
}

/// How a metric is grouped, in the order the groups are shown: losses first, then the
/// evaluation, then the optimizer, then the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Loss,
    Eval,
    Optimizer,
    Other,
}

impl Group {
    pub fn of(name: &str) -> Group {
        if name.contains("loss") {
            Group::Loss
        } else if name.starts_with("eval_") || name.starts_with("test_") {
            Group::Eval
        } else if ["learning_rate", "grad_norm", "lr"].contains(&name) {
            Group::Optimizer
        } else {
            Group::Other
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Group::Loss => "Loss",
            Group::Eval => "Evaluation",
            Group::Optimizer => "Optimizer",
            Group::Other => "Other",
        }
    }
}

/// One chart: a metric, with each open run's points (run index, points).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub name: String,
    pub group: Group,
    pub runs: Vec<(usize, Vec<(f64, f64)>)>,
}

/// The charts for several runs overlaid: one panel per metric (grouped, in group order, then
/// in first-seen order), the metrics whose value never changes in any run listed apart as
/// (name, value), and the x range shared by every panel (so train and eval line up).
#[derive(Debug, Clone, PartialEq)]
pub struct Panels {
    pub panels: Vec<Panel>,
    pub constants: Vec<(String, f64)>,
    pub x_range: Option<(f64, f64)>,
}

/// Whether wall time can be the x axis: every open run has it.
pub fn time_axis_available(runs: &[&MetricsLog]) -> bool {
    !runs.is_empty() && runs.iter().all(|r| r.has_time)
}

pub fn panels(runs: &[&MetricsLog], x: XAxis) -> Panels {
    let mut panels: Vec<Panel> = Vec::new();
    for (r, log) in runs.iter().enumerate() {
        for s in &log.series {
            let mut pts: Vec<(f64, f64)> = match x {
                XAxis::Step => s.points.clone(),
                XAxis::WallTime => s
                    .times
                    .iter()
                    .zip(&s.points)
                    .map(|(t, p)| (t / 60.0, p.1))
                    .collect(),
            };
            // In x order: a log interleaves train and eval records out of step order.
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            match panels.iter_mut().find(|p| p.name == s.name) {
                Some(p) => p.runs.push((r, pts)),
                None => panels.push(Panel {
                    name: s.name.clone(),
                    group: Group::of(&s.name),
                    runs: vec![(r, pts)],
                }),
            }
        }
    }
    let mut constants = Vec::new();
    panels.retain(|p| {
        let mut ys = p.runs.iter().flat_map(|(_, pts)| pts.iter().map(|q| q.1));
        let first = ys.next();
        let constant = p.runs.iter().map(|(_, pts)| pts.len()).sum::<usize>() > 1
            && ys.all(|y| Some(y) == first);
        if constant {
            constants.push((p.name.clone(), first.unwrap_or_default()));
        }
        !constant
    });
    panels.sort_by_key(|p| p.group);
    let xs = panels
        .iter()
        .flat_map(|p| p.runs.iter().flat_map(|(_, pts)| pts.iter().map(|q| q.0)))
        .filter(|x| x.is_finite());
    let x_range = xs.fold(None, |acc: Option<(f64, f64)>, x| {
        Some(acc.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))))
    });
    Panels {
        panels,
        constants,
        x_range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_numeric_field_becomes_a_series() {
        let log = r#"{"step": 10, "epoch": 0.1, "learning_rate": 3e-5, "loss": 2.5, "grad_norm": 7.0}
{"step": 20, "epoch": 0.2, "learning_rate": 2.9e-5, "loss": 1.9, "grad_norm": 5.5, "note": "x"}

{"step": 20, "epoch": 0.2, "eval_exact": 70.1, "eval_f1": 73.4}
"#;
        let m = parse("run.jsonl", log).unwrap();
        assert_eq!(m.records, 3);
        assert_eq!(m.x_name, "step");
        let names: Vec<_> = m.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "epoch",
                "grad_norm",
                "learning_rate",
                "loss",
                "eval_exact",
                "eval_f1"
            ],
            "by line, by name in a line"
        );
        assert!(!m.has_time);
        assert_eq!(m.series[3].points, [(10.0, 2.5), (20.0, 1.9)]);
        assert_eq!(m.series[4].points, [(20.0, 70.1)]);
    }

    #[test]
    fn runs_overlay_in_grouped_panels_with_constants_apart() {
        let a = parse(
            "a",
            r#"{"event": "train", "step": 1, "epoch": 0.5, "wall_time": 60, "loss": 3, "learning_rate": 1e-5, "seed": 42}
{"event": "train", "step": 2, "epoch": 1.0, "wall_time": 120, "loss": 2, "learning_rate": 2e-5, "seed": 42}
{"event": "eval", "step": 2, "epoch": 1.0, "wall_time": 150, "eval_f1": 50.5}"#,
        )
        .unwrap();
        assert!(a.has_time);
        assert!(a
            .series
            .iter()
            .all(|s| s.name != "wall_time" && s.name != "step"));
        let b = parse("b", "{\"step\": 4, \"loss\": 1, \"seed\": 42}\n{\"step\": 8, \"loss\": 0.5, \"seed\": 42}\n").unwrap();
        let p = panels(&[&a, &b], XAxis::Step);
        let names: Vec<&str> = p.panels.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["loss", "eval_f1", "learning_rate", "epoch"]);
        assert_eq!(
            p.panels[0].runs,
            vec![
                (0, vec![(1.0, 3.0), (2.0, 2.0)]),
                (1, vec![(4.0, 1.0), (8.0, 0.5)])
            ]
        );
        assert_eq!(p.constants, vec![("seed".to_string(), 42.0)]);
        assert_eq!(p.x_range, Some((1.0, 8.0)), "one x range for every panel");
        assert!(!time_axis_available(&[&a, &b]), "b has no wall_time");
        let t = panels(&[&a], XAxis::WallTime);
        assert_eq!(
            t.panels[0].runs[0].1,
            vec![(1.0, 3.0), (2.0, 2.0)],
            "minutes"
        );
        assert_eq!(t.x_range, Some((1.0, 2.5)));
        // An eval record logged after later train records still lands in x order.
        let c = parse(
            "c",
            "{\"step\": 9, \"epoch\": 3}\n{\"step\": 5, \"epoch\": 2}\n",
        )
        .unwrap();
        assert_eq!(
            panels(&[&c], XAxis::Step).panels[0].runs[0].1,
            vec![(5.0, 2.0), (9.0, 3.0)]
        );
    }

    #[test]
    fn without_steps_x_is_the_line() {
        let m = parse("r", "{\"loss\": 1}\n{\"loss\": 0.5, \"step\": 3}\n").unwrap();
        assert_eq!(m.x_name, "line");
        assert_eq!(m.series[0].points, [(1.0, 1.0), (2.0, 0.5)]);
    }

    #[test]
    fn bad_logs_are_explained() {
        assert_eq!(
            parse("r", "{\"loss\": 1}\nnope\n")
                .unwrap_err()
                .split(':')
                .next(),
            Some("r line 2")
        );
        assert!(parse("r", "[1, 2]\n")
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(parse("r", "\n\n").unwrap_err().contains("holds no metrics"));
        assert!(parse("r", "{\"a\": \"b\"}")
            .unwrap_err()
            .contains("no numeric field"));
    }
}
