// Optimisers with explicit, checkpointable state (no hidden tensors): AdamW (Loshchilov & Hutter 2019,
// decoupled weight decay, bias-corrected moments, as torch.optim.AdamW) and SGD with momentum (as torch.optim.SGD,
// L2 weight decay added to the gradient). Weight decay applies to matrices only (dim >= 2), not to biases or
// LayerNorm vectors. Global gradient-norm clipping as torch.nn.utils.clip_grad_norm_.
// Flat buffers: the constructor moves every parameter (same dtype and device) into one flat tensor, decayed
// matrices first, and makes the parameters views of it (set_data); the moments are flat too. Once every
// parameter has a gradient (after the first backward), the gradients are moved into one flat buffer as well
// (autograd accumulates in place into a defined .grad()), and zero_grad / clipping / the update each run as a few
// element-wise ops on the whole buffer instead of a few per parameter: the same per-element arithmetic, far
// fewer op dispatches for small models. Parameters without a gradient keep the per-parameter path.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "train/config.h"

namespace attnlab {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

class Optimizer {
 public:
  Optimizer(const OptimConfig& cfg, NamedTensors params);
  void zero_grad();
  double clip_grad_norm(double max_norm);  // total norm before clipping; max_norm <= 0: no clipping
  void step(double lr);                    // one update with the gradients in p.grad()
  int64_t steps() const { return steps_; }
  // "exp_avg.<param>", "exp_avg_sq.<param>" (AdamW) or "momentum.<param>" (SGD), in parameter order.
  NamedTensors state() const;
  // Restores state() output and the step count; Error naming any missing or misshapen tensor.
  void state_load(const NamedTensors& state, int64_t steps);

 private:
  // Moves the gradients into grad_flat_ when every parameter has one; true when the flat path is usable.
  bool flat_ready();
  void update(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v, int64_t n_decay, double lr);

  OptimConfig cfg_;
  NamedTensors params_;
  std::vector<torch::Tensor> m_, v_;  // first / second moments (AdamW) or momentum buffers (SGD, m_ only): views of
                                      // m_flat_ / v_flat_ when the parameters are flat
  torch::Tensor p_flat_, m_flat_, v_flat_, grad_flat_;  // undefined when the parameters could not be flattened
  std::vector<int64_t> offset_;     // parameter i occupies [offset_[i], offset_[i] + numel) of the flat buffers
  int64_t n_decay_ = 0;              // the first n_decay_ entries of the flat buffers are weight-decayed matrices
  int64_t steps_ = 0;
};

// Learning rate for update `step` (0-based) of `total`: linear warm-up, then cosine / linear / constant decay
// down to min_lr_ratio * base_lr at the last step.
double schedule_lr(const ScheduleConfig& s, double base_lr, int64_t step, int64_t total);

}  // namespace attnlab
