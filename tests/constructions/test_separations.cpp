// The separation constructions (src/constructions/): codes checked by a plain double loop (independent of the
// blocked torch search), index lookup exhaustively for small N through forward() with targets from the task
// enumeration, the query-row evaluator against forward() (error budget 1e-9 in f64), the Dyck RNN against the
// stack recogniser of tasks/dyck (every prefix), save/load, and every bad parameter.
#include <gtest/gtest.h>

#include <cmath>

#include "../model/model_test_util.h"
#include "constructions/codes.h"
#include "constructions/construct_common.h"
#include "constructions/dyck_rnn.h"
#include "constructions/index_lookup.h"
#include "constructions/string_pair.h"
#include "util/error.h"

namespace attnlab {
namespace {

// max_{i != j} |<raw_i, raw_j>| / norm2 and min, by a double loop.
std::pair<double, double> loop_inner_range(const NearOrthogonalCode& c) {
  auto raw = c.raw.to(torch::kFloat64).contiguous();
  auto a = raw.accessor<double, 2>();
  double hi = 0, lo = 1e300;
  for (int64_t i = 0; i < c.n(); ++i)
    for (int64_t j = 0; j < c.n(); ++j) {
      if (i == j) continue;
      double s = 0;
      for (int64_t t = 0; t < c.k; ++t) s += a[i][t] * a[j][t];
      hi = std::max(hi, std::abs(s) / c.norm2);
      lo = std::min(lo, s / c.norm2);
    }
  return {hi, lo};
}

TEST(Codes, RandomCodeIsCertifiedAndMinimal) {
  NearOrthogonalCode c = code_random(200, 0.5, 3);
  EXPECT_TRUE(c.all_certified());
  EXPECT_LE(c.gamma, 0.5);
  EXPECT_DOUBLE_EQ(loop_inner_range(c).first, c.gamma);
  auto norms = (c.raw * c.raw).sum(1);
  EXPECT_TRUE(torch::all(norms == static_cast<float>(c.k)).item<bool>());
  // the search returns the smallest passing prefix: the prefix one shorter fails (double loop)
  NearOrthogonalCode shorter = c;
  shorter.k = c.k - 1, shorter.norm2 = static_cast<double>(c.k - 1);
  shorter.raw = c.raw.slice(1, 0, c.k - 1).contiguous();
  EXPECT_GT(loop_inner_range(shorter).first, 0.5);
  EXPECT_TRUE(torch::equal(code_random(200, 0.5, 3).raw, c.raw));
  EXPECT_FALSE(torch::equal(code_random(200, 0.5, 4).raw.slice(1, 0, 8), c.raw.slice(1, 0, 8)));
}

TEST(Codes, ReedSolomonBoundHoldsAndIsAttainedAtQPowD) {
  NearOrthogonalCode c = code_reed_solomon(300, 0.4);
  auto [hi, lo] = loop_inner_range(c);
  EXPECT_TRUE(c.all_certified());
  EXPECT_LE(hi, c.gamma);  // the analytic certificate (d-1)/e bounds the brute-force maximum
  EXPECT_LE(c.gamma, 0.4);
  EXPECT_GE(lo, 0.0);
  EXPECT_DOUBLE_EQ(c.gamma, static_cast<double>(c.rs_d - 1) / c.rs_e);
  EXPECT_EQ(c.k, c.rs_q * c.rs_e);
  EXPECT_GE(std::pow(static_cast<double>(c.rs_q), static_cast<double>(c.rs_d)), 300.0);
  // with all q^d polynomials present, two codewords agree in exactly d - 1 points: the bound is attained
  for (double gamma : {0.5, 0.3}) {
    NearOrthogonalCode small = code_reed_solomon(20, gamma);
    const auto full_n = static_cast<int64_t>(std::pow(static_cast<double>(small.rs_q), static_cast<double>(small.rs_d)));
    ASSERT_LE(full_n, 3000);
    NearOrthogonalCode full = code_reed_solomon(full_n, gamma);
    EXPECT_EQ(full.rs_q, small.rs_q);
    EXPECT_DOUBLE_EQ(loop_inner_range(full).first, full.gamma) << gamma;
    EXPECT_LE(loop_inner_range(small).first, small.gamma) << gamma;
  }
}

TEST(Codes, BadParameters) {
  EXPECT_THROW(code_random(10, 0.0, 1), Error);
  EXPECT_THROW(code_random(10, 1.0, 1), Error);
  EXPECT_THROW(code_reed_solomon(10, 1.5), Error);
  EXPECT_THROW(code_random(0, 0.5, 1), Error);
  EXPECT_THROW(code_build("hadamard", 10, 0.5, 1), Error);
}

TEST(IndexLookup, ExhaustiveSmallNInBothDtypes) {
  IndexLookupOptions opt;
  opt.n = 6;
  opt.alphabet = 3;
  IndexLookupBuild b = index_lookup_build(opt);
  auto results = index_lookup_verify(b, opt, 1, 0);
  ASSERT_EQ(results.size(), 2u);
  for (auto& r : results) {
    EXPECT_EQ(r.mode, "exhaustive");
    EXPECT_EQ(r.checked, 4374);  // 3^6 strings x 6 queries
    EXPECT_EQ(r.correct, r.checked) << r.dtype;
    EXPECT_GE(r.min_margin, opt.margin - 1e-4) << r.dtype;  // the scale was derived for this margin
  }
  EXPECT_EQ(b.model->config().d_model, 2 + b.code.k + 1);  // 3 symbols: 2 binary dims
}

TEST(IndexLookup, TooSmallScaleFails) {  // the check can fail: a near-uniform softmax loses the lookup
  IndexLookupOptions opt;
  opt.n = 6;
  opt.alphabet = 3;
  IndexLookupBuild b = index_lookup_build(opt);
  b.model->config_mut().attn_scale *= 1000;
  auto r = index_lookup_verify(b, opt, 1, 0)[1];
  EXPECT_LT(r.correct, r.checked);
}

TEST(IndexLookup, QueryRowEvaluatorMatchesForwardAndRoundTrips) {
  for (std::string code : {"random", "reed-solomon"}) {
    IndexLookupOptions opt;
    opt.n = 40;
    opt.alphabet = 5;
    opt.code = code;
    IndexLookupBuild b = index_lookup_build(opt);
    TaskBatch batch = index_lookup_sample({40, 5}, 12, 9);
    std::string dir = test::temp_dir("idxl_" + code);
    model_save(dir, b.model);
    SequenceModel loaded = model_load(dir, torch::kFloat64);
    torch::NoGradGuard g;
    for (auto& e : batch.examples) {
      std::vector<int64_t> x(e.tokens.begin(), e.tokens.end() - 1);
      auto fast = index_lookup_query_logits(b.model, x, {e.tokens.back() - 5}, 5);
      auto full = loaded->forward({test::tokens(e.tokens), {}}).select(1, 40);
      EXPECT_LT((fast - full).abs().max().item<double>(), 1e-9) << code;
      EXPECT_EQ(full.argmax(-1).item<int64_t>(), e.target) << code;
    }
    auto r = index_lookup_verify(b, opt, 3, 1);
    for (auto& v : r) EXPECT_EQ(v.correct, v.checked) << code << " " << v.dtype;
    EXPECT_EQ(r[0].checked, 120);  // 3 strings x 40 positions
  }
}

TEST(IndexLookup, BadParameters) {
  auto build = [](int64_t n, int64_t a, double gamma, double margin) {
    IndexLookupOptions o;
    o.n = n, o.alphabet = a, o.gamma = gamma, o.margin = margin;
    return index_lookup_build(o);
  };
  EXPECT_THROW(build(0, 4, 0.5, 0.5), Error);
  EXPECT_THROW(build(8, 1, 0.5, 0.5), Error);
  EXPECT_THROW(build(8, 4, 1.0, 0.5), Error);
  EXPECT_THROW(build(8, 4, 0.5, 1.0), Error);
  EXPECT_THROW(build(8, 4, 0.5, 0.0), Error);
}

TEST(DyckRnn, HandDerivedPrefixesAndConstantSize) {
  DyckRnnBuild b = dyck_rnn_build({2, 2});
  EXPECT_EQ(b.states, 8);  // 1 + 2 + 4 stacks + dead
  EXPECT_EQ(b.model->config().d_hidden, 32);
  torch::NoGradGuard g;
  // "( [ ] ) ( ] ("  → prefixes: no no no yes no no no
  auto out = b.model->forward({test::tokens({0, 2, 3, 1, 0, 3, 0}), {}}).argmax(-1);
  EXPECT_TRUE(torch::equal(out, test::tokens({0, 0, 0, 1, 0, 0, 0})));
  auto deep = b.model->forward({test::tokens({0, 2, 0, 1, 3, 1}), {}}).argmax(-1);  // depth 3 > m
  EXPECT_EQ(deep[0][5].item<int64_t>(), 0);
}

TEST(DyckRnn, ExhaustiveAndLongRandomStringsInBothDtypes) {
  const std::pair<DyckSpec, int64_t> cases[] = {{{2, 2}, 8}, {{1, 4}, 12}, {{3, 2}, 6}};  // (spec, length)
  for (auto [s, len] : cases) {
    DyckRnnBuild b = dyck_rnn_build(s);
    for (auto& r : dyck_rnn_verify(b, s, len, 2000, 6, 5)) {
      EXPECT_EQ(r.exhaustive_len, len);
      EXPECT_EQ(r.exhaustive_wrong, 0) << s.k << "," << s.m << " " << r.dtype;
      EXPECT_EQ(r.random_wrong, 0) << s.k << "," << s.m << " " << r.dtype;
      EXPECT_EQ(r.random_prefixes, 12000);
    }
  }
}

TEST(DyckRnn, BrokenWeightsAreCaught) {  // the verifier can fail
  DyckRnnBuild b = dyck_rnn_build({2, 2});
  {
    torch::NoGradGuard g;
    b.model->named_parameters()["unembed.W_U"].fill_(0.0).select(1, 1).fill_(1.0);  // always "yes"
  }
  auto r = dyck_rnn_verify(b, {2, 2}, 6, 100, 2, 1)[1];
  EXPECT_GT(r.exhaustive_wrong, 0);
}

TEST(DyckRnn, BadParameters) {
  EXPECT_THROW(dyck_rnn_build({2, 0}), Error);
  EXPECT_THROW(dyck_rnn_build({0, 2}), Error);
  EXPECT_THROW(dyck_rnn_build({4, 8}), Error);  // too many states
}

}  // namespace
}  // namespace attnlab

