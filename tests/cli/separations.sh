# `attnlab construct index-lookup|dyck-rnn|equality|disjointness|nearest-neighbour` and `attnlab bounds` end to end (issue 6):
# the model directories load and answer through `model run`, verification passes, bad parameters fail clearly.
source "$(dirname "$0")/lib.bash"

expect_ok il "$BIN" construct index-lookup --N 8 --alphabet 3 -o "$WORK/il" --verify
expect_grep il-exhaustive "verify f32 \(exhaustive\): 52488/52488 correct" "$WORK/out"
expect_grep il-f64 "verify f64 \(exhaustive\): 52488/52488 correct" "$WORK/out"
expect_grep il-saved "saved model directory: .*/il/" "$WORK/out"
test -s "$WORK/il/verify.json" && PASSES=$((PASSES + 1)) || { echo "FAIL [il-json]"; FAILS=$((FAILS + 1)); }
# x = c a b a b c a a, query @5 -> x_5 = c (read at the last position)
expect_ok il-run "$BIN" model run "$WORK/il" --input "c a b a b c a a @5"
expect_grep il-run-out "^8 +@5 +c" "$WORK/out"
expect_ok il-rs "$BIN" construct index-lookup --N 300 --alphabet 16 --code reed-solomon -o "$WORK/ilrs" --verify --strings 2
expect_grep il-rs-all "verify f32 \(all positions of 2 strings\): 600/600 correct" "$WORK/out"

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

expect_ok bounds "$BIN" bounds --task index-lookup --N 1024 --alphabet 16 --precision 32
expect_grep bounds-il "RNN +hidden size +128 " "$WORK/out"
expect_ok bounds-eq "$BIN" bounds --task equality --N 1024 --precision 32 --heads 2
expect_grep bounds-eq "1-layer transformer +width m +16 " "$WORK/out"

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
finish
