// The target's power per irrep (C_λ) and the per-irrep eigenlearning sum, against two independent routes:
// (1) Rᵀ G⁺ R over all of S_m (every σ, distinct functions σB_0 kept; no tabloid enumeration, no closed form for
// G; G's numerical rank must be d_λ), built from explicitly permuted sequences; (2) the dense eigendecomposition of √p K √p on [V]^L, the target projected on
// its eigenvectors and summed per eigenvalue cluster. Plus Σ_λ tr C_λ = ||f||²_p and the eigenlearning prediction
// from the blocks against the dense one. Budgets next to each check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "gp/irrep_power.h"
#include "gp/spectrum.h"
#include "util/error.h"

using namespace attnlab::gp;

namespace {

struct Case {
  std::string spec;
  int v, L;
  std::vector<double> q;  // token law
};

struct Computed {
  Spectrum s;
  std::vector<IrrepPower> powers;
  torch::Tensor f, seqs;
  std::vector<double> p;
};

Computed compute(const Case& c, const torch::Tensor& f) {
  GramOptions opt;
  opt.vocab = c.v;
  Computed out{kernel_spectrum(kernel_spec_parse(c.spec), c.v, c.L, c.q, opt)};
  out.powers = irrep_powers(out.s, f);
  out.f = f;
  out.seqs = all_sequences(c.v, c.L);
  out.p = sequence_probs(c.v, c.L, c.q);
  return out;
}

torch::Tensor random_target(int v, int L, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return at::normal(0.0, 1.0, {(int64_t)std::llround(std::pow((double)v, L))}, gen,
                    torch::TensorOptions().dtype(torch::kFloat64));
}

// Route (1): the functions B_a(x∘σ) for every σ ∈ S_m, by sorting the row blocks of the permuted sequence.
torch::Tensor c_by_pseudo_inverse(const Computed& c, const IrrepSpectrum& ir) {
  int L = c.s.length, m = c.s.group_size;
  int64_t n = c.seqs.size(0), n_orb = ir.orbit_reps.size(0);
  std::map<std::vector<int64_t>, int64_t> orbit_of;
  for (int64_t o = 0; o < n_orb; ++o) {
    auto r = ir.orbit_reps[o].contiguous();
    orbit_of[std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + L)] = o;
  }
  auto b_fn = ir.basis / ir.orbit_mass.sqrt().unsqueeze(1);  // [n_orb, b]
  std::vector<int> sigma(m);
  std::iota(sigma.begin(), sigma.end(), 0);
  std::vector<torch::Tensor> rows;  // per distinct σB: [n, b] values B_a(x∘σ)
  std::set<std::vector<int64_t>> seen;  // σ's in one coset σS_λ give the same function: keep one
  auto seqs = c.seqs.accessor<int64_t, 2>();
  do {
    std::vector<int64_t> orb(n);
    for (int64_t x = 0; x < n; ++x) {
      std::vector<int64_t> y(L);
      for (int i = 0; i < L; ++i) y[i] = i < m ? seqs[x][sigma[i]] : seqs[x][i];
      size_t start = 0;
      for (int part : ir.lambda) std::sort(y.begin() + start, y.begin() + start + part), start += part;
      orb[x] = orbit_of.at(y);
    }
    if (seen.insert(orb).second) rows.push_back(b_fn.index_select(0, torch::tensor(orb, torch::kInt64)));
  } while (std::next_permutation(sigma.begin(), sigma.end()));
  auto all = torch::stack(rows);  // [m!, n, b]
  auto p = torch::tensor(c.p, torch::kFloat64);
  auto phi = all.select(2, 0) * p.sqrt();                                          // [m!, n] √p σB_0
  auto r = (all * (p * c.f).unsqueeze(0).unsqueeze(2)).sum(1);                     // [m!, b] <σB_a, f>_p
  auto [ev, vec] = torch::linalg::eigh(torch::matmul(phi, phi.t()), "L");
  auto keep = ev > 1e-9 * ev.max();
  EXPECT_EQ(keep.sum().item<int64_t>(), (int64_t)ir.dim) << partition_name(ir.lambda) << ": rank of G";
  auto inv = torch::where(keep, 1.0 / ev, torch::zeros_like(ev));
  auto g_pinv = torch::matmul(vec * inv.unsqueeze(0), vec.t());
  return torch::matmul(r.t(), torch::matmul(g_pinv, r));
}

