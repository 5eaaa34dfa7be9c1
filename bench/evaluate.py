#!/usr/bin/env python3
"""Benchmark: the official SQuAD v2.0 script vs `squadkit evaluate`, process to process.

Both score the same files in the same run, alternating, and the medians and their ratio are
printed. Run through `bash bench/evaluate.sh` (it builds squadkit in release and makes the
venv with the official script via tools/gen_scorer_golden.py --setup-only).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def to_hf_layout(path, out):
    with open(path) as f:
        squad = json.load(f)
    for art in squad["data"]:
        for p in art["paragraphs"]:
            for qa in p["qas"]:
                qa["answers"] = {"text": [a["text"] for a in qa["answers"]],
                                 "answer_start": [a["answer_start"] for a in qa["answers"]]}
    with open(out, "w") as f:
        json.dump(squad, f)


def timed(cmd, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return times


def main():
    py, script, squadkit, data, preds = sys.argv[1:6]
    n = int(os.environ.get("BENCH_RUNS", "10"))
    tmp = tempfile.mkdtemp()
    hf = os.path.join(tmp, "data-hf.json")
    to_hf_layout(data, hf)
    # A na_prob file exercises the threshold search too.
    with open(preds) as f:
        ids = list(json.load(f))
    na = os.path.join(tmp, "na.json")
    with open(na, "w") as f:
        json.dump({k: ((i * 7919) % 1009) / 1009.0 for i, k in enumerate(ids)}, f)
    rows = []
    for label, extra in [("plain", []), ("with -n na_prob.json", ["-n", na])]:
        ref = [py, script, hf, preds] + extra
        ours = [squadkit, "evaluate", data, preds, "--format", "json"] + extra
        a = subprocess.run(ref, check=True, capture_output=True, text=True).stdout
        b = subprocess.run(ours, check=True, capture_output=True, text=True).stdout
        assert a == b, "outputs differ:\n%s\n%s" % (a, b)
        tr, to = [], []
        for _ in range(n):  # alternate so that machine noise hits both
            tr += timed(ref, 1)
            to += timed(ours, 1)
        r, o = statistics.median(tr), statistics.median(to)
        rows.append((label, r, o, r / o))
    print("| case | official script (median s) | squadkit evaluate (median s) | speed-up |")
    print("|---|---|---|---|")
    for label, r, o, x in rows:
        print("| %s | %.3f | %.4f | %.1fx |" % (label, r, o, x))
    print("\nruns per side: %d; outputs identical: yes" % n)


if __name__ == "__main__":
    main()
