// The log-depth retrieval and k-hop constructions (src/constructions/retrieval.h) and the head-role classifier
// (head_roles.h). Oracles: the task generators' answers (tasks/retrieval.cpp, tasks/khop.cpp), layer
// counts and hop distances derived by hand from b_l = (3^l + 1)/2 (tables below), and hand-made attention
// patterns built from the generator's def_pos metadata. Error budget: every checked instance correct in f32 and
// f64 with logit margin >= 0.9 (the header proves >= 0.99 in exact arithmetic).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../model/model_test_util.h"
#include "constructions/head_roles.h"
#include "constructions/retrieval.h"
#include "model/weights.h"
#include "train/config.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {
namespace {

// These tests run many forward passes of small models; one intra-op thread avoids OpenMP spin-waits that make
// them ~10x slower when the cores are shared (measured: 49 s -> 4 s for the D = 1..40 sweep under load).
struct OneThread {
  int saved = torch::get_num_threads();
  OneThread() { torch::set_num_threads(1); }
  ~OneThread() { torch::set_num_threads(saved); }
};

RetrievalSpec small_spec(int64_t D, int64_t distractor_len = 6) {
  RetrievalSpec s;
  s.depth = D;
  s.distractor_chains = 1;
  s.distractor_len = std::min<int64_t>(D, distractor_len);
  s.distractor_assign = 2;
  s.variables = D + s.distractor_len + 2 + 3;  // three variables never used
  s.values = 10;
  return s;
}

void expect_all_correct(const std::vector<VerifyResult>& runs, const std::string& what) {
  ASSERT_EQ(runs.size(), 2u) << what;
  for (const auto& r : runs) {
    EXPECT_EQ(r.correct, r.checked) << what << " " << r.dtype;
    EXPECT_GE(r.min_margin, 0.9) << what << " " << r.dtype;
  }
}

TEST(RetrievalConstruction, LayerCountsMatchTheHandTable) {
  OneThread one_thread;
  // D: total layers tripling (1 + n, 3^n >= 2D + 1), Musat's bound ceil(log3(2D)), total layers doubling
  struct Row { int64_t D, tripling, bound, doubling; };
  const Row table[] = {{1, 2, 1, 2},   {2, 3, 2, 3},   {4, 3, 2, 4},   {5, 4, 3, 4},   {13, 4, 3, 5},
                       {14, 5, 4, 5},  {40, 5, 4, 7},  {41, 6, 5, 7},  {121, 6, 5, 8}, {122, 7, 6, 8}};
  for (const auto& r : table) {
    EXPECT_EQ(1 + retrieval_lookup_layers(r.D, "tripling"), r.tripling) << "D = " << r.D;
    EXPECT_EQ(retrieval_layer_lower_bound(r.D), r.bound) << "D = " << r.D;
    EXPECT_EQ(1 + retrieval_lookup_layers(r.D, "doubling"), r.doubling) << "D = " << r.D;
  }
  for (int64_t D = 1; D <= 1000; ++D) {  // the lookup layers meet the bound: 2D is never a power of 3
    const int64_t bound = static_cast<int64_t>(std::ceil(std::log(2.0 * D) / std::log(3.0)));
    ASSERT_EQ(retrieval_layer_lower_bound(D), bound) << "D = " << D;
    ASSERT_EQ(retrieval_lookup_layers(D, "tripling"), bound) << "D = " << D;
  }
  EXPECT_EQ(retrieval_capacity(4, "tripling"), 40);  // b_4 - 1 = 41 - 1
  EXPECT_EQ(retrieval_capacity(3, "doubling"), 7);
  RetrievalBuild b = retrieval_build({small_spec(40), "tripling", 0});
  EXPECT_EQ(b.model->config().n_layers, 5);
  EXPECT_EQ(b.model->config().n_heads, 2);
  EXPECT_FALSE(b.model->config().causal);
}

TEST(RetrievalConstruction, CorrectForEveryDepthUpTo40ShuffledWithDistractors) {
  OneThread one_thread;
  for (int64_t D = 1; D <= 40; ++D) {
    RetrievalSpec s = small_spec(D);
    RetrievalBuild b = retrieval_build({s, "tripling", 0});
    ASSERT_EQ(b.model->config().n_layers, 1 + retrieval_layer_lower_bound(D));
    expect_all_correct(retrieval_verify(b, s, 8, 100 + D), "tripling D = " + std::to_string(D));
  }
  for (int64_t D : {1, 2, 3, 7, 8, 16, 31, 40}) {
    RetrievalSpec s = small_spec(D);
    expect_all_correct(retrieval_verify(retrieval_build({s, "doubling", 0}), s, 8, 7 + D),
                       "doubling D = " + std::to_string(D));
  }
}

TEST(RetrievalConstruction, CorrectWithLongDistractorChainsAndAfterSaveLoad) {
  OneThread one_thread;
  RetrievalSpec s;  // the CLI's default shape: two distractor chains of length D
  s.depth = 40, s.distractor_chains = 2, s.variables = 120, s.values = 10;
  RetrievalBuild b = retrieval_build({s, "tripling", 0});
  expect_all_correct(retrieval_verify(b, s, 8, 5), "D = 40, 2 chains of 40");
  // the same model answers shallower chains of the same vocabulary (T <= n_ctx)
  RetrievalSpec shallow = s;
  shallow.depth = 9, shallow.distractor_len = 9;
  expect_all_correct(retrieval_verify(b, shallow, 8, 6), "D = 9 on the D = 40 model");
  const std::string dir = test::temp_dir("retrieval_model");
  model_save(dir, b.model);
  RetrievalBuild loaded = b;
  loaded.model = model_load(dir);
  expect_all_correct(retrieval_verify(loaded, s, 8, 5), "after save/load");
}

// Largest logit at the query over `count` instances: ~1 when the value reached the query's VAL slot, ~0 when not
// (only softmax leakage, e^{-β} or less, can carry a value there).
double max_query_logit(const RetrievalBuild& b, const RetrievalSpec& s, int64_t count, uint64_t seed) {
  TaskRng rng(seed);
  std::vector<int64_t> flat;
  for (int64_t i = 0; i < count; ++i) {
    auto inst = retrieval_instance(s, rng);
    flat.insert(flat.end(), inst.tokens.begin(), inst.tokens.end());
  }
  const int64_t T = retrieval_seq_len(s);
  torch::NoGradGuard g;
  auto logits = b.model->forward({torch::tensor(flat, torch::kInt64).view({count, T}), {}});
  return logits.select(1, T - 1).max().item<double>();
}

TEST(RetrievalConstruction, OneLookupLayerFewerDoesNotReachBeyondCapacity) {
  OneThread one_thread;
  // 3 lookup layers resolve D <= 13 (b_3 = 14); D = 14 needs 4: the value never reaches the query's VAL slot.
  RetrievalSpec s = small_spec(14);
  RetrievalBuild b = retrieval_build({s, "tripling", 3});
  EXPECT_EQ(b.capacity, 13);
  EXPECT_LT(max_query_logit(b, s, 32, 3), 1e-3);
  for (const auto& r : retrieval_verify(b, s, 32, 3)) EXPECT_LT(r.min_margin, 1e-3) << r.dtype;
  RetrievalSpec at_capacity = s;
  at_capacity.depth = 13;
  expect_all_correct(retrieval_verify(b, at_capacity, 16, 4), "D = 13 with 3 lookup layers");
  EXPECT_GT(max_query_logit(b, at_capacity, 16, 4), 0.99);
  RetrievalSpec d8 = small_spec(8);  // doubling: 3 layers resolve D <= 7
  EXPECT_LT(max_query_logit(retrieval_build({d8, "doubling", 3}), d8, 32, 3), 1e-3);
  EXPECT_GT(max_query_logit(retrieval_build({d8, "doubling", 4}), d8, 32, 3), 0.99);
}

// Fused encoding (one token per statement): no gather layer, so the layer count is Musat's bound itself.
TEST(RetrievalConstruction, FusedEncodingMeetsTheLowerBoundExactly) {
  OneThread one_thread;
  for (int64_t D = 1; D <= 40; ++D) {
    RetrievalSpec s = small_spec(D);
    s.fused = true;
    RetrievalBuild b = retrieval_build({s, "tripling", 0});
    const int64_t bound = static_cast<int64_t>(std::ceil(std::log(2.0 * D) / std::log(3.0)));
    ASSERT_EQ(b.model->config().n_layers, bound) << "D = " << D;
    EXPECT_EQ(b.model->config().bos, "<sink>");
    expect_all_correct(retrieval_verify(b, s, 8, 300 + D), "fused tripling D = " + std::to_string(D));
  }
  for (int64_t D : {1, 2, 7, 8, 31}) {
    RetrievalSpec s = small_spec(D);
    s.fused = true;
    RetrievalBuild b = retrieval_build({s, "doubling", 0});
    EXPECT_EQ(b.model->config().n_layers, static_cast<int>(std::ceil(std::log2(D + 1.0)))) << "D = " << D;
    expect_all_correct(retrieval_verify(b, s, 8, 9 + D), "fused doubling D = " + std::to_string(D));
  }
  // one lookup layer short (3 resolve D <= 13): no margin at D = 14; the same model is right at D = 13
  RetrievalSpec s14 = small_spec(14);
  s14.fused = true;
  RetrievalBuild short3 = retrieval_build({s14, "tripling", 3});
  for (const auto& r : retrieval_verify(short3, s14, 32, 3)) EXPECT_LT(r.min_margin, 1e-3) << r.dtype;
  RetrievalSpec s13 = s14;
  s13.depth = 13;
  expect_all_correct(retrieval_verify(short3, s13, 16, 4), "fused D = 13 with 3 layers");
  // saved and loaded (the sink BOS travels in config.json); the pairs spec does not fit this model
  const std::string dir = test::temp_dir("retrieval_fused_model");
  model_save(dir, short3.model);
  RetrievalBuild loaded = short3;
  loaded.model = model_load(dir);
  expect_all_correct(retrieval_verify(loaded, s13, 8, 5), "fused, after save/load");
  RetrievalSpec pairs = s13;
  pairs.fused = false;
  EXPECT_THROW(retrieval_verify(loaded, pairs, 4, 1), Error);
}

std::vector<std::string> role_names(const std::vector<HeadRole>& roles) {
  std::vector<std::string> out;
  for (const auto& r : roles) out.push_back("L" + std::to_string(r.layer) + "H" + std::to_string(r.head) + " " + r.role);
  return out;
}

TEST(RetrievalHeadRoles, LabelsTheConstructionsOwnHeads) {
  OneThread one_thread;
  // lookup layer l: backward hop 3^(l-1), forward hop 3^(l-1); unused heads (zero weights) attend uniformly
  RetrievalSpec s = small_spec(40);
  HeadRoleOptions opt;
  auto roles = head_roles_classify(retrieval_build({s, "tripling", 0}).model, s, opt);
  const std::vector<std::string> want = {"L0H0 previous-token", "L0H1 uniform",      "L1H0 hop-back 1",
                                         "L1H1 hop-forward 1",  "L2H0 hop-back 3",   "L2H1 hop-forward 3",
                                         "L3H0 hop-back 9",     "L3H1 hop-forward 9", "L4H0 hop-back 27",
                                         "L4H1 uniform"};
  EXPECT_EQ(role_names(roles), want);
  for (const auto& r : roles) EXPECT_GE(r.score, 0.99) << r.layer << " " << r.head << " " << r.role;
  auto doubling = head_roles_classify(retrieval_build({s, "doubling", 0}).model, s, opt);
  const std::vector<std::string> want2 = {"L0H0 previous-token", "L1H0 hop-back 1", "L2H0 hop-back 2",
                                          "L3H0 hop-back 4",     "L4H0 hop-back 8", "L5H0 hop-back 16",
                                          "L6H0 hop-back 32"};
  EXPECT_EQ(role_names(doubling), want2);
  // fused: lookup layer l is block l - 1; back along the chain the roles are def-back 3^(l-1) (definition at 1)
  s.fused = true;
  auto fused = head_roles_classify(retrieval_build({s, "tripling", 0}).model, s, opt);
  const std::vector<std::string> want3 = {"L0H0 definition", "L0H1 hop-forward 1", "L1H0 def-back 3",
                                          "L1H1 hop-forward 3", "L2H0 def-back 9", "L2H1 hop-forward 9",
                                          "L3H0 def-back 27", "L3H1 uniform"};
  EXPECT_EQ(role_names(fused), want3);
  for (const auto& r : fused) EXPECT_GE(r.score, 0.99) << r.layer << " " << r.head << " " << r.role;
}

TEST(RetrievalHeadRoles, ClassifiesHandMadePatternsFromTheMetadata) {
  OneThread one_thread;
  RetrievalSpec s = small_spec(6);
  HeadRoleOptions opt;
  opt.probes = 16;
  auto probes = head_roles_probes(s, opt);
  const int64_t B = 16, T = static_cast<int64_t>(probes[0].tokens.size());
  // head 0: the variable's definition (def_pos, from the generator), head 1 uniform, head 2 the "?", head 3 self
  auto pat = torch::full({B, 4, T, T}, 1.0 / static_cast<double>(T), torch::kFloat64);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i) {
      for (int h : {0, 2, 3}) pat[b][h][i].zero_();
      const int64_t def = probes[b].def_pos[i];
      pat[b][0][i][def >= 0 ? def : i] = 1.0;
      pat[b][2][i][T - 2] = 1.0;
      pat[b][3][i][i] = 1.0;
    }
  auto roles = head_roles_from_patterns({pat}, probes, 0, false, opt);
  EXPECT_EQ(role_names(roles), (std::vector<std::string>{"L0H0 definition", "L0H1 uniform", "L0H2 separator",
                                                          "L0H3 self"}));
  EXPECT_NEAR(roles[0].score, 1.0, 1e-12);
  EXPECT_NEAR(roles[1].scores.at("uniform"), 1.0, 1e-12);
  // half the weight on the definition, half on the "?": the best score, 0.5, is below a threshold of 0.6
  auto mixed = (pat.slice(1, 0, 1) + pat.slice(1, 2, 3)) / 2;
  opt.threshold = 0.6;
  EXPECT_EQ(head_roles_from_patterns({mixed}, probes, 0, false, opt)[0].role, "other");
  EXPECT_THROW(head_roles_from_patterns({pat.slice(2, 1)}, probes, 0, false, opt), Error);
}

