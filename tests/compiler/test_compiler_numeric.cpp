// Numerical comparisons compiled as attention score functions (src/compiler/scores.cpp), and residual
// subspace reuse (src/compiler/layout.cpp). Every program is compiled, run with softmax and hard attention and
// compared with the interpreter on every input up to a length (and random inputs beyond it); the score path
// must also be visibly taken (the head's selector names it, and the model is smaller than the table path's).
// Budget: categorical outputs identical; numeric outputs within 1e-9 (f64); 0 mismatching inputs.
#include <gtest/gtest.h>

#include "compiler/compile.h"
#include "compiler/verify.h"
#include "rasp/interp.h"
#include "util/error.h"

namespace attnlab::compiler::test {

namespace {

struct NumCompiled {
  std::unique_ptr<rasp::Interpreter> interp;
  std::unique_ptr<Plan> plan;
};

NumCompiled num_compile(const std::string& src, const std::vector<std::string>& vocab, int max_len,
                        bool reuse = true) {
  NumCompiled c;
  c.interp = std::make_unique<rasp::Interpreter>();
  c.interp->library_dirs.push_back(std::string(ATTNLAB_SOURCE_DIR) + "/src/rasp/lib");
  c.interp->run_source(src, "numeric.rasp");
  const rasp::Value* v = c.interp->lookup("out");
  if (!v || !v->is_sop()) throw Error("test: 'out' is not an s-op");
  CompileOptions opt;
  opt.vocab = vocab;
  opt.max_len = max_len;
  opt.reuse = reuse;
  c.plan = compile_program(v->node, "out", opt);
  return c;
}

// Verifies both attention kinds; every input of each length with |V|^n <= exhaustive, `samples` random ones
// of longer lengths. Returns the number of positions compared (so a caller can insist the domain is not empty).
int64_t num_verify(const Plan& p, int samples, size_t exhaustive) {
  VerifyOptions vo;
  vo.samples = samples;
  vo.exhaustive_limit = exhaustive;
  int64_t positions = 0;
  for (auto kind : {AttentionKind::Softmax, AttentionKind::Hard}) {
    auto r = compiled_verify(p, compiled_model(p, kind), vo);
    EXPECT_EQ(r.mismatches, 0) << (kind == AttentionKind::Hard ? "hard: " : "softmax: ") << r.first_input << ": "
                               << r.first_mismatch;
    if (p.numeric_output) {
      EXPECT_LE(r.max_abs_error, 1e-9);
    }
    positions = r.positions;
  }
  return positions;
}

// How many heads' selectors went through the score path (scores.cpp marks them "score ...").
int score_heads(const Plan& p) {
  int n = 0;
  for (const HeadGroup& g : p.groups)
    for (const Head& h : g.heads)
      if (h.selector.find(": score ") != std::string::npos) ++n;
  return n;
}

}  // namespace

// reverse with numerical indices and opp_index: == as -(k - q)² with a per-query offset (the keys are indices,
// so every query finds its key). The table path needs an MLP over (length, indices) with one output per index;
// the score path only decodes length (one number).
TEST(CompilerNumeric, ReverseThroughANumericScore) {
  const std::string numeric =
      "out = aggregate(select(numerical(indices), numerical(length - indices - 1), ==), tokens);";
  const std::string table = "out = aggregate(select(indices, length - indices - 1, ==), tokens);";
  for (int max_len : {8, 32}) {
    SCOPED_TRACE("max_len " + std::to_string(max_len));
    auto s = num_compile(numeric, {"a", "b", "c"}, max_len);
    auto t = num_compile(table, {"a", "b", "c"}, max_len);
    EXPECT_EQ(score_heads(*s.plan), 1);
    EXPECT_EQ(score_heads(*t.plan), 0);
    EXPECT_LE(s.plan->n_layers, t.plan->n_layers);
    EXPECT_LT(s.plan->d_mlp, t.plan->d_mlp);
    EXPECT_LT(s.plan->d_model, t.plan->d_model);
    EXPECT_LT(s.plan->d_head, t.plan->d_head);
    EXPECT_GT(num_verify(*s.plan, max_len == 8 ? 20 : 2, 2200), 0);  // all inputs up to length 7
  }
}

// == with both squares free (tokens_int's one-hot gives q² and k²): an exact score, here in a numerical mean
// (equal weights matter) and in a selector_width (the BOS key must tie with the selected keys).
TEST(CompilerNumeric, EqualityScoreInAMeanAndAWidth) {
  std::vector<std::string> v = {"1", "2", "3", "4"};
  auto mean = num_compile(
      "out = numerical(aggregate(select(numerical(tokens_int), numerical(tokens_int), ==), numerical(indices)));", v, 7);
  EXPECT_EQ(score_heads(*mean.plan), 1);
  EXPECT_GT(num_verify(*mean.plan, 20, 1100), 0);  // all inputs up to length 5
  auto width = num_compile("out = selector_width(select(numerical(tokens_int), numerical(tokens_int + 1), ==));", v, 7);
  EXPECT_EQ(score_heads(*width.plan), 1);
  EXPECT_GT(num_verify(*width.plan, 20, 1100), 0);
  // with indices on both sides: squares are W_pos features; positions 2 apart
  auto shifted = num_compile("out = selector_width(select(numerical(indices), numerical(indices - 2), ==));", v, 9);
  EXPECT_EQ(score_heads(*shifted.plan), 1);
  EXPECT_GT(num_verify(*shifted.plan, 10, 1100), 0);
}

// <, <=, >, >= as a shifted linear score k - q ± g/2: only for a categorical aggregate (selected keys need not
// weigh the same, because they must all hold the same value).
TEST(CompilerNumeric, ThresholdScoresInCategoricalAggregates) {
  std::vector<std::string> v = {"a", "b"};
  const char* programs[] = {
      // the last position (>= length - 1): one key
      "out = aggregate(select(numerical(indices), numerical(length - 1), >=), tokens);",
      // every earlier position: defined where the prefix holds one token (otherwise outside the domain)
      "out = aggregate(select(numerical(indices), numerical(indices), <), tokens, \"none\");",
      "out = aggregate(select(numerical(indices), numerical(indices), <=), tokens);",
      "out = aggregate(select(numerical(indices), numerical(indices + 1), >), tokens, \"none\");",
  };
  for (const char* src : programs) {
    SCOPED_TRACE(src);
    auto c = num_compile(src, v, 9);
    EXPECT_EQ(score_heads(*c.plan), 1);
    EXPECT_GT(num_verify(*c.plan, 20, 1000), 0);
  }
  // thresholds on values that are not integers: the gap is derived from the value sets
  auto frac = num_compile("out = aggregate(select(numerical(indices / 2), numerical(length / 2 - 1), >=), tokens);",
                          {"a", "b", "c"}, 7);
  EXPECT_EQ(score_heads(*frac.plan), 1);
  EXPECT_GT(num_verify(*frac.plan, 20, 3000), 0);
}

// sort with numerical keys: the == inside the tie-break is an exact score (a selector_width head); the < part
// of a width cannot weigh its keys equally with a linear score, so it stays on the table path.
TEST(CompilerNumeric, SortWithNumericalKeys) {
  auto c = num_compile("load \"sort\"; out = sort(tokens_int, numerical(tokens_int));", {"1", "2", "3", "4"}, 7);
  EXPECT_GE(score_heads(*c.plan), 1);
  EXPECT_GT(num_verify(*c.plan, 10, 1100), 0);
}

// Falls back to the table path: != (not a bump or a threshold), a width over <, and value gaps too small for
// the score magnitude allowed in a mean.
TEST(CompilerNumeric, FallsBackWhereAScoreIsNotExact) {
  std::vector<std::string> v = {"1", "2", "3"};
  auto ne = num_compile("out = selector_width(select(numerical(tokens_int), numerical(tokens_int), !=));", v, 6);
  EXPECT_EQ(score_heads(*ne.plan), 0);
  EXPECT_GT(num_verify(*ne.plan, 10, 5000), 0);
  auto lt = num_compile("out = selector_width(select(numerical(indices), numerical(indices), <));", v, 6);
  EXPECT_EQ(score_heads(*lt.plan), 0);
  EXPECT_GT(num_verify(*lt.plan, 10, 5000), 0);
  // values 1000 apart from their smallest gap of 0.01: (1000/0.01)² is far above what a mean may use
  auto far = num_compile(
      "k = numerical(tokens_int) * 1000 + numerical(indices) / 100;\n"
      "out = numerical(aggregate(select(numerical(k), numerical(k), ==), numerical(indices)));", v, 5);
  EXPECT_EQ(score_heads(*far.plan), 0);
  EXPECT_GT(num_verify(*far.plan, 10, 5000), 0);
}

// Residual reuse (layout.cpp): against the same program compiled without reuse, the model is never bigger
// (d_model no larger; d_mlp larger only where the parameter count is smaller), every dimension is labelled,
// and it stays exact where it reuses (every input up to length 5, random ones beyond).
TEST(CompilerLayout, ReuseIsExactAndNeverGrowsTheModel) {
  struct Case {
    const char* src;
    std::vector<std::string> vocab;
    int max_len;
  };
  const std::vector<Case> cases = {
      {"load \"dyck\"; out = dyck2_ptf(tokens);", {"(", ")", "[", "]"}, 8},
      {"load \"shuffle_dyck\"; out = shuffle_dyck2_ptf(tokens);", {"(", ")", "[", "]"}, 8},
      {"load \"sort_freq\"; out = sort_by_most_freq(tokens);", {"a", "b", "c"}, 8},
      {"load \"double_hist\"; out = double_histogram(tokens);", {"a", "b", "c"}, 8},
      {"load \"count_less_freq\"; out = count_less_freq(tokens, 2);", {"a", "b", "c"}, 8},
  };
  int reused = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.src);
    auto comp = num_compile(c.src, c.vocab, c.max_len);
    auto plain = num_compile(c.src, c.vocab, c.max_len, false);
    const Plan& p = *comp.plan;
    EXPECT_TRUE(plain.plan->erasures.empty());
    EXPECT_EQ(p.n_layers, plain.plan->n_layers);
    EXPECT_LE(p.d_model, plain.plan->d_model);
    EXPECT_EQ(p.d_model_unshared, plain.plan->d_model);
    EXPECT_LE(compiled_parameter_count(p), compiled_parameter_count(*plain.plan));
    if (p.d_mlp > plain.plan->d_mlp) {
      EXPECT_LT(compiled_parameter_count(p), compiled_parameter_count(*plain.plan));
    }
    EXPECT_EQ(p.residual_labels.size(), static_cast<size_t>(p.d_model));
    if (p.d_model < plain.plan->d_model) {
      ++reused;
      EXPECT_FALSE(p.erasures.empty());
    }
    EXPECT_GT(num_verify(p, 10, 1100), 0);
  }
  EXPECT_GE(reused, 1) << "no library program reused a subspace";
}

}  // namespace attnlab::compiler::test
