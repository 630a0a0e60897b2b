// Trained readouts of random wide attention layers against the NNGP posterior mean (see trained.h).
#include "gp/trained.h"

#include <chrono>
#include <algorithm>
#include <cmath>
#include <limits>

#include "gp/inference.h"
#include "gp/kernels.h"
#include "gp/monte_carlo.h"
#include "gp/scaling.h"
#include "util/error.h"

namespace attnlab::gp {

namespace {

double rel_dist(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).norm() / b.norm()).item<double>();
}

struct AllWeightsFit {
  torch::Tensor train_pred, test_pred;  // [n], [m]
  double lr = 0;                        // the learning rate that stayed stable
  bool finite = true;
};

// The contrast: SGD on every weight of the network (W_E, W_pos, W_Q, W_K, W_V, W_O) and on w, same loss.
// The features are taken from the forward pass through a patch hook, which keeps them in the autograd graph.
// In the standard parametrisation the curvature along the attention weights grows with the width, so a run
// whose loss ends non-finite or above its start is restarted from the initial weights at lr / 4 (8 tries).
AllWeightsFit all_weights_train(const SequenceModel& model, const torch::Tensor& w0, const torch::Tensor& x_train,
                                const torch::Tensor& y, const torch::Tensor& x_test, double delta, double lr,
                                int steps) {
  std::vector<torch::Tensor> params, init;
  for (const char* name : {"embed.W_E", "pos_embed.W_pos", "blocks.0.attn.W_Q", "blocks.0.attn.W_K",
                           "blocks.0.attn.W_V", "blocks.0.attn.W_O"}) {
    if (auto* p = model->named_parameters().find(name)) {
      params.push_back(p->requires_grad_(true));
      init.push_back(p->detach().clone());
    }
  }
  auto w = w0.detach().clone().set_requires_grad(true);
  params.push_back(w);
  init.push_back(w0.detach().clone());
  const double scale = 1.0 / std::sqrt((double)w0.numel());
  auto features = [&](const torch::Tensor& tokens) {  // [N, R] / √R, in the graph
    torch::Tensor out;
    Hooks hooks;
    hooks.patch_add("blocks.0.hook_attn_out", [&out](const torch::Tensor& v, const std::string&) {
      out = v;
      return v;
    });
    model->forward({tokens}, &hooks);
    return out.mean(1) * scale;
  };
  auto loss_of = [&] {
    auto r = torch::mv(features(x_train), w) - y;
    return 0.5 * r.dot(r) + 0.5 * delta * w.dot(w);
  };
  AllWeightsFit fit;
  for (int attempt = 0; attempt < 8; ++attempt, lr /= 4) {
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < params.size(); ++i) params[i].copy_(init[i]);
    }
    torch::optim::SGD sgd(params, torch::optim::SGDOptions(lr));
    double start = 0, last = 0;
    for (int s = 0; s <= steps; ++s) {
      sgd.zero_grad();
      auto loss = loss_of();
      last = loss.item<double>();
      if (s == 0) start = last;
      if (!std::isfinite(last) || s == steps) break;
      loss.backward();
      sgd.step();
    }
    fit.finite = std::isfinite(last) && last <= start;
    fit.lr = lr;
    if (fit.finite) break;
  }
  torch::NoGradGuard no_grad;
  fit.train_pred = torch::mv(features(x_train), w);
  fit.test_pred = torch::mv(features(x_test), w);
  fit.finite = fit.finite && torch::isfinite(fit.test_pred).all().item<bool>();
  return fit;
}

