#!/usr/bin/env bash
# Preprocessing (datasets.map + run_qa functions, fast tokenizer) and span decoding (utils_qa)
# vs `squadkit prepare` / `squadkit decode` on the dev set, side by side, same machine.
# Needs ../shared/data and a venv with transformers 4.57.6, tokenizers, numpy, datasets
# (created on first use at $SQUADKIT_BENCH_VENV, default /tmp/squadkit-venv-pre; no torch).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SQUADKIT_SHARED_DATA:-../shared/data}
venv=${SQUADKIT_BENCH_VENV:-/tmp/squadkit-venv-pre}
. bench/venv.sh
ensure_venv "$venv" $PREPROCESS_PACKAGES
# SQUADKIT_BIN: an already built binary (say which profile when reporting); else a release build.
bin=${SQUADKIT_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release -p squadkit --bins --quiet
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target/release/squadkit"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d)"
"$venv/bin/python" -c 'import transformers, tokenizers, datasets, numpy; print(f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, datasets {datasets.__version__}, numpy {numpy.__version__}")'
echo "squadkit: $bin"
"$venv/bin/python" bench/preprocess_decode.py "$bin" "$data/dev-v2.0.json" "$data/roberta-base/tokenizer.json" "$@"
