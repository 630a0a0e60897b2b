# `attnlab gp spectrum` over S_{L-1} (last-token readouts) and `gp learning-curve` per irrep: the group line, JSON
# invariants checked by /usr/bin/python3 (Σ d_λ · block = V^L, trace = E K(x,x), powers add up to ||f||²_p computed
# here from the target, block prediction = dense prediction), --no-krr, and every bad input.
source "$(dirname "$0")/lib.bash"

S='embed(pos=iid) | attn(tied) | relu | meanpool'
LAST='embed(pos=iid) | attn(tied,causal,qk=2) | relu | last'

# --- spectrum over S_{L-1} ---
expect_ok spec-last "$BIN" --threads 1 gp spectrum --spec "$LAST" -V 2 -L 7 --out "$WORK/s"
expect_grep spec-last-group "^group S_\{L-1\} = S_6: permutations of positions 0..5" "$WORK/out"
expect_grep spec-last-row "^\(4,2\) +9 +3 +2 +6 " "$WORK/out"  # d = 9, #SSYT = 3, k = 2, block 3·2
/usr/bin/python3 - "$WORK/s/spectrum.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [spec-last-json]"; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["group"] == "S_{L-1}" and j["group_size"] == 6, j["group"]
assert [ir["name"] for ir in j["irreps"]] == ["(6)", "(5,1)", "(4,2)", "(3,3)"]
assert sum(ir["dim"] * ir["multiplicity"] for ir in j["irreps"]) == 2 ** 7
assert all(ir["multiplicity"] == 2 * ir["ssyt"] for ir in j["irreps"])
assert abs(j["trace"] - j["expected_diag"]) < 1e-10 * j["expected_diag"]
PY
expect_ok spec-last-v3 "$BIN" --threads 1 -q gp spectrum --spec "$LAST" -V 3 -L 4 --probs 0.5,0.3,0.2 --out "$WORK/s3"
/usr/bin/python3 - "$WORK/s3/spectrum.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [spec-last-v3-json]"; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["group"] == "S_{L-1}"
assert sum(ir["dim"] * ir["multiplicity"] for ir in j["irreps"]) == 3 ** 4
assert abs(j["trace"] - j["expected_diag"]) < 1e-10 * j["expected_diag"]
PY
expect_ok spec-full "$BIN" --threads 1 gp spectrum --spec "$S" -V 2 -L 6 --out "$WORK/sf"
expect_grep spec-full-group "^group S_L = S_6: simultaneous permutations" "$WORK/out"
expect_grep spec-full-json '"group": "S_L"' "$WORK/sf/spectrum.json"

# --- learning curve per irrep ---
expect_ok lc-pair "$BIN" --threads 1 -q gp learning-curve --spec "$S" -V 2 -L 6 --target pair --ns 4,16 --trials 4 --ridge 1e-3 --out "$WORK/lc"
expect_grep lc-irrep-row "^\(6\) +1 +7 +" "$WORK/out"
expect_grep lc-irrep-head "^irrep +d_lambda +block +power +share +n=4 +n=16" "$WORK/out"
/usr/bin/python3 - "$WORK/lc/learning_curve.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [lc-pair-json]"; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["group"] == "S_L" and j["prediction"] == "blocks"
assert abs(j["target_power"] - 0.5) < 1e-14          # E 1[x0 = x1] = 1/2 for V = 2 uniform
assert abs(sum(ir["power"] for ir in j["irreps"]) - 0.5) < 1e-10
for ir in j["irreps"]:
    k = 6 - ir["lambda"][0]
    assert k <= 2 or ir["power"] < 1e-12, ir          # pair lives in k <= 2
for i, pt in enumerate(j["points"]):
    assert abs(pt["predicted"] - pt["predicted_dense"]) < 1e-8 * pt["predicted_dense"], pt
    assert abs(sum(pt["predicted_by_irrep"]) - pt["predicted"]) < 1e-10 * pt["predicted"]
    assert "mse" in pt and "stderr" in pt
PY
# A file target under a non-uniform token law on a last-token kernel: ||f||²_p recomputed here.
/usr/bin/python3 -c "
import math
print('\n'.join(str(math.sin(1.7 * s) + (s % 3)) for s in range(81)))" > "$WORK/t81.txt"
expect_ok lc-last "$BIN" --threads 1 -q gp learning-curve --spec "$LAST" -V 3 -L 4 --probs 0.5,0.3,0.2 --target "$WORK/t81.txt" --ns 3,9,27 --trials 3 --out "$WORK/lcl"
/usr/bin/python3 - "$WORK/lcl/learning_curve.json" "$WORK/t81.txt" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [lc-last-json]"; FAILS=$((FAILS + 1)); }
import json, sys, itertools
j = json.load(open(sys.argv[1])); f = [float(v) for v in open(sys.argv[2]).read().split()]
q = [0.5, 0.3, 0.2]
norm2 = sum(q[a] * q[b] * q[c] * q[d] * f[((a * 3 + b) * 3 + c) * 3 + d] ** 2
            for a, b, c, d in itertools.product(range(3), repeat=4))