void options_check(const TrainCheckOptions& o) {
  check(o.vocab >= 1 && o.vocab <= 64, "train-check: V = " + std::to_string(o.vocab) + " is out of range",
        "use 1 <= V <= 64 (--vocab)");
  check(o.length >= 1 && o.length <= 512, "train-check: L = " + std::to_string(o.length) + " is out of range",
        "use 1 <= L <= 512 (--length)");
  check(!o.widths.empty(), "train-check: no widths given", "e.g. --widths 16,64,256");
  for (int w : o.widths) {
    check(w >= 1, "train-check: width " + std::to_string(w) + " is not a positive integer", "e.g. --widths 16,64,256");
    check((double)o.heads * w * w <= (double)(1 << 25),
          "train-check: width " + std::to_string(w) + " with " + std::to_string(o.heads) +
              " heads needs H·R² = " + std::to_string((double)o.heads * w * w) + " weights per matrix (limit 2^25)",
          "use smaller --widths or fewer --heads");
  }
  check(o.networks >= 2, "train-check: networks must be >= 2 (the standard error needs two)", "e.g. --networks 8");
  check(o.heads >= 1, "train-check: heads must be >= 1", "e.g. --heads 8");
  check(o.n_train >= 1 && o.n_train <= 20000, "train-check: n = " + std::to_string(o.n_train) + " is out of range",
        "use 1 <= n <= 20000 (--n)");
  check(o.n_test >= 1 && o.n_test <= 20000, "train-check: the test set size " + std::to_string(o.n_test) +
                                                " is out of range", "use 1 <= m <= 20000 (--test)");
  check(std::isfinite(o.ridge) && o.ridge > 0, "train-check: the ridge must be positive",
        "the readout's loss needs δ > 0; e.g. --ridge 1e-2");
  check(std::isfinite(o.train.grad_tol) && o.train.grad_tol > 0, "train-check: the gradient tolerance must be > 0",
        "e.g. --grad-tol 1e-10");
  check(o.train.max_steps >= 1, "train-check: the step cap must be >= 1", "e.g. --max-steps 200000");
  check(o.all_weights_steps >= 0, "train-check: all-weights steps must be >= 0", "0 turns the contrast off");
  check(std::isfinite(o.all_weights_lr) && o.all_weights_lr > 0, "train-check: the all-weights learning rate must be > 0",
        "it is a fraction of the readout step size, e.g. 0.1");
}

void row_summarise(TrainCheckRow& row, const std::vector<torch::Tensor>& test_preds, const torch::Tensor& f_gp,
                   bool contrast) {
  const double m = (double)row.nets.size();
  auto dists = torch::empty({(int64_t)row.nets.size()}, torch::kFloat64);
  double all_sum = 0, all_sq = 0, all_res = 0;
  for (size_t i = 0; i < row.nets.size(); ++i) {
    const auto& f = row.nets[i];
    dists[i] = f.dist;
    row.train_residual_mean += f.train_residual / m;
    row.steps_mean += f.steps / m;
    row.steps_max = std::max(row.steps_max, f.steps);
    row.grad_norm_rel_max = std::max(row.grad_norm_rel_max, f.grad_norm_rel);
    row.converged += f.converged ? 1 : 0;
    all_sum += f.all_dist, all_sq += f.all_dist * f.all_dist, all_res += f.all_train_residual;
  }
  row.dist_mean = dists.mean().item<double>();
  row.dist_stderr = dists.std().item<double>() / std::sqrt(m);
  auto preds = torch::stack(test_preds);  // [M, m]
  auto mean = preds.mean(0);
  row.dist_ensemble = rel_dist(mean, f_gp);
  double s2 = ((preds - mean).pow(2).sum() / ((m - 1) * f_gp.pow(2).sum())).item<double>();
  row.noise_floor = std::sqrt(s2 / m);
  row.bias_debiased = std::sqrt(std::max(0.0, row.dist_ensemble * row.dist_ensemble - s2 / m));
  if (contrast) {
    row.all_dist_mean = all_sum / m;
    row.all_dist_stderr = std::sqrt(std::max(0.0, (all_sq - m * row.all_dist_mean * row.all_dist_mean) / (m - 1)) / m);
    row.all_train_residual_mean = all_res / m;
  }
}

}  // namespace

