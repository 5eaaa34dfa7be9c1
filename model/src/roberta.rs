//! `RobertaForQuestionAnswering` in burn, as transformers defines it: the whole architecture
//! in this one file, every parameter named as in the HF checkpoint (`roberta.embeddings.
//! word_embeddings.weight`, `roberta.encoder.layer.3.attention.self.query.bias`, ...,
//! `qa_outputs.weight`) so weight files map one to one (see [`RobertaForQuestionAnswering::
//! visit_params`]).
//!
//! Generic over the burn backend. Under autodiff the attention is the plain
//! matmul + softmax + dropout (burn's fused attention has no backward); for inference it is
//! burn's fused `attention`. Dropout is active only on autodiff backends (training), as with
//! burn's `Dropout`; set the config's dropout probabilities to 0 to turn it off.
//!
//! How a few operations are computed depends on the device, and is chosen once, when the
//! model is built for a backend ([`Kernels`], [`RobertaForQuestionAnswering::with_kernels`]):
//! on the CPU the key mask rides inside the attention matmul, dropout masks are drawn on every
//! core and the fused attention is split by heads over the thread pool; on a GPU the model
//! uses the shapes GPU kernels are made for (a plain additive key mask, burn's own dropout,
//! fused attention with its default scale, which takes the flash-attention kernels).
//!
//! Mixed precision: parameters are always stored in float32 (the master weights); with
//! [`RobertaForQuestionAnswering::with_compute_dtype`] (bf16 on CUDA) every matmul runs in that
//! dtype on casts of the weights and activations; everything else (residuals, LayerNorm, GELU,
//! softmax, the loss) stays in float32, and so do the gradients of the weights.

use burn::module::{Module, Param};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::tensor::activation::{gelu, log_softmax, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Distribution, FloatDType, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// The architecture name written into a saved model's `config.json`.
pub const QA_ARCHITECTURE: &str = "RobertaForQuestionAnswering";

/// The fields of an HF RoBERTa `config.json` that define the model. Unknown fields are kept
/// in `extra` so a saved model's config says everything the loaded one said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobertaConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_init_range")]
    pub initializer_range: f64,
    #[serde(default = "default_ln_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_pad")]
    pub pad_token_id: usize,
    #[serde(default)]
    pub architectures: Option<Vec<String>>,
    #[serde(default = "default_model_type")]
    pub model_type: String,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_type_vocab() -> usize {
    2
}
fn default_init_range() -> f64 {
    0.02
}
fn default_ln_eps() -> f64 {
    1e-12
}
fn default_pad() -> usize {
    1
}
fn default_model_type() -> String {
    "roberta".into()
}

/// What is wrong with a `config.json` (the caller names the file).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("not a valid RoBERTa config: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{field} is {value}; only {supported} is supported")]
    Unsupported { field: &'static str, value: String, supported: &'static str },
    #[error("hidden_size {hidden} is not a multiple of num_attention_heads {heads}")]
    Heads { hidden: usize, heads: usize },
    #[error("pad_token_id {0} is outside the vocabulary or the positions")]
    PadToken(usize),
    #[error("type_vocab_size is 0")]
    TypeVocab,
    #[error("layer_norm_eps {0} is not a positive number")]
    LayerNormEps(f64),
    #[error("a dropout probability is not in [0, 1)")]
    Dropout,
    #[error("its sizes ({sizes}) make {params} parameters, more than squadkit accepts ({max}; roberta-large has 355 million)", max = RobertaConfig::MAX_PARAMETERS)]
    TooLarge { params: u128, sizes: String },
}

/// Why a tokenizer, or a window length, does not fit a model.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FitError {
    #[error("the tokenizer has {tokens} tokens but the model has vocab_size {vocab}: they do not belong together")]
    Vocab { tokens: usize, vocab: usize },
    #[error("the tokenizer's <pad> is id {tokenizer} but the model's pad_token_id is {model}")]
    Pad { tokenizer: u32, model: usize },
    #[error("max seq length {len} is longer than the model's positions allow ({max})")]
    Length { len: usize, max: usize },
}

impl RobertaConfig {
    /// Parse and check a `config.json`; the error says what is wrong (the caller names the file).
    pub fn from_json(bytes: &[u8]) -> Result<RobertaConfig, ConfigError> {
        let c: RobertaConfig = serde_json::from_slice(bytes)?;
        c.check()?;
        Ok(c)
    }

    /// The config as `config.json` text for a saved QA model.
    pub fn to_qa_json(&self) -> String {
        let mut c = self.clone();
        c.architectures = Some(vec![QA_ARCHITECTURE.to_string()]);
        serde_json::to_string_pretty(&c).expect("a config serializes") + "\n"
    }

