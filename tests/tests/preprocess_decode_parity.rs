//! Preprocessing and span decoding against the HF pipeline on every window of the dev set.
//!
//! `tools/gen_preprocess_golden.py` ran run_qa's preprocessing (transformers 4.57.6 and the real
//! `tokenizers`) and utils_qa's decoding (numpy, float32) on `../shared/data/dev-v2.0.json` and
//! committed, per example, a digest of its windows and of its decoded answer under
//! `tests/fixtures/preprocess/`. The digests are FNV-1a-64 of the canonical text written by
//! [`canonical_train`] / [`canonical_validation`] here and `canonical_*` there; the logits are a
//! hash formula both sides implement ([`hash_logit`]), so no Python and no logits are needed.

use squadkit_core::decode::{decode, DecodeOptions, Logits};
use squadkit_core::preprocess::{preprocess, Features, PreprocessConfig, Window};
use squadkit_core::tokenize::QaTokenizer;
use squadkit_core::Dataset;
use squadkit_tests::{check_golden_inputs, fixture, npy, shared_data_or_skip};
use std::fmt::Write;
use std::path::Path;

fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

fn canonical_ids(w: &Window, pad: u32) -> String {
    w.padded_ids(pad).iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn canonical_train(w: &Window, pad: u32) -> String {
    format!(
        "ex={};len={};mask={};ids={};sp={};ep={}\n",
        w.example,
        w.len(),
        w.n_tokens(),
        canonical_ids(w, pad),
        w.start_position,
        w.end_position
    )
}

fn canonical_validation(w: &Window, pad: u32, id: &str) -> String {
    let offs: Vec<String> =
        (0..w.len()).map(|i| w.context_offset(i).map_or("n".to_string(), |(s, e)| format!("{s}-{e}"))).collect();
    format!(
        "ex={};id={id};len={};mask={};ids={};off={}\n",
        w.example,
        w.len(),
        w.n_tokens(),
        canonical_ids(w, pad),
        offs.join(",")
    )
}

fn load(shared: &Path) -> (Dataset, QaTokenizer) {
    let dataset = Dataset::from_squad_json(&std::fs::read(shared.join("dev-v2.0.json")).unwrap()).unwrap();
    let tok = QaTokenizer::from_tokenizer_json(&std::fs::read(shared.join("roberta-base/tokenizer.json")).unwrap()).unwrap();
    (dataset, tok)
}

/// Golden lines `id \t windows \t digest`.
fn golden_windows(name: &str) -> Vec<(String, usize, String)> {
    let text = std::fs::read_to_string(fixture(&format!("preprocess/{name}"))).expect("golden is committed");
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].parse().unwrap(), f[2].to_string())
        })
        .collect()
}

/// Compare every example's windows with the golden digests; returns the mismatching ids.
fn compare_windows(dataset: &Dataset, f: &Features, pad: u32, len: usize, stride: usize) -> Vec<String> {
    let ranges = f.windows_by_example(dataset.len());
    let mut bad = Vec::new();
    for split in ["train", "validation"] {
        let golden = golden_windows(&format!("windows_{len}_{stride}_{split}.tsv"));
        assert_eq!(golden.len(), dataset.len(), "one golden line per example");
        for ((e, range), (id, n, digest)) in dataset.examples.iter().zip(&ranges).zip(&golden) {
            assert_eq!(&e.id, id, "golden is in dataset order");
            let mut canon = String::new();
            for w in &f.windows[range.clone()] {
                canon.push_str(&if split == "train" { canonical_train(w, pad) } else { canonical_validation(w, pad, &e.id) });
            }
            if range.len() != *n || fnv1a64(canon.as_bytes()) != *digest {
                bad.push(format!("{split} {id}: {} windows (golden {n})", range.len()));
            }
        }
    }
    bad
}

