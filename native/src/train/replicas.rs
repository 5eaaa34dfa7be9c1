//! Data parallelism over the devices of one node (`train --devices`), as PyTorch's DDP does it
//! for the HF Trainer: one [`Replica`] of the model per device, rank 0 on the trainer's thread
//! and each other rank on a thread of its own ([`Peers`]); every global batch is split between
//! them, and the gradients are summed across devices by burn-collective's all-reduce before
//! each replica takes the same AdamW step. The replicas therefore stay equal, and rank 0's
//! model and moments are the run's: rank 0 alone logs, decodes, scores and saves.
//!
//! - Split ([`split`]): each global micro-batch (`per_device_train_batch_size` × devices
//!   windows, in the run's data order) is cut into consecutive shards, one per rank. A rank's
//!   loss is its shard's mean loss times (its rows / the batch's rows), so the losses of the
//!   ranks add up to the whole batch's mean loss, and the summed gradient is the one-device
//!   gradient of the whole batch (up to the order of float additions). A rank without rows in
//!   a step adds zero gradients.
//! - All-reduce ([`all_reduce`]): the gradients in parameter-name order, concatenated into
//!   buckets of ~25 MB (DDP's `bucket_cap_mb`), summed with burn-collective (its tree
//!   strategy). With two devices each element is a + b on both, so a 2-device run is as
//!   reproducible as a one-device run; with more, the order of the additions follows the
//!   order in which the ranks arrive.
//! - Dropout: each rank draws its masks from a stream keyed by (seed, step, rank): on the CPU
//!   exactly ([`set_dropout_stream`]); on a GPU from the backend's RNG, reseeded per step and
//!   rank but shared by the ranks' threads, so there the masks differ from run to run.
//! - Evaluation: the windows are cut into one consecutive range per rank, each rank computes
//!   the logits of its range, rank 0 gathers them in order ([`Peers::logits`]).
//! - Failure: a rank that fails says why and resets the collective, so no rank waits forever
//!   in an all-reduce; the run ends with that rank's error.

use super::optim::{gradients, zero_gradients, AdamW, Gradients, StepStats};
use super::order::{derive_seed, STEP_RNG};
use super::state::Hyper;
use crate::error::{CliError, Result};
use crate::model::batch::{batch_input, labels, predict_window_logits, Padding, WindowLogits};
use crate::model::roberta::{qa_loss, set_dropout_stream, RobertaConfig, RobertaForQuestionAnswering};
use crate::model::weights::{self, HostTensor};
use burn::collective::{self, CollectiveConfig, PeerId, ReduceOperation};
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, FloatDType, Tensor, TensorPrimitive};
use squadkit_core::preprocess::Window;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::{Scope, ScopedJoinHandle};

/// The stream of a rank's dropout seeds (keyed by the step's seed, then the rank).
const RANK_RNG: u64 = 3;

/// Gradient elements per all-reduce (25 MB of float32, DDP's default bucket).
const BUCKET_ELEMENTS: usize = 25 * 1024 * 1024 / 4;

/// One rank's part of a step: its shard of each micro-batch (window indices; empty when the
/// micro-batch has no rows for it) and each micro-batch's rows over all ranks.
#[derive(Debug, Clone, PartialEq)]
pub struct StepShard {
    pub micro_batches: Vec<Vec<usize>>,
    pub batch_rows: Vec<usize>,
}

/// Cut a step's global micro-batches into `world` shards of up to `per_device` rows each.
pub fn split(micro_batches: &[Vec<usize>], per_device: usize, world: usize) -> Vec<StepShard> {
    let batch_rows: Vec<usize> = micro_batches.iter().map(Vec::len).collect();
    (0..world)
        .map(|rank| StepShard {
            micro_batches: micro_batches
                .iter()
                .map(|mb| mb.iter().skip(rank * per_device).take(per_device).copied().collect())
                .collect(),
            batch_rows: batch_rows.clone(),
        })
        .collect()
}

/// The consecutive ranges of `windows` windows each of `world` ranks evaluates (whole batches of
/// `batch` windows, the first ranks taking one more when they do not divide evenly).
pub fn eval_ranges(windows: usize, batch: usize, world: usize) -> Vec<Range<usize>> {
    let batches = windows.div_ceil(batch.max(1));
    let (each, extra) = (batches / world, batches % world);
    let mut start = 0;
    (0..world)
        .map(|rank| {
            let n = (each + usize::from(rank < extra)) * batch.max(1);
            let r = start.min(windows)..(start + n).min(windows);
            start += n;
            r
        })
        .collect()
}