    fn check(&self) -> Result<(), ConfigError> {
        let unsupported = |field, value: String, supported| Err(ConfigError::Unsupported { field, value, supported });
        if self.model_type != "roberta" {
            return unsupported("model_type", format!("{:?}", self.model_type), "\"roberta\"");
        }
        if self.hidden_act != "gelu" {
            return unsupported("hidden_act", format!("{:?}", self.hidden_act), "\"gelu\" (exact erf form)");
        }
        if let Some(p) = self.extra.get("position_embedding_type") {
            if p != "absolute" {
                return unsupported("position_embedding_type", p.to_string(), "\"absolute\"");
            }
        }
        if self.hidden_size == 0 || self.num_attention_heads == 0 || !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(ConfigError::Heads { hidden: self.hidden_size, heads: self.num_attention_heads });
        }
        if self.pad_token_id >= self.vocab_size || self.pad_token_id >= self.max_position_embeddings {
            return Err(ConfigError::PadToken(self.pad_token_id));
        }
        if self.type_vocab_size == 0 {
            return Err(ConfigError::TypeVocab);
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return Err(ConfigError::LayerNormEps(self.layer_norm_eps));
        }
        if !(0.0..1.0).contains(&self.hidden_dropout_prob) || !(0.0..1.0).contains(&self.attention_probs_dropout_prob) {
            return Err(ConfigError::Dropout);
        }
        // Sizes are checked before anything is allocated: a config with absurd sizes is an
        // error, not an abort of the process for want of memory.
        let params = self.parameter_count();
        if params > Self::MAX_PARAMETERS {
            return Err(ConfigError::TooLarge {
                params,
                sizes: format!(
                    "vocab_size {}, hidden_size {}, num_hidden_layers {}, intermediate_size {}, max_position_embeddings {}",
                    self.vocab_size,
                    self.hidden_size,
                    self.num_hidden_layers,
                    self.intermediate_size,
                    self.max_position_embeddings
                ),
            });
        }
        Ok(())
    }

    /// The largest model accepted: 4 billion parameters (16 GB of float32 weights).
    pub const MAX_PARAMETERS: u128 = 4_000_000_000;

    /// The number of parameters of the QA model this config describes (saturating: computed
    /// in 128 bits from sizes that may be absurd).
    pub fn parameter_count(&self) -> u128 {
        let [v, h, l, i, p, t] = [
            self.vocab_size,
            self.hidden_size,
            self.num_hidden_layers,
            self.intermediate_size,
            self.max_position_embeddings,
            self.type_vocab_size,
        ]
        .map(|x| x as u128);
        let embeddings = (v + p + t) * h + 2 * h;
        let layer = 4 * (h * h + h) + 2 * (h * i) + i + h + 2 * 2 * h;
        embeddings + l.saturating_mul(layer) + 2 * h + 2
    }

    /// Whether `tokenizer` (and windows of `max_seq_length` tokens) fit this model: its ids
    /// inside the vocabulary, the same `<pad>`, positions for every token.
    pub fn check_fit(
        &self,
        tokenizer: &squadkit_core::tokenize::QaTokenizer,
        max_seq_length: Option<usize>,
    ) -> Result<(), FitError> {
        if tokenizer.vocab_size() > self.vocab_size {
            return Err(FitError::Vocab { tokens: tokenizer.vocab_size(), vocab: self.vocab_size });
        }
        if tokenizer.pad_id() as usize != self.pad_token_id {
            return Err(FitError::Pad { tokenizer: tokenizer.pad_id(), model: self.pad_token_id });
        }
        match max_seq_length.filter(|&l| l > self.max_seq_len()) {
            Some(len) => Err(FitError::Length { len, max: self.max_seq_len() }),
            None => Ok(()),
        }
    }

    /// The longest window the position embeddings allow (positions start after the pad index).
    pub fn max_seq_len(&self) -> usize {
        self.max_position_embeddings - self.pad_token_id - 1
    }

    /// A fresh model initialised as transformers' `_init_weights` does: normal(0,
    /// initializer_range) weights, zero biases, LayerNorm ones/zeros, and zero rows at the
    /// padding index of the word and position embeddings. Every parameter is materialised
    /// (burn initialises lazily, and a clone of a lazy parameter would draw its own values)
    /// and trainable (a tensor made by `zeros_like` does not require gradients).
    pub fn init<B: Backend>(&self, device: &B::Device) -> RobertaForQuestionAnswering<B> {
        struct Materialise;
        impl<B: Backend> ParamVisitor<B> for Materialise {
            fn visit<const D: usize>(&mut self, _name: &str, p: &mut Param<Tensor<B, D>>, _l: Layout) {
                *p = Param::initialized(p.id, p.val().detach().require_grad());
            }
        }
        let mut model = self.init_lazy(device);
        model.visit_params(&mut Materialise);
        model
    }

    fn init_lazy<B: Backend>(&self, device: &B::Device) -> RobertaForQuestionAnswering<B> {
        let h = self.hidden_size;
        let normal = Initializer::Normal { mean: 0.0, std: self.initializer_range };
        let linear = |i: usize, o: usize| {
            let mut l = LinearConfig::new(i, o).with_initializer(normal.clone()).init(device);
            l.bias = l.bias.map(|b| b.map(|t| t.zeros_like()));
            l
        };
        let ln = || LayerNormConfig::new(h).with_epsilon(self.layer_norm_eps).init(device);
        let embedding = |n: usize, pad: Option<usize>| {
            let e: Embedding<B> = EmbeddingConfig::new(n, h).with_initializer(normal.clone()).init(device);
            match pad {
                Some(p) => {
                    Embedding { weight: e.weight.map(|w| w.slice_assign([p..p + 1, 0..h], Tensor::zeros([1, h], device))) }
                }
                None => e,
            }
        };
        let hidden_dropout = DropoutConfig::new(self.hidden_dropout_prob).init();
        let layers = (0..self.num_hidden_layers)
            .map(|_| RobertaLayer {
                attention: RobertaAttention {
                    query: linear(h, h),
                    key: linear(h, h),
                    value: linear(h, h),
                    dropout: DropoutConfig::new(self.attention_probs_dropout_prob).init(),
                    num_heads: self.num_attention_heads,
                    output_dense: linear(h, h),
                    output_layer_norm: ln(),
                    output_dropout: hidden_dropout.clone(),
                },
                intermediate_dense: linear(h, self.intermediate_size),
                output_dense: linear(self.intermediate_size, h),
                output_layer_norm: ln(),
                output_dropout: hidden_dropout.clone(),
            })
            .collect();
        RobertaForQuestionAnswering {
            embeddings: RobertaEmbeddings {
                word_embeddings: embedding(self.vocab_size, Some(self.pad_token_id)),
                position_embeddings: embedding(self.max_position_embeddings, Some(self.pad_token_id)),
                token_type_embeddings: embedding(self.type_vocab_size, None),
                layer_norm: ln(),
                dropout: hidden_dropout,
                pad_token_id: self.pad_token_id,
            },
            layers,
            qa_outputs: linear(h, 2),
            compute_dtype: None,
            fused_attention: true,
            kernels: Kernels::default(),
        }
    }
}

