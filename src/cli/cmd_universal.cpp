// `attnlab simulate-attention --n 8 --d 4 --dk 4 --heads 2 [--mode rasp|bilinear] [--seed S] [--trials T]
//  [-o DIR] [--view FILE.html]` and `attnlab simulate-attention --scan -o DIR` — the universal attention
// simulator U (src/constructions/universal.h, docs/universal.md): builds U for the shapes, draws random
// attention layers and inputs, prints U's error against attention computed directly and U's size; the scan
// prints U's size over a grid of shapes with fitted growth exponents (DIR/scan.json, DIR/scan.svg).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "cli/model_common.h"
#include "constructions/scan.h"
#include "constructions/universal.h"
#include "constructions/universal_compile.h"
#include "gp/plot.h"
#include "rasp/analyse.h"
#include "rasp/interp.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

struct SimArgs {
  AttentionShape s;
  std::string mode = "bilinear";
  uint64_t seed = 1;
  int64_t trials = 0;  // 0: the mode's default (10; grid: 10 000)
  std::string grid = "-1,-0.5,0,0.5,1";
  std::string out, view;
  bool scan = false;
  std::string scan_values = "1,2,4,8";
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string shape_text(const AttentionShape& s) {
  return "n " + std::to_string(s.n) + ", d " + std::to_string(s.d) + ", dk " + std::to_string(s.dk) + ", heads " +
         std::to_string(s.h);
}

std::string list_text(const std::vector<int64_t>& v) {
  std::string t = "[";
  for (size_t i = 0; i < v.size(); ++i) t += (i ? ", " : "") + std::to_string(v[i]);
  return t + "]";
}

void layout_print(const AttentionShape& s) {
  UniversalLayout l = universal_layout(s);
  auto range = [](int64_t a, int64_t b) { return std::to_string(a) + ".." + std::to_string(b - 1); };
  int64_t w = s.d * s.h * s.dk;
  std::printf("input: %lld positions: W_Q %s, W_K %s, W_V %s", static_cast<long long>(l.length),
              range(l.wq, l.wq + w).c_str(), range(l.wk, l.wk + w).c_str(), range(l.wv, l.wv + w).c_str());
  if (s.h > 1) std::printf(", W_O %s", range(l.wo, l.wo + w).c_str());
  std::printf(", X %s", range(l.x, l.x + s.n * s.d).c_str());
  if (l.length > l.inputs) std::printf(", zeros %s", range(l.inputs, l.length).c_str());
  std::printf(" (row-major)\n");
}

void size_print(const RealCompiled& c, const AttentionShape& s) {
  const ModelConfig& m = c.config;
  std::printf("U (compiled, %s): %d layers, heads per layer %s (%lld gathers + %lld softmax), d_model %d, "
              "d_head %d, d_mlp %d (units per layer %s), %lld parameters; the simulated layer has %lld\n",
              m.act_fn == MlpKind::Relu ? "ReLU" : "bilinear", m.n_layers, list_text(c.heads_per_layer).c_str(),
              static_cast<long long>(c.gathers),
              static_cast<long long>(c.soft_heads), m.d_model, m.d_head, m.d_mlp,
              list_text(c.units_per_layer).c_str(), static_cast<long long>(c.parameters),
              static_cast<long long>(attention_param_count(s)));
}

struct ErrorStats {
  double max_abs = 0, sum_abs = 0, max_rel = 0;
  int64_t count = 0;
  void add(const std::vector<double>& got, const std::vector<double>& want) {
    double worst = 0, scale = 0;
    for (size_t p = 0; p < want.size(); ++p) {
      double e = std::fabs(got[p] - want[p]);
      worst = std::max(worst, e);
      scale = std::max(scale, std::fabs(want[p]));
      sum_abs += e;
      ++count;
    }
    max_abs = std::max(max_abs, worst);
    max_rel = std::max(max_rel, worst / std::max(1.0, scale));
  }
};

std::vector<double> grid_parse(const std::string& text) {
  std::vector<double> g;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    char* stop = nullptr;
    double v = std::strtod(item.c_str(), &stop);
    check(!item.empty() && stop && *stop == '\0' && std::isfinite(v), "--grid: '" + item + "' is not a number",
          "write the grid as comma-separated numbers, e.g. --grid=-1,-0.5,0,0.5,1");
    for (double x : g) check(x != v, "--grid: " + item + " appears twice", "list each grid value once");
    g.push_back(v);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return g;
}

// Grid mode: every combination of grid values when there are at most 10^5, else `trials` random ones.
struct GridInputs {
  bool exhaustive = false;
  int64_t count = 0;
};

GridInputs grid_inputs_plan(const AttentionShape& s, size_t grid_size, int64_t trials) {
  const int64_t entries = attention_param_count(s) + s.n * s.d;
  double total = std::pow(static_cast<double>(grid_size), static_cast<double>(entries));
  if (total <= 1e5) return {true, static_cast<int64_t>(std::llround(total))};
  return {false, trials};
}

// The index-th combination of grid values (base-|G| digits over W_Q, W_K, W_V, W_O, X in layout order).
std::pair<AttentionWeights, std::vector<double>> grid_combination(const AttentionShape& s, const std::vector<double>& g,
                                                                int64_t index) {
  const int64_t w = s.d * s.h * s.dk;
  std::vector<double> flat(static_cast<size_t>(attention_param_count(s) + s.n * s.d));
  for (double& v : flat) {
    v = g[static_cast<size_t>(index % static_cast<int64_t>(g.size()))];
    index /= static_cast<int64_t>(g.size());
  }
  AttentionWeights W;
  auto take = [&](int64_t off, int64_t size) {
    return std::vector<double>(flat.begin() + off, flat.begin() + off + size);
  };
  W.W_Q = take(0, w);
  W.W_K = take(w, w);
  W.W_V = take(2 * w, w);
  if (s.h > 1) W.W_O = take(3 * w, w);
  return {W, take(attention_param_count(s), s.n * s.d)};
}

void simulate(const SimArgs& a) {
  attention_shape_validate(a.s);
  check(a.trials >= 0, "--trials must be >= 1 (got " + std::to_string(a.trials) + ")",
        "e.g. --trials 10 (0 = the mode's default)");
  check(a.mode == "rasp" || a.mode == "bilinear" || a.mode == "grid",
        "--mode must be rasp, bilinear or grid (got '" + a.mode + "')",
        "rasp: U run by the interpreter; bilinear: U compiled with bilinear feed-forward layers; grid: U compiled "
        "with ReLU feed-forward layers, exact on a grid of input values");
  const bool grid_mode = a.mode == "grid";
  const std::vector<double> grid = grid_parse(a.grid);
  const int64_t trials = a.trials > 0 ? a.trials : grid_mode ? 10000 : 10;
  std::printf("universal attention simulator U for %s, mode %s\n", shape_text(a.s).c_str(), a.mode.c_str());
  layout_print(a.s);
  auto t0 = std::chrono::steady_clock::now();
  rasp::Interpreter in;
  const rasp::Node* u = nullptr;
  RealCompiled compiled;
  if (a.mode == "rasp") {
    in.run_source(universal_rasp_source(a.s), "U.rasp");
    u = rasp::interp_sop_pick(in, "U", "U.rasp");
    rasp::Analysis an = rasp::analyse(u);
    std::printf("U (RASP, lib/matrix.rasp attention): %zu nodes; analyser: %d layers, at most %d heads per layer\n",
                an.nodes.size(), an.layers, an.max_heads());
  }
  bool need_model = a.mode != "rasp" || !a.out.empty() || !a.view.empty();
  if (need_model) {
    compiled = grid_mode ? universal_compile_grid(a.s, grid) : universal_compile_bilinear(a.s);
    size_print(compiled, a.s);
  }
  std::printf("built in %.2f s\n", seconds_since(t0));
  TaskRng rng(a.seed);
  ErrorStats err;
  std::vector<double> example;
  t0 = std::chrono::steady_clock::now();
  GridInputs plan = grid_mode ? grid_inputs_plan(a.s, grid.size(), trials) : GridInputs{false, trials};
  constexpr int64_t kBatch = 256;
  for (int64_t start = 0; start < plan.count; start += kBatch) {
    std::vector<std::vector<double>> inputs, want;
    for (int64_t t = start; t < std::min(plan.count, start + kBatch); ++t) {
      const std::vector<double> draw_grid = grid_mode ? grid : std::vector<double>{};
      auto [w, X] = plan.exhaustive ? grid_combination(a.s, grid, t)
                                    : std::pair{attention_random_layer(a.s, rng, draw_grid), std::vector<double>{}};
      if (!plan.exhaustive) X = attention_random_input(a.s, rng, draw_grid);
      inputs.push_back(universal_input(a.s, w, X));
      want.push_back(attention_direct(a.s, w, X));
    }
    if (start == 0) example = inputs[0];
    if (a.mode == "rasp") {
      for (size_t i = 0; i < inputs.size(); ++i) err.add(universal_eval(u, a.s, inputs[i]), want[i]);
    } else {
      std::vector<std::vector<double>> got = universal_model_run_batch(compiled.model, a.s, inputs);
      for (size_t i = 0; i < inputs.size(); ++i) err.add(got[i], want[i]);
    }
  }
  double budget = a.mode == "rasp" ? 1e-12 : grid_mode ? 1e-11 : 1e-9;
  std::string what = grid_mode ? (plan.exhaustive ? "every grid input" : "random grid inputs") +
                                     std::string(" (grid {") + a.grid + "})"
                               : "trials (seed " + std::to_string(a.seed) + ", weights N(0, 1/fan-in), X N(0, 1))";
  std::printf("%lld %s: max abs error %.3g, mean abs error %.3g, max error / max(1, max|output|) %.3g (budget %.0e), "
              "%.2f s\n",
              static_cast<long long>(plan.count), what.c_str(), err.max_abs,
              err.sum_abs / static_cast<double>(err.count), err.max_rel, budget, seconds_since(t0));
  if (!a.out.empty()) {
    model_save(a.out, compiled.model);
    file_write_atomic(a.out + "/program.rasp", grid_mode ? universal_grid_source(a.s) : universal_rows_source(a.s));
    std::printf("saved U: %s/ (config.json, model.safetensors, program.rasp); run it with attnlab model run %s "
                "--numbers \"v;v;...\" (one value per position)\n", a.out.c_str(), a.out.c_str());
  }
  if (!a.view.empty()) {
    CliInput ci;
    ci.input.numbers = torch::tensor(example, torch::kFloat64).view({1, static_cast<int64_t>(example.size()), 1});
    for (size_t p = 0; p < example.size(); ++p) ci.tokens.push_back(std::to_string(p));
    attention_view_write(a.view, attention_view_build(compiled.model, ci, "U's heads — " + shape_text(a.s)));
    std::printf("wrote %s (attention of U's heads on trial 0)\n", a.view.c_str());
  }
  double rel = a.mode == "rasp" ? err.max_rel : err.max_abs;
  check(rel <= budget, "U's error " + std::to_string(rel) + " is above the budget", 
        "this is a bug in the simulator; please report the command line");
}

// ---- the cost scan: one axis at a time around the base shape ----

void scan(const SimArgs& a) {
  check(!a.out.empty(), "--scan needs -o DIR for scan.json and scan.svg", "add -o scan_out");
  std::vector<int64_t> values = scan_range_parse(a.scan_values);
  nlohmann::json rows = nlohmann::json::array(), fits = nlohmann::json::object();
  gp::PlotSpec plot{"U's parameters against each shape (others at the base " + shape_text(a.s) + ")",
                "shape value", "parameters", true, true, {}};
  std::printf("%-5s %5s %4s %4s %5s | %6s %7s %8s %7s %6s %12s | %10s\n", "axis", "n", "d", "dk", "heads", "layers",
              "heads", "d_model", "d_mlp", "L", "params(U)", "params(att)");
  for (const char* axis : {"n", "d", "dk", "heads"}) {
    gp::PlotSeries series{std::string(axis), {}, {}, {}};
    std::vector<double> lx, lp, ld;
    for (int64_t v : values) {
      AttentionShape s = a.s;
      (std::string(axis) == "n" ? s.n : std::string(axis) == "d" ? s.d : std::string(axis) == "dk" ? s.dk : s.h) = v;
      attention_shape_validate(s);
      RealCompiled c = universal_compile_bilinear(s, true);
      int64_t total_heads = 0;
      for (int64_t h : c.heads_per_layer) total_heads += h;
      int64_t L = universal_layout(s).length;
      std::printf("%-5s %5lld %4lld %4lld %5lld | %6d %7lld %8d %7d %6lld %12lld | %10lld\n", axis,
                  static_cast<long long>(s.n), static_cast<long long>(s.d), static_cast<long long>(s.dk),
                  static_cast<long long>(s.h), c.config.n_layers, static_cast<long long>(total_heads),
                  c.config.d_model, c.config.d_mlp, static_cast<long long>(L), static_cast<long long>(c.parameters),
                  static_cast<long long>(attention_param_count(s)));
      std::fflush(stdout);
      rows.push_back({{"axis", axis}, {"n", s.n}, {"d", s.d}, {"dk", s.dk}, {"heads", s.h},
                      {"layers", c.config.n_layers}, {"heads_total", total_heads},
                      {"heads_per_layer", c.heads_per_layer}, {"d_model", c.config.d_model},
                      {"d_head", c.config.d_head}, {"d_mlp", c.config.d_mlp}, {"parameters", c.parameters},
                      {"input_length", L}, {"simulated_parameters", attention_param_count(s)}});
      series.x.push_back(static_cast<double>(v));
      series.y.push_back(static_cast<double>(c.parameters));
      lx.push_back(std::log(static_cast<double>(v)));
      lp.push_back(std::log(static_cast<double>(c.parameters)));
      ld.push_back(std::log(static_cast<double>(c.config.d_model)));
    }
    plot.series.push_back(series);
    if (values.size() >= 2) {
      LinearFit fp = linear_fit(lx, lp), fd = linear_fit(lx, ld);
      fits[axis] = {{"params_exponent", fp.slope}, {"params_r2", fp.r2}, {"d_model_exponent", fd.slope},
                    {"d_model_r2", fd.r2}};
      std::printf("  fit over %s: params ~ %s^%.2f (R^2 %.3f), d_model ~ %s^%.2f (R^2 %.3f)\n", axis, axis, fp.slope,
                  fp.r2, axis, fd.slope, fd.r2);
    }
  }
  dir_create(a.out);
  file_write_atomic(a.out + "/scan.json", nlohmann::json{{"base", {{"n", a.s.n}, {"d", a.s.d}, {"dk", a.s.dk},
                                                                   {"heads", a.s.h}}},
                                                          {"values", values}, {"rows", rows}, {"fits", fits}}
                                                  .dump(2) + "\n");
  file_write_atomic(a.out + "/scan.svg", gp::plot_svg(plot));
  std::printf("wrote %s/scan.json and %s/scan.svg\n", a.out.c_str(), a.out.c_str());
}

}  // namespace