// Fused encoding (one position per statement, no "?"): the definition of a statement's rhs is itself a
// statement, the next link is the statement (or the query) whose def_pos is me; no separator role exists.
TEST(RetrievalHeadRoles, ClassifiesHandMadePatternsOfTheFusedEncoding) {
  OneThread one_thread;
  RetrievalSpec s = small_spec(6);
  s.fused = true;
  HeadRoleOptions opt;
  opt.probes = 16;
  auto probes = head_roles_probes(s, opt);
  const int64_t B = 16, T = static_cast<int64_t>(probes[0].tokens.size());
  ASSERT_TRUE(probes[0].fused);
  // head 0: def_pos; head 1: the next link (found by scanning def_pos); head 2: self; head 3: the previous position
  auto pat = torch::zeros({B, 4, T, T}, torch::kFloat64);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i) {
      const int64_t def = probes[b].def_pos[i];
      int64_t next = i;
      for (int64_t j = 0; j < T; ++j)
        if (probes[b].def_pos[j] == i) next = j;
      pat[b][0][i][def >= 0 ? def : i] = 1.0;
      pat[b][1][i][next] = 1.0;
      pat[b][2][i][i] = 1.0;
      pat[b][3][i][i > 0 ? i - 1 : 0] = 1.0;
    }
  auto roles = head_roles_from_patterns({pat}, probes, 0, false, opt);
  EXPECT_EQ(role_names(roles), (std::vector<std::string>{"L0H0 definition", "L0H1 hop-forward 1", "L0H2 self",
                                                          "L0H3 previous-token"}));
  for (const auto& r : roles) {
    EXPECT_NEAR(r.score, 1.0, 1e-12) << r.role;
    EXPECT_EQ(r.scores.count("separator"), 0u);
    EXPECT_EQ(r.scores.count("hop-back 1"), 0u);
  }
}

