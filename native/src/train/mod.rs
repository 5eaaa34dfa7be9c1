//! Training: a run from its arguments ([`run`], [`args`]), the loop ([`trainer`]), what a run
//! is and where it stands ([`state`]), its data order ([`order`]), the optimizer and schedule
//! as the HF Trainer has them ([`optim`]), data parallelism over several devices
//! ([`replicas`]), checkpoints ([`checkpoint`]), the run directory
//! and its lock ([`rundir`]), and the metrics log and progress display ([`runlog`]).

pub mod args;
pub mod checkpoint;
pub mod optim;
pub mod order;
pub mod replicas;
pub mod run;
pub mod rundir;
pub mod runlog;
pub mod state;
pub mod trainer;

pub use args::{TrainArgs, TrainCommand};
pub use run::{train, warmup};
pub use state::{EvalStrategy, Hyper};
pub use trainer::{Outcome, Warmup};
