//! The messages between the app and its model worker. Each message is a JSON text (a
//! [`Request`] or a [`Response`]) followed by the byte payloads it names (model files, a
//! dataset), posted together as one JS array: `[json, bytes, bytes, …]`.

use serde::{Deserialize, Serialize};

/// run_qa's window options and utils_qa's answer options (their CLI names in `squadkit
/// predict`), and the batch size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub max_seq_length: usize,
    pub doc_stride: usize,
    pub max_query_length: usize,
    pub n_best_size: usize,
    pub max_answer_length: usize,
    pub null_score_diff_threshold: f32,
    pub per_device_eval_batch_size: usize,
}

impl Default for Settings {
    /// `squadkit predict`'s defaults.
    fn default() -> Self {
        Settings {
            max_seq_length: 384,
            doc_stride: 128,
            max_query_length: 64,
            n_best_size: 20,
            max_answer_length: 30,
            null_score_diff_threshold: 0.0,
            per_device_eval_batch_size: 8,
        }
    }
}

impl Settings {
    /// The defaults for a model whose positions allow windows of `max_seq_len` tokens: 384/128/64
    /// when they fit, else the window the model allows with a quarter of it as stride and as
    /// longest question (the demo model's 128/32/32).
    pub fn for_model(max_seq_len: usize) -> Settings {
        let d = Settings::default();
        if max_seq_len >= d.max_seq_length {
            return d;
        }
        Settings {
            max_seq_length: max_seq_len,
            doc_stride: max_seq_len / 4,
            max_query_length: max_seq_len / 4,
            ..d
        }
    }
}

/// What the app asks of the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    /// Load the demo model bundled in the worker.
    LoadDemo,
    /// Load a model from an HF directory's files, one payload each, named in `files`.
    Load { files: Vec<String> },
    /// Answer one question about a context.
    Ask {
        question: String,
        context: String,
        settings: Settings,
    },
    /// Predict every question of a dataset (the payload: SQuAD JSON or JSON lines).
    Predict { name: String, settings: Settings },
    /// Time the forward pass of one window of `seq` tokens (`runs` times, after one warm-up)
    /// of a model with random weights of this `config.json` (when None, the loaded model's sizes
    /// with positions for `seq` tokens).
    Bench {
        config: Option<String>,
        seq: usize,
        runs: usize,
    },
}

/// What the worker answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// The worker has started (its wasm is compiled and running).
    Ready,
    Loaded {
        model: ModelInfo,
    },
    Answer {
        answer: Answer,
    },
    /// Windows through the model so far, of all the dataset's windows.
    Progress {
        done: usize,
        total: usize,
    },
    Predicted(Predicted),
    Bench {
        seq: usize,
        parameters: u64,
        median_ms: f64,
        times_ms: Vec<f64>,
    },
    /// What went wrong, in one line naming the file; the worker keeps the model it had.
    Error {
        message: String,
    },
}

/// A dataset predicted in the worker: its answers as utils_qa writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicted {
    /// The dataset's file name.
    pub name: String,
    /// `predictions.json`'s text.
    pub predictions: String,
    /// `null_odds.json`'s text.
    pub null_odds: String,
    pub questions: usize,
    pub windows: usize,
    pub seconds: f64,
}

/// The loaded model, as the Ask view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Where it came from ("the demo model", or the files' names).
    pub name: String,
    pub parameters: u64,
    pub layers: usize,
    pub hidden_size: usize,
    pub heads: usize,
    pub vocab_size: usize,
    /// The longest window its positions allow.
    pub max_seq_len: usize,
    /// Checkpoint tensors the model did not use (a base model's LM head, say).
    pub unused: Vec<String>,
    /// The window and answer options this model starts with.
    pub settings: Settings,
}

/// One question's answer with everything that decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The prediction: "" when the null answer wins at the threshold.
    pub prediction: String,
    /// utils_qa's n-best list (the best first; the null answer among them).
    pub nbest: Vec<Candidate>,
    /// The null score: the smallest `start[CLS] + end[CLS]` over the windows.
    pub null_score: f32,
    /// `score_diff`: the null score minus the best span's score.
    pub null_odds: f32,
    /// The threshold it was compared with (`null_score_diff_threshold`).
    pub threshold: f32,
    /// The windows the context was cut into.
    pub windows: Vec<WindowInfo>,
}

impl Answer {
    /// The best non-null span (what is highlighted, answered or not).
    pub fn best_span(&self) -> Option<&Candidate> {
        self.nbest.iter().find(|c| !c.null && !c.text.is_empty())
    }

    /// Whether the question is answered "no answer" at the threshold.
    pub fn no_answer(&self) -> bool {
        self.prediction.is_empty()
    }
}

/// One n-best entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub text: String,
    pub start_logit: f32,
    pub end_logit: f32,
    pub probability: f64,
    /// Code-point offsets in the context, `[start, end)`.
    pub offsets: (u32, u32),
    /// The null answer (offsets (0, 0), empty text).
    pub null: bool,
}

/// A window of the context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowInfo {
    /// Tokens in the window: `<s> question </s></s> context part </s>`.
    pub tokens: usize,
    pub question_tokens: usize,
    pub context_tokens: usize,
    /// The context part it holds, in code points `[start, end)`.
    pub context_chars: (u32, u32),
}

/// Parse a message's JSON text (the worker's side of the app's requests and vice versa).
pub fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json)
        .map_err(|e| format!("a malformed message between the app and its model worker: {e}"))
}

/// A message's JSON text.
pub fn text<T: Serialize>(message: &T) -> String {
    serde_json::to_string(message).expect("messages serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_json() {
        let requests = [
            Request::LoadDemo,
            Request::Load {
                files: vec!["config.json".into(), "model.safetensors".into()],
            },
            Request::Ask {
                question: "Who?".into(),
                context: "Ann.".into(),
                settings: Settings::default(),
            },
            Request::Predict {
                name: "dev.json".into(),
                settings: Settings::for_model(128),
            },
            Request::Bench {
                config: None,
                seq: 384,
                runs: 5,
            },
        ];
        for r in requests {
            assert_eq!(parse::<Request>(&text(&r)).unwrap(), r);
        }
        let done = Response::Predicted(Predicted {
            name: "dev.json".into(),
            predictions: "{}".into(),
            null_odds: "{}".into(),
            questions: 0,
            windows: 0,
            seconds: 0.5,
        });
        assert_eq!(parse::<Response>(&text(&done)).unwrap(), done);
        let e = Response::Error {
            message: "model.safetensors: truncated".into(),
        };
        assert_eq!(
            text(&e),
            r#"{"kind":"error","message":"model.safetensors: truncated"}"#
        );
        assert!(parse::<Request>("{\"kind\": \"fly\"}")
            .unwrap_err()
            .contains("malformed message"));
    }

    #[test]
    fn settings_fit_the_model() {
        assert_eq!(Settings::for_model(512), Settings::default());
        let demo = Settings::for_model(128);
        assert_eq!(
            (demo.max_seq_length, demo.doc_stride, demo.max_query_length),
            (128, 32, 32)
        );
        assert_eq!(demo.n_best_size, 20);
    }
}