TEST(RetrievalHeadRoles, EmergenceOrderIsTheFirstCrossingOfTheFinalRole) {
  OneThread one_thread;
  auto head = [](int l, int h, std::string role, std::map<std::string, double> scores) {
    HeadRole r;
    r.layer = l, r.head = h, r.role = std::move(role), r.scores = std::move(scores);
    return r;
  };
  std::vector<std::pair<int64_t, std::vector<HeadRole>>> history = {
      {0, {head(0, 0, "other", {{"definition", 0.1}}), head(0, 1, "other", {{"hop-back 1", 0.2}}),
           head(1, 0, "other", {})}},
      {100, {head(0, 0, "other", {{"definition", 0.3}}), head(0, 1, "hop-back 1", {{"hop-back 1", 0.7}}),
             head(1, 0, "uniform", {})}},
      {200, {head(0, 0, "definition", {{"definition", 0.8}}), head(0, 1, "hop-back 1", {{"hop-back 1", 0.9}}),
             head(1, 0, "uniform", {})}}};
  auto order = head_roles_emergence(history, 0.5);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0].layer * 10 + order[0].head, 1);
  EXPECT_EQ(order[0].step, 100);
  EXPECT_EQ(order[1].role, "definition");
  EXPECT_EQ(order[1].step, 200);
  EXPECT_EQ(order[2].step, -1);
  EXPECT_THROW(head_roles_emergence({}, 0.5), Error);
}

