#!/usr/bin/env bash
# squadkit on a CUDA GPU beside PyTorch on the same GPU, in one call of under 9 minutes.
#
#   bench/gpu.sh prepare [CACHE.tar.gz]
#       HERE (a build machine): builds `squadkit` and `model_bench` with `--features cuda`
#       (release) and puts them, gzipped, into bench/gpu-kit/ (git-ignored) with the dev set
#       and roberta-base's tokenizer and config from ../shared/data; CACHE.tar.gz (the
#       kernel-cache.tar.gz an earlier call wrote) is carried too, so the call starts warm.
#   bench/gpu.sh
#       ON THE GPU MACHINE (carry bench/gpu-kit): builds nothing; needs python3 with torch and
#       transformers. OUT=DIR receives everything: summary.txt (printed as it goes, so a cut
#       call still reports), results.jsonl (one line per measurement), metrics.jsonl (every
#       squadkit run's log, with a "run" field), kernel-cache.tar.gz (bring it back in with
#       `prepare` for a warm start on a fresh machine).
#
# What it measures (roberta-base sizes, random weights: the weights do not change the cost):
#  1. CUDA logits of the tiny golden model vs PyTorch with allow_tf32 False and True.
#  2. `squadkit train` at 16x384 (fixed padding), f32 then bf16: the cold first step (kernel
#     compilation + autotuning; with a carried cache, its load) and the steady-state step time
#     (median of the steps after the second); then the first step again in a new process with
#     the cache the first run filled. PyTorch's train step beside it (median of 10 after 2).
#  3. A forward for prediction at 16x384, f32 and bf16, both sides.
#  4. 300 bf16 steps over the dev set's windows: squadkit with dynamic padding bucketed to
#     multiples of 64 vs PyTorch with run_qa's fixed 384 padding (total time, tokens/s).
#  5. Only on a machine with several GPUs (issue 14): `train --devices all` vs one GPU, bf16,
#     16x384 per GPU, steady tokens/s and the efficiency N-GPU / (N x 1-GPU) (goal >= 0.9).
# The acceptance lines (issue 12) are checked at the end: cold first step < 60 s, < 5 s warm,
# steady steps <= 1.2x PyTorch's, 300 bucketed steps <= 0.7x PyTorch's fixed-padding time.
set -uo pipefail
cd "$(dirname "$0")/.."
kit=bench/gpu-kit
if [ "${1:-}" = prepare ]; then
  set -e
  data=${SQUADKIT_SHARED_DATA:-../shared/data}
  cargo build --release -p squadkit --bins --example model_bench --features cuda
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  rm -rf "$kit" && mkdir -p "$kit"
  for b in bin/squadkit:release/squadkit bin/model_bench:release/examples/model_bench; do
    mkdir -p "$kit/bin"
    cp "$target/${b#*:}" "$kit/${b%%:*}"
    strip "$kit/${b%%:*}" || true
    gzip -9 "$kit/${b%%:*}"
  done
  cp "$data/dev-v2.0.json" "$data/roberta-base/tokenizer.json" "$data/roberta-base/config.json" "$kit/"
  [ -n "${2:-}" ] && cp "$2" "$kit/kernel-cache.tar.gz"
  git rev-parse --short HEAD > "$kit/commit"
  du -sh "$kit"; ls -la "$kit" "$kit/bin"
  exit 0
