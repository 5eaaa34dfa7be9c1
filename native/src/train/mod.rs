//! Training: the optimizer and learning-rate schedule as the HF Trainer has them ([`optim`]).

pub mod optim;
