#!/usr/bin/env bash
# End to end: attnlab compile (+ --verify, --report, --causal) and running the result with `attnlab model run`
# on exactly the interpreter's input string; every bad input gets one error with a HINT and exit 1.
# Usage: bash compile_cli.sh /path/to/attnlab /path/to/tests
source "$(dirname "$0")/lib.bash"
root=$(cd "$TESTS/.." && pwd)
cd "$root"

# compile + verify (every input of lengths 1..5 over 3 tokens, 20 random inputs of each longer length)
expect_ok compile_reverse "$BIN" -q compile examples/reverse.rasp --vocab "a b c" --max-len 8 -o "$WORK/rev" --verify 20 --report
expect_grep verify_softmax "verify \(softmax attention, f64\): [0-9]+ inputs .* 0 mismatching inputs" "$WORK/out"
expect_grep verify_hard "verify \(hard attention, f64\): [0-9]+ inputs .* 0 mismatching inputs" "$WORK/out"
expect_grep exhaustive "every input checked at lengths 1\.\.[5-8]" "$WORK/out"
expect_grep report_layer "^layer 1:" "$WORK/out"
expect_grep report_layout "residual layout" "$WORK/out"
for f in config.json model.safetensors hard/config.json hard/model.safetensors program.rasp compile.json verify.json; do
  expect_grep "file_$f" "." <(ls "$WORK/rev/$f" 2>/dev/null && cat "$WORK/rev/$f" | head -c 1)
done

# the model runs on the interpreter's input string and agrees with `rasp run`
expect_ok rasp_run "$BIN" rasp run examples/reverse.rasp --input abcab --json
interp=$(grep -o '"[a-z_]*":\[[^]]*\]' "$WORK/out" | tail -1 | sed 's/.*:\[//; s/\]//; s/"//g; s/,/ /g')
expect_ok model_run "$BIN" model run "$WORK/rev" --input abcab --json
model=$(grep -o '"outputs":\[[^]]*\]' "$WORK/out" | sed 's/.*:\[//; s/\]//; s/"//g; s/,/ /g')
if [ "$interp" = "$model" ] && [ -n "$model" ]; then PASSES=$((PASSES + 1)); else
  echo "FAIL [agree]: interpreter '$interp' vs model '$model'"; FAILS=$((FAILS + 1)); fi
expect_ok model_run_hard "$BIN" model run "$WORK/rev/hard" --input abcab
expect_grep no_bos_row "^0 +a +b" "$WORK/out"

# numeric output (a mean), causal
printf 'load "frac_prevs";\nfrac = frac_prevs(tokens == "a");\n' > "$WORK/frac.rasp"
expect_ok compile_causal "$BIN" -q compile "$WORK/frac.rasp" --vocab "a b" --max-len 6 --causal -o "$WORK/frac" --verify 5
expect_ok run_numeric "$BIN" model run "$WORK/frac" --input abab --json
expect_grep numeric_values '"outputs":\["1","0.5","0.6666666667","0.5"\]' "$WORK/out"
expect_grep causal_config '"attention_dir": *"causal"' "$WORK/frac/config.json"

# errors: one message, a HINT, exit 1, nothing half-written
expect_fail causal_reverse "later positions" "$BIN" compile examples/reverse.rasp --vocab "a b" --max-len 4 --causal -o "$WORK/x1"
[ ! -e "$WORK/x1" ] && PASSES=$((PASSES + 1)) || { echo "FAIL [causal_reverse]: wrote $WORK/x1"; FAILS=$((FAILS + 1)); }
expect_fail no_vocab "vocabulary is empty" "$BIN" compile examples/reverse.rasp --vocab " " -o "$WORK/x2"
expect_fail dup_vocab "twice" "$BIN" compile examples/reverse.rasp --vocab "a a" -o "$WORK/x3"
printf 'x = aggregate(softmax_select(tokens_float, tokens_float, 1), tokens_float);\n' > "$WORK/soft.rasp"
expect_fail softmax_select "softmax_select has real weights" "$BIN" compile "$WORK/soft.rasp" --vocab "1 2" --max-len 4 -o "$WORK/x4"
expect_fail max_len "--max-len 0" "$BIN" compile examples/reverse.rasp --vocab "a" --max-len 0 -o "$WORK/x4"
expect_fail bad_name "no s-op named 'nope'" "$BIN" compile examples/reverse.rasp --name nope --vocab "a" -o "$WORK/x5"
expect_fail missing_file "missing.rasp" "$BIN" compile "$WORK/missing.rasp" --vocab "a" -o "$WORK/x6"
expect_fail bad_dtype "f16" "$BIN" compile examples/reverse.rasp --vocab "a" --dtype f16 --verify 1 -o "$WORK/x7"
expect_fail negative_verify "--verify -5" "$BIN" compile examples/reverse.rasp --vocab "a" --verify -5 -o "$WORK/x8"
printf 'out = numerical(aggregate(select(tokens, tokens, ==) or select(indices, indices, <), indicator(tokens == "a")));\n' > "$WORK/or.rasp"
expect_fail union_mean "numerical aggregate" "$BIN" compile "$WORK/or.rasp" --vocab "a b" -o "$WORK/x9"
expect_fail model_run_unknown_token "unknown token 'z'" "$BIN" model run "$WORK/rev" --input abz
expect_fail model_run_too_long "n_ctx" "$BIN" model run "$WORK/rev" --input abcabcabc
finish
