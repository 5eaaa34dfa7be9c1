#!/usr/bin/env python3
"""Golden digests for squadkit's preprocessing and span decoding, made by the real HF libraries.

Runs the run_qa preprocessing (`prepare_train_features` / `prepare_validation_features`: the
same tokenizer call, the same label walk, the same offset masking) with transformers'
`PreTrainedTokenizerFast` on the shared roberta-base `tokenizer.json`, and utils_qa's
`postprocess_qa_predictions` semantics with numpy on float32 logits from a hash formula that
`tests/tests/preprocess_decode_parity.rs` implements too, so that tests need no Python and no
logits are committed. Writes small text files under tests/fixtures/preprocess/:

- windows_{LEN}_{STRIDE}_{split}.tsv: one line per example: id, number of windows, and a 16-hex
  FNV-1a-64 digest of the canonical serialization of all its windows (see `canonical_*`).
- decode_384_128.tsv: one line per example: id, null odds (float32 bits), the prediction (JSON
  string), a digest of the n-best list (texts, logits bits, order) and of its probabilities.
- numpy_exp_f32.tsv: numpy's float32 `exp` (its SIMD kernel on this CPU) on 4012 inputs, input
  and output bits: the softmax of utils_qa uses it, and it is not the correctly rounded expf.
- tricky_dataset.json, tricky_windows.jsonl, tricky_{384_128,64_16}_*.json: edge cases (answers
  at the edges, emoji, CJK, combining marks, RTL, runs of spaces and newlines, a context shorter
  than the stride, a question longer than max length), every window in full and utils_qa's three
  output files as it writes them.
- summary.json: window counts, CLS-labelled windows, quirk count, versions, numpy's SIMD, and the
  SHA-256 of the dev set and tokenizer it was made from.

Usage (throwaway venv, no torch needed):
    python3 -m venv /tmp/squadkit-venv-pre
    /tmp/squadkit-venv-pre/bin/pip install transformers==4.57.6 tokenizers==0.22.2 numpy==2.4.6
    /tmp/squadkit-venv-pre/bin/python tools/gen_preprocess_golden.py \
        --data ../shared/data/dev-v2.0.json --tokenizer ../shared/data/roberta-base/tokenizer.json

The reference functions below are written for this script and follow run_qa.py / utils_qa.py
(transformers examples, v4.57) statement by statement; the tokenizer and numpy do the work.
"""

import argparse
import collections
import json
import os
import struct
import sys

import numpy as np
import tokenizers
import transformers
from transformers import PreTrainedTokenizerFast

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shared_inputs import sha256  # noqa: E402

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def fnv1a64(data: bytes) -> str:
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return f"{h:016x}"