/// How the model computes the operations whose best form depends on the device; chosen once
/// for a backend ([`Kernels::CPU`], [`Kernels::GPU`]), never by looking at the backend's name
/// in the forward pass. Every choice gives the same values up to float rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernels {
    /// How the key (padding) mask enters the training attention's scores.
    pub attention_mask: MaskForm,
    /// Draw dropout masks on the host, on every core, from a counter-based generator
    /// ([`dropout`]), instead of with burn's `Dropout` on the device.
    pub host_dropout: bool,
    /// Split burn's fused attention (inference) over the CPU thread pool by heads.
    pub split_heads: bool,
}

/// How the key mask is added to the attention scores under autodiff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskForm {
    /// `[q·scale | 1]·[k | bias]ᵀ`: one more column in the matmul (K = head_dim + 1). On the
    /// CPU backend a separate broadcast add over `[batch, heads, seq, seq]` was a third of a
    /// tiny model's train step.
    Folded,
    /// `q·scale·kᵀ + bias`: the matmul shapes tensor-core kernels are tuned for (K = head_dim),
    /// and one broadcast add, which a GPU fuses.
    Additive,
}

impl Kernels {
    /// burn's Flex CPU backend.
    pub const CPU: Kernels = Kernels { attention_mask: MaskForm::Folded, host_dropout: true, split_heads: true };
    /// cubecl backends (CUDA, WGPU): burn's own operations in the shapes its kernels expect.
    pub const GPU: Kernels = Kernels { attention_mask: MaskForm::Additive, host_dropout: false, split_heads: false };
}

impl Default for Kernels {
    /// The GPU forms: plain burn operations, right on every backend.
    fn default() -> Self {
        Kernels::GPU
    }
}

/// How a parameter is stored here relative to its HF tensor: burn's `Linear` keeps its
/// weight as `[in, out]`, the transpose of PyTorch's `[out, in]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Same,
    Transposed,
}

/// Visits every parameter under its HF name (weight loading, saving, the optimizer, tests).
pub trait ParamVisitor<B: Backend> {
    fn visit<const D: usize>(&mut self, name: &str, param: &mut Param<Tensor<B, D>>, layout: Layout);
}

/// A batch of windows: token ids and the attention mask (1 = a real token, 0 = padding),
/// both `[batch, seq]`.
#[derive(Debug, Clone)]
pub struct QaInput<B: Backend> {
    pub input_ids: Tensor<B, 2, Int>,
    pub attention_mask: Tensor<B, 2, Int>,
}

/// Start and end logits, each `[batch, seq]` (not masked, as in transformers).
#[derive(Debug, Clone)]
pub struct QaOutput<B: Backend> {
    pub start_logits: Tensor<B, 2>,
    pub end_logits: Tensor<B, 2>,
}

