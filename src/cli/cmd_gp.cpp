// `attnlab gp kernel|spectrum|learning-curve|mc-check|scaling|text-symmetry`: NNGP kernels of attention
// networks, their symmetric-group spectra, learning-curve predictions, finite-width checks, context-length
// scaling and text symmetry (Lavie, Gur-Ari, Ringel, arXiv 2402.05173; docs/gp.md). Each command writes JSON +
// SVG into --out and prints the paths; progress goes to stderr unless --quiet. Over 400 lines because the six
// commands share one argument struct and its helpers; each command is one function.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/gp_args.h"
#include "gp/inference.h"
#include "gp/irrep_power.h"
#include "gp/kernels.h"
#include "gp/monte_carlo.h"
#include "gp/plot.h"
#include "gp/scaling.h"
#include "gp/spectrum.h"
#include "gp/text_symmetry.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

using nlohmann::json;
using namespace gp;
using namespace gp_args;

struct GpArgs {
  std::string spec = "embed(pos=iid) | attn(tied) | relu | meanpool";
  int vocab = 2, length = 6;
  std::string out = "gp_out";
  uint64_t seed = 0;
  int64_t n = 16;                 // kernel: random sequences
  std::string inputs;             // kernel: "0 1 0; 1 1 0"
  std::string probs;              // token probabilities "0.5,0.5"
  std::string target = "pair";    // learning-curve target
  std::string ns = "1,2,4,8,16,32,64,128";
  int trials = 20;
  bool no_krr = false;            // learning-curve: prediction only (no full Gram)
  double ridge = 1e-6;            // relative to E_p K(x, x)
  int mc_replicas = 8;
  std::string widths = "8,16,32,64,128";  // mc-check
  int networks = 64;
  std::string lengths = "4,6,8,10,12";    // scaling
  int kmax = 3;
  std::string corpus;                     // text-symmetry
  int text_length = 16, text_vocab = 64;
  int64_t max_tokens = 2000000;
};

GramOptions gram_options(const GpArgs& a) {
  GramOptions o;
  o.vocab = a.vocab;
  o.seed = a.seed;
  o.mc_replicas = a.mc_replicas;
  return o;
}

torch::Tensor parse_inputs(const GpArgs& a) {
  std::vector<int64_t> flat;
  int64_t rows = 0;
  std::stringstream ss(a.inputs);
  std::string row;
  while (std::getline(ss, row, ';')) {
    std::stringstream rs(row);
    int64_t t, count = 0;
    while (rs >> t) flat.push_back(t), ++count;
    check(rs.eof(), "--inputs: sequence " + std::to_string(rows + 1) + " has a non-integer token",
          "write token ids separated by spaces, sequences by ';'");
    check(count == a.length, "--inputs: sequence " + std::to_string(rows + 1) + " has " + std::to_string(count) +
                                 " tokens, --length is " + std::to_string(a.length),
          "every sequence has L tokens");
    ++rows;
  }
  return torch::tensor(flat, torch::kInt64).view({rows, a.length});
}

