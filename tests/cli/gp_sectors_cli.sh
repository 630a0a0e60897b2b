# `attnlab gp sectors` end to end: a causal and a decayed-position kernel, the JSON against an independent numpy
# computation (isotypic projectors from a dense eigendecomposition of the transposition class sum, applied to
# the kernel that `gp kernel --inputs` prints for all of [2]^6), and every bad input.
source "$(dirname "$0")/lib.bash"

CAUSAL='embed(pos=iid) | attn(tied,causal) | relu | meanpool'
DECAY='embed(pos=decay,ell=1) | attn(tied) | relu | meanpool'
ALL=$(/usr/bin/python3 -c "print('; '.join(' '.join(str((s >> (5 - i)) & 1) for i in range(6)) for s in range(64)))")

expect_ok causal "$BIN" --threads 1 gp sectors --spec "$CAUSAL" -V 2 -L 6 --top 6 --out "$WORK/c"
expect_grep causal-table "^\(4,2\) +27 " "$WORK/out"
expect_grep causal-defect "^trace .* defect " "$WORK/out"
expect_grep causal-json-path "sectors: .*sectors.json" "$WORK/out"
expect_grep causal-svg-path "plot: .*sectors.svg" "$WORK/out"
expect_grep causal-svg "<svg" "$WORK/c/sectors.svg"
expect_grep causal-progress "^sectors: kernel on all 64 sequences" "$WORK/err"
expect_ok causal-kernel "$BIN" --threads 1 -q gp kernel --spec "$CAUSAL" -V 2 -L 6 --inputs "$ALL" --out "$WORK/ck"
/usr/bin/python3 - "$WORK/c/sectors.json" "$WORK/ck/kernel.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [causal-json-vs-numpy]"; FAILS=$((FAILS + 1)); }
import json, sys, itertools, math
import numpy as np
j = json.load(open(sys.argv[1])); K = np.array(json.load(open(sys.argv[2]))["kernel"])
L, N = 6, 64
T = K / N                                      # uniform p: sqrt(p) K sqrt(p)
T = 0.5 * (T + T.T)
C2 = np.zeros((N, N))                          # transposition class sum on [2]^6, bit 5 - i = position i
for i, k in itertools.combinations(range(L), 2):
    for s in range(N):
        a, b = (s >> (5 - i)) & 1, (s >> (5 - k)) & 1
        t = s ^ ((a ^ b) << (5 - i)) ^ ((a ^ b) << (5 - k))
        C2[s, t] += 1
w, U = np.linalg.eigh(C2)
def hooks_dim(lam):                            # d_lambda by the hook length formula, #SSYT(lam, 2) by hook-content
    cells = [(r, c) for r, row in enumerate(lam) for c in range(row)]
    conj = [sum(1 for row in lam if row > c) for c in range(lam[0])]
    hook = lambda r, c: lam[r] - c + conj[c] - r - 1
    d = math.factorial(L) / np.prod([hook(r, c) for r, c in cells])
    m = np.prod([(2 + c - r) / hook(r, c) for r, c in cells])
    return round(d), round(m)
sym = np.zeros_like(T)
secs = j["sectors"]
assert [s["name"] for s in secs] == ["(6)", "(5,1)", "(4,2)", "(3,3)"], [s["name"] for s in secs]
for s in secs:
    lam = s["lambda"]; content = sum(c - r for r, row in enumerate(lam) for c in range(row))
    Q = U[:, np.abs(w - content) < 0.5]
    d, m = hooks_dim(lam)
    assert Q.shape[1] == d * m == s["dim"], (lam, Q.shape, d, m, s["dim"])
    P = Q @ Q.T; sym += P @ T @ P
    assert abs(np.trace(P @ T) - s["trace"]) < 1e-12 * np.trace(T), (lam, s["trace"])
    ev = np.sort(np.linalg.eigvalsh(Q.T @ T @ Q))[::-1]
    assert np.max(np.abs(ev - np.array(s["eigenvalues"]))) < 1e-12 * ev[0], lam
defect = np.linalg.norm(T - sym) / np.linalg.norm(T)
assert abs(defect - j["defect"]) < 1e-12 and defect > 1e-3, (defect, j["defect"])
assert abs(sum(s["share"] for s in secs) - 1) < 1e-12
assert abs(j["trace"] - j["expected_diag"]) < 1e-10 * j["expected_diag"]
top = np.sort(np.linalg.eigvalsh(T))[::-1][:6]
assert len(j["top"]) == 6
for m, e in zip(j["top"], top):
    assert abs(m["eigenvalue"] - e) < 1e-12 * top[0] and abs(sum(m["weights"]) - 1) < 1e-12, m
PY

expect_ok decay "$BIN" --threads 1 -q gp sectors --spec "$DECAY" -V 3 -L 4 --probs 0.5,0.3,0.2 --top 4 --out "$WORK/d"
[ ! -s "$WORK/err" ] && PASSES=$((PASSES + 1)) || { echo "FAIL [quiet]: stderr not empty with -q"; FAILS=$((FAILS + 1)); }
expect_grep decay-top "^ +1 +[0-9.e+-]+ \(4\) " "$WORK/out"
/usr/bin/python3 - "$WORK/d/sectors.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [decay-json]"; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert [s["name"] for s in j["sectors"]] == ["(4)", "(3,1)", "(2,2)", "(2,1,1)"]
assert sum(s["dim"] for s in j["sectors"]) == 81
assert abs(sum(s["share"] for s in j["sectors"]) - 1) < 1e-12
assert abs(j["trace"] - j["expected_diag"]) < 1e-10 * j["expected_diag"]
assert j["defect"] > 1e-3 and any(s["leakage"] > 1e-3 for s in j["sectors"])
assert abs(sum(j["token_probs"]) - 1) < 1e-15 and abs(j["token_probs"][0] - 0.5) < 1e-15
assert len(j["top"]) == 4 and all(abs(sum(m["weights"]) - 1) < 1e-12 for m in j["top"])
PY
expect_ok invariant "$BIN" --threads 1 -q gp sectors --spec 'embed(pos=iid) | attn(tied) | relu | meanpool' -V 2 -L 5 --top 0 --out "$WORK/i"
/usr/bin/python3 - "$WORK/i/sectors.json" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [invariant-json]"; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["defect"] < 1e-12 and all(s["leakage"] < 1e-10 for s in j["sectors"]) and j["top"] == []
PY

# --- bad inputs ---
expect_fail too-big "exceeds 4096" "$BIN" gp sectors -V 2 -L 13 --out "$WORK/x"
expect_fail bad-spec "unknown layer 'conv'" "$BIN" gp sectors --spec "embed | conv | meanpool" -V 2 -L 4 --out "$WORK/x"
expect_fail probs-count "entries but V = 2" "$BIN" gp sectors -V 2 -L 4 --probs 0.5 --out "$WORK/x"
expect_fail probs-nan "is not a number" "$BIN" gp sectors -V 2 -L 4 --probs 0.5,abc --out "$WORK/x"
expect_fail probs-neg "must be positive" "$BIN" gp sectors -V 2 -L 4 --probs 0.5,-0.5 --out "$WORK/x"
expect_fail bad-vocab "out of range" "$BIN" gp sectors -V 0 --out "$WORK/x"
expect_fail bad-top "negative" "$BIN" gp sectors -V 2 -L 4 --top -1 --out "$WORK/x"
touch "$WORK/file"
expect_fail out-is-file "file" "$BIN" gp sectors -V 2 -L 3 --out "$WORK/file"
finish
