// Isotypic block spectra against the dense eigendecomposition of the full operator on [V]^L (an independent
// route: no group theory), the trace identity Σ d_λ tr B_λ = E K(x,x), exact zeros outside the trivial irrep
// without positional terms, GP posterior and eigenlearning checks. Budgets next to each check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "gp/inference.h"
#include "gp/spectrum.h"
#include "util/error.h"

using namespace attnlab::gp;

namespace {

std::vector<double> dense_eigs(const KernelSpec& spec, int v, int L, const std::vector<double>& q) {
  auto seqs = all_sequences(v, L);
  GramOptions opt;
  opt.vocab = v;
  auto g = kernel_gram(spec, seqs, seqs, opt).k;
  auto ev = torch::linalg::eigvalsh(operator_dense(g, sequence_probs(v, L, q)), "L");
  std::vector<double> out(ev.data_ptr<double>(), ev.data_ptr<double>() + ev.numel());
  std::sort(out.rbegin(), out.rend());
  return out;
}

std::vector<double> block_eigs(const Spectrum& s) {
  std::vector<double> out;
  for (const auto& ir : s.irreps)
    for (double e : ir.eigenvalues) out.insert(out.end(), (size_t)ir.dim, e);
  std::sort(out.rbegin(), out.rend());
  return out;
}

Spectrum expect_same_spectrum(const std::string& text, int v, int L, std::vector<double> q) {
  auto spec = kernel_spec_parse(text);
  GramOptions opt;
  opt.vocab = v;
  auto s = kernel_spectrum(spec, v, L, q, opt);
  if (q.empty()) q.assign(v, 1.0 / v);
  auto dense = dense_eigs(spec, v, L, q), block = block_eigs(s);
  EXPECT_EQ(dense.size(), block.size()) << text;
  if (dense.size() != block.size()) return s;
  double top = dense[0], worst = 0;
  for (size_t i = 0; i < dense.size(); ++i) worst = std::max(worst, std::abs(dense[i] - block[i]) / top);
  EXPECT_LT(worst, 1e-10) << text << " V=" << v << " L=" << L;  // budget 1e-10 of the top eigenvalue
  EXPECT_NEAR(s.trace, s.expected_diag, 1e-10 * s.expected_diag) << text;
  double count = 0;
  for (const auto& ir : s.irreps) count += ir.dim * ir.multiplicity;
  EXPECT_EQ(count, std::pow((double)v, L)) << text;
  return s;
}

// max over pairs |K(σx, σy) − K(x, y)| for the position permutation σ ((σx)_i = x_{σ(i)}), 40 random pairs.
double invariance_defect(const std::string& text, int v, int L, const std::vector<int64_t>& sigma) {
  auto gen = at::detail::createCPUGenerator(11);
  auto x = at::randint(v, {40, L}, gen, torch::TensorOptions().dtype(torch::kInt64));
  auto y = at::randint(v, {40, L}, gen, torch::TensorOptions().dtype(torch::kInt64));
  auto idx = torch::tensor(sigma, torch::kInt64);
  GramOptions opt;
  opt.vocab = v;
  auto spec = kernel_spec_parse(text);
  auto k = kernel_gram(spec, x, y, opt).k;
  auto ks = kernel_gram(spec, x.index_select(1, idx), y.index_select(1, idx), opt).k;
  return ((ks - k).abs().max() / k.abs().max()).item<double>();
}

std::vector<int64_t> random_perm_fixing_last(int L, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto p = at::randperm(L - 1, gen, torch::TensorOptions().dtype(torch::kInt64));
  std::vector<int64_t> out(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + L - 1);
  out.push_back(L - 1);
  return out;
}

}  // namespace

TEST(GpSpectrum, BlocksMatchDenseV2L6) {
  expect_same_spectrum("embed(pos=iid,sp=0.5) | attn(tied,qk=1.5) | relu | meanpool", 2, 6, {});
}

TEST(GpSpectrum, BlocksMatchDenseV3L4NonUniform) {
  expect_same_spectrum("embed(random,pos=iid) | res(attn(tied) | dense) | erf | meanpool", 3, 4, {0.5, 0.3, 0.2});
}

TEST(GpSpectrum, BlocksMatchDenseWithContentCollisionV3L6) {
  // (4,1,1) and (3,3) share content 3; both have #SSYT(·, 3) > 0, so the 3-cycle class sum is needed.
  expect_same_spectrum("embed(pos=iid,sp=0.3) | attn(tied,qk=2) | relu | meanpool", 3, 6, {});
}

TEST(GpSpectrum, NoPositionsMeansOnlyTheTrivialIrrep) {  // budget 1e-12 of the top eigenvalue
  GramOptions opt;
  opt.vocab = 3;
  auto s = kernel_spectrum(kernel_spec_parse("embed | attn(tied) | relu | meanpool"), 3, 5, {}, opt);
  double top = s.irreps[0].eigenvalues[0];
  EXPECT_GT(top, 0);
  for (size_t i = 1; i < s.irreps.size(); ++i)
    for (double e : s.irreps[i].eigenvalues) EXPECT_LT(std::abs(e), 1e-12 * top) << partition_name(s.irreps[i].lambda);
}