void gp_kernel(const GpArgs& a) {
  cli_runtime_init();
  check_vocab_length(a.vocab, a.length);
  auto spec = kernel_spec_parse(a.spec);
  torch::Tensor x;
  if (!a.inputs.empty()) {
    x = parse_inputs(a);
  } else {
    check(a.n >= 1 && a.n <= 20000, "--n " + std::to_string(a.n) + " is out of range", "use 1 <= n <= 20000");
    auto gen = at::detail::createCPUGenerator(a.seed);
    x = at::randint(a.vocab, {a.n, a.length}, gen, torch::TensorOptions().dtype(torch::kInt64));
  }
  progress("kernel: " + std::to_string(x.size(0)) + " sequences, L = " + std::to_string(a.length));
  auto g = kernel_gram(spec, x, x, gram_options(a));
  auto ev = torch::linalg::eigvalsh(0.5 * (g.k + g.k.t()), "L").flip(0);
  dir_create(a.out);
  json j = {{"spec", a.spec}, {"vocab", a.vocab}, {"length", a.length}, {"seed", a.seed}};
  j["inputs"] = std::vector<std::vector<int64_t>>();
  for (int64_t i = 0; i < x.size(0); ++i) {
    auto r = x[i].contiguous();
    j["inputs"].push_back(std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()));
  }
  auto rows = [](const torch::Tensor& t) {
    json m = json::array();
    for (int64_t i = 0; i < t.size(0); ++i) {
      auto r = t[i].contiguous();
      m.push_back(std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel()));
    }
    return m;
  };
  j["kernel"] = rows(g.k);
  j["stderr"] = rows(g.stderr_);
  j["eigenvalues"] = std::vector<double>(ev.data_ptr<double>(), ev.data_ptr<double>() + ev.numel());
  write_text(a.out + "/kernel.json", j.dump(1), "kernel");
  PlotSeries s{"eigenvalues"};
  for (int64_t i = 0; i < ev.numel(); ++i) s.x.push_back(i + 1), s.y.push_back(ev[i].item<double>());
  write_text(a.out + "/kernel.svg", plot_svg({"Gram eigenvalues: " + a.spec, "index", "eigenvalue", true, true, {s}}),
             "plot");
  std::printf("K[0][0] = %.12g   min eigenvalue = %.3e   max = %.6g\n", g.k[0][0].item<double>(),
              ev[-1].item<double>(), ev[0].item<double>());
}

json spectrum_json(const Spectrum& s) {
  json irreps = json::array();
  for (const auto& ir : s.irreps)
    irreps.push_back({{"lambda", ir.lambda}, {"name", partition_name(ir.lambda)}, {"dim", ir.dim},
                      {"multiplicity", ir.multiplicity}, {"ssyt", ir.ssyt}, {"boxes_below_first_row", ir.boxes_below},
                      {"eigenvalues", ir.eigenvalues}});
  return {{"vocab", s.vocab}, {"length", s.length}, {"group", s.group}, {"group_size", s.group_size},
          {"token_probs", s.token_probs}, {"irreps", irreps}, {"trace", s.trace}, {"expected_diag", s.expected_diag},
          {"seconds", s.seconds}};
}

std::string group_line(const Spectrum& s) {
  if (s.group == "S_L")
    return "group S_L = S_" + std::to_string(s.group_size) + ": simultaneous permutations of all positions";
  if (s.group_size == s.length) return "group S_{L-1}: L = 1, nothing to permute (last-token readout)";
  return "group S_{L-1} = S_" + std::to_string(s.group_size) + ": permutations of positions 0.." +
         std::to_string(s.group_size - 1) + "; the last position is a spectator (last-token readout)";
}

void gp_spectrum(const GpArgs& a) {
  cli_runtime_init();
  check_vocab_length(a.vocab, a.length);
  auto spec = kernel_spec_parse(a.spec);
  progress("spectrum: V = " + std::to_string(a.vocab) + ", L = " + std::to_string(a.length));
  auto s = kernel_spectrum(spec, a.vocab, a.length, token_probs(a.probs, a.vocab), gram_options(a), progress);
  dir_create(a.out);
  json j = spectrum_json(s);
  j["spec"] = a.spec;
  std::printf("%s\n", group_line(s).c_str());
  std::printf("%-16s %8s %6s %5s %6s  %s\n", "irrep", "d_lambda", "#SSYT", "k", "block", "eigenvalues (each x d_lambda)");
  PlotSeries top{"top eigenvalue per irrep"};
  for (const auto& ir : s.irreps) {
    std::printf("%-16s %8.0f %6.0f %5d %6.0f ", partition_name(ir.lambda).c_str(), ir.dim, ir.ssyt, ir.boxes_below,
                ir.multiplicity);
    for (size_t i = 0; i < ir.eigenvalues.size() && i < 4; ++i) std::printf(" %.4e", ir.eigenvalues[i]);
    std::printf("%s\n", ir.eigenvalues.size() > 4 ? " ..." : "");
    top.x.push_back(ir.boxes_below);
    top.y.push_back(std::abs(ir.eigenvalues[0]));
  }
  top.markers_only = true;
  std::printf("trace %.12g   E K(x,x) %.12g   %.2f s\n", s.trace, s.expected_diag, s.seconds);
  write_text(a.out + "/spectrum.json", j.dump(1), "spectrum");
  std::string k_axis = s.group == "S_L" ? "boxes below the first row (L - lambda_1)" : "boxes below the first row (L - 1 - lambda_1)";
  write_text(a.out + "/spectrum.svg",
             plot_svg({"Top eigenvalue per irrep of " + s.group + ", V=" + std::to_string(a.vocab) + " L=" +
                           std::to_string(a.length),
                       k_axis, "|eigenvalue|", false, true, {top}}),
             "plot");
}

