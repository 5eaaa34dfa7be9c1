#!/usr/bin/env bash
# The model on a CUDA GPU, against PyTorch on the same GPU, in one call of < 8 minutes.
#
#   bench/gpu.sh prepare   # HERE (registry access): build the CUDA binary into bench/gpu-bin/
#                          # (git-ignored: carry `bench/gpu-bin` to the GPU machine)
#   bench/gpu.sh           # ON THE GPU MACHINE: builds nothing; needs python3 with torch +
#                          # transformers, and bench/gpu-bin/model_bench from `prepare`
#
# It checks the CUDA backend's logits (the tiny golden model of tests/fixtures/model) against
# PyTorch's on the same GPU and against the committed CPU golden, then times a roberta-base
# train step (forward + loss + backward + clip + AdamW, random weights) at 16x384 in float32
# and bf16 (float32 master weights: burn casts for the matmuls, torch autocasts) for burn and
# PyTorch side by side, and a forward at 16x384. Each timed command has its own time limit so
# that a slow first kernel compilation (NVRTC + autotune) cannot eat the whole budget.
# On the first run (H200, 2026-11-27) burn's train steps did not finish within 150 s: the
# backward kernels' NVRTC compilation and autotuning. cubecl's autotune level is therefore
# "minimal" here (CUBECL_AUTOTUNE_LEVEL overrides it), the forward runs before the train
# steps, and the train steps get what is left of a 560 s budget (at most 200 s each).
set -uo pipefail
cd "$(dirname "$0")/.."
bin=bench/gpu-bin/model_bench
if [ "${1:-}" = prepare ]; then
  set -e
  cargo build --release -p squadkit --example model_bench --features cuda
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  mkdir -p bench/gpu-bin
  cp "$target/release/examples/model_bench" "$bin"
  strip "$bin" || true
  ls -la "$bin"
  exit 0
fi
[ -x "$bin" ] || { echo "error: $bin is missing: run 'bench/gpu.sh prepare' on the build machine first"; exit 2; }
py=${PYTHON:-python3}
out=${OUT:-$(mktemp -d)}
export CUDARC_CUDA_VERSION=${CUDARC_CUDA_VERSION:-}
export CUBECL_AUTOTUNE_LEVEL=${CUBECL_AUTOTUNE_LEVEL:-minimal}
echo "== CUBECL_AUTOTUNE_LEVEL=$CUBECL_AUTOTUNE_LEVEL"
[ -z "$CUDARC_CUDA_VERSION" ] && unset CUDARC_CUDA_VERSION
echo "== machine: $(date -u +%Y-%m-%dT%H:%MZ)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$py" -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)'

# roberta-base's sizes (the public config.json); the shared data is not on the GPU machine.
cfg="$out/roberta-base.json"
cat > "$cfg" <<'JSON'
{"architectures": ["RobertaForQuestionAnswering"], "attention_probs_dropout_prob": 0.1, "bos_token_id": 0,
 "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
 "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 514,
 "model_type": "roberta", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
 "type_vocab_size": 1, "vocab_size": 50265}
JSON

echo "== 1. CUDA logits vs PyTorch (tiny golden model, 4 real windows with padding)"
timeout 150 "$bin" --backend cuda --check-logits tests/fixtures/model > "$out/cuda_logits.json" 2> "$out/cuda_logits.err"
rc=$?
if [ $rc -ne 0 ]; then echo "burn cuda failed (rc $rc):"; tail -20 "$out/cuda_logits.err"; else
"$py" - "$out/cuda_logits.json" <<'PY'
import json, sys
import numpy as np, torch
from safetensors.numpy import load_file
from transformers import AutoModelForQuestionAnswering
ours = json.load(open(sys.argv[1]))
shape = ours["shape"]
s = np.array(ours["start_logits"], dtype=np.float32).reshape(shape)
e = np.array(ours["end_logits"], dtype=np.float32).reshape(shape)
inp = json.load(open("tests/fixtures/model/inputs.json"))
m = AutoModelForQuestionAnswering.from_pretrained("tests/fixtures/model/tiny", attn_implementation="eager").cuda().eval()
with torch.no_grad():
    o = m(input_ids=torch.tensor(inp["input_ids"]).cuda(), attention_mask=torch.tensor(inp["attention_mask"]).cuda())