fi
[ -f "$kit/bin/squadkit.gz" ] || { echo "error: $kit is missing: run 'bench/gpu.sh prepare' on the build machine first"; exit 2; }
py=${PYTHON:-python3}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
budget=${BUDGET:-530}
summary="$out/summary.txt"; results="$out/results.jsonl"; metrics="$out/metrics.jsonl"
: > "$summary"; : > "$results"; : > "$metrics"
say() { echo "$*" | tee -a "$summary"; }
# Seconds left of the call's budget, at most $1 (at least 10).
left() { local l=$((budget - SECONDS)); [ "$l" -gt "$1" ] && l=$1; [ "$l" -lt 10 ] && l=10; echo "$l"; }
work=$(mktemp -d)
mkdir -p "$work/bin"
for b in squadkit model_bench; do gunzip -c "$kit/bin/$b.gz" > "$work/bin/$b"; chmod +x "$work/bin/$b"; done
sk="$work/bin/squadkit"; mb="$work/bin/model_bench"
cache="$work/kernel-cache"; mkdir -p "$cache"
save_cache() { tar czf "$out/kernel-cache.tar.gz" -C "$cache" . 2>/dev/null; }
warm=cold
if [ -f "$kit/kernel-cache.tar.gz" ]; then
  tar xzf "$kit/kernel-cache.tar.gz" -C "$cache" && warm=carried
fi
say "== $(date -u +%Y-%m-%dT%H:%MZ) commit $(cat "$kit/commit" 2>/dev/null) kernel cache: $warm ($(find "$cache" -type f | wc -l) files)"
say "== $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"
say "== $("$py" -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)' 2>&1 | tail -1)"
say "== $("$sk" --version)"
cfg="$kit/config.json"; tok="$kit/tokenizer.json"; dev="$kit/dev-v2.0.json"
export RUST_BACKTRACE=1

say "== 1. CUDA logits vs PyTorch (tiny golden model, 4 real windows with padding)"
if timeout "$(left 120)" "$mb" --backend cuda --kernel-cache "$cache" --check-logits tests/fixtures/model > "$work/logits.json" 2> "$work/logits.err"; then
  "$py" - "$work/logits.json" <<'PY' 2>&1 | tee -a "$summary"
import json, sys
import numpy as np, torch
from safetensors.numpy import load_file
from transformers import AutoModelForQuestionAnswering
ours = json.load(open(sys.argv[1]))
s = np.array(ours["start_logits"], dtype=np.float32).reshape(ours["shape"])
e = np.array(ours["end_logits"], dtype=np.float32).reshape(ours["shape"])
inp = json.load(open("tests/fixtures/model/inputs.json"))
g = load_file("tests/fixtures/model/golden.safetensors")
m = AutoModelForQuestionAnswering.from_pretrained("tests/fixtures/model/tiny", attn_implementation="eager").cuda().eval()
rel = lambda a, b: float(np.abs(a - b).max() / np.abs(b).max())
res = {"what": "logits", "burn_cuda_vs_cpu_golden": max(rel(s, g["start_logits"]), rel(e, g["end_logits"]))}
for tf32 in (False, True):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    with torch.no_grad():
        o = m(input_ids=torch.tensor(inp["input_ids"]).cuda(), attention_mask=torch.tensor(inp["attention_mask"]).cuda())
    ts, te = o.start_logits.float().cpu().numpy(), o.end_logits.float().cpu().numpy()
    res[f"burn_vs_torch_tf32_{tf32}"] = max(rel(s, ts), rel(e, te))
    res[f"torch_tf32_{tf32}_vs_cpu_golden"] = max(rel(ts, g["start_logits"]), rel(te, g["end_logits"]))
print(json.dumps(res))
print("  " + "; ".join(f"{k} {v:.2e}" for k, v in res.items() if k != "what"))
PY
  grep '^{' "$summary" | tail -1 >> "$results"
else
  say "burn cuda logits failed or timed out:"; tail -20 "$work/logits.err" | tee -a "$summary"
fi
save_cache