// Targets on [V]^L in base-V order: copy = 1[x_0 = 0]; pair = 1[x_0 = x_1]; symmetric = (#{i: x_i = 0}/L)²;
// otherwise a file with V^L numbers.
torch::Tensor target_values(const GpArgs& a, const torch::Tensor& seqs) {
  auto x = seqs.to(torch::kFloat64);
  if (a.target == "copy") return (x.select(1, 0) == 0).to(torch::kFloat64);
  if (a.target == "pair") {
    check(a.length >= 2, "target 'pair' needs L >= 2", "use --length >= 2");
    return (x.select(1, 0) == x.select(1, 1)).to(torch::kFloat64);
  }
  if (a.target == "symmetric") return (x == 0).to(torch::kFloat64).mean(1).pow(2);
  std::stringstream ss(file_read_text(a.target));
  std::vector<double> v;
  double d;
  while (ss >> d) v.push_back(d);
  check(ss.eof() && (int64_t)v.size() == seqs.size(0),
        "target file '" + a.target + "' must hold " + std::to_string(seqs.size(0)) + " numbers (V^L), found " +
            std::to_string(v.size()) + (ss.eof() ? "" : " before a non-number"),
        "write one value per sequence of [V]^L in base-V order, or use copy, pair or symmetric");
  return torch::tensor(v, torch::kFloat64);
}

std::vector<int64_t> parse_ns(const GpArgs& a) { return parse_positive_ints(a.ns, "--ns", 1e9); }

// The per-irrep route: block spectrum, the target's power per irrep, eigenlearning per n on the grouped modes.
struct IrrepCurve {
  Spectrum spectrum;
  std::vector<IrrepPower> powers;
  std::vector<IrrepPrediction> by_n;  // [ns]
  double seconds = 0;
};

