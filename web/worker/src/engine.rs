//! The model worker's work, free of the browser (tested natively): an [`Engine`] holds a
//! RoBERTa-QA model on burn's CPU backend and its tokenizer, loaded from an HF model
//! directory's files or the demo model bundled here; it answers one question ([`Engine::ask`])
//! or every question of a dataset ([`Engine::predict`]) with core's preprocessing and decoding
//! and the model crate's batches — the functions `squadkit predict` calls, in the same order.

use crate::protocol::{Answer, Candidate, ModelInfo, Settings, WindowInfo};
use squadkit_core::decode::{decode, DecodeOptions, Decoded, Strategy};
use squadkit_core::preprocess::{preprocess, Features, PreprocessConfig};
use squadkit_core::squad::{Answers, Dataset, Example};
use squadkit_core::tokenize::QaTokenizer;
use squadkit_model::batch::{predict_window_logits, synthetic, Padding, WindowLogits};
use squadkit_model::roberta::{Kernels, QaInput, RobertaConfig, RobertaForQuestionAnswering};
use squadkit_model::weights::model_from_bytes;

/// burn's pure-Rust CPU backend (one thread in a web worker).
pub type Backend = burn::backend::Flex;

/// The demo model `squadkit demo` trains (examples/demo-model/, made by
/// tools/gen_demo_model.sh): the Ask view's default.
pub const DEMO_FILES: [(&str, &[u8]); 3] = [
    (
        "config.json",
        include_bytes!("../../../examples/demo-model/config.json"),
    ),
    (
        "model.safetensors",
        include_bytes!("../../../examples/demo-model/model.safetensors"),
    ),
    (
        "tokenizer.json",
        include_bytes!("../../../examples/demo-model/tokenizer.json"),
    ),
];

/// A loaded model and its tokenizer.
pub struct Engine {
    pub info: ModelInfo,
    config: RobertaConfig,
    model: RobertaForQuestionAnswering<Backend>,
    tokenizer: QaTokenizer,
}

/// The files a model is opened from, found by name among those given.
fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    files
        .iter()
        .find(|(n, _)| n.rsplit('/').next() == Some(name))
        .map(|(_, b)| b.as_slice())
}

const WHAT_TO_OPEN: &str =
    "open config.json, model.safetensors and tokenizer.json (or vocab.json + merges.txt) of one HF model directory";

impl Engine {
    /// The bundled demo model.
    pub fn demo() -> Engine {
        let files: Vec<(String, Vec<u8>)> = DEMO_FILES
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect();
        let mut e = Engine::from_files(&files).expect("the bundled demo model loads");
        e.info.name = "the demo model (squadkit demo)".into();
        e
    }

    /// A model from an HF directory's files; the error is one line naming the file.
    pub fn from_files(files: &[(String, Vec<u8>)]) -> Result<Engine, String> {
        let need = |name: &str| {
            file(files, name)
                .ok_or_else(|| format!("{name} is missing from the model files: {WHAT_TO_OPEN}"))
        };
        let config_json = need("config.json")?;
        let weights = match file(files, "model.safetensors") {
            Some(w) => w,
            None if file(files, "pytorch_model.bin").is_some() => {
                return Err(format!(
                    "pytorch_model.bin: the browser reads model.safetensors only (save the model with `squadkit train`, or safetensors in transformers); {WHAT_TO_OPEN}"
                ))
            }
            None => need("model.safetensors")?,
        };
        let tokenizer = match (
            file(files, "tokenizer.json"),
            file(files, "vocab.json"),
            file(files, "merges.txt"),
        ) {
            (Some(t), _, _) => {
                QaTokenizer::from_tokenizer_json(t).map_err(|e| format!("tokenizer.json: {e}"))?
            }
            (None, Some(v), Some(m)) => QaTokenizer::from_vocab_merges(v, m)
                .map_err(|e| format!("vocab.json + merges.txt: {e}"))?,
            _ => {
                return Err(format!(
                    "tokenizer.json is missing from the model files: {WHAT_TO_OPEN}"
                ))
            }
        };
        let device = Default::default();
        let (config, model, report) = model_from_bytes::<Backend>(config_json, weights, &device)
            .map_err(|e| e.to_string())?;
        if report.fresh_qa_head() {
            return Err(format!(
                "model.safetensors has no QA head ({} missing): a base model cannot answer questions; fine-tune it with `squadkit train` first",
                report.missing.join(", ")
            ));
        }
        config
            .check_fit(&tokenizer, None)
            .map_err(|e| format!("tokenizer: {e}"))?;
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        let info = ModelInfo {
            name: names.join(" + "),
            parameters: config.parameter_count() as u64,
            layers: config.num_hidden_layers,
            hidden_size: config.hidden_size,
            heads: config.num_attention_heads,
            vocab_size: config.vocab_size,
            max_seq_len: config.max_seq_len(),
            unused: report.unused,
            settings: Settings::for_model(config.max_seq_len()),
        };
        Ok(Engine {
            info,
            config,
            model: model.with_kernels(Kernels::CPU),
            tokenizer,
        })
    }

