// Issue 6, second part: the compact (binary) symbol code of the index-lookup construction (width b + k + 1 with
// b = ceil(log2|Σ|), checked on the task's own targets x_p), the streamed query-row evaluator against forward()
// with several key chunks (1e-9 in f64), the random-code search on a case with several row blocks and sampled
// rows (against a plain integer double loop), and the scans: range parsing, the least-squares fit against
// hand-computed values, and a small index-lookup scan whose width grows like log2 N (slope bounded by the
// Hoeffding/union-bound argument, independent of the code's output).
#include <gtest/gtest.h>

#include <cmath>

#include "../model/model_test_util.h"
#include "constructions/codes.h"
#include "constructions/index_lookup.h"
#include "constructions/scan.h"
#include "util/error.h"

namespace attnlab {
namespace {

// max over i in rows, j != i of |<raw_i, raw_j>| with integer arithmetic, for a prefix of length k.
int64_t loop_max_inner(const NearOrthogonalCode& c, int64_t k) {
  auto raw = c.raw.to(torch::kInt32).contiguous();
  auto a = raw.accessor<int32_t, 2>();
  auto rows = c.certified_rows.contiguous();
  int64_t best = 0;
  for (int64_t r = 0; r < rows.size(0); ++r) {
    const int64_t i = rows[r].item<int64_t>();
    for (int64_t j = 0; j < c.n(); ++j) {
      if (j == i) continue;
      int64_t s = 0;
      for (int64_t t = 0; t < k; ++t) s += a[i][t] * a[j][t];
      best = std::max<int64_t>(best, std::abs(s));
    }
  }
  return best;
}

TEST(Codes, RandomSearchAcrossBlocksAndSampledRows) {
  // 2100 rows: three row blocks of the certification GEMM; exact max and minimality by the double loop
  NearOrthogonalCode c = code_random(2100, 0.5, 11);
  ASSERT_TRUE(c.all_certified());
  EXPECT_EQ(static_cast<double>(loop_max_inner(c, c.k)) / c.k, c.gamma);
  EXPECT_LE(c.gamma, 0.5);
  EXPECT_GT(static_cast<double>(loop_max_inner(c, c.k - 1)) / (c.k - 1), 0.5);
  EXPECT_NEAR(code_max_inner(c.raw, c.norm2, c.certified_rows), c.gamma, 1e-15);
  // above certify_max: 256 sampled rows (0 and N-1 among them) against every column
  NearOrthogonalCode s = code_random(6000, 0.5, 5, 1000);
  ASSERT_EQ(s.certified_rows.size(0), 256);
  EXPECT_EQ(s.certified_rows[0].item<int64_t>(), 0);
  EXPECT_EQ(s.certified_rows[255].item<int64_t>(), 5999);
  EXPECT_EQ(static_cast<double>(loop_max_inner(s, s.k)) / s.k, s.gamma);
  EXPECT_GT(static_cast<double>(loop_max_inner(s, s.k - 1)) / (s.k - 1), 0.5);
}

TEST(IndexLookup, BinarySymbolCodeWidthAndCorrectness) {
  struct Case { int64_t n, alphabet, bits; std::string code; };
  for (const Case& t : {Case{50, 2, 1, "random"}, Case{50, 16, 4, "random"}, Case{60, 17, 5, "reed-solomon"},
                        Case{64, 1000, 10, "random"}}) {
    IndexLookupOptions opt;
    opt.n = t.n, opt.alphabet = t.alphabet, opt.code = t.code;
    IndexLookupBuild b = index_lookup_build(opt);
    EXPECT_EQ(index_lookup_symbol_dims(opt), t.bits);
    EXPECT_EQ(b.model->config().d_model, t.bits + b.code.k + 1) << t.alphabet;
    for (auto& r : index_lookup_verify(b, opt, 3, 7)) {  // targets x_p from the generated strings
      EXPECT_EQ(r.checked, 3 * t.n);
      EXPECT_EQ(r.correct, r.checked) << t.alphabet << " " << r.dtype;
      EXPECT_GE(r.min_margin, opt.margin - (r.dtype == "f64" ? 1e-9 : 1e-3)) << t.alphabet << " " << r.dtype;
    }
  }
  IndexLookupOptions one_hot;
  one_hot.n = 30, one_hot.alphabet = 6, one_hot.symbols = "one-hot";
  IndexLookupBuild b = index_lookup_build(one_hot);
  EXPECT_EQ(b.model->config().d_model, 6 + b.code.k + 1);
  for (auto& r : index_lookup_verify(b, one_hot, 2, 1)) EXPECT_EQ(r.correct, r.checked) << r.dtype;
}

TEST(IndexLookup, StreamedEvaluatorMatchesForwardAcrossChunks) {
  IndexLookupOptions opt;
  opt.n = 300, opt.alphabet = 13;
  IndexLookupBuild b = index_lookup_build(opt);
  TaskBatch batch = index_lookup_sample({300, 13}, 6, 4);
  torch::NoGradGuard g;
  for (auto& e : batch.examples) {
    std::vector<int64_t> x(e.tokens.begin(), e.tokens.end() - 1);
    auto full = b.model->forward({test::tokens(e.tokens), {}}).select(1, 300);
    for (int64_t chunk : {7, 64, 0}) {
      auto fast = index_lookup_query_logits(b.model, x, {e.tokens.back() - 13}, 13, chunk);
      EXPECT_LT((fast - full).abs().max().item<double>(), 1e-9) << chunk;
    }
    EXPECT_EQ(full.argmax(-1).item<int64_t>(), e.target);
  }
}

TEST(IndexLookup, BadSymbolCodeAndAlphabet) {
  IndexLookupOptions opt;
  opt.n = 8, opt.symbols = "gray";
  EXPECT_THROW(index_lookup_build(opt), Error);
  opt.symbols = "binary", opt.alphabet = 5000;  // more symbols than the vocabulary allows
  EXPECT_THROW(index_lookup_build(opt), Error);
  opt.alphabet = 4;
  IndexLookupBuild b = index_lookup_build(opt);
  EXPECT_THROW(index_lookup_verify(b, opt, 1, 0, 0), Error);
}

TEST(Scan, RangeParsing) {
  auto v = scan_range_parse("16..1048576");
  ASSERT_EQ(v.size(), 17u);
  EXPECT_EQ(v.front(), 16);
  EXPECT_EQ(v.back(), 1048576);
  EXPECT_EQ(scan_range_parse("16..4096:4"), (std::vector<int64_t>{16, 64, 256, 1024, 4096}));
  EXPECT_EQ(scan_range_parse("10..100"), (std::vector<int64_t>{10, 20, 40, 80}));
  EXPECT_EQ(scan_range_parse("3,5,9"), (std::vector<int64_t>{3, 5, 9}));
  for (const char* bad : {"0..8", "8..4", "16..x", "16..64:1", "5,3", "", "4,,8", "-4..8", "1..1000000000000000:1"})
    EXPECT_THROW(scan_range_parse(bad), Error) << bad;
}

TEST(Scan, LinearFitAgainstHandValues) {
  LinearFit f = linear_fit({1, 2, 3, 4}, {3, 5, 7, 9});
  EXPECT_NEAR(f.slope, 2.0, 1e-12);
  EXPECT_NEAR(f.intercept, 1.0, 1e-12);
  EXPECT_NEAR(f.r2, 1.0, 1e-12);
  // x = 0,1,2, y = 0,1,3: slope 3/2, intercept -1/6, SS_res = 1/6, SS_tot = 14/3, R² = 27/28
  f = linear_fit({0, 1, 2}, {0, 1, 3});
  EXPECT_NEAR(f.slope, 1.5, 1e-12);
  EXPECT_NEAR(f.intercept, -1.0 / 6.0, 1e-12);
  EXPECT_NEAR(f.r2, 27.0 / 28.0, 1e-12);
  EXPECT_THROW(linear_fit({1}, {1}), Error);
  EXPECT_THROW(linear_fit({2, 2}, {1, 3}), Error);
}

TEST(Scan, IndexLookupWidthGrowsLikeLogN) {
  ScanOptions opt;
  opt.task = "index-lookup";
  opt.ns = scan_range_parse("16..4096");
  opt.alphabet = 4, opt.strings = 1, opt.queries = 32;
  int calls = 0;
  ScanResult res = scan_run(opt, [&](const ScanRow&) { ++calls; });
  ASSERT_EQ(res.rows.size(), 9u);
  EXPECT_EQ(calls, 9);
  for (const auto& r : res.rows) {
    ASSERT_EQ(r.results.size(), 2u);
    for (const auto& v : r.results) EXPECT_EQ(v.correct, v.checked) << r.n << " " << v.dtype;
    EXPECT_EQ(r.width, 2 + r.code_dim + 1);
    ASSERT_EQ(r.bounds.size(), 1u);
    EXPECT_DOUBLE_EQ(r.bounds[0].value, r.n * 2.0 / 32.0);  // N·log2|Σ|/p
  }
  // Random ±1 codes need k ≈ 4 ln N / γ² = (4 ln 2 / γ²)·log2 N ≈ 11.1·log2 N at γ = 1/2 (union bound; the
  // finite-N maximum is smaller), so the width's slope against log2 N lies well inside [4, 16] and the fit is
  // good; a width linear in N would give a slope in the hundreds over this range.
  EXPECT_GT(res.fit.slope, 4.0);
  EXPECT_LT(res.fit.slope, 16.0);
  EXPECT_GT(res.fit.r2, 0.9);
  EXPECT_LT(res.rows.back().width, 4096 / 8);
  auto j = res.to_json();
  EXPECT_EQ(j["rows"].size(), 9u);
  EXPECT_EQ(j["rows"][0]["N"], 16);
  EXPECT_DOUBLE_EQ(j["rows"][8]["accuracy_f64"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["fit"]["slope"].get<double>(), res.fit.slope);
}

TEST(Scan, BadParameters) {
  ScanOptions opt;
  opt.task = "index-lookup";
  opt.ns = {16, 32};
  auto bad = [&](auto edit) {
    ScanOptions o = opt;
    edit(o);
    EXPECT_THROW(scan_run(o), Error);
  };
  bad([](ScanOptions& o) { o.task = "sorting"; });
  bad([](ScanOptions& o) { o.ns = {16}; });
  bad([](ScanOptions& o) { o.gamma = 1.0; });
  bad([](ScanOptions& o) { o.alphabet = 5000; });
  bad([](ScanOptions& o) { o.ns = {0, 16}; });
  bad([](ScanOptions& o) { o.code = "hadamard"; });
  bad([](ScanOptions& o) { o.task = "equality", o.ns = {16, 131072}; });
  bad([](ScanOptions& o) { o.task = "nearest-neighbour", o.nn_margin = 0.0; });
  bad([](ScanOptions& o) { o.count = 0; });
}

}  // namespace
}  // namespace attnlab