TEST(GpSpectrum, V2L10BlockSizes) {  // the CLI measures L = 12 (docs/gp.md); L = 10 keeps the suite short
  GramOptions opt;
  opt.vocab = 2;
  auto s = kernel_spectrum(kernel_spec_parse("embed(pos=iid) | attn(tied) | relu | meanpool"), 2, 10, {}, opt);
  ASSERT_EQ(s.irreps.size(), 6u);  // λ = (10−k, k), k = 0..5
  double count = 0;
  for (const auto& ir : s.irreps) {
    EXPECT_EQ((double)ir.eigenvalues.size(), ir.multiplicity);
    EXPECT_EQ(ir.multiplicity, 11 - 2 * ir.boxes_below);  // #SSYT((10−k, k), 2) = 11 − 2k
    count += ir.dim * ir.multiplicity;
  }
  EXPECT_EQ(count, 1024);
  EXPECT_NEAR(s.trace, s.expected_diag, 1e-10 * s.expected_diag);
  std::cout << "V=2 L=10 spectrum: " << s.seconds << " s\n";
}

TEST(GpSpectrum, RejectsNonSymmetricKernels) {
  GramOptions opt;
  EXPECT_THROW(kernel_spectrum(kernel_spec_parse("embed(pos=decay) | meanpool"), 2, 4, {}, opt), attnlab::Error);
  EXPECT_THROW(kernel_spectrum(kernel_spec_parse("embed | attn(tied,causal) | meanpool"), 2, 4, {}, opt), attnlab::Error);
  try {
    kernel_spectrum(kernel_spec_parse("embed(pos=iid) | attn(tied,causal) | attn(tied) | last"), 2, 4, {}, opt);
    ADD_FAILURE() << "a causal mask before another attention layer must be refused";
  } catch (const attnlab::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not invariant"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("gp sectors"), std::string::npos) << e.hint();
  }
}

// Which group each spec is classified under; the numerical checks below confirm the S_{L−1} claims.
TEST(GpSpectrum, SymmetryClassification) {
  auto sym = [](const char* t) { return kernel_spec_parse(t).symmetry(); };
  EXPECT_EQ(sym("embed(pos=iid) | attn(tied) | relu | meanpool"), SymmetryGroup::Full);
  EXPECT_EQ(sym("embed | attn(tied) | relu | last"), SymmetryGroup::AllButLast);
  EXPECT_EQ(sym("embed(pos=iid) | attn(tied,causal) | relu | last"), SymmetryGroup::AllButLast);
  EXPECT_EQ(sym("embed(pos=iid) | attn(tied) | res(attn(identity,causal) | dense) | erf | last"), SymmetryGroup::AllButLast);
  EXPECT_EQ(sym("embed(pos=iid) | attn(tied,causal) | attn(tied) | last"), SymmetryGroup::None);
  EXPECT_EQ(sym("embed(pos=iid) | attn(tied,causal) | meanpool"), SymmetryGroup::None);
  EXPECT_EQ(sym("embed(pos=decay) | last"), SymmetryGroup::None);
  EXPECT_TRUE(kernel_spec_parse("embed | meanpool").permutation_symmetric());
  EXPECT_FALSE(kernel_spec_parse("embed | last").permutation_symmetric());
  EXPECT_EQ(symmetry_group_name(SymmetryGroup::AllButLast), "S_{L-1}");
}

// K(σx, σy) = K(x, y) for σ fixing the last position (budget 1e-12 relative), broken by a σ that moves it (> 1e-4),
// and broken for a causal mask before a later attention layer (classified None above).
TEST(GpSpectrum, LastTokenKernelsAreInvariantUnderSLMinus1Only) {
  const int v = 3, L = 6;
  std::vector<int64_t> moves_last{5, 1, 2, 3, 4, 0};
  for (const char* text : {"embed(pos=iid,sp=0.5) | attn(tied,qk=1.5) | relu | last",
                           "embed(random,pos=iid) | attn(tied,causal,qk=2) | relu | last",
                           "embed(pos=iid) | attn(tied) | res(attn(identity,causal) | dense) | erf | last"}) {
    for (uint64_t seed : {1, 2, 3}) EXPECT_LT(invariance_defect(text, v, L, random_perm_fixing_last(L, seed)), 1e-12) << text;
    EXPECT_GT(invariance_defect(text, v, L, moves_last), 1e-4) << text;
  }
  double worst = 0;
  for (uint64_t seed : {1, 2, 3})
    worst = std::max(worst, invariance_defect("embed(pos=iid) | attn(tied,causal,qk=2) | attn(tied) | last", v, L,
                                              random_perm_fixing_last(L, seed)));
  EXPECT_GT(worst, 1e-4);
}

