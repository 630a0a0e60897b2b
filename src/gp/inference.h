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
  std::vector<double> residual;      // (1 − L_i)² v_i² (the test MSE is E_0 (Σ residual + noise))
  double e0 = 0;
  double test_mse = 0;
  double sum_learnability = 0;       // Σ mult_i L_i (conservation law: = n − δ/κ)
};

// eigs λ_i ≥ 0, coeffs2 v_i² of the target on the same eigenvectors. mult (optional, default all 1): eigs[i] stands
// for mult[i] modes and coeffs2[i] is the target's power summed over them (κ solves Σ mult_i λ_i/(λ_i+κ) + δ/κ = n,
// E_0 = n/(n − Σ mult_i L_i²); spreading the power evenly over the copies gives the same test MSE).
Eigenlearning eigenlearning_predict(const std::vector<double>& eigs, const std::vector<double>& coeffs2, double n,
                                    double ridge, double noise = 0, const std::vector<double>& mult = {});

// The dense route: eigenvalues of √p K √p on all of [V]^L and the target's coefficients² on its eigenvectors.
struct DenseModes {
  std::vector<double> eigs, coeffs2;  // [S] ascending eigenvalues
};
DenseModes dense_modes(const torch::Tensor& gram_all, const std::vector<double>& probs, const torch::Tensor& target);

struct KrrPoint {
  double mse_mean = 0, mse_stderr = 0;
};
// Empirical KRR test MSE under p (see learning_curve) at each n, without the prediction.
std::vector<KrrPoint> krr_curve(const torch::Tensor& gram_all, const std::vector<double>& probs,
                                const torch::Tensor& target, const std::vector<int64_t>& ns, int trials, double ridge,
                                uint64_t seed);

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