#[test]
fn every_dev_window_equals_run_qa_at_384_128_and_256_64() {
    let Some(shared) = shared_data_or_skip("every_dev_window_equals_run_qa_at_384_128_and_256_64") else { return };
    let (dataset, tok) = load(&shared);
    assert_eq!(dataset.len(), 11873);
    let summary = check_golden_inputs(&shared, "preprocess/summary.json");
    for (len, stride) in [(384, 128), (256, 64)] {
        let config = PreprocessConfig { max_seq_length: len, doc_stride: stride, ..Default::default() };
        let f = preprocess(&tok, &dataset, &config).unwrap();
        let train = &summary["configs"][format!("{len}/{stride}")]["train"];
        assert_eq!(f.windows.len() as u64, train["windows"].as_u64().unwrap(), "{len}/{stride} window count");
        assert_eq!(f.report.cls_labelled as u64, train["cls_labelled"].as_u64().unwrap());
        assert_eq!(f.report.start_after_end as u64, train["start_after_end"].as_u64().unwrap());
        assert_eq!(f.report.questions_truncated, 0, "no dev question needs truncation");
        let bad = compare_windows(&dataset, &f, tok.pad_id(), len, stride);
        assert!(
            bad.is_empty(),
            "{len}/{stride}: {} examples differ from run_qa, first: {:?}",
            bad.len(),
            &bad[..bad.len().min(5)]
        );
        eprintln!(
            "{len}/{stride}: {} windows of {} examples equal run_qa's (train and validation)",
            f.windows.len(),
            dataset.len()
        );
    }
    // The notes' counts for the reference pipeline.
    let f = preprocess(&tok, &dataset, &PreprocessConfig::default()).unwrap();
    assert_eq!((f.windows.len(), f.report.cls_labelled), (12165, 6213));
    let f512 =
        preprocess(&tok, &dataset, &PreprocessConfig { max_seq_length: 512, doc_stride: 256, ..Default::default() }).unwrap();
    assert_eq!(f512.windows.len(), 11964);
}

#[test]
fn vocab_and_merges_tokenize_the_dev_set_like_tokenizer_json() {
    let Some(shared) = shared_data_or_skip("vocab_and_merges_tokenize_the_dev_set_like_tokenizer_json") else { return };
    let (dataset, tok) = load(&shared);
    let dir = shared.join("roberta-base");
    let tok2 = QaTokenizer::from_vocab_merges(
        &std::fs::read(dir.join("vocab.json")).unwrap(),
        &std::fs::read(dir.join("merges.txt")).unwrap(),
    )
    .unwrap();
    assert_eq!(tok.vocab_size(), tok2.vocab_size());
    let config = PreprocessConfig::default();
    let a = preprocess(&tok, &dataset, &config).unwrap();
    let b = preprocess(&tok2, &dataset, &config).unwrap();
    assert_eq!(a.windows.len(), b.windows.len());
    let differ = a.windows.iter().zip(&b.windows).filter(|(x, y)| x != y).count();
    assert_eq!(differ, 0, "windows differ between tokenizer.json and vocab.json + merges.txt");
}

