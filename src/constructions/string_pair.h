// String equality and disjointness with two-layer transformers of width O(log N) (Bhattamishra et al. 2024,
// arXiv 2406.09347, Theorem 2: two-layer transformers of width O(log N) decide EQ and DISJ, which need linear
// size for one-layer transformers and RNNs). Input "x_0..x_{N-1} | y_0..y_{N-1}" (tasks/string_pair.h), the
// answer read at the last position. Residual (R = 2k + 4):
//   [bit | is_y | key code c_i (k, at x_i) | query code c_i (k, at y_i) | fetched | flag]   (+ avg = flag mean)
// Layer 1 attention (D = k): y_i queries with c_i, x_j answers with c_j: score λ·s at j = i, ≤ λγs elsewhere,
//   0 at the separator and the y positions; value = bit → "fetched" ≈ x_i within 1/8 (λ from margin 3/4).
// Layer 1 MLP (ReLU, M = 2), gated off outside y by 2·is_y - 2:
//   equality:     flag = relu(f - b + 2 is_y - 9/4) + relu(b - f + 2 is_y - 9/4)  (0 if x_i = y_i, ≥ 5/8 if not)
//   disjointness: flag = relu(f + b + 2 is_y - 7/2)                               (≥ 3/8 iff x_i = y_i = 1)
// Layer 2 attention: zero scores, so the last position averages flag over all T = 2N + 1 positions into avg.
// Unembed: logit(no) = 2T/flag_min · avg, logit(yes) = 1: margin ≥ 1 both ways (avg = 0 exactly on positives).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "constructions/codes.h"
#include "constructions/index_lookup.h"
#include "model/model.h"
#include "tasks/string_pair.h"

namespace attnlab {

struct StringPairOptions {
  PairTask task = PairTask::Equality;
  int64_t n = 16;               // N
  double gamma = 0.5;           // position-code coherence, in (0, 1)
  std::string code = "random";  // random | reed-solomon
  uint64_t seed = 0;
};

struct StringPairBuild {
  SequenceModel model;  // float64
  NearOrthogonalCode code;
  double scale = 0;     // layer-1 λ
  int precision_bits = 0;
  nlohmann::json report() const;
};

StringPairBuild string_pair_build(const StringPairOptions& opt);

// Exhaustive when 4^N <= 4096, else `count` sampled examples (half near-miss negatives), through forward().
std::vector<VerifyResult> string_pair_verify(const StringPairBuild& b, const StringPairOptions& opt, int64_t count,
                                             uint64_t seed);

}  // namespace attnlab
