// String equality and disjointness (Bhattamishra et al. 2024, arXiv 2406.09347, §4): x, y ∈ {0,1}^N separated
// by "|". EQ(x, y) = [x = y]; DISJ(x, y) = [no i with x_i = y_i = 1]. Two-layer transformers of width
// O(log N) decide both (constructions/string_pair.h); one-layer transformers and RNNs need size Ω(N/p).
//
// Vocabulary: "0" (0), "1" (1), "|" (2). Output vocabulary: "no" (0), "yes" (1). T = 2N + 1.
// Worked example, equality, N = 3:      "0 1 1 | 0 1 1"  → ids [0 1 1 2 0 1 1]  target "yes" (1)
//                                       "0 1 1 | 0 0 1"  → Hamming distance 1   target "no"  (0)
// Worked example, disjointness, N = 3:  "1 0 0 | 0 1 0"  → no common 1          target "yes" (1)
//                                       "1 1 0 | 0 1 0"  → x_1 = y_1 = 1        target "no"  (0)
// Positives are 50% (alternating). Negatives are near misses: for equality y is x with one bit flipped; for
// disjointness a disjoint pair with exactly one position set to 1 in both.
#pragma once

#include <cstdint>

#include "tasks/task.h"

namespace attnlab {

enum class PairTask { Equality, Disjointness };

void string_pair_validate(int64_t n);
std::vector<std::string> string_pair_vocab();      // {"0", "1", "|"}
std::vector<std::string> string_pair_vocab_out();  // {"no", "yes"}
bool string_pair_label(PairTask task, const std::vector<int64_t>& x, const std::vector<int64_t>& y);
TaskExample string_pair_example(PairTask task, const std::vector<int64_t>& x, const std::vector<int64_t>& y);
TaskBatch string_pair_sample(PairTask task, int64_t n, int64_t count, uint64_t seed);
// Every pair (x, y): 4^N examples; Error above `limit`.
TaskBatch string_pair_enumerate(PairTask task, int64_t n, int64_t limit = 1 << 20);
std::string pair_task_name(PairTask task);

}  // namespace attnlab