/// The form a model trains in on its backend: `kernels` and, with `bf16`, bfloat16 matmuls.
pub fn training_form<B: AutodiffBackend>(
    model: RobertaForQuestionAnswering<B>,
    kernels: crate::model::roberta::Kernels,
    bf16: bool,
) -> RobertaForQuestionAnswering<B> {
    let model = model.with_kernels(kernels);
    if bf16 {
        model.with_compute_dtype(Some(FloatDType::BF16))
    } else {
        model
    }
}

/// A model replica on one device with its optimizer: the part of a step every rank runs.
pub struct Replica<B: AutodiffBackend> {
    pub rank: usize,
    pub world: usize,
    pub device: B::Device,
    /// `None` only while an update has it.
    model: Option<RobertaForQuestionAnswering<B>>,
    pub opt: AdamW<B>,
}

impl<B: AutodiffBackend> Replica<B> {
    pub fn new(rank: usize, world: usize, device: B::Device, model: RobertaForQuestionAnswering<B>, opt: AdamW<B>) -> Self {
        Replica { rank, world, device, model: Some(model), opt }
    }

    pub fn model(&self) -> &RobertaForQuestionAnswering<B> {
        self.model.as_ref().expect("the model is back after every update")
    }

    /// Seed step `step`'s dropout: one device draws from the backend's RNG reseeded with the
    /// step's seed (as before there were several); rank r of several from its own stream.
    pub fn seed_step(&self, seed: u64, step: u64) {
        let step_seed = derive_seed(seed, STEP_RNG, step);
        if self.world == 1 {
            B::seed(&self.device, step_seed);
            return;
        }
        let rank_seed = derive_seed(step_seed, RANK_RNG, self.rank as u64);
        B::seed(&self.device, rank_seed);
        set_dropout_stream(Some(rank_seed));
    }

    /// This rank's loss for a step (see the module's doc), or `None` when its shard is empty.
    pub fn loss(&self, windows: &[Window], shard: &StepShard, pad_id: u32, padding: &Padding) -> Option<Tensor<B, 1>> {
        let n = shard.micro_batches.len() as f64;
        let mut total: Option<Tensor<B, 1>> = None;
        for (mb, &rows) in shard.micro_batches.iter().zip(&shard.batch_rows) {
            if mb.is_empty() {
                continue;
            }
            let refs: Vec<&Window> = mb.iter().map(|&i| &windows[i]).collect();
            let shape = padding.shape(refs.iter().map(|w| w.len()));
            let (input, _) = batch_input::<B>(&refs, pad_id, padding, &self.device);
            let (s, e) = labels::<B>(&refs, shape, &self.device);
            let mut loss = qa_loss(&self.model().forward(input), s, e);
            if refs.len() != rows {
                loss = loss * (refs.len() as f64 / rows as f64);
            }
            let loss = loss / n;
            total = Some(match total {
                Some(t) => t + loss,
                None => loss,
            });
        }
        total
    }

    /// Backward through `loss` (zero gradients without one), the sum over the ranks, and
    /// AdamW at `lr`.
    pub fn update(&mut self, loss: Option<Tensor<B, 1>>, lr: f64) -> Result<StepStats> {
        let mut model = self.model.take().expect("the model is here");
        let grads = match loss {
            Some(loss) => gradients(&mut model, &loss.backward()),
            None => zero_gradients(&mut model),
        };
        let grads = if self.world > 1 {
            match all_reduce::<B>(self.rank, grads) {
                Ok(g) => g,
                Err(e) => {
                    self.model = Some(model);
                    return Err(e);
                }
            }
        } else {
            grads
        };
        let (model, stats) = self.opt.apply(lr, model, grads);
        self.model = Some(model);
        Ok(stats)
    }

    /// The logits of `windows` (rows `width` wide) in inference mode.
    pub fn logits(&self, windows: &[Window], width: usize, batch: usize, pad_id: u32, padding: &Padding) -> WindowLogits {
        predict_window_logits(&self.model().valid(), windows, width, batch, pad_id, padding, &self.device)
    }
}