#[derive(Module, Debug)]
pub struct RobertaForQuestionAnswering<B: Backend> {
    /// `roberta.embeddings`
    pub embeddings: RobertaEmbeddings<B>,
    /// `roberta.encoder.layer.{i}`
    pub layers: Vec<RobertaLayer<B>>,
    /// `qa_outputs`: Linear(hidden, 2) → start, end.
    pub qa_outputs: Linear<B>,
    /// The dtype matmuls run in (None = the backend's float dtype, float32 here).
    #[module(skip)]
    compute_dtype: Option<FloatDType>,
    /// Inference uses burn's fused attention unless this is false (autodiff never does).
    #[module(skip)]
    fused_attention: bool,
    /// The device-dependent forms of a few operations.
    #[module(skip)]
    kernels: Kernels,
}

#[derive(Module, Debug)]
pub struct RobertaEmbeddings<B: Backend> {
    pub word_embeddings: Embedding<B>,
    pub position_embeddings: Embedding<B>,
    pub token_type_embeddings: Embedding<B>,
    /// `LayerNorm`
    pub layer_norm: LayerNorm<B>,
    pub dropout: Dropout,
    pub pad_token_id: usize,
}

#[derive(Module, Debug)]
pub struct RobertaLayer<B: Backend> {
    /// `attention.self.{query,key,value}` and `attention.output.{dense,LayerNorm}`
    pub attention: RobertaAttention<B>,
    /// `intermediate.dense`
    pub intermediate_dense: Linear<B>,
    /// `output.dense`
    pub output_dense: Linear<B>,
    /// `output.LayerNorm`
    pub output_layer_norm: LayerNorm<B>,
    pub output_dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct RobertaAttention<B: Backend> {
    pub query: Linear<B>,
    pub key: Linear<B>,
    pub value: Linear<B>,
    /// Dropout on the attention probabilities.
    pub dropout: Dropout,
    pub num_heads: usize,
    /// `attention.output.dense`
    pub output_dense: Linear<B>,
    /// `attention.output.LayerNorm`
    pub output_layer_norm: LayerNorm<B>,
    pub output_dropout: Dropout,
}

/// A large negative score for masked keys: exp() of it is 0 in float32 and bf16, and, unlike
/// -inf, it cannot turn a row into NaN.
const MASKED: f64 = -1e30;

/// Which keys (padding) every query of a window ignores, in the two forms the attention takes.
#[derive(Debug, Clone)]
struct KeyMask<B: Backend> {
    /// `[batch, 1, 1, seq]`, true = a masked key (burn's fused attention).
    masked: Tensor<B, 4, Bool>,
    /// `[batch, 1, 1, seq]`, one value per key: 0 for a real key, [`MASKED`] for padding,
    /// added to the scores as transformers adds its extended attention mask. The scores are
    /// small against 1e30, so a masked score is exactly [`MASKED`] and the probabilities (and
    /// their gradients) are those of a `mask_fill`. See [`RobertaAttention::forward`] for how
    /// it is added ([`MaskForm`]).
    bias: Tensor<B, 4>,
}

/// What every layer's forward needs besides its input: the compute dtype, whether inference
/// uses the fused attention, and the device-dependent forms.
#[derive(Debug, Clone, Copy)]
struct Run {
    cd: Option<FloatDType>,
    fused: bool,
    kernels: Kernels,
}

impl<B: Backend> RobertaForQuestionAnswering<B> {
    /// Run matmuls in `dtype` (e.g. bf16) on casts of the float32 weights; `None` for float32.
    pub fn with_compute_dtype(mut self, dtype: Option<FloatDType>) -> Self {
        self.compute_dtype = dtype;
        self
    }

    /// Set every dropout probability (hidden, attention); `(0.0, 0.0)` turns dropout off for
    /// training-mode comparisons with a model in `eval()`.
    pub fn with_dropout(mut self, hidden: f64, attention: f64) -> Self {
        self.embeddings.dropout.prob = hidden;
        for l in &mut self.layers {
            l.attention.dropout.prob = attention;
            l.attention.output_dropout.prob = hidden;
            l.output_dropout.prob = hidden;
        }
        self
    }

    /// Choose burn's fused attention (true, the default) or the plain matmul + softmax form
    /// for inference; training always uses the plain form.
    pub fn with_fused_attention(mut self, fused: bool) -> Self {
        self.fused_attention = fused;
        self
    }

