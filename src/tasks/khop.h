// k-hop induction heads (Sanford, Hsu, Telgarsky 2024, "Transformers, parallel computation, and logarithmic
// depth", arXiv 2402.09268): a random string over a small alphabet with no immediate repeats; at every position
// follow the induction pointer k times. A transformer of depth ~log2 k solves it (pointer doubling); the number
// of hops a trained transformer handles roughly doubles per added layer. Shapes: T = L + 1, L = string length.
//
// Definition (string indices i = 0..L-1): find(i) = 1 + max{ j < i : x_j = x_i } (the position right after the
// most recent earlier occurrence of x_i), undefined when x_i has not occurred before. p_0 = i, p_h = find(p_{h-1});
// hop_k(i) = x_{p_k}, undefined as soon as one find is. Undefined positions are masked (no target): the
// accuracy counts only positions whose k-hop exists, as in the paper's per-hop error.
// Tokens: the hop count k as its own token first, then the string. Vocabulary ids: the |Σ| symbols ("a".."z",
// or "s0".."s{|Σ|-1}" above 26), then "k1".."k{max_k}". Output vocabulary: the symbols.
// Worked example, |Σ| = 3, max_k = 2, k = 2, L = 7:
//   input   "k2  a b c a b a c"  -> ids [4  0 1 2 0 1 0 2]
//   find:   i=3 (a) -> 1, i=4 (b) -> 2, i=5 (a) -> 4, i=6 (c) -> 3; i=0,1,2 undefined
//   hop_1:  i=3..6 -> b c b a;  hop_2: i=5 -> find(4) = 2 -> "c", i=6 -> find(3) = 1 -> "b"; i=3,4 undefined
//   targets [-  - - - - - c b]  (token positions 6 and 7 scored; position 0 is the hop-count token)
// k is a token (not the config) so one model can be trained on a mixture of hop counts and asked per k.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace attnlab {

struct KhopSpec {
  int64_t k = 2;         // hops (>= 1); with mix, the largest hop count drawn
  int64_t length = 32;   // L: string length (>= 2)
  int64_t alphabet = 4;  // |Σ| (2..4096)
  int64_t max_k = 0;     // hop-count tokens in the vocabulary "k1".."k{max_k}"; 0 = k
  bool mix = false;      // each example draws its own k uniformly from 1..k
};

void khop_validate(const KhopSpec& spec);
std::vector<std::string> khop_vocab(const KhopSpec& spec);      // symbols, then "k1".."k{max_k}"
std::vector<std::string> khop_vocab_out(const KhopSpec& spec);  // symbols
int64_t khop_seq_len(const KhopSpec& spec);                     // T = L + 1
// Per-position targets [T] from the tokens alone (k is read from token 0): symbol id, -1 where undefined.
std::vector<int64_t> khop_targets(const KhopSpec& spec, const std::vector<int64_t>& tokens);
// `count` strings; target = the last position's target (-1 when undefined, unless last_defined: then strings
// are redrawn until the last position's k-hop exists). Same seed, same bytes.
TaskBatch khop_sample(const KhopSpec& spec, int64_t count, uint64_t seed, bool last_defined = false);
std::string khop_text(const KhopSpec& spec, const std::vector<int64_t>& tokens);  // "k2 | a b c a b a c"

}  // namespace attnlab
