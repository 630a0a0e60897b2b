# `attnlab gp train-check` end to end at small sizes: table, JSON fields (re-derived summaries), the plot, the
# not-converged flag, the all-weights contrast, and every bad input.
source "$(dirname "$0")/lib.bash"

expect_ok tc "$BIN" --threads 1 -q gp train-check -V 2 -L 4 --widths 4,16 --networks 3 --n 8 --test 6 --ridge 0.1 \
  --heads 2 --out "$WORK/tc"
expect_grep tc-row4 "^ +4 +3 " "$WORK/out"
expect_grep tc-row16 "^ +16 +3 .* 3/3" "$WORK/out"
expect_grep tc-fit "^fitted: distance ~ width\^" "$WORK/out"
expect_grep tc-json-path "train-check: .*train_check.json" "$WORK/out"
expect_grep tc-svg "<svg" "$WORK/tc/train_check.svg"
/usr/bin/python3 - "$WORK/tc/train_check.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [tc-json]"; FAILS=$((FAILS + 1)); }
import json, math, sys
j = json.load(open(sys.argv[1]))
assert j["target"] == "pair" and j["n_train"] == 8 and j["n_test"] == 6 and j["networks"] == 3
assert j["ridge"] > 0 and "attn(tied" in j["spec"] and j["gp"]["test_norm"] > 0
assert [r["width"] for r in j["rows"]] == [4, 16]
for r in j["rows"]:
    d = [n["distance"] for n in r["per_network"]]
    assert len(d) == 3 and all(x > 0 for x in d)
    mean = sum(d) / 3
    se = math.sqrt(sum((x - mean) ** 2 for x in d) / 2 / 3)
    assert abs(r["distance_mean"] - mean) < 1e-12 * mean and abs(r["distance_stderr"] - se) < 1e-12 * mean, r
    assert r["converged"] == 3 and all(n["converged"] and n["grad_norm_rel"] < 1e-10 for n in r["per_network"])
    assert r["steps_max"] == max(n["steps"] for n in r["per_network"])
# two widths: the slope is the least-squares slope through two points
w, m = [4, 16], [r["distance_mean"] for r in j["rows"]]
assert abs(j["slope_network"] - math.log(m[1] / m[0]) / math.log(4)) < 1e-9
PY

# a step cap of 2: reported as not converged (warning on stderr, converged 0 in the JSON), still exit 0
expect_ok tc-cap "$BIN" --threads 1 gp train-check -V 2 -L 4 --widths 8 --networks 2 --n 6 --test 4 --max-steps 2 \
  --out "$WORK/cap"
expect_grep tc-cap-warn "did not reach the gradient tolerance" "$WORK/err"
expect_grep tc-cap-progress "^train-check: width 8, network 2/2" "$WORK/err"
expect_grep tc-cap-row "^ +8 +2 .* 0/2" "$WORK/out"
/usr/bin/python3 -c "
import json, sys; j = json.load(open('$WORK/cap/train_check.json')); r = j['rows'][0]
assert r['converged'] == 0 and r['steps_max'] == 2 and r['grad_norm_rel_max'] > 1e-10" \
  && PASSES=$((PASSES + 1)) || { echo "FAIL [tc-cap-json]"; FAILS=$((FAILS + 1)); }

# the all-weights contrast and the other targets
expect_ok tc-all "$BIN" --threads 1 -q gp train-check -V 3 -L 3 --widths 8 --networks 2 --n 6 --test 5 --heads 2 \
  --target symmetric --all-weights 5 --heavy-ball --out "$WORK/all"
expect_grep tc-all-table "^contrast, ALL weights trained" "$WORK/out"
/usr/bin/python3 -c "
import json; j = json.load(open('$WORK/all/train_check.json')); r = j['rows'][0]
assert j['all_weights']['steps'] == 5 and r['all_weights']['distance_mean'] > 0 and j['heavy_ball']
assert all('all_weights' in n for n in r['per_network'])" \
  && PASSES=$((PASSES + 1)) || { echo "FAIL [tc-all-json]"; FAILS=$((FAILS + 1)); }
expect_ok tc-random "$BIN" --threads 1 -q gp train-check -V 2 -L 4 --widths 4 --networks 2 --n 6 --test 4 \
  --target random --heavy-ball --out "$WORK/rnd"
expect_ok tc-copy "$BIN" --threads 1 -q gp train-check -V 2 -L 4 --widths 4 --networks 2 --n 6 --test 4 \
  --target copy --heavy-ball --out "$WORK/copy"

# --- bad inputs ---
expect_fail tc-width0 "'0' is not a positive integer" "$BIN" gp train-check --widths 0 --out "$WORK/x"
expect_fail tc-width-abc "'2.5' is not a positive integer" "$BIN" gp train-check --widths 8,2.5,abc --out "$WORK/x"
expect_fail tc-width-huge "limit 2^25" "$BIN" gp train-check --widths 4096 --out "$WORK/x"
expect_fail tc-ridge0 "ridge must be positive" "$BIN" gp train-check --ridge 0 --out "$WORK/x"
expect_fail tc-n0 "n = 0 is out of range" "$BIN" gp train-check --n 0 --out "$WORK/x"
expect_fail tc-test0 "test set size 0" "$BIN" gp train-check --test 0 --out "$WORK/x"
expect_fail tc-networks1 "networks must be >= 2" "$BIN" gp train-check --networks 1 --out "$WORK/x"
expect_fail tc-heads0 "heads must be >= 1" "$BIN" gp train-check --heads 0 --out "$WORK/x"
expect_fail tc-vocab0 "V = 0 is out of range" "$BIN" gp train-check -V 0 --out "$WORK/x"
expect_fail tc-len0 "L = 0 is out of range" "$BIN" gp train-check -L 0 --out "$WORK/x"
expect_fail tc-target "unknown target 'parity'" "$BIN" gp train-check --target parity --widths 4 --out "$WORK/x"
expect_fail tc-pair-L1 "needs L >= 2" "$BIN" gp train-check -L 1 --target pair --widths 4 --out "$WORK/x"
expect_fail tc-random-big "above 2^22" "$BIN" gp train-check -V 64 -L 8 --target random --widths 4 --out "$WORK/x"
expect_fail tc-steps0 "step cap must be >= 1" "$BIN" gp train-check --max-steps 0 --out "$WORK/x"
expect_fail tc-tol0 "gradient tolerance must be > 0" "$BIN" gp train-check --grad-tol 0 --out "$WORK/x"
expect_fail tc-all-neg "all-weights steps must be >= 0" "$BIN" gp train-check --all-weights -1 --out "$WORK/x"
expect_fail tc-all-lr "learning rate must be > 0" "$BIN" gp train-check --all-weights-lr 0 --out "$WORK/x"
expect_fail tc-n-text "--n" "$BIN" gp train-check --n many --out "$WORK/x"
touch "$WORK/file"
expect_fail tc-out-file "file" "$BIN" gp train-check --widths 4 --out "$WORK/file"
finish