assert j["group"] == "S_{L-1}"
assert abs(j["target_power"] - norm2) < 1e-12 * norm2, (j["target_power"], norm2)
assert abs(sum(ir["power"] for ir in j["irreps"]) - norm2) < 1e-9 * norm2
assert sum(ir["dim"] * ir["block"] for ir in j["irreps"]) == 81
for pt in j["points"]:
    assert abs(pt["predicted"] - pt["predicted_dense"]) < 1e-8 * pt["predicted_dense"], pt
PY
expect_ok lc-nokrr "$BIN" --threads 1 -q gp learning-curve --spec "embed(pos=iid) | relu | meanpool" -V 2 -L 13 --target copy --ns 8,64 --no-krr --out "$WORK/lcn"
expect_grep lc-nokrr-row "^ +64 +- +- +[0-9]" "$WORK/out"
/usr/bin/python3 - "$WORK/lcn/learning_curve.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [lc-nokrr-json]"; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["trials"] == 0 and all("mse" not in p and "predicted_dense" not in p for p in j["points"])
assert abs(j["target_power"] - 0.5) < 1e-14 and abs(sum(ir["power"] for ir in j["irreps"]) - 0.5) < 1e-10
assert all(ir["power"] < 1e-12 for ir in j["irreps"] if 13 - ir["lambda"][0] > 1)   # copy: k <= 1
assert j["points"][0]["predicted"] > j["points"][1]["predicted"] > 0
PY
# A kernel without symmetry still gets the dense prediction (small V^L).
expect_ok lc-decay "$BIN" --threads 1 -q gp learning-curve --spec "embed(pos=decay) | relu | meanpool" -V 2 -L 5 --ns 4 --trials 2 --out "$WORK/lcd"
expect_grep lc-decay-json '"prediction": "dense"' "$WORK/lcd/learning_curve.json"

# --- scaling over S_{L-1}: irreps (L-1-k, k) ---
expect_ok scaling-last "$BIN" --threads 1 -q gp scaling --spec "$LAST" -V 2 --lengths 5,7 --kmax 2 --out "$WORK/sc"
expect_grep scaling-last-fit "^k = 2: eigenvalue ratio ~ L\^" "$WORK/out"
expect_grep scaling-last-json '"group": "S_\{L-1\}"' "$WORK/sc/scaling.json"

# --- bad inputs ---
expect_fail scaling-last-short "(L-1-k, k)" "$BIN" --threads 1 gp scaling --spec "$LAST" -V 2 --lengths 4,7 --kmax 2 --out "$WORK/x"
expect_fail spec-nonsym "not invariant" "$BIN" --threads 1 gp spectrum --spec "embed(pos=iid) | attn(tied,causal) | meanpool" -V 2 -L 4 --out "$WORK/x"
expect_fail spec-nonsym-hint "gp sectors" "$BIN" --threads 1 gp spectrum --spec "embed(pos=iid) | attn(tied,causal) | attn(tied) | last" -V 2 -L 4 --out "$WORK/x"
expect_fail lc-krr-too-big "--no-krr" "$BIN" --threads 1 gp learning-curve -V 2 -L 14 --out "$WORK/x"
expect_fail lc-nonsym-too-big "gp sectors" "$BIN" --threads 1 gp learning-curve --spec "embed(pos=decay) | meanpool" -V 2 -L 14 --no-krr --out "$WORK/x"
expect_fail lc-power-too-big "above the limit" "$BIN" --threads 1 gp learning-curve --spec "embed | meanpool" -V 2 -L 21 --no-krr --out "$WORK/x"
echo "1 2 3" > "$WORK/short.txt"
expect_fail lc-short-target "must hold 81 numbers" "$BIN" --threads 1 gp learning-curve --spec "$LAST" -V 3 -L 4 --target "$WORK/short.txt" --out "$WORK/x"
printf '1\n2\nx\n' > "$WORK/word.txt"
expect_fail lc-word-target "before a non-number" "$BIN" --threads 1 gp learning-curve -V 2 -L 2 --target "$WORK/word.txt" --out "$WORK/x"
expect_fail lc-missing-target "nope.txt" "$BIN" --threads 1 gp learning-curve --spec "$LAST" -V 2 -L 4 --target "$WORK/nope.txt" --out "$WORK/x"
finish