TEST(RetrievalHeadRoles, HopTraceOfTheQueryFollowsTheTriplingRecurrence) {
  OneThread one_thread;
  // the query (element 41) reads element 41 - 3^(l-1) in lookup layer l: 40, 38, 32, 14
  RetrievalSpec s = small_spec(40);
  RetrievalBuild b = retrieval_build({s, "tripling", 0});
  HeadRoleOptions opt;
  auto inst = head_roles_probes(s, opt)[0];
  HopTrace tr = hop_trace(b.model, s, inst);
  std::map<int64_t, int64_t> elem_pos;  // main-chain element -> rhs position
  for (int64_t p = 1; p < static_cast<int64_t>(inst.tokens.size()) - 2; p += 2)
    if (inst.chain_of[p] == 0) elem_pos[inst.depth_of[p]] = p;
  const int64_t T = static_cast<int64_t>(inst.tokens.size());
  std::map<int, int64_t> query_reads;
  for (const auto& r : tr.reads)
    if (r.reader == T - 1 && r.head == 0) {
      query_reads[r.layer] = r.source;
      EXPECT_GT(r.weight, 0.99) << "layer " << r.layer;
    }
  EXPECT_EQ(query_reads[0], T - 2);
  EXPECT_EQ(query_reads[1], elem_pos[40]);
  EXPECT_EQ(query_reads[2], elem_pos[38]);
  EXPECT_EQ(query_reads[3], elem_pos[32]);
  EXPECT_EQ(query_reads[4], elem_pos[14]);
  const std::string path = test::temp_dir("retrieval_view") + "/hops.html";
  hop_view_write(path, tr, head_roles_classify(b.model, s, opt), "hops");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string html = ss.str();
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("query e41"), std::string::npos);
  EXPECT_NE(html.find("hop-back 27"), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  size_t urls = 0;  // no URL but the SVG namespace
  for (size_t at = html.find("://"); at != std::string::npos; at = html.find("://", at + 1)) ++urls;
  EXPECT_EQ(urls, 1u);
  EXPECT_NE(html.find("http://www.w3.org/2000/svg"), std::string::npos);
}