    fn options(&self, s: &Settings) -> Result<(PreprocessConfig, DecodeOptions), String> {
        if s.max_seq_length > self.config.max_seq_len() {
            return Err(format!(
                "max seq length {} is longer than the model's positions allow ({})",
                s.max_seq_length,
                self.config.max_seq_len()
            ));
        }
        if s.n_best_size == 0 || s.per_device_eval_batch_size == 0 {
            return Err("n-best size and batch size must be at least 1".into());
        }
        // `squadkit predict`'s: windows not padded to the maximum (each batch to its longest).
        let windows = PreprocessConfig {
            max_seq_length: s.max_seq_length,
            doc_stride: s.doc_stride,
            max_query_length: s.max_query_length,
            pad_to_max_length: false,
            ..Default::default()
        };
        windows.check().map_err(|e| e.to_string())?;
        let answers = DecodeOptions {
            n_best: s.n_best_size,
            max_answer_length: s.max_answer_length,
            null_threshold: s.null_score_diff_threshold,
            strategy: Strategy::NBest,
        };
        Ok((windows, answers))
    }

    /// The logits of `features`' windows `[from, to)` (rows `width` wide), `batch` at a time.
    fn logits(
        &self,
        features: &Features,
        range: std::ops::Range<usize>,
        width: usize,
        batch: usize,
    ) -> WindowLogits {
        let device = Default::default();
        let pad = self.tokenizer.pad_id();
        predict_window_logits(
            &self.model,
            &features.windows[range],
            width,
            batch,
            pad,
            &Padding::default(),
            &device,
        )
    }

