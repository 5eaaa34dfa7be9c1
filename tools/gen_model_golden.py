#!/usr/bin/env python3
"""Golden files for the model parity suite (native/tests/model_parity.rs), from the real
transformers + torch on CPU. The Rust tests read them and never need Python.

Run from the repo root, in a throwaway venv:
    python3 -m venv /tmp/squadkit-venv-torch
    /tmp/squadkit-venv-torch/bin/pip install torch transformers==4.57.6 safetensors numpy
    /tmp/squadkit-venv-torch/bin/python tools/gen_model_golden.py

What it writes under tests/fixtures/model/:
  tiny/                 a tiny random RobertaForQuestionAnswering as transformers saves it
                        (config.json + model.safetensors); dropout is in the config (0.1) but
                        off for every number below (model.eval()).
  tiny_bin/             the same weights as a PyTorch `pytorch_model.bin` (torch.save).
  inputs.json           4 real SQuAD dev windows (max_length 128, stride 32, padded), tokenized
                        with ../shared/data/roberta-base/tokenizer.json as run_qa does, with
                        run_qa's training labels. Token ids are remapped to the tiny vocabulary
                        (the specials keep their ids: <s> 0, <pad> 1, </s> 2, <unk> 3; the other
                        ids in order of first use); `roberta_base_ids` keeps the real ids.
  golden.safetensors    start_logits, end_logits, loss, `grad.<param>` for every parameter,
                        and `step3.<param>`: every parameter after three AdamW steps on the
                        same batch with HF Trainer's settings (AdamW lr 1e-3, betas 0.9/0.999,
                        eps 1e-8, weight decay 0.01 except biases and LayerNorm weights, global
                        grad-norm clipping at 1.0, linear schedule with 1 warmup step of 5).
  exported/             a model that squadkit saved (the tiny model after its own three steps;
                        config.json + model.safetensors): the generator runs `cargo test -p
                        squadkit --test model_parity export_for_golden -- --ignored` to get it.
  exported.json         the logits transformers computes on exported/, loaded back with
                        AutoModelForQuestionAnswering.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import (AutoModelForQuestionAnswering, RobertaConfig,
                          RobertaForQuestionAnswering, get_linear_schedule_with_warmup)
from transformers.trainer_pt_utils import get_parameter_names

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_preprocess_golden  # noqa: E402  (run_qa's preprocessing, shared with that generator)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "tests", "fixtures", "model")
MAX_LEN, STRIDE = 128, 32
LR, WARMUP, TOTAL, STEPS = 1e-3, 1, 5, 3


def windows():
    """The windows, their labels and question ids: run_qa's preprocessing as
    tools/gen_preprocess_golden.py implements it (one copy of the label rules)."""
    tok = gen_preprocess_golden.load_tokenizer(os.path.join(SHARED, "roberta-base", "tokenizer.json"))
    data = json.load(open(os.path.join(SHARED, "dev-v2.0.json")))["data"]
    # A long context (two overflowing windows, one labelled inside, one (0, 0)) and two short
    # ones (padded; one answerable, one not).
    picks = []
    paragraphs = [p for a in data for p in a["paragraphs"]]
    long_p = next(p for p in paragraphs if 700 < len(p["context"]) < 900
                  and any(q["answers"] and q["answers"][0]["answer_start"] < 250 for q in p["qas"]))
    q = next(q for q in long_p["qas"] if q["answers"] and q["answers"][0]["answer_start"] < 250)
    picks.append((q, long_p["context"], 2))
    short = [p for p in paragraphs if len(p["context"]) < 300]
    p1 = short[0]
    picks.append((next(q for q in p1["qas"] if q["answers"]), p1["context"], 1))
    p2 = short[1]
    picks.append((next(q for q in p2["qas"] if not q["answers"]), p2["context"], 1))
    examples = {
        "question": [q["question"] for q, _, _ in picks],
        "context": [c for _, c, _ in picks],
        "answers": [{"text": [a["text"] for a in q["answers"]],
                     "answer_start": [a["answer_start"] for a in q["answers"]]} for q, _, _ in picks],
    }
    f = gen_preprocess_golden.prepare_train_features(tok, examples, MAX_LEN, STRIDE)
    ids, masks, starts, ends, qids = [], [], [], [], []
    taken = [0] * len(picks)
    for w, e in enumerate(f["example_index"]):
        if taken[e] == picks[e][2]:
            continue  # the first n windows of each example
        taken[e] += 1
        ids.append(f["input_ids"][w])
        masks.append(f["attention_mask"][w])
        starts.append(f["start_positions"][w])
        ends.append(f["end_positions"][w])
        qids.append(picks[e][0]["id"])
    assert taken == [n for _, _, n in picks], taken
    return ids, masks, starts, ends, qids


def remap(ids):
    table = {0: 0, 1: 1, 2: 2, 3: 3}
    for row in ids:
        for t in row:
            if t not in table:
                table[t] = len(table)
    return [[table[t] for t in row] for row in ids], len(table)


def loss_of(model, batch):
    out = model(**batch)
    return out.loss, out.start_logits, out.end_logits


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    real_ids, masks, starts, ends, qids = windows()
    assert any(0 in m for m in masks), "a padded window"
    ids, vocab = remap(real_ids)
    vocab = (vocab + 7) // 8 * 8
    config = RobertaConfig(
        vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=MAX_LEN + 2, type_vocab_size=1,
        layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        architectures=["RobertaForQuestionAnswering"])
    config._attn_implementation = "eager"
    model = RobertaForQuestionAnswering(config)
    # Larger-than-default weights so that the logits are not all near 0.
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("LayerNorm.weight"):
                p.add_(torch.randn_like(p) * 0.1)
            elif n.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.02)
            elif "embeddings" in n:
                p.mul_(5.0)
            else:
                p.mul_(3.0)
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(os.path.join(OUT, "tiny"), safe_serialization=True)
    os.makedirs(os.path.join(OUT, "tiny_bin"), exist_ok=True)
    torch.save(model.state_dict(), os.path.join(OUT, "tiny_bin", "pytorch_model.bin"))
    config.save_pretrained(os.path.join(OUT, "tiny_bin"))
    model.eval()  # dropout off for every comparison

    batch = dict(input_ids=torch.tensor(ids), attention_mask=torch.tensor(masks),
                 start_positions=torch.tensor(starts), end_positions=torch.tensor(ends))
    json.dump({"question_ids": qids, "input_ids": ids, "attention_mask": masks,
               "start_positions": starts, "end_positions": ends, "roberta_base_ids": real_ids},
              open(os.path.join(OUT, "inputs.json"), "w"))

    golden = {}
    loss, sl, el = loss_of(model, batch)
    loss.backward()
    golden["start_logits"] = sl.detach().clone()
    golden["end_logits"] = el.detach().clone()
    golden["loss"] = loss.detach().reshape(1).clone()
    for n, p in model.named_parameters():
        golden["grad." + n] = p.grad.detach().clone()
    model.zero_grad()

    # Three optimizer steps exactly as the HF Trainer makes them.
    decay = set(get_parameter_names(model, [torch.nn.LayerNorm],
                                    [r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"]))
    groups = [
        {"params": [p for n, p in model.named_parameters() if n in decay], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if n not in decay], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=WARMUP, num_training_steps=TOTAL)
    lrs, losses = [], []
    for _ in range(STEPS):
        loss, _, _ = loss_of(model, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        lrs.append(opt.param_groups[0]["lr"])
        losses.append(loss.item())
        opt.step()
        sched.step()
        opt.zero_grad()
    for n, p in model.named_parameters():
        golden["step3." + n] = p.detach().clone()
    golden["step_lrs"] = torch.tensor(lrs, dtype=torch.float64)
    golden["step_losses"] = torch.tensor(losses, dtype=torch.float32)
    save_file({k: v.contiguous() for k, v in golden.items()}, os.path.join(OUT, "golden.safetensors"))
    print(f"vocab {vocab}, windows {len(ids)}x{MAX_LEN}, loss {golden['loss'].item():.6f}, "
          f"lrs {lrs}, losses {losses}")

    # An export made by squadkit, loaded back by transformers. Its weights are committed
    # (exported/): the test loads that same directory, so that the comparison does not depend on
    # squadkit re-training to the last bit what it trained when this golden was made.
    with tempfile.TemporaryDirectory() as tmp:
        exported = os.path.join(tmp, "exported")
        env = dict(os.environ, SQUADKIT_EXPORT_TO=exported)
        subprocess.run(["cargo", "test", "-q", "-p", "squadkit", "--test", "model_parity",
                        "export_for_golden", "--", "--ignored"], cwd=ROOT, env=env, check=True)
        back = AutoModelForQuestionAnswering.from_pretrained(exported, attn_implementation="eager")
        back.eval()
        assert type(back).__name__ == "RobertaForQuestionAnswering"
        with torch.no_grad():
            out = back(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        files = sorted(os.listdir(exported))
        keep = os.path.join(OUT, "exported")
        shutil.rmtree(keep, ignore_errors=True)
        os.makedirs(keep)
        for name in ("config.json", "model.safetensors"):  # not the roberta-base tokenizer files
            shutil.copy(os.path.join(exported, name), keep)
    json.dump({"files": files,
               "start_logits": out.start_logits.tolist(), "end_logits": out.end_logits.tolist()},
              open(os.path.join(OUT, "exported.json"), "w"))
    print("exported model:", files)


if __name__ == "__main__":
    sys.exit(main())
