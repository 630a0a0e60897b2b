#!/usr/bin/env bash
# End to end: attnlab simulate-attention (the universal attention simulator U, docs/universal.md) in both
# modes, saving U and running the saved model with `attnlab model run --numbers`, the HTML view, the cost
# scan (JSON parsed by Python), and every bad input -> one error with a HINT and a non-zero exit.
# Usage: bash universal_cli.sh /path/to/attnlab /path/to/tests
source "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3

expect_ok rasp_mode "$BIN" simulate-attention --n 4 --d 3 --dk 2 --heads 2 --mode rasp --trials 3
expect_grep rasp_error "max error / max\(1, max\|output\|\) [0-9.e-]+ \(budget 1e-12\)" "$WORK/out"
expect_grep rasp_layout "^input: [0-9]+ positions: W_Q 0\.\.11, W_K 12\.\.23, W_V 24\.\.35, W_O 36\.\.47, X 48\.\.59" "$WORK/out"

expect_ok bilinear_mode "$BIN" simulate-attention --n 4 --d 3 --dk 2 --heads 2 --trials 3 -o "$WORK/U" --view "$WORK/u.html"
expect_grep bilinear_error "max abs error [0-9.e-]+, .*\(budget 1e-09\)" "$WORK/out"
expect_grep bilinear_size "^U \(compiled, bilinear\): [0-9]+ layers" "$WORK/out"
expect_grep view_written "wrote .*u.html" "$WORK/out"
expect_grep view_html "<html" "$WORK/u.html"

# the saved model reproduces attention on a hand-made layer: W_Q = W_K = 0 (uniform attention), one head,
# n 2, d 1, dk 1, W_V = [2]: output = mean of 2 x over the 2 tokens = (2*1 + 2*3) / 2 = 4 at both rows
expect_ok save_small "$BIN" simulate-attention --n 2 --d 1 --dk 1 --heads 1 --trials 1 -o "$WORK/U1"
expect_ok run_small "$BIN" model run "$WORK/U1" --numbers "0;0;2;1;3" --json
out=$($PY -c "import json,sys; d=json.load(open('$WORK/out')); print(' '.join(str(round(float(v[0]) if isinstance(v, list) else float(v), 9)) for v in d['outputs'][:2]))")
if [ "$out" = "4.0 4.0" ]; then PASSES=$((PASSES + 1)); else echo "FAIL [run_small]: outputs '$out', want '4.0 4.0'"; FAILS=$((FAILS + 1)); fi

expect_ok scan "$BIN" simulate-attention --scan --n 2 --d 2 --dk 2 --heads 2 --scan-values 1,2,4 -o "$WORK/scan"
expect_grep scan_fit "fit over n: params ~ n\^" "$WORK/out"
expect_ok scan_json $PY -c "import json; d=json.load(open('$WORK/scan/scan.json')); assert len(d['rows']) == 12 and 'n' in d['fits']; assert all(r['parameters'] > r['simulated_parameters'] for r in d['rows'])"
expect_grep scan_svg "<svg" "$WORK/scan/scan.svg"

# grid mode (ReLU feed-forward layers only): every input of a tiny shape, then 10^4 random grid inputs
expect_ok grid_all "$BIN" simulate-attention --n 2 --d 1 --dk 1 --heads 1 --mode grid
expect_grep grid_all_count "^3125 every grid input \(grid \{-1,-0.5,0,0.5,1\}\)" "$WORK/out"
expect_grep grid_relu "^U \(compiled, ReLU\)" "$WORK/out"
expect_ok grid_random "$BIN" simulate-attention --n 2 --d 2 --dk 1 --heads 2 --mode grid --trials 10000
expect_grep grid_random_count "^10000 random grid inputs .*\(budget 1e-11\)" "$WORK/out"
expect_fail bad_grid "--grid: 'x' is not a number" "$BIN" simulate-attention --mode grid --grid=1,x
expect_fail dup_grid "appears twice" "$BIN" simulate-attention --mode grid --grid=1,1

expect_fail bad_n "n = 0 is out of range" "$BIN" simulate-attention --n 0
expect_fail bad_heads "heads = -1" "$BIN" simulate-attention --heads -1
expect_fail too_long "positions; the interpreter takes at most" "$BIN" simulate-attention --n 200 --d 200 --dk 16 --heads 4
expect_fail bad_mode "--mode must be rasp, bilinear or grid" "$BIN" simulate-attention --mode quantum
expect_fail bad_trials "--trials must be >= 1" "$BIN" simulate-attention --trials -3
expect_fail scan_no_out "--scan needs -o DIR" "$BIN" simulate-attention --scan
expect_fail bad_scan_values "" "$BIN" simulate-attention --scan --scan-values 4,2 -o "$WORK/s2"
finish