TEST(GpSpectrum, LastTokenBlocksMatchDenseV2L6) {
  auto s = expect_same_spectrum("embed(pos=iid,sp=0.5) | attn(tied,qk=1.5) | relu | last", 2, 6, {});
  EXPECT_EQ(s.group, "S_{L-1}");
  EXPECT_EQ(s.group_size, 5);
  ASSERT_EQ(s.irreps.size(), 3u);  // (5), (4,1), (3,2) of S_5; blocks #SSYT·V = 2·(6 − 2k)
  for (const auto& ir : s.irreps) EXPECT_EQ(ir.multiplicity, 2 * (6 - 2 * ir.boxes_below));
  expect_same_spectrum("embed(pos=iid) | attn(tied,causal,qk=2) | relu | last", 2, 6, {0.7, 0.3});
}

TEST(GpSpectrum, LastTokenBlocksMatchDenseV3L4NonUniform) {
  expect_same_spectrum("embed(random,pos=iid) | res(attn(tied) | dense) | erf | last", 3, 4, {0.5, 0.3, 0.2});
  expect_same_spectrum("embed(pos=iid) | attn(tied) | res(attn(identity,causal) | dense) | erf | last", 3, 4,
                       {0.2, 0.5, 0.3});
}

TEST(GpSpectrum, LastTokenBlocksMatchDenseV3L5AndV2L8) {  // S_4 with the 3-row (2,1,1); S_7 with 4 irreps
  expect_same_spectrum("embed(pos=iid,sp=0.3) | attn(tied,qk=2) | relu | last", 3, 5, {0.4, 0.35, 0.25});
  expect_same_spectrum("embed(pos=iid,sp=0.3) | attn(tied,qk=2) | relu | last", 2, 8, {});
}

TEST(GpInference, PosteriorInterpolatesAndMatchesDirectSolve) {  // budget 1e-9
  auto gen = at::detail::createCPUGenerator(3);
  auto x = at::randint(3, {30, 5}, gen, torch::TensorOptions().dtype(torch::kInt64));
  GramOptions opt;
  opt.vocab = 3;
  auto spec = kernel_spec_parse("embed(pos=iid) | attn(tied) | relu | meanpool");
  auto k = kernel_gram(spec, x, x, opt).k;
  auto y = torch::sin(torch::arange(30, torch::kFloat64));
  auto tr = torch::arange(20), te = torch::arange(20, 30);
  auto ktr = k.index({tr}).index({torch::indexing::Slice(), tr});
  auto kx = k.index({te}).index({torch::indexing::Slice(), tr});
  auto post = gp_posterior(ktr, kx, k.diagonal().index({te}), y.index({tr}), 1e-6);
  auto a = ktr + post.ridge * torch::eye(20, torch::kFloat64);
  auto direct = torch::matmul(kx, torch::linalg::solve(a, y.index({tr}), true));
  EXPECT_LT((post.mean - direct).abs().max().item<double>(), 1e-9);
  auto var_direct = k.diagonal().index({te}) - (kx * torch::linalg::solve(a, kx.t(), true).t()).sum(1);
  EXPECT_LT((post.variance - var_direct.clamp_min(0)).abs().max().item<double>(), 1e-9);
  EXPECT_FALSE(post.used_eigen);
}

TEST(GpInference, SingularGramFallsBackWithoutNan) {
  auto k = torch::ones({4, 4}, torch::kFloat64);  // rank 1, ridge 0: Cholesky fails
  auto post = gp_posterior(k, torch::ones({2, 4}, torch::kFloat64), torch::ones({2}, torch::kFloat64),
                           torch::full({4}, 2.0, torch::kFloat64), 0.0, true);
  EXPECT_TRUE(post.used_eigen);
  EXPECT_FALSE(post.warning.empty());
  EXPECT_NEAR(post.mean[0].item<double>(), 2.0, 1e-10);  // y is in the range of K: exact interpolation
  EXPECT_TRUE(torch::isfinite(post.variance).all().item<bool>());
  auto nan = torch::full({2, 2}, NAN, torch::kFloat64);
  EXPECT_THROW(gp_posterior(nan, torch::ones({1, 2}, torch::kFloat64), torch::ones({1}, torch::kFloat64),
                            torch::ones({2}, torch::kFloat64), 1e-6, true),
               attnlab::Error);
}

TEST(GpEigenlearning, ConservationLaw) {  // Σ L_i = n − δ/κ, budget 1e-10 relative
  std::vector<double> eigs, c2;
  for (int i = 0; i < 200; ++i) {
    eigs.push_back(std::pow(i + 1.0, -1.5));
    c2.push_back(1.0 / 200);
  }
  for (double n : {1.0, 10.0, 150.0})
    for (double ridge : {1e-3, 0.1, 2.0}) {
      auto e = eigenlearning_predict(eigs, c2, n, ridge);
      EXPECT_NEAR(e.sum_learnability, n - ridge / e.kappa, 1e-10 * n) << n << " " << ridge;
      EXPECT_GT(e.test_mse, 0);
    }
  auto e = eigenlearning_predict({1.0, 0.5}, {0.3, 0.7}, 5.0, 0.0);  // more samples than modes, no ridge
  EXPECT_EQ(e.kappa, 0);
  EXPECT_NEAR(e.test_mse, 0, 1e-15);
}
