// The NNGP correspondence for a trained network (docs/gp.md, "Trained readout vs GP posterior"): a random wide
// attention layer (monte_carlo.h) gives features φ(x) ∈ R^R, the network is f(x) = w·φ(x)/√R with readout
// w ~ N(0, I). Full-batch gradient descent on ½ Σ_i (f(x_i) − y_i)² + ½ δ ||w||² converges to the kernel ridge
// predictor k̂(x, X)(K̂ + δI)⁻¹ y with K̂ = Φ Φᵀ / R, and K̂ → K (the NNGP kernel) as R → ∞, so the trained
// network approaches the GP posterior mean k(x, X)(K + δI)⁻¹ y. As a contrast, training every weight leaves the
// kernel regime of the readout (no kernel is claimed for it).
// Shapes: n = training sequences, m = test sequences, L = length, R = width (d_model = d_head), M = networks.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "model/model.h"

namespace attnlab::gp {

struct ReadoutTrainOptions {
  double grad_tol = 1e-10;    // stop when ||∇|| / ||∇ at the start|| < grad_tol
  int64_t max_steps = 200000; // step cap; a run stopped by it is reported as not converged
  bool heavy_ball = false;    // SGD momentum with the optimal heavy-ball step and β for the spectrum
};

struct ReadoutFit {
  torch::Tensor train_pred;  // [n] f(X) after training
  torch::Tensor test_pred;   // [m] f(X*) after training
  torch::Tensor w;           // [R] the trained readout
  int64_t steps = 0;         // optimizer steps taken
  double grad_norm_rel = 0;  // final ||∇|| / initial ||∇||
  double step_size = 0;      // learning rate used
  double momentum = 0;       // 0 for plain gradient descent
  bool converged = false;    // grad_norm_rel < grad_tol
};

// Trains w (from w0 [R]) by full-batch gradient descent (torch autograd + torch::optim::SGD) on
// ½ ||Φ w/√R − y||² + ½ δ ||w||², features phi_train [n, R], phi_test [m, R], targets y [n], absolute ridge δ > 0.
// Step size 2/(λ_max + λ_min) of the Hessian ΦᵀΦ/R + δI (λ from the eigenvalues of K̂ + δ).
ReadoutFit readout_train(const torch::Tensor& phi_train, const torch::Tensor& y, const torch::Tensor& phi_test,
                         const torch::Tensor& w0, double delta, const ReadoutTrainOptions& opt);

// Targets on sequences [N, L]: copy = 1[x0 = 0], pair = 1[x0 = x1], symmetric = (#zeros / L)², random = a fixed
// N(0, 1) value per sequence of [V]^L (drawn from `seed`). Error for any other name.
torch::Tensor train_check_target(const std::string& name, const torch::Tensor& tokens, int vocab, uint64_t seed);

struct TrainCheckOptions {
  int vocab = 3, length = 6;       // V, L
  std::vector<int> widths{16, 64, 256};
  int networks = 8;                // M random networks per width
  int heads = 8;                   // H
  int64_t n_train = 32, n_test = 64;
  std::string target = "pair";     // copy | pair | symmetric | random
  double ridge = 1e-2;             // relative: δ = ridge × mean diag K (NNGP train kernel); same δ for the nets
  double sigma_p2 = 0.5, sigma_qk2 = 2.0;  // the mc-check architecture
  ReadoutTrainOptions train;
  int all_weights_steps = 0;       // contrast: also train every weight this many SGD steps (0 = off)
  double all_weights_lr = 0.01;    // its first learning rate, as a fraction of the readout step size
  uint64_t seed = 0;
};

struct NetworkFit {
  double dist = 0;            // ||f_net − f_GP|| / ||f_GP|| on the test set
  double train_residual = 0;  // ||f_net(X) − y|| / ||y||
  int64_t steps = 0;
  double grad_norm_rel = 0;
  bool converged = false;
  double all_dist = -1, all_train_residual = -1;  // contrast (all weights trained), −1 when off
  bool all_finite = true;                          // contrast loss stayed finite and below its start
  double all_lr_fraction = 0;                      // its learning rate / the readout step size
};

struct TrainCheckRow {
  int width = 0, networks = 0;
  double dist_mean = 0, dist_stderr = 0;  // over the M networks
  double dist_ensemble = 0;               // of the mean prediction f̄ of the M networks
  // ||E f_net − f_GP|| / ||f_GP|| estimated without the ensemble's own noise: √max(0, ens² − s²/M) with
  // s² = Σ_k ||f_k − f̄||² / ((M − 1) ||f_GP||²) (unbiased for the squared bias); noise_floor = √(s²/M).
  double bias_debiased = 0, noise_floor = 0;
  double train_residual_mean = 0;
  double steps_mean = 0, grad_norm_rel_max = 0;
  int64_t steps_max = 0;
  int converged = 0;                      // networks that reached grad_tol
  double all_dist_mean = -1, all_dist_stderr = 0, all_train_residual_mean = -1;  // contrast, −1 when off
  double seconds = 0;
  std::vector<NetworkFit> nets;
};

struct TrainCheckResult {
  std::string spec;              // the NNGP spec of the networks
  double delta = 0;              // absolute ridge
  double gp_train_residual = 0;  // ||f_GP(X) − y|| / ||y||
  double gp_test_norm = 0;       // ||f_GP(X*)||
  bool gp_used_eigen = false;
  std::vector<TrainCheckRow> rows;
  double slope_network = 0, slope_ensemble = 0;  // fitted log–log slopes of distance vs width
  double slope_bias = 0;  // of bias_debiased vs width, over the widths where it is > 0 (NaN if fewer than 2)
};

TrainCheckResult train_readout_vs_gp(const TrainCheckOptions& opt,
                                     const std::function<void(const std::string&)>& progress = {});

}  // namespace attnlab::gp