/// Sum `grads` over every rank (burn-collective, in buckets, in name order).
fn all_reduce<B: AutodiffBackend>(rank: usize, grads: Gradients<B>) -> Result<Gradients<B>> {
    let mut out = Gradients::<B>::new();
    let mut bucket = Vec::new();
    let mut elements = 0;
    for (name, g) in grads {
        elements += g.dims()[0];
        bucket.push((name, g));
        if elements >= BUCKET_ELEMENTS {
            reduce_bucket::<B>(rank, std::mem::take(&mut bucket), &mut out)?;
            elements = 0;
        }
    }
    if !bucket.is_empty() {
        reduce_bucket::<B>(rank, bucket, &mut out)?;
    }
    Ok(out)
}

type Flat<B> = Tensor<<B as AutodiffBackend>::InnerBackend, 1>;

fn reduce_bucket<B: AutodiffBackend>(rank: usize, bucket: Vec<(String, Flat<B>)>, out: &mut Gradients<B>) -> Result<()> {
    let sizes: Vec<usize> = bucket.iter().map(|(_, g)| g.dims()[0]).collect();
    let (names, parts): (Vec<String>, Vec<Flat<B>>) = bucket.into_iter().unzip();
    let flat = Tensor::cat(parts, 0).into_primitive().tensor();
    let summed = collective::all_reduce::<B::InnerBackend>(PeerId(rank as u32), flat, ReduceOperation::Sum)
        .map_err(|e| CliError::Internal(format!("the gradient all-reduce across the devices failed: {e:?}")))?;
    let summed = Flat::<B>::from_primitive(TensorPrimitive::Float(summed));
    let mut at = 0;
    for (name, n) in names.into_iter().zip(sizes) {
        out.insert(name, summed.clone().slice(at..at + n));
        at += n;
    }
    Ok(())
}

/// Register rank `rank` of `world` with burn-collective (blocks until every rank has).
fn register<B: AutodiffBackend>(rank: usize, world: usize, device: &B::Device) -> Result<()> {
    let config = CollectiveConfig::default().with_num_devices(world);
    collective::register::<B::InnerBackend>(PeerId(rank as u32), device.clone(), config)
        .map_err(|e| CliError::Internal(format!("device {rank} could not join the others: {e:?}")))
}

/// What rank 0 asks another rank to do.
enum Command {
    /// Compute the loss of this shard and reply with it, then wait for [`Command::Proceed`].
    Step { step: u64, shard: StepShard, lr: f64 },
    /// Go on with the update (true) or drop the step (false: the run stops).
    Proceed(bool),
    /// The logits of these evaluation windows.
    Logits { range: Range<usize>, width: usize },
}

enum Reply {
    Loss(Option<f64>),
    Logits(WindowLogits),
    Failed(String),
}

/// What every rank starts from and works on.
pub struct Start<'a> {
    pub config: &'a RobertaConfig,
    /// Rank 0's weights and optimizer moments (a resumed run's are the checkpoint's).
    pub weights: BTreeMap<String, HostTensor>,
    pub moments: Vec<(String, HostTensor)>,
    pub optimizer_steps: usize,
    /// The run's hyperparameters (optimizer, bf16, seed, evaluation batch).
    pub hyper: &'a Hyper,
    pub kernels: crate::model::roberta::Kernels,
    pub train: &'a [Window],
    pub eval: Option<&'a [Window]>,
    pub pad_id: u32,
    pub padding: Padding,
    pub eval_padding: Padding,
}

struct Peer<'scope> {
    rank: usize,
    commands: Sender<Command>,
    replies: Receiver<Reply>,
    _thread: ScopedJoinHandle<'scope, ()>,
}

/// The ranks after 0, each on a thread of its own, driven by rank 0 (the trainer's thread).
pub struct Peers<'scope> {
    peers: Vec<Peer<'scope>>,
}

impl<'scope> Peers<'scope> {
    /// No other ranks (one device).
    pub fn none() -> Self {
        Peers { peers: Vec::new() }
    }

