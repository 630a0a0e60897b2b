// The log-depth retrieval transformer: residual layout, the layer-0 gather head, the backward/forward lookup
// heads, and verification against the task generator; then the k-hop induction transformer built from the
// same parts (previous-token head, pointer reads by POS/POS2). The math and the margin arguments: retrieval.h.
// (A little over 400 lines: both constructions share Layout-style helpers and ParamMap, so they stay together.)
#include "constructions/retrieval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "constructions/construct_common.h"
#include "util/error.h"

namespace attnlab {

namespace {

// Residual dims (R = 5 + W + K·(2 + n + ends)): fixed scalars, then one-hot slots of width K or W.
struct Layout {
  int64_t K = 0, W = 0, n = 0;
  bool tripling = true;
  bool fused = false;  // fused encoding: no gather layer, lookup layer l + 1 is block l, a sink token first
  int64_t block(int64_t l) const { return fused ? l : l + 1; }  // block of lookup layer l + 1
  static constexpr int64_t ONE = 0, POS = 1, POS2 = 2, IS_LHS = 3, IS_SINK = 4;
  int64_t tok() const { return 5; }
  int64_t val() const { return 5 + K; }
  int64_t name() const { return 5 + K + W; }
  // START_l: l = 0 is TOK; l = 1..n follow NAME.
  int64_t start(int64_t l) const { return l == 0 ? tok() : name() + l * K; }
  // END_l: l = 0 is NAME (and always NAME for doubling); l = 1..n-1 follow the START slots.
  int64_t end(int64_t l) const { return (l == 0 || !tripling) ? name() : name() + (n + l) * K; }
  int64_t width() const { return 5 + W + K * (2 + n + (tripling ? n - 1 : 0)); }
};

const char* const kSink = "<sink>";  // the fused construction's first token (its BOS): the read of resolved rows

int64_t pow_int(int64_t base, int64_t e) {
  int64_t r = 1;
  for (int64_t i = 0; i < e; ++i) r *= base;
  return r;
}

void options_check(const RetrievalBuildOptions& opt) {
  retrieval_validate(opt.spec);
  std::vector<std::string> p;
  if (opt.scheme != "tripling" && opt.scheme != "doubling")
    p.push_back("scheme '" + opt.scheme + "' (must be tripling or doubling)");
  if (opt.lookup_layers < 0 || opt.lookup_layers > 24)
    p.push_back("lookup layers " + std::to_string(opt.lookup_layers) + " (must be 0..24; 0 = the fewest for D)");
  const int64_t T = retrieval_seq_len(opt.spec);
  if (T > 65536) p.push_back("n_ctx " + std::to_string(T) + " (must be <= 65536)");
  if (p.empty()) return;
  std::string msg = "retrieval construction options are invalid:";
  for (const auto& x : p) msg += "\n  - " + x;
  throw Error(msg, "use --scheme tripling|doubling, --lookup-layers 0..24, and fewer statements");
}

ModelConfig build_config(const RetrievalBuildOptions& opt, const Layout& lay) {
  const RetrievalSpec& s = opt.spec;
  ModelConfig cfg;
  cfg.n_layers = static_cast<int>(lay.block(lay.n - 1) + 1);
  cfg.d_model = static_cast<int>(lay.width());
  cfg.n_heads = lay.tripling ? 2 : 1;
  cfg.d_head = static_cast<int>(std::max(2 * lay.K + 2, lay.K + lay.W));
  cfg.vocab = retrieval_vocab(s);
  if (lay.fused) cfg.vocab.push_back(kSink), cfg.bos = kSink;  // the sink is the first position
  cfg.d_vocab = static_cast<int>(cfg.vocab.size());
  cfg.d_vocab_out = static_cast<int>(lay.W);
  cfg.n_ctx = static_cast<int>(retrieval_seq_len(s) + (lay.fused ? 1 : 0));
  cfg.attn_only = true;
  cfg.causal = false;
  cfg.attn_scale = 1.0;  // the scale β is in W_Q
  cfg.vocab_out = retrieval_vocab_out(s);
  cfg.producer = "attnlab construct retrieval";
  RetrievalSpec pairs = s;
  pairs.fused = false;
  const auto names = retrieval_vocab(pairs);  // values, then the variables' names
  auto add = [&](const std::string& slot, int64_t from, int64_t count) {
    for (int64_t i = 0; i < count; ++i) cfg.residual_labels.push_back(slot + ":" + names[from + i]);
  };
  for (const char* f : {"one:1", "pos:t", "pos2:t^2", "is_lhs:1", "is_sink:1"}) cfg.residual_labels.push_back(f);
  add("tok", lay.W, lay.K);
  add("val", 0, lay.W);
  add("name", lay.W, lay.K);
  for (int64_t l = 1; l <= lay.n; ++l) add("start" + std::to_string(l), lay.W, lay.K);
  for (int64_t l = 1; lay.tripling && l < lay.n; ++l) add("end" + std::to_string(l), lay.W, lay.K);
  return cfg;
}

using ParamMap = torch::OrderedDict<std::string, torch::Tensor>;

void set_embeddings(ParamMap& p, const Layout& lay, int64_t n_ctx) {
  auto W_E = p["embed.W_E"], W_pos = p["pos_embed.W_pos"];
  if (lay.fused) {  // "a=rho": NAME a and TOK rho (a variable) or VAL rho (a value); "?x": TOK x; the sink
    const int64_t W = lay.W, K = lay.K, Q0 = W + K * (W + K);
    for (int64_t a = 0; a < K; ++a)
      for (int64_t rho = 0; rho < W + K; ++rho) {
        auto e = W_E[W + a * (W + K) + rho];
        e[lay.name() + a] = 1.0;
        e[rho < W ? lay.val() + rho : lay.tok() + rho - W] = 1.0;
      }
    for (int64_t x = 0; x < K; ++x) W_E[Q0 + x][lay.tok() + x] = 1.0;
    W_E[Q0 + K][Layout::IS_SINK] = 1.0;
    for (int64_t t = 0; t < n_ctx; ++t) W_pos[t][Layout::ONE] = 1.0;
    for (int64_t c = 0; c < lay.W; ++c) p["unembed.W_U"][lay.val() + c][c] = 1.0;
    return;
  }
  for (int64_t c = 0; c < lay.W; ++c) W_E[c][lay.val() + c] = 1.0;        // value token -> VAL
  for (int64_t a = 0; a < lay.K; ++a) W_E[lay.W + a][lay.tok() + a] = 1.0;  // variable token -> TOK
  W_E[lay.W + lay.K][Layout::IS_SINK] = 1.0;                              // "?": the sink, at an even position
  W_E[lay.W + lay.K][Layout::IS_LHS] = -1.0;
  const double centre = (static_cast<double>(n_ctx) - 1.0) / 2.0;
  for (int64_t t = 0; t < n_ctx; ++t) {
    const double pos = static_cast<double>(t) - centre;
    W_pos[t][Layout::ONE] = 1.0;
    W_pos[t][Layout::POS] = pos;
    W_pos[t][Layout::POS2] = pos * pos;
    W_pos[t][Layout::IS_LHS] = t % 2 == 0 ? 1.0 : 0.0;
  }
  for (int64_t c = 0; c < lay.W; ++c) p["unembed.W_U"][lay.val() + c][c] = 1.0;  // logit_c = VAL_c
}

// Layer 0, head 0: score β(2 POS_{t-1} POS_s - POS_s^2) + 3β·[both "?"]; reads TOK of t - 1 into NAME.
void set_gather_layer(ParamMap& p, const Layout& lay, double beta) {
  auto WQ = p["blocks.0.attn.W_Q"][0], WK = p["blocks.0.attn.W_K"][0];
  WQ[Layout::POS][0] = 2 * beta, WQ[Layout::ONE][0] = -2 * beta, WQ[Layout::ONE][1] = beta;
  WQ[Layout::IS_SINK][2] = 3 * beta;
  WK[Layout::POS][0] = 1.0, WK[Layout::POS2][1] = -1.0, WK[Layout::IS_SINK][2] = 1.0;
  for (int64_t a = 0; a < lay.K; ++a) {
    p["blocks.0.attn.W_V"][0][lay.tok() + a][a] = 1.0;
    p["blocks.0.attn.W_O"][0][a][lay.name() + a] = 1.0;
  }
}

// Lookup layer l + 1 (block l + 1): the backward head 0 and, unless last, the forward head 1 (retrieval.h).
void set_lookup_layer(ParamMap& p, const Layout& lay, int64_t l, double beta) {
  const std::string b = "blocks." + std::to_string(lay.block(l)) + ".attn.";
  const int64_t K = lay.K, S = lay.start(l), E = lay.end(l), N = lay.name();
  auto WQ = p[b + "W_Q"][0], WK = p[b + "W_K"][0], WV = p[b + "W_V"][0], WO = p[b + "W_O"][0];
  for (int64_t a = 0; a < K; ++a) {
    WQ[S + a][a] = 4 * beta, WQ[S + a][K + a] = 2 * beta;  // q = START_l (twice)
    WK[E + a][a] += 1.0, WK[N + a][K + a] = 1.0;           // key = 4 END_l + 2 NAME (END_l = NAME: both)
    WV[S + a][a] = 1.0, WO[a][lay.start(l + 1) + a] = 1.0; // START_l -> START_{l+1}
  }
  for (int64_t c = 0; c < lay.W; ++c) WV[lay.val() + c][K + c] = 1.0, WO[K + c][lay.val() + c] = 1.0;  // VAL +=
  WQ[Layout::ONE][2 * K] = beta, WK[Layout::IS_SINK][2 * K] = 1.0;          // the sink scores β
  WQ[Layout::ONE][2 * K + 1] = 1.0, WK[Layout::IS_LHS][2 * K + 1] = -6 * beta;  // lhs keys score <= 0
  if (!lay.tripling || l + 1 == lay.n) return;
  auto FQ = p[b + "W_Q"][1], FK = p[b + "W_K"][1], FV = p[b + "W_V"][1], FO = p[b + "W_O"][1];
  for (int64_t a = 0; a < K; ++a) {
    FQ[E + a][a] = 4 * beta, FK[S + a][a] = 1.0;            // q = END_l, key = 4 START_l
    FV[E + a][a] = 1.0, FO[a][lay.end(l + 1) + a] = 1.0;    // END_l -> END_{l+1}
  }
  FQ[Layout::ONE][K] = beta, FK[Layout::IS_SINK][K] = 1.0;
  FQ[Layout::ONE][K + 1] = 1.0, FK[Layout::IS_LHS][K + 1] = -4 * beta;
}

}  // namespace

int64_t retrieval_lookup_layers(int64_t depth, const std::string& scheme) {
  check(depth >= 1, "retrieval: depth " + std::to_string(depth) + " (must be >= 1)", "pass --D 1 or more");
  int64_t n = 0;
  if (scheme == "doubling") {
    while (pow_int(2, n) < depth + 1) ++n;
  } else {
    check(scheme == "tripling", "retrieval: unknown scheme '" + scheme + "'", "use tripling or doubling");
    while (pow_int(3, n) < 2 * depth + 1) ++n;
  }
  return n;
}

int64_t retrieval_layer_lower_bound(int64_t depth) {
  check(depth >= 1, "retrieval: depth " + std::to_string(depth) + " (must be >= 1)", "pass --D 1 or more");
  int64_t t = 0;
  while (pow_int(3, t) < 2 * depth) ++t;
  return t;
}

int64_t retrieval_capacity(int64_t lookup_layers, const std::string& scheme) {
  if (scheme == "doubling") return pow_int(2, lookup_layers) - 1;
  return (pow_int(3, lookup_layers) + 1) / 2 - 1;
}

nlohmann::json RetrievalBuild::report() const {
  const auto& c = model->config();
  const auto& pv = c.provenance;
  return {{"construction", "retrieval"}, {"scheme", scheme}, {"D", pv.value("D", 0)},
          {"layers", c.n_layers}, {"lookup_layers", lookup_layers},
          {"lower_bound_layers", pv.value("lower_bound_layers", 0)}, {"capacity_D", capacity},
          {"heads_per_layer", c.n_heads}, {"d_model", c.d_model}, {"d_head", c.d_head}, {"n_ctx", c.n_ctx},
          {"beta", beta}, {"parameters", model_parameter_count(model)}};
}

RetrievalBuild retrieval_build(const RetrievalBuildOptions& opt) {
  options_check(opt);
  const RetrievalSpec& s = opt.spec;
  Layout lay;
  lay.K = s.variables, lay.W = s.values, lay.tripling = opt.scheme == "tripling", lay.fused = s.fused;
  lay.n = opt.lookup_layers > 0 ? opt.lookup_layers : retrieval_lookup_layers(s.depth, opt.scheme);
  RetrievalBuild b;
  b.scheme = opt.scheme;
  b.lookup_layers = lay.n;
  b.capacity = retrieval_capacity(lay.n, opt.scheme);
  ModelConfig cfg = build_config(opt, lay);
  const double L = static_cast<double>(cfg.n_layers);
  b.beta = 1.01 * (std::log(static_cast<double>(cfg.n_ctx)) + std::log(L) + L * std::log(2.0) + std::log(1000.0));
  cfg.provenance = {{"construction", "retrieval"}, {"paper", "Musat 2024, arXiv 2411.12118 (log3(2D) bound)"},
                    {"scheme", opt.scheme}, {"D", s.depth}, {"variables", s.variables}, {"values", s.values},
                    {"distractor_chains", s.distractor_chains}, {"distractor_len", s.distractor_len},
                    {"distractor_assign", s.distractor_assign}, {"lookup_layers", lay.n},
                    {"encoding", s.fused ? "fused" : "pairs"},
                    {"lower_bound_layers", retrieval_layer_lower_bound(s.depth)}, {"beta", b.beta}};
  b.model = model_create(cfg, torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto p = b.model->named_parameters();
  set_embeddings(p, lay, cfg.n_ctx);
  if (!lay.fused) set_gather_layer(p, lay, b.beta);
  for (int64_t l = 0; l < lay.n; ++l) set_lookup_layer(p, lay, l, b.beta);
  b.model->config_mut().provenance["report"] = b.report();
  return b;
}

namespace {

// T counts the sink (the BOS of a fused construction, id `sink`; -1 for none).
VerifyResult verify_dtype(const SequenceModel& model, const std::vector<RetrievalInstance>& inst, int64_t T,
                          int64_t sink) {
  VerifyResult r;
  auto t0 = std::chrono::steady_clock::now();
  r.dtype = model->parameters()[0].scalar_type() == torch::kFloat32 ? "f32" : "f64";
  r.mode = std::to_string(inst.size()) + " random instances";
  torch::NoGradGuard no_grad;
  const size_t batch = 32;
  for (size_t b0 = 0; b0 < inst.size(); b0 += batch) {
    const size_t b1 = std::min(inst.size(), b0 + batch);
    std::vector<int64_t> flat, answers;
    for (size_t i = b0; i < b1; ++i) {
      if (sink >= 0) flat.push_back(sink);
      flat.insert(flat.end(), inst[i].tokens.begin(), inst[i].tokens.end());
      answers.push_back(inst[i].answer);
    }
    auto tokens = torch::tensor(flat, torch::kInt64).view({static_cast<int64_t>(b1 - b0), T});
    auto logits = model->forward({tokens, {}}).select(1, T - 1).to(torch::kFloat64);  // [B, W]
    auto target = torch::tensor(answers, torch::kInt64).unsqueeze(1);
    auto right = logits.gather(1, target).squeeze(1);
    auto others = logits.scatter(1, target, -INFINITY).amax(1);
    r.tally(right - others);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

std::vector<VerifyResult> retrieval_verify(const RetrievalBuild& b, const RetrievalSpec& spec, int64_t count,
                                           uint64_t seed) {
  const auto& c = b.model->config();
  check(count >= 1, "retrieval verify: " + std::to_string(count) + " instances (must be >= 1)",
        "pass --verify 1 or more");
  const int64_t sink = c.bos.empty() ? -1 : c.d_vocab - 1, T = retrieval_seq_len(spec) + (sink >= 0 ? 1 : 0);
  check(spec.fused == (sink >= 0) &&
            static_cast<int64_t>(retrieval_vocab(spec).size()) + (sink >= 0 ? 1 : 0) == c.d_vocab &&
            spec.values == c.d_vocab_out && T <= c.n_ctx,
        "retrieval verify: the instances (" + std::string(spec.fused ? "fused" : "pairs") + " encoding, K = " +
            std::to_string(spec.variables) + ", W = " +
            std::to_string(spec.values) + ", T = " + std::to_string(T) + ") do not fit the model (d_vocab = " +
            std::to_string(c.d_vocab) + ", d_vocab_out = " + std::to_string(c.d_vocab_out) + ", n_ctx = " +
            std::to_string(c.n_ctx) + ")", "verify with the spec the model was built for (same K and W, T <= n_ctx)");
  TaskRng rng(seed);
  std::vector<RetrievalInstance> inst;
  for (int64_t i = 0; i < count; ++i) inst.push_back(retrieval_instance(spec, rng));
  return {verify_dtype(model_copy_as(b.model, torch::kFloat32), inst, T, sink), verify_dtype(b.model, inst, T, sink)};
}

// ---- k-hop induction ---------------------------------------------------------------------------------------

namespace {

// Hop counts computed by each lookup layer, bottom-up: halve (ceil, floor) from {k} until only 0 and 1 remain;
// each layer's largest value is new, so no layer empties when repeats are dropped.
std::vector<std::vector<int64_t>> khop_plan(int64_t k) {
  std::vector<std::vector<int64_t>> need;
  for (std::set<int64_t> cur = {k}; *cur.rbegin() > 1;) {
    std::vector<int64_t> layer;
    std::set<int64_t> next;
    for (int64_t v : cur) {
      if (v > 1) layer.push_back(v), next.insert((v + 1) / 2), next.insert(v / 2);
      else next.insert(v);
    }
    need.push_back(layer);
    cur = next;
  }
  std::reverse(need.begin(), need.end());
  std::set<int64_t> done;  // a value a lower layer already computed stays in the residual
  for (auto& layer : need) {
    std::erase_if(layer, [&](int64_t v) { return done.count(v) > 0; });
    done.insert(layer.begin(), layer.end());
  }
  return need;
}

struct KhopLayout {
  int64_t A = 0;
  std::map<int64_t, int64_t> slot;  // hop count v >= 1 -> first dim of [PTR_v (1), SYM_v (A)]
  static constexpr int64_t ONE = 0, POS = 1, POS2 = 2;
  int64_t tok() const { return 3; }
  int64_t prev() const { return 3 + A; }
  int64_t ptr(int64_t v) const { return v == 0 ? POS : slot.at(v); }
  int64_t sym(int64_t v) const { return v == 0 ? tok() : slot.at(v) + 1; }
  int64_t width() const { return 3 + 2 * A + (A + 1) * static_cast<int64_t>(slot.size()); }
};

// Head `h` of block `layer` reads, at the position whose POS is PTR_a, the slots PTR_b, SYM_b into PTR_v, SYM_v.
void set_pointer_head(ParamMap& p, const KhopLayout& lay, int layer, int h, int64_t a, int64_t b, int64_t v, double beta) {
  const std::string n = "blocks." + std::to_string(layer) + ".attn.";
  auto WQ = p[n + "W_Q"][h], WK = p[n + "W_K"][h], WV = p[n + "W_V"][h], WO = p[n + "W_O"][h];
  WQ[lay.ptr(a)][0] = 2 * beta, WQ[KhopLayout::ONE][1] = beta;  // score β(2 PTR_a POS_s - POS_s^2)
  WK[KhopLayout::POS][0] = 1.0, WK[KhopLayout::POS2][1] = -1.0;
  WV[lay.ptr(b)][0] = 1.0, WO[0][lay.ptr(v)] = 1.0;
  for (int64_t s = 0; s < lay.A; ++s) WV[lay.sym(b) + s][1 + s] = 1.0, WO[1 + s][lay.sym(v) + s] = 1.0;
}

}  // namespace

int64_t khop_construction_layers(int64_t k) {
  check(k >= 1, "k-hop: k = " + std::to_string(k) + " (must be >= 1)", "pass --k 1 or more");
  return 2 + static_cast<int64_t>(khop_plan(k).size());
}

nlohmann::json KhopBuild::report() const {
  const auto& c = model->config();
  return {{"construction", "khop"}, {"k", k}, {"layers", c.n_layers}, {"heads_per_layer", c.n_heads},
          {"d_model", c.d_model}, {"d_head", c.d_head}, {"n_ctx", c.n_ctx}, {"beta", beta},
          {"hops_per_layer", c.provenance.value("hops_per_layer", nlohmann::json::array())},
          {"parameters", model_parameter_count(model)}};
}

KhopBuild khop_build(const KhopSpec& spec) {
  khop_validate(spec);
  check(!spec.mix, "k-hop construction: spec.mix is on, but the model is built for one hop count k",
        "build without mixing (one model per k)");
  const int64_t T = khop_seq_len(spec);
  check(T <= 65536, "k-hop construction: n_ctx " + std::to_string(T) + " (must be <= 65536)", "use a shorter string");
  KhopLayout lay;
  lay.A = spec.alphabet;
  const auto plan = khop_plan(spec.k);
  int64_t next_dim = 3 + 2 * lay.A;
  lay.slot[1] = next_dim, next_dim += lay.A + 1;
  for (const auto& layer : plan)
    for (int64_t v : layer) lay.slot[v] = next_dim, next_dim += lay.A + 1;
  KhopBuild b;
  b.k = spec.k;
  ModelConfig cfg;
  cfg.n_layers = static_cast<int>(2 + plan.size());
  cfg.d_model = static_cast<int>(lay.width());
  cfg.n_heads = 2;
  cfg.d_head = static_cast<int>(lay.A + 1);
  cfg.vocab = khop_vocab(spec), cfg.vocab_out = khop_vocab_out(spec);
  cfg.d_vocab = static_cast<int>(cfg.vocab.size()), cfg.d_vocab_out = static_cast<int>(lay.A);
  cfg.n_ctx = static_cast<int>(T);
  cfg.attn_only = true, cfg.causal = true, cfg.attn_scale = 1.0;
  cfg.producer = "attnlab construct khop";
  for (const char* f : {"one:1", "pos:t", "pos2:t^2"}) cfg.residual_labels.push_back(f);
  for (const char* slot : {"tok", "prev"})
    for (int64_t s = 0; s < lay.A; ++s) cfg.residual_labels.push_back(std::string(slot) + ":" + cfg.vocab_out[s]);
  for (const auto& [v, dim] : lay.slot) {
    cfg.residual_labels.push_back("ptr" + std::to_string(v) + ":pos");
    for (int64_t s = 0; s < lay.A; ++s) cfg.residual_labels.push_back("sym" + std::to_string(v) + ":" + cfg.vocab_out[s]);
  }
  const double L = static_cast<double>(cfg.n_layers);
  b.beta = 1.01 * (2 * std::log(static_cast<double>(T)) + std::log(L) + std::log(1000.0));
  cfg.provenance = {{"construction", "khop"}, {"paper", "Sanford, Hsu, Telgarsky 2024, arXiv 2402.09268"},
                    {"k", spec.k}, {"length", spec.length}, {"alphabet", spec.alphabet}, {"beta", b.beta},
                    {"hops_per_layer", plan}};
  b.model = model_create(cfg, torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto p = b.model->named_parameters();
  const double centre = (static_cast<double>(T) - 1.0) / 2.0;
  for (int64_t t = 0; t < T; ++t) {
    const double pos = static_cast<double>(t) - centre;
    p["pos_embed.W_pos"][t][KhopLayout::ONE] = 1.0;
    p["pos_embed.W_pos"][t][KhopLayout::POS] = pos;
    p["pos_embed.W_pos"][t][KhopLayout::POS2] = pos * pos;
  }
  for (int64_t s = 0; s < lay.A; ++s) p["embed.W_E"][s][lay.tok() + s] = 1.0;  // hop-count tokens: nothing
  auto Q0 = p["blocks.0.attn.W_Q"][0], K0 = p["blocks.0.attn.W_K"][0];     // layer 0: PREV = TOK of t - 1
  Q0[KhopLayout::POS][0] = 2 * b.beta, Q0[KhopLayout::ONE][0] = -2 * b.beta, Q0[KhopLayout::ONE][1] = b.beta;
  K0[KhopLayout::POS][0] = 1.0, K0[KhopLayout::POS2][1] = -1.0;
  auto Q1 = p["blocks.1.attn.W_Q"][0], K1 = p["blocks.1.attn.W_K"][0];     // layer 1: find
  auto V1 = p["blocks.1.attn.W_V"][0], O1 = p["blocks.1.attn.W_O"][0];
  for (int64_t s = 0; s < lay.A; ++s) {
    p["blocks.0.attn.W_V"][0][lay.tok() + s][s] = 1.0, p["blocks.0.attn.W_O"][0][s][lay.prev() + s] = 1.0;
    Q1[lay.tok() + s][s] = b.beta * static_cast<double>(T), K1[lay.prev() + s][s] = 1.0;
    V1[lay.tok() + s][1 + s] = 1.0, O1[1 + s][lay.sym(1) + s] = 1.0;
  }
  Q1[KhopLayout::ONE][lay.A] = b.beta, K1[KhopLayout::POS][lay.A] = 1.0;  // the latest match wins by β
  V1[KhopLayout::POS][0] = 1.0, O1[0][lay.ptr(1)] = 1.0;
  for (size_t m = 0; m < plan.size(); ++m)
    for (size_t h = 0; h < plan[m].size(); ++h) {
      const int64_t v = plan[m][h];
      set_pointer_head(p, lay, static_cast<int>(2 + m), static_cast<int>(h), (v + 1) / 2, v / 2, v, b.beta);
    }
  for (int64_t s = 0; s < lay.A; ++s) p["unembed.W_U"][lay.sym(spec.k) + s][s] = 1.0;
  b.model->config_mut().provenance["report"] = b.report();
  return b;
}

std::vector<VerifyResult> khop_verify(const KhopBuild& b, const KhopSpec& spec, int64_t count, uint64_t seed) {
  check(count >= 1, "k-hop verify: " + std::to_string(count) + " strings (must be >= 1)", "pass --verify 1 or more");
  const auto& c = b.model->config();
  const int64_t T = khop_seq_len(spec);
  check(spec.k == b.k && !spec.mix && static_cast<int64_t>(khop_vocab(spec).size()) == c.d_vocab && T <= c.n_ctx,
        "k-hop verify: the strings (k = " + std::to_string(spec.k) + ", T = " + std::to_string(T) +
            ") do not fit the model (k = " + std::to_string(b.k) + ", n_ctx = " + std::to_string(c.n_ctx) + ")",
        "verify with the spec the model was built for");
  TaskBatch batch = khop_sample(spec, count, seed, true);
  std::vector<int64_t> flat, targets;
  for (const auto& e : batch.examples) {
    flat.insert(flat.end(), e.tokens.begin(), e.tokens.end());
    auto t = khop_targets(spec, e.tokens);
    targets.insert(targets.end(), t.begin(), t.end());
  }
  auto tokens = torch::tensor(flat, torch::kInt64).view({count, T});
  auto tgt = torch::tensor(targets, torch::kInt64);
  auto defined = tgt >= 0;
  std::vector<VerifyResult> out;
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    VerifyResult r;
    auto t0 = std::chrono::steady_clock::now();
    r.dtype = dtype == torch::kFloat32 ? "f32" : "f64";
    r.mode = "every defined position of " + std::to_string(count) + " strings";
    torch::NoGradGuard no_grad;
    auto model = dtype == torch::kFloat64 ? b.model : model_copy_as(b.model, dtype);
    auto logits = model->forward({tokens, {}}).to(torch::kFloat64).view({count * T, -1}).index({defined});
    auto target = tgt.index({defined}).unsqueeze(1);
    r.tally(logits.gather(1, target).squeeze(1) - logits.scatter(1, target, -INFINITY).amax(1));
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.push_back(r);
  }
  return out;
}

}  // namespace attnlab
