#!/usr/bin/env bash
# The browser app's bundled demo model (examples/demo-model/): what `squadkit demo` trains on
# the bundled demo task (tiny RoBERTa, its own byte-level BPE tokenizer, 128-token windows),
# copied from the run's final/ model directory. The web worker embeds it (web/worker/src/
# engine.rs) as the Ask view's default; the E2E suite compares it with `squadkit predict`.
#
#   bash tools/gen_demo_model.sh [path/to/squadkit]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-${CARGO_TARGET_DIR:-target}/release/squadkit}"
run="$(mktemp -d)/demo"
"$bin" demo --output-dir "$run"
mkdir -p examples/demo-model
for f in config.json model.safetensors tokenizer.json; do
  cp "$run/final/$f" "examples/demo-model/$f"
done
cp "$run/eval.json" examples/demo-model/eval.json
echo "examples/demo-model/ from $run/final ($(du -sh examples/demo-model | cut -f1))"