TEST(RetrievalKhop, LayersAreTwoPlusCeilLog2KAndEveryDefinedPositionIsRight) {
  OneThread one_thread;
  const std::pair<int64_t, int> table[] = {{1, 2}, {2, 3}, {3, 4}, {4, 4}, {5, 5}, {8, 5}, {9, 6}, {16, 6}, {17, 7}};
  for (const auto& [k, layers] : table) EXPECT_EQ(khop_construction_layers(k), layers) << "k = " << k;
  for (int64_t k = 1; k <= 16; ++k) {
    KhopSpec s;
    s.k = k, s.length = 48, s.alphabet = 4;
    KhopBuild b = khop_build(s);
    ASSERT_EQ(b.model->config().n_layers, khop_construction_layers(k));
    auto runs = khop_verify(b, s, 8, 40 + k);  // targets: tasks/khop.cpp's last-occurrence table
    expect_all_correct(runs, "k-hop k = " + std::to_string(k));
    EXPECT_GE(runs[0].checked, 8) << "k = " << k;
  }
}

TEST(RetrievalConstruction, BadSpecsAreErrorsWithHints) {
  OneThread one_thread;
  auto expect_error = [](auto&& f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
      EXPECT_FALSE(e.hint().empty()) << needle;
    }
  };
  RetrievalSpec s = small_spec(4);
  expect_error([&] { retrieval_build({s, "quadrupling", 0}); }, "scheme 'quadrupling'");
  expect_error([&] { retrieval_build({s, "tripling", -1}); }, "lookup layers -1");
  RetrievalSpec zero = s;
  zero.depth = 0;
  expect_error([&] { retrieval_build({zero, "tripling", 0}); }, "depth D = 0");
  RetrievalSpec few = s;
  few.variables = 3;
  expect_error([&] { retrieval_build({few, "tripling", 0}); }, "variables K = 3");
  RetrievalBuild b = retrieval_build({s, "tripling", 0});
  expect_error([&] { retrieval_verify(b, s, 0, 1); }, "0 instances");
  RetrievalSpec other = s;
  other.values = 12;
  expect_error([&] { retrieval_verify(b, other, 4, 1); }, "do not fit the model");
  expect_error([&] { retrieval_lookup_layers(0, "tripling"); }, "depth 0");
  HeadRoleOptions opt;
  opt.probes = 0;
  expect_error([&] { head_roles_classify(b.model, s, opt); }, "0 probes");
  KhopSpec kh;
  kh.k = 3, kh.length = 16, kh.mix = true;
  expect_error([&] { khop_build(kh); }, "spec.mix is on");
  kh.mix = false;
  KhopBuild kb = khop_build(kh);
  KhopSpec k4 = kh;
  k4.k = 4;
  expect_error([&] { khop_verify(kb, k4, 4, 1); }, "do not fit the model");
  expect_error([&] { khop_construction_layers(0); }, "k = 0");
}