    /// Compute the device-dependent operations in these forms (see [`Kernels`]).
    pub fn with_kernels(mut self, kernels: Kernels) -> Self {
        self.kernels = kernels;
        self
    }

    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    pub fn compute_dtype(&self) -> Option<FloatDType> {
        self.compute_dtype
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Start and end logits for a batch of windows.
    pub fn forward(&self, input: QaInput<B>) -> QaOutput<B> {
        let cd = self.compute_dtype;
        let [batch, seq] = input.input_ids.dims();
        let keep = input.attention_mask.equal_elem(0); // true = masked key
        let masked: Tensor<B, 4, Bool> = keep.reshape([batch, 1, 1, seq]);
        let bias = Tensor::zeros([batch, 1, 1, seq], &masked.device()).mask_fill(masked.clone(), MASKED);
        let key_mask = KeyMask { masked, bias };
        let run = Run { cd, fused: self.fused_attention, kernels: self.kernels };
        let mut x = self.embeddings.forward(input.input_ids, run);
        for layer in &self.layers {
            x = layer.forward(x, key_mask.clone(), run);
        }
        let logits = linear(&self.qa_outputs, x, cd);
        let start_logits = logits.clone().narrow(2, 0, 1).squeeze_dim::<2>(2);
        let end_logits = logits.narrow(2, 1, 1).squeeze_dim::<2>(2);
        QaOutput { start_logits, end_logits }
    }

    /// Visit every parameter under its HF name (`roberta.…` and `qa_outputs.…`).
    pub fn visit_params<V: ParamVisitor<B>>(&mut self, v: &mut V) {
        self.embeddings.visit_params("roberta.embeddings", v);
        for (i, layer) in self.layers.iter_mut().enumerate() {
            layer.visit_params(&format!("roberta.encoder.layer.{i}"), v);
        }
        visit_linear(&mut self.qa_outputs, "qa_outputs", v);
    }
}

/// The loss as transformers computes it: positions clamped to `[0, seq]`, cross-entropy of
/// the start and of the end logits with `ignore_index = seq` (mean over the windows not
/// ignored), and the mean of the two.
pub fn qa_loss<B: Backend>(
    out: &QaOutput<B>,
    start_positions: Tensor<B, 1, Int>,
    end_positions: Tensor<B, 1, Int>,
) -> Tensor<B, 1> {
    let ce = |logits: Tensor<B, 2>, positions: Tensor<B, 1, Int>| {
        let [batch, seq] = logits.dims();
        let positions = positions.clamp(0, seq as i64);
        let valid = positions.clone().lower_elem(seq as i64).float();
        let index = positions.clamp(0, seq as i64 - 1).reshape([batch, 1]);
        let nll = log_softmax(logits, 1).gather(1, index).reshape([batch]).neg();
        (nll * valid.clone()).sum() / valid.sum()
    };
    (ce(out.start_logits.clone(), start_positions) + ce(out.end_logits.clone(), end_positions)) / 2.0
}

impl<B: Backend> RobertaEmbeddings<B> {
    /// word + token type (all 0 for RoBERTa) + position, LayerNorm, dropout. Position ids
    /// count the real tokens from `pad + 1`; padding gets position `pad`. As with PyTorch's
    /// `padding_idx`, the padding rows of the word and position tables get no gradient.
    fn forward(&self, input_ids: Tensor<B, 2, Int>, run: Run) -> Tensor<B, 3> {
        let [batch, seq] = input_ids.dims();
        let pad = self.pad_token_id as i64;
        let is_pad = input_ids.clone().equal_elem(pad);
        let not_pad = is_pad.clone().bool_not().int();
        let position_ids = not_pad.clone().cumsum(1) * not_pad + pad;
        let hidden = self.word_embeddings.weight.dims()[1];
        let without_pad_grad = |e: Tensor<B, 3>| {
            let pad3 = is_pad.clone().reshape([batch, seq, 1]).expand([batch, seq, hidden]);
            e.clone().mask_where(pad3, e.detach())
        };
        let words = without_pad_grad(self.word_embeddings.forward(input_ids));
        let positions = without_pad_grad(self.position_embeddings.forward(position_ids));
        let token_type = self.token_type_embeddings.weight.val().narrow(0, 0, 1).reshape([1, 1, hidden]);
        let x = words + token_type + positions;
        dropout(&self.dropout, self.layer_norm.forward(x), run.kernels)
    }

    fn visit_params<V: ParamVisitor<B>>(&mut self, prefix: &str, v: &mut V) {
        v.visit(&format!("{prefix}.word_embeddings.weight"), &mut self.word_embeddings.weight, Layout::Same);
        v.visit(&format!("{prefix}.position_embeddings.weight"), &mut self.position_embeddings.weight, Layout::Same);
        v.visit(&format!("{prefix}.token_type_embeddings.weight"), &mut self.token_type_embeddings.weight, Layout::Same);
        visit_layer_norm(&mut self.layer_norm, &format!("{prefix}.LayerNorm"), v);
    }
}

impl<B: Backend> RobertaLayer<B> {
    /// Self-attention block, then GELU feed-forward with a residual and post-LayerNorm.
    fn forward(&self, x: Tensor<B, 3>, key_mask: KeyMask<B>, run: Run) -> Tensor<B, 3> {
        let cd = run.cd;
        let attn = self.attention.forward(x, key_mask, run);
        let inner = gelu(linear(&self.intermediate_dense, attn.clone(), cd));
        let out = dropout(&self.output_dropout, linear(&self.output_dense, inner, cd), run.kernels);
        self.output_layer_norm.forward(out + attn)
    }