g = load_file("tests/fixtures/model/golden.safetensors")
rel = lambda a, b: float(np.abs(a - b).max() / np.abs(b).max())
ts, te = o.start_logits.float().cpu().numpy(), o.end_logits.float().cpu().numpy()
r1 = max(rel(s, ts), rel(e, te)); r2 = max(rel(s, g["start_logits"]), rel(e, g["end_logits"]))
print(f"burn cuda vs torch cuda: max rel err {r1:.2e}; vs torch cpu golden: {r2:.2e}; "
      f"torch cuda vs cpu golden: {max(rel(ts, g['start_logits']), rel(te, g['end_logits'])):.2e}")
# burn 0.21's CUDA matmuls (cubek-matmul, autotuned) run float32 inputs on tensor cores as
# TF32 when that kernel wins (cubek-matmul's `adjust_dtypes`); torch does not by default
# (`allow_tf32 = False`). The same model in torch with TF32 allowed shows the size of that.
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
with torch.no_grad():
    o32 = m(input_ids=torch.tensor(inp["input_ids"]).cuda(), attention_mask=torch.tensor(inp["attention_mask"]).cuda())
t32s, t32e = o32.start_logits.float().cpu().numpy(), o32.end_logits.float().cpu().numpy()
print(f"torch cuda with TF32 vs cpu golden: {max(rel(t32s, g['start_logits']), rel(t32e, g['end_logits'])):.2e}; "
      f"burn cuda vs torch cuda with TF32: {max(rel(s, t32s), rel(e, t32e)):.2e}")
print("LOGITS", "PASS" if r1 <= 1e-4 and r2 <= 1e-4 else "FAIL (> 1e-4)")
PY
fi

echo "== 2. roberta-base 16x384: forward, then train step (f32, bf16), burn vs PyTorch"
res="$out/results.txt"; : > "$res"
# Seconds left of the call's budget, at most $1.
left() { local l=$((560 - SECONDS)); [ "$l" -gt "$1" ] && l=$1; [ "$l" -lt 10 ] && l=10; echo "$l"; }
timeout 60 "$py" bench/model_torch.py --device cuda --dtype f32 --config "$cfg" --batch 16 --seq 384 --mode forward --warmup 2 --iters 5 --attn sdpa >> "$res" || echo "torch forward failed"
timeout 90 "$bin" --backend cuda --dtype f32 --config "$cfg" --batch 16 --seq 384 --mode forward --warmup 2 --iters 5 >> "$res" 2> "$out/burn_fwd.err" || { echo "burn forward failed or timed out:"; tail -5 "$out/burn_fwd.err"; }
for dtype in f32 bf16; do
  timeout "$(left 90)" "$py" bench/model_torch.py --device cuda --dtype $dtype --config "$cfg" --batch 16 --seq 384 --mode train --warmup 2 --iters 5 --attn sdpa >> "$res" || echo "torch train $dtype failed or timed out"
  t=$(left 200); echo "burn train $dtype: limit ${t} s"
  timeout "$t" "$bin" --backend cuda --dtype $dtype --config "$cfg" --batch 16 --seq 384 --mode train --warmup 2 --iters 5 >> "$res" 2> "$out/burn_train_$dtype.err" || { echo "burn train $dtype failed or timed out after ${t} s:"; tail -5 "$out/burn_train_$dtype.err"; }
done
"$py" - "$res" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        rows.setdefault((r["mode"], r["dtype"]), {})[r["impl"]] = r["median_s"]
print(f"{'case':<26} {'pytorch s':>10} {'burn s':>9} {'ratio':>7}")
for (mode, dtype), r in rows.items():
    p, b = r.get("pytorch"), r.get("squadkit")
    ratio = f"{b / p:6.2f}x" if p and b else "   n/a"
    fmt = lambda x: f"{x:.4f}" if x else "n/a"
    print(f"{mode + ' ' + dtype + ' 16x384':<26} {fmt(p):>10} {fmt(b):>9} {ratio:>7}")
PY
