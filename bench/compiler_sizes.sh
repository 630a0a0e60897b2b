#!/usr/bin/env bash
# Sizes and compile times of every standard-library program (bench/COMPILER.md).
# Usage: bash bench/compiler_sizes.sh [build/attnlab] > table.md
# Compile time = compile + assemble + write the model directory (softmax + hard), single thread.
# "d_model without reuse" = one subspace per source (compile.json's d_model_without_reuse).
set -euo pipefail
BIN=${1:-build/attnlab}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
letters4="a b c d"; letters10="a b c d e f g h i j"
digits4="1 2 3 4"; digits10="0 1 2 3 4 5 6 7 8 9"
brackets4="( ) [ ]"; brackets10="( ) [ ] { } a b c d"
programs=(
  "reverse|reverse(tokens)|letters"
  "histogram|histogram(tokens)|letters"
  "double_hist|double_histogram(tokens)|letters"
  "sort|sort(tokens, tokens)|letters"
  "sort_freq|sort_by_most_freq(tokens)|letters"
  "shift|shift_by(1, tokens, \"a\")|letters"
  "pattern|detect_pattern(tokens, \"abc\")|letters"
  "count|count(tokens, \"a\")|letters"
  "count_less_freq|count_less_freq(tokens, 2)|letters"
  "frac_prevs|frac_prevs(tokens == \"a\")|letters"
  "length|make_length()|letters"
  "length|length_bos()|letters"
  "dyck|dyck1_ptf(tokens)|brackets"
  "dyck|dyck2_ptf(tokens)|brackets"
  "shuffle_dyck|shuffle_dyck2_ptf(tokens)|brackets"
  "matrix|transpose(tokens_float, 0, 3, 2, 3)|digits"
  "matrix|matmul(tokens_float, 0, 3, transpose(tokens_float, 0, 3, 2, 3), 0, 2, 2, 3, 2)|digits"
)
echo "| program | max_len | vocab | layers | heads (max/layer) | d_model | d_model without reuse | d_head | d_mlp | params | compile s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for entry in "${programs[@]}"; do
  IFS='|' read -r file expr kind <<<"$entry"
  printf 'load "%s";\nout = %s;\n' "$file" "$expr" > "$work/p.rasp"
  for n in 5 16 32 64; do
    for v in 4 10; do
      var="${kind}${v}"; vocab=${!var}
      line=$(timeout 120 "$BIN" --threads 1 -q compile "$work/p.rasp" --vocab "$vocab" --max-len "$n" -o "$work/m" 2>&1 | head -1) || true
      if [[ $line =~ in\ ([0-9.]+)\ s:\ ([0-9]+)\ layers,\ ([0-9]+)\ heads.*d_model\ ([0-9]+),\ d_head\ ([0-9]+),\ d_mlp\ ([0-9]+),\ ([0-9]+)\ parameters ]]; then
        unshared=$(grep -o '"d_model_without_reuse": *[0-9]*' "$work/m/compile.json" | grep -o '[0-9]*$')
        echo "| $expr | $n | $v | ${BASH_REMATCH[2]} | ${BASH_REMATCH[3]} | ${BASH_REMATCH[4]} | $unshared | ${BASH_REMATCH[5]} | ${BASH_REMATCH[6]} | ${BASH_REMATCH[7]} | ${BASH_REMATCH[1]} |"
      else
        echo "| $expr | $n | $v | refused: ${line//|/\\|} | | | | | | | |"
      fi
    done
  done
done
