#!/usr/bin/env bash
# The model in the browser vs natively (issue 15): the forward pass of one synthetic 384-token
# window (native/examples/model_bench.rs's `synthetic`, the same ids the worker's bench uses)
# through burn's CPU backend, with random weights of (a) the demo model's sizes with 386
# positions and (b) roberta-base's sizes; natively (release, all cores and one) and in headless
# Chromium's model worker (dist/ from `trunk build --release`). Prints each and the ratios.
#
#   bash bench/wasm_model.sh        (after `cargo xtask setup` and a trunk build)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
python3 - "$tmp" <<'PY'
import json, sys
c = json.load(open("examples/demo-model/config.json"))
c["max_position_embeddings"] = 386
json.dump(c, open(sys.argv[1] + "/demo-386.json", "w"))
base = {"vocab_size": 50265, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
        "intermediate_size": 3072, "max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-5,
        "pad_token_id": 1, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}
json.dump(base, open(sys.argv[1] + "/roberta-base.json", "w"))
PY
cargo build --release -p squadkit --example model_bench --quiet
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bench="$target/release/examples/model_bench"
: > "$tmp/results.jsonl"
for cfg in demo-386 roberta-base; do
  for threads in all 1; do
    iters=5; [ "$cfg" = roberta-base ] && iters=3
    if [ "$threads" = 1 ]; then export RAYON_NUM_THREADS=1; else unset RAYON_NUM_THREADS; fi
    "$bench" --config "$tmp/$cfg.json" --batch 1 --seq 384 --mode forward --iters "$iters" --warmup 1 \
      | python3 -c "import json,sys; r=json.loads(sys.stdin.read()); print(json.dumps({'impl':'native','model':'$cfg','threads':'$threads','median_ms':r['median_s']*1e3}))" \
      | tee -a "$tmp/results.jsonl"
  done
done
unset RAYON_NUM_THREADS
PATH="$PWD/tests/browser/node_modules/.bin:$PATH" node bench/wasm_model.mjs | tee -a "$tmp/results.jsonl"
python3 - "$tmp/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
native = {(r["model"], r["threads"]): r["median_ms"] for r in rows if r["impl"] == "native"}
names = {"demo-size": "demo-386", "roberta-base-size": "roberta-base"}
for r in rows:
    if r["impl"] != "chromium-wasm":
        continue
    m = names[r["model"]]
    print(f"{r['model']:>18}: wasm {r['median_ms']:.1f} ms, native {native[(m, 'all')]:.1f} ms (all cores) / "
          f"{native[(m, '1')]:.1f} ms (1 thread): wasm/native {r['median_ms'] / native[(m, 'all')]:.2f}x / {r['median_ms'] / native[(m, '1')]:.2f}x")
PY
