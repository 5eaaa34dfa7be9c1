//! Everything squadkit reads, one module per kind of input, each error naming the file:
//! datasets in every format ([`dataset`], [`arrow`]), tokenizers ([`tokenizer`]), model
//! configs and the tokenizer/model fit ([`model_dir`]; weights are [`crate::model::weights`]),
//! feature caches ([`features`]), logits ([`logits`]) and what `evaluate` scores ([`scores`]).

pub mod arrow;
pub mod dataset;
pub mod features;
pub mod logits;
pub mod model_dir;
pub mod scores;
pub mod tokenizer;

pub use dataset::{load_dataset, Split};
pub use tokenizer::{load_tokenizer, LoadedTokenizer};
