//! A bounded mutation fuzzer over every parser users feed files to (issue 16): SQuAD JSON,
//! JSON lines, predictions, na_probs, the feature cache, logits (npy and safetensors), model
//! weights (safetensors), config.json and checkpoint manifests.
//!
//! Each parser gets its committed or built seed files mutated a fixed number of times by a
//! seeded generator (byte flips, JSON and binary tokens that break parsers — huge lengths,
//! NaN, deep nesting —, deletions, duplications, truncations), so a run is the same every
//! time and takes seconds. A parser may refuse its input, never panic; and no allocation may
//! exceed 1 GiB (this binary's allocator refuses it, which aborts the run loudly): a size read
//! from a file must be checked before it is allocated.

use squadkit_core::scorer::{parse_na_probs, parse_predictions};
use squadkit_core::Dataset;
use squadkit_native::inputs::features::FeatureCache;
use squadkit_native::inputs::logits::{npy_bytes, read_npy, read_safetensors, safetensors_bytes, Matrix};
use squadkit_native::model::roberta::RobertaConfig;
use squadkit_native::model::weights::parse_safetensors;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};

/// The system allocator, refusing single allocations over 1 GiB.
struct Bounded;

const MAX_ALLOCATION: usize = 1 << 30;

unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Bounded = Bounded;

/// xorshift64*: a fixed sequence for a fixed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces that break parsers: JSON structure, numbers at the edges, Python's constants, and
/// little-endian lengths from 0 to u64::MAX.
const TOKENS: [&[u8]; 22] = [
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"-1",
    b"1e309",
    b"NaN",
    b"-Infinity",
    b"18446744073709551616",
    b"\\u0000",
    b"\xEF\xBB\xBF",
    b"\xff\xfe",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    &[0, 0, 0, 0, 0, 0, 0, 0],
    &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[0, 0, 0, 0, 0, 1, 0, 0],
    b"\n",
];

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                b.splice(at..at, t.iter().copied());
            }
            2 => {
                // Overwrite with a token (binary headers: lengths and offsets).
                let t = TOKENS[rng.below(TOKENS.len())];
                for (k, &x) in t.iter().enumerate() {
                    if let Some(y) = b.get_mut(at + k) {
                        *y = x;
                    }
                }
            }
            3 => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            4 => b.truncate(at),
            5 if !b.is_empty() => {
                let from = rng.below(b.len());
                let piece: Vec<u8> = b[from..(from + 1 + rng.below(256)).min(b.len())].to_vec();
                b.splice(at..at, piece);
            }
            _ => {
                let i = rng.below(b.len().max(1));
                if let Some(x) = b.get_mut(i) {
                    *x ^= 1 << rng.below(8);
                }
            }
        }
    }
    b
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(rel)
}

/// Feed `rounds` mutants of each seed to `parse`; a panic fails with the input that caused it
/// (written next to the test's temporary files for a rerun).
fn fuzz(name: &str, seeds: &[Vec<u8>], rounds: usize, parse: impl Fn(&[u8])) {
    let mut rng = Rng(0x5eed_0000 ^ name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    // The seeds themselves parse (or are refused) without a panic too.
    for s in seeds {
        parse(s);
    }
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    for round in 0..rounds {
        let seed = &seeds[round % seeds.len()];
        let input = mutate(seed, &mut rng);
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&input))).is_err() {
            failure = Some((round, input));
            break;
        }
    }
    std::panic::set_hook(quiet);
    if let Some((round, input)) = failure {
        let path = std::env::temp_dir().join(format!("squadkit-fuzz-{name}-{round}.bin"));
        std::fs::write(&path, &input).unwrap();
        // Rerun outside catch_unwind for the panic's message.
        parse(&input);
        panic!("{name}: round {round} panicked on {} (rerun above)", path.display());
    }
}

/// Parsers that read a path: the mutant is written to a file first.
fn through_file(dir: &Path, name: &str, parse: impl Fn(&Path)) -> impl Fn(&[u8]) {
    let path = dir.join(name);
    move |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        parse(&path);
    }
}

#[test]
fn squad_json_and_json_lines_never_panic() {
    let seeds = [std::fs::read(fixture("preprocess/tricky_dataset.json")).unwrap()];
    fuzz("squad_json", &seeds, 3000, |b| {
        let _ = Dataset::from_squad_json(b);
    });
    let seeds = [std::fs::read(fixture("data/tricky.jsonl")).unwrap()];
    fuzz("json_lines", &seeds, 3000, |b| {
        let _ = Dataset::from_json_lines(b);
    });
}