IrrepCurve irrep_curve(const GpArgs& a, const KernelSpec& spec, const std::vector<double>& q, const torch::Tensor& target,
                       const std::vector<int64_t>& ns, double delta) {
  auto t0 = std::chrono::steady_clock::now();
  IrrepCurve c;
  c.spectrum = kernel_spectrum(spec, a.vocab, a.length, q, gram_options(a), progress);
  c.powers = irrep_powers(c.spectrum, target, progress);
  auto modes = block_modes(c.spectrum, c.powers);
  for (int64_t n : ns) c.by_n.push_back(eigenlearning_irreps(modes, c.spectrum.irreps.size(), (double)n, delta));
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

// Table: per irrep, d_λ, block size, the target's power and share, the predicted error at each n.
json irrep_table(const IrrepCurve& c, const std::vector<int64_t>& ns, double norm2) {
  std::printf("\n%s\ntarget power ||f||^2_p = %.6e; predicted test error E_0 sum (1-L_i)^2 v_i^2 per irrep:\n",
              group_line(c.spectrum).c_str(), norm2);
  std::printf("%-14s %8s %6s %12s %9s", "irrep", "d_lambda", "block", "power", "share");
  for (int64_t n : ns) std::printf(" %11s", ("n=" + std::to_string(n)).c_str());
  std::printf("\n");
  json rows = json::array();
  for (size_t i = 0; i < c.spectrum.irreps.size(); ++i) {
    const auto& ir = c.spectrum.irreps[i];
    double share = norm2 > 0 ? c.powers[i].power / norm2 : 0;
    std::printf("%-14s %8.0f %6.0f %12.4e %9.4f", partition_name(ir.lambda).c_str(), ir.dim, ir.multiplicity,
                c.powers[i].power, share);
    std::vector<double> err;
    for (const auto& p : c.by_n) err.push_back(p.by_irrep[i]), std::printf(" %11.3e", p.by_irrep[i]);
    std::printf("\n");
    rows.push_back({{"lambda", ir.lambda}, {"name", partition_name(ir.lambda)}, {"dim", ir.dim},
                    {"block", ir.multiplicity}, {"power", c.powers[i].power}, {"share", share},
                    {"mode_eigenvalues", ir.eigenvalues}, {"mode_power", c.powers[i].mode_power},
                    {"predicted_error", err}});
  }
  return rows;
}

// Which routes learning-curve takes: blocks (invariant kernels), empirical KRR (unless --no-krr; V^L <= 8192) and
// the dense eigendecomposition (the prediction for kernels without symmetry, a cross-check column when the full
// Gram is computed for KRR anyway and V^L <= 4096). Every size limit is checked here, before any work.
struct CurveRoutes {
  bool blocks = false, krr = false, dense = false;
};

CurveRoutes curve_routes(const GpArgs& a, const KernelSpec& spec) {
  double size = std::pow((double)a.vocab, a.length);
  CurveRoutes r;
  r.blocks = spec.symmetry() != SymmetryGroup::None;
  r.krr = !a.no_krr;
  r.dense = !r.blocks || (r.krr && size <= 4096);
  check(!r.krr || size <= 8192, "learning-curve: empirical KRR needs the kernel on all V^L = " +
        std::to_string((int64_t)size) + " sequences; V^L must be at most 8192",
        "add --no-krr to predict from the irrep blocks only, or use a smaller --vocab or --length");
  check(r.blocks || size <= 8192, "learning-curve: the kernel '" + a.spec + "' is not invariant under permutations of "
        "the positions, so the prediction needs the dense operator on V^L = " + std::to_string((int64_t)size) +
        " sequences (at most 8192)", "use a smaller --vocab or --length, or `attnlab gp sectors` for this kernel");
  check(a.ridge >= 0, "--ridge is negative", "use a relative ridge >= 0");
  int m = spectrum_group_size(spec.symmetry(), a.length);
  if (r.blocks) irrep_power_check_size(irrep_power_work(a.vocab, a.length, m), a.vocab, a.length);
  return r;
}

struct CurveResults {
  IrrepCurve blocks;             // when routes.blocks
  DenseModes dense;              // when routes.dense
  std::vector<KrrPoint> krr;     // [ns] when routes.krr
};

// The table (n, KRR ± se, prediction, dense check) on stdout, the JSON points and the plot series.
json curve_points(const CurveRoutes& r, const CurveResults& c, const std::vector<int64_t>& ns, double delta,
                  PlotSeries& emp, PlotSeries& th) {
  json pts = json::array();
  std::printf("%8s %14s %12s %14s %14s\n", "n", "KRR test MSE", "stderr", "predicted", "dense check");
  for (size_t i = 0; i < ns.size(); ++i) {
    double pd = r.dense ? eigenlearning_predict(c.dense.eigs, c.dense.coeffs2, (double)ns[i], delta).test_mse : NAN;
    double pred = r.blocks ? c.blocks.by_n[i].total.test_mse : pd;
    json pt = {{"n", ns[i]}, {"predicted", pred}};
    std::printf("%8ld", (long)ns[i]);
    if (r.krr) {
      std::printf(" %14.6e %12.2e", c.krr[i].mse_mean, c.krr[i].mse_stderr);
      pt["mse"] = c.krr[i].mse_mean, pt["stderr"] = c.krr[i].mse_stderr;
      emp.x.push_back(ns[i]), emp.y.push_back(c.krr[i].mse_mean), emp.err.push_back(c.krr[i].mse_stderr);
    } else {
      std::printf(" %14s %12s", "-", "-");
    }
    std::printf(" %14.6e", pred);
    if (r.dense) std::printf(" %14.6e", pd), pt["predicted_dense"] = pd;
    if (r.blocks) pt["predicted_by_irrep"] = c.blocks.by_n[i].by_irrep, pt["kappa"] = c.blocks.by_n[i].total.kappa;
    std::printf("\n");
    pts.push_back(pt);
    th.x.push_back(ns[i]), th.y.push_back(pred);
  }
  return pts;
}

void gp_learning_curve(const GpArgs& a) {
  cli_runtime_init();
  check_vocab_length(a.vocab, a.length);
  auto spec = kernel_spec_parse(a.spec);
  auto routes = curve_routes(a, spec);
  auto ns = parse_ns(a);
  auto q = token_probs(a.probs, a.vocab);
  if (q.empty()) q.assign(a.vocab, 1.0 / a.vocab);
  auto seqs = all_sequences(a.vocab, a.length);
  auto target = target_values(a, seqs);
  auto probs = sequence_probs(a.vocab, a.length, q);
  auto p_t = torch::tensor(probs, torch::kFloat64);
  double ediag = (kernel_diag(spec, seqs, gram_options(a)) * p_t).sum().item<double>();
  double delta = a.ridge * ediag, norm2 = (p_t * target * target).sum().item<double>();
  CurveResults c;
  if (routes.blocks) c.blocks = irrep_curve(a, spec, q, target, ns, delta);
  else progress("learning-curve: the kernel has no permutation symmetry; dense prediction only");
  torch::Tensor g;
  if (routes.krr || routes.dense) {
    progress("learning-curve: kernel on all " + std::to_string(seqs.size(0)) + " sequences");
    g = kernel_gram(spec, seqs, seqs, gram_options(a)).k;
  }
  if (routes.dense) c.dense = dense_modes(g, probs, target);
  if (routes.krr) {
    progress("learning-curve: " + std::to_string(ns.size()) + " sizes x " + std::to_string(a.trials) + " trials");
    c.krr = krr_curve(g, probs, target, ns, a.trials, delta, a.seed);
  }
  dir_create(a.out);
  PlotSeries emp{"KRR (mean +- se)"}, th{routes.blocks ? "eigenlearning (irrep blocks)" : "eigenlearning (dense)"};
  json pts = curve_points(routes, c, ns, delta, emp, th);
  emp.markers_only = true;
  json j = {{"spec", a.spec}, {"vocab", a.vocab}, {"length", a.length}, {"target", a.target}, {"ridge_relative", a.ridge},
            {"ridge", delta}, {"trials", routes.krr ? a.trials : 0}, {"seed", a.seed}, {"target_power", norm2},
            {"group", symmetry_group_name(spec.symmetry())}, {"prediction", routes.blocks ? "blocks" : "dense"},
            {"points", pts}};
  if (routes.blocks) j["irreps"] = irrep_table(c.blocks, ns, norm2), j["seconds_prediction"] = c.blocks.seconds;
  write_text(a.out + "/learning_curve.json", j.dump(1), "learning curve");
  std::vector<PlotSeries> series{th};
  if (routes.krr) series.insert(series.begin(), emp);
  write_text(a.out + "/learning_curve.svg",
             plot_svg({"Learning curve: target " + a.target, "training samples n", "test MSE", true, true, series}),
             "plot");
}

std::vector<int> parse_ints(const std::string& text, const std::string& what) {
  auto v = parse_positive_ints(text, what, 1e6);
  return {v.begin(), v.end()};
}

// Finite random transformers (the runtime) vs the tied-softmax NNGP kernel: bias against width, error against M.
void gp_mc_check(const GpArgs& a) {
  cli_runtime_init();
  check_vocab_length(a.vocab, a.length);
  auto widths = parse_ints(a.widths, "--widths");
  check(a.networks >= 4, "--networks must be >= 4", "e.g. --networks 64");
  auto gen = at::detail::createCPUGenerator(a.seed);
  auto x = at::randint(a.vocab, {4, a.length}, gen, torch::TensorOptions().dtype(torch::kInt64));
  FiniteWidthOptions o;
  o.vocab = a.vocab;
  o.heads = 8;
  o.sigma_p2 = 0.5;
  o.sigma_qk2 = 2.0;
  o.networks = a.networks;
  GramOptions g = gram_options(a);
  auto theory = kernel_gram(kernel_spec_parse(finite_width_spec(o)), x, x, g).k;
  std::printf("%8s %10s %14s %14s %10s\n", "width", "networks", "mean |bias|", "mean stderr", "seconds");
  json rows = json::array();
  PlotSeries bias{"|bias| (mean over entries)"}, err{"MC stderr"};
  std::vector<double> ws, bs;
  for (int w : widths) {
    o.width = o.d_head = w;
    o.seed = a.seed + w;
    progress("mc-check: width " + std::to_string(w));
    auto t0 = std::chrono::steady_clock::now();
    auto est = finite_width_kernel(x, o);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double b = (est.mean - theory).abs().mean().item<double>(), se = est.stderr_.mean().item<double>();
    std::printf("%8d %10d %14.4e %14.4e %10.2f\n", w, a.networks, b, se, secs);
    rows.push_back({{"width", w}, {"networks", a.networks}, {"bias", b}, {"stderr", se}});
    bias.x.push_back(w), bias.y.push_back(b), err.x.push_back(w), err.y.push_back(se);
    ws.push_back(w), bs.push_back(b);
  }
  // Statistical error against M at the largest width.
  json mrows = json::array();
  std::vector<double> ms, ses;
  for (int m : {a.networks / 4, a.networks, a.networks * 4}) {
    o.networks = m;
    o.seed = a.seed + 7 * m;
    double se = finite_width_kernel(x, o).stderr_.mean().item<double>();
    std::printf("networks M = %5d at width %d: mean stderr %.4e\n", m, o.width, se);
    mrows.push_back({{"networks", m}, {"stderr", se}});
    ms.push_back(m), ses.push_back(se);
  }
  double slope_bias = fit_log_slope(ws, bs), slope_m = fit_log_slope(ms, ses);
  std::printf("fitted: |bias| ~ width^%.3f   stderr ~ M^%.3f   (theory: -1 and -0.5)\n", slope_bias, slope_m);
  dir_create(a.out);
  json j = {{"spec", finite_width_spec(o)}, {"widths", rows}, {"networks", mrows}, {"slope_bias_vs_width", slope_bias},
            {"slope_stderr_vs_networks", slope_m}};
  write_text(a.out + "/mc_check.json", j.dump(1), "mc-check");
  write_text(a.out + "/mc_check.svg",
             plot_svg({"Finite width vs NNGP (tied softmax, 1/d)", "width = d_head = d_model", "kernel error", true, true,
                       {bias, err}}),
             "plot");
}

void gp_scaling(const GpArgs& a) {
  cli_runtime_init();
  auto spec = kernel_spec_parse(a.spec);
  auto lengths = parse_ints(a.lengths, "--lengths");
  auto r = context_scaling(spec, a.vocab, lengths, a.kmax, a.ridge, gram_options(a),
                           [](int L) { progress("scaling: L = " + std::to_string(L)); });
  std::printf("%6s %4s %14s %14s %14s\n", "L", "k", "eigenvalue", "ratio to (L)", "n_half");
  json rows = json::array();
  std::vector<PlotSeries> series;
  for (int k : r.ks) series.push_back(PlotSeries{"k = " + std::to_string(k)});
  for (const auto& row : r.rows) {
    std::printf("%6d %4d %14.6e %14.6e %14.2f\n", row.length, row.k, row.eigenvalue, row.ratio, row.n_half);
    rows.push_back({{"L", row.length}, {"k", row.k}, {"eigenvalue", row.eigenvalue}, {"ratio", row.ratio},
                    {"n_half", row.n_half}});
    series[row.k - 1].x.push_back(row.length);
    series[row.k - 1].y.push_back(row.ratio);
  }
  for (size_t i = 0; i < r.ks.size(); ++i)
    std::printf("k = %d: eigenvalue ratio ~ L^%.3f   n_half ~ L^%.3f\n", r.ks[i], r.exponent_ratio[i],
                r.exponent_n_half[i]);
  dir_create(a.out);
  json j = {{"spec", a.spec}, {"vocab", a.vocab}, {"group", symmetry_group_name(spec.symmetry())}, {"rows", rows},
            {"k", r.ks}, {"exponent_ratio", r.exponent_ratio},
            {"exponent_n_half", r.exponent_n_half}, {"ridge_relative", a.ridge}};
  write_text(a.out + "/scaling.json", j.dump(1), "scaling");
  write_text(a.out + "/scaling.svg",
             plot_svg({"Irrep (L-k,k) eigenvalue / trivial", "context length L", "eigenvalue ratio", true, true, series}),
             "plot");
}

json symmetry_json(const TextSymmetry& t) {
  return {{"windows", t.windows}, {"defect", t.defect}, {"defect_shuffled", t.defect_shuffled},
          {"top_eigenvalues", t.top_eigenvalues}, {"trivial_weights", t.trivial_weights},
          {"offdiag_by_distance", t.offdiag_by_distance}};
}

void gp_text_symmetry(const GpArgs& a) {
  cli_runtime_init();
  check(a.text_length >= 2 && a.text_length <= 256, "--L " + std::to_string(a.text_length) + " is out of range", "use 2 <= L <= 256");
  check(a.text_vocab >= 2 && a.text_vocab <= 4096, "--vocab " + std::to_string(a.text_vocab) + " is out of range", "use 2..4096");
  std::vector<std::pair<std::string, std::vector<int>>> sets;
  int64_t n_tokens = 200000;
  if (!a.corpus.empty()) {
    auto toks = text_tokenize(file_read_text(a.corpus), a.text_vocab);
    check(toks.size() >= (size_t)(2 * a.text_length), "corpus '" + a.corpus + "' has only " + std::to_string(toks.size()) +
                                                      " words", "use an English text file with at least 2 L words");
    if ((int64_t)toks.size() > a.max_tokens) toks.resize(a.max_tokens);
    n_tokens = toks.size();
    sets.push_back({"corpus", toks});
  }
  for (std::string kind : {"iid", "exchangeable", "markov"})
    sets.push_back({kind, synthetic_text(kind, n_tokens, a.text_vocab, a.text_length, a.seed)});
  std::printf("%-14s %9s %10s %14s %12s %12s\n", "text", "windows", "defect", "shuffled floor", "trivial w1",
              "C(d=1)/C(0)");
  json j = {{"L", a.text_length}, {"vocab", a.text_vocab}, {"corpus", a.corpus}};
  std::vector<PlotSeries> series;
  for (const auto& [name, toks] : sets) {
    progress("text-symmetry: " + name);
    auto t = text_symmetry(toks, a.text_vocab, a.text_length, a.seed);
    std::printf("%-14s %9ld %10.4f %14.4f %12.4f %12.4f\n", name.c_str(), (long)t.windows, t.defect, t.defect_shuffled,
                t.trivial_weights[0], t.offdiag_by_distance[0] / t.diag_mean);
    j[name] = symmetry_json(t);
    PlotSeries s{name};
    for (size_t d = 0; d < t.offdiag_by_distance.size(); ++d) s.x.push_back(d + 1), s.y.push_back(t.offdiag_by_distance[d]);
    series.push_back(s);
  }
  dir_create(a.out);
  write_text(a.out + "/text_symmetry.json", j.dump(1), "text symmetry");
  write_text(a.out + "/text_symmetry.svg",
             plot_svg({"Position covariance vs distance, L=" + std::to_string(a.text_length), "|mu - nu|", "mean C", false,
                       false, series}),
             "plot");
}

void add_common(CLI::App* sub, GpArgs& a) {
  sub->add_option("--spec", a.spec, "architecture, e.g. 'embed(pos=iid) | attn(tied) | relu | meanpool'")
      ->capture_default_str();
  sub->add_option("-V,--vocab", a.vocab, "vocabulary size V")->capture_default_str();
  sub->add_option("-L,--length", a.length, "sequence length L")->capture_default_str();
  sub->add_option("-o,--out", a.out, "output directory")->capture_default_str();
  sub->add_option("--seed", a.seed, "random seed")->capture_default_str();
  sub->add_option("--mc-replicas", a.mc_replicas, "Monte Carlo replicas (attn(sqrt) specs)")->capture_default_str();
}

}  // namespace