    /// Start ranks 1.. on `devices` (ranks 1..) and register rank 0 (on `rank0`) with them.
    pub fn spawn<'env, B: AutodiffBackend>(
        scope: &'scope Scope<'scope, 'env>,
        start: &'env Start<'env>,
        rank0: &B::Device,
        devices: Vec<B::Device>,
    ) -> Result<Self> {
        let world = devices.len() + 1;
        // A session left over in this process (a failed run) would refuse the new ranks.
        collective::reset_collective::<B::InnerBackend>();
        let mut peers = Vec::new();
        for (i, device) in devices.into_iter().enumerate() {
            let rank = i + 1;
            let (commands, their_commands) = channel();
            let (their_replies, replies) = channel();
            let thread = std::thread::Builder::new()
                .name(format!("squadkit-rank-{rank}"))
                .spawn_scoped(scope, move || serve::<B>(rank, world, device, start, their_commands, their_replies))
                .map_err(|e| CliError::Internal(format!("cannot start the thread of device {rank}: {e}")))?;
            peers.push(Peer { rank, commands, replies, _thread: thread });
        }
        register::<B>(0, world, rank0)?;
        Ok(Peers { peers })
    }

    fn send(&self, peer: &Peer<'_>, command: Command) -> Result<()> {
        peer.commands.send(command).map_err(|_| self.failure(peer))
    }

    /// The error of a rank that stopped answering (its own message when it sent one).
    fn failure(&self, peer: &Peer<'_>) -> CliError {
        match peer.replies.try_recv() {
            Ok(Reply::Failed(why)) => CliError::Internal(format!("device {} failed: {why}", peer.rank)),
            _ => CliError::Internal(format!("device {} stopped", peer.rank)),
        }
    }

    fn receive(&self, peer: &Peer<'_>) -> Result<Reply> {
        match peer.replies.recv() {
            Ok(Reply::Failed(why)) => Err(CliError::Internal(format!("device {} failed: {why}", peer.rank))),
            Ok(reply) => Ok(reply),
            Err(_) => Err(CliError::Internal(format!("device {} stopped", peer.rank))),
        }
    }

    /// Hang up on ranks 1.. (they finish) and take rank 0 out of the collective.
    pub fn close<B: AutodiffBackend>(self) {
        if !self.peers.is_empty() {
            drop(self.peers);
            let _ = collective::finish_collective::<B::InnerBackend>(PeerId(0));
        }
    }

    /// Send ranks 1.. their shards of step `step` (they compute their losses meanwhile).
    pub fn start_step(&self, step: u64, shards: &[StepShard], lr: f64) -> Result<()> {
        for (peer, shard) in self.peers.iter().zip(shards) {
            self.send(peer, Command::Step { step, shard: shard.clone(), lr })?;
        }
        Ok(())
    }

    /// The values of ranks 1..'s losses of the step started ([`None`]: no rows).
    pub fn losses(&self) -> Result<Vec<Option<f64>>> {
        self.peers
            .iter()
            .map(|peer| match self.receive(peer)? {
                Reply::Loss(v) => Ok(v),
                _ => Err(CliError::Internal(format!("device {} answered out of turn", peer.rank))),
            })
            .collect()
    }

    /// Let ranks 1.. update (true), or drop the step (false).
    pub fn proceed(&self, go: bool) -> Result<()> {
        self.peers.iter().try_for_each(|peer| self.send(peer, Command::Proceed(go)))
    }

    /// Ask ranks 1.. for the logits of their `ranges` (ranges[0] is rank 0's, computed by the
    /// caller meanwhile with `own`), and put all of them together in order.
    pub fn logits(&self, ranges: &[Range<usize>], width: usize, own: impl FnOnce() -> WindowLogits) -> Result<WindowLogits> {
        for (peer, range) in self.peers.iter().zip(&ranges[1..]) {
            self.send(peer, Command::Logits { range: range.clone(), width })?;
        }
        let mut all = own();
        for peer in &self.peers {
            match self.receive(peer)? {
                Reply::Logits(part) => {
                    all.start.extend(part.start);
                    all.end.extend(part.end);
                }
                _ => return Err(CliError::Internal(format!("device {} answered out of turn", peer.rank))),
            }
        }
        Ok(all)
    }
}

