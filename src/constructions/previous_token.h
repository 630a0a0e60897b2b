// The previous-token head: a one-layer, one-head, attention-only causal transformer whose output at position t
// is the input token at t-1 (position 0, which can only see itself, outputs its own token). Used by `make demo`
// as the smallest model whose attention pattern one can read off: an off-diagonal stripe.
// Residual layout (R = 2V + n_ctx): [token one-hot (V) | position one-hot (n_ctx) | previous-token one-hot (V)].
// Query at t is e_{t-1}, key at s is e_s (both in an n_ctx-wide head), scores are scaled by `sharpness`, so
// softmax puts weight >= 1 - (t-1) exp(-sharpness) on s = t-1.
#pragma once

#include <string>
#include <vector>

#include "model/model.h"

namespace attnlab {

struct PreviousTokenOptions {
  std::vector<std::string> vocab = {"a", "b", "c", "d", "e", "f", "g", "h"};
  int n_ctx = 16;
  double sharpness = 30.0;  // score of the wanted key; the others score 0
};

SequenceModel previous_token_build(const PreviousTokenOptions& opt);

}  // namespace attnlab