// `make demo`'s part: U for a two-head layer, compiled (bilinear) and checked on 3 random layers, saved.
void demo_universal(const std::string& out) {
  std::cout << "\n== the universal attention simulator U (docs/universal.md) ==\n";
  SimArgs a;
  a.s = {4, 3, 2, 2};
  a.trials = 3;
  a.out = out + "/universal";
  simulate(a);
}

void cmd_universal_register(CLI::App& app) {
  static SimArgs a;
  auto* c = app.add_subcommand("simulate-attention",
                               "the universal attention simulator U: error against direct attention, size, cost scan");
  c->add_option("--n", a.s.n, "tokens n (rows of X)")->capture_default_str();
  c->add_option("--d", a.s.d, "model width d")->capture_default_str();
  c->add_option("--dk", a.s.dk, "query/key/value width per head")->capture_default_str();
  c->add_option("--heads", a.s.h, "heads h (W_O is part of the input when h > 1)")->capture_default_str();
  c->add_option("--mode", a.mode,
                 "rasp (U run by the interpreter) | bilinear (U compiled, bilinear FFN + softmax) | grid (U compiled "
                 "with ReLU FFN only, exact on --grid)")
      ->capture_default_str();
  c->add_option("--grid", a.grid, "grid mode: the values every weight and input entry takes")->capture_default_str();
  c->add_option("--seed", a.seed, "seed of the random attention layers and inputs")->capture_default_str();
  c->add_option("--trials", a.trials, "random layers and inputs to check (0: 10, grid mode 10 000; grid mode checks "
                                      "every input instead when there are at most 100 000)")->capture_default_str();
  c->add_option("-o,--out", a.out, "save U (compiled) as a model directory; with --scan: the scan's folder");
  c->add_option("--view", a.view, "write the attention patterns of U's heads on trial 0 (HTML)");
  c->add_flag("--scan", a.scan, "print U's size over shapes (each of n, d, dk, heads over --scan-values)");
  c->add_option("--scan-values", a.scan_values, "values of each axis in the scan (list or range)")
      ->capture_default_str();
  c->callback([] { a.scan ? scan(a) : simulate(a); });
}

}  // namespace attnlab