// A synthetic run directory: config.resolved.toml of a retrieval run, metrics.jsonl with per-D evals and
// snapshots at steps 10..40 whose hand-made patterns (built from the generator's own def_pos, not from the
// classifier's chain index) mix a role's target row with a uniform row at strength alpha(step):
//   L0H0 previous-token  alpha 0.1 0.3 0.8 0.9  -> crosses 0.5 at step 30 (score = alpha + (1 - alpha)/T)
//   L1H0 definition      alpha 0.0 0.1 0.2 0.9  -> crosses at step 40
//   L0H1, L1H1 uniform   alpha 0                -> "uniform", never
// with the snapshot "tokens" given as strings, so head_roles_run rebuilds the metadata itself.
struct SyntheticRun {
  std::string dir;
  RetrievalSpec spec{2, 1, 0, 0, 8, 4, true};
  std::vector<RetrievalInstance> probes;

  explicit SyntheticRun(const std::string& name) : dir(::testing::TempDir() + "/" + name) {
    std::filesystem::remove_all(dir);
    dir_create(dir + "/snapshots");
    TrainConfig cfg;
    cfg.seed = 7;
    cfg.task.name = "retrieval", cfg.task.n = 2, cfg.task.chains = 1, cfg.task.variables = 8, cfg.task.values = 4;
    cfg.task.supervision = "curriculum";
    file_write_atomic(dir + "/config.resolved.toml", train_config_to_toml(cfg));
    file_write_atomic(dir + "/metrics.jsonl",
                      "{\"kind\":\"train\",\"step\":10,\"loss\":1.0,\"acc\":0.5,\"lr\":0.001}\n"
                      "{\"kind\":\"eval\",\"step\":20,\"results\":[{\"n\":1,\"exact\":0.95},{\"n\":2,\"exact\":0.6}]}\n"
                      "{\"kind\":\"eval\",\"step\":40,\"results\":[{\"n\":1,\"exact\":1.0},{\"n\":2,\"exact\":0.92}]}\n");
    HeadRoleOptions opt;
    opt.probes = 16, opt.seed = 5;
    probes = head_roles_probes(spec, opt);
    const double prev[] = {0.1, 0.3, 0.8, 0.9}, def[] = {0.0, 0.1, 0.2, 0.9};
    for (int k = 0; k < 4; ++k) write_snapshot(10 * (k + 1), prev[k], def[k]);
  }

