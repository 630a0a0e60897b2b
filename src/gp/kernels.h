// NNGP kernels of attention networks in the infinite-width (and infinite-heads) limit, float64, composed
// layer by layer from a KernelSpec (kernel_spec.h; formulas in docs/gp.md). Pairs of input sequences are
// processed in streamed blocks, so the [N, N, L, L] covariances are never held at once.
// Shapes: L = sequence length, N = sequences, F = factor width. A block of a × b pairs keeps its cross
// covariances as one [a·L, b·L] matrix, i.e. [a, L, b, L] (Σ(X_i, X'_j)_μν at [i, μ, j, ν]), with the self
// covariances of its rows [a, L, L] and of its columns [b, L, L]; then A(X) Σ A(X')ᵀ for the whole block is
// one GEMM per row sequence and one per column sequence, with no copies (kernels.cpp, `tied_cross`).
// Before the first nonlinearity the covariance is kept factored, Σ(X, X') = U(X) U(X')ᵀ + c, U [L, F], and
// trailing dense / tied-attention layers fold into the readout, so `embed | attn(tied) | meanpool` costs one
// [N, F] × [F, N] product (docs/gp.md "Kernels", bench/RESULTS.md).
#pragma once

#include <torch/torch.h>

#include "gp/kernel_spec.h"

namespace attnlab::gp {

struct PairCov {
  torch::Tensor cross;   // [a, L, b, L]  Σ(X_i, X'_j)_μν at [i, μ, j, ν]; diagonal: [n, L, L]
  torch::Tensor self_a;  // [a, L, L]     Σ(X_i, X_i)
  torch::Tensor self_b;  // [b, L, L]     Σ(X'_j, X'_j)
  bool diagonal = false; // X = X': cross, self_a and self_b are the same [n, L, L] tensor
};

// One layer's covariance map on a pair state (not readouts). `gen` drives AttnSqrt's Monte Carlo.
PairCov layer_apply(const LayerSpec& layer, const PairCov& in, torch::Generator& gen);

// Element-wise layer maps, exposed for the quadrature tests. a = Var(u), b = Var(v), c = Cov(u, v).
torch::Tensor relu_cov(const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b);  // E relu(u) relu(v)
torch::Tensor erf_cov(const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b);   // E erf(u) erf(v)

// The input layer: [a, b, L, L] covariance of the token sequences tokens_a [a, L] and tokens_b [b, L] (int64).
torch::Tensor embed_cov(const LayerSpec& embed, const torch::Tensor& tokens_a, const torch::Tensor& tokens_b,
                        int vocab);

struct GramOptions {
  int vocab = 2;          // V: tokens are 0..V−1
  int64_t block = 256;    // sequences per block side (capped so that one [a, L, b, L] block is ≤ 128 MiB)
  uint64_t seed = 0;      // Monte Carlo seed (AttnSqrt)
  int mc_replicas = 8;    // independent replicas for the standard error (Monte Carlo specs only)
  bool factored = true;   // exact shortcuts: factored input covariance, trailing linear layers folded into the
                          // readout; false materialises every [a, L, b, L] cross covariance (the reference path)
};

struct Gram {
  torch::Tensor k;       // [Na, Nb] the kernel
  torch::Tensor stderr_; // [Na, Nb] its Monte Carlo standard error (zeros for closed forms)
};

// K(tokens_a[i], tokens_b[j]) for the spec; tokens [N, L] int64 in 0..V−1.
Gram kernel_gram(const KernelSpec& spec, const torch::Tensor& tokens_a, const torch::Tensor& tokens_b,
                 const GramOptions& opt);
// K(x, x) for each row: [N]
torch::Tensor kernel_diag(const KernelSpec& spec, const torch::Tensor& tokens, const GramOptions& opt);

// The block side kernel_gram uses at sequence length L: opt.block, capped by the 128 MiB block budget.
int64_t gram_block_side(const GramOptions& opt, int64_t L);

// Validates tokens [N, L] int64 against V (Error naming the first bad row and position).
void tokens_check(const torch::Tensor& tokens, int vocab, const std::string& what);

}  // namespace attnlab::gp
