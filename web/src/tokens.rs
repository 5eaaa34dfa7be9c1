//! The windows core's preprocessing makes for one question, as a view shows them: every token
//! with its text, id, offsets and sequence (question, context, special), the context tokens
//! shared with a neighbouring window (the stride overlap), the label positions, and whether
//! the answer was lost to truncation.

use squadkit_core::preprocess::{preprocess, PreprocessConfig, PreprocessReport};
use squadkit_core::text::{char_slice, py_lstrip};
use squadkit_core::tokenize::QaTokenizer;
use squadkit_core::{Dataset, Example};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Special,
    Question,
    Context,
}

impl TokenKind {
    pub fn class(self) -> &'static str {
        match self {
            TokenKind::Special => "tok special",
            TokenKind::Question => "tok question",
            TokenKind::Context => "tok context",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenView {
    /// Position in the window.
    pub position: usize,
    pub id: u32,
    /// The vocabulary entry (`Ġthe`, `<s>`).
    pub piece: String,
    /// The text the token covers (its offsets in the question or context); the piece for
    /// special tokens.
    pub text: String,
    pub offsets: (u32, u32),
    pub kind: TokenKind,
    /// A context token that the previous or next window holds too.
    pub overlap: bool,
    pub start_label: bool,
    pub end_label: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowView {
    pub tokens: Vec<TokenView>,
    /// Context characters the window covers.
    pub context_chars: (u32, u32),
    pub start_position: usize,
    pub end_position: usize,
    /// `<pad>` tokens after the sequence.
    pub padding: usize,
}

impl WindowView {
    /// Whether the labels point at an answer (not at `<s>`, the CLS index).
    pub fn has_answer_label(&self) -> bool {
        !(self.start_position == 0 && self.end_position == 0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenizationView {
    pub windows: Vec<WindowView>,
    pub report: PreprocessReport,
}

impl TokenizationView {
    /// An answerable question whose answer is fully inside none of its windows.
    pub fn answer_lost(&self) -> bool {
        self.report.answers_lost > 0
    }
}

/// The windows of `example` under `config`, from core's preprocessing.
pub fn windows(
    tok: &QaTokenizer,
    example: &Example,
    config: &PreprocessConfig,
) -> Result<TokenizationView, String> {
    let one = Dataset::from_examples(vec![example.clone()]);
    let features = preprocess(tok, &one, config).map_err(|e| e.to_string())?;
    let question = py_lstrip(&example.question);
    let spans: Vec<(u32, u32)> = features
        .windows
        .iter()
        .map(|w| {
            let r = w.context_range();
            if r.is_empty() {
                (0, 0)
            } else {
                (w.offsets[r.start].0, w.offsets[r.end - 1].1)
            }
        })
        .collect();
    let windows = features
        .windows
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let prev_end = k.checked_sub(1).map(|p| spans[p].1);
            let next_start = spans.get(k + 1).map(|s| s.0);
            let tokens = (0..w.n_tokens())
                .map(|i| {
                    let id = w.input_ids[i];
                    let piece = tok
                        .inner()
                        .id_to_token(id)
                        .unwrap_or_else(|| format!("[{id}]"));
                    let (s, e) = w.offsets[i];
                    let (kind, text) = match w.sequence_id(i) {
                        Some(1) => (
                            TokenKind::Context,
                            char_slice(&example.context, s as usize, e as usize).to_string(),
                        ),
                        Some(_) => (
                            TokenKind::Question,
                            char_slice(question, s as usize, e as usize).to_string(),
                        ),
                        None => (TokenKind::Special, piece.clone()),
                    };
                    let overlap = kind == TokenKind::Context
                        && (prev_end.is_some_and(|p| s < p) || next_start.is_some_and(|n| s >= n));
                    TokenView {
                        position: i,
                        id,
                        piece,
                        text,
                        offsets: (s, e),
                        kind,
                        overlap,
                        start_label: i == w.start_position as usize,
                        end_label: i == w.end_position as usize,
                    }
                })
                .collect();
            WindowView {
                tokens,
                context_chars: spans[k],
                start_position: w.start_position as usize,
                end_position: w.end_position as usize,
                padding: w.len() - w.n_tokens(),
            }
        })
        .collect();
    Ok(TokenizationView {
        windows,
        report: features.report,
    })
}

/// run_qa's configuration with the user's max length, stride and max query length, checked
/// by core.
pub fn config(
    max_seq_length: usize,
    doc_stride: usize,
    max_query_length: usize,
) -> Result<PreprocessConfig, String> {
    let c = PreprocessConfig {
        max_seq_length,
        doc_stride,
        max_query_length,
        ..Default::default()
    };
    c.check().map_err(|e| e.to_string())?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_checked_by_core() {
        assert!(config(384, 128, 64).is_ok());
        let e = config(64, 128, 64).unwrap_err();
        assert!(e.contains("doc stride"), "{e}");
    }

    /// The real tokenizer, when `../shared/data` has it.
    fn roberta() -> Option<QaTokenizer> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/roberta-base/tokenizer.json"
        );
        match std::fs::read(path) {
            Ok(b) => Some(QaTokenizer::from_tokenizer_json(&b).unwrap()),
            Err(_) => {
                eprintln!("SKIPPED: {path} is absent (the roberta-base tokenizer)");
                None
            }
        }
    }

    #[test]
    fn windows_overlap_and_label_the_answer() {
        let Some(tok) = roberta() else { return };
        let d = crate::load::dataset("dev.json", include_bytes!("../../examples/tiny/dev.json"))
            .unwrap();
        let e = d.examples.iter().find(|e| e.has_answer()).unwrap();
        // Small windows so that the context is split.
        let v = windows(&tok, e, &config(40, 8, 16).unwrap()).unwrap();
        assert!(v.windows.len() > 1);
        let w0 = &v.windows[0];
        assert_eq!(w0.tokens[0].piece, "<s>");
        assert_eq!(w0.tokens[0].kind, TokenKind::Special);
        let q: String = w0
            .tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Question)
            .map(|t| t.piece.replace('Ġ', " "))
            .collect();
        assert_eq!(q, e.question.trim_start());
        // Consecutive windows share their overlap tokens, marked on both sides.
        for k in 1..v.windows.len() {
            let shared_prev: Vec<_> = v.windows[k - 1]
                .tokens
                .iter()
                .filter(|t| t.overlap && t.offsets.0 >= v.windows[k].context_chars.0)
                .map(|t| t.offsets)
                .collect();
            let shared_next: Vec<_> = v.windows[k]
                .tokens
                .iter()
                .filter(|t| t.overlap && t.offsets.0 < v.windows[k - 1].context_chars.1)
                .map(|t| t.offsets)
                .collect();
            assert_eq!(shared_prev, shared_next);
            assert_eq!(shared_prev.len(), 8, "the stride");
        }
        // Some window labels the answer: its tokens cover the answer text.
        let (text, start) = e.answers.iter().next().unwrap();
        let w = v
            .windows
            .iter()
            .find(|w| w.has_answer_label())
            .expect("the answer is in a window");
        let (s, e_) = (
            w.tokens[w.start_position].offsets.0,
            w.tokens[w.end_position].offsets.1,
        );
        assert_eq!(
            (s as i64, char_slice(&e.context, s as usize, e_ as usize)),
            (start, text)
        );
        assert!(!v.answer_lost());
        assert_eq!(w.padding, 40 - w.tokens.len());
    }
}
