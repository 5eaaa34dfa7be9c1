//! The data order of a training run and the per-step random streams, both counter-based so
//! that a resumed run draws exactly what an uninterrupted one draws.
//!
//! Every epoch is a permutation of the training windows drawn from a generator keyed by
//! `(seed, epoch)`; with `group_by_length` it is regrouped as HF's `LengthGroupedSampler` does
//! (mega-batches of 50 batches sorted by length, the longest batch first). The data position
//! is therefore just `(epoch, step in epoch)`.

/// SplitMix64: a tiny counter-based generator whose stream depends only on its seed.
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// A seed derived from `(seed, stream, index)`.
pub fn derive_seed(seed: u64, stream: u64, index: u64) -> u64 {
    let mut r = SplitMix::new(seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
    r.next_u64()
}

/// The stream of the data order (keyed by epoch).
pub const DATA_ORDER: u64 = 1;
/// The stream of the backend's RNG (dropout), reseeded before every step (keyed by step).
pub const STEP_RNG: u64 = 2;

/// The micro-batches of one epoch: window indices, in training order; with `drop_last`, without
/// the partial batch (HF's `dataloader_drop_last`).
pub fn epoch_batches(
    lengths: &[usize],
    batch: usize,
    seed: u64,
    epoch: u64,
    group_by_length: bool,
    drop_last: bool,
) -> Vec<Vec<usize>> {
    let mut batches = ordered_batches(lengths, batch, seed, epoch, group_by_length);
    if drop_last {
        batches.retain(|b| b.len() == batch.max(1));
    }
    batches
}

fn ordered_batches(lengths: &[usize], batch: usize, seed: u64, epoch: u64, group_by_length: bool) -> Vec<Vec<usize>> {
    let n = lengths.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix::new(derive_seed(seed, DATA_ORDER, epoch));
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    let batch = batch.max(1);
    if !group_by_length {
        return order.chunks(batch).map(<[usize]>::to_vec).collect();
    }
    // LengthGroupedSampler: mega-batches of 50 batches, each sorted by length (descending,
    // stable), and the batch holding the longest window moved first.
    for chunk in order.chunks_mut(50 * batch) {
        chunk.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
    }
    let mut batches: Vec<Vec<usize>> = order.chunks(batch).map(<[usize]>::to_vec).collect();
    if let Some((longest, _)) =
        batches.iter().enumerate().max_by_key(|(i, b)| (b.iter().map(|&w| lengths[w]).max().unwrap_or(0), usize::MAX - i))
    {
        batches.swap(0, longest);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_are_seeded_permutations() {
        let lengths = vec![10; 23];
        let a = epoch_batches(&lengths, 4, 42, 0, false, false);
        assert_eq!(a, epoch_batches(&lengths, 4, 42, 0, false, false));
        assert_ne!(a, epoch_batches(&lengths, 4, 42, 1, false, false));
        assert_eq!(a.len(), 6);
        let mut all: Vec<usize> = a.concat();
        all.sort();
        assert_eq!(all, (0..23).collect::<Vec<_>>());
        // drop_last: the same order without the partial batch, grouped or not.
        for grouped in [false, true] {
            let full = epoch_batches(&lengths, 4, 42, 0, grouped, false);
            let dropped = epoch_batches(&lengths, 4, 42, 0, grouped, true);
            assert_eq!(dropped.len(), 5);
            assert!(dropped.iter().all(|b| b.len() == 4));
            assert_eq!(dropped, full.into_iter().filter(|b| b.len() == 4).collect::<Vec<_>>());
        }
    }

    #[test]
    fn length_grouping_keeps_every_window_and_pads_less() {
        let mut r = SplitMix::new(7);
        let lengths: Vec<usize> = (0..500).map(|_| 20 + r.below(100)).collect();
        let padded =
            |bs: &[Vec<usize>]| -> usize { bs.iter().map(|b| b.len() * b.iter().map(|&i| lengths[i]).max().unwrap()).sum() };
        let plain = epoch_batches(&lengths, 8, 1, 0, false, false);
        let grouped = epoch_batches(&lengths, 8, 1, 0, true, false);
        let mut all = grouped.concat();
        all.sort();
        assert_eq!(all, (0..500).collect::<Vec<_>>());
        assert!(padded(&grouped) < padded(&plain) * 8 / 10, "{} vs {}", padded(&grouped), padded(&plain));
        let longest = *lengths.iter().max().unwrap();
        assert!(grouped[0].iter().any(|&i| lengths[i] == longest), "the longest batch comes first");
    }
}
