// GP posterior, eigenlearning prediction and empirical KRR learning curves (see inference.h).
#include "gp/inference.h"

#include <cmath>
#include <iostream>
#include <limits>

#include "util/error.h"

namespace attnlab::gp {

namespace {

struct RidgeSolve {
  torch::Tensor x;         // (K + δ I)^{-1} rhs
  torch::Tensor chol;      // lower Cholesky factor, undefined after the eigen fallback
  torch::Tensor evals, evecs;
  bool used_eigen = false;
  std::string warning;
};

// Solves (K + δ I) X = rhs; Cholesky first, then an eigendecomposition whose tiny eigenvalues are dropped.
RidgeSolve ridge_solve(const torch::Tensor& k, const torch::Tensor& rhs, double delta) {
  RidgeSolve r;
  auto a = k + delta * torch::eye(k.size(0), k.options());
  auto [chol, info] = torch::linalg_cholesky_ex(a);
  if (info.item<int64_t>() == 0) {
    r.chol = chol;
    r.x = torch::cholesky_solve(rhs, chol);
    if (torch::isfinite(r.x).all().item<bool>()) return r;
  }
  auto [ev, vec] = torch::linalg::eigh(0.5 * (a + a.t()), "L");
  double top = ev.abs().max().item<double>();
  auto keep = ev > top * 1e-13;
  auto inv = torch::where(keep, 1.0 / ev, torch::zeros_like(ev));
  r.used_eigen = true;
  r.evals = ev;
  r.evecs = vec;
  r.x = torch::matmul(vec, inv.unsqueeze(-1) * torch::matmul(vec.t(), rhs));
  int64_t dropped = (~keep).sum().item<int64_t>();
  r.warning = "the kernel matrix (n = " + std::to_string(k.size(0)) + ") is ill-conditioned: Cholesky failed; "
              "solved by eigendecomposition, dropping " + std::to_string(dropped) + " eigenvalues below " +
              std::to_string(top * 1e-13);
  return r;
}

void check_finite(const torch::Tensor& t, const std::string& what) {
  check(torch::isfinite(t).all().item<bool>(), what + " has non-finite entries (NaN or inf)",
        "check the kernel (finite inputs, positive variances) or raise the ridge");
}

}  // namespace

Posterior gp_posterior(const torch::Tensor& k_train, const torch::Tensor& k_cross, const torch::Tensor& k_test_diag,
                       const torch::Tensor& y, double rel_ridge, bool quiet) {
  int64_t n = k_train.size(0);
  check(k_train.dim() == 2 && k_train.size(1) == n && k_cross.dim() == 2 && k_cross.size(1) == n &&
            y.numel() == n && k_test_diag.numel() == k_cross.size(0),
        "gp_posterior: shapes do not match (k_train [n, n], k_cross [m, n], k_test_diag [m], y [n])",
        "pass the train Gram, the test-by-train Gram, the test diagonal and the targets");
  check(rel_ridge >= 0, "gp_posterior: the ridge is negative", "use a relative ridge >= 0, e.g. 1e-8");
  check_finite(k_train, "gp_posterior: the training kernel");
  check_finite(k_cross, "gp_posterior: the test kernel");
  Posterior p;
  p.ridge = rel_ridge * k_train.diagonal().mean().item<double>();
  auto rhs = torch::cat({y.reshape({n, 1}), k_cross.t()}, 1);  // [n, 1 + m]
  auto s = ridge_solve(k_train, rhs, p.ridge);
  p.mean = torch::matmul(k_cross, s.x.select(1, 0));
  auto w = s.x.narrow(1, 1, k_cross.size(0));  // (K + δ)^{-1} k_cross^T
  p.variance = (k_test_diag - (k_cross.t() * w).sum(0)).clamp_min(0);
  p.used_eigen = s.used_eigen;
  p.warning = s.warning;
  if (p.used_eigen && !quiet) std::cerr << "warning: " << p.warning << "\nHINT: raise the ridge (--ridge)\n";
  check_finite(p.mean, "gp_posterior: the posterior mean");
  check_finite(p.variance, "gp_posterior: the posterior variance");
  return p;
}

Eigenlearning eigenlearning_predict(const std::vector<double>& eigs, const std::vector<double>& coeffs2, double n,
                                    double ridge, double noise, const std::vector<double>& mult_in) {
  check(eigs.size() == coeffs2.size(), "eigenlearning: eigenvalues and target coefficients differ in number",
        "give one coefficient per eigenvalue");
  check(mult_in.empty() || mult_in.size() == eigs.size(), "eigenlearning: eigenvalues and multiplicities differ in number",
        "give one multiplicity per eigenvalue (or none)");
  check(n > 0 && ridge >= 0, "eigenlearning: need n > 0 and ridge >= 0", "check the sample size and the ridge");
  std::vector<double> mult = mult_in.empty() ? std::vector<double>(eigs.size(), 1.0) : mult_in;
  double sum = 0, top = 0, rank = 0;
  for (size_t i = 0; i < eigs.size(); ++i) {
    double l = eigs[i];
    sum += mult[i] * std::max(l, 0.0);
    top = std::max(top, l);
    rank += l > 0 ? mult[i] : 0.0;
  }
  auto f = [&](double kappa) {
    double s = ridge / kappa;
    for (size_t i = 0; i < eigs.size(); ++i) s += mult[i] * std::max(eigs[i], 0.0) / (std::max(eigs[i], 0.0) + kappa);
    return s - n;
  };
  Eigenlearning e;
  if (ridge == 0 && n >= rank) {
    e.kappa = 0;  // interpolation with more samples than modes: every mode is learned
  } else {
    double lo = std::log(1e-30 * (top + ridge + 1e-300)), hi = std::log(1e6 * (sum + ridge) + 1e-300);
    for (int it = 0; it < 400; ++it) {
      double mid = 0.5 * (lo + hi);
      (f(std::exp(mid)) > 0 ? lo : hi) = mid;
    }
    e.kappa = std::exp(0.5 * (lo + hi));
  }
  double sum_l2 = 0, resid = 0;
  for (size_t i = 0; i < eigs.size(); ++i) {
    double l = std::max(eigs[i], 0.0);
    double li = l > 0 || e.kappa > 0 ? l / (l + e.kappa) : 0.0;
    e.learnability.push_back(li);
    e.residual.push_back((1 - li) * (1 - li) * coeffs2[i]);
    e.sum_learnability += mult[i] * li;
    sum_l2 += mult[i] * li * li;
    resid += e.residual.back();
  }
  e.e0 = n > sum_l2 ? n / (n - sum_l2) : std::numeric_limits<double>::infinity();
  e.test_mse = e.e0 * (resid + noise);
  return e;
}

DenseModes dense_modes(const torch::Tensor& gram_all, const std::vector<double>& probs, const torch::Tensor& target) {
  int64_t s = gram_all.size(0);
  check((int64_t)probs.size() == s && target.numel() == s, "dense_modes: the Gram, probabilities and target sizes differ",
        "pass one probability and one target value per sequence");
  auto sp = torch::tensor(probs, torch::kFloat64).sqrt();
  auto t = gram_all * sp.unsqueeze(1) * sp.unsqueeze(0);
  auto [ev, vec] = torch::linalg::eigh(0.5 * (t + t.t()), "L");
  auto coeff = torch::matmul(vec.t(), sp * target.to(torch::kFloat64)).pow(2).contiguous();
  DenseModes d;
  d.eigs.assign(ev.data_ptr<double>(), ev.data_ptr<double>() + s);
  d.coeffs2.assign(coeff.data_ptr<double>(), coeff.data_ptr<double>() + s);
  return d;
}

std::vector<KrrPoint> krr_curve(const torch::Tensor& gram_all, const std::vector<double>& probs,
                                const torch::Tensor& target, const std::vector<int64_t>& ns, int trials, double ridge,
                                uint64_t seed) {
  int64_t s = gram_all.size(0);
  check((int64_t)probs.size() == s && target.numel() == s, "learning_curve: the Gram, probabilities and target sizes differ",
        "pass one probability and one target value per sequence");
  check(trials >= 2, "learning_curve: need at least 2 trials for a standard error", "use --trials >= 2");
  auto p = torch::tensor(probs, torch::kFloat64);
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<KrrPoint> out;
  for (int64_t n : ns) {
    std::vector<double> mses;
    for (int tr = 0; tr < trials; ++tr) {
      auto idx = at::multinomial(p, n, true, gen);
      auto k_nn = gram_all.index({idx}).index({torch::indexing::Slice(), idx});
      auto sol = ridge_solve(k_nn, target.index({idx}).unsqueeze(1), ridge);
      auto pred = torch::matmul(gram_all.index({torch::indexing::Slice(), idx}), sol.x).squeeze(1);
      mses.push_back((p * (pred - target).pow(2)).sum().item<double>());
    }
    auto m = torch::tensor(mses, torch::kFloat64);
    KrrPoint kp{m.mean().item<double>(), m.std().item<double>() / std::sqrt((double)trials)};
    check(std::isfinite(kp.mse_mean), "learning_curve: the test error at n = " + std::to_string(n) + " is not finite",
          "raise the ridge");
    out.push_back(kp);
  }
  return out;
}

std::vector<CurvePoint> learning_curve(const torch::Tensor& gram_all, const std::vector<double>& probs,
                                       const torch::Tensor& target, const std::vector<int64_t>& ns, int trials,
                                       double ridge, uint64_t seed) {
  auto krr = krr_curve(gram_all, probs, target, ns, trials, ridge, seed);
  auto modes = dense_modes(gram_all, probs, target);
  std::vector<CurvePoint> out;
  for (size_t i = 0; i < ns.size(); ++i) {
    CurvePoint cp{ns[i], krr[i].mse_mean, krr[i].mse_stderr};
    cp.predicted = eigenlearning_predict(modes.eigs, modes.coeffs2, (double)ns[i], ridge).test_mse;
    out.push_back(cp);
  }
  return out;
}

}  // namespace attnlab::gp
