# `attnlab retrieval prompts|score|sample` end to end: a prompt set exported and read back, gold answers score
# 100%, shuffled and partial answers score lower with the missing ones listed, the same seed gives the same
# file, instances print with their answers, and every bad argument or input file is one error with a HINT.
source "$(dirname "$0")/lib.bash"

P="$WORK/p.jsonl"
expect_ok prompts "$BIN" retrieval prompts --D 1..3 --format F1..F5 --count 8 --seed 5 -o "$P"
expect_grep prompts-msg "wrote 120 prompts \(D = 1..3, formats F1,F2,F3,F4,F5, 8 each, seed 5\)" "$WORK/out"
expect_ok prompts-again "$BIN" retrieval prompts --D 1..3 --format F1..F5 --count 8 --seed 5 -o "$WORK/p2.jsonl"
cmp -s "$P" "$WORK/p2.jsonl" && PASSES=$((PASSES + 1)) || { echo "FAIL [same-seed]: files differ"; FAILS=$((FAILS + 1)); }
expect_ok prompts-seed "$BIN" retrieval prompts --D 1..3 --format F1..F5 --count 8 --seed 6 -o "$WORK/p3.jsonl"
cmp -s "$P" "$WORK/p3.jsonl" && { echo "FAIL [other-seed]: same file"; FAILS=$((FAILS + 1)); } || PASSES=$((PASSES + 1))
expect_ok prompts-list "$BIN" retrieval prompts --D 2,5 --format F1,f4 --count 3 -o "$WORK/p4.jsonl"
expect_grep prompts-list-n "wrote 12 prompts" "$WORK/out"
expect_grep f4-options '"format":"F4".*"gold":"[ABCD]","options":\[' "$WORK/p4.jsonl"

# answers written by Python from the prompts file: gold (with noise the scorer normalises), shuffled, partial
/usr/bin/python3 - "$P" "$WORK" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [answers]"; FAILS=$((FAILS + 1)); }
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 120 and len({r["id"] for r in rows}) == 120
assert {r["format"] for r in rows} == {"F1", "F2", "F3", "F4", "F5"} and {r["D"] for r in rows} == {1, 2, 3}
with open(sys.argv[2] + "/gold.jsonl", "w") as f:
    for r in rows: f.write(json.dumps({"id": r["id"], "answer": "  " + r["gold"].upper() + ". "}) + "\n")
with open(sys.argv[2] + "/shuffled.jsonl", "w") as f:
    for i, r in enumerate(rows):
        if i % 4: f.write(json.dumps({"id": r["id"], "answer": rows[(i + 1) % len(rows)]["gold"]}) + "\n")
PY
expect_ok score-gold "$BIN" retrieval score "$P" "$WORK/gold.jsonl" --json "$WORK/s.json"
expect_grep score-gold-all "^ all +1\.000 +1\.000 +1\.000 +1\.000 +1\.000 +1\.000" "$WORK/out"
expect_grep score-gold-n "120/120 correct, 0 missing" "$WORK/out"
expect_grep score-json '"accuracy": 1.0' "$WORK/s.json"
expect_ok score-shuffled "$BIN" retrieval score "$P" "$WORK/shuffled.jsonl"
expect_grep score-missing "30 missing answers" "$WORK/out"
expect_grep score-missing-ids "^missing: F1-D1-0000 " "$WORK/out"
/usr/bin/python3 -c "
import re, sys
m = re.search(r'(\d+)/120 correct', open('$WORK/out').read())
sys.exit(0 if m and int(m.group(1)) < 60 else 1)" && PASSES=$((PASSES + 1)) || { echo "FAIL [shuffled-lower]"; FAILS=$((FAILS + 1)); }

