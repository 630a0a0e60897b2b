// GP inference and learning curves (docs/gp.md): the posterior mean and variance with a relative ridge
// (Cholesky; an eigendecomposition with a warning when Cholesky fails; never a silent NaN), kernel ridge
// regression learning curves on [V]^L averaged over random training sets, and the eigenlearning
// (omniscient-risk) prediction of Simon et al. 2021 as used by Lavie, Gur-Ari, Ringel (arXiv 2402.05173):
//   κ solves Σ_i λ_i/(λ_i+κ) + δ/κ = n,  L_i = λ_i/(λ_i+κ),  E_0 = n/(n − Σ L_i²),
//   test MSE = E_0 (Σ_i (1−L_i)² v_i² + noise).
// Shapes: n = training points, m = test points.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace attnlab::gp {

struct Posterior {
  torch::Tensor mean;      // [m]
  torch::Tensor variance;  // [m] (clamped at 0)
  double ridge = 0;        // δ actually added to the diagonal
  bool used_eigen = false; // Cholesky failed; solved by eigendecomposition
  std::string warning;     // non-empty when used_eigen (also printed to stderr unless quiet)
};

// k_train [n, n], k_cross [m, n] (test × train), k_test_diag [m], y [n]; δ = rel_ridge · mean(diag k_train).
Posterior gp_posterior(const torch::Tensor& k_train, const torch::Tensor& k_cross, const torch::Tensor& k_test_diag,
                       const torch::Tensor& y, double rel_ridge, bool quiet = false);

struct Eigenlearning {
  double kappa = 0;
  std::vector<double> learnability;  // L_i
  double e0 = 0;
  double test_mse = 0;
  double sum_learnability = 0;       // Σ L_i (conservation law: = n − δ/κ)
};

// eigs λ_i ≥ 0 (with repeats for multiplicities), coeffs2 v_i² of the target on the same eigenvectors.
Eigenlearning eigenlearning_predict(const std::vector<double>& eigs, const std::vector<double>& coeffs2, double n,
                                    double ridge, double noise = 0);

struct CurvePoint {
  int64_t n = 0;
  double mse_mean = 0, mse_stderr = 0;  // empirical KRR test MSE under p, over trials
  double predicted = 0;                 // eigenlearning
};

// Empirical KRR on the full space: gram_all [S, S] over all S = V^L sequences, probs p(x) [S], target [S];
// training sets of size n drawn i.i.d. from p; test error Σ_x p(x) (f̂(x) − f(x))².
// ridge δ (absolute, the eigenlearning δ). The eigenlearning prediction uses the eigen-decomposition of
// operator_dense(gram_all, probs).
std::vector<CurvePoint> learning_curve(const torch::Tensor& gram_all, const std::vector<double>& probs,
                                       const torch::Tensor& target, const std::vector<int64_t>& ns, int trials,
                                       double ridge, uint64_t seed);

}  // namespace attnlab::gp
