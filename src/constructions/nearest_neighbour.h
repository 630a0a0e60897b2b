// Nearest neighbour in the forward pass with a two-layer transformer of width O(d + log k + C) (Bhattamishra et
// al. 2024, arXiv 2406.09347, §6: a two-layer transformer of width O(d + log k) outputs the label of the point
// nearest to the query when the instance has a margin δ). Input (tasks/nearest_neighbour.h): T = 2k + 1
// positions, point x_j at 2j (numbers through embed.W_in_num), its label token at 2j + 1, the query q at 2k.
// Residual (R = 2d + C + 2c + 2, c = code dim): [vec (d) | label one-hot (C) | key code (c) | query code (c) |
//   is_label | is_query | fetched (d)]. W_in_num writes the numbers into vec; W_pos[2j] = key code c_j,
//   W_pos[2j+1] = query code c_j + e_is_label; W_E[L_a] = e_label_a; W_E["?"] = e_is_query.
// Layer 1 (previous-point head): label 2j+1 scores λ1·<c_j, c_j> = λ1 at 2j, ≤ λ1·γ at other points, 0 at labels;
//   value = vec → fetched. With μ1 = 1 - δ/4 the weight on x_j is ≥ 1 - δ/8 =: 1 - ε, so
//   |<q, fetched_j> - <q, x_j>| ≤ 2ε = δ/4 and the fetched inner products keep a margin ≥ δ - 4ε = δ/2.
// Layer 2 (query head): q = [vec, is_query], key = [fetched, 3·is_label], scores λ2·(<q, fetched_j> + 3) at
//   labels (≥ 2 - δ/4) and ≤ λ2 at points and the query (|fetched| ≤ 1): the nearest label leads every other
//   position by ≥ δ/2. λ2 = softmax_scale_for(T - 1, δ/2, μ); value = label one-hot → label dims; W_U reads them,
//   so the right label's logit wins by ≥ μ. Both scales live in W_Q (attn_scale = 1). Read at the last position.
// Precision: layer 1 must keep the fetched error below δ/8 and layer 2 the margin μ:
//   max(precision_bits_for(T, δ/8), precision_bits_for(T, μ)) mantissa bits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "constructions/codes.h"
#include "constructions/index_lookup.h"
#include "model/model.h"
#include "tasks/nearest_neighbour.h"

namespace attnlab {

struct NearestNeighbourOptions {
  NearestNeighbourSpec spec;    // k points in R^d, C classes, promised margin δ
  double gamma = 0.5;           // layer-1 position-code coherence, in (0, 1)
  double logit_margin = 0.5;    // μ: target logit margin, in (0, 1)
  std::string code = "random";  // random | reed-solomon
  uint64_t seed = 0;
};

struct NearestNeighbourBuild {
  SequenceModel model;  // float64
  NearOrthogonalCode code;
  double scale1 = 0, scale2 = 0;  // λ1 (previous-point head), λ2 (query head)
  int precision_bits = 0;
  nlohmann::json report() const;
};

NearestNeighbourBuild nearest_neighbour_build(const NearestNeighbourOptions& opt);

// Model input [B, T] tokens + [B, T, d] numbers for a batch of task examples.
ModelInput nearest_neighbour_input(const NearestNeighbourSpec& spec, const TaskBatch& batch, size_t begin,
                                   size_t end);

// `count` random instances with margin δ (tasks/nearest_neighbour.h), through forward(), in f32 and f64.
std::vector<VerifyResult> nearest_neighbour_verify(const NearestNeighbourBuild& b, const NearestNeighbourOptions& opt,
                                                   int64_t count, uint64_t seed);

}  // namespace attnlab
