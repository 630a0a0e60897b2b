// `attnlab gp train-check`: random wide attention layers (the runtime) with a readout trained by gradient descent
// against the NNGP posterior mean of the same architecture (src/gp/trained.h, docs/gp.md). Prints one row per
// width, writes train_check.json and train_check.svg (distance vs width, log–log, fitted slopes) into --out.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/gp_args.h"
#include "gp/plot.h"
#include "gp/trained.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

using nlohmann::json;
using namespace gp;
using namespace gp_args;

struct TrainCheckArgs {
  TrainCheckOptions opt;
  std::string widths = "16,64,256";
  std::string out = "gp_out";
};

json row_json(const TrainCheckRow& r) {
  json nets = json::array();
  for (const auto& f : r.nets) {
    json n = {{"distance", f.dist}, {"train_residual", f.train_residual}, {"steps", f.steps},
              {"grad_norm_rel", f.grad_norm_rel}, {"converged", f.converged}};
    if (f.all_dist != -1) n["all_weights"] = {{"distance", f.all_dist}, {"train_residual", f.all_train_residual},
                                              {"finite", f.all_finite},
                                              {"lr_fraction", f.all_lr_fraction}};
    nets.push_back(n);
  }
  json j = {{"width", r.width}, {"networks", r.networks}, {"distance_mean", r.dist_mean},
            {"distance_stderr", r.dist_stderr}, {"distance_ensemble", r.dist_ensemble},
            {"bias_debiased", r.bias_debiased}, {"noise_floor", r.noise_floor},
            {"train_residual_mean", r.train_residual_mean}, {"steps_mean", r.steps_mean}, {"steps_max", r.steps_max},
            {"grad_norm_rel_max", r.grad_norm_rel_max}, {"converged", r.converged}, {"seconds", r.seconds},
            {"per_network", nets}};
  if (r.all_dist_mean != -1)
    j["all_weights"] = {{"distance_mean", r.all_dist_mean}, {"distance_stderr", r.all_dist_stderr},
                        {"train_residual_mean", r.all_train_residual_mean}};
  return j;
}

PlotSeries fit_line(const std::string& label, const std::vector<TrainCheckRow>& rows, double slope, bool ensemble) {
  // least-squares line in log–log through the points: log y = a + slope log w, a from the means
  double lx = 0, ly = 0;
  for (const auto& r : rows) lx += std::log(r.width), ly += std::log(ensemble ? r.dist_ensemble : r.dist_mean);
  lx /= rows.size(), ly /= rows.size();
  PlotSeries s{label};
  for (const auto& r : rows) s.x.push_back(r.width), s.y.push_back(std::exp(ly + slope * (std::log(r.width) - lx)));
  return s;
}

void table_print(const TrainCheckResult& res, const TrainCheckOptions& o) {
  std::printf("%7s %9s %24s %11s %11s %11s %11s %14s %10s %6s\n", "width", "networks", "distance mean +- se",
              "ensemble", "ens. bias", "ens. noise", "train resid", "steps mean/max", "max |grad|", "conv");
  for (const auto& r : res.rows)
    std::printf("%7d %9d %12.4e +- %8.2e %11.4e %11.4e %11.4e %11.4e %7.0f/%-6ld %10.2e %3d/%-2d\n", r.width,
                r.networks, r.dist_mean, r.dist_stderr, r.dist_ensemble, r.bias_debiased, r.noise_floor,
                r.train_residual_mean, r.steps_mean, (long)r.steps_max, r.grad_norm_rel_max, r.converged, r.networks);
  std::printf("GP posterior: train resid %.4e   ||f_GP|| on the test set %.4e   delta %.6e\n", res.gp_train_residual,
              res.gp_test_norm, res.delta);
  if (res.rows.size() >= 2)
    std::printf("fitted: distance ~ width^%.3f per network, width^%.3f for the ensemble of %d, ensemble bias "
                "(noise removed) ~ width^%.3f (expected ~ -0.5, between -0.5 and -1, -1)\n",
                res.slope_network, res.slope_ensemble, o.networks, res.slope_bias);
  if (o.all_weights_steps > 0) {
    std::printf("contrast, ALL weights trained (%d SGD steps, lr from %.3g x readout step, /4 on divergence; "
                "no kernel claimed):\n",
                o.all_weights_steps, o.all_weights_lr);
    std::printf("%7s %24s %12s %18s\n", "width", "distance mean +- se", "train resid", "lr/readout (min)");
    for (const auto& r : res.rows) {
      double lr_min = 1e300;
      for (const auto& f : r.nets) lr_min = std::min(lr_min, f.all_lr_fraction);
      std::printf("%7d %12.4e +- %8.2e %12.4e %18.3g\n", r.width, r.all_dist_mean, r.all_dist_stderr,
                  r.all_train_residual_mean, lr_min);
    }
  }
  for (const auto& r : res.rows)
    if (r.converged < r.networks)
      std::cerr << "warning: width " << r.width << ": " << r.networks - r.converged << " of " << r.networks
                << " networks did not reach the gradient tolerance (max relative gradient norm " << r.grad_norm_rel_max
                << " after " << r.steps_max << " steps); their rows are NOT converged\n"
                << "HINT: raise --max-steps, or use --heavy-ball\n";
  if (res.gp_used_eigen) std::cerr << "warning: the GP solve fell back to an eigendecomposition\nHINT: raise --ridge\n";
}