# sample: the token format with answers and curriculum targets, the LLM formulations, conditional, khop
expect_ok sample "$BIN" retrieval sample --D 3 --count 2 --seed 1
expect_grep sample-text "^#1  ([A-Z]=[A-Z0-9], )+[A-Z]=[A-Z0-9]\. [A-Z]\?   answer: [0-9]" "$WORK/out"
expect_grep sample-curriculum "^  curriculum: [0-9]" "$WORK/out"
expect_grep sample-prefix "^  prefix:     \. \. " "$WORK/out"
# the fused encoding: the same draws (same text), one id per statement plus the query (D = 3, 2 chains: 10 ids)
cp "$WORK/out" "$WORK/pairs.txt"
expect_ok sample-fused "$BIN" retrieval sample --D 3 --count 2 --seed 1 --encoding fused
cp "$WORK/out" "$WORK/fused.txt"
expect_ok sample-fused-same-text diff <(grep '^#' "$WORK/pairs.txt") <(grep '^#' "$WORK/fused.txt")
expect_ok sample-fused-ids test "$(grep -m1 '^  ids:' "$WORK/fused.txt" | wc -w)" = 11
expect_fail bad-encoding "--encoding 'triples'" "$BIN" retrieval sample --D 2 --encoding triples
expect_ok sample-f2 "$BIN" retrieval sample --D 2 --format F2 --count 1
expect_grep sample-f2-text "is the same as" "$WORK/out"
expect_ok sample-cond "$BIN" retrieval sample --task conditional --D 2 --count 1
expect_grep sample-cond-text "Where does [A-Z] live\?   answer: p[0-9]" "$WORK/out"
expect_ok sample-khop "$BIN" retrieval sample --task khop --k 2 --length 10 --count 1
expect_grep sample-khop-text "^#0  k2 \| [a-d]( [a-d]){9}$" "$WORK/out"

# every bad argument: one error with a HINT, non-zero exit
expect_fail bad-depth "depth range '0..3'" "$BIN" retrieval prompts --D 0..3 -o "$WORK/x.jsonl"
expect_fail bad-depth-word "'x' is not a positive integer" "$BIN" retrieval prompts --D x -o "$WORK/x.jsonl"
expect_fail bad-format "unknown format 'F7'" "$BIN" retrieval prompts --format F1,F7 -o "$WORK/x.jsonl"
expect_fail bad-count "prompt count 0" "$BIN" retrieval prompts --count 0 -o "$WORK/x.jsonl"
expect_fail too-many-variables "variables K" "$BIN" retrieval sample --D 10 --chains 3 --variables 26
expect_fail no-out "--out is required" "$BIN" retrieval prompts --D 2
expect_fail no-sub "A subcommand is required" "$BIN" retrieval
expect_fail bad-task "unknown task 'kohp'" "$BIN" retrieval sample --task kohp
expect_fail bad-khop "hops k = 0" "$BIN" retrieval sample --task khop --k 0
expect_fail bad-classes "classes = 9" "$BIN" retrieval sample --task conditional --classes 9
expect_fail missing-prompts "no such file" "$BIN" retrieval score "$WORK/none.jsonl" "$WORK/gold.jsonl"
printf '{"id":"F1-D1-0000","answer":"3"}\n{"id": nope}\n' > "$WORK/bad1.jsonl"
expect_fail malformed "bad1.jsonl:2: malformed JSON" "$BIN" retrieval score "$P" "$WORK/bad1.jsonl"
printf '{"id":"F1-D9-0000","answer":"3"}\n' > "$WORK/bad2.jsonl"
expect_fail unknown-id "bad2.jsonl:1: unknown id 'F1-D9-0000'" "$BIN" retrieval score "$P" "$WORK/bad2.jsonl"
printf '{"id":"F1-D1-0000"}\n' > "$WORK/bad3.jsonl"
expect_fail no-answer "bad3.jsonl:1: missing field \"answer\"" "$BIN" retrieval score "$P" "$WORK/bad3.jsonl"
printf '[1, 2]\n' > "$WORK/bad4.jsonl"
expect_fail not-object "bad4.jsonl:1: a line is not a JSON object" "$BIN" retrieval score "$P" "$WORK/bad4.jsonl"
expect_fail prompts-not-prompts "gold.jsonl:1: missing field \"format\"" "$BIN" retrieval score "$WORK/gold.jsonl" "$P"
test ! -e "$WORK/x.jsonl" && PASSES=$((PASSES + 1)) || { echo "FAIL [no-partial-file]"; FAILS=$((FAILS + 1)); }

# emergence: two tiny training runs (40 steps, snapshots every 10, per-D evals) read back as tables, a JSON
# and an SVG timeline; bad run directories are one error with a HINT
CFG="$TESTS/../examples/experiments/retrieval_curriculum_reduced.toml"
TINY=(train.steps=40 train.snapshot_every=10 train.eval_every=20 train.log_every=20 train.checkpoint_every=40
      train.probe_size=8 eval.size=64 'eval.lengths=[1,2]')