void expect_matches_pseudo_inverse(const Case& cs, uint64_t seed) {  // budget 1e-9 ||f||²
  auto f = random_target(cs.v, cs.L, seed);
  auto c = compute(cs, f);
  double norm2 = (torch::tensor(c.p, torch::kFloat64) * f * f).sum().item<double>();
  double total = 0;
  for (size_t i = 0; i < c.s.irreps.size(); ++i) {
    auto ref = c_by_pseudo_inverse(c, c.s.irreps[i]);
    EXPECT_LT((ref - c.powers[i].c).abs().max().item<double>(), 1e-9 * norm2)
        << cs.spec << " " << partition_name(c.s.irreps[i].lambda);
    EXPECT_GT(c.powers[i].power, 1e-6 * norm2) << partition_name(c.s.irreps[i].lambda);  // a random f fills every irrep
    total += c.powers[i].power;
  }
  EXPECT_NEAR(total, norm2, 1e-10 * norm2) << cs.spec;  // Σ_λ tr C_λ = ||f||²_p
}

// Route (2): dense eigenvalues (ascending) with the target's power; block modes expanded d_λ times with power/d_λ.
void expect_matches_dense(const Case& cs, const torch::Tensor& f) {  // budget 1e-9 ||f||² per cluster
  auto c = compute(cs, f);
  GramOptions opt;
  opt.vocab = cs.v;
  auto g = kernel_gram(kernel_spec_parse(cs.spec), c.seqs, c.seqs, opt).k;
  auto d = dense_modes(g, c.p, f);
  std::vector<std::pair<double, double>> block;
  for (size_t i = 0; i < c.s.irreps.size(); ++i)
    for (size_t j = 0; j < c.s.irreps[i].eigenvalues.size(); ++j)
      for (int k = 0; k < (int)c.s.irreps[i].dim; ++k)
        block.push_back({c.s.irreps[i].eigenvalues[j], c.powers[i].mode_power[j] / c.s.irreps[i].dim});
  std::sort(block.begin(), block.end());
  ASSERT_EQ(block.size(), d.eigs.size());
  double top = d.eigs.back(), norm2 = std::accumulate(d.coeffs2.begin(), d.coeffs2.end(), 0.0);
  int clusters = 0;
  double dense_sum = 0, block_sum = 0;
  for (size_t i = 0; i < d.eigs.size(); ++i) {
    ASSERT_NEAR(block[i].first, d.eigs[i], 1e-10 * top) << cs.spec << " mode " << i;
    dense_sum += d.coeffs2[i];
    block_sum += block[i].second;
    if (i + 1 == d.eigs.size() || d.eigs[i + 1] - d.eigs[i] > 1e-6 * top) {  // cluster boundary
      EXPECT_NEAR(block_sum, dense_sum, 1e-9 * norm2) << cs.spec << " cluster ending at eigenvalue " << d.eigs[i];
      clusters += dense_sum > 1e-6 * norm2;
      dense_sum = block_sum = 0;
    }
  }
  EXPECT_GE(clusters, 5) << cs.spec << ": too few eigenvalue clusters with power for a meaningful check";
}

const Case kV2L6{"embed(pos=iid,sp=2) | attn(tied,qk=0.7) | relu | meanpool", 2, 6, {0.5, 0.5}};
const Case kV3L4{"embed(random,pos=iid,sp=1.5) | res(attn(tied) | dense) | erf | meanpool", 3, 4, {0.5, 0.3, 0.2}};
const Case kLastV2L6{"embed(pos=iid,sp=2) | attn(tied,causal,qk=0.7) | relu | last", 2, 6, {0.6, 0.4}};
const Case kLastV3L4{"embed(pos=iid,sp=1.5) | attn(tied,qk=1.5) | erf | last", 3, 4, {0.2, 0.3, 0.5}};

}  // namespace

TEST(GpIrrepPower, MatchesPseudoInverseOverAllOfSm) {
  expect_matches_pseudo_inverse(kV2L6, 1);
  expect_matches_pseudo_inverse(kV3L4, 2);
  expect_matches_pseudo_inverse(kLastV2L6, 3);
  expect_matches_pseudo_inverse(kLastV3L4, 4);
}

TEST(GpIrrepPower, ModePowersMatchDenseEigenvectors) {
  expect_matches_dense(kV2L6, random_target(2, 6, 5));
  expect_matches_dense(kV3L4, random_target(3, 4, 6));
  expect_matches_dense(kLastV2L6, random_target(2, 6, 7));
  expect_matches_dense(kLastV3L4, random_target(3, 4, 8));
}

