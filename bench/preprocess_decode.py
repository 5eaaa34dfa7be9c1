#!/usr/bin/env python3
"""Preprocessing and span decoding on the dev set: the HF reference vs `squadkit`, side by side.

Reference preprocessing: `datasets.Dataset.map(prepare_*_features, batched=True)` with the fast
tokenizer, the run_qa functions of tools/gen_preprocess_golden.py (cache off, in memory).
Squadkit: `squadkit prepare` end to end (reading the JSON, loading the tokenizer, writing the
feature cache). Reference decoding: utils_qa's postprocess_qa_predictions (same file) plus
writing its three JSON files; squadkit: `squadkit decode` end to end on the same logits (.npy).
Each is the median of `--repeat` runs. Prints a Markdown table and the ratios.

usage: bench/preprocess_decode.py SQUADKIT_BIN DEV_JSON TOKENIZER_JSON [--repeat N]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import gen_preprocess_golden as ref  # noqa: E402

import datasets  # noqa: E402


def median_time(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("squadkit")
    ap.add_argument("dev")
    ap.add_argument("tokenizer")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    datasets.disable_caching()
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()

    examples = ref.load_examples(args.dev)
    ds = datasets.Dataset.from_dict(examples)
    tokenizer = ref.load_tokenizer(args.tokenizer)
    cols = ds.column_names
    rows = []

    def hf_map(fn):
        return lambda: ds.map(lambda b: fn(tokenizer, b, 384, 128), batched=True, remove_columns=cols, keep_in_memory=True)

    tmp = tempfile.mkdtemp(prefix="squadkit-bench-")
    feats = os.path.join(tmp, "dev.features")

    def sk_prepare(split):
        def run():
            subprocess.run(
                [args.squadkit, "prepare", args.dev, "--tokenizer", args.tokenizer, "--split", split, "--out", feats],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return run

    for split, fn in [("validation", ref.prepare_validation_features), ("train", ref.prepare_train_features)]:
        t_ref, out = median_time(hf_map(fn), args.repeat)
        t_sk, _ = median_time(sk_prepare(split), args.repeat)
        rows.append((f"prepare dev ({split}, 384/128, {len(out)} windows)", t_ref, t_sk))
        if split == "validation":
            val = out

    # Decoding: the same hash logits as the parity test, given to both.
    n = len(val)
    start, end = ref.hash_logits(n, 384, 0), ref.hash_logits(n, 384, 1)
    np.save(os.path.join(tmp, "start.npy"), start)
    np.save(os.path.join(tmp, "end.npy"), end)
    features = {"example_id": val["example_id"], "offset_mapping": val["offset_mapping"]}
    out_ref = os.path.join(tmp, "ref")
    os.makedirs(out_ref, exist_ok=True)

    def ref_decode():
        preds, nbest, odds = ref.postprocess_qa_predictions(examples, features, start, end)
        files = {
            "predictions.json": preds,
            "nbest_predictions.json": {
                k: [{kk: (float(v) if isinstance(v, (np.float16, np.float32, np.float64)) else v) for kk, v in p.items()} for p in e]
                for k, (e, _) in nbest.items()
            },
            "null_odds.json": {k: float(v) for k, v in odds.items()},
        }
        for name, obj in files.items():
            with open(os.path.join(out_ref, name), "w") as f:
                f.write(json.dumps(obj, indent=4) + "\n")

    subprocess.run([args.squadkit, "prepare", args.dev, "--tokenizer", args.tokenizer, "--out", feats], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out_sk = os.path.join(tmp, "sk")

    def sk_decode():
        subprocess.run(
            [args.squadkit, "decode", args.dev, feats, os.path.join(tmp, "start.npy"), os.path.join(tmp, "end.npy"), "--out", out_sk],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    t_ref, _ = median_time(ref_decode, args.repeat)
    t_sk, _ = median_time(sk_decode, args.repeat)
    rows.append((f"decode dev ({n} windows, n-best 20)", t_ref, t_sk))
    same = all(
        open(os.path.join(out_ref, f), "rb").read() == open(os.path.join(out_sk, f), "rb").read()
        for f in ["predictions.json", "null_odds.json"]
    )

    print("| task | reference (s) | squadkit (s) | speed-up |")
    print("|---|---:|---:|---:|")
    for name, a, b in rows:
        print(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.1f}x |")
    print(f"\npredictions.json and null_odds.json byte-identical to the reference's: {same}")


if __name__ == "__main__":
    main()
