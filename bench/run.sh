#!/usr/bin/env bash
# Runs the benchmarks in bench/ and prints their figures (copy them into bench/RESULTS.md with the date).
# Needs a build with -DATTNLAB_BENCH=ON (`make bench` does it). Run on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$root/build}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
echo "== forward throughput: 2 layers, d_model 64, 4 heads, batch 64 x length 64, f32 =="
for t in 1 2; do
  for rep in 1 2 3; do
    OMP_NUM_THREADS=$t "$B/bench/forward_bench" --threads "$t" --model-dir "$dir/m" --iters ${ITERS:-200}
    OMP_NUM_THREADS=$t /usr/bin/python3 "$root/bench/forward_peer.py" "$dir/m" "$t" ${ITERS:-200}
  done
done
if [ -x "$B/bench/rasp_bench" ]; then echo "== RASP interpreter =="; "$B/bench/rasp_bench"; fi