expect_ok em-train3 "$BIN" --threads 1 train "$CFG" seed=3 "${TINY[@]}" --out "$WORK/em3"
expect_ok em-train4 "$BIN" --threads 1 train "$CFG" seed=4 "${TINY[@]}" --out "$WORK/em4"
# a retrieval run's report.html holds the emergence timeline and the hop chain of one probe
expect_grep em-report-emergence "<h2>Emergence of head roles</h2>" "$WORK/em3/report.html"
expect_grep em-report-order "Order of emergence: " "$WORK/em3/report.html"
expect_grep em-report-hops "<h2>Hop chain of one probe through the final model</h2>" "$WORK/em3/report.html"
expect_ok emergence "$BIN" retrieval emergence "$WORK/em3" "$WORK/em4" -o "$WORK/em"
expect_grep em-run "^run .*/em4  \(seed 4, D = 2, 4 snapshots, steps 10..40\)$" "$WORK/out"
expect_grep em-header "^  layer head final role +score  emerged at step$" "$WORK/out"
expect_grep em-row "^  2     1    [a-z0-9 -]+ +[01]\.[0-9]{3}  (never|[1-4]0)$" "$WORK/out"
expect_grep em-order "^  order: " "$WORK/out"
expect_grep em-accuracy "^  answer accuracy >= 0\.90 first at: D=1 (never|step [24]0) D=2 (never|step [24]0)$" "$WORK/out"
expect_grep em-summary "^summary over 2 run\(s\): emergence order by \(layer, role\) (is the same in every run|differs between runs)$" "$WORK/out"
expect_grep em-written "wrote .*/em/emergence.json and .*/em/emergence.svg" "$WORK/out"
/usr/bin/python3 - "$WORK/em" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL [emergence-json]"; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1] + "/emergence.json"))
assert [r["seed"] for r in j["runs"]] == [3, 4] and isinstance(j["same_order"], bool) and j["threshold"] == 0.5
assert isinstance(j["same_layer_order"], bool) and all("layer_order" in r for r in j["runs"])
assert isinstance(j["consistent_layer_order"], bool) and (j["consistent_layer_order"] or not j["same_layer_order"])
for r in j["runs"]:
    assert r["steps"] == [10, 20, 30, 40] and r["D"] == 2 and set(r["accuracy_step"]) == {"1", "2"}
    assert sorted((h["layer"], h["head"]) for h in r["heads"]) == [(l, h) for l in range(3) for h in range(2)]
    for h in r["heads"]:
        assert len(h["timeline"]) == 4 and all(0 <= x <= 1 for x in h["timeline"])
        assert h["step"] in (-1, 10, 20, 30, 40) and (h["step"] == -1) == (h["role"] in ("uniform", "other"))
svg = open(sys.argv[1] + "/emergence.svg").read()
assert svg.lstrip().startswith("<svg") and "threshold" in svg and "s4 L2H1" in svg
PY
expect_fail em-no-dir "no run directory" "$BIN" retrieval emergence "$WORK/none"
expect_fail em-no-run "has no config.resolved.toml" "$BIN" retrieval emergence "$WORK"
expect_ok em-train-nosnap "$BIN" --threads 1 train "$CFG" train.steps=10 train.snapshot_every=0 train.eval_every=10 \
  train.checkpoint_every=10 eval.size=16 --out "$WORK/nosnap"
expect_fail em-no-snapshots "has no attention snapshots" "$BIN" retrieval emergence "$WORK/em3" "$WORK/nosnap" -o "$WORK/em-none"
cp -r "$WORK/em3" "$WORK/khop"
sed -i 's/^name = "retrieval"/name = "khop"/' "$WORK/khop/config.resolved.toml"
expect_fail em-not-retrieval "is a 'khop' run, not retrieval" "$BIN" retrieval emergence "$WORK/khop"
cp -r "$WORK/em3" "$WORK/garbage"
printf 'not a safetensors file' > "$WORK/garbage/snapshots/step_00000020.safetensors"
expect_fail em-malformed "step_00000020.safetensors" "$BIN" retrieval emergence "$WORK/garbage"
cp -r "$WORK/em3" "$WORK/otherD"
sed -i 's/^n = 2$/n = 3/' "$WORK/otherD/config.resolved.toml"
expect_fail em-wrong-spec "probe 0: retrieval metadata" "$BIN" retrieval emergence "$WORK/otherD"
expect_fail em-no-args "runs is required" "$BIN" retrieval emergence
test ! -e "$WORK/em-none" && PASSES=$((PASSES + 1)) || { echo "FAIL [em-no-partial]"; FAILS=$((FAILS + 1)); }
finish