/// The generator's logits: distinct within a row (the low 9 bits are the position), position 0
/// of every fourth window raised by 14.
fn hash_logit(window: u64, pos: u64, kind: u64) -> f32 {
    const SEED: u64 = 0x5151_4B49_5400_0003;
    let x = (SEED ^ ((window * 1024 + pos) * 2 + kind)).wrapping_add(0x9E3779B97F4A7C15);
    let mut z = (x ^ (x >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
    let h = z ^ (z >> 31);
    let mut k = (((h >> 49) << 9) | pos) as i64;
    if window.is_multiple_of(4) && pos == 0 {
        k += 14 << 19;
    }
    (k - (1 << 23)) as f32 / (1 << 19) as f32
}

#[test]
fn decoding_hash_logits_equals_utils_qa_bit_for_bit() {
    let Some(shared) = shared_data_or_skip("decoding_hash_logits_equals_utils_qa_bit_for_bit") else { return };
    let summary = check_golden_inputs(&shared, "preprocess/summary.json");
    let (dataset, tok) = load(&shared);
    let f = preprocess(&tok, &dataset, &PreprocessConfig::default()).unwrap();
    let width = 384;
    let n = f.windows.len();
    let mut start = Vec::with_capacity(n * width);
    let mut end = Vec::with_capacity(n * width);
    for w in 0..n as u64 {
        start.extend((0..width as u64).map(|p| hash_logit(w, p, 0)));
        end.extend((0..width as u64).map(|p| hash_logit(w, p, 1)));
    }
    let decoded = decode(&dataset, &f, Logits { start: &start, end: &end, width }, &DecodeOptions::default()).unwrap();
    let golden = std::fs::read_to_string(fixture("preprocess/decode_384_128.tsv")).unwrap();
    let (mut bad, mut bad_probs, mut fallbacks, mut empty) = (Vec::new(), Vec::new(), 0, 0);
    let mut lines = 0;
    for (p, line) in decoded.examples.iter().zip(golden.lines()) {
        lines += 1;
        let g: Vec<&str> = line.split('\t').collect();
        let want_pred: String = serde_json::from_str(g[2]).unwrap();
        let mut canon = String::new();
        let mut probs = String::new();
        for e in &p.nbest {
            write!(canon, "{}\x1f{:08x}\x1f{:08x}\x1e", e.text, e.start_logit.to_bits(), e.end_logit.to_bits()).unwrap();
            write!(probs, "{:016x},", e.probability.to_bits()).unwrap();
        }
        fallbacks += usize::from(p.nbest.first().is_some_and(|e| e.fallback));
        empty += usize::from(p.prediction.is_empty());
        if p.id != g[0]
            || format!("{:08x}", p.null_odds.to_bits()) != g[1]
            || p.prediction != want_pred
            || p.nbest.len().to_string() != g[3]
            || fnv1a64(canon.as_bytes()) != g[4]
        {
            bad.push(p.id.clone());
        } else if fnv1a64(probs.as_bytes()) != g[5] {
            bad_probs.push(format!("{} fallback={}", p.id, p.nbest[0].fallback));
        }
    }
    assert_eq!(lines, dataset.len());
    assert!(bad.is_empty(), "{} examples differ from utils_qa, first {:?}", bad.len(), &bad[..bad.len().min(5)]);
    // Float32 softmaxes (numpy's SIMD exp, reproduced) are bit-identical. The float64 softmax of
    // the "empty" fallback lists uses numpy's float64 exp: on a CPU with AVX-512 that is Intel
    // SVML's, which is not reproduced and can differ from libm's `exp` in the last bit (6 of the
    // 155 fallback lists); elsewhere it is libm's, and every list is bit-identical. The golden
    // records which CPU numpy ran on.
    let svml = summary["numpy_cpu_features"]["AVX512F"].as_bool().unwrap_or(true);
    let allowed = if svml { 6 } else { 0 };
    assert!(bad_probs.len() <= allowed, "float64 fallback probabilities differ for {}: {bad_probs:?}", bad_probs.len());
    assert_eq!(fallbacks as u64, summary["decode_384_128"]["empty_fallbacks"].as_u64().unwrap());
    assert_eq!(empty as u64, summary["decode_384_128"]["empty_predictions"].as_u64().unwrap());
    eprintln!("{} examples decoded as utils_qa ({} null predictions, {} 'empty' fallbacks)", lines, empty, fallbacks);
}

/// Edge cases made by the generator (`tricky_dataset.json`): answers at the very start and end
/// of a context and cut by window edges, emoji (ZWJ sequences), CJK, combining marks, Arabic
/// and Hebrew, runs of spaces, tabs and newlines, a context shorter than the stride, a question
/// longer than max length (run_qa's tokenizer panics; squadkit cuts it to max-query-length
/// tokens and the reference is the question text cut after that token), at 384/128 and 64/16.
#[test]
fn tricky_inputs_give_run_qa_windows_and_utils_qa_files() {
    let Some(shared) = shared_data_or_skip("tricky_inputs_give_run_qa_windows_and_utils_qa_files") else { return };
    let (_, tok) = load(&shared);
    let dataset = Dataset::from_squad_json(&std::fs::read(fixture("preprocess/tricky_dataset.json")).unwrap()).unwrap();
    let golden = std::fs::read_to_string(fixture("preprocess/tricky_windows.jsonl")).unwrap();
    let golden: Vec<serde_json::Value> = golden.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (len, stride, query) in [(384usize, 128usize, 64usize), (64, 16, 24)] {
        let config = PreprocessConfig { max_seq_length: len, doc_stride: stride, max_query_length: query, ..Default::default() };
        let f = preprocess(&tok, &dataset, &config).unwrap();
        let want: Vec<&serde_json::Value> = golden.iter().filter(|g| g["config"] == format!("{len}/{stride}/{query}")).collect();
        assert_eq!(f.windows.len(), want.len(), "{len}/{stride} window count");
        assert_eq!(f.report.questions_truncated, 1, "the 300-word question is cut");
        for (i, (w, g)) in f.windows.iter().zip(&want).enumerate() {
            let ctx = |what: &str| format!("{len}/{stride} window {i} ({}): {what}", g["example_id"]);
            assert_eq!(dataset.examples[w.example as usize].id, g["example_id"].as_str().unwrap(), "{}", ctx("example"));
            assert_eq!(w.len() as u64, g["len"].as_u64().unwrap(), "{}", ctx("padded length"));
            let ids: Vec<u64> = w.input_ids.iter().map(|&x| u64::from(x)).collect();
            let want_ids: Vec<u64> = g["input_ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
            assert_eq!(ids, want_ids, "{}", ctx("input_ids"));
            let offs: Vec<serde_json::Value> = (0..w.n_tokens())
                .map(|k| w.context_offset(k).map_or(serde_json::Value::Null, |(s, e)| serde_json::json!([s, e])))
                .collect();
            assert_eq!(&offs, g["offsets"].as_array().unwrap(), "{}", ctx("offsets"));
            assert_eq!(
                (u64::from(w.start_position), u64::from(w.end_position)),
                (g["start_position"].as_u64().unwrap(), g["end_position"].as_u64().unwrap()),
                "{}",
                ctx("labels")
            );
        }
        // utils_qa's three files, byte for byte, on hash logits.
        let n = f.windows.len();
        let start: Vec<f32> = (0..n as u64).flat_map(|w| (0..len as u64).map(move |p| hash_logit(w, p, 0))).collect();
        let end: Vec<f32> = (0..n as u64).flat_map(|w| (0..len as u64).map(move |p| hash_logit(w, p, 1))).collect();
        let d = decode(&dataset, &f, Logits { start: &start, end: &end, width: len }, &DecodeOptions::default()).unwrap();
        for (name, text) in
            [("predictions", d.predictions_json()), ("nbest_predictions", d.nbest_json()), ("null_odds", d.null_odds_json())]
        {
            let want = std::fs::read_to_string(fixture(&format!("preprocess/tricky_{len}_{stride}_{name}.json"))).unwrap();
            if text != want {
                let at = text.bytes().zip(want.bytes()).take_while(|(a, b)| a == b).count();
                panic!(
                    "{len}/{stride} {name}.json differs from utils_qa's at byte {at}: {:?} vs {:?}",
                    &text[at.saturating_sub(80)..(at + 80).min(text.len())],
                    &want[at.saturating_sub(80)..(at + 80).min(want.len())]
                );
            }
        }
    }
}

fn safetensors(rows: usize, width: usize, start: &[f32], end: &[f32]) -> Vec<u8> {
    let s = start.len() * 4;
    let header = serde_json::json!({
        "__metadata__": {"format": "pt"},
        "start_logits": {"dtype": "F32", "shape": [rows, width], "data_offsets": [0, s]},
        "end_logits": {"dtype": "F32", "shape": [rows, width], "data_offsets": [s, s + end.len() * 4]},
    })
    .to_string();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend(start.iter().chain(end).flat_map(|x| x.to_le_bytes()));
    out
}

/// `squadkit prepare` then `squadkit decode` on the dev set: the feature cache and JSON lines hold
/// run_qa's windows, decode writes utils_qa's answers from safetensors or .npy logits, and
/// `squadkit evaluate -n` takes its files. Bad inputs fail with exit 2, naming the file, and
/// leave nothing written.
#[test]
fn prepare_and_decode_cli_on_the_dev_set() {
    use squadkit_tests::squadkit;
    let Some(shared) = shared_data_or_skip("prepare_and_decode_cli_on_the_dev_set") else { return };
    check_golden_inputs(&shared, "preprocess/summary.json");
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let dev = shared.join("dev-v2.0.json");
    let tokenizer = shared.join("roberta-base/tokenizer.json");
    let r = squadkit([
        "prepare".as_ref(),
        dev.as_os_str(),
        "--tokenizer".as_ref(),
        tokenizer.as_os_str(),
        "--split".as_ref(),
        "train".as_ref(),
        "--out".as_ref(),
        d("dev.features").as_os_str(),
        "--jsonl".as_ref(),
        d("dev.jsonl").as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(report["windows"], 12165);
    assert_eq!(report["cls_labelled"], 6213);
    assert_eq!(report["examples"], 11873);
    // The JSON lines are the training windows: compare them with the train goldens.
    let (dataset, tok) = load(&shared);
    let golden = golden_windows("windows_384_128_train.tsv");
    let jsonl = std::fs::read_to_string(d("dev.jsonl")).unwrap();
    let mut canon: Vec<String> = vec![String::new(); dataset.len()];
    let mut counts = vec![0usize; dataset.len()];
    let index: std::collections::HashMap<&str, usize> =
        dataset.examples.iter().enumerate().map(|(i, e)| (e.id.as_str(), i)).collect();
    for line in jsonl.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let e = index[v["example_id"].as_str().unwrap()];
        let ids: Vec<String> = v["input_ids"].as_array().unwrap().iter().map(|x| x.to_string()).collect();
        let mask = v["input_ids"].as_array().unwrap().iter().filter(|x| x.as_u64() != Some(u64::from(tok.pad_id()))).count();
        canon[e].push_str(&format!(
            "ex={e};len={};mask={mask};ids={};sp={};ep={}\n",
            ids.len(),
            ids.join(","),
            v["start_position"],
            v["end_position"]
        ));
        counts[e] += 1;
        assert_eq!(v["offsets"][0], serde_json::Value::Null, "CLS has no context offset");
    }
    for (e, (id, n, digest)) in golden.iter().enumerate() {
        assert_eq!((counts[e], fnv1a64(canon[e].as_bytes()).as_str()), (*n, digest.as_str()), "JSON lines of {id}");
    }

    // Logits for every window, as safetensors and as a .npy pair.
    let n = 12165;
    let width = 384;
    let start: Vec<f32> = (0..n as u64).flat_map(|w| (0..width as u64).map(move |p| hash_logit(w, p, 0))).collect();
    let end: Vec<f32> = (0..n as u64).flat_map(|w| (0..width as u64).map(move |p| hash_logit(w, p, 1))).collect();
    std::fs::write(d("logits.safetensors"), safetensors(n, width, &start, &end)).unwrap();
    std::fs::write(d("start.npy"), npy(n, width, &start)).unwrap();
    std::fs::write(d("end.npy"), npy(n, width, &end)).unwrap();
    let features = d("dev.features");
    let decode = |logits: &[&Path], out: &Path| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["decode".as_ref(), dev.as_os_str(), features.as_os_str()];
        args.extend(logits.iter().map(|p| p.as_os_str()));
        args.extend(["--out".as_ref(), out.as_os_str()]);
        squadkit(args)
    };
    let r = decode(&[&d("logits.safetensors")], &d("out_st"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = decode(&[&d("start.npy"), &d("end.npy")], &d("out_npy"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in ["predictions.json", "nbest_predictions.json", "null_odds.json"] {
        let a = std::fs::read(d("out_st").join(name)).unwrap();
        assert_eq!(a, std::fs::read(d("out_npy").join(name)).unwrap(), "{name}: safetensors and .npy agree");
    }
    // Predictions and null odds against utils_qa's.
    let preds: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(d("out_st/predictions.json")).unwrap()).unwrap();
    let odds: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(d("out_st/null_odds.json")).unwrap()).unwrap();
    let golden = std::fs::read_to_string(fixture("preprocess/decode_384_128.tsv")).unwrap();
    for line in golden.lines() {
        let g: Vec<&str> = line.split('\t').collect();
        let want: String = serde_json::from_str(g[2]).unwrap();
        assert_eq!(preds[g[0]].as_str().unwrap(), want, "prediction of {}", g[0]);
        let bits = (odds[g[0]].as_f64().unwrap() as f32).to_bits();
        assert_eq!(format!("{bits:08x}"), g[1], "null odds of {}", g[0]);
    }
    // The official scorer's interface takes them.
    let r = squadkit([
        "evaluate".as_ref(),
        dev.as_os_str(),
        d("out_st/predictions.json").as_os_str(),
        "-n".as_ref(),
        d("out_st/null_odds.json").as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"total\": 11873"), "{}", r.stdout);

    // Mismatches: fewer rows than windows, features of other data, unknown DATA, bad tokenizer.
    std::fs::write(d("short.npy"), npy(n - 1, width, &start[..(n - 1) * width])).unwrap();
    let r = decode(&[&d("short.npy"), &d("short.npy")], &d("out_bad"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("short.npy: 12164 rows of logits but") && r.stderr.contains("has 12165 windows"), "{}", r.stderr);
    assert!(!d("out_bad").exists(), "nothing is written on error");
    std::fs::write(d("narrow.npy"), npy(n, 100, &start[..n * 100])).unwrap();
    let r = decode(&[&d("narrow.npy"), &d("narrow.npy")], &d("out_bad"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("rows of 100 positions"), "{}", r.stderr);
    let tricky = fixture("preprocess/tricky_dataset.json");
    let r = squadkit([
        "decode".as_ref(),
        tricky.as_os_str(),
        features.as_os_str(),
        d("logits.safetensors").as_os_str(),
        "--out".as_ref(),
        d("out_bad").as_os_str(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("dev.features: made from other data than"), "{}", r.stderr);
    std::fs::write(d("notes.txt"), "just some notes\n").unwrap();
    let r = squadkit([
        "prepare".as_ref(),
        d("notes.txt").as_os_str(),
        "--tokenizer".as_ref(),
        tokenizer.as_os_str(),
        "--out".as_ref(),
        d("x.features").as_os_str(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("notes.txt: not a SQuAD JSON, JSON lines, parquet file or datasets directory"), "{}", r.stderr);
    let r = squadkit([
        "prepare".as_ref(),
        dev.as_os_str(),
        "--tokenizer".as_ref(),
        d("notes.txt").as_os_str(),
        "--out".as_ref(),
        d("x.features").as_os_str(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("notes.txt: not a usable tokenizer.json"), "{}", r.stderr);
    assert!(!d("x.features").exists());
}

/// The seed blog's window: its canonical text in `tools/gen_seed_golden.py` (`canonical`):
/// unmasked offsets of the tokens that are not padding.
fn canonical_seed(w: &Window, pad: u32) -> String {
    let offs: Vec<String> = w.offsets.iter().map(|(s, e)| format!("{s}-{e}")).collect();
    format!(
        "len={};mask={};ids={};off={};sp={};ep={}\n",
        w.len(),
        w.n_tokens(),
        canonical_ids(w, pad),
        offs.join(","),
        w.start_position,
        w.end_position
    )
}

/// Golden lines `id \t window digest \t argmax answer`.
fn seed_golden() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(fixture("preprocess/seed_384.tsv")).expect("golden is committed");
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string(), serde_json::from_str(f[2]).unwrap())
        })
        .collect()
}

/// `--recipe seed` and `--strategy argmax` against the blog's own functions
/// (`tools/gen_seed_golden.py`): every dev question's one window (ids, unmasked offsets,
/// labels) and its argmax answer on the hash logits; then the same through `squadkit prepare`
/// and `squadkit decode`, and argmax refused on run_qa's several windows per question.
#[test]
fn the_seed_recipe_and_argmax_decoding_equal_the_blogs_functions() {
    use squadkit_core::decode::Strategy;
    use squadkit_core::preprocess::Recipe;
    use squadkit_tests::squadkit;
    let Some(shared) = shared_data_or_skip("the_seed_recipe_and_argmax_decoding_equal_the_blogs_functions") else { return };
    let summary = check_golden_inputs(&shared, "preprocess/seed_summary.json");
    let (dataset, tok) = load(&shared);
    let config = PreprocessConfig { recipe: Recipe::Seed, ..Default::default() };
    let f = preprocess(&tok, &dataset, &config).unwrap();
    assert_eq!(f.windows.len(), dataset.len(), "one window per question");
    assert_eq!(f.report.cls_labelled as u64, summary["cls_labelled"].as_u64().unwrap());
    assert_eq!(f.report.start_after_end as u64, summary["start_after_end"].as_u64().unwrap());
    let golden = seed_golden();
    assert_eq!(golden.len(), dataset.len());
    let bad: Vec<&str> = f
        .windows
        .iter()
        .zip(&golden)
        .filter(|(w, (_, digest, _))| fnv1a64(canonical_seed(w, tok.pad_id()).as_bytes()) != *digest)
        .map(|(_, (id, _, _))| id.as_str())
        .collect();
    assert!(bad.is_empty(), "{} windows differ from the blog's, first {:?}", bad.len(), &bad[..bad.len().min(5)]);

    let width = 384;
    let n = f.windows.len();
    let start: Vec<f32> = (0..n as u64).flat_map(|w| (0..width as u64).map(move |p| hash_logit(w, p, 0))).collect();
    let end: Vec<f32> = (0..n as u64).flat_map(|w| (0..width as u64).map(move |p| hash_logit(w, p, 1))).collect();
    let opts = DecodeOptions { strategy: Strategy::Argmax, ..Default::default() };
    let decoded = decode(&dataset, &f, Logits { start: &start, end: &end, width }, &opts).unwrap();
    let mut empty = 0;
    for (p, (id, _, want)) in decoded.examples.iter().zip(&golden) {
        assert_eq!((&p.id, &p.prediction), (id, want), "argmax answer");
        empty += usize::from(p.prediction.is_empty());
    }
    assert_eq!(empty as u64, summary["empty_answers"].as_u64().unwrap());
    eprintln!("{n} seed windows and argmax answers equal the blog's ({empty} empty)");

    // The same through the CLI.
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let dev = shared.join("dev-v2.0.json");
    let tokenizer = shared.join("roberta-base/tokenizer.json");
    let prepare = |recipe: &str, out: &Path| {
        squadkit([
            "prepare".as_ref(),
            dev.as_os_str(),
            "--tokenizer".as_ref(),
            tokenizer.as_os_str(),
            "--recipe".as_ref(),
            recipe.as_ref(),
            "--output-file".as_ref(),
            out.as_os_str(),
        ])
    };
    let r = prepare("seed", &d("seed.features"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(d("logits.safetensors"), safetensors(n, width, &start, &end)).unwrap();
    let decode_cli = |features: &Path, logits: &Path, out: &Path| {
        squadkit([
            "decode".as_ref(),
            dev.as_os_str(),
            features.as_os_str(),
            logits.as_os_str(),
            "--strategy".as_ref(),
            "argmax".as_ref(),
            "--output-dir".as_ref(),
            out.as_os_str(),
        ])
    };
    let r = decode_cli(&d("seed.features"), &d("logits.safetensors"), &d("out"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let preds: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(d("out/predictions.json")).unwrap()).unwrap();
    assert_eq!(preds.len(), dataset.len());
    for (id, _, want) in &golden {
        assert_eq!(preds[id].as_str(), Some(want.as_str()), "predictions.json answer of {id}");
    }
    assert!(!d("out/null_odds.json").exists() && !d("out/nbest_predictions.json").exists(), "argmax has neither");
    // run_qa's windows: several for some questions, refused by name.
    let r = prepare("run-qa", &d("runqa.features"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = 12165;
    let more = |kind| (0..rows as u64).flat_map(move |w| (0..width as u64).map(move |p| hash_logit(w, p, kind)));
    let (start, end): (Vec<f32>, Vec<f32>) = (more(0).collect(), more(1).collect());
    std::fs::write(d("runqa.safetensors"), safetensors(rows, width, &start, &end)).unwrap();
    let r = decode_cli(&d("runqa.features"), &d("runqa.safetensors"), &d("out2"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("one window per question") && r.stderr.contains("--recipe seed"), "{}", r.stderr);
    assert!(!d("out2").exists(), "nothing written");
}