    fn visit_params<V: ParamVisitor<B>>(&mut self, prefix: &str, v: &mut V) {
        self.attention.visit_params(&format!("{prefix}.attention"), v);
        visit_linear(&mut self.intermediate_dense, &format!("{prefix}.intermediate.dense"), v);
        visit_linear(&mut self.output_dense, &format!("{prefix}.output.dense"), v);
        visit_layer_norm(&mut self.output_layer_norm, &format!("{prefix}.output.LayerNorm"), v);
    }
}

impl<B: Backend> RobertaAttention<B> {
    fn forward(&self, x: Tensor<B, 3>, key_mask: KeyMask<B>, run: Run) -> Tensor<B, 3> {
        let cd = run.cd;
        let [batch, seq, hidden] = x.dims();
        let heads = self.num_heads;
        let head_dim = hidden / heads;
        let split = |t: Tensor<B, 3>| t.reshape([batch, seq, heads, head_dim]).swap_dims(1, 2);
        let q = to_compute(split(linear(&self.query, x.clone(), cd)), cd);
        let k = to_compute(split(linear(&self.key, x.clone(), cd)), cd);
        let v = to_compute(split(linear(&self.value, x.clone(), cd)), cd);
        let scale = 1.0 / (head_dim as f64).sqrt();
        let context = if B::ad_enabled(&x.device()) || !run.fused {
            // Training: plain attention, so it has a backward and attention dropout. Scaling q
            // rather than the scores is seq / head_dim times fewer products, and the same
            // values when the scale is a power of two (head_dim 64: roberta-base and -large).
            let scores = match run.kernels.attention_mask {
                MaskForm::Folded => {
                    // [q·scale | 1] · [k | bias]ᵀ = q·kᵀ·scale + bias: the key mask rides in
                    // the matmul as one more column.
                    let device = q.device();
                    let ones = to_compute(Tensor::ones([batch, heads, seq, 1], &device), cd);
                    let bias = to_compute(key_mask.bias.reshape([batch, 1, seq, 1]).expand([batch, heads, seq, 1]), cd);
                    let q1 = Tensor::cat(vec![q * scale, ones], 3);
                    let k1 = Tensor::cat(vec![k, bias], 3);
                    to_f32(q1.matmul(k1.transpose()), cd)
                }
                MaskForm::Additive => to_f32((q * scale).matmul(k.transpose()), cd) + key_mask.bias,
            };
            let probs = dropout(&self.dropout, softmax(scores, 3), run.kernels);
            to_f32(to_compute(probs, cd).matmul(v), cd)
        } else {
            // One mask per window, shared by the heads: burn-flex copies the mask to contiguous
            // memory, and copying it per head was 5% of a CPU forward.
            let mask = key_mask.masked.expand([batch, 1, seq, seq]);
            to_f32(fused_attention(q, k, v, mask, run.kernels.split_heads), cd)
        };
        let context = context.swap_dims(1, 2).reshape([batch, seq, hidden]);
        let out = dropout(&self.output_dropout, linear(&self.output_dense, context, cd), run.kernels);
        self.output_layer_norm.forward(out + x)
    }