  void write_snapshot(int64_t step, double a_prev, double a_def) {
    const int64_t P = static_cast<int64_t>(probes.size()), T = static_cast<int64_t>(probes[0].tokens.size());
    auto uniform = torch::full({P, 2, T, T}, 1.0 / static_cast<double>(T), torch::kFloat64);
    auto l0 = uniform.clone(), l1 = uniform.clone();
    const auto vocab = retrieval_vocab(spec);
    std::vector<std::vector<std::string>> tokens;
    for (int64_t b = 0; b < P; ++b) {
      const auto& r = probes[b];
      for (int64_t q = 1; q < T; ++q) {
        l0[b][0][q] *= (1 - a_prev);
        l0[b][0][q][q - 1] += a_prev;
        if (r.def_pos[q] >= 0 && q % 2 == 1) {  // rhs variables and the query read their definition
          l1[b][0][q] *= (1 - a_def);
          l1[b][0][q][r.def_pos[q]] += a_def;
        }
      }
      tokens.emplace_back();
      for (int64_t id : r.tokens) tokens.back().push_back(vocab[id]);
    }
    char name[64];
    std::snprintf(name, sizeof name, "/snapshots/step_%08lld.safetensors", static_cast<long long>(step));
    tensors_write(dir + name, {{"blocks.0.attn.hook_pattern", l0.to(torch::kFloat32)},
                               {"blocks.1.attn.hook_pattern", l1.to(torch::kFloat32)}},
                  {{"step", std::to_string(step)}, {"tokens", nlohmann::json(tokens).dump()}});
  }
};

