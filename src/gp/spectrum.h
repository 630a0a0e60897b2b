// Isotypic decomposition of a kernel on [V]^L under a permutation-invariant product measure p (i.i.d. tokens).
// If K(σx, σx') = K(x, x') for all σ ∈ S_L, the integral operator (Tf)(x) = Σ_x' p(x') K(x, x') f(x')
// commutes with S_L and, by Schur–Weyl, acts on the λ-isotypic component S^λ ⊗ M_λ as I_{d_λ} ⊗ B_λ with B_λ
// of size #SSYT(λ, V). B_λ is computed on the S_λ-invariant functions (row group of λ; S^λ holds one
// S_λ-invariant line), restricted to the eigenspace of the transposition class sum with eigenvalue
// content(λ) (and of the 3-cycle class sum where contents collide). Shapes: n_orb = S_λ-orbits on [V]^L.
#pragma once

#include <torch/torch.h>

#include "gp/kernels.h"
#include "gp/symmetric_group.h"

namespace attnlab::gp {

struct IrrepSpectrum {
  Partition lambda;
  double dim = 0;                    // d_λ: each eigenvalue below occurs d_λ times in T
  double multiplicity = 0;           // #SSYT(λ, V) = size of B_λ
  int boxes_below = 0;               // L − λ_1
  std::vector<double> eigenvalues;   // of B_λ, descending
  torch::Tensor basis;               // [n_orb, #SSYT] orthonormal basis of B_λ's space (orbit coordinates)
  torch::Tensor eigvecs;             // [#SSYT, #SSYT] eigenvectors of B_λ (columns, same order)
};

struct Spectrum {
  int vocab = 0, length = 0;
  std::vector<double> token_probs;   // [V] the i.i.d. token law
  std::vector<IrrepSpectrum> irreps; // every λ ⊢ L with #SSYT(λ, V) > 0
  double trace = 0;                  // Σ_λ d_λ tr B_λ
  double expected_diag = 0;          // E_p K(x, x) (equals trace)
  double seconds = 0;
};

// All sequences of [V]^L in base-V order, [V^L, L] int64 (Error above 2^22 sequences).
torch::Tensor all_sequences(int vocab, int length);

// token_probs empty = uniform. Error when the spec is not S_L-symmetric (decayed positions, causal, last).
Spectrum kernel_spectrum(const KernelSpec& spec, int vocab, int length, std::vector<double> token_probs,
                         const GramOptions& opt);

// The full operator on [V]^L in the orthonormal basis √p(x) δ_x: [V^L, V^L] = √p K √p (small V^L only).
torch::Tensor operator_dense(const torch::Tensor& gram_all, const std::vector<double>& seq_probs);

// p(x) for every sequence of all_sequences(V, L).
std::vector<double> sequence_probs(int vocab, int length, const std::vector<double>& token_probs);

}  // namespace attnlab::gp
