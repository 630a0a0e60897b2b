// Trained readouts vs the GP posterior mean (src/gp/trained.h): gradient descent on the readout reaches the
// closed-form kernel ridge predictor with the network's empirical kernel K̂ = ΦΦᵀ/R (solved here independently
// with torch::linalg::solve); wider networks sit closer to the NNGP posterior mean; a step cap is reported as
// not converged; targets against brute-force loops.
#include <gtest/gtest.h>

#include <cmath>

#include "gp/monte_carlo.h"
#include "gp/trained.h"
#include "util/error.h"

using namespace attnlab::gp;

namespace {

struct Features {
  torch::Tensor train, test, y, w0;  // [n, R], [m, R], [n], [R]
};

Features random_features(int width, int64_t n, int64_t m, uint64_t seed) {
  FiniteWidthOptions o;
  o.vocab = 3;
  o.width = o.d_head = width;
  o.heads = 4;
  o.sigma_p2 = 0.5;
  o.sigma_qk2 = 2.0;
  auto gen = at::detail::createCPUGenerator(seed);
  auto i64 = torch::TensorOptions().dtype(torch::kInt64), f64 = torch::TensorOptions().dtype(torch::kFloat64);
  auto x_train = at::randint(3, {n, 5}, gen, i64), x_test = at::randint(3, {m, 5}, gen, i64);
  auto model = finite_width_model(o, 5, gen);
  return {finite_width_features(model, x_train), finite_width_features(model, x_test), at::normal(0, 1, {n}, gen, f64),
          at::normal(0, 1, {width}, gen, f64)};
}

// k̂(X*, X)(K̂ + δI)⁻¹ y with K̂ = ΦΦᵀ/R: the minimiser of the readout loss, by a direct solve.
torch::Tensor kernel_ridge_closed_form(const Features& f, double delta) {
  const double R = f.train.size(1);
  auto k = f.train.mm(f.train.t()) / R;
  auto alpha = torch::linalg::solve(k + delta * torch::eye(k.size(0), torch::kFloat64), f.y.unsqueeze(1), true);
  return (f.test.mm(f.train.t()) / R).mm(alpha).squeeze(1);
}

}  // namespace

TEST(GpTrained, ReadoutGradientDescentEqualsKernelRidge) {  // budget 1e-8 absolute (predictions are O(1))
  // R = 48 > n = 10 (Hessian has R − n eigenvalues δ) and R = 8 < n = 20 (full-rank Hessian)
  for (auto [width, n] : {std::pair<int, int64_t>{48, 10}, {8, 20}}) {
    auto f = random_features(width, n, 7, 11 + width);
    double delta = 0.05 * (f.train * f.train).sum(1).mean().item<double>() / width;  // 5% of mean diag K̂
    auto expected = kernel_ridge_closed_form(f, delta);
    for (bool heavy_ball : {false, true}) {
      ReadoutTrainOptions o;
      o.grad_tol = 1e-13;
      o.heavy_ball = heavy_ball;
      auto fit = readout_train(f.train, f.y, f.test, f.w0, delta, o);
      EXPECT_TRUE(fit.converged) << "width " << width << " heavy_ball " << heavy_ball;
      EXPECT_LT(fit.grad_norm_rel, 1e-13);
      EXPECT_GT(fit.steps, 10);
      double err = (fit.test_pred - expected).abs().max().item<double>();
      EXPECT_LT(err, 1e-8) << "width " << width << " heavy_ball " << heavy_ball;
      EXPECT_EQ(heavy_ball, fit.momentum > 0);
    }
  }
}

TEST(GpTrained, StepCapIsReportedAsNotConverged) {
  auto f = random_features(16, 6, 3, 2);
  ReadoutTrainOptions o;
  o.max_steps = 1;
  auto fit = readout_train(f.train, f.y, f.test, f.w0, 1e-2, o);
  EXPECT_FALSE(fit.converged);
  EXPECT_EQ(fit.steps, 1);
  EXPECT_GT(fit.grad_norm_rel, o.grad_tol);
  TrainCheckOptions t;
  t.vocab = 2;
  t.length = 4;
  t.widths = {8};
  t.networks = 2;
  t.n_train = 6;
  t.n_test = 4;
  t.train.max_steps = 1;
  auto r = train_readout_vs_gp(t);
  EXPECT_EQ(r.rows[0].converged, 0);
  EXPECT_EQ(r.rows[0].steps_max, 1);
  EXPECT_FALSE(r.rows[0].nets[0].converged);
}

TEST(GpTrained, WiderNetworksSitCloserToTheGpPosteriorMean) {
  TrainCheckOptions t;
  t.vocab = 3;
  t.length = 5;
  t.widths = {8, 256};
  t.networks = 4;
  t.heads = 4;
  t.n_train = 16;
  t.n_test = 16;
  t.ridge = 0.1;
  t.train.heavy_ball = true;
  t.seed = 3;
  auto r = train_readout_vs_gp(t);
  ASSERT_EQ(r.rows.size(), 2u);
  for (const auto& row : r.rows) EXPECT_EQ(row.converged, row.networks);
  // The distance falls ~ width^-1/2: 32× the width gives ~5.7× less; the budget asks for 2×.
  EXPECT_LT(r.rows[1].dist_mean, 0.5 * r.rows[0].dist_mean);
  EXPECT_LT(r.rows[1].dist_ensemble, 0.5 * r.rows[0].dist_ensemble);
  EXPECT_LT(r.slope_network, -0.2);
  // The nets fit the training set about as well as the GP does (same δ): within 0.1 of ||y|| at width 256.
  EXPECT_NEAR(r.rows[1].train_residual_mean, r.gp_train_residual, 0.1);
}

TEST(GpTrained, TargetsAgainstLoops) {
  auto x = torch::tensor({{0, 0, 2, 1}, {1, 1, 0, 0}, {2, 0, 0, 0}, {0, 0, 2, 1}}, torch::kInt64);
  auto copy = train_check_target("copy", x, 3, 0), pair = train_check_target("pair", x, 3, 0);
  auto sym = train_check_target("symmetric", x, 3, 0), rnd = train_check_target("random", x, 3, 0);
  for (int64_t i = 0; i < 4; ++i) {
    int zeros = 0;
    for (int64_t p = 0; p < 4; ++p) zeros += x[i][p].item<int64_t>() == 0;
    EXPECT_EQ(copy[i].item<double>(), x[i][0].item<int64_t>() == 0 ? 1.0 : 0.0);
    EXPECT_EQ(pair[i].item<double>(), x[i][0].item<int64_t>() == x[i][1].item<int64_t>() ? 1.0 : 0.0);
    EXPECT_DOUBLE_EQ(sym[i].item<double>(), (zeros / 4.0) * (zeros / 4.0));
  }
  EXPECT_EQ(rnd[0].item<double>(), rnd[3].item<double>());  // a function of the sequence
  EXPECT_NE(rnd[0].item<double>(), rnd[1].item<double>());
  EXPECT_THROW(train_check_target("parity", x, 3, 0), attnlab::Error);
  EXPECT_THROW(train_check_target("pair", x.narrow(1, 0, 1), 3, 0), attnlab::Error);
}

TEST(GpTrained, OptionsAreValidated) {
  TrainCheckOptions t;
  t.widths = {0};
  EXPECT_THROW(train_readout_vs_gp(t), attnlab::Error);
  t.widths = {8};
  t.ridge = 0;
  EXPECT_THROW(train_readout_vs_gp(t), attnlab::Error);
  t.ridge = 1e-2;
  t.networks = 1;
  EXPECT_THROW(train_readout_vs_gp(t), attnlab::Error);
}
