//! The Ask view's logic, in plain Rust (tested natively): the answer's place in the context,
//! the lines that explain the no-answer decision, the progress of a dataset's prediction. The
//! answers themselves come from the model worker (`squadkit-worker`), which runs core's
//! preprocessing and decoding around the model.

pub use squadkit_worker::protocol::{Answer, Candidate, ModelInfo, Settings};

/// The context cut around `offsets` (code points `[start, end)`): before, the span, after.
pub fn highlight(context: &str, (start, end): (u32, u32)) -> (String, String, String) {
    let chars: Vec<char> = context.chars().collect();
    let n = chars.len();
    let (s, e) = (
        (start as usize).min(n),
        (end as usize).min(n).max((start as usize).min(n)),
    );
    (
        chars[..s].iter().collect(),
        chars[s..e].iter().collect(),
        chars[e..].iter().collect(),
    )
}

/// What was answered, in words.
pub fn answer_line(a: &Answer) -> String {
    if a.no_answer() {
        match a.best_span() {
            Some(b) => format!("No answer (the best span was “{}”)", b.text),
            None => "No answer".into(),
        }
    } else {
        a.prediction.clone()
    }
}

/// How the null answer was weighed: the null score, the best span's, their difference and
/// the threshold, as utils_qa compares them.
pub fn decision_line(a: &Answer) -> String {
    let best = a
        .best_span()
        .map_or(f32::NAN, |b| b.start_logit + b.end_logit);
    format!(
        "null score {:.4} − best span score {:.4} = null odds {:.4} {} threshold {:.4}: {}",
        a.null_score,
        best,
        a.null_odds,
        if a.no_answer() { ">" } else { "≤" },
        a.threshold,
        if a.no_answer() {
            "no answer"
        } else {
            "answered"
        }
    )
}

/// "1,234 of 5,678 windows (21%)".
pub fn progress_line(done: usize, total: usize) -> String {
    let pct = (done * 100).checked_div(total).unwrap_or(100);
    format!(
        "{} of {} windows ({pct}%)",
        thousands(done),
        thousands(total)
    )
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The model, in one line.
pub fn model_line(m: &ModelInfo) -> String {
    format!(
        "{}: {} parameters, {} layers, hidden size {}, {} heads, windows up to {} tokens",
        m.name,
        thousands(m.parameters as usize),
        m.layers,
        m.hidden_size,
        m.heads,
        m.max_seq_len
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(prediction: &str, null_odds: f32) -> Answer {
        Answer {
            prediction: prediction.into(),
            nbest: vec![
                Candidate {
                    text: "Ann".into(),
                    start_logit: 2.0,
                    end_logit: 1.5,
                    probability: 0.7,
                    offsets: (4, 7),
                    null: false,
                },
                Candidate {
                    text: String::new(),
                    start_logit: 1.0,
                    end_logit: 0.5,
                    probability: 0.3,
                    offsets: (0, 0),
                    null: true,
                },
            ],
            null_score: 1.5,
            null_odds,
            threshold: 0.0,
            windows: vec![],
        }
    }

    #[test]
    fn the_span_is_cut_by_code_points() {
        assert_eq!(
            highlight("née Ann.", (4, 7)),
            ("née ".into(), "Ann".into(), ".".into())
        );
        assert_eq!(
            highlight("abc", (2, 9)),
            ("ab".into(), "c".into(), String::new())
        );
        assert_eq!(
            highlight("abc", (0, 0)),
            (String::new(), String::new(), "abc".into())
        );
    }

    #[test]
    fn the_decision_is_explained() {
        let yes = answer("Ann", -2.0);
        assert_eq!(answer_line(&yes), "Ann");
        assert!(
            decision_line(&yes).ends_with("≤ threshold 0.0000: answered"),
            "{}",
            decision_line(&yes)
        );
        let no = answer("", 2.0);
        assert_eq!(answer_line(&no), "No answer (the best span was “Ann”)");
        assert!(
            decision_line(&no).contains("best span score 3.5000")
                && decision_line(&no).ends_with("no answer")
        );
    }

    #[test]
    fn progress_reads_well() {
        assert_eq!(progress_line(1234, 5678), "1,234 of 5,678 windows (21%)");
        assert_eq!(progress_line(0, 0), "0 of 0 windows (100%)");
    }
}