def load_examples(path):
    """The official JSON flattened in dataset order, as HF `datasets` squad_v2 lays it out."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)["data"]
    ex = {"id": [], "title": [], "context": [], "question": [], "answers": []}
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                ex["id"].append(qa["id"])
                ex["title"].append(article.get("title", ""))
                ex["context"].append(para["context"])
                ex["question"].append(qa["question"])
                ex["answers"].append(
                    {
                        "text": [a["text"] for a in qa["answers"]],
                        "answer_start": [a["answer_start"] for a in qa["answers"]],
                    }
                )
    return ex


def load_tokenizer(path):
    return PreTrainedTokenizerFast(
        tokenizer_file=path,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        sep_token="</s>",
        pad_token="<pad>",
        cls_token="<s>",
        mask_token="<mask>",
    )


def tokenize(tokenizer, examples, max_len, stride, pad):
    questions = [q.lstrip() for q in examples["question"]]
    return tokenizer(
        questions,
        examples["context"],
        truncation="only_second",
        max_length=max_len,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length" if pad else False,
    )


def prepare_train_features(tokenizer, examples, max_len, stride, pad=True):
    """run_qa's prepare_train_features (pad_on_right: RoBERTa pads on the right)."""
    tok = tokenize(tokenizer, examples, max_len, stride, pad)
    sample_mapping = tok.pop("overflow_to_sample_mapping")
    offset_mapping = tok.pop("offset_mapping")
    tok["start_positions"] = []
    tok["end_positions"] = []
    tok["example_index"] = []
    for i, offsets in enumerate(offset_mapping):
        input_ids = tok["input_ids"][i]
        cls_index = input_ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in input_ids else 0
        sequence_ids = tok.sequence_ids(i)
        sample_index = sample_mapping[i]
        tok["example_index"].append(sample_index)
        answers = examples["answers"][sample_index]
        if len(answers["answer_start"]) == 0:
            tok["start_positions"].append(cls_index)
            tok["end_positions"].append(cls_index)
            continue
        start_char = answers["answer_start"][0]
        end_char = start_char + len(answers["text"][0])
        token_start_index = 0
        while sequence_ids[token_start_index] != 1:
            token_start_index += 1
        token_end_index = len(input_ids) - 1
        while sequence_ids[token_end_index] != 1:
            token_end_index -= 1
        if not (offsets[token_start_index][0] <= start_char and offsets[token_end_index][1] >= end_char):
            tok["start_positions"].append(cls_index)
            tok["end_positions"].append(cls_index)
        else:
            while token_start_index < len(offsets) and offsets[token_start_index][0] <= start_char:
                token_start_index += 1
            tok["start_positions"].append(token_start_index - 1)
            while offsets[token_end_index][1] >= end_char:
                token_end_index -= 1
            tok["end_positions"].append(token_end_index + 1)
    return tok


def prepare_validation_features(tokenizer, examples, max_len, stride, pad=True):
    """run_qa's prepare_validation_features."""
    tok = tokenize(tokenizer, examples, max_len, stride, pad)
    sample_mapping = tok.pop("overflow_to_sample_mapping")
    tok["example_id"] = []
    tok["example_index"] = []
    for i in range(len(tok["input_ids"])):
        sequence_ids = tok.sequence_ids(i)
        sample_index = sample_mapping[i]
        tok["example_id"].append(examples["id"][sample_index])
        tok["example_index"].append(sample_index)
        tok["offset_mapping"][i] = [
            (o if sequence_ids[k] == 1 else None) for k, o in enumerate(tok["offset_mapping"][i])
        ]
    return tok


def canonical_train(tok, i):
    ids = ",".join(map(str, tok["input_ids"][i]))
    mask = sum(tok["attention_mask"][i])
    return f"ex={tok['example_index'][i]};len={len(tok['input_ids'][i])};mask={mask};ids={ids};sp={tok['start_positions'][i]};ep={tok['end_positions'][i]}\n"


def canonical_validation(tok, i):
    ids = ",".join(map(str, tok["input_ids"][i]))
    mask = sum(tok["attention_mask"][i])
    offs = ",".join("n" if o is None else f"{o[0]}-{o[1]}" for o in tok["offset_mapping"][i])
    return f"ex={tok['example_index'][i]};id={tok['example_id'][i]};len={len(tok['input_ids'][i])};mask={mask};ids={ids};off={offs}\n"


def batches(examples, size=1000):
    n = len(examples["id"])
    for s in range(0, n, size):
        yield s, {k: v[s : s + size] for k, v in examples.items()}


# ---- Hash logits: the same formula lives in tests/tests/preprocess_decode_parity.rs ----
LOGIT_SEED = 0x5151_4B49_5400_0003


def splitmix64(x):
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(MASK64)
    z = x
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(MASK64)
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(MASK64)
    return z ^ (z >> np.uint64(31))