# squadkit train: NAME MAX_STEPS LOGGING_STEPS LIMIT FLAGS... -> metrics into $metrics, a result line.
train() {
  local name=$1 steps=$2 every=$3 limit=$4; shift 4
  local run="$work/run-$name"
  rm -rf "$run"
  timeout "$limit" "$sk" train --config "$cfg" --tokenizer "$tok" --train-file "$dev" --output-dir "$run" \
    --max-steps "$steps" --per-device-train-batch-size 16 --logging-steps "$every" --save-steps 0 --learning-rate 3e-5 \
    --backend cuda --kernel-cache "$cache" "$@" > "$work/$name.out" 2> "$work/$name.err"
  local rc=$?
  [ "$rc" -ne 0 ] && { say "  $name: exit $rc (124: over its ${limit} s)"; tail -5 "$work/$name.err" | tee -a "$summary"; }
  [ -f "$run/metrics.jsonl" ] || return 0
  "$py" - "$run/metrics.jsonl" "$name" "$rc" <<'PY' | tee -a "$summary"
import json, statistics, sys
path, name, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = [json.loads(l) for l in open(path)]
with open(sys.argv[1] + ".tagged", "w") as f:
    for l in lines:
        f.write(json.dumps({"run": name, **l}) + "\n")
first = next((l for l in lines if l["event"] == "first_step"), None)
shapes = next((l for l in lines if l["event"] == "shapes"), {})
steady = [l["step_time"] for l in lines if l["event"] == "train" and l.get("step_time") and l["step"] >= 3]
train = [l for l in lines if l["event"] == "train"]
r = {"what": "squadkit_train", "run": name, "rc": rc, "steps": train[-1]["step"] if train else 0,
     "first_step_s": first and first["step_time"], "kernels_first_step": first and first.get("kernels_compiled"),
     "steady_step_s": statistics.median(steady) if steady else None,
     "tokens_per_second": statistics.median([l["tokens_per_second"] for l in train if l.get("tokens_per_second")] or [0]),
     "peak_memory_gb": (train[-1].get("peak_memory_bytes") or 0) / 1e9 if train else None,
     "kernels_compiled": train[-1].get("kernels_compiled") if train else None,
     "train_shapes": len(shapes.get("train", [])), "wall_s": train[-1]["wall_time"] if train else None}
print("  " + json.dumps(r))
PY
  cat "$run/metrics.jsonl.tagged" >> "$metrics" 2>/dev/null
  grep '"what": "squadkit_train"' "$summary" | tail -1 | sed 's/^  //' >> "$results"
  save_cache
}

torch_step() { # MODE DTYPE
  timeout "$(left 90)" "$py" bench/model_torch.py --device cuda --dtype "$2" --config "$cfg" --batch 16 --seq 384 \
    --mode "$1" --warmup 2 --iters 10 --attn sdpa 2> "$work/torch.err" | tee -a "$results" | sed 's/^/  /' | tee -a "$summary" \
    || { say "  torch $1 $2 failed"; tail -3 "$work/torch.err" | tee -a "$summary"; }
}

say "== 2. train step at 16x384 (fixed padding): squadkit (cold first step, steady state), then PyTorch"
train f32-cold 12 1 "$(left 240)"
train f32-warm 3 1 "$(left 60)"
train bf16 12 1 "$(left 200)" --bf16
torch_step train f32
torch_step train bf16

say "== 3. forward at 16x384 (prediction)"
for dtype in f32 bf16; do
  timeout "$(left 90)" "$mb" --backend cuda --kernel-cache "$cache" --dtype $dtype --config "$cfg" --batch 16 --seq 384 \
    --mode forward --warmup 2 --iters 10 2> "$work/fwd.err" | tee -a "$results" | sed 's/^/  /' | tee -a "$summary" \
    || { say "  burn forward $dtype failed"; tail -3 "$work/fwd.err" | tee -a "$summary"; }
  torch_step forward $dtype
done
save_cache

say "== 4. 300 bf16 steps over the dev windows: squadkit bucketed dynamic padding vs PyTorch fixed 384"
"$sk" prepare "$dev" --tokenizer "$tok" --split train --no-padding --jsonl "$work/windows.jsonl" > /dev/null 2>&1
timeout "$(left 120)" "$py" bench/train_throughput_torch.py "$work/windows.jsonl" "$cfg" 16 300 fixed --device cuda --bf16 \
  2> "$work/tt.err" | tee -a "$results" | sed 's/^/  /' | tee -a "$summary" || { say "  torch 300 steps failed"; tail -3 "$work/tt.err" | tee -a "$summary"; }
