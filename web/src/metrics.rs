//! A training run's metrics log (JSON lines: `step`, `epoch`, `loss`, `learning_rate`,
//! `grad_norm`, eval metrics, ...) as one series per numeric field, plotted against `step`
//! (or the line number when a line has no step).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// (x, value), in file order.
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricsLog {
    pub records: usize,
    /// What x is: `step` or `line`.
    pub x_name: &'static str,
    /// Series in the order their fields first appear; loss first, then learning rate, then the rest.
    pub series: Vec<Series>,
}

/// Fields plotted first, in this order, when present.
const FIRST: [&str; 3] = ["loss", "learning_rate", "grad_norm"];

/// Parse a metrics log; a line that is not a JSON object is an error naming it.
pub fn parse(file: &str, text: &str) -> Result<MetricsLog, String> {
    let mut series: Vec<Series> = Vec::new();
    let mut records = 0;
    let mut all_have_step = true;
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
        all_have_step &= m.get("step").and_then(Value::as_f64).is_some();
        rows.push((n + 1, m));
        records += 1;
    }
    if records == 0 {
        return Err(format!(
            "{file} holds no metrics (expected one JSON object per line)"
        ));
    }
    let x_name = if all_have_step { "step" } else { "line" };
    for (line, m) in &rows {
        let x = if all_have_step {
            m["step"].as_f64().unwrap_or_default()
        } else {
            *line as f64
        };
        for (k, v) in m {
            let Some(y) = v.as_f64() else { continue };
            if k == "step" && all_have_step {
                continue;
            }
            match series.iter_mut().find(|s| s.name == *k) {
                Some(s) => s.points.push((x, y)),
                None => series.push(Series {
                    name: k.clone(),
                    points: vec![(x, y)],
                }),
            }
        }
    }
    if series.is_empty() {
        return Err(format!("{file} has no numeric field to plot"));
    }
    let rank = |n: &str| FIRST.iter().position(|f| *f == n).unwrap_or(FIRST.len());
    series.sort_by_key(|s| rank(&s.name));
    Ok(MetricsLog {
        records,
        x_name,
        series,
    })
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
                "loss",
                "learning_rate",
                "grad_norm",
                "epoch",
                "eval_exact",
                "eval_f1"
            ]
        );
        assert_eq!(m.series[0].points, [(10.0, 2.5), (20.0, 1.9)]);
        assert_eq!(m.series[4].points, [(20.0, 70.1)]);
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