ReadoutFit readout_train(const torch::Tensor& phi_train, const torch::Tensor& y, const torch::Tensor& phi_test,
                         const torch::Tensor& w0, double delta, const ReadoutTrainOptions& o) {
  check(phi_train.dim() == 2 && phi_test.dim() == 2 && phi_test.size(1) == phi_train.size(1) &&
            y.numel() == phi_train.size(0) && w0.numel() == phi_train.size(1),
        "readout_train: shapes do not match (phi_train [n, R], y [n], phi_test [m, R], w0 [R])",
        "pass the features of the training and test sequences, the targets and an initial readout");
  check(std::isfinite(delta) && delta > 0, "readout_train: the ridge δ must be positive", "use δ > 0");
  check(o.grad_tol > 0 && o.max_steps >= 1, "readout_train: grad_tol must be > 0 and max_steps >= 1",
        "e.g. grad_tol 1e-10, max_steps 200000");
  const int64_t n = phi_train.size(0), R = phi_train.size(1);
  const double scale = 1.0 / std::sqrt((double)R);
  auto a = (phi_train * scale).to(torch::kFloat64).detach();  // [n, R]: f(X) = a w
  auto yy = y.to(torch::kFloat64).reshape({n});
  // The Hessian ΦᵀΦ/R + δI shares its non-zero spectrum with K̂ = ΦΦᵀ/R; it has R − n eigenvalues δ when R > n.
  const bool full = n >= R;
  auto ev = torch::linalg::eigvalsh(full ? a.t().mm(a) : a.mm(a.t()), "L");
  const double lmax = std::max(ev.max().item<double>(), 0.0) + delta;
  const double lmin = delta + (full ? std::max(ev.min().item<double>(), 0.0) : 0.0);
  ReadoutFit fit;
  if (o.heavy_ball) {
    double sl = std::sqrt(lmax), sm = std::sqrt(lmin);
    fit.step_size = 4.0 / ((sl + sm) * (sl + sm));
    fit.momentum = std::pow((sl - sm) / (sl + sm), 2);
  } else {
    fit.step_size = 2.0 / (lmax + lmin);
  }
  auto w = w0.detach().to(torch::kFloat64).reshape({R}).clone().set_requires_grad(true);
  torch::optim::SGD sgd({w}, torch::optim::SGDOptions(fit.step_size).momentum(fit.momentum));
  double g0 = 0;
  for (;;) {
    sgd.zero_grad();
    auto r = torch::mv(a, w) - yy;
    auto loss = 0.5 * r.dot(r) + 0.5 * delta * w.dot(w);
    loss.backward();
    double g = w.grad().norm().item<double>();
    if (fit.steps == 0) g0 = g;
    fit.grad_norm_rel = g0 > 0 ? g / g0 : 0.0;
    if (!std::isfinite(g)) break;  // diverged: reported as not converged
    if (fit.grad_norm_rel < o.grad_tol) {
      fit.converged = true;
      break;
    }
    if (fit.steps >= o.max_steps) break;
    sgd.step();
    ++fit.steps;
  }
  torch::NoGradGuard no_grad;
  fit.w = w.detach().clone();
  fit.train_pred = torch::mv(a, fit.w);
  fit.test_pred = torch::mv((phi_test * scale).to(torch::kFloat64), fit.w);
  return fit;
}

torch::Tensor train_check_target(const std::string& name, const torch::Tensor& tokens, int vocab, uint64_t seed) {
  auto x = tokens.to(torch::kFloat64);
  const int64_t L = tokens.size(1);
  if (name == "copy") return (x.select(1, 0) == 0).to(torch::kFloat64);
  if (name == "pair") {
    check(L >= 2, "target 'pair' needs L >= 2", "use --length >= 2 or another --target");
    return (x.select(1, 0) == x.select(1, 1)).to(torch::kFloat64);
  }
  if (name == "symmetric") return (x == 0).to(torch::kFloat64).mean(1).pow(2);
  check(name == "random", "unknown target '" + name + "'", "use copy, pair, symmetric or random");
  check(std::pow((double)vocab, (double)L) <= (double)(1 << 22),
        "target 'random' tabulates V^L values; V^L = " + std::to_string(std::pow((double)vocab, (double)L)) +
            " is above 2^22", "use a smaller --vocab or --length, or another --target");
  int64_t size = 1;
  for (int64_t i = 0; i < L; ++i) size *= vocab;
  auto gen = at::detail::createCPUGenerator(seed ^ 0x7261'6e64'6f6dULL);
  auto table = at::normal(0.0, 1.0, {size}, gen, torch::TensorOptions().dtype(torch::kFloat64));
  auto code = torch::zeros({tokens.size(0)}, torch::kInt64);
  for (int64_t i = 0; i < L; ++i) code = code * vocab + tokens.select(1, i);  // base-V index of each sequence
  return table.index_select(0, code);
}

