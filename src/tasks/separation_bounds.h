// Communication-complexity lower bounds of Bhattamishra et al. 2024 (arXiv 2406.09347), as numbers to put next
// to the constructions' sizes. p = bits of precision per stored number. Each bound is stated up to the constant
// factor of the Ω (taken as 1), so it is a scale, not an exact threshold:
//   index lookup, RNN:            hidden size   ≥ N·log2|Σ| / p   (one-way CC of INDEX over Σ: N·log2|Σ| bits)
//   equality / disjointness, RNN: hidden size   ≥ N / p           (CC of EQ (deterministic) / DISJ: N bits)
//   equality / disjointness, 1-layer transformer: m·H·p ≥ N → width m ≥ N / (H·p)
//   Dyck-(2, 2) at length n, 1-layer transformer:  m·H·p ≥ n → width m ≥ n / (H·p)
//   nearest neighbour over N labelled points, RNN: hidden size ≥ N / p. The paper's abstract states that
//     recurrent models need linear size for this task (its lower bounds are reductions from communication
//     complexity); the exact constant of the theorem was not checked for this row, which uses the same
//     convention as the others (Ω constant 1). No one-layer-transformer bound for nearest neighbour is printed.
// LibTorch-free (lives with the tasks so the formulas are tested in the fast core suite).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab {

struct BoundRow {
  std::string model;    // "RNN" or "1-layer transformer"
  std::string measure;  // what is bounded ("hidden size", "width m")
  double value = 0;     // the bound (a real number; the size must be at least this)
  std::string formula;  // how value was computed, with the numbers substituted
};

struct BoundQuery {
  std::string task;        // index-lookup | equality | disjointness | dyck | nearest-neighbour
  int64_t n = 1024;        // N (string length), n (Dyck string length) or N labelled points (nearest neighbour)
  int64_t alphabet = 2;    // |Σ| for index lookup
  int64_t precision = 32;  // p bits
  int64_t heads = 1;       // H for the transformer bounds
};

std::vector<BoundRow> separation_bounds(const BoundQuery& q);  // Error on bad task names or parameters

}  // namespace attnlab
