#!/usr/bin/env python3
"""The PyTorch side of bench/model_cpu.sh and bench/gpu.sh: transformers'
RobertaForQuestionAnswering timed on the same synthetic windows as
native/examples/model_bench.rs, one JSON line per case.

  model_torch.py --config CONFIG.json --batch 16 --seq 384 --mode train|forward
                 [--device cpu|cuda] [--dtype f32|bf16] [--iters 3] [--warmup 1] [--threads 2]

A train step is what the HF Trainer does: forward with the labels (loss), backward,
clip_grad_norm_(1.0), AdamW (eps 1e-8, weight decay 0.01 except biases and LayerNorm
weights), zero_grad; dropout on. bf16 is autocast (float32 master weights), as the Trainer's
`--bf16` does. Forward is `torch.no_grad()` in eval mode.
"""
import argparse
import json
import statistics
import time

import torch
from transformers import RobertaConfig, RobertaForQuestionAnswering


def synthetic(batch, seq, vocab):
    ids, mask = [], []
    for b in range(batch):
        real = max(seq - min(8 * b, seq // 2), 2)
        for j in range(seq):
            if j == 0:
                ids.append(0); mask.append(1)
            elif j == real - 1:
                ids.append(2); mask.append(1)
            elif j < real:
                ids.append(4 + (b * 7919 + j * 104729) % (vocab - 4)); mask.append(1)
            else:
                ids.append(1); mask.append(0)
    starts = [(b * 37) % (seq // 2) for b in range(batch)]
    ends = [(b * 37) % (seq // 2) + 3 for b in range(batch)]
    return ids, mask, starts, ends


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=384)
    ap.add_argument("--mode", default="train")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="f32")
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--attn", default="eager")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    config = RobertaConfig.from_json_file(a.config)
    model = RobertaForQuestionAnswering(config).to(a.device)
    model.config._attn_implementation = a.attn
    ids, mask, starts, ends = synthetic(a.batch, a.seq, config.vocab_size)
    dev = a.device
    batch = dict(input_ids=torch.tensor(ids, device=dev).view(a.batch, a.seq),
                 attention_mask=torch.tensor(mask, device=dev).view(a.batch, a.seq))
    labels = dict(start_positions=torch.tensor(starts, device=dev),
                  end_positions=torch.tensor(ends, device=dev))
    autocast = torch.autocast(device_type=dev, dtype=torch.bfloat16, enabled=a.dtype == "bf16")
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    times = []
    first = None
    if a.mode == "train":
        model.train()
        no_decay = [n for n, _ in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
        groups = [{"params": [p for n, p in model.named_parameters() if n not in no_decay], "weight_decay": 0.01},
                  {"params": [p for n, p in model.named_parameters() if n in no_decay], "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=2e-5, betas=(0.9, 0.999), eps=1e-8)
        for i in range(a.warmup + a.iters):
            t = time.perf_counter()
            with autocast:
                loss = model(**batch, **labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad()
            sync()
            if i == 0:
                first = time.perf_counter() - t
            if i >= a.warmup:
                times.append(time.perf_counter() - t)
    else:
        model.eval()
        with torch.no_grad():
            for i in range(a.warmup + a.iters):
                t = time.perf_counter()
                with autocast:
                    out = model(**batch)
                out.start_logits.float().cpu()
                sync()
                if i == 0:
                    first = time.perf_counter() - t
                if i >= a.warmup:
                    times.append(time.perf_counter() - t)
    print(json.dumps({"impl": "pytorch", "backend": dev, "mode": a.mode, "batch": a.batch, "seq": a.seq,
                      "dtype": a.dtype, "attn": a.attn, "config": a.config,
                      "median_s": statistics.median(times), "times_s": times, "first_s": first,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
