#!/usr/bin/env bash
# The official SQuAD v2.0 script vs `squadkit evaluate` on the dev set, side by side.
# Needs ../shared/data (dev set + BERT predictions) and network access to PyPI for the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SQUADKIT_SHARED_DATA:-../shared/data}
cargo build --release -p squadkit --bins --quiet
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
mapfile -t venv < <(python3 tools/gen_scorer_golden.py --setup-only)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d)"
"${venv[0]}" bench/evaluate.py "${venv[0]}" "${venv[1]}" "$target/release/squadkit" \
  "$data/dev-v2.0.json" "$data/predictions/bert-single-google-v2.0-dev.json"
