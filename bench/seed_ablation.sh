#!/usr/bin/env bash
# The seed blog's pipeline vs run_qa/utils_qa's on the demo task, stage by stage: the same tiny
# model recipe (`squadkit demo`: same data, tokenizer, hyperparameters and seed) trained and
# decoded three ways, scored by the official scorer on the held-out split.
#   seed windows + argmax       the blog's pipeline (`--recipe seed --strategy argmax`)
#   seed windows + n-best       the decoding's contribution (utils_qa's n-best and null score)
#   run_qa windows + n-best     the preprocessing's contribution on top (stride, labels)
# Usage: bench/seed_ablation.sh [SQUADKIT_BIN]   (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin=$(SQUADKIT_BIN=${1:-${SQUADKIT_BIN:-}} release_squadkit)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d)"
printf '| %-28s | %6s | %6s | %9s | %8s | %5s |\n' "pipeline" exact f1 "HasAns f1" "NoAns f1" "s"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------" "--------" "--------" "-----------" "----------" "-------"
for run in "seed argmax" "seed nbest" "run-qa nbest"; do
  set -- $run
  t0=$(date +%s.%N)
  out=$("$bin" demo --output-dir "$work/$1-$2" --recipe "$1" --strategy "$2" 2>/dev/null)
  t1=$(date +%s.%N)
  exact=$(awk '/^exact/ {print $2}' <<<"$out")
  f1=$(awk '/^f1/ {print $2}' <<<"$out")
  has=$(awk '/^HasAns f1/ {print $3}' <<<"$out")
  no=$(awk '/^NoAns  f1/ {print $3}' <<<"$out")
  printf '| %-28s | %6s | %6s | %9s | %8s | %5.0f |\n' "$1 windows + $2" "$exact" "$f1" "$has" "$no" "$(echo "$t1 - $t0" | bc)"
done
