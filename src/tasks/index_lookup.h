// Index lookup (Bhattamishra et al. 2024, arXiv 2406.09347, §3): a string x_0..x_{N-1} over an alphabet Σ,
// then the query index p as its own token; the target is x_p. A one-layer transformer of width O(log N)
// solves it (constructions/index_lookup.h); any RNN needs a hidden state of Ω(N log|Σ| / p) bits of precision p.
//
// Vocabulary (ids): symbols first (|Σ| ≤ 26: "a".."z"; larger: "s0".."s{|Σ|-1}"), then the N query tokens
// "@0".."@{N-1}". Output vocabulary: the symbols. Sequence length T = N + 1.
// Worked example, N = 4, Σ = {a, b, c}:  input  "b a c a @2"  → ids [1 0 2 0 5]  (3 symbols + "@2" = 3 + 2)
//                                        target "c"           → id 2  (x_2, positions count from 0)
// The query is one token (not digits) so the model can map it straight to a position code by its embedding.
#pragma once

#include <cstdint>

#include "tasks/task.h"

namespace attnlab {

struct IndexLookupSpec {
  int64_t n = 8;         // N: string length (>= 1)
  int64_t alphabet = 4;  // |Σ| (>= 2)
};

void index_lookup_validate(const IndexLookupSpec& spec);
std::vector<std::string> index_lookup_vocab(const IndexLookupSpec& spec);      // symbols, then "@0".."@{N-1}"
std::vector<std::string> index_lookup_vocab_out(const IndexLookupSpec& spec);  // symbols
// Uniform strings and query positions.
TaskBatch index_lookup_sample(const IndexLookupSpec& spec, int64_t count, uint64_t seed);
// Every string and every query: |Σ|^N * N examples; Error above `limit` examples.
TaskBatch index_lookup_enumerate(const IndexLookupSpec& spec, int64_t limit = 1 << 20);
// The one example (x, p) with x given by symbol ids.
TaskExample index_lookup_example(const IndexLookupSpec& spec, const std::vector<int64_t>& x, int64_t p);

}  // namespace attnlab
