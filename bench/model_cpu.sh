#!/usr/bin/env bash
# transformers + torch vs squadkit's burn model on this machine's CPU (2 threads), side by
# side in one run: train step (forward + loss + backward + clip + AdamW) for a tiny config
# (hidden 64, 2 layers, roberta-base's vocabulary) at 16x384 and roberta-base at 2x384, and a
# roberta-base forward at 16x384. Random weights (no checkpoint needed); synthetic windows
# built identically on both sides (native/examples/model_bench.rs, bench/model_torch.py).
# Needs ../shared/data/roberta-base/config.json and a venv with torch + transformers
# (VENV, default /tmp/squadkit-venv-torch; see tools/gen_model_golden.py).
# Takes ~10 minutes when the machine is otherwise idle.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SQUADKIT_SHARED_DATA:-../shared/data}
venv=${VENV:-/tmp/squadkit-venv-torch}
. bench/venv.sh
ensure_venv "$venv" $TORCH_PACKAGES
cargo build --release -p squadkit --example model_bench --quiet
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target/release/examples/model_bench"
export RAYON_NUM_THREADS=2 OMP_NUM_THREADS=2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg)"
results=$(mktemp)
run_case() { # name config batch mode iters
  local name=$1 cfg=$2 batch=$3 mode=$4 iters=$5
  # Alternate the two implementations so that other load on the machine hits both alike.
  "$venv/bin/python" bench/model_torch.py --config "$cfg" --batch "$batch" --seq 384 --mode "$mode" --iters "$iters" --threads 2 | sed "s/^/$name /" >> "$results"
  "$bin" --backend cpu --config "$cfg" --batch "$batch" --seq 384 --mode "$mode" --iters "$iters" | sed "s/^/$name /" >> "$results"
}
run_case "train-tiny-16x384" bench/configs/tiny-h64.json 16 train 5
run_case "train-base-2x384" "$data/roberta-base/config.json" 2 train 3
run_case "forward-base-16x384" "$data/roberta-base/config.json" 16 forward 3
python3 - "$results" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    name, js = line.split(" ", 1)
    r = json.loads(js)
    rows.setdefault(name, {})[r["impl"]] = r["median_s"]
print(f"{'case':<22} {'pytorch s':>10} {'squadkit s':>11} {'ratio':>7}")
for name, r in rows.items():
    print(f"{name:<22} {r['pytorch']:>10.3f} {r['squadkit']:>11.3f} {r['squadkit'] / r['pytorch']:>6.2f}x")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
