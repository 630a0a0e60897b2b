# `attnlab gp kernel|spectrum|learning-curve` end to end: outputs, JSON contents, and every bad input.
source "$(dirname "$0")/lib.bash"

SPEC='embed(pos=iid) | attn(tied) | relu | meanpool'
expect_ok kernel "$BIN" -q gp kernel --spec "$SPEC" -V 3 -L 5 -n 12 --out "$WORK/k"
expect_grep kernel-json-path "kernel: .*kernel.json" "$WORK/out"
expect_grep kernel-svg "<svg" "$WORK/k/kernel.svg"
/usr/bin/python3 - "$WORK/k/kernel.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [kernel-json]"; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1])); k = j["kernel"]
assert len(k) == 12 and all(len(r) == 12 for r in k)
assert all(abs(k[i][j] - k[j][i]) < 1e-12 for i in range(12) for j in range(12))
assert min(j["eigenvalues"]) > -1e-10
PY
expect_ok kernel-inputs "$BIN" -q gp kernel --spec "$SPEC" -V 2 -L 3 --inputs "0 1 0; 1 0 0" --out "$WORK/k2"
/usr/bin/python3 - "$WORK/k2/kernel.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [kernel-perm-invariance]"; FAILS=$((FAILS + 1)); }
import json, sys
k = json.load(open(sys.argv[1]))["kernel"]   # the two inputs are permutations of each other, iid positions
assert abs(k[0][0] - k[1][1]) < 1e-12, k
PY

expect_ok spectrum "$BIN" gp spectrum --spec "$SPEC" -V 2 -L 8 --out "$WORK/s"
expect_grep spectrum-table "^\(6,2\) +20 +5 +2 " "$WORK/out"
expect_grep spectrum-trace "^trace " "$WORK/out"
/usr/bin/python3 - "$WORK/s/spectrum.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [spectrum-json]"; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert sum(ir["dim"] * ir["multiplicity"] for ir in j["irreps"]) == 2 ** 8
assert abs(j["trace"] - j["expected_diag"]) < 1e-10 * j["expected_diag"]
PY

expect_ok lc "$BIN" -q gp learning-curve --spec "$SPEC" -V 2 -L 6 --target pair --ns 4,16 --trials 4 --out "$WORK/lc"
expect_grep lc-table "^ +16 " "$WORK/out"
expect_grep lc-json '"predicted"' "$WORK/lc/learning_curve.json"
seq 1 64 > "$WORK/target.txt"
expect_ok lc-file "$BIN" -q gp learning-curve -V 2 -L 6 --target "$WORK/target.txt" --ns 8 --trials 2 --out "$WORK/lc2"

# --- bad inputs ---
expect_fail bad-layer "unknown layer 'conv'" "$BIN" gp kernel --spec "embed | conv | meanpool" --out "$WORK/x"
expect_fail no-embed "does not start with embed" "$BIN" gp kernel --spec "relu | meanpool" --out "$WORK/x"
expect_fail no-readout "does not end with a readout" "$BIN" gp kernel --spec "embed | relu" --out "$WORK/x"
expect_fail bad-number "is not a number" "$BIN" gp kernel --spec "embed | attn(qk=abc) | meanpool" --out "$WORK/x"
expect_fail unbalanced "unbalanced" "$BIN" gp kernel --spec "embed | attn(tied | meanpool" --out "$WORK/x"
expect_fail bad-token "outside 0..1" "$BIN" gp kernel -V 2 -L 2 --inputs "0 5" --out "$WORK/x"
expect_fail short-input "has 1 tokens" "$BIN" gp kernel -V 2 -L 2 --inputs "0" --out "$WORK/x"
expect_fail not-symmetric "not invariant" "$BIN" gp spectrum --spec "embed(pos=decay) | meanpool" -V 2 -L 4 --out "$WORK/x"
expect_fail too-big "limit is 2^22" "$BIN" gp spectrum -V 8 -L 12 --out "$WORK/x"
expect_fail bad-probs "entries but V = 2" "$BIN" gp spectrum -V 2 -L 4 --probs 0.5 --out "$WORK/x"
expect_fail lc-too-big "at most 8192" "$BIN" gp learning-curve -V 4 -L 8 --out "$WORK/x"
expect_fail lc-bad-target "must hold 64 numbers" "$BIN" gp learning-curve -V 2 -L 6 --target "$WORK/k/kernel.svg" --out "$WORK/x"
expect_fail lc-missing-target "nope.txt" "$BIN" gp learning-curve -V 2 -L 6 --target "$WORK/nope.txt" --out "$WORK/x"
expect_fail lc-bad-ns "not a positive integer" "$BIN" gp learning-curve -V 2 -L 4 --ns 0,2 --out "$WORK/x"
expect_fail bad-vocab "out of range" "$BIN" gp kernel -V 0 --out "$WORK/x"
touch "$WORK/file"
expect_fail out-is-file "file" "$BIN" gp kernel -n 2 --out "$WORK/file"
# --- mc-check, scaling, text-symmetry (small sizes) ---
expect_ok mc "$BIN" -q gp mc-check -V 2 -L 4 --widths 4,8 --networks 8 --out "$WORK/mc"
expect_grep mc-fit "^fitted: \|bias\| ~ width\^" "$WORK/out"
expect_grep mc-json '"slope_stderr_vs_networks"' "$WORK/mc/mc_check.json"
expect_ok scaling "$BIN" -q gp scaling -V 2 --lengths 4,6 --kmax 2 --out "$WORK/sc"
expect_grep scaling-fit "^k = 2: eigenvalue ratio ~ L\^" "$WORK/out"
/usr/bin/python3 -c "
import random; random.seed(1); w = ['the','and','of','lord','god','unto','said','he','shall','land']
print(' '.join(random.choice(w) for _ in range(4000)))" > "$WORK/corpus.txt"
expect_ok text "$BIN" -q gp text-symmetry --corpus "$WORK/corpus.txt" --L 8 --vocab 8 --out "$WORK/ts"
expect_grep text-row "^corpus +500 " "$WORK/out"
expect_grep text-json '"defect_shuffled"' "$WORK/ts/text_symmetry.json"
expect_fail text-missing "nope.txt" "$BIN" gp text-symmetry --corpus "$WORK/nope.txt" --out "$WORK/x"
echo "a b" > "$WORK/tiny.txt"
expect_fail text-tiny "has only 2 words" "$BIN" gp text-symmetry --corpus "$WORK/tiny.txt" --L 8 --out "$WORK/x"
expect_fail scaling-short "has no irrep" "$BIN" gp scaling --lengths 4,6 --kmax 3 --out "$WORK/x"
expect_fail scaling-nopos "no positive eigenvalue" "$BIN" gp scaling --spec "embed | attn(tied) | meanpool" --lengths 4,6 --kmax 1 --out "$WORK/x"
expect_fail mc-bad-width "not a positive integer" "$BIN" gp mc-check --widths 0 --out "$WORK/x"
finish
