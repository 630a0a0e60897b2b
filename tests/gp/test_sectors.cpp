// Isotypic sectors of non-invariant kernels (src/gp/sectors.h) against independent routes: the projectors
// against the character formula P_λ = (d_λ/L!) Σ_σ χ^λ(σ) π(σ) summed over all L! permutations (the code never
// enumerates them), invariant kernels against kernel_spectrum's Schur–Weyl blocks, the symmetry defect and the
// leakage against dense P T P products, top eigenvalues against eigvalsh of T, and decayed positions against
// first-order perturbation theory (defect ∝ e^{−1/ℓ}). Budgets next to each check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "gp/sectors.h"
#include "gp/spectrum.h"
#include "util/error.h"

using namespace attnlab::gp;

namespace {

// All L! position permutations σ of [V]^L in base-V order: the cycle type of σ and the image index of each x.
struct PermAction {
  std::vector<Partition> types;              // [L!] cycle type of σ
  std::vector<std::vector<int64_t>> image;   // [L!][V^L] index of σx
};

PermAction perm_action(int v, int L) {
  int64_t n = (int64_t)std::llround(std::pow(v, L));
  std::vector<std::vector<int>> digits(n, std::vector<int>(L));
  for (int64_t s = 0; s < n; ++s)
    for (int64_t c = s, i = L - 1; i >= 0; --i, c /= v) digits[s][i] = (int)(c % v);
  std::vector<int> sigma(L);
  std::iota(sigma.begin(), sigma.end(), 0);
  std::vector<int> y(L);
  PermAction a;
  do {
    Partition mu;
    std::vector<bool> seen(L, false);
    for (int i = 0; i < L; ++i) {
      int len = 0;
      for (int j = i; !seen[j]; j = sigma[j]) seen[j] = true, ++len;
      if (len) mu.push_back(len);
    }
    std::sort(mu.rbegin(), mu.rend());
    a.types.push_back(mu);
    std::vector<int64_t> img(n);
    for (int64_t s = 0; s < n; ++s) {
      for (int i = 0; i < L; ++i) y[sigma[i]] = digits[s][i];
      int64_t code = 0;
      for (int i = 0; i < L; ++i) code = code * v + y[i];
      img[s] = code;
    }
    a.image.push_back(std::move(img));
  } while (std::next_permutation(sigma.begin(), sigma.end()));
  return a;
}

// P_λ from the character formula over all L! permutations: P[x][σx] += d_λ χ^λ(σ) / L!.
torch::Tensor character_projector(const Partition& lambda, const PermAction& a) {
  int64_t n = a.image[0].size();
  auto p = torch::zeros({n, n}, torch::kFloat64);
  auto acc = p.accessor<double, 2>();
  std::map<Partition, double> chi;
  double scale = irrep_dimension(lambda) / factorial(partition_size(lambda));
  for (size_t k = 0; k < a.types.size(); ++k) {
    auto it = chi.find(a.types[k]);
    if (it == chi.end()) it = chi.emplace(a.types[k], scale * (double)character(lambda, a.types[k])).first;
    for (int64_t s = 0; s < n; ++s) acc[s][a.image[k][s]] += it->second;
  }
  return p;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// P_λ = Q_λ Q_λᵀ: idempotent (Q_λᵀ Q_λ = I, so P² = Q (QᵀQ) Qᵀ = P), mutually orthogonal (Q_λᵀ Q_μ = 0, so
// P_λ P_μ = 0), Σ P_λ = U Uᵀ = I, rank d_λ·#SSYT, and equal to the character formula. Budget 1e-12 absolute.
void expect_projectors(int v, int L) {
  auto b = isotypic_basis_build(v, L);
  auto u = isotypic_basis_dense(b);
  auto action = perm_action(v, L);
  int64_t n = u.size(0);
  EXPECT_LT(max_abs(torch::matmul(u, u.t()) - torch::eye(n, torch::kFloat64)), 1e-12);  // Σ_λ P_λ = I
  std::vector<torch::Tensor> qs;
  for (size_t s = 0; s < b.irreps.size(); ++s) {
    const auto& lam = b.irreps[s];
    auto q = isotypic_basis_sector(b, (int)s);
    int64_t r = q.size(1);
    EXPECT_EQ(r, (int64_t)std::llround(irrep_dimension(lam) * ssyt_count(lam, v))) << partition_name(lam);
    EXPECT_LT(max_abs(torch::matmul(q.t(), q) - torch::eye(r, torch::kFloat64)), 1e-12) << partition_name(lam);
    for (const auto& other : qs) EXPECT_LT(max_abs(torch::matmul(q.t(), other)), 1e-12) << partition_name(lam);
    auto p = torch::matmul(q, q.t());
    EXPECT_LT(max_abs(p - character_projector(lam, action)), 1e-12) << partition_name(lam) << " V=" << v << " L=" << L;
    qs.push_back(q);
  }
  if (n <= 100) {  // small cases: the same identities on the dense projectors themselves
    auto sum = torch::zeros({n, n}, torch::kFloat64);
    std::vector<torch::Tensor> ps;
    for (const auto& q : qs) {
      auto p = torch::matmul(q, q.t());
      EXPECT_LT(max_abs(torch::matmul(p, p) - p), 1e-12);
      for (const auto& other : ps) EXPECT_LT(max_abs(torch::matmul(p, other)), 1e-12);
      ps.push_back(p);
      sum += p;
    }
    EXPECT_LT(max_abs(sum - torch::eye(n, torch::kFloat64)), 1e-12);
    for (const auto& lam : partitions(L)) {  // unused irreps have no sector, and their character projector is 0
      if (ssyt_count(lam, v) == 0) {
        EXPECT_LT(max_abs(character_projector(lam, action)), 1e-12) << partition_name(lam);
      }
    }
  }
}

GramOptions opts(int v) {
  GramOptions o;
  o.vocab = v;
  return o;
}

std::vector<double> sorted_desc(std::vector<double> x) {
  std::sort(x.rbegin(), x.rend());
  return x;
}

}  // namespace

TEST(GpSectors, ProjectorsMatchCharacterFormulaV2L6) { expect_projectors(2, 6); }
TEST(GpSectors, ProjectorsMatchCharacterFormulaV3L4) { expect_projectors(3, 4); }  // no content collisions

TEST(GpSectors, ProjectorsMatchCharacterFormulaV3L6Collision) {
  // (4,1,1) and (3,3) share content 3 and are both used at V = 3: only the 3-cycle class sum separates them.
  auto coll = content_collisions(6);
  bool found = false;
  for (auto [i, j] : coll) {
    auto a = partitions(6)[i], b = partitions(6)[j];
    found = found || (a == Partition{4, 1, 1} && b == Partition{3, 3}) || (a == Partition{3, 3} && b == Partition{4, 1, 1});
  }
  ASSERT_TRUE(found);
  ASSERT_GT(ssyt_count({3, 3}, 3), 0);
  ASSERT_GT(ssyt_count({4, 1, 1}, 3), 0);
  expect_projectors(3, 6);
}

// Invariant kernels: T_λ = I_{d_λ} ⊗ B_λ, so its eigenvalues are kernel_spectrum's, each d_λ times.
TEST(GpSectors, InvariantSpecMatchesSpectrumBlocks) {  // budget 1e-10 of the top eigenvalue; leakage, defect 1e-10
  struct Case { std::string spec; int v, L; std::vector<double> q; };
  for (const auto& c : {Case{"embed(pos=iid,sp=0.5) | attn(tied,qk=1.5) | relu | meanpool", 2, 6, {}},
                        Case{"embed(random,pos=iid) | res(attn(tied) | dense) | erf | meanpool", 3, 4, {0.5, 0.3, 0.2}}}) {
    auto spec = kernel_spec_parse(c.spec);
    auto sec = kernel_sectors(spec, c.v, c.L, c.q, opts(c.v), 0);
    auto spe = kernel_spectrum(spec, c.v, c.L, c.q, opts(c.v));
    ASSERT_EQ(sec.sectors.size(), spe.irreps.size());
    double top = spe.irreps[0].eigenvalues[0];
    for (size_t s = 0; s < sec.sectors.size(); ++s) {
      const auto& st = sec.sectors[s];
      ASSERT_EQ(st.lambda, spe.irreps[s].lambda);
      std::vector<double> want;
      for (double e : spe.irreps[s].eigenvalues) want.insert(want.end(), (size_t)spe.irreps[s].dim, e);
      want = sorted_desc(want);
      ASSERT_EQ(st.eigenvalues.size(), want.size()) << partition_name(st.lambda);
      for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(st.eigenvalues[i], want[i], 1e-10 * top) << c.spec << " " << partition_name(st.lambda) << " #" << i;
      EXPECT_LT(st.leakage, 1e-10) << c.spec << " " << partition_name(st.lambda);
    }
    EXPECT_LT(sec.defect, 1e-10) << c.spec;
    EXPECT_NEAR(sec.trace, spe.expected_diag, 1e-10 * spe.expected_diag);
  }
}

// Non-invariant kernels: defect and leakage against dense P T P (character projectors), the trace identity,
// the top eigenvalues against eigvalsh(T), irrep weights summing to 1.
TEST(GpSectors, NonInvariantSpecsAgainstDenseProjectors) {  // budgets: 1e-12 relative unless stated
  const int v = 2, L = 6;
  for (std::string text : {"embed(pos=decay,ell=1) | attn(tied) | relu | meanpool",
                           "embed(pos=iid) | attn(tied,causal) | relu | meanpool",
                           "embed(pos=iid) | attn(tied) | relu | last"}) {
    auto spec = kernel_spec_parse(text);
    auto sec = kernel_sectors(spec, v, L, {0.7, 0.3}, opts(v), 8);
    auto seqs = all_sequences(v, L);
    auto sp = sequence_probs(v, L, {0.7, 0.3});
    auto t = operator_dense(kernel_gram(spec, seqs, seqs, opts(v)).k, sp);
    double ediag = (kernel_diag(spec, seqs, opts(v)) * torch::tensor(sp, torch::kFloat64)).sum().item<double>();
    EXPECT_NEAR(sec.trace, ediag, 1e-10 * ediag) << text;
    auto action = perm_action(v, L);
    auto sym = torch::zeros_like(t);
    double share_sum = 0;
    for (const auto& st : sec.sectors) {
      auto p = character_projector(st.lambda, action);
      sym += torch::matmul(p, torch::matmul(t, p));
      EXPECT_NEAR(st.trace, torch::matmul(p, t).trace().item<double>(), 1e-12 * ediag) << text;
      share_sum += st.share;
    }
    EXPECT_NEAR(share_sum, 1.0, 1e-12);
    double defect = (t - sym).norm().item<double>() / t.norm().item<double>();
    EXPECT_GT(defect, 1e-3) << text;  // clearly broken: invariant kernels sit at 1e-15
    EXPECT_NEAR(sec.defect, defect, 1e-12) << text;
    auto b = isotypic_basis_build(v, L);
    for (size_t s = 0; s < sec.sectors.size(); ++s) {
      auto q = isotypic_basis_sector(b, (int)s);
      auto tq = torch::matmul(t, q);
      auto resid = tq - torch::matmul(q, torch::matmul(q.t(), tq));
      double want = resid.norm().item<double>() / std::max(tq.norm().item<double>(), 1e-12 * t.norm().item<double>());
      EXPECT_NEAR(sec.sectors[s].leakage, want, 1e-10) << text << " " << partition_name(sec.sectors[s].lambda);
    }
    auto ev = torch::linalg::eigvalsh(t, "L").flip(0);
    ASSERT_EQ(sec.top.size(), 8u);
    for (size_t i = 0; i < sec.top.size(); ++i) {
      EXPECT_NEAR(sec.top[i].eigenvalue, ev[i].item<double>(), 1e-12 * ev[0].item<double>()) << text;
      double w = std::accumulate(sec.top[i].weights.begin(), sec.top[i].weights.end(), 0.0);
      EXPECT_NEAR(w, 1.0, 1e-12) << text;
    }
  }
}

// Decayed positions = iid positions + σ_p² Σ_{μ≠ν} e^{−|μ−ν|/ℓ}: to first order in ε = e^{−1/ℓ} the defect is
// c ε, so defect(ℓ = 0.1) / defect(ℓ = 0.05) = e^{10} (1 + O(e^{−10})), and the sectors approach the iid ones.
TEST(GpSectors, DecayedPositionsApproachIidAsEllShrinks) {
  const int v = 2, L = 6;
  auto run = [&](const std::string& pos) {
    return kernel_sectors(kernel_spec_parse("embed(" + pos + ") | attn(tied) | relu | meanpool"), v, L, {}, opts(v), 0);
  };
  auto iid = run("pos=iid");
  auto d005 = run("pos=decay,ell=0.05"), d01 = run("pos=decay,ell=0.1");
  EXPECT_LT(d005.defect, 10 * std::exp(-1 / 0.05));
  EXPECT_GT(d005.defect, 1e-3 * std::exp(-1 / 0.05));
  EXPECT_NEAR(d01.defect / d005.defect / std::exp(10.0), 1.0, 1e-3);  // budget: second order, e^{−10} ≈ 5e-5
  for (size_t s = 0; s < iid.sectors.size(); ++s)
    EXPECT_NEAR(d005.sectors[s].share, iid.sectors[s].share, 1e-7) << partition_name(iid.sectors[s].lambda);
  double prev = d01.defect;
  for (double ell : {0.3, 0.6, 1.0}) {  // grows with ℓ while e^{−1/ℓ} dominates (ℓ → ∞ restores symmetry)
    double d = run("pos=decay,ell=" + std::to_string(ell)).defect;
    EXPECT_GT(d, prev) << "ell = " << ell;
    prev = d;
  }
}

TEST(GpSectors, ErrorsAboveTheSizeLimit) {
  EXPECT_THROW(isotypic_basis_build(2, 13), attnlab::Error);
  EXPECT_THROW(isotypic_basis_build(64, 512), attnlab::Error);
  EXPECT_THROW(kernel_sectors(kernel_spec_parse("embed | meanpool"), 2, 4, {0.5}, opts(2), 0), attnlab::Error);
}
