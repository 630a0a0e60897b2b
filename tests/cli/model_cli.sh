# `attnlab demo` and `attnlab model info|run|view` end to end, and every bad input of issue 2 item 5.
source "$(dirname "$0")/lib.bash"

# One thread: ctest runs this beside the torch suite, and two OpenMP teams on two cores crawl.
expect_ok demo "$BIN" --threads 1 demo --out "$WORK/demo"
M=$WORK/demo/previous_token
expect_grep demo-output "output: a a b c d e f g h a" "$WORK/out"
expect_grep demo-html "attention view: .*report.html" "$WORK/out"
test -s "$M/report.html" && test -s "$M/config.json" && test -s "$M/model.safetensors"

expect_ok info "$BIN" model info "$M" --length 5
expect_grep info-hook "blocks.0.attn.hook_pattern \[1, 1, 5, 5\]" "$WORK/out"
expect_grep info-params "parameters: 3160" "$WORK/out"

expect_ok run "$BIN" model run "$M" --input "c a b"
expect_grep run-table "^2 +b +a" "$WORK/out"
expect_ok run-chars "$BIN" --threads 1 model run "$M" --input "cab" --dtype f32
expect_grep run-chars-table "^1 +a +c" "$WORK/out"
expect_ok run-json "$BIN" model run "$M" --input "c a b" --json --logits
/usr/bin/python3 -c "import json,sys; j=json.load(open('$WORK/out')); assert j['outputs']==['c','c','a'], j; assert len(j['logits'])==3" \
  && PASSES=$((PASSES + 1)) || { echo "FAIL [run-json]: bad JSON"; FAILS=$((FAILS + 1)); }
expect_ok run-cache "$BIN" model run "$M" --input "a b" --cache "blocks.*.attn.hook_*" --cache-out "$WORK/cache.safetensors"
expect_grep run-cache-count "cache: 6 tensors" "$WORK/out"
expect_ok view "$BIN" model view "$M" --input "a b c d" -o "$WORK/view.html"
expect_grep view-html "attnlab-data" "$WORK/view.html"

# --- bad inputs: paths ---
expect_fail missing-dir "does not exist" "$BIN" model run "$WORK/nope" --input "a"
touch "$WORK/plainfile"
expect_fail not-a-dir "is not a directory" "$BIN" model info "$WORK/plainfile"
mkdir -p "$WORK/empty"
expect_fail no-config "config.json" "$BIN" model info "$WORK/empty"
mkdir -p "$WORK/noread" && cp "$M/config.json" "$M/model.safetensors" "$WORK/noread/"
chmod 000 "$WORK/noread/config.json"
if [ "$(id -u)" -ne 0 ]; then expect_fail unreadable "cannot open" "$BIN" model info "$WORK/noread"; fi

# --- bad inputs: config and weights ---
bad() { rm -rf "$WORK/bad"; cp -r "$M" "$WORK/bad"; }
bad; echo '{"d_model": 3,' > "$WORK/bad/config.json"
expect_fail bad-json "not valid JSON" "$BIN" model info "$WORK/bad"
bad; /usr/bin/python3 - "$WORK/bad/config.json" <<'PY'
import json, sys; p = sys.argv[1]; j = json.load(open(p)); j["n_heads"] = "two"; json.dump(j, open(p, "w"))
PY
expect_fail bad-field "field 'n_heads' must be an integer" "$BIN" model info "$WORK/bad"
bad; /usr/bin/python3 - "$WORK/bad/config.json" <<'PY'
import json, sys; p = sys.argv[1]; j = json.load(open(p)); j["d_model"] = 40; del j["attnlab"]["residual_labels"]; json.dump(j, open(p, "w"))
PY
expect_fail shape-mismatch "has shape [8, 32] but the config needs [8, 40]" "$BIN" model run "$WORK/bad" --input "a"
bad; head -c 100 "$M/model.safetensors" > "$WORK/bad/model.safetensors"
expect_fail truncated-weights "model.safetensors" "$BIN" model run "$WORK/bad" --input "a"
bad; printf '\xff\xff\xff\xff\xff\xff\xff\x7f' > "$WORK/bad/model.safetensors"
expect_fail huge-header "model.safetensors" "$BIN" model run "$WORK/bad" --input "a"
bad; echo "not safetensors at all" > "$WORK/bad/model.safetensors"
expect_fail garbage-weights "model.safetensors" "$BIN" model run "$WORK/bad" --input "a"

# --- bad inputs: tokens, lengths, options ---
expect_fail unknown-token "unknown token 'z' at position 1" "$BIN" model run "$M" --input "a z"
expect_fail too-long "n_ctx is 16" "$BIN" model run "$M" --input "a b c d e f g h a b c d e f g h a"
expect_fail empty-input "input is empty" "$BIN" model run "$M" --input "   "
expect_fail bad-dtype "unknown dtype 'f16'" "$BIN" model run "$M" --input "a" --dtype f16
expect_fail bad-device "unknown device 'tpu'" "$BIN" model run "$M" --input "a" --device tpu
if ! "$BIN" model run "$M" --input a --device cuda >/dev/null 2>&1; then
  expect_fail no-cuda "CUDA is not available" "$BIN" model run "$M" --input "a" --device cuda
fi
expect_fail bad-threads "threads" "$BIN" --threads -2 model info "$M"
expect_fail bad-length "length" "$BIN" model info "$M" --length 99
expect_fail unknown-option "--frobnicate" "$BIN" model run "$M" --frobnicate
expect_fail missing-arg "DIR" "$BIN" model run
expect_fail numbers-on-token-model "takes no real-valued inputs" "$BIN" model run "$M" --numbers "1;2"
expect_fail cache-no-out "--cache given without --cache-out" "$BIN" model run "$M" --input a --cache "*"
expect_fail cache-no-match "matched no hook name" "$BIN" model run "$M" --input a --cache "nothing*" --cache-out "$WORK/c.safetensors"
expect_fail view-bad-out "directory" "$BIN" model view "$M" --input "a b" -o "$WORK/no/such/dir/v.html"
expect_fail unknown-command "demoo" "$BIN" demoo

# Nothing already written is lost: a failing view leaves an existing file as it was.
echo "keep me" > "$WORK/keep.html"
expect_fail view-bad-token "unknown token" "$BIN" model view "$M" --input "a q" -o "$WORK/keep.html"
expect_grep keep "^keep me$" "$WORK/keep.html"

finish
