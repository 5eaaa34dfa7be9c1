"""The reference side of bench/train_throughput.sh: HF-style training steps with transformers +
torch on the CPU, on the same windows squadkit trains on.

Windows come from `squadkit prepare --split train --no-padding --jsonl` (run_qa's training
features). A step is what the HF Trainer does per batch: forward with start/end positions
(dropout on), backward, `clip_grad_norm_(1.0)`, AdamW (weight decay 0.01 except biases and
LayerNorm weights), linear schedule, zero_grad. Batches: fixed padding = a seeded random order
padded to max_seq_length (run_qa's default `pad_to_max_length`); dynamic = transformers' own
`LengthGroupedSampler` (`--group_by_length`) with each batch padded to its longest window
(`DataCollatorWithPadding`). The first step is dropped; prints one JSON line per case.

On a GPU (`--device cuda`) each step is timed to its end (`torch.cuda.synchronize`), and
`--bf16` autocasts as the Trainer's `--bf16` does (float32 master weights).

usage: train_throughput_torch.py WINDOWS.jsonl CONFIG.json BATCH STEPS fixed|dynamic
                                 [--threads N] [--device cpu|cuda] [--bf16]
"""

import argparse
import json
import random
import time

import torch
from transformers import RobertaConfig, RobertaForQuestionAnswering, get_linear_schedule_with_warmup
from transformers.trainer_pt_utils import LengthGroupedSampler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("windows")
    ap.add_argument("config")
    ap.add_argument("batch", type=int)
    ap.add_argument("steps", type=int)
    ap.add_argument("padding", choices=["fixed", "dynamic"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-seq-length", type=int, default=384)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--bf16", action="store_true")
    args = ap.parse_args()
    dev = args.device
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    autocast = lambda: torch.autocast(device_type=dev, dtype=torch.bfloat16, enabled=args.bf16)
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)

    rows = [json.loads(line) for line in open(args.windows)]
    ids = [r["input_ids"] for r in rows]
    starts = [r["start_position"] for r in rows]
    ends = [r["end_position"] for r in rows]
    lengths = [len(x) for x in ids]

    need = args.batch * args.steps
    if args.padding == "fixed":
        order = list(range(len(ids)))
        random.Random(42).shuffle(order)
    else:
        g = torch.Generator()
        g.manual_seed(42)
        order = list(LengthGroupedSampler(args.batch, lengths=lengths, generator=g))
    order = order[:need]

    config = RobertaConfig.from_json_file(args.config)
    model = RobertaForQuestionAnswering(config).to(dev).train()
    decay = [p for n, p in model.named_parameters() if not (n.endswith(".bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith(".bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=3e-5, eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, 0, args.steps)
    pad = config.pad_token_id

    times, samples, tokens = [], 0, 0
    for step in range(args.steps):
        batch = order[step * args.batch : (step + 1) * args.batch]
        width = args.max_seq_length if args.padding == "fixed" else max(lengths[i] for i in batch)
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            input_ids[row, : lengths[i]] = torch.tensor(ids[i])
            mask[row, : lengths[i]] = 1
        t0 = time.perf_counter()
        with autocast():
            out = model(
                input_ids=input_ids.to(dev),
                attention_mask=mask.to(dev),
                start_positions=torch.tensor([starts[i] for i in batch], device=dev),
                end_positions=torch.tensor([ends[i] for i in batch], device=dev),
            )
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        sync()
        dt = time.perf_counter() - t0
        if step == 0:
            first = dt
        if step > 0 or args.steps == 1:
            times.append(dt)
            samples += len(batch)
            tokens += int(mask.sum())
    secs = sum(times)
    print(json.dumps({"impl": "pytorch", "device": dev, "bf16": args.bf16, "padding": args.padding, "batch": args.batch,
                      "steps": args.steps, "first_step_s": first, "step_time_s": secs / max(len(times), 1),
                      "wall_s": first + secs, "samples_per_second": samples / secs, "tokens_per_second": tokens / secs}))


if __name__ == "__main__":
    main()