namespace attnlab {
namespace {

TEST(StringPair, ExhaustiveSmallNAndSampledLargerN) {
  for (PairTask t : {PairTask::Equality, PairTask::Disjointness}) {
    StringPairOptions opt;
    opt.task = t;
    opt.n = 5;
    auto b = string_pair_build(opt);
    for (auto& r : string_pair_verify(b, opt, 1, 0)) {
      EXPECT_EQ(r.checked, 1024) << pair_task_name(t);  // 4^5 pairs
      EXPECT_EQ(r.correct, r.checked) << pair_task_name(t) << " " << r.dtype;
      EXPECT_GE(r.min_margin, 1.0 - 1e-4);
    }
    opt.n = 64;
    opt.code = "reed-solomon";
    auto big = string_pair_build(opt);
    EXPECT_EQ(big.model->config().d_model, 2 * big.code.k + 5);
    for (auto& r : string_pair_verify(big, opt, 200, 3)) EXPECT_EQ(r.correct, r.checked) << r.dtype;
  }
}

TEST(StringPair, WrongMlpIsCaughtAndBadParameters) {
  StringPairOptions opt;
  opt.n = 4;
  auto b = string_pair_build(opt);
  {
    torch::NoGradGuard g;
    b.model->named_parameters()["blocks.0.mlp.b_in"].fill_(0.0);  // flags fire on matches too
  }
  auto r = string_pair_verify(b, opt, 1, 0)[1];
  EXPECT_LT(r.correct, r.checked);
  opt.n = 0;
  EXPECT_THROW(string_pair_build(opt), Error);
  opt.n = 8;
  opt.gamma = 1.0;
  EXPECT_THROW(string_pair_build(opt), Error);
}

}  // namespace
}  // namespace attnlab
