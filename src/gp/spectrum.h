// Isotypic decomposition of a kernel on [V]^L under a permutation-invariant product measure p (i.i.d. tokens).
// If K(σx, σx') = K(x, x') for all σ ∈ S_m acting on positions 0..m−1 (m = L for S_L-invariant specs, m = L − 1
// for last-token readouts, whose last position is a spectator), the integral operator
// (Tf)(x) = Σ_x' p(x') K(x, x') f(x') commutes with S_m. As an S_m-module the functions on [V]^L are
// ⊕_{λ⊢m} S^λ ⊗ (M_λ ⊗ C^{V^{L−m}}) (Schur–Weyl on the permuted positions), so T = ⊕_λ I_{d_λ} ⊗ B_λ with B_λ of
// size #SSYT(λ, V)·V^{L−m}. B_λ is computed on the S_λ-invariant functions (row group of λ; S^λ holds one
// S_λ-invariant line), restricted to the eigenspace of the transposition class sum with eigenvalue
// content(λ) (and of the 3-cycle class sum where contents collide). Shapes: n_orb = S_λ-orbits on [V]^L,
// b = #SSYT(λ, V)·V^{L−m}.
#pragma once

#include <functional>
#include <string>

#include <torch/torch.h>

#include "gp/kernels.h"
#include "gp/symmetric_group.h"

namespace attnlab::gp {

struct IrrepSpectrum {
  Partition lambda;
  double dim = 0;                    // d_λ of S_m: each eigenvalue below occurs d_λ times in T
  double multiplicity = 0;           // b = #SSYT(λ, V)·V^{L−m} = size of B_λ
  double ssyt = 0;                   // #SSYT(λ, V)
  int boxes_below = 0;               // m − λ_1
  std::vector<double> eigenvalues;   // of B_λ, descending
  torch::Tensor basis;               // [n_orb, b] orthonormal basis of B_λ's space (coordinates on u_O = 1_O/√mass_O)
  torch::Tensor eigvecs;             // [b, b] eigenvectors of B_λ (columns, same order)
  torch::Tensor orbit_reps;          // [n_orb, L] int64 canonical orbit representatives (row blocks sorted)
  torch::Tensor orbit_mass;          // [n_orb] Σ_{x∈O} p(x)
};

struct Spectrum {
  int vocab = 0, length = 0;
  int group_size = 0;                // m: S_m permutes positions 0..m−1 (m = L or L − 1)
  std::string group;                 // "S_L" or "S_{L-1}"
  std::vector<double> token_probs;   // [V] the i.i.d. token law
  std::vector<IrrepSpectrum> irreps; // every λ ⊢ m with #SSYT(λ, V) > 0
  double trace = 0;                  // Σ_λ d_λ tr B_λ
  double expected_diag = 0;          // E_p K(x, x) (equals trace)
  double seconds = 0;
};

// All sequences of [V]^L in base-V order, [V^L, L] int64 (Error above 2^22 sequences).
torch::Tensor all_sequences(int vocab, int length);

// token_probs empty = uniform. S_L for SymmetryGroup::Full specs, S_{L−1} for AllButLast; Error (HINT: `attnlab gp
// sectors`) when the spec has no symmetry (decayed positions, a causal mask that the readout sees through).
// m: the number of permuted positions (L for S_L, L − 1 for S_{L−1}; 1 when L = 1).
int spectrum_group_size(SymmetryGroup group, int length);

// progress (optional) gets one line per irrep.
Spectrum kernel_spectrum(const KernelSpec& spec, int vocab, int length, std::vector<double> token_probs,
                         const GramOptions& opt, const std::function<void(const std::string&)>& progress = {});

// The full operator on [V]^L in the orthonormal basis √p(x) δ_x: [V^L, V^L] = √p K √p (small V^L only).
torch::Tensor operator_dense(const torch::Tensor& gram_all, const std::vector<double>& seq_probs);

// p(x) for every sequence of all_sequences(V, L).
std::vector<double> sequence_probs(int vocab, int length, const std::vector<double>& token_probs);

}  // namespace attnlab::gp