def hash_logits(n_windows, width, kind):
    """float32 logits in [-16, 16 + 7) whose values are distinct within a row (the low 9 bits of
    the integer are the position), so that no exact tie reaches the top-k; position 0 of every
    fourth window is raised by 14 so that the null answer sometimes wins."""
    w = np.arange(n_windows, dtype=np.uint64)[:, None]
    p = np.arange(width, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        key = np.uint64(LOGIT_SEED) ^ ((w * np.uint64(1024) + p) * np.uint64(2) + np.uint64(kind))
        h = splitmix64(key)
    k = ((h >> np.uint64(49)) << np.uint64(9)) | p
    k = k.astype(np.int64)
    boost = ((np.arange(n_windows) % 4) == 0)[:, None] & (np.arange(width) == 0)[None, :]
    k = k + boost.astype(np.int64) * (14 << 19)
    return (k - (1 << 23)).astype(np.float32) / np.float32(1 << 19)


def postprocess_qa_predictions(examples, features, start_all, end_all, n_best_size=20, max_answer_length=30, null_score_diff_threshold=0.0):
    """utils_qa.postprocess_qa_predictions with version_2_with_negative=True, returning the
    predictions, n-best lists and null odds instead of writing them."""
    example_id_to_index = {k: i for i, k in enumerate(examples["id"])}
    features_per_example = collections.defaultdict(list)
    for i, eid in enumerate(features["example_id"]):
        features_per_example[example_id_to_index[eid]].append(i)
    all_predictions, all_nbest, null_odds = {}, {}, {}
    for example_index, eid in enumerate(examples["id"]):
        min_null = None
        prelim = []
        for fi in features_per_example[example_index]:
            start_logits = start_all[fi]
            end_logits = end_all[fi]
            offset_mapping = features["offset_mapping"][fi]
            feature_null_score = start_logits[0] + end_logits[0]
            if min_null is None or min_null["score"] > feature_null_score:
                min_null = {"offsets": (0, 0), "score": feature_null_score, "start_logit": start_logits[0], "end_logit": end_logits[0]}
            start_indexes = np.argsort(start_logits)[-1 : -n_best_size - 1 : -1].tolist()
            end_indexes = np.argsort(end_logits)[-1 : -n_best_size - 1 : -1].tolist()
            for s in start_indexes:
                for e in end_indexes:
                    if s >= len(offset_mapping) or e >= len(offset_mapping) or offset_mapping[s] is None or offset_mapping[e] is None:
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    prelim.append({"offsets": (offset_mapping[s][0], offset_mapping[e][1]), "score": start_logits[s] + end_logits[e], "start_logit": start_logits[s], "end_logit": end_logits[e]})
        prelim.append(min_null)
        null_score = min_null["score"]
        preds = sorted(prelim, key=lambda x: x["score"], reverse=True)[:n_best_size]
        if not any(p["offsets"] == (0, 0) for p in preds):
            preds.append(min_null)
        context = examples["context"][example_index]
        for pred in preds:
            offsets = pred.pop("offsets")
            pred["text"] = context[offsets[0] : offsets[1]]
        fallback = False
        if len(preds) == 0 or (len(preds) == 1 and preds[0]["text"] == ""):
            preds.insert(0, {"text": "empty", "start_logit": 0.0, "end_logit": 0.0, "score": 0.0})
            fallback = True
        scores = np.array([pred.pop("score") for pred in preds])
        exp_scores = np.exp(scores - np.max(scores))
        probs = exp_scores / exp_scores.sum()
        for prob, pred in zip(probs, preds):
            pred["probability"] = prob
        i = 0
        while preds[i]["text"] == "":
            i += 1
        best = preds[i]
        score_diff = null_score - best["start_logit"] - best["end_logit"]
        null_odds[eid] = score_diff
        all_predictions[eid] = "" if score_diff > null_score_diff_threshold else best["text"]
        all_nbest[eid] = (preds, fallback)
    return all_predictions, all_nbest, null_odds


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", float(x)))[0]


def f64_bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def write_numpy_exp(path):
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            -rng.random(3000) * 40.0,
            -rng.random(900) * 110.0,
            rng.random(96) * 100.0 - 10.0,
            [0.0, -0.0, -1e-8, -87.0, -88.7, -103.9, -104.0, 88.7, 88.8, 1.0, -1.0, 0.5, -0.5, -20.0, -30.0, -50.0],
        ]
    ).astype(np.float32)
    y = np.exp(x)
    with open(path, "w") as f:
        for a, b in zip(x, y):
            f.write(f"{f32_bits(a):08x}\t{f32_bits(b):08x}\n")