    fn visit_params<V: ParamVisitor<B>>(&mut self, prefix: &str, v: &mut V) {
        visit_linear(&mut self.query, &format!("{prefix}.self.query"), v);
        visit_linear(&mut self.key, &format!("{prefix}.self.key"), v);
        visit_linear(&mut self.value, &format!("{prefix}.self.value"), v);
        visit_linear(&mut self.output_dense, &format!("{prefix}.output.dense"), v);
        visit_layer_norm(&mut self.output_layer_norm, &format!("{prefix}.output.LayerNorm"), v);
    }
}

/// Inverted dropout, as burn's `Dropout::forward` (active on autodiff backends only; kept
/// values scaled by 1 / (1 - p)). With [`Kernels::host_dropout`] (the CPU) the mask is drawn
/// here, on every core, from a counter-based generator (SplitMix64 of the element index)
/// seeded by one draw from the backend's RNG — which the trainer reseeds per step, so masks
/// stay a function of the step and a resumed run draws what an uninterrupted one would — or,
/// when the thread has one, from its own stream ([`set_dropout_stream`], per step and replica). burn
/// draws it element by element with one thread's ChaCha20: ~22% of a CPU train step. On a
/// GPU burn's `Dropout` draws it on the device.
fn dropout<B: Backend, const D: usize>(d: &Dropout, x: Tensor<B, D>, kernels: Kernels) -> Tensor<B, D> {
    let device = x.device();
    if !B::ad_enabled(&device) || d.prob == 0.0 {
        return x;
    }
    if !kernels.host_dropout {
        return d.forward(x);
    }
    let seed = DROPOUT_STREAM.with(|stream| {
        let state = stream.get()?;
        let next = state.wrapping_add(GOLDEN_GAMMA);
        stream.set(Some(next));
        Some(mix64(next))
    });
    let seed = seed.unwrap_or_else(|| {
        let draw = Tensor::<B, 1>::random([2], Distribution::Uniform(0.0, 1.0), &device).into_data().convert::<f32>();
        let draw = draw.to_vec::<f32>().expect("two float32 values");
        (u64::from(draw[0].to_bits()) << 32) | u64::from(draw[1].to_bits())
    });
    let shape = x.shape();
    let mask = dropout_mask(seed, shape.num_elements(), 1.0 - d.prob);
    x * Tensor::<B, D>::from_data(TensorData::new(mask, shape), &device)
}

/// burn's fused attention (inference), with its default scale 1/√head_dim: a scale, a bias
/// or a softcap given explicitly sends cubecl backends to the unfused fallback. With
/// `split_heads` (the CPU), the heads are split over the thread pool: burn-flex computes the
/// (window, head) pairs one after another on one thread, which left the other cores idle for
/// about a third of a roberta-base forward.
fn fused_attention<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    mask: Tensor<B, 4, Bool>,
    split_heads: bool,
) -> Tensor<B, 4> {
    let options = AttentionModuleOptions { scale: None, softcap: None, is_causal: false };
    let heads = q.dims()[1];
    let parts = if split_heads { rayon::current_num_threads().min(heads) } else { 1 };
    if parts <= 1 {
        return attention(q, k, v, Some(mask), None, options);
    }
    use rayon::prelude::*;
    let per = heads.div_ceil(parts);
    let starts: Vec<usize> = (0..heads).step_by(per).collect();
    let parts: Vec<Tensor<B, 4>> = starts
        .into_par_iter()
        .map(|h| {
            let n = per.min(heads - h);
            let part = |t: &Tensor<B, 4>| t.clone().narrow(1, h, n);
            attention(part(&q), part(&k), part(&v), Some(mask.clone()), None, options)
        })
        .collect();
    Tensor::cat(parts, 1)
}

thread_local! {
    /// This thread's stream of host dropout seeds ([`set_dropout_stream`]), when it has one.
    static DROPOUT_STREAM: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Seed this thread's host dropout masks from a stream of its own starting at `seed` (`None`:
/// from the backend's RNG, as a single-device run does). Replicas training in threads of one
/// process (`train --devices` on the CPU) need this: they share the backend's one RNG, and
/// their draws from it would interleave in no fixed order.
pub fn set_dropout_stream(seed: Option<u64>) {
    DROPOUT_STREAM.with(|stream| stream.set(seed));
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` values: 1 / keep with probability `keep`, else 0; element i from SplitMix64(seed, i).
fn dropout_mask(seed: u64, n: usize, keep: f64) -> Vec<f32> {
    let scale = (1.0 / keep) as f32;
    // Keep when the top 53 bits, as a fraction of 2^53, are below `keep`.
    let threshold = (keep * (1u64 << 53) as f64) as u64;
    let mut mask = vec![0f32; n];
    // On burn-flex's thread pool (as its matmuls and [`fused_attention`]); element i's value
    // does not depend on how the vector is cut.
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 16;
    mask.par_chunks_mut(CHUNK).enumerate().for_each(|(c, part)| {
        let base = (c * CHUNK) as u64;
        for (i, m) in part.iter_mut().enumerate() {
            let z = mix64(seed.wrapping_add((base + i as u64 + 1).wrapping_mul(GOLDEN_GAMMA)));
            if (z >> 11) < threshold {
                *m = scale;
            }
        }
    });
    mask
}

/// A Linear layer; with a compute dtype the matmul runs in it on casts of the float32
/// weights and the result comes back as float32.
fn linear<B: Backend>(l: &Linear<B>, x: Tensor<B, 3>, cd: Option<FloatDType>) -> Tensor<B, 3> {
    match cd {
        None => l.forward(x),
        Some(dt) => {
            let w = l.weight.val().cast(dt);
            let y = x.cast(dt).matmul(w.unsqueeze::<3>()).cast(FloatDType::F32);
            match &l.bias {
                Some(b) => y + b.val().unsqueeze::<3>(),
                None => y,
            }
        }
    }
}

/// Cast to the compute dtype for a matmul (nothing to do without one).
fn to_compute<B: Backend, const D: usize>(x: Tensor<B, D>, cd: Option<FloatDType>) -> Tensor<B, D> {
    match cd {
        Some(dt) => x.cast(dt),
        None => x,
    }
}

/// Cast a result of a lower-precision matmul back to float32 (nothing to do without one).
fn to_f32<B: Backend, const D: usize>(x: Tensor<B, D>, cd: Option<FloatDType>) -> Tensor<B, D> {
    match cd {
        Some(_) => x.cast(FloatDType::F32),
        None => x,
    }
}

fn visit_linear<B: Backend, V: ParamVisitor<B>>(l: &mut Linear<B>, prefix: &str, v: &mut V) {
    v.visit(&format!("{prefix}.weight"), &mut l.weight, Layout::Transposed);
    if let Some(b) = l.bias.as_mut() {
        v.visit(&format!("{prefix}.bias"), b, Layout::Same);
    }
}

fn visit_layer_norm<B: Backend, V: ParamVisitor<B>>(ln: &mut LayerNorm<B>, prefix: &str, v: &mut V) {
    v.visit(&format!("{prefix}.weight"), &mut ln.gamma, Layout::Same);
    if let Some(b) = ln.beta.as_mut() {
        v.visit(&format!("{prefix}.bias"), b, Layout::Same);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    type B = burn::backend::Autodiff<burn::backend::Flex>;

    struct Collect<'a, B: burn::tensor::backend::AutodiffBackend> {
        grads: Option<&'a B::Gradients>,
        values: Vec<(String, Vec<f32>, bool)>,
    }
    impl<B: burn::tensor::backend::AutodiffBackend> ParamVisitor<B> for Collect<'_, B> {
        fn visit<const D: usize>(&mut self, name: &str, p: &mut Param<Tensor<B, D>>, _l: Layout) {
            let has_grad = self.grads.is_some_and(|g| p.val().grad(g).is_some());
            self.values.push((name.to_string(), p.val().into_data().to_vec::<f32>().unwrap(), has_grad));
        }
    }

    #[test]
    fn dropout_masks_keep_the_right_share_deterministically() {
        let n = 1_000_003;
        let a = dropout_mask(7, n, 0.9);
        assert_eq!(a, dropout_mask(7, n, 0.9), "a function of the seed");
        assert_ne!(a, dropout_mask(8, n, 0.9));
        // Element i is SplitMix64(seed, i), wherever the parallel chunks are cut.
        let serial = |i: u64| {
            let mut z = 7u64.wrapping_add((i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            if (z >> 11) < (0.9 * (1u64 << 53) as f64) as u64 {
                (1.0 / 0.9) as f32
            } else {
                0.0
            }
        };
        for i in [0, 1, 65_535, 65_536, 65_537, 500_000, n - 1] {
            assert_eq!(a[i], serial(i as u64), "element {i}");
        }
        let scale = (1.0 / 0.9) as f32;
        assert!(a.iter().all(|&m| m == 0.0 || m == scale));
        let kept = a.iter().filter(|&&m| m != 0.0).count() as f64 / n as f64;
        assert!((kept - 0.9).abs() < 0.002, "kept {kept}");
        // Neighbouring elements are not correlated.
        let both = a.windows(2).filter(|w| w[0] != 0.0 && w[1] != 0.0).count() as f64 / (n - 1) as f64;
        assert!((both - 0.81).abs() < 0.003, "pairs kept {both}");
    }

    #[test]
    fn a_fresh_model_is_materialised_and_every_parameter_trains() {
        let config = RobertaConfig::from_json(
            br#"{"vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "intermediate_size": 16, "max_position_embeddings": 16, "type_vocab_size": 1,
                 "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}"#,
        )
        .unwrap();
        let device = Default::default();
        let model = config.init::<B>(&device);
        // A clone made before first use holds the same values (lazy parameters would not).
        let mut twin = model.clone();
        let mut a = Collect::<B> { grads: None, values: vec![] };
        twin.visit_params(&mut a);
        let input = QaInput::<B> {
            input_ids: Tensor::from_data(TensorData::new(vec![0i64, 5, 6, 2, 2, 7, 8, 2], [1, 8]), &device),
            attention_mask: Tensor::from_data(TensorData::new(vec![1i64; 8], [1, 8]), &device),
        };
        let pos = |v: i64| Tensor::<B, 1, burn::tensor::Int>::from_data(TensorData::new(vec![v], [1]), &device);
        let grads = qa_loss(&model.forward(input), pos(5), pos(6)).backward();
        let mut model = model;
        let mut b = Collect::<B> { grads: Some(&grads), values: vec![] };
        model.visit_params(&mut b);
        assert_eq!(a.values.len(), b.values.len());
        for ((name, x, _), (_, y, has_grad)) in a.values.iter().zip(&b.values) {
            assert_eq!(x, y, "{name}: a clone drew other values");
            assert!(has_grad, "{name} gets no gradient");
        }
        let bias = b.values.iter().find(|(n, _, _)| n == "qa_outputs.bias").expect("a QA head bias");
        assert!(bias.1.iter().all(|&v| v == 0.0), "biases start at zero");
    }
}