TEST(RetrievalHeadRoles, EmergenceOfASyntheticSnapshotHistory) {
  OneThread one_thread;
  SyntheticRun syn("emergence_run");
  HeadRoleOptions opt;
  RunEmergence run = head_roles_run(syn.dir, opt);
  EXPECT_EQ(run.seed, 7);
  ASSERT_EQ(run.history.size(), 4u);
  EXPECT_EQ(run.history[2].first, 30);
  ASSERT_EQ(run.emergence.size(), 4u);
  EXPECT_EQ(run.emergence[0].layer * 10 + run.emergence[0].head, 0);
  EXPECT_EQ(run.emergence[0].role, "previous-token");
  EXPECT_EQ(run.emergence[0].step, 30);
  EXPECT_EQ(run.emergence[1].layer * 10 + run.emergence[1].head, 10);
  EXPECT_EQ(run.emergence[1].role, "definition");
  EXPECT_EQ(run.emergence[1].step, 40);
  for (int i : {2, 3}) {
    EXPECT_EQ(run.emergence[i].role, "uniform");
    EXPECT_EQ(run.emergence[i].step, -1);
  }
  // score = alpha + (1 - alpha) / T at every row with a target: the previous-token timeline, T = 10
  std::vector<std::string> role_of;
  auto timeline = head_roles_timeline(run, &role_of);
  EXPECT_EQ(role_of[0], "previous-token");
  EXPECT_NEAR(timeline[0][1], 0.3 + 0.7 / 10, 1e-6);
  EXPECT_NEAR(timeline[1][3], 0.9 + 0.1 / 10, 1e-6);
  EXPECT_EQ(run.accuracy_step.at(1), 20);
  EXPECT_EQ(run.accuracy_step.at(2), 40);
  EXPECT_EQ(head_roles_order_text(run), "L0H0 previous-token@30 < L1H0 definition@40");
  // a second run whose heads emerge together: a different order key, so "same_order" is false
  SyntheticRun late("emergence_run_2");
  late.write_snapshot(40, 0.9, 0.0);  // L1H0 definition below 0.5 at step 40 ...
  late.write_snapshot(50, 0.9, 0.9);  // ... and crossing at step 50: later, but the same order
  RunEmergence run2 = head_roles_run(late.dir, opt);
  EXPECT_EQ(head_roles_order_text(run2), "L0H0 previous-token@30 < L1H0 definition@50");
  EXPECT_TRUE(head_roles_runs_json({run, run2}, 0.5)["same_order"].get<bool>());
  EXPECT_EQ(head_roles_layer_order_text(run2), "L0@30 < L1@50");
  EXPECT_TRUE(head_roles_runs_json({run, run2}, 0.5)["same_layer_order"].get<bool>());
  late.write_snapshot(10, 0.9, 0.9);  // both at the first snapshot: one group, a different key
  RunEmergence run3 = head_roles_run(late.dir, opt);
  EXPECT_EQ(head_roles_order_text(run3), "L0H0 previous-token@10 = L1H0 definition@10");
  auto j = head_roles_runs_json({run, run3}, 0.5);
  EXPECT_FALSE(j["same_order"].get<bool>());
  EXPECT_FALSE(j["same_layer_order"].get<bool>());
  EXPECT_FALSE(j["consistent_layer_order"].get<bool>());  // L0 < L1 against L0 = L1
  EXPECT_TRUE(head_roles_runs_json({run, run2}, 0.5)["consistent_layer_order"].get<bool>());
  RunEmergence only_l0 = run;  // fewer stages, same order: consistent, not the same
  only_l0.emergence.erase(std::remove_if(only_l0.emergence.begin(), only_l0.emergence.end(),
                                         [](const HeadEmergence& e) { return e.layer == 1; }),
                          only_l0.emergence.end());
  EXPECT_EQ(head_roles_layer_order_text(only_l0), "L0@30");
  auto k = head_roles_runs_json({run, only_l0}, 0.5);
  EXPECT_FALSE(k["same_layer_order"].get<bool>());
  EXPECT_TRUE(k["consistent_layer_order"].get<bool>());
  EXPECT_FALSE(head_roles_layer_orders_consistent({only_l0, run3, run}));  // run3 ties L0 = L1, run has L0 < L1
  EXPECT_EQ(j["runs"][1]["layer_order"], "L0@10 = L1@10");
  EXPECT_EQ(j["runs"][0]["heads"][1]["step"], 40);
  EXPECT_EQ(j["runs"][0]["accuracy_step"]["2"], 40);
}

TEST(RetrievalHeadRoles, EmergenceOfBadRunDirectoriesIsAnErrorWithAHint) {
  OneThread one_thread;
  HeadRoleOptions opt;
  auto expect_error = [&](const std::string& dir, const std::string& needle) {
    try {
      head_roles_run(dir, opt);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
      EXPECT_FALSE(e.hint().empty()) << needle;
    }
  };
  const std::string base = ::testing::TempDir() + "/emergence_bad";
  std::filesystem::remove_all(base);
  dir_create(base);
  expect_error(base + "/none", "no run directory");
  expect_error(base, "no config.resolved.toml");
  SyntheticRun syn("emergence_bad_run");
  std::filesystem::remove_all(syn.dir + "/snapshots");
  expect_error(syn.dir, "no attention snapshots");
  SyntheticRun other("emergence_bad_task");
  TrainConfig cfg;
  cfg.task.name = "khop";
  file_write_atomic(other.dir + "/config.resolved.toml", train_config_to_toml(cfg));
  expect_error(other.dir, "is a 'khop' run, not retrieval");
  SyntheticRun garbage("emergence_bad_file");
  file_write_atomic(garbage.dir + "/snapshots/step_00000020.safetensors", "not a safetensors file");
  expect_error(garbage.dir, "step_00000020.safetensors");
  SyntheticRun wrong_d("emergence_bad_spec");  // the probes are D = 2 instances, the config says D = 3
  TrainConfig c3;
  c3.task.name = "retrieval", c3.task.n = 3, c3.task.chains = 1, c3.task.variables = 8, c3.task.values = 4;
  file_write_atomic(wrong_d.dir + "/config.resolved.toml", train_config_to_toml(c3));
  expect_error(wrong_d.dir, "probe 0: retrieval metadata");
}

}  // namespace
}  // namespace attnlab