train bucketed-300 300 25 "$(left 200)" --bf16 --dynamic-padding
save_cache

# 5. Several GPUs (issue 14), only where the machine has them: the same bf16 16x384 run on 1 GPU
# and on all N (`--devices all`, 16 windows per GPU), steady tokens/s; efficiency = N-GPU / (N x 1-GPU).
ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
if [ "${ngpu:-0}" -gt 1 ]; then
  say "== 5. data-parallel on $ngpu GPUs (bf16, 16x384 per GPU): tokens/s vs one GPU"
  train ddp-1 20 5 "$(left 120)" --bf16 --devices 0
  train ddp-all 20 5 "$(left 150)" --bf16 --devices all
  "$py" - "$results" "$ngpu" <<'PY' | tee -a "$summary"
import json, sys
rows = {r.get("run"): r for r in map(json.loads, open(sys.argv[1])) if r.get("what") == "squadkit_train"}
n = int(sys.argv[2]); one, all_ = rows.get("ddp-1", {}), rows.get("ddp-all", {})
t1, tn = one.get("tokens_per_second"), all_.get("tokens_per_second")
eff = tn / (n * t1) if t1 and tn else None
print("  " + json.dumps({"what": "ddp_scaling", "gpus": n, "tokens_per_second_1": t1, "tokens_per_second_n": tn, "efficiency": eff}))
PY
  grep '"what": "ddp_scaling"' "$summary" | tail -1 | sed 's/^  //' >> "$results"
else
  say "== 5. data-parallel: skipped (this machine has ${ngpu:-0} GPU; the scaling case needs 2 or more)"
fi

say "== acceptance (issue 12)"
"$py" - "$results" <<'PY' | tee -a "$summary"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sk = {r["run"]: r for r in rows if r.get("what") == "squadkit_train"}
pt = {(r.get("mode"), r.get("dtype")): r for r in rows if r.get("impl") == "pytorch" and "mode" in r}
fixed = next((r for r in rows if r.get("impl") == "pytorch" and r.get("padding") == "fixed"), None)
def check(name, value, limit):
    ok = value is not None and value <= limit
    print(f"  {'PASS' if ok else 'FAIL'} {name}: {value if value is None else round(value, 4)} (limit {limit})")
cold = sk.get("f32-cold", {})
check("first train step (cold or carried cache: see the header), s", cold.get("first_step_s"), 60)
check("first train step, cache filled by the run before, s", sk.get("f32-warm", {}).get("first_step_s"), 5)
for dtype, run in (("f32", "f32-cold"), ("bf16", "bf16")):
    s, p = sk.get(run, {}).get("steady_step_s"), pt.get(("train", dtype), {}).get("median_s")
    check(f"steady {dtype} train step vs PyTorch's ({s} s / {p} s)", s / p if s and p else None, 1.2)
b = sk.get("bucketed-300", {})
check(f"300 bucketed steps vs PyTorch fixed 384 ({b.get('wall_s')} s / {fixed and fixed['wall_s']} s)",
      b["wall_s"] / fixed["wall_s"] if b.get("wall_s") and b.get("steps") == 300 and fixed else None, 0.7)
ddp = next((r for r in rows if r.get("what") == "ddp_scaling"), None)
if ddp:
    eff = ddp.get("efficiency")
    ok = eff is not None and eff >= 0.9
    print(f"  {'PASS' if ok else 'FAIL'} data-parallel efficiency on {ddp['gpus']} GPUs: {eff} (goal >= 0.9, issue 14)")
PY
say "== done in ${SECONDS} s; files in $out"
rm -rf "$work"
