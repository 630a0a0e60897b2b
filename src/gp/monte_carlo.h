// Finite-width validation of the NNGP kernels: random finite transformers built with the runtime
// (src/model/), one attention layer with tied Q = K at 1/d_head scaling, H heads of width D, residual width R;
// the empirical kernel of the mean-pooled attention output, averaged over M independent networks, against
// embed(se, pos=iid, sp) | attn(tied, qk, v) | meanpool. The statistical error falls as 1/√M, the bias as 1/D.
// Shapes: N sequences of length L; weights W_E [V, R] ~ N(0, σ_e²), W_pos [L, R] ~ N(0, σ_p²),
// W_Q = W_K [H, R, D] ~ N(0, σ_QK²/R), W_V [H, R, D] ~ N(0, 1/R), W_O [H, D, R] ~ N(0, σ_V²/(H D)).
#pragma once

#include <string>

#include <torch/torch.h>

#include "model/model.h"

namespace attnlab::gp {

struct FiniteWidthOptions {
  int vocab = 2;
  int width = 64;      // R = d_model
  int heads = 8;       // H
  int d_head = 64;     // D (the 1/d scaling divides by D)
  int networks = 16;   // M independent random networks
  double sigma_e2 = 1, sigma_p2 = 0, sigma_qk2 = 1, sigma_v2 = 1;
  bool causal = false;
  uint64_t seed = 0;
};

struct FiniteWidthKernel {
  torch::Tensor mean;     // [N, N] average of the M empirical kernels
  torch::Tensor stderr_;  // [N, N] standard error over the M networks
};

FiniteWidthKernel finite_width_kernel(const torch::Tensor& tokens, const FiniteWidthOptions& opt);

// One random network of this family (runtime model, float64): W_E, W_pos (when σ_p² > 0), W_Q = W_K, W_V, W_O
// drawn from `gen` in that order, every other parameter 0. finite_width_kernel draws its M networks this way.
SequenceModel finite_width_model(const FiniteWidthOptions& opt, int length, at::Generator& gen);

// φ(x): the mean-pooled attention output [N, R] of tokens [N, L] (no autograd); K̂ = φ φᵀ / R.
torch::Tensor finite_width_features(const SequenceModel& model, const torch::Tensor& tokens);

// The NNGP spec whose kernel the finite networks converge to.
std::string finite_width_spec(const FiniteWidthOptions& opt);

}  // namespace attnlab::gp
