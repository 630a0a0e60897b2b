#!/usr/bin/env bash
# End to end: attnlab rasp run / analyse / draw / print / repl, and their error messages and exit codes.
# Usage: bash rasp_cli.sh /path/to/attnlab /path/to/tests
set -euo pipefail
bin=$1; tests=$2; root=$(cd "$tests/.." && pwd)
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
cd "$root"

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_ok OUTPUT_SUBSTRING CMD... : succeeds and prints the substring
expect_ok() {
  local want=$1; shift
  local out
  out=$("$@" 2>&1) || fail "'$*' exited $? with: $out"
  [[ "$out" == *"$want"* ]] || fail "'$*' printed:\n$out\nexpected to contain: $want"
}
# expect_fail CODE SUBSTRING CMD... : exits with CODE and prints the substring
expect_fail() {
  local code=$1 want=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -eq $code ]] || fail "'$*' exited $rc (want $code): $out"
  [[ "$out" == *"$want"* ]] || fail "'$*' printed:\n$out\nexpected to contain: $want"
}

# run: position by position, JSON, causal, named s-ops, every s-op
expect_ok $'pos  token  out\n0    h      o\n1    e      l' "$bin" rasp run examples/reverse.rasp --input hello
expect_ok '"sops":{"labels":["P","P","P","T","P","F"]}' "$bin" rasp run examples/dyck2.rasp -i "([])(]" --json
expect_ok '"sops":{"labels":["P","P","P","T"]}' "$bin" rasp run examples/dyck2.rasp -i "[()]" --json
expect_ok '"input":["[","1","]"]' "$bin" rasp run examples/reverse.rasp -i "[1]" --chars --json
cat > "$scratch/prog.rasp" <<'RASP'
h = selector_width(select(tokens, tokens, ==));
m = aggregate(select(indices, indices, True), tokens_int);
RASP
expect_ok '"sops":{"h":[1,1,2,2]}' "$bin" rasp run "$scratch/prog.rasp" -i "[1, 2, 1, 2]" --name h --json --causal
expect_ok '"sops":{"m":[1,1.5,1.3333333333333333,1.5]}' "$bin" rasp run "$scratch/prog.rasp" -i "[1, 2, 1, 2]" --json --causal
expect_ok $'pos  token  h  m\n0    1      2  1.5' "$bin" rasp run "$scratch/prog.rasp" -i "[1, 2, 1, 2]" --all

# analyse: totals and per-s-op layers
expect_ok 'layers: 2 (attention layers: 1, MLP layers: 1, most heads in a layer: 1)' "$bin" rasp analyse examples/reverse.rasp
expect_ok 'opp_index           layer 1 mlp' "$bin" rasp analyse examples/reverse.rasp --name out

# draw: dot text, and SVG through Graphviz when it is installed
expect_ok "wrote $scratch/g/rev.dot" "$bin" rasp draw examples/reverse.rasp -o "$scratch/g/rev.dot"
grep -q 'digraph rasp' "$scratch/g/rev.dot" || fail "no digraph in the .dot file"
if command -v dot >/dev/null; then
  expect_ok "wrote $scratch/rev.svg" "$bin" rasp draw examples/reverse.rasp -o "$scratch/rev.svg"
  grep -q '<svg' "$scratch/rev.svg" || fail "no <svg> in the .svg file"
fi

# print: the program back as RASP text, which runs to the same output
"$bin" rasp print examples/reverse.rasp > "$scratch/printed.rasp"
expect_ok $'0    h      o' "$bin" rasp run "$scratch/printed.rasp" -i hello

# repl: piped statements, example values, errors that do not end the session
out=$(printf 'set example "abc"\nx = length - indices;\ny = nope;\nz = x * 2;\n' | "$bin" rasp repl 2>&1) || fail "repl exited $?"
[[ "$out" == *'x("abc") = [3, 2, 1]'* ]] || fail "repl output: $out"
[[ "$out" == *"unknown name 'nope'"* ]] || fail "repl error missing: $out"
[[ "$out" == *'z("abc") = [6, 4, 2]'* ]] || fail "repl stopped after an error: $out"

# bad input: exit 1 with the message and a HINT
expect_fail 1 "no s-op named 'nope' in examples/reverse.rasp" "$bin" rasp run examples/reverse.rasp -i abc --name nope
expect_fail 1 "HINT: its s-ops: out" "$bin" rasp run examples/reverse.rasp -i abc --name nope
expect_fail 1 "cannot find the RASP file" "$bin" rasp run "$scratch/missing.rasp" -i abc
printf 'x = indices +;\n' > "$scratch/bad.rasp"
expect_fail 1 $'bad.rasp:1:14: expected an expression (a name, number, string, list, dict or \'(\'), found \';\'\n  1 | x = indices +;\n    |              ^' \
  "$bin" rasp run "$scratch/bad.rasp" -i abc
printf 'r = aggregate(select(indices, indices, <=), tokens);\n' > "$scratch/disagree.rasp"
expect_fail 1 "s-op 'r' at query position 1: the selected values disagree" "$bin" rasp run "$scratch/disagree.rasp" -i ab
expect_fail 1 "the input has 11 tokens, more than the limit of 10" "$bin" rasp run examples/reverse.rasp -i abcdefghijk --max-len 10
expect_fail 1 "the output must end in .dot or .svg" "$bin" rasp draw examples/reverse.rasp -o "$scratch/x.png"
expect_fail 2 "--input is required" "$bin" rasp run examples/reverse.rasp
echo "rasp_cli: all checks passed"