// Part of `attnlab demo`: an S_L spectrum table and a predicted-vs-empirical learning curve (a few seconds).
void demo_gp(const std::string& out) {
  std::cout << "\n== gp: the infinite-width kernel of an attention block, its S_L spectrum, a learning curve ==\n";
  GpArgs a;
  a.vocab = 2;
  a.length = 8;
  a.out = out + "/gp";
  gp_spectrum(a);
  a.length = 6;
  a.target = "pair";
  a.ns = "4,8,16,32";
  a.trials = 20;
  a.ridge = 1e-3;
  gp_learning_curve(a);
}

void cmd_gp_register(CLI::App& app) {
  auto* gp = app.add_subcommand("gp", "NNGP kernels of attention networks, S_L spectra, learning curves");
  gp->require_subcommand(1);
  static GpArgs a;
  auto* kernel = gp->add_subcommand("kernel", "the kernel matrix of random (or given) sequences");
  add_common(kernel, a);
  kernel->add_option("-n,--n", a.n, "number of random sequences")->capture_default_str();
  kernel->add_option("--inputs", a.inputs, "sequences: token ids separated by spaces, sequences by ';'");
  kernel->callback([] { gp_kernel(a); });
  auto* spectrum = gp->add_subcommand("spectrum", "eigenvalues per S_L (or S_{L-1}, last-token) irrep of the kernel on [V]^L");
  add_common(spectrum, a);
  spectrum->add_option("--probs", a.probs, "token probabilities p_1,...,p_V (default uniform)");
  spectrum->callback([] { gp_spectrum(a); });
  auto* lc = gp->add_subcommand("learning-curve", "kernel ridge regression vs the eigenlearning prediction");
  add_common(lc, a);
  lc->add_option("--probs", a.probs, "token probabilities p_1,...,p_V (default uniform)");
  lc->add_option("--target", a.target, "copy | pair | symmetric | FILE (V^L values, base-V order)")->capture_default_str();
  lc->add_option("--ns", a.ns, "training set sizes")->capture_default_str();
  lc->add_option("--trials", a.trials, "random training sets per size")->capture_default_str();
  lc->add_option("--ridge", a.ridge, "ridge, relative to E K(x,x)")->capture_default_str();
  lc->add_flag("--no-krr", a.no_krr, "predict from the irrep blocks only (no empirical KRR, no dense check; V^L > 8192 allowed)");
  lc->callback([] { gp_learning_curve(a); });
  auto* mc = gp->add_subcommand("mc-check", "finite random transformers vs the tied-softmax NNGP kernel");
  add_common(mc, a);
  mc->add_option("--widths", a.widths, "widths (d_model = d_head) to try")->capture_default_str();
  mc->add_option("--networks", a.networks, "random networks per width")->capture_default_str();
  mc->callback([] { gp_mc_check(a); });
  auto* sc = gp->add_subcommand("scaling", "irrep (L-k,k) eigenvalues and sample complexity against L");
  add_common(sc, a);
  sc->add_option("--lengths", a.lengths, "context lengths")->capture_default_str();
  sc->add_option("--kmax", a.kmax, "largest k (boxes below the first row)")->capture_default_str();
  sc->add_option("--ridge", a.ridge, "ridge, relative to E K(x,x)")->capture_default_str();
  sc->callback([] { gp_scaling(a); });
  auto* ts = gp->add_subcommand("text-symmetry", "permutation symmetry of text windows vs synthetic calibrations");
  ts->add_option("--corpus", a.corpus, "English text file (e.g. the KJV: bible -f Gen1:1-Rev22:21 > kjv.txt)");
  ts->add_option("--L", a.text_length, "window length")->capture_default_str();
  ts->add_option("--vocab", a.text_vocab, "word vocabulary (most frequent words + other)")->capture_default_str();
  ts->add_option("--max-tokens", a.max_tokens, "use at most this many words")->capture_default_str();
  ts->add_option("-o,--out", a.out, "output directory")->capture_default_str();
  ts->add_option("--seed", a.seed, "random seed")->capture_default_str();
  ts->callback([] { gp_text_symmetry(a); });

  cmd_gp_sectors_register(gp);
  cmd_gp_trained_register(gp);
}

}  // namespace attnlab
