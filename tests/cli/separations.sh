# `attnlab construct index-lookup|dyck-rnn|equality|disjointness|nearest-neighbour` and `attnlab bounds` end to end (issue 6):
# the model directories load and answer through `model run`, verification passes, bad parameters fail clearly.
source "$(dirname "$0")/lib.bash"

expect_ok il "$BIN" construct index-lookup --N 8 --alphabet 3 -o "$WORK/il" --verify
expect_grep il-exhaustive "verify f32 \(exhaustive\): 52488/52488 correct" "$WORK/out"
expect_grep il-f64 "verify f64 \(exhaustive\): 52488/52488 correct" "$WORK/out"
expect_grep il-saved "saved model directory: .*/il/" "$WORK/out"
expect_grep il-binary "symbol_dims: 2" "$WORK/out"   # 3 symbols: ceil(log2 3) = 2 binary dims, not 3 one-hot
test -s "$WORK/il/verify.json" && PASSES=$((PASSES + 1)) || { echo "FAIL [il-json]"; FAILS=$((FAILS + 1)); }
# x = c a b a b c a a, query @5 -> x_5 = c (read at the last position)
expect_ok il-run "$BIN" model run "$WORK/il" --input "c a b a b c a a @5"
expect_grep il-run-out "^8 +@5 +c" "$WORK/out"
expect_ok il-rs "$BIN" construct index-lookup --N 300 --alphabet 16 --code reed-solomon -o "$WORK/ilrs" --verify --strings 2
expect_grep il-rs-all "verify f32 \(all positions of 2 strings\): 600/600 correct" "$WORK/out"
# a large alphabet costs ceil(log2 1000) = 10 dims; every position of 2 strings still reads back x_p
expect_ok il-big-alpha "$BIN" construct index-lookup --N 200 --alphabet 1000 -o "$WORK/ilba" --verify --strings 2
expect_grep il-big-alpha-dims "symbol_dims: 10" "$WORK/out"
expect_grep il-big-alpha-f64 "verify f64 \(all positions of 2 strings\): 400/400 correct" "$WORK/out"
expect_ok il-onehot "$BIN" construct index-lookup --N 40 --alphabet 5 --symbols one-hot -o "$WORK/iloh" --verify
expect_grep il-onehot-dims "symbol_dims: 5" "$WORK/out"
expect_grep il-onehot-all "verify f32 \(all positions of 4 strings\): 160/160 correct" "$WORK/out"

expect_ok dyck "$BIN" construct dyck-rnn --k 2 --m 2 -o "$WORK/dyck" --verify --max-len 8 --random-len 2000 --random-count 4
expect_grep dyck-f32 "verify f32: all 65536 strings of length 8 .*: 0 wrong; 4 random strings of length 2000: 0 of 8000" "$WORK/out"
expect_grep dyck-hidden "hidden_size: 32" "$WORK/out"
expect_ok dyck-run "$BIN" model run "$WORK/dyck" --input "( [ ] ) ("
expect_grep dyck-run-out "^3 +\) +yes" "$WORK/out"

expect_ok eq "$BIN" construct equality --N 5 -o "$WORK/eq" --verify
expect_grep eq-all "verify f64 \(exhaustive\): 1024/1024 correct" "$WORK/out"
expect_ok eq-run "$BIN" model run "$WORK/eq" --input "0 1 1 0 1 | 0 1 1 1 1"
expect_grep eq-run-out "^10 +1 +no" "$WORK/out"
expect_ok dj "$BIN" construct disjointness --N 40 -o "$WORK/dj" --verify --count 100
expect_grep dj-all "verify f32 .*100/100 correct" "$WORK/out"

# nearest neighbour: the task header's worked example through `model run` (x_0 = (1,0) L1, x_1 = (0,1) L0)
expect_ok nn "$BIN" construct nearest-neighbour --k 32 --d 8 --classes 4 --margin 0.05 -o "$WORK/nn" --verify --count 100
expect_grep nn-f32 "verify f32 .*100/100 correct" "$WORK/out"
expect_grep nn-f64 "verify f64 .*100/100 correct" "$WORK/out"
expect_ok nn2 "$BIN" construct nearest-neighbour --k 2 --d 2 --classes 2 --margin 0.2 -o "$WORK/nn2"
expect_ok nn-run "$BIN" model run "$WORK/nn2" --input "x L1 x L0 ?" --numbers "1,0;0,0;0,1;0,0;0.8,0.6"
expect_grep nn-run-out "^4 +\? +L1" "$WORK/out"
expect_ok nn-run2 "$BIN" model run "$WORK/nn2" --input "x L1 x L0 ?" --numbers "1,0;0,0;0,1;0,0;0.6,0.8"
expect_grep nn-run2-out "^4 +\? +L0" "$WORK/out"