/// Rank `rank`'s thread: join the collective, build the replica from rank 0's start, then
/// follow rank 0's commands until it hangs up. A failure (or panic) is reported and resets the
/// collective, so that no rank waits for this one in an all-reduce.
fn serve<B: AutodiffBackend>(
    rank: usize,
    world: usize,
    device: B::Device,
    start: &Start<'_>,
    commands: Receiver<Command>,
    replies: Sender<Reply>,
) {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        register::<B>(rank, world, &device)?;
        follow::<B>(rank, world, device, start, &commands, &replies)
    }));
    let failure = match run {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(panic) => Some(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "it panicked".into()),
        ),
    };
    match failure {
        Some(why) => {
            let _ = replies.send(Reply::Failed(why));
            collective::reset_collective::<B::InnerBackend>();
        }
        None => {
            let _ = collective::finish_collective::<B::InnerBackend>(PeerId(rank as u32));
        }
    }
}

fn follow<B: AutodiffBackend>(
    rank: usize,
    world: usize,
    device: B::Device,
    start: &Start<'_>,
    commands: &Receiver<Command>,
    replies: &Sender<Reply>,
) -> Result<()> {
    let (model, _) = weights::model_from_tensors::<B>(start.config, start.weights.clone(), &device)
        .map_err(|e| CliError::Internal(format!("the replica of device {rank}: {e}")))?;
    let mut opt = AdamW::<B>::new(start.hyper.adamw());
    opt.import_moments(start.moments.iter().cloned().collect(), &device)
        .map_err(|e| CliError::Internal(format!("the optimizer of device {rank}: {e}")))?;
    opt.steps = start.optimizer_steps;
    let mut replica = Replica::new(rank, world, device, training_form(model, start.kernels, start.hyper.bf16), opt);
    let hung_up = Ok(());
    while let Ok(command) = commands.recv() {
        match command {
            Command::Step { step, shard, lr } => {
                replica.seed_step(start.hyper.seed, step);
                let loss = replica.loss(start.train, &shard, start.pad_id, &start.padding);
                let value = loss.as_ref().map(|l| l.clone().into_scalar().elem::<f64>());
                if replies.send(Reply::Loss(value)).is_err() {
                    return hung_up;
                }
                match commands.recv() {
                    Ok(Command::Proceed(true)) => {
                        replica.update(loss, lr)?;
                    }
                    _ => return hung_up,
                }
            }
            Command::Proceed(_) => return Err(CliError::Internal("a step to proceed with was never sent".into())),
            Command::Logits { range, width } => {
                let eval = start.eval.ok_or_else(|| CliError::Internal("no evaluation windows".into()))?;
                let part = replica.logits(
                    &eval[range],
                    width,
                    start.hyper.per_device_eval_batch_size,
                    start.pad_id,
                    &start.eval_padding,
                );
                if replies.send(Reply::Logits(part)).is_err() {
                    return hung_up;
                }
            }
        }
    }
    hung_up
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_cut_into_consecutive_shards_and_the_last_ranks_may_get_nothing() {
        let mbs = vec![vec![10, 11, 12, 13], vec![20, 21, 22]];
        let shards = split(&mbs, 2, 2);
        assert_eq!(shards[0].micro_batches, vec![vec![10, 11], vec![20, 21]]);
        assert_eq!(shards[1].micro_batches, vec![vec![12, 13], vec![22]]);
        assert_eq!(shards[1].batch_rows, vec![4, 3]);
        let short = split(&[vec![1]], 2, 2);
        assert_eq!(short[1].micro_batches, vec![Vec::<usize>::new()]);
        // One device: the batch itself.
        assert_eq!(split(&mbs, 4, 1)[0].micro_batches, mbs);
    }

    #[test]
    fn evaluation_ranges_are_whole_batches_covering_every_window_once() {
        assert_eq!(eval_ranges(10, 2, 2), vec![0..6, 6..10]);
        assert_eq!(eval_ranges(3, 8, 2), vec![0..3, 3..3]);
        assert_eq!(eval_ranges(16, 4, 4), vec![0..4, 4..8, 8..12, 12..16]);
        for (n, b, w) in [(17, 3, 4), (1, 1, 3), (100, 7, 8)] {
            let r = eval_ranges(n, b, w);
            assert_eq!(r.len(), w);
            assert_eq!(r.first().unwrap().start, 0);
            assert_eq!(r.last().unwrap().end, n);
            assert!(r.windows(2).all(|p| p[0].end == p[1].start));
        }
    }
}