#[test]
fn predictions_and_na_probs_never_panic() {
    let seeds = [std::fs::read(fixture("preprocess/tricky_384_128_predictions.json")).unwrap()];
    fuzz("predictions", &seeds, 3000, |b| {
        let _ = parse_predictions(b);
    });
    let seeds =
        [std::fs::read(fixture("preprocess/tricky_384_128_null_odds.json")).unwrap(), b"{\"a\": NaN, \"b\": -Infinity}".to_vec()];
    fuzz("na_probs", &seeds, 3000, |b| {
        let _ = parse_na_probs(b);
    });
}

#[test]
fn config_json_never_panics_and_bounds_sizes() {
    let seeds = [std::fs::read(fixture("model/tiny/config.json")).unwrap()];
    fuzz("config", &seeds, 3000, |b| {
        if let Ok(c) = RobertaConfig::from_json(b) {
            assert!(c.parameter_count() <= RobertaConfig::MAX_PARAMETERS);
        }
    });
}

#[test]
fn weights_and_logits_never_panic() {
    let weights = std::fs::read(fixture("model/tiny/model.safetensors")).unwrap();
    // The header is where the lengths and offsets are: mutate a copy cut after it too.
    let header_len = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let seeds = [weights.clone(), weights[..(8 + header_len + 64).min(weights.len())].to_vec()];
    fuzz("weights_safetensors", &seeds, 1500, |b| {
        let _ = parse_safetensors(b);
    });
    let d = tempfile::tempdir().unwrap();
    let m = |rows: usize, width: usize| Matrix {
        rows,
        width,
        data: (0..rows * width).map(|i| i as f32 * 0.5).collect::<Vec<_>>().into(),
    };
    let seeds = [npy_bytes(&m(3, 5)), npy_bytes(&m(0, 4))];
    fuzz(
        "logits_npy",
        &seeds,
        1500,
        through_file(d.path(), "l.npy", |p| {
            let _ = read_npy(p);
        }),
    );
    let seeds = [safetensors_bytes(&m(3, 5), &m(3, 5))];
    fuzz(
        "logits_safetensors",
        &seeds,
        1500,
        through_file(d.path(), "l.safetensors", |p| {
            let _ = read_safetensors(p);
        }),
    );
}

/// The core suites' tiny byte-level BPE tokenizer (every byte symbol, one merge).
fn tiny_tokenizer() -> squadkit_core::tokenize::QaTokenizer {
    let mut vocab = serde_json::Map::new();
    for (i, t) in ["<s>", "<pad>", "</s>", "<unk>"].iter().enumerate() {
        vocab.insert(t.to_string(), i.into());
    }
    for (i, c) in tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet().into_iter().enumerate() {
        vocab.insert(c.to_string(), (4 + i).into());
    }
    let n = vocab.len();
    vocab.insert("<mask>".into(), n.into());
    squadkit_core::tokenize::QaTokenizer::from_vocab_merges(&serde_json::to_vec(&vocab).unwrap(), b"#version: 0.2\n").unwrap()
}

#[test]
fn the_feature_cache_never_panics() {
    use squadkit_core::preprocess::{preprocess, PreprocessConfig, Split};
    let dataset = Dataset::from_squad_json(&std::fs::read(fixture("preprocess/tricky_dataset.json")).unwrap()).unwrap();
    let tok = tiny_tokenizer();
    let config = PreprocessConfig { max_seq_length: 64, doc_stride: 16, max_query_length: 24, ..PreprocessConfig::default() };
    let features = preprocess(&tok, &dataset, &config).unwrap();
    let ids = dataset.examples.iter().map(|e| e.id.clone()).collect();
    let cache = FeatureCache::new(features, Split::Validation, ids, tok.vocab_size(), tok.pad_id(), tok.cls_id());
    let bytes = cache.to_bytes();
    assert_eq!(FeatureCache::from_bytes(Path::new("c"), &bytes).unwrap(), cache, "the seed reads back");
    fuzz("feature_cache", &[bytes], 2000, |b| {
        let _ = FeatureCache::from_bytes(Path::new("c"), b);
    });
}

#[test]
fn checkpoint_manifests_never_panic() {
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    let files: [(&str, &[u8]); 2] = [("model.safetensors", b"weights"), ("trainer_state.json", b"{}")];
    let dir = squadkit_native::train::checkpoint::save(&run, 3, &files, None, &[]).unwrap();
    let manifest_path = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("trainer_state.json"))
        .expect("a manifest");
    let seed = std::fs::read(&manifest_path).unwrap();
    assert!(squadkit_native::train::checkpoint::verify(&dir).is_ok());
    fuzz("checkpoint_manifest", &[seed], 1500, |b| {
        std::fs::write(&manifest_path, b).unwrap();
        let _ = squadkit_native::train::checkpoint::verify(&dir);
    });
}
