// S_L isotypic sectors of a kernel on [V]^L that need not be permutation invariant (causal masks, decayed
// positions, last-token readouts). Permuting positions permutes the coordinates of R^{[V]^L}; under an i.i.d.
// token law this commutes with √p, so T = √p K √p (operator_dense) can be cut by the orthogonal isotypic
// projectors P_λ = Q_λ Q_λᵀ even when T itself does not commute with S_L. Q_λ: the eigenvectors of the
// transposition class sum C2 with eigenvalue content(λ) (and of the 3-cycle class sum C3 where two used irreps
// share a content), diagonalised per S_L-orbit of [V]^L (sequences with the same token counts), since class sums
// never leave an orbit. Shapes: N = V^L sequences in base-V order, r_λ = d_λ · #SSYT(λ, V), n_o = orbit size.
#pragma once

#include <functional>
#include <string>

#include <torch/torch.h>

#include "gp/kernels.h"
#include "gp/symmetric_group.h"

namespace attnlab::gp {

constexpr int64_t kSectorsMaxSequences = 4096;  // V^L limit: T is dense [N, N] and fully diagonalised

// An orthogonal basis U of R^{[V]^L} whose columns are grouped by irrep: sector s owns the columns
// offset[s] .. offset[s+1]−1, which span range(P_λs). U is block diagonal over the S_L-orbits.
struct IsotypicBasis {
  int vocab = 0, length = 0;
  std::vector<Partition> irreps;          // λ ⊢ L with #SSYT(λ, V) > 0, in partitions() order
  std::vector<int64_t> offset;            // [n_sectors + 1] column ranges of the sectors in U
  std::vector<torch::Tensor> orbit_seqs;  // per orbit: [n_o] int64 sequence indices (rows of U)
  std::vector<torch::Tensor> orbit_cols;  // per orbit: [n_o] int64 columns of U held by this orbit
  std::vector<torch::Tensor> orbit_vecs;  // per orbit: [n_o, n_o] orthonormal class-sum eigenvectors (U's block)
  double seconds = 0;
};

// Error when V^L > kSectorsMaxSequences, or when two used irreps share both class-sum eigenvalues.
IsotypicBasis isotypic_basis_build(int vocab, int length);
torch::Tensor isotypic_basis_dense(const IsotypicBasis& b);          // U: [N, N]
torch::Tensor isotypic_basis_sector(const IsotypicBasis& b, int s);  // Q_λs: [N, r_λs]
torch::Tensor isotypic_rotate(const IsotypicBasis& b, const torch::Tensor& t);  // Uᵀ T U: [N, N], orbit blocks

struct SectorStats {
  Partition lambda;
  double irrep_dim = 0;             // d_λ
  double multiplicity = 0;          // #SSYT(λ, V)
  int64_t rank = 0;                 // d_λ · #SSYT(λ, V) = dim range P_λ
  double trace = 0;                 // tr Q_λᵀ T Q_λ
  double share = 0;                 // trace / tr T
  double leakage = 0;               // ||T Q_λ − Q_λ T_λ||_F / max(||T Q_λ||_F, 1e-12 ||T||_F)
  std::vector<double> eigenvalues;  // [r_λ] of T_λ = Q_λᵀ T Q_λ, descending
};

struct TopMode {
  double eigenvalue = 0;         // of T (descending order)
  std::vector<double> weights;   // [n_sectors] ||Q_λᵀ φ||², summing to 1
  int dominant = 0;              // sector with the largest weight
};

struct Sectors {
  int vocab = 0, length = 0;
  std::vector<double> token_probs;   // [V] the i.i.d. token law
  std::vector<SectorStats> sectors;  // one per used irrep, partitions() order
  double trace = 0;                  // tr T = Σ sector traces
  double expected_diag = 0;          // E_p K(x, x) (kernel_diag; equals trace)
  double norm = 0;                   // ||T||_F
  double defect = 0;                 // ||T − Σ_λ P_λ T P_λ||_F / ||T||_F (0 iff T commutes with S_L)
  std::vector<TopMode> top;          // the top eigenvectors of T and their irrep weights
  double seconds_kernel = 0, seconds_basis = 0, seconds_sectors = 0, seconds_eigh = 0, seconds = 0;
};

using SectorProgress = std::function<void(const std::string&)>;

// Sector statistics of a symmetric operator t [N, N] on [V]^L (orthonormal coordinates); top = number of
// leading eigenvectors to analyse (0 skips the N × N eigendecomposition).
Sectors operator_sectors(const torch::Tensor& t, const IsotypicBasis& b, int top, const SectorProgress& progress = {});

// The kernel on all of [V]^L, T = √p K √p, and its sectors. token_probs empty = uniform.
Sectors kernel_sectors(const KernelSpec& spec, int vocab, int length, std::vector<double> token_probs,
                       const GramOptions& opt, int top, const SectorProgress& progress = {});

}  // namespace attnlab::gp
