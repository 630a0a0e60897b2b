// Architecture specs for the NNGP kernels (docs/gp.md): a chain of layers written as text,
//   embed(pos=iid) | attn(softmax,tied) | relu | meanpool
// Each layer maps the covariance of its inputs to the covariance of its outputs in the infinite-width limit
// (Lavie, Gur-Ari, Ringel, arXiv 2402.05173). Plain data; the math lives in kernels.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab::gp {

enum class TokenEmbed { OneHot, Random };  // token overlap δ(x, x') or the Gram of fixed random embeddings
enum class PosKind { None, Iid, Decay };   // none, σ_p² δ_μν, or σ_p² exp(−|μ−ν|/ℓ)
enum class LayerKind {
  Embed,           // the input covariance (must come first)
  Dense,           // σ_w² Σ + σ_b²
  Relu,            // arc-cosine kernel
  Erf,             // (2/π) asin(2Σ / √((1+2a)(1+2b)))
  AttnIdentity,    // no softmax, 1/√d_k, independent Q, K, V: σ_V² σ_QK² Σ_μμ' Σ_{νν'} Σ_νν'² + σ_b²
  AttnTied,        // softmax at 1/d with Q = K: σ_V² A(X) Σ A(X')ᵀ, A = rowsoftmax(σ_QK² Σ(X, X))
  AttnSqrt,        // softmax at 1/√d_k, independent Q, K: Monte Carlo over the Gaussian logits
  Residual,        // x + f(x): Σ + Σ_f (f ends in a zero-mean linear map)
  MeanPool,        // readout: mean over μ, μ'
  LastToken,       // readout: Σ_{L−1, L−1}
};

struct LayerSpec {
  LayerKind kind = LayerKind::Dense;
  // embed
  TokenEmbed tokens = TokenEmbed::OneHot;
  PosKind pos = PosKind::None;
  double sigma_e2 = 1.0;      // token term weight
  double sigma_p2 = 1.0;      // positional term weight
  double decay_length = 2.0;  // ℓ of the decayed positional term
  int random_dim = 16;        // width of the random token embeddings
  uint64_t seed = 0;          // random token embeddings
  // dense / attention
  double sigma_w2 = 1.0;      // dense weight variance (fan-in normalised); attention: σ_V² (= σ_O² σ_V²)
  double sigma_b2 = 0.0;      // bias variance
  double sigma_qk2 = 1.0;     // σ_Q² σ_K² (identity, sqrt) or σ_Q² (tied)
  bool causal = false;        // attention mask: query μ sees keys ν ≤ μ
  int mc_samples = 256;       // AttnSqrt: logit samples per pair
  std::vector<LayerSpec> inner;  // Residual: the branch
};

// The position permutations σ with K(σx, σx') = K(x, x') for every pair (σ acting on both inputs at once).
enum class SymmetryGroup {
  Full,        // S_L: positions none|iid, no causal mask, meanpool readout
  AllButLast,  // S_{L−1} (permutations fixing the last position): positions none|iid, `last` readout, and a causal
               // mask at most on the last attention layer (the last query sees every key; nothing mixes after it)
  None,        // decayed positions, or a causal mask that a later attention layer or a meanpool readout sees
};

struct KernelSpec {
  std::vector<LayerSpec> layers;  // embed first, a readout last
  std::string text;               // as given
  bool has_monte_carlo() const;
  SymmetryGroup symmetry() const;
  bool permutation_symmetric() const;  // symmetry() == SymmetryGroup::Full
};

// "S_L", "S_{L-1}" or "none" (the JSON spelling).
std::string symmetry_group_name(SymmetryGroup g);

// Parses the text form; every mistake is an Error naming the item and listing what is accepted.
KernelSpec kernel_spec_parse(const std::string& text);

}  // namespace attnlab::gp
