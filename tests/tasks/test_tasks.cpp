// Task generators (src/tasks/): the worked examples of the headers (derived by hand), enumeration counts
// (closed forms: Catalan numbers, 2^n, 3^N), sampler properties (balance, depth bounds, near misses really
// negative, margins), determinism (same seed, same bytes), bad parameters, and the lower-bound formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "tasks/dyck.h"
#include "tasks/index_lookup.h"
#include "tasks/nearest_neighbour.h"
#include "tasks/separation_bounds.h"
#include "tasks/string_pair.h"
#include "util/error.h"

namespace attnlab {
namespace {

TEST(TaskRng, SameSeedSameBytesAndRangesRespected) {
  EXPECT_EQ(task_batch_bytes(index_lookup_sample({64, 5}, 20, 7)), task_batch_bytes(index_lookup_sample({64, 5}, 20, 7)));
  EXPECT_NE(task_batch_bytes(index_lookup_sample({64, 5}, 20, 7)), task_batch_bytes(index_lookup_sample({64, 5}, 20, 8)));
  EXPECT_EQ(task_batch_bytes(dyck_sample({2, 3}, 20, 30, 1)), task_batch_bytes(dyck_sample({2, 3}, 20, 30, 1)));
  TaskRng rng(3);
  std::vector<int> hist(6, 0);
  for (int i = 0; i < 60000; ++i) hist[rng_below(rng, 6)]++;
  for (int h : hist) EXPECT_NEAR(h, 10000, 500);  // ~5 sigma
  double mean = 0, var = 0;
  for (int i = 0; i < 20000; ++i) {
    double z = rng_normal(rng);
    mean += z / 20000;
    var += z * z / 20000;
  }
  EXPECT_NEAR(mean, 0.0, 0.04);
  EXPECT_NEAR(var, 1.0, 0.05);
}

TEST(TaskMetric, ExactMatch) {
  TaskBatch b = index_lookup_enumerate({2, 2});
  std::vector<int64_t> pred;
  for (auto& e : b.examples) pred.push_back(e.target);
  EXPECT_EQ(exact_match(pred, b), 1.0);
  pred[0] = 1 - pred[0];
  EXPECT_DOUBLE_EQ(exact_match(pred, b), 7.0 / 8.0);
  pred.pop_back();
  EXPECT_THROW(exact_match(pred, b), Error);
}

TEST(IndexLookup, WorkedExampleVocabAndEnumeration) {
  IndexLookupSpec s{4, 3};
  TaskExample e = index_lookup_example(s, {1, 0, 2, 0}, 2);
  EXPECT_EQ(e.tokens, (std::vector<int64_t>{1, 0, 2, 0, 5}));
  EXPECT_EQ(e.target, 2);
  auto v = index_lookup_vocab(s);
  EXPECT_EQ(v.size(), 7u);
  EXPECT_EQ(v[2], "c");
  EXPECT_EQ(v[5], "@2");
  EXPECT_EQ(index_lookup_vocab({2, 30})[29], "s29");
  TaskBatch all = index_lookup_enumerate({3, 2});
  EXPECT_EQ(all.examples.size(), 24u);  // 2^3 strings x 3 queries
  std::map<std::vector<int64_t>, int> seen;
  for (auto& ex : all.examples) {
    seen[ex.tokens]++;
    EXPECT_EQ(ex.target, ex.tokens[ex.tokens.back() - 2]);
  }
  EXPECT_EQ(seen.size(), 24u);
  for (auto& ex : index_lookup_sample({100, 7}, 50, 1).examples) {
    ASSERT_EQ(ex.tokens.size(), 101u);
    EXPECT_EQ(ex.target, ex.tokens[ex.tokens.back() - 7]);
  }
}

TEST(IndexLookup, BadParameters) {
  EXPECT_THROW(index_lookup_sample({0, 4}, 1, 1), Error);
  EXPECT_THROW(index_lookup_sample({4, 1}, 1, 1), Error);
  EXPECT_THROW(index_lookup_enumerate({20, 4}), Error);
  EXPECT_THROW(index_lookup_example({4, 3}, {1, 0, 3, 0}, 1), Error);  // symbol outside the alphabet
  EXPECT_THROW(index_lookup_example({4, 3}, {1, 0, 2, 0}, 4), Error);
}

TEST(Dyck, WorkedExamplesAndMembership) {
  DyckSpec s{2, 2};
  EXPECT_TRUE(dyck_member(s, {0, 2, 3, 1, 0, 1}));
  EXPECT_FALSE(dyck_member(s, {0, 2, 0, 1, 3, 1}));  // depth 3
  EXPECT_TRUE(dyck_member({2, 3}, {0, 2, 0, 1, 3, 1}));
  EXPECT_FALSE(dyck_member(s, {0, 3}));      // mismatched types
  EXPECT_FALSE(dyck_member(s, {1, 0}));      // close first
  EXPECT_FALSE(dyck_member(s, {0, 0, 1}));   // unbalanced
  EXPECT_EQ(dyck_depth({0, 2, 0, 1, 3, 1}), 3);
  EXPECT_EQ(dyck_vocab(s)[3], "]");
  EXPECT_EQ(dyck_vocab({5, 1})[9], ")4");
}

// Members of Dyck-(1, ∞) of length 2n: Catalan numbers; Dyck-(k, 1) of length 2n: k^n; Dyck-(2, 2) length 4: 8.
TEST(Dyck, EnumerationCountsMatchClosedForms) {
  auto count_members = [](const TaskBatch& b, size_t len) {
    int c = 0;
    for (auto& e : b.examples) c += e.tokens.size() == len && e.target == 1;
    return c;
  };
  TaskBatch d1 = dyck_enumerate({1, 64}, 12);
  const int catalan[] = {1, 2, 5, 14, 42, 132};
  for (int n = 1; n <= 6; ++n) EXPECT_EQ(count_members(d1, 2 * n), catalan[n - 1]);
  TaskBatch d3 = dyck_enumerate({3, 1}, 6);
  for (int n = 1; n <= 3; ++n) EXPECT_EQ(count_members(d3, 2 * n), std::pow(3, n));
  TaskBatch d22 = dyck_enumerate({2, 2}, 4);
  EXPECT_EQ(count_members(d22, 4), 8);
  EXPECT_EQ(count_members(d22, 3), 0);
  EXPECT_EQ(d22.examples.size(), 4u + 16 + 64 + 256);
}

TEST(Dyck, SamplerBalancedNearMissesAndDepth) {
  DyckSpec s{3, 4};
  TaskBatch b = dyck_sample(s, 40, 600, 11);
  int pos = 0;
  for (size_t i = 0; i < b.examples.size(); ++i) {
    const auto& e = b.examples[i];
    ASSERT_EQ(e.tokens.size(), 40u);
    EXPECT_EQ(e.target, dyck_member(s, e.tokens) ? 1 : 0);
    pos += e.target;
    if (i % 2 == 0) {
      EXPECT_LE(dyck_depth(e.tokens), 4);
    }
    if (i % 6 == 3) {  // "one level too deep": balanced at depth bound m + 1 and reaching it
      EXPECT_TRUE(dyck_member({3, 5}, e.tokens));
      EXPECT_EQ(dyck_depth(e.tokens), 5);
    }
    if (i % 6 == 5) {  // unbalanced: more opens than closes
      int opens = 0;
      for (int64_t t : e.tokens) opens += t % 2 == 0;
      EXPECT_EQ(opens, 21);
    }
  }
  EXPECT_EQ(pos, 300);
  TaskBatch longer = dyck_sample({2, 2}, 10000, 4, 5);
  EXPECT_EQ(longer.examples[0].target, 1);
  EXPECT_EQ(longer.examples[1].target, 0);
}

TEST(Dyck, BadParameters) {
  EXPECT_THROW(dyck_sample({2, 0}, 10, 1, 1), Error);
  EXPECT_THROW(dyck_sample({0, 2}, 10, 1, 1), Error);
  EXPECT_THROW(dyck_sample({2, 2}, 7, 1, 1), Error);
  EXPECT_THROW(dyck_enumerate({4, 4}, 12), Error);
}

TEST(StringPair, WorkedExamplesEnumerationAndNearMisses) {
  EXPECT_EQ(string_pair_example(PairTask::Equality, {0, 1, 1}, {0, 1, 1}).tokens,
            (std::vector<int64_t>{0, 1, 1, 2, 0, 1, 1}));
  EXPECT_EQ(string_pair_example(PairTask::Equality, {0, 1, 1}, {0, 1, 1}).target, 1);
  EXPECT_EQ(string_pair_example(PairTask::Equality, {0, 1, 1}, {0, 0, 1}).target, 0);
  EXPECT_EQ(string_pair_example(PairTask::Disjointness, {1, 0, 0}, {0, 1, 0}).target, 1);
  EXPECT_EQ(string_pair_example(PairTask::Disjointness, {1, 1, 0}, {0, 1, 0}).target, 0);
  int eq = 0, dj = 0;
  for (auto& e : string_pair_enumerate(PairTask::Equality, 3).examples) eq += e.target;
  for (auto& e : string_pair_enumerate(PairTask::Disjointness, 3).examples) dj += e.target;
  EXPECT_EQ(eq, 8);   // 2^N
  EXPECT_EQ(dj, 27);  // 3^N
  for (PairTask t : {PairTask::Equality, PairTask::Disjointness}) {
    TaskBatch b = string_pair_sample(t, 50, 200, 3);
    int pos = 0;
    for (auto& e : b.examples) {
      pos += e.target;
      int diff = 0, shared = 0;
      for (int j = 0; j < 50; ++j) {
        diff += e.tokens[j] != e.tokens[51 + j];
        shared += e.tokens[j] == 1 && e.tokens[51 + j] == 1;
      }
      if (t == PairTask::Equality) {
        EXPECT_EQ(diff, e.target ? 0 : 1);
      }
      if (t == PairTask::Disjointness) {
        EXPECT_EQ(shared, e.target ? 0 : 1);
      }
    }
    EXPECT_EQ(pos, 100);
  }
  EXPECT_THROW(string_pair_sample(PairTask::Equality, 0, 1, 1), Error);
  EXPECT_THROW(string_pair_enumerate(PairTask::Equality, 20), Error);
}

TEST(NearestNeighbour, WorkedExampleAndSampler) {
  NearestNeighbourSpec s{2, 2, 2, 0.1};
  TaskExample e{{0, 3, 0, 2, 1}, {1, 0, 0, 0, 0, 1, 0, 0, 0.8, 0.6}, 0};
  EXPECT_EQ(nearest_neighbour_label(s, e), 1);
  EXPECT_NEAR(nearest_neighbour_margin(s, e), 0.2, 1e-12);
  NearestNeighbourSpec big{16, 8, 5, 0.05};
  TaskBatch b = nearest_neighbour_sample(big, 100, 9);
  EXPECT_EQ(b.num_width, 8);
  for (auto& ex : b.examples) {
    ASSERT_EQ(ex.tokens.size(), 33u);
    EXPECT_GE(nearest_neighbour_margin(big, ex), 0.05);
    EXPECT_EQ(ex.target, nearest_neighbour_label(big, ex));
    double norm = 0;
    for (int i = 0; i < 8; ++i) norm += ex.numbers[32 * 8 + i] * ex.numbers[32 * 8 + i];
    EXPECT_NEAR(norm, 1.0, 1e-12);
  }
  EXPECT_THROW(nearest_neighbour_sample({4, 2, 2, 0.0}, 1, 1), Error);
  EXPECT_THROW(nearest_neighbour_sample({4, 2, 1, 0.1}, 1, 1), Error);
  EXPECT_THROW(nearest_neighbour_sample({0, 2, 2, 0.1}, 1, 1), Error);
}

TEST(SeparationBounds, Formulas) {
  auto il = separation_bounds({"index-lookup", 1024, 16, 32, 1});
  ASSERT_EQ(il.size(), 1u);
  EXPECT_DOUBLE_EQ(il[0].value, 128.0);  // 1024 * 4 / 32
  auto eq = separation_bounds({"equality", 1024, 2, 32, 2});
  ASSERT_EQ(eq.size(), 2u);
  EXPECT_DOUBLE_EQ(eq[0].value, 32.0);
  EXPECT_DOUBLE_EQ(eq[1].value, 16.0);
  EXPECT_DOUBLE_EQ(separation_bounds({"dyck", 640, 2, 16, 4})[0].value, 10.0);
  auto nn = separation_bounds({"nearest-neighbour", 4096, 2, 16, 1});
  ASSERT_EQ(nn.size(), 1u);  // RNN only: the paper has no one-layer-transformer bound for nearest neighbour
  EXPECT_EQ(nn[0].model, "RNN");
  EXPECT_DOUBLE_EQ(nn[0].value, 256.0);  // 4096 / 16
  EXPECT_THROW(separation_bounds({"sorting", 10, 2, 32, 1}), Error);
  EXPECT_THROW(separation_bounds({"equality", 0, 2, 32, 1}), Error);
  EXPECT_THROW(separation_bounds({"equality", 10, 2, 0, 1}), Error);
  EXPECT_THROW(separation_bounds({"index-lookup", 10, 1, 32, 1}), Error);
}

}  // namespace
}  // namespace attnlab
