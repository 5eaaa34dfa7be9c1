#!/usr/bin/env python3
"""Golden digests for squadkit's seed recipe (`--recipe seed`, `decode --strategy argmax`).

The blog pipeline squadkit's users come from (../shared/notes/seed-recipe.md) preprocesses
and decodes differently from run_qa/utils_qa. This script runs its two functions, written
here statement by statement after the blog, with transformers' `PreTrainedTokenizerFast` on
the shared roberta-base `tokenizer.json` and numpy's argmax, on every question of the SQuAD 2.0
dev set, and writes under tests/fixtures/preprocess/:

- seed_384.tsv: one line per example: id, a 16-hex FNV-1a-64 digest of its one window
  (`canonical`: length, attention mask sum, token ids, the unmasked offsets of the tokens that
  are not padding, start and end labels), and the blog's argmax answer (a JSON string) on the
  hash logits of gen_preprocess_golden.py (`hash_logits`, also in
  tests/tests/preprocess_decode_parity.rs), so no logits are committed.
- seed_summary.json: counts, versions, and the SHA-256 of the inputs.

Usage (the same throwaway venv as gen_preprocess_golden.py, no torch needed):
    python3 -m venv /tmp/squadkit-venv-pre
    /tmp/squadkit-venv-pre/bin/pip install transformers==4.57.6 tokenizers==0.22.2 numpy==2.4.6
    /tmp/squadkit-venv-pre/bin/python tools/gen_seed_golden.py \
        --data ../shared/data/dev-v2.0.json --tokenizer ../shared/data/roberta-base/tokenizer.json
"""

import argparse
import json
import os
import sys

import numpy as np
import tokenizers
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_preprocess_golden import LOGIT_SEED, batches, fnv1a64, hash_logits, load_examples, load_tokenizer  # noqa: E402
from shared_inputs import sha256  # noqa: E402

MAX_LENGTH = 384


def preprocess_seed(tokenizer, examples):
    """The blog's preprocessing: one window per question, padded to max length, its labels."""
    questions = [q.strip() for q in examples["question"]]
    inputs = tokenizer(
        questions,
        examples["context"],
        max_length=MAX_LENGTH,
        truncation="only_second",
        return_offsets_mapping=True,
        padding="max_length",
    )
    offset_mapping = inputs["offset_mapping"]
    answers = examples["answers"]
    start_positions = []
    end_positions = []
    for i, offset in enumerate(offset_mapping):
        answer = answers[i]
        if len(answer["answer_start"]) == 0:
            start_positions.append(0)
            end_positions.append(0)
            continue
        start_char = answer["answer_start"][0]
        end_char = answer["answer_start"][0] + len(answer["text"][0])
        sequence_ids = inputs.sequence_ids(i)

        idx = 0
        while sequence_ids[idx] != 1:
            idx += 1
        context_start = idx
        while sequence_ids[idx] == 1:
            idx += 1
        context_end = idx - 1

        if offset[context_start][0] > end_char or offset[context_end][1] < start_char:
            start_positions.append(0)
            end_positions.append(0)
        else:
            idx = context_start
            while idx <= context_end and offset[idx][0] <= start_char:
                idx += 1
            start_positions.append(idx - 1)

            idx = context_end
            while idx >= context_start and offset[idx][1] >= end_char:
                idx -= 1
            end_positions.append(idx + 1)
    inputs["start_positions"] = start_positions
    inputs["end_positions"] = end_positions
    return inputs


def argmax_answer(context, offsets, start_logits, end_logits):
    """The blog's decoding of one window: argmax of each, an answer only when end > start."""
    s = int(np.argmax(start_logits))
    e = int(np.argmax(end_logits))
    if e > s:
        return context[offsets[s][0] : offsets[e][1]]
    return ""


def canonical(tok, i):
    n = sum(tok["attention_mask"][i])
    ids = ",".join(map(str, tok["input_ids"][i]))
    offs = ",".join(f"{a}-{b}" for a, b in tok["offset_mapping"][i][:n])
    return (
        f"len={len(tok['input_ids'][i])};mask={n};ids={ids};off={offs};"
        f"sp={tok['start_positions'][i]};ep={tok['end_positions'][i]}\n"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "preprocess"))
    args = ap.parse_args()
    examples = load_examples(args.data)
    tokenizer = load_tokenizer(args.tokenizer)
    n = len(examples["id"])
    start_all = hash_logits(n, MAX_LENGTH, 0)
    end_all = hash_logits(n, MAX_LENGTH, 1)
    cls = after = empty = 0
    lines = []
    for first, batch in batches(examples):
        tok = preprocess_seed(tokenizer, batch)
        assert len(tok["input_ids"]) == len(batch["id"]), "one window per question"
        for i in range(len(batch["id"])):
            e = first + i
            sp, ep = tok["start_positions"][i], tok["end_positions"][i]
            cls += sp == 0 and ep == 0
            after += sp > ep
            answer = argmax_answer(batch["context"][i], tok["offset_mapping"][i], start_all[e], end_all[e])
            empty += answer == ""
            lines.append(f"{batch['id'][i]}\t{fnv1a64(canonical(tok, i).encode('utf-8'))}\t{json.dumps(answer)}\n")
    with open(os.path.join(args.out, "seed_384.tsv"), "w", encoding="utf-8") as f:
        f.writelines(lines)
    summary = {
        "generator": "tools/gen_seed_golden.py",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
        "inputs": {
            "dev-v2.0.json": sha256(args.data),
            "roberta-base/tokenizer.json": sha256(args.tokenizer),
        },
        "examples": n,
        "max_length": MAX_LENGTH,
        "logit_seed": hex(LOGIT_SEED),
        "cls_labelled": int(cls),
        "start_after_end": int(after),
        "empty_answers": int(empty),
    }
    with open(os.path.join(args.out, "seed_summary.json"), "w") as f:
        f.write(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), file=sys.stderr)


if __name__ == "__main__":
    main()