# ---- Tricky inputs: a small dataset of edge cases, full windows and utils_qa's output files ----
LONG_CONTEXT = " ".join(f"Sentence {i} says that item {i} costs {i * 7} euros." for i in range(60))


def tricky_dataset():
    """(context, [(question, answer text or None, answer_start)]) in the official layout."""
    paras = [
        ("Paris is the capital and most populous city of France.", [("What is the capital of France?", "Paris", None)]),
        ("The capital of France is Paris", [("What is the capital?", "Paris", None), ("Which country?", "France", None)]),
        ("The 😀 emoji and the 👨‍👩‍👧 family emoji were added to Unicode in 2015. 🎉🎉", [
            ("When were they added?", "2015", None), ("Which family?", "👨‍👩‍👧 family", None), ("Party?", "🎉🎉", None)]),
        ("東京は日本の首都です。人口は約1400万人。大阪は第二の都市。", [("首都は?", "東京", None), ("人口は?", "約1400万人", None)]),
        ("Cafe\u0301 au lait is sold in the nai\u0308ve cafe\u0301s of Zu\u0308rich.", [
            ("What is sold?", "Cafe\u0301 au lait", None), ("Where?", "Zu\u0308rich", None)]),
        ("القاهرة هي عاصمة مصر. The Hebrew word שלום means peace, and سلام too.", [
            ("What is the capital of Egypt?", "القاهرة", None), ("Which word means peace?", "שלום", None)]),
        ("First line.\n\n  Second   line with   spaces.\nThird\tline  \n\n\n end.  ", [
            ("Which line has spaces?", "Second   line with   spaces", None), ("What ends it?", "end.", None)]),
        ("Short.", [("Is it short?", "Short", None), ("Unanswerable?", None, 0)]),
        (LONG_CONTEXT, [
            ("How much does item 0 cost?", "0 euros", None),
            ("How much does item 59 cost?", "413 euros", None),
            ("What costs 210 euros?", "item 30", None),
            ("What does sentence 17 say?", "Sentence 17 says that item 17 costs 119 euros.", None),
            ("Nothing here?", None, 0),
        ] + [(f"Where is item {i}?", f"item {i}", LONG_CONTEXT.index(f"item {i} ")) for i in range(2, 60, 9)]),
        (LONG_CONTEXT, [(" " + "why " * 300 + "is this so long?", "item 5", LONG_CONTEXT.index("item 5 ")),
                        ("\u3000\u00a0 Leading whitespace question?", "euros", None)]),
    ]
    data = {"version": "v2.0", "data": [{"title": "Tricky", "paragraphs": []}]}
    n = 0
    for context, qas in paras:
        para = {"context": context, "qas": []}
        for q, text, start in qas:
            if text is not None:
                start = context.index(text) if start is None else start
                assert context[start : start + len(text)] == text, (text, context[start : start + len(text)])
            para["qas"].append({
                "id": f"tricky{n:03d}",
                "question": q,
                "answers": [] if text is None else [{"text": text, "answer_start": start}],
                "is_impossible": text is None,
            })
            n += 1
        data["data"][0]["paragraphs"].append(para)
    return data