# --- scans: one table per separation, JSON + SVG; the width's slope against log2 N is checked in the torch suite
expect_ok scan-il "$BIN" construct scan index-lookup --N 16..1024 --alphabet 4 --strings 1 --queries 16 -o "$WORK/scil"
expect_grep scan-il-fit "^fit: width = .* \* log2 N .*R\^2 = " "$WORK/out"
expect_grep scan-il-head "N +width +code k +gamma +scale +bits +acc f32 +acc f64 +RNN hidden size >=" "$WORK/out"
expect_grep scan-il-last "^ +1024 .* 1\.0000 +1\.0000 +64$" "$WORK/out"   # bound N*log2(4)/32 = 64
expect_grep scan-il-progress "scan index-lookup: N = 1024: width [0-9]+, code k [0-9]+, verified" "$WORK/err"
check_scan_json() {  # rows for exactly the N values asked, every verified row fully correct, a numeric fit
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, math, sys
j = json.load(open(sys.argv[1] + "/scan.json"))
ns = [int(v) for v in sys.argv[2].split(",")]
assert [r["N"] for r in j["rows"]] == ns, j["rows"]
for r in j["rows"]:
    assert r["width"] > r["code_dim"] > 0 and 0 < r["gamma"] <= 0.5 and r["bounds"], r
    if r["verified"]:
        assert r["accuracy_f32"] == 1.0 and r["accuracy_f64"] == 1.0, r
        assert [v["dtype"] for v in r["results"]] == ["f32", "f64"], r
f = j["fit"]
assert all(math.isfinite(f[k]) for k in ("slope", "intercept", "r2")) and f["r2"] <= 1.0, f
assert open(sys.argv[1] + "/scan.svg").read().lstrip().startswith(("<svg", "<?xml"))
PY
}
check_scan_json "$WORK/scil" 16,32,64,128,256,512,1024 && PASSES=$((PASSES + 1)) || { echo "FAIL [scan-il-json]"; FAILS=$((FAILS + 1)); }
expect_ok scan-eq "$BIN" construct scan equality --N 8..64 --count 8 --verify-max 32 -o "$WORK/sceq"
expect_grep scan-eq-unverified "^ +64 .* - +- " "$WORK/out"   # above --verify-max: built, not verified
check_scan_json "$WORK/sceq" 8,16,32,64 && PASSES=$((PASSES + 1)) || { echo "FAIL [scan-eq-json]"; FAILS=$((FAILS + 1)); }
expect_ok scan-dj "$BIN" construct scan disjointness --N 8,16,32 --count 8 -o "$WORK/scdj"
check_scan_json "$WORK/scdj" 8,16,32 && PASSES=$((PASSES + 1)) || { echo "FAIL [scan-dj-json]"; FAILS=$((FAILS + 1)); }
expect_ok scan-nn "$BIN" construct scan nearest-neighbour --N 4..32 --count 8 --d 4 --classes 3 --margin 0.1 -o "$WORK/scnn"
check_scan_json "$WORK/scnn" 4,8,16,32 && PASSES=$((PASSES + 1)) || { echo "FAIL [scan-nn-json]"; FAILS=$((FAILS + 1)); }

expect_ok bounds "$BIN" bounds --task index-lookup --N 1024 --alphabet 16 --precision 32
expect_grep bounds-il "RNN +hidden size +128 " "$WORK/out"
expect_ok bounds-eq "$BIN" bounds --task equality --N 1024 --precision 32 --heads 2
expect_grep bounds-eq "1-layer transformer +width m +16 " "$WORK/out"
expect_ok bounds-nn "$BIN" bounds --task nearest-neighbour --N 1024 --precision 32
expect_grep bounds-nn-rnn "RNN +hidden size +32 " "$WORK/out"
expect_grep bounds-nn-note "no lower bound for one-layer transformers on nearest neighbour" "$WORK/out"

