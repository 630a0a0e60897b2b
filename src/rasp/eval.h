// Evaluates a RASP program graph on one input: each reachable node once (memoised, operands first), s-ops
// as columns of N atoms, selectors as bit-packed N×N matrices (row = query position, bit j = key j), an
// aggregate as a masked mean over a row. Selectors are freed after their last use unless asked to be kept.
// Shapes: N = input length. Memory: N²/8 bytes per live selector (12.5 MB at N = 10^4).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "rasp/graph.h"

namespace attnlab::rasp {

using Column = std::vector<Atom>;  // [N] one s-op's value per position

struct BitMatrix {
  size_t n = 0;                 // N (square)
  size_t words = 0;             // uint64 words per row = ceil(N / 64)
  std::vector<uint64_t> bits;   // [N, words] row i = query i; bit j = key j
  bool get(size_t query, size_t key) const { return (bits[query * words + key / 64] >> (key % 64)) & 1u; }
  const uint64_t* row(size_t query) const { return bits.data() + query * words; }
};

struct EvalOptions {
  bool causal = false;          // mask every selector to keys at or before the query (key j <= query i)
  size_t max_len = 20000;       // longest input accepted
  bool keep_selectors = false;  // keep every selector's matrix for inspection (else freed after last use)
};

struct Evaluation {
  size_t n = 0;  // input length
  std::unordered_map<const Node*, Column> values;        // every evaluated s-op
  std::unordered_map<const Node*, BitMatrix> selectors;  // kept selectors (see EvalOptions)
  // The value of an evaluated s-op; throws if it was not part of the evaluation.
  const Column& at(const Node* n) const;
};

// Evaluates targets (and everything they depend on) on input. Throws attnlab::Error naming the s-op,
// its source location and the position on runtime errors (type errors, division by zero, disagreeing
// categorical aggregates, ...), and on inputs longer than max_len.
Evaluation evaluate(const std::vector<const Node*>& targets, const std::vector<Atom>& input,
                    const EvalOptions& opts = {});

// Parses an input as given on the command line: text that starts with '[' and parses as a non-empty list
// ("[1, 2, 3]", "['a', 'b']") is that list of atoms; any other text, or any text when chars is set, is split
// into its characters (UTF-8 aware), so "([)]" and "[]" are bracket strings. list_only: a malformed list
// is an error instead of characters.
std::vector<Atom> input_parse(const std::string& text, bool chars = false, bool list_only = false);

}  // namespace attnlab::rasp