def cut_long_questions(tokenizer, examples, max_len, stride, max_query_length):
    """run_qa's tokenizer call fails when a question leaves no more than `stride` context tokens;
    squadkit cuts it to `max_query_length` tokens. Check that Python fails, then give Python the
    question text cut after that token (a word boundary here) to make the reference windows."""
    budget = max_len - 4
    out = dict(examples)
    out["question"] = list(examples["question"])
    cut = []
    for i, (q, c) in enumerate(zip(examples["question"], examples["context"])):
        q = q.lstrip()
        qe = tokenizer(q, add_special_tokens=False, return_offsets_mapping=True)
        n_c = len(tokenizer(c, add_special_tokens=False)["input_ids"])
        n_q = len(qe["input_ids"])
        if n_q + n_c > budget and budget - n_q <= stride:
            try:
                tokenize(tokenizer, {"question": [q], "context": [c]}, max_len, stride, True)
                raise AssertionError("expected the HF tokenizer to fail on an over-long question")
            except BaseException as e:  # pyo3's PanicException is a BaseException
                if isinstance(e, (AssertionError, KeyboardInterrupt)):
                    raise
            out["question"][i] = q[: qe["offset_mapping"][max_query_length - 1][1]]
            cut.append(examples["id"][i])
    return out, cut


