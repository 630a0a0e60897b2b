// Nearest neighbour in the forward pass (Bhattamishra et al. 2024, arXiv 2406.09347, §6): k labelled unit
// vectors x_j ∈ R^d, then a query unit vector q; the target is the label of argmax_j <q, x_j> (for unit
// vectors the Euclidean nearest). Instances have a margin δ: <q, x_nn> - max_{j≠nn} <q, x_j> >= δ.
// A two-layer transformer of width O(d + log k + C) implements it (constructions/nearest_neighbour.h).
//
// Encoding (real-valued inputs through embed.W_in_num, I = d): T = 2k + 1 positions, interleaved
//   position 2j   : token "x",        numbers x_j       (the point)
//   position 2j+1 : token "L{label}", numbers 0         (its label, one of C classes)
//   position 2k   : token "?",        numbers q         (the query)
// Vocabulary: "x" (0), "?" (1), "L0".."L{C-1}" (2..C+1). Output vocabulary: "L0".."L{C-1}".
// Worked example, d = 2, k = 2, C = 2: x_0 = (1, 0) label L1, x_1 = (0, 1) label L0, q = (0.8, 0.6):
//   tokens [0 3 0 2 1], numbers [[1 0] [0 0] [0 1] [0 0] [.8 .6]]; <q,x_0> = .8 > <q,x_1> = .6 → target "L1" (1).
#pragma once

#include <cstdint>

#include "tasks/task.h"

namespace attnlab {

struct NearestNeighbourSpec {
  int64_t k = 8;          // labelled points (>= 1)
  int64_t d = 4;          // dimension (>= 1)
  int64_t classes = 4;    // C labels (>= 2)
  double margin = 0.1;    // δ in (0, 1]
};

void nearest_neighbour_validate(const NearestNeighbourSpec& spec);
std::vector<std::string> nearest_neighbour_vocab(const NearestNeighbourSpec& spec);
std::vector<std::string> nearest_neighbour_vocab_out(const NearestNeighbourSpec& spec);
// Label of the point with the largest inner product with q (first on ties); points/query as [k*d] / [d].
int64_t nearest_neighbour_label(const NearestNeighbourSpec& spec, const TaskExample& e);
// The margin <q, x_nn> - second best inner product of an example (+inf when k = 1).
double nearest_neighbour_margin(const NearestNeighbourSpec& spec, const TaskExample& e);
// Random points on the sphere; the query is a perturbed copy of a random point, resampled until the margin holds.
TaskBatch nearest_neighbour_sample(const NearestNeighbourSpec& spec, int64_t count, uint64_t seed);

}  // namespace attnlab
