// Symmetric group toolkit against hand-known values: S_3 and S_4 character tables (any textbook, e.g.
// Sagan, "The Symmetric Group", Example 1.9.4), S_5 dimensions, Σ d_λ² = L!, Σ d_λ #SSYT(λ,V) = V^L,
// column orthogonality of characters, and the (4,1,1) / (3,3) content collision at L = 6.
#include <gtest/gtest.h>

#include <cmath>

#include "gp/symmetric_group.h"

using namespace attnlab::gp;

TEST(SymmetricGroup, PartitionCounts) {
  // p(n) for n = 1..12 (OEIS A000041)
  const int expected[] = {1, 2, 3, 5, 7, 11, 15, 22, 30, 42, 56, 77};
  for (int n = 1; n <= 12; ++n) EXPECT_EQ((int)partitions(n).size(), expected[n - 1]) << n;
  auto p4 = partitions(4);
  EXPECT_EQ(partition_name(p4[0]), "(4)");
  EXPECT_EQ(partition_name(p4[1]), "(3,1)");
  EXPECT_EQ(partition_name(p4[4]), "(1,1,1,1)");
}

TEST(SymmetricGroup, CharacterTableS3) {
  std::vector<Partition> irreps = {{3}, {2, 1}, {1, 1, 1}};
  std::vector<Partition> classes = {{1, 1, 1}, {2, 1}, {3}};
  const int64_t table[3][3] = {{1, 1, 1}, {2, 0, -1}, {1, -1, 1}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(character(irreps[i], classes[j]), table[i][j]) << i << "," << j;
}

TEST(SymmetricGroup, CharacterTableS4) {
  std::vector<Partition> irreps = {{4}, {3, 1}, {2, 2}, {2, 1, 1}, {1, 1, 1, 1}};
  std::vector<Partition> classes = {{1, 1, 1, 1}, {2, 1, 1}, {2, 2}, {3, 1}, {4}};
  const int64_t table[5][5] = {
      {1, 1, 1, 1, 1}, {3, 1, -1, 0, -1}, {2, 0, 2, -1, 0}, {3, -1, -1, 0, 1}, {1, -1, 1, 1, -1}};
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) EXPECT_EQ(character(irreps[i], classes[j]), table[i][j]) << i << "," << j;
}

TEST(SymmetricGroup, DimensionsS5AndSums) {
  const double d5[] = {1, 4, 5, 6, 5, 4, 1};  // (5),(4,1),(3,2),(3,1,1),(2,2,1),(2,1,1,1),(1^5)
  auto p5 = partitions(5);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(irrep_dimension(p5[i]), d5[i]);
  for (int n = 1; n <= 12; ++n) {
    double sum_sq = 0;
    for (const auto& l : partitions(n)) {
      sum_sq += irrep_dimension(l) * irrep_dimension(l);
      // d_λ = χ^λ(identity)
      EXPECT_EQ(irrep_dimension(l), (double)character(l, Partition(n, 1))) << partition_name(l);
    }
    EXPECT_EQ(sum_sq, factorial(n)) << n;
  }
}

TEST(SymmetricGroup, SchurWeylCount) {
  EXPECT_EQ(ssyt_count({2, 1}, 2), 2);
  EXPECT_EQ(ssyt_count({2, 1}, 3), 8);
  EXPECT_EQ(ssyt_count({2, 2}, 2), 1);
  EXPECT_EQ(ssyt_count({3}, 2), 4);
  EXPECT_EQ(ssyt_count({1, 1, 1}, 2), 0);
  for (int v = 1; v <= 4; ++v)
    for (int n = 1; n <= 10; ++n) {
      double sum = 0;
      for (const auto& l : partitions(n)) sum += irrep_dimension(l) * ssyt_count(l, v);
      EXPECT_EQ(sum, std::pow((double)v, n)) << "V=" << v << " L=" << n;
    }
}

TEST(SymmetricGroup, ColumnOrthogonality) {
  const int n = 7;
  auto parts = partitions(n);
  for (const auto& mu : parts)
    for (const auto& nu : parts) {
      double s = 0;
      for (const auto& l : parts) s += (double)character(l, mu) * (double)character(l, nu);
      EXPECT_EQ(s, mu == nu ? centralizer_size(mu) : 0.0) << partition_name(mu) << partition_name(nu);
    }
}

TEST(SymmetricGroup, ContentSumIsTranspositionCentralCharacter) {
  for (int n = 2; n <= 9; ++n)
    for (const auto& l : partitions(n))
      EXPECT_NEAR(central_character(l, cycle_type_transposition(n)), (double)content_sum(l), 1e-9)
          << partition_name(l);
  EXPECT_EQ(content_sum({4, 1, 1}), 3);
  EXPECT_EQ(content_sum({3, 3}), 3);
}

TEST(SymmetricGroup, ThreeCycleSeparatesTheL6Collision) {
  auto parts = partitions(6);
  auto coll = content_collisions(6);
  bool found = false;
  for (auto [i, j] : coll) {
    if (partition_name(parts[i]) == "(4,1,1)" && partition_name(parts[j]) == "(3,3)") found = true;
    EXPECT_NE(central_character(parts[i], cycle_type_3cycle(6)), central_character(parts[j], cycle_type_3cycle(6)));
  }
  EXPECT_TRUE(found);
  // ω_(4,1,1)(3-cycles) = 40·χ/d = 40·1/10 = 4 ; ω_(3,3) = 40·(−1)/5·... computed by hand: χ^(3,3)(3,1,1,1) = −1, d = 5
  EXPECT_NEAR(central_character({4, 1, 1}, cycle_type_3cycle(6)), 4.0, 1e-12);
  EXPECT_NEAR(central_character({3, 3}, cycle_type_3cycle(6)), -8.0, 1e-12);
}

TEST(SymmetricGroup, Dominance) {
  EXPECT_TRUE(partition_dominates({3, 1}, {2, 2}));
  EXPECT_FALSE(partition_dominates({2, 2}, {3, 1}));
  EXPECT_FALSE(partition_dominates({3, 1, 1, 1}, {2, 2, 2}));
  EXPECT_FALSE(partition_dominates({2, 2, 2}, {3, 1, 1, 1}));
  EXPECT_EQ(partition_boxes_below_first_row({4, 1, 1}), 2);
}