def write_tricky(tokenizer, out_dir):
    data = tricky_dataset()
    with open(os.path.join(out_dir, "tricky_dataset.json"), "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")
    examples = {"id": [], "context": [], "question": [], "answers": []}
    for para in data["data"][0]["paragraphs"]:
        for qa in para["qas"]:
            examples["id"].append(qa["id"])
            examples["context"].append(para["context"])
            examples["question"].append(qa["question"])
            examples["answers"].append({"text": [a["text"] for a in qa["answers"]], "answer_start": [a["answer_start"] for a in qa["answers"]]})
    lines = []
    meta = {}
    for max_len, stride, mql in [(384, 128, 64), (64, 16, 24)]:
        cfg = f"{max_len}/{stride}/{mql}"
        ex, cut = cut_long_questions(tokenizer, examples, max_len, stride, mql)
        train = prepare_train_features(tokenizer, ex, max_len, stride)
        val = prepare_validation_features(tokenizer, ex, max_len, stride)
        assert train["input_ids"] == val["input_ids"]
        for i in range(len(val["input_ids"])):
            n_tokens = sum(val["attention_mask"][i])  # padding (<pad>, offset None) left out
            lines.append(json.dumps({
                "config": cfg,
                "example_id": val["example_id"][i],
                "len": len(val["input_ids"][i]),
                "input_ids": val["input_ids"][i][:n_tokens],
                "offsets": [None if o is None else list(o) for o in val["offset_mapping"][i][:n_tokens]],
                "start_position": train["start_positions"][i],
                "end_position": train["end_positions"][i],
            }, ensure_ascii=False))
        nw = len(val["input_ids"])
        start_all, end_all = hash_logits(nw, max_len, 0), hash_logits(nw, max_len, 1)
        preds, nbest, odds = postprocess_qa_predictions(ex, val, start_all, end_all)
        tag = f"tricky_{max_len}_{stride}"
        files = {
            "predictions": preds,
            "nbest_predictions": {
                k: [{kk: (float(v) if isinstance(v, (np.float16, np.float32, np.float64)) else v) for kk, v in p.items()} for p in entries]
                for k, (entries, _) in nbest.items()
            },
            "null_odds": {k: float(v) for k, v in odds.items()},
        }
        for name, obj in files.items():
            with open(os.path.join(out_dir, f"{tag}_{name}.json"), "w") as f:
                f.write(json.dumps(obj, indent=4) + "\n")
        meta[cfg] = {"windows": nw, "questions_cut": cut}
    with open(os.path.join(out_dir, "tricky_windows.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "preprocess"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    examples = load_examples(args.data)
    tokenizer = load_tokenizer(args.tokenizer)
    n = len(examples["id"])
    summary = {
        "generator": "tools/gen_preprocess_golden.py",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
        # The inputs' SHA-256 (paths as under ../shared/data): the tests refuse to compare
        # against goldens made from other content (tests/src/lib.rs, `check_golden_inputs`).
        "inputs": {
            "dev-v2.0.json": sha256(args.data),
            "roberta-base/tokenizer.json": sha256(args.tokenizer),
        },
        "examples": n,
        "padding": "max_length",
        "configs": {},
    }
    write_numpy_exp(os.path.join(args.out, "numpy_exp_f32.tsv"))
    try:  # which of numpy's float32 exp kernels ran (AVX512F, else AVX2+FMA3, else libm expf)
        from numpy._core._multiarray_umath import __cpu_features__ as cpu

        summary["numpy_cpu_features"] = {k: bool(cpu.get(k)) for k in ("AVX512F", "AVX2", "FMA3")}
    except ImportError:
        pass
    val_384 = None
    for max_len, stride in [(384, 128), (256, 64)]:
        cfg = summary["configs"][f"{max_len}/{stride}"] = {}
        for split in ["train", "validation"]:
            per_example = collections.defaultdict(list)
            windows = cls = quirk = 0
            kept = {"example_id": [], "offset_mapping": []}
            for start, batch in batches(examples):
                if split == "train":
                    tok = prepare_train_features(tokenizer, batch, max_len, stride)
                    canon = canonical_train
                else:
                    tok = prepare_validation_features(tokenizer, batch, max_len, stride)
                    canon = canonical_validation
                for i in range(len(tok["input_ids"])):
                    tok["example_index"][i] += start
                    per_example[tok["example_index"][i]].append(canon(tok, i))
                    windows += 1
                    if split == "train":
                        sp, ep = tok["start_positions"][i], tok["end_positions"][i]
                        cls += sp == 0 and ep == 0
                        quirk += sp > ep
                if split == "validation" and max_len == 384:
                    kept["example_id"] += tok["example_id"]
                    kept["offset_mapping"] += tok["offset_mapping"]
            if split == "validation" and max_len == 384:
                val_384 = kept
            path = os.path.join(args.out, f"windows_{max_len}_{stride}_{split}.tsv")
            with open(path, "w", encoding="utf-8") as f:
                for e in range(n):
                    ws = per_example[e]
                    f.write(f"{examples['id'][e]}\t{len(ws)}\t{fnv1a64(''.join(ws).encode('utf-8'))}\n")
            cfg[split] = {"windows": windows}
            if split == "train":
                cfg[split].update({"cls_labelled": int(cls), "start_after_end": int(quirk)})
            print(f"{max_len}/{stride} {split}: {windows} windows", file=sys.stderr)

    # Decoding on hash logits at 384/128.
    nw = len(val_384["example_id"])
    start_all = hash_logits(nw, 384, 0)
    end_all = hash_logits(nw, 384, 1)
    for row in list(start_all) + list(end_all):
        assert len(np.unique(row)) == len(row), "hash logits must have no exact ties"
    preds, nbest, odds = postprocess_qa_predictions(examples, val_384, start_all, end_all)
    empty_preds = fallbacks = 0
    with open(os.path.join(args.out, "decode_384_128.tsv"), "w", encoding="utf-8") as f:
        for eid in examples["id"]:
            entries, fallback = nbest[eid]
            fallbacks += fallback
            empty_preds += preds[eid] == ""
            canon = "".join(
                f"{p['text']}\x1f{f32_bits(p['start_logit']):08x}\x1f{f32_bits(p['end_logit']):08x}\x1e" for p in entries
            )
            probs = "".join(f"{f64_bits(p['probability']):016x}," for p in entries)
            assert isinstance(odds[eid], np.float32), type(odds[eid])
            f.write(
                f"{eid}\t{f32_bits(odds[eid]):08x}\t{json.dumps(preds[eid])}\t{len(entries)}\t"
                f"{fnv1a64(canon.encode('utf-8'))}\t{fnv1a64(probs.encode('ascii'))}\n"
            )
    summary["decode_384_128"] = {
        "logit_seed": hex(LOGIT_SEED),
        "windows": nw,
        "empty_predictions": empty_preds,
        "empty_fallbacks": fallbacks,
        "n_best_size": 20,
        "max_answer_length": 30,
        "null_score_diff_threshold": 0.0,
    }
    summary["tricky"] = write_tricky(tokenizer, args.out)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(json.dumps(summary, indent=2), file=sys.stderr)


if __name__ == "__main__":
    main()
