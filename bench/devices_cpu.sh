#!/usr/bin/env bash
# Data-parallel training on the CPU backend (`train --devices`, issue 14): the demo's tiny model
# trained with the same global batch of 16 windows on 1 device (batch 16) and on 2 devices
# (replicas sharing the cores, batch 8 each), in one run, with the steady-state throughput of
# each (real tokens/s, the median of the logged windows after the first) and their ratio.
# Usage: bench/devices_cpu.sh [STEPS]   (default 120; SQUADKIT_BIN=path: that binary, else a
# release build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
steps=${1:-120}
bin=$(release_squadkit)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" demo --prepare-only --output-dir "$work/prep" > /dev/null 2>&1
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d), $(git rev-parse --short HEAD)"
run() { # NAME BATCH DEVICES
  "$bin" train --config "$work/prep/tiny-config.json" --tokenizer "$work/prep/tokenizer/tokenizer.json" \
    --train-file "$work/prep/data/train.json" --max-seq-length 128 --doc-stride 32 --max-query-length 32 \
    --output-dir "$work/$1" --per-device-train-batch-size "$2" --devices "$3" --max-steps "$steps" \
    --logging-steps 10 --save-steps 0 --learning-rate 1e-3 > /dev/null 2>&1
  python3 - "$work/$1/metrics.jsonl" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
tps = [l["tokens_per_second"] for l in lines if l["event"] == "train" and l.get("tokens_per_second")][1:]
print(statistics.median(tps))
PY
}
one=$(run one 16 0)
two=$(run two 8 0,1)
printf '| %-34s | %12s |\n' "tiny model, global batch 16" "tokens/s"
printf '|%s|%s|\n' "------------------------------------" "--------------"
printf '| %-34s | %12.0f |\n' "1 device x 16" "$one"
printf '| %-34s | %12.0f |\n' "2 devices x 8 (replicas, CPU)" "$two"
python3 -c "import sys; print(f'ratio 2 devices / 1 device: {float(sys.argv[2]) / float(sys.argv[1]):.2f}')" "$one" "$two"
