// Helpers shared by the separation constructions: copying a model into another dtype, the softmax scale that
// buys a logit margin, and the precision (mantissa bits) a margin needs.
#pragma once

#include <cmath>
#include <string>

#include "model/model.h"

namespace attnlab {

// A new model with the same config whose parameters are `model`'s, converted to `dtype`.
inline SequenceModel model_copy_as(const SequenceModel& model, torch::Dtype dtype) {
  SequenceModel out = model_create(model->config(), dtype);
  torch::NoGradGuard no_grad;
  auto src = model->named_parameters();
  for (auto& p : out->named_parameters()) p.value().copy_(src[p.key()].to(dtype));
  return out;
}

// Softmax scale λ such that a key scoring `gap` (in code units) above `others` competitors gets weight
// >= (1 + margin) / 2: weight >= 1 / (1 + others·e^{-λ·gap}) and others·e^{-λ·gap} <= (1 - margin)/(1 + margin).
inline double softmax_scale_for(double others, double gap, double margin) {
  return (std::log(std::max(1.0, others)) + std::log((1.0 + margin) / (1.0 - margin))) / gap;
}

// Mantissa bits p for which a softmax average over T keys (values in [0, 1], naive summation, unit roundoff
// 2^-p, error <= 2·T·2^-p) keeps a logit margin μ: p >= log2(2T / μ) + 1.
inline int precision_bits_for(double T, double margin) {
  return static_cast<int>(std::ceil(std::log2(2.0 * T / margin))) + 1;
}

}  // namespace attnlab