# --- bad parameters ---
expect_fail il-n0 "N = 0" "$BIN" construct index-lookup --N 0 -o "$WORK/x"
expect_fail il-alpha "alphabet size 1" "$BIN" construct index-lookup --N 8 --alphabet 1 -o "$WORK/x"
expect_fail il-gamma "gamma = 1" "$BIN" construct index-lookup --N 8 --gamma 1 -o "$WORK/x"
expect_fail il-margin "margin" "$BIN" construct index-lookup --N 8 --margin 1.5 -o "$WORK/x"
expect_fail il-code "unknown code" "$BIN" construct index-lookup --N 8 --code hadamard -o "$WORK/x"
expect_fail dyck-m0 "m = 0" "$BIN" construct dyck-rnn --k 2 --m 0 -o "$WORK/x"
expect_fail dyck-big "4096" "$BIN" construct dyck-rnn --k 4 --m 8 -o "$WORK/x"
expect_fail eq-n0 "N = 0" "$BIN" construct equality --N 0 -o "$WORK/x"
expect_fail bounds-task "unknown task" "$BIN" bounds --task sorting
expect_fail bounds-p0 "precision 0" "$BIN" bounds --task equality --precision 0
expect_fail nn-k0 "k = 0" "$BIN" construct nearest-neighbour --k 0 -o "$WORK/x"
expect_fail nn-margin "margin" "$BIN" construct nearest-neighbour --margin 0 -o "$WORK/x"
expect_fail nn-gamma "gamma" "$BIN" construct nearest-neighbour --gamma 1 -o "$WORK/x"
expect_fail il-alpha-vocab "above 4096" "$BIN" construct index-lookup --N 8 --alphabet 5000 -o "$WORK/x"
expect_fail il-symbols "unknown symbol code" "$BIN" construct index-lookup --N 8 --symbols gray -o "$WORK/x"
expect_fail il-queries "query positions" "$BIN" construct index-lookup --N 300 -o "$WORK/x" --verify --queries 0
expect_fail scan-range "bad --N range" "$BIN" construct scan index-lookup --N 16..x -o "$WORK/x"
expect_fail scan-range-rev "bad --N range" "$BIN" construct scan index-lookup --N 64..16 -o "$WORK/x"
expect_fail scan-n0 "bad --N range" "$BIN" construct scan index-lookup --N 0..16 -o "$WORK/x"
expect_fail scan-one "at least 2" "$BIN" construct scan index-lookup --N 16 -o "$WORK/x"
expect_fail scan-task "unknown task" "$BIN" construct scan sorting --N 16..64 -o "$WORK/x"
expect_fail scan-gamma "gamma = 1" "$BIN" construct scan equality --N 16..64 --gamma 1 -o "$WORK/x"
expect_fail scan-alpha "above 4096" "$BIN" construct scan index-lookup --N 16..64 --alphabet 5000 -o "$WORK/x"
expect_fail scan-eq-big "at most 65536" "$BIN" construct scan equality --N 65536,131072 -o "$WORK/x"
expect_fail scan-nn-m "margin" "$BIN" construct scan nearest-neighbour --N 4..16 --margin 0 -o "$WORK/x"
# --- the log-depth retrieval construction (issue 9; src/constructions/retrieval.h) and k-hop ---
expect_ok retrieval_d40 "$BIN" construct retrieval --D 40 --verify 16 -o "$WORK/ret" --view "$WORK/hops.html"
expect_grep retrieval_layers "layers: 5 = 1 gather \+ 4 lookup; lower bound ceil\(log3\(2D\)\) = 4" "$WORK/out"
expect_grep retrieval_f32 "verify f32 \(16 random instances\): 16/16 correct" "$WORK/out"
expect_grep retrieval_f64 "verify f64 \(16 random instances\): 16/16 correct" "$WORK/out"
expect_grep retrieval_roles "L4 H0 +hop-back 27" "$WORK/out"
expect_grep retrieval_config "d_model" "$WORK/ret/config.json"
expect_grep retrieval_verify_json "." "$WORK/ret/verify.json"
expect_grep retrieval_view "<svg" "$WORK/hops.html"
expect_ok retrieval_doubling "$BIN" construct retrieval --D 8 --scheme doubling --verify 8
expect_grep retrieval_doubling_layers "layers: 5 = 1 gather \+ 4 lookup" "$WORK/out"
expect_grep retrieval_doubling_roles "L4 H0 +hop-back 8" "$WORK/out"
expect_fail retrieval_short "verification failed" "$BIN" construct retrieval --D 14 --lookup-layers 3 --verify 16
# fused encoding: ceil(log3(2D)) layers, the bound itself (D = 13: 3, D = 14: 4), saved with its sink BOS
expect_ok retrieval_fused "$BIN" construct retrieval --D 13 --encoding fused --verify 16 -o "$WORK/retf"
expect_grep retrieval_fused_layers "^layers: 3 = 3 lookup; lower bound ceil\(log3\(2D\)\) = 3;" "$WORK/out"
expect_grep retrieval_fused_verify "verify f32 \(16 random instances\): 16/16 correct" "$WORK/out"
expect_grep retrieval_fused_roles "L2 H0  def-back 9 " "$WORK/out"
expect_grep retrieval_fused_bos '"bos": "<sink>"' "$WORK/retf/config.json"
expect_fail retrieval_fused_short "verification failed" "$BIN" construct retrieval --D 14 --encoding fused --lookup-layers 3 --verify 16
expect_fail retrieval_encoding "--encoding 'triples'" "$BIN" construct retrieval --D 5 --encoding triples
expect_fail retrieval_d0 "depth D = 0" "$BIN" construct retrieval --D 0
expect_fail retrieval_vars "variables K = 3" "$BIN" construct retrieval --D 5 --variables 3
expect_fail retrieval_scheme "scheme 'quad'" "$BIN" construct retrieval --D 5 --scheme quad
expect_fail retrieval_verify "--verify -1" "$BIN" construct retrieval --D 5 --verify -1
expect_fail retrieval_lookups "lookup layers 30" "$BIN" construct retrieval --D 5 --lookup-layers 30
expect_ok khop_k8 "$BIN" construct khop --k 8 --length 64 --verify 16
expect_grep khop_layers "5 layers = 2 \+ ceil\(log2 k\)" "$WORK/out"
expect_grep khop_correct "624/624 correct" "$WORK/out"
expect_fail khop_k0 "hops k = 0" "$BIN" construct khop --k 0

finish
