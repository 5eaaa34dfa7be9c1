#!/usr/bin/env bash
# `squadkit train` throughput on the CPU: samples/s and real (non-padding) tokens/s on the dev
# set's windows (384/128, the roberta-base tokenizer), for a tiny config (hidden 64, 2 layers)
# and the roberta-base config (freshly initialised: the weights do not change the cost), with
# fixed padding (every window padded to 384) vs dynamic padding + length grouping; side by side
# with transformers + torch (2 threads) doing HF Trainer steps on the same windows
# (bench/train_throughput_torch.py; venv $VENV, default /tmp/squadkit-venv-torch, created on
# first use; NO_TORCH=1 skips the reference).
# Needs ../shared/data. Usage: bench/train_throughput.sh [STEPS_TINY] [STEPS_BASE] [cpu|cuda]
# (SQUADKIT_BIN=path uses that binary instead of building a release one).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SQUADKIT_SHARED_DATA:-../shared/data}
steps_tiny=${1:-30}
steps_base=${2:-4}
backend=${3:-cpu}
if [ -n "${SQUADKIT_BIN:-}" ]; then
  bin=$SQUADKIT_BIN
else
  cargo build --release -p squadkit --bins --quiet --features "${SQUADKIT_FEATURES:-flex}"
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target/release/squadkit"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
venv=${VENV:-/tmp/squadkit-venv-torch}
. bench/venv.sh
[ -n "${NO_TORCH:-}" ] || ensure_venv "$venv" $TORCH_PACKAGES
export RAYON_NUM_THREADS=2 OMP_NUM_THREADS=2
# The training windows (run_qa's train features, unpadded) for the reference.
"$bin" prepare "$data/dev-v2.0.json" --tokenizer "$data/roberta-base/tokenizer.json" --split train --no-padding \
  --jsonl "$work/windows.jsonl" >/dev/null 2>&1
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d), backend $backend, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| config | padding | batch | steps | PyTorch samples/s | squadkit samples/s | speed vs PyTorch | PyTorch real tokens/s | squadkit real tokens/s |"
echo "|---|---|---|---|---|---|---|---|---|"
for cfg in tiny base; do
  if [ "$cfg" = tiny ]; then conf=bench/configs/tiny-h64.json; steps=$steps_tiny; batch=16; else conf="$data/roberta-base/config.json"; steps=$steps_base; batch=4; fi
  for pad in fixed dynamic; do
    extra=()
    [ "$pad" = dynamic ] && extra=(--dynamic-padding --group-by-length)
    run="$work/$cfg-$pad"
    ref="{}"
    if [ -z "${NO_TORCH:-}" ]; then
      ref=$("$venv/bin/python" bench/train_throughput_torch.py "$work/windows.jsonl" "$conf" "$batch" "$steps" "$pad" --threads 2)
    fi
    "$bin" train --config "$conf" --tokenizer "$data/roberta-base/tokenizer.json" --train-file "$data/dev-v2.0.json" \
      --output-dir "$run" --max-steps "$steps" --per-device-train-batch-size "$batch" --logging-steps 1 \
      --save-steps 0 --backend "$backend" "${extra[@]}" >/dev/null 2>"$run.log" || { cat "$run.log"; exit 1; }
    python3 - "$run/metrics.jsonl" "$cfg" "$pad" "$batch" "$steps" "$ref" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
# Drop the first step (allocation, warm-up); time-weighted means over the rest.
rest = lines[1:] or lines
secs = sum(int(sys.argv[4]) / l["samples_per_second"] for l in rest)
samples = int(sys.argv[4]) * len(rest)
tokens = sum(l["tokens_per_second"] * int(sys.argv[4]) / l["samples_per_second"] for l in rest)
ref = json.loads(sys.argv[6])
rs, rt = ref.get("samples_per_second"), ref.get("tokens_per_second")
sk = samples / secs
speed = f"{sk / rs:.2f}x" if rs else "n/a"
fmt = lambda x, d: f"{x:.{d}f}" if x else "n/a"
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {fmt(rs, 2)} | {sk:.2f} | {speed} | {fmt(rt, 0)} | {tokens / secs:.0f} |")
EOF
  done
done