    /// Decoded answers of every question of `dataset`; `progress(done, total)` after each
    /// batch of windows.
    pub fn predict(
        &self,
        dataset: &Dataset,
        s: &Settings,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Decoded, String> {
        let (windows, answers) = self.options(s)?;
        let features = preprocess(&self.tokenizer, dataset, &windows).map_err(|e| e.to_string())?;
        let total = features.windows.len();
        let width = features.windows.iter().map(|w| w.len()).max().unwrap_or(1);
        let batch = s.per_device_eval_batch_size;
        let mut all = WindowLogits {
            start: Vec::with_capacity(total * width),
            end: Vec::with_capacity(total * width),
            width,
        };
        progress(0, total);
        let mut done = 0;
        while done < total {
            let to = (done + batch).min(total);
            let part = self.logits(&features, done..to, width, batch);
            all.start.extend_from_slice(&part.start);
            all.end.extend_from_slice(&part.end);
            done = to;
            progress(done, total);
        }
        decode(dataset, &features, all.as_logits(), &answers).map_err(|e| e.to_string())
    }

    /// One question about one context.
    pub fn ask(&self, question: &str, context: &str, s: &Settings) -> Result<Answer, String> {
        if question.trim().is_empty() {
            return Err("type a question".into());
        }
        if context.trim().is_empty() {
            return Err("type or paste a context, or pick one from the dataset".into());
        }
        let example = Example {
            id: "ask".into(),
            title: String::new(),
            context: context.into(),
            question: question.to_string(),
            answers: Answers::default(),
            plausible_answers: Answers::default(),
            article: 0,
            paragraph: 0,
        };
        let dataset = Dataset::from_examples(vec![example]);
        let (windows, options) = self.options(s)?;
        let features =
            preprocess(&self.tokenizer, &dataset, &windows).map_err(|e| e.to_string())?;
        let width = features.windows.iter().map(|w| w.len()).max().unwrap_or(1);
        let logits = self.logits(
            &features,
            0..features.windows.len(),
            width,
            s.per_device_eval_batch_size,
        );
        let decoded =
            decode(&dataset, &features, logits.as_logits(), &options).map_err(|e| e.to_string())?;
        let ex = decoded
            .examples
            .into_iter()
            .next()
            .expect("one question, one prediction");
        let nbest: Vec<Candidate> = ex
            .nbest
            .iter()
            .filter(|e| !e.fallback)
            .map(|e| Candidate {
                text: e.text.clone(),
                start_logit: e.start_logit,
                end_logit: e.end_logit,
                probability: e.probability,
                offsets: e.offsets,
                null: e.offsets == (0, 0),
            })
            .collect();
        let null_score = nbest
            .iter()
            .find(|c| c.null)
            .map_or(f32::NAN, |c| c.start_logit + c.end_logit);
        let windows = features
            .windows
            .iter()
            .map(|w| {
                let context = w.context_range();
                let chars = match (context.clone().next(), context.clone().last()) {
                    (Some(a), Some(b)) => (w.offsets[a].0, w.offsets[b].1),
                    _ => (0, 0),
                };
                WindowInfo {
                    tokens: w.n_tokens(),
                    question_tokens: (w.context_start as usize).saturating_sub(3),
                    context_tokens: w.context_len as usize,
                    context_chars: chars,
                }
            })
            .collect();
        Ok(Answer {
            prediction: ex.prediction,
            nbest,
            null_score,
            null_odds: ex.null_odds,
            threshold: s.null_score_diff_threshold,
            windows,
        })
    }

    /// Times of the forward pass of one synthetic window of `seq` tokens ([`synthetic`], as
    /// `native/examples/model_bench.rs` builds it) through a model with random weights of
    /// `config` (when None, this model's sizes with positions for `seq` tokens): `runs` runs
    /// after one warm-up, each timed by `now` (milliseconds). Returns the parameter count and
    /// the times.
    pub fn bench(
        &self,
        config: Option<&str>,
        seq: usize,
        runs: usize,
        now: &dyn Fn() -> f64,
    ) -> Result<(u64, Vec<f64>), String> {
        let config = match config {
            Some(c) => {
                RobertaConfig::from_json(c.as_bytes()).map_err(|e| format!("config.json: {e}"))?
            }
            None => {
                let mut c = self.config.clone();
                c.max_position_embeddings = c.max_position_embeddings.max(seq + c.pad_token_id + 1);
                c
            }
        };
        if seq > config.max_seq_len() {
            return Err(format!(
                "a {seq}-token window is longer than the model's positions allow ({})",
                config.max_seq_len()
            ));
        }
        let device = Default::default();
        let model = config.init::<Backend>(&device).with_kernels(Kernels::CPU);
        let (ids, mask, _, _) = synthetic(1, seq, config.vocab_size);
        let mut times = Vec::with_capacity(runs);
        for i in 0..=runs {
            let t = now();
            let input = QaInput::<Backend> {
                input_ids: burn::tensor::Tensor::from_data(
                    burn::tensor::TensorData::new(ids.clone(), [1, seq]),
                    &device,
                ),
                attention_mask: burn::tensor::Tensor::from_data(
                    burn::tensor::TensorData::new(mask.clone(), [1, seq]),
                    &device,
                ),
            };
            let out = model.forward(input);
            let _ = out.start_logits.into_data();
            if i > 0 {
                times.push(now() - t);
            }
        }
        Ok((config.parameter_count() as u64, times))
    }
}

/// A dataset sent to the worker: SQuAD JSON or JSON lines, parsed by core.
pub fn parse_dataset(name: &str, bytes: &[u8]) -> Result<Dataset, String> {
    let parsed = if squadkit_core::squad::is_json_lines(bytes) {
        Dataset::from_json_lines(bytes).map_err(|e| e.to_string())
    } else {
        Dataset::from_squad_json(bytes).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| format!("{name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_files() -> Vec<(String, Vec<u8>)> {
        DEMO_FILES
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect()
    }

    #[test]
    fn the_demo_model_answers_a_demo_question() {
        let e = Engine::demo();
        assert_eq!(e.info.settings, Settings::for_model(128));
        let dev = parse_dataset(
            "dev.json",
            include_bytes!("../../../examples/demo/dev.json"),
        )
        .unwrap();
        let ex = dev.examples.iter().find(|x| x.has_answer()).unwrap();
        let a = e.ask(&ex.question, &ex.context, &e.info.settings).unwrap();
        assert!(
            !a.nbest.is_empty() && a.nbest.iter().any(|c| c.null),
            "the null answer is among the n-best"
        );
        let best = a.best_span().unwrap();
        let chars: String = ex
            .context
            .chars()
            .skip(best.offsets.0 as usize)
            .take((best.offsets.1 - best.offsets.0) as usize)
            .collect();
        assert_eq!(
            chars, best.text,
            "the offsets point at the text in the context"
        );
        assert_eq!(a.no_answer(), a.null_odds > a.threshold);
        assert!((a.null_score - (best.start_logit + best.end_logit) - a.null_odds).abs() < 1e-4);
        assert!(!a.windows.is_empty() && a.windows.iter().all(|w| w.tokens <= 128));
    }

    #[test]
    fn bad_model_files_are_named() {
        let mut files = demo_files();
        files.retain(|(n, _)| n != "tokenizer.json");
        assert!(Engine::from_files(&files)
            .err()
            .unwrap()
            .starts_with("tokenizer.json is missing"));
        let mut files = demo_files();
        let w = &mut files[1].1;
        w.truncate(w.len() / 2);
        let err = Engine::from_files(&files).err().unwrap();
        assert!(
            err.starts_with("model.safetensors: not a valid safetensors file"),
            "{err}"
        );
        let mut files = demo_files();
        let c = String::from_utf8(files[0].1.clone())
            .unwrap()
            .replace("\"intermediate_size\": 384", "\"intermediate_size\": 200");
        files[0].1 = c.into_bytes();
        let err = Engine::from_files(&files).err().unwrap();
        assert!(
            err.starts_with("model.safetensors: ") && err.contains("intermediate_size"),
            "{err}"
        );
        let files: Vec<_> = demo_files()
            .into_iter()
            .filter(|(n, _)| n != "model.safetensors")
            .collect();
        assert!(Engine::from_files(&files)
            .err()
            .unwrap()
            .starts_with("model.safetensors is missing"));
    }

    #[test]
    fn settings_the_model_cannot_take_are_refused() {
        let e = Engine::demo();
        let long = Settings {
            max_seq_length: 384,
            ..e.info.settings
        };
        assert!(e
            .ask("Who?", "Ann.", &long)
            .unwrap_err()
            .contains("positions allow (128)"));
        assert_eq!(
            e.ask(" ", "Ann.", &e.info.settings).unwrap_err(),
            "type a question"
        );
    }
}
