// A target's power per irrep, and the eigenlearning prediction summed per irrep (Lavie, Gur-Ari, Ringel,
// arXiv 2402.05173; Simon et al. 2021). For an S_m-invariant kernel (spectrum.h) the eigenspace of T for the
// eigenvector u of B_λ is S^λ ⊗ u (dimension d_λ); the power of f in it is uᵀ C_λ u with the PSD [b, b] matrix
//   C_λ = (d_λ / #tabloids) Rᵀ R,   R[t, a] = <σ_t B_a, f>_p,
// where B_a(x) = q[orb(x), a]/√mass(orb(x)) is the orthonormal basis of B_λ's space as functions on [V]^L and
// σ_t runs over the m!/Πλ_i! cosets S_m/S_λ ("tabloids": assignments of the m permuted positions to the rows
// of λ). Why: the σ_t B_a span S^λ ⊗ m_a with the Gram G[t, t'] = <σ_t B_0, σ_t' B_0>_p, independent of a, and
// C_λ = Rᵀ G⁺ R; G commutes with S_m on the permutation module M^λ and has rank d_λ (S^λ occurs once), so
// G = (#tabloids/d_λ) E_λ, and R's columns already lie in S^λ ⊂ M^λ (f ↦ R[·, a] is S_m-equivariant), whence
// G⁺ R = (d_λ/#tabloids) R. tests/gp/test_irrep_power.cpp checks this against Rᵀ G⁺ R over all of S_m and against
// the dense eigendecomposition. Shapes: b = block size of B_λ, n_orb = S_λ-orbits, S = V^L sequences.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "gp/inference.h"
#include "gp/spectrum.h"

namespace attnlab::gp {

struct IrrepPower {
  torch::Tensor c;               // [b, b] C_λ (basis of IrrepSpectrum::basis)
  std::vector<double> mode_power;// [b] u_iᵀ C_λ u_i for the eigenvectors u_i of B_λ (summed over the d_λ copies)
  double power = 0;              // tr C_λ: the power of f in the λ-isotypic component
  double tabloids = 0;           // m!/Πλ_i!
};

// Σ_λ #tabloids(λ) · V^L: the number of (coset, sequence) visits irrep_powers makes, for a spectrum or before
// computing one (λ ⊢ m with #SSYT(λ, V) > 0); irrep_power_check_size throws above kIrrepPowerWorkLimit.
double irrep_power_work(const Spectrum& s);
double irrep_power_work(int vocab, int length, int group_size);
constexpr double kIrrepPowerWorkLimit = 2e9;  // ~3e8 visits/s on one core: V = 2, L = 14 (1.6e8) takes 0.5 s
void irrep_power_check_size(double work, int vocab, int length);

// target [V^L] in base-V order (as all_sequences). Error when the work is above kIrrepPowerWorkLimit, or
// "internal" when the powers do not add up to ||f||²_p (1e-8 relative). progress: one line per irrep.
std::vector<IrrepPower> irrep_powers(const Spectrum& s, const torch::Tensor& target,
                                     const std::function<void(const std::string&)>& progress = {});

// The modes of T grouped by block eigenvalue: eigenvalue μ of B_λ with multiplicity d_λ and the target's power in
// the d_λ-dimensional eigenspace. Σ mult = V^L.
struct BlockModes {
  std::vector<double> eigs, power, mult;  // [Σ_λ b_λ]
  std::vector<int> irrep;                 // index into Spectrum::irreps
};
BlockModes block_modes(const Spectrum& s, const std::vector<IrrepPower>& powers);

struct IrrepPrediction {
  Eigenlearning total;            // eigenlearning on the grouped modes
  std::vector<double> by_irrep;   // [irreps] E_0 Σ_{modes of λ} (1 − L_i)² v_i² (sums to total.test_mse)
};
IrrepPrediction eigenlearning_irreps(const BlockModes& modes, size_t n_irreps, double n, double ridge);

}  // namespace attnlab::gp