TrainCheckResult train_readout_vs_gp(const TrainCheckOptions& o,
                                     const std::function<void(const std::string&)>& progress) {
  options_check(o);
  auto say = [&](const std::string& s) { if (progress) progress(s); };
  auto opts64 = torch::TensorOptions().dtype(torch::kInt64);
  auto data_gen = at::detail::createCPUGenerator(o.seed);
  auto x_train = at::randint(o.vocab, {o.n_train, o.length}, data_gen, opts64);  // [n, L]
  auto x_test = at::randint(o.vocab, {o.n_test, o.length}, data_gen, opts64);    // [m, L]
  auto y = train_check_target(o.target, x_train, o.vocab, o.seed);               // [n]
  check(y.norm().item<double>() > 0, "train-check: the target is 0 on every training sequence",
        "draw more training sequences (--n) or change --seed or --target");

  FiniteWidthOptions fo;
  fo.vocab = o.vocab;
  fo.heads = o.heads;
  fo.sigma_p2 = o.sigma_p2;
  fo.sigma_qk2 = o.sigma_qk2;
  TrainCheckResult res;
  res.spec = finite_width_spec(fo);
  say("train-check: NNGP posterior mean of " + res.spec);
  auto spec = kernel_spec_parse(res.spec);
  GramOptions g;
  g.vocab = o.vocab;
  auto x_eval = torch::cat({x_test, x_train}, 0);  // [m + n, L]
  auto post = gp_posterior(kernel_gram(spec, x_train, x_train, g).k, kernel_gram(spec, x_eval, x_train, g).k,
                           kernel_diag(spec, x_eval, g), y, o.ridge, true);
  auto f_gp = post.mean.narrow(0, 0, o.n_test);                 // [m]
  res.delta = post.ridge;
  res.gp_used_eigen = post.used_eigen;
  res.gp_train_residual = rel_dist(post.mean.narrow(0, o.n_test, o.n_train), y);
  res.gp_test_norm = f_gp.norm().item<double>();
  check(res.gp_test_norm > 0, "train-check: the GP posterior mean is 0 on every test sequence",
        "a relative distance to it is undefined; change --target, --n or --seed");

  std::vector<double> ws, d_net, d_ens, wb, d_bias;
  for (int width : o.widths) {
    auto t0 = std::chrono::steady_clock::now();
    fo.width = fo.d_head = width;
    auto gen = at::detail::createCPUGenerator(o.seed + width);  // mc-check's seeding convention
    TrainCheckRow row;
    row.width = width;
    row.networks = o.networks;
    std::vector<torch::Tensor> test_preds;
    for (int k = 0; k < o.networks; ++k) {
      say("train-check: width " + std::to_string(width) + ", network " + std::to_string(k + 1) + "/" +
          std::to_string(o.networks));
      auto model = finite_width_model(fo, o.length, gen);
      auto w0 = at::normal(0.0, 1.0, {width}, gen, torch::TensorOptions().dtype(torch::kFloat64));  // prior N(0, I)
      auto fit = readout_train(finite_width_features(model, x_train), y, finite_width_features(model, x_test), w0,
                               res.delta, o.train);
      NetworkFit nf;
      nf.dist = rel_dist(fit.test_pred, f_gp);
      nf.train_residual = rel_dist(fit.train_pred, y);
      nf.steps = fit.steps;
      nf.grad_norm_rel = fit.grad_norm_rel;
      nf.converged = fit.converged;
      if (o.all_weights_steps > 0) {
        auto all = all_weights_train(model, w0, x_train, y, x_test, res.delta, o.all_weights_lr * fit.step_size,
                                     o.all_weights_steps);
        nf.all_finite = all.finite;
        nf.all_lr_fraction = all.lr / fit.step_size;
        nf.all_dist = all.finite ? rel_dist(all.test_pred, f_gp) : std::numeric_limits<double>::quiet_NaN();
        nf.all_train_residual = all.finite ? rel_dist(all.train_pred, y) : std::numeric_limits<double>::quiet_NaN();
      }
      row.nets.push_back(nf);
      test_preds.push_back(fit.test_pred);
    }
    row_summarise(row, test_preds, f_gp, o.all_weights_steps > 0);
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ws.push_back(width), d_net.push_back(row.dist_mean), d_ens.push_back(row.dist_ensemble);
    if (row.bias_debiased > 0) wb.push_back(width), d_bias.push_back(row.bias_debiased);
    res.rows.push_back(row);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  res.slope_network = ws.size() >= 2 ? fit_log_slope(ws, d_net) : nan;
  res.slope_ensemble = ws.size() >= 2 ? fit_log_slope(ws, d_ens) : nan;
  res.slope_bias = wb.size() >= 2 ? fit_log_slope(wb, d_bias) : nan;
  return res;
}

}  // namespace attnlab::gp