// pair = 1[x_0 = x_1] lives in the irreps with at most 2 boxes below the first row (exactly 0 beyond: 1e-12).
TEST(GpIrrepPower, PairTargetHasNoPowerBeyondTwoBoxes) {
  auto seqs = all_sequences(2, 8);
  auto f = (seqs.select(1, 0) == seqs.select(1, 1)).to(torch::kFloat64);
  GramOptions opt;
  auto s = kernel_spectrum(kernel_spec_parse("embed(pos=iid) | attn(tied) | relu | meanpool"), 2, 8, {}, opt);
  auto pw = irrep_powers(s, f);
  double norm2 = f.mean().item<double>();
  for (size_t i = 0; i < s.irreps.size(); ++i) {
    int k = s.irreps[i].boxes_below;
    if (k > 2) EXPECT_LT(pw[i].power, 1e-12) << partition_name(s.irreps[i].lambda);
    // closed form for V = 2 uniform, s = ±1: f = ½ + ½ s_0 s_1; its S_8 average is ½ + ½ mean_{i<j} s_i s_j, of
    // power ¼ + ¼/28 (the 28 products s_i s_j are orthonormal).
    if (k == 0) EXPECT_NEAR(pw[i].power, 0.25 + 0.25 / 28, 1e-12);
  }
  EXPECT_NEAR(norm2, 0.5, 1e-15);
}

// The eigenlearning prediction from the blocks equals the dense one (budget 1e-8 relative), and the per-irrep
// errors add up to it.
TEST(GpIrrepPower, BlockEigenlearningEqualsDense) {
  for (const Case& cs : {kV2L6, kLastV3L4}) {
    auto seqs = all_sequences(cs.v, cs.L);
    auto f = (seqs.select(1, 0) == seqs.select(1, 1)).to(torch::kFloat64) + 0.3 * random_target(cs.v, cs.L, 9);
    auto c = compute(cs, f);
    GramOptions opt;
    opt.vocab = cs.v;
    auto d = dense_modes(kernel_gram(kernel_spec_parse(cs.spec), c.seqs, c.seqs, opt).k, c.p, f);
    auto modes = block_modes(c.s, c.powers);
    double count = std::accumulate(modes.mult.begin(), modes.mult.end(), 0.0);
    EXPECT_EQ(count, (double)d.eigs.size());  // Σ d_λ b_λ = V^L
    for (double n : {2.0, 10.0, 40.0})
      for (double ridge : {1e-4, 1e-2}) {
        double delta = ridge * c.s.expected_diag;
        auto dense = eigenlearning_predict(d.eigs, d.coeffs2, n, delta);
        auto blk = eigenlearning_irreps(modes, c.s.irreps.size(), n, delta);
        EXPECT_NEAR(blk.total.test_mse, dense.test_mse, 1e-8 * dense.test_mse) << cs.spec << " n=" << n;
        EXPECT_NEAR(blk.total.kappa, dense.kappa, 1e-8 * dense.kappa);
        EXPECT_NEAR(blk.total.sum_learnability, n - delta / blk.total.kappa, 1e-9 * n);  // conservation law
        double sum = std::accumulate(blk.by_irrep.begin(), blk.by_irrep.end(), 0.0);
        EXPECT_NEAR(sum, blk.total.test_mse, 1e-12 * blk.total.test_mse);
      }
  }
}

TEST(GpIrrepPower, RefusesBadInputs) {
  GramOptions opt;
  auto s = kernel_spectrum(kernel_spec_parse("embed(pos=iid) | attn(tied) | relu | meanpool"), 2, 4, {}, opt);
  EXPECT_THROW(irrep_powers(s, torch::zeros({15}, torch::kFloat64)), attnlab::Error);  // 15 values for 16 sequences
  auto bad = torch::zeros({16}, torch::kFloat64);
  bad[3] = NAN;
  EXPECT_THROW(irrep_powers(s, bad), attnlab::Error);
  Spectrum big;  // V = 2, L = 24: 2.7e6 tabloids of (12,12) alone, times 2^24 sequences
  big.vocab = 2;
  big.length = 24;
  big.group_size = 24;
  big.irreps.push_back(IrrepSpectrum{{12, 12}});
  EXPECT_GT(irrep_power_work(big), kIrrepPowerWorkLimit);
  EXPECT_THROW(irrep_powers(big, torch::zeros({1}, torch::kFloat64)), attnlab::Error);
}