void outputs_write(const TrainCheckResult& res, const TrainCheckArgs& a) {
  const auto& o = a.opt;
  json rows = json::array();
  for (const auto& r : res.rows) rows.push_back(row_json(r));
  json j = {{"spec", res.spec}, {"vocab", o.vocab}, {"length", o.length}, {"heads", o.heads}, {"n_train", o.n_train},
            {"n_test", o.n_test}, {"target", o.target}, {"ridge_relative", o.ridge}, {"ridge", res.delta},
            {"grad_tol", o.train.grad_tol}, {"max_steps", o.train.max_steps}, {"heavy_ball", o.train.heavy_ball},
            {"seed", o.seed}, {"networks", o.networks},
            {"gp", {{"train_residual", res.gp_train_residual}, {"test_norm", res.gp_test_norm},
                    {"used_eigen", res.gp_used_eigen}}},
            {"rows", rows}, {"slope_network", res.slope_network}, {"slope_ensemble", res.slope_ensemble},
            {"slope_bias", res.slope_bias},
            {"all_weights", {{"steps", o.all_weights_steps}, {"lr_fraction", o.all_weights_lr}}}};
  write_text(a.out + "/train_check.json", j.dump(1), "train-check");
  PlotSeries net{"one network (mean +- se)"}, ens{"ensemble mean of " + std::to_string(o.networks)};
  PlotSeries all{"all weights trained (contrast)"}, bias{"ensemble bias, noise removed"};
  for (const auto& r : res.rows) {
    net.x.push_back(r.width), net.y.push_back(r.dist_mean), net.err.push_back(r.dist_stderr);
    ens.x.push_back(r.width), ens.y.push_back(r.dist_ensemble);
    if (r.bias_debiased > 0) bias.x.push_back(r.width), bias.y.push_back(r.bias_debiased);
    all.x.push_back(r.width), all.y.push_back(r.all_dist_mean);
  }
  net.markers_only = ens.markers_only = all.markers_only = bias.markers_only = true;
  std::vector<PlotSeries> series{net, ens};
  if (!bias.x.empty()) series.push_back(bias);
  char title[160] = "Trained readout vs NNGP posterior mean";
  if (res.rows.size() >= 2) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "fit, one network: width^%.2f", res.slope_network);
    series.push_back(fit_line(buf, res.rows, res.slope_network, false));
    std::snprintf(buf, sizeof buf, "fit, ensemble: width^%.2f", res.slope_ensemble);
    series.push_back(fit_line(buf, res.rows, res.slope_ensemble, true));
    std::snprintf(title, sizeof title, "Trained readout vs NNGP posterior mean (slopes %.2f, %.2f)", res.slope_network,
                  res.slope_ensemble);
  }
  if (o.all_weights_steps > 0) series.push_back(all);
  write_text(a.out + "/train_check.svg",
             plot_svg({title, "width = d_model = d_head", "||f_net - f_GP|| / ||f_GP|| (test)", true, true, series}),
             "plot");
}

void gp_train_check(TrainCheckArgs& a) {
  cli_runtime_init();
  auto widths = parse_positive_ints(a.widths, "--widths", 1e5);
  a.opt.widths.assign(widths.begin(), widths.end());
  dir_create(a.out);  // before the run: a bad --out fails at once
  auto res = train_readout_vs_gp(a.opt, progress);
  table_print(res, a.opt);
  outputs_write(res, a);
}

}  // namespace

void cmd_gp_trained_register(CLI::App* gp) {
  static TrainCheckArgs a;
  auto* tc = gp->add_subcommand("train-check", "wide random attention layers with a trained readout vs the GP "
                                               "posterior mean");
  tc->add_option("-V,--vocab", a.opt.vocab, "vocabulary size V")->capture_default_str();
  tc->add_option("-L,--length", a.opt.length, "sequence length L")->capture_default_str();
  tc->add_option("--widths", a.widths, "widths (d_model = d_head) to try")->capture_default_str();
  tc->add_option("--networks", a.opt.networks, "random networks M per width")->capture_default_str();
  tc->add_option("-n,--n", a.opt.n_train, "training sequences")->capture_default_str();
  tc->add_option("--test", a.opt.n_test, "test sequences")->capture_default_str();
  tc->add_option("--target", a.opt.target, "copy | pair | symmetric | random")->capture_default_str();
  tc->add_option("--ridge", a.opt.ridge, "ridge, relative to the mean diagonal of the NNGP train kernel")
      ->capture_default_str();
  tc->add_option("--heads", a.opt.heads, "attention heads H")->capture_default_str();
  tc->add_option("--grad-tol", a.opt.train.grad_tol, "stop at this relative gradient norm")->capture_default_str();
  tc->add_option("--max-steps", a.opt.train.max_steps, "gradient-descent step cap")->capture_default_str();
  tc->add_flag("--heavy-ball", a.opt.train.heavy_ball, "SGD momentum with the optimal heavy-ball step and beta");
  tc->add_option("--all-weights", a.opt.all_weights_steps,
                 "contrast: also train every weight for this many SGD steps (0 = off)")->capture_default_str();
  tc->add_option("--all-weights-lr", a.opt.all_weights_lr, "its first learning rate, as a fraction of the readout step (divided by 4 while the run diverges)")
      ->capture_default_str();
  tc->add_option("--seed", a.opt.seed, "random seed")->capture_default_str();
  tc->add_option("-o,--out", a.out, "output directory")->capture_default_str();
  tc->callback([] { gp_train_check(a); });
}

}  // namespace attnlab
