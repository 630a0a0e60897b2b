// NNGP kernel layers against independent oracles: ReLU (arc-cosine) against a 1-D Gauss–Legendre integral of
// the conditional mean (the kink spoils Gauss–Hermite), erf against 2-D Gauss–Hermite (Golub–Welsch nodes),
// identity attention against a finite-width simulation, tied softmax against a scalar loop re-implementation,
// every layer kind through both Gram paths (factored shortcuts and materialised blocks) against a per-pair
// re-implementation on plain [L, L] matrices. Symmetries to 1e-12, PSD, block streaming, Monte Carlo
// convergence. Error budgets are next to each check.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "gp/kernels.h"
#include "util/error.h"

using namespace attnlab::gp;

namespace {

double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }
double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Gauss–Legendre nodes/weights on [-1, 1] by Newton iteration on P_n.
void gauss_legendre(int n, std::vector<double>& x, std::vector<double>& w) {
  x.resize(n);
  w.resize(n);
  for (int i = 0; i < n; ++i) {
    double z = std::cos(M_PI * (i + 0.75) / (n + 0.5)), pp = 0;
    for (int it = 0; it < 100; ++it) {
      double p1 = 1, p2 = 0;
      for (int j = 1; j <= n; ++j) {
        double p3 = p2;
        p2 = p1;
        p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j;
      }
      pp = n * (z * p1 - p2) / (z * z - 1);
      double dz = p1 / pp;
      z -= dz;
      if (std::abs(dz) < 1e-16) break;
    }
    x[i] = z;
    w[i] = 2 / ((1 - z * z) * pp * pp);
  }
}

double relu_oracle(double a, double b, double c) {
  double rho = c / std::sqrt(a * b), s = std::sqrt(b * (1 - rho * rho));
  std::vector<double> x, w;
  gauss_legendre(30, x, w);
  double total = 0;
  const int panels = 40;
  const double hi = 40.0, h = hi / panels;  // z1 in [0, 40]
  for (int p = 0; p < panels; ++p)
    for (int i = 0; i < 30; ++i) {
      double z1 = p * h + (x[i] + 1) * h / 2;
      double m = std::sqrt(b) * rho * z1;
      double cond = s > 0 ? m * Phi(m / s) + s * phi(m / s) : std::max(m, 0.0);
      total += w[i] * h / 2 * std::sqrt(a) * z1 * cond * phi(z1);
    }
  return total;
}

double erf_oracle(double a, double b, double c) {
  const int n = 90;  // Golub–Welsch for the Hermite weight e^{-x²}
  auto jac = torch::zeros({n, n}, torch::kFloat64);
  for (int i = 1; i < n; ++i) jac[i][i - 1] = jac[i - 1][i] = std::sqrt(i / 2.0);
  auto [ev, vec] = torch::linalg::eigh(jac, "L");
  double rho = c / std::sqrt(a * b), total = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double z1 = std::sqrt(2.0) * ev[i].item<double>(), z2 = std::sqrt(2.0) * ev[j].item<double>();
      double wi = std::sqrt(M_PI) * std::pow(vec[0][i].item<double>(), 2);
      double wj = std::sqrt(M_PI) * std::pow(vec[0][j].item<double>(), 2);
      double u = std::sqrt(a) * z1, v = std::sqrt(b) * (rho * z1 + std::sqrt(1 - rho * rho) * z2);
      total += wi * wj / M_PI * std::erf(u) * std::erf(v);
    }
  return total;
}

torch::Tensor scalar(double x) { return torch::full({1}, x, torch::kFloat64); }

torch::Tensor random_tokens(int64_t n, int64_t L, int vocab, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return at::randint(vocab, {n, L}, gen, torch::TensorOptions().dtype(torch::kInt64));
}

torch::Tensor gram(const std::string& spec, const torch::Tensor& a, const torch::Tensor& b, int vocab = 3) {
  GramOptions opt;
  opt.vocab = vocab;
  return kernel_gram(kernel_spec_parse(spec), a, b, opt).k;
}

double rel_err(const torch::Tensor& x, const torch::Tensor& y) {
  return ((x - y).abs().max() / y.abs().max()).item<double>();
}

// ---- a per-pair re-implementation of every layer on plain [L, L] matrices (loops where the library uses
// GEMMs over blocks, factors or folded readouts) ----
struct RefPair {
  torch::Tensor xx, yy, xy;  // [L, L]: Σ(x, x), Σ(y, y), Σ(x, y)
};

torch::Tensor ref_embed(const LayerSpec& e, const torch::Tensor& x, const torch::Tensor& y, int vocab) {
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto g = torch::eye(vocab, opts);
  if (e.tokens == TokenEmbed::Random) {  // docs/gp.md: E [V, d] standard normal from the embed seed, G = E Eᵀ/d
    auto gen = at::detail::createCPUGenerator(e.seed);
    auto emb = at::normal(0.0, 1.0, {vocab, e.random_dim}, gen, opts);
    g = torch::matmul(emb, emb.t()) / (double)e.random_dim;
  }
  int64_t L = x.size(0);
  auto out = torch::zeros({L, L}, opts);
  auto ga = g.accessor<double, 2>();
  auto xa = x.accessor<int64_t, 1>(), ya = y.accessor<int64_t, 1>();
  auto oa = out.accessor<double, 2>();
  for (int64_t m = 0; m < L; ++m)
    for (int64_t n = 0; n < L; ++n) {
      double v = e.sigma_e2 * ga[xa[m]][ya[n]];
      if (e.pos == PosKind::Iid && m == n) v += e.sigma_p2;
      if (e.pos == PosKind::Decay) v += e.sigma_p2 * std::exp(-std::abs((double)(m - n)) / e.decay_length);
      oa[m][n] = v;
    }
  return out;
}

torch::Tensor ref_pattern(const torch::Tensor& s, double qk, bool causal) {  // row softmax, loops
  int64_t L = s.size(0);
  auto a = torch::zeros({L, L}, torch::kFloat64);
  auto sa = s.accessor<double, 2>();
  auto aa = a.accessor<double, 2>();
  for (int64_t m = 0; m < L; ++m) {
    int64_t last = causal ? m : L - 1;
    double z = 0;
    for (int64_t n = 0; n <= last; ++n) z += std::exp(qk * sa[m][n]);
    for (int64_t n = 0; n <= last; ++n) aa[m][n] = std::exp(qk * sa[m][n]) / z;
  }
  return a;
}

torch::Tensor ref_identity(const LayerSpec& l, const torch::Tensor& c) {  // σ_V² σ_QK² c_μμ' Σ_{ν≤μ,ν'≤μ'} c²
  int64_t L = c.size(0);
  auto out = torch::zeros({L, L}, torch::kFloat64);
  auto ca = c.accessor<double, 2>();
  auto oa = out.accessor<double, 2>();
  for (int64_t m = 0; m < L; ++m)
    for (int64_t mp = 0; mp < L; ++mp) {
      double s = 0;
      for (int64_t n = 0; n < L; ++n)
        for (int64_t np = 0; np < L; ++np)
          if (!l.causal || (n <= m && np <= mp)) s += ca[n][np] * ca[n][np];
      oa[m][mp] = l.sigma_w2 * l.sigma_qk2 * ca[m][mp] * s + l.sigma_b2;
    }
  return out;
}

RefPair ref_layer(const LayerSpec& l, const RefPair& p) {
  auto col = [](const torch::Tensor& s) { return s.diagonal().unsqueeze(1); };
  auto row = [](const torch::Tensor& s) { return s.diagonal().unsqueeze(0); };
  switch (l.kind) {
    case LayerKind::Dense:
      return {l.sigma_w2 * p.xx + l.sigma_b2, l.sigma_w2 * p.yy + l.sigma_b2, l.sigma_w2 * p.xy + l.sigma_b2};
    case LayerKind::Relu:
      return {relu_cov(p.xx, col(p.xx), row(p.xx)), relu_cov(p.yy, col(p.yy), row(p.yy)),
              relu_cov(p.xy, col(p.xx), row(p.yy))};
    case LayerKind::Erf:
      return {erf_cov(p.xx, col(p.xx), row(p.xx)), erf_cov(p.yy, col(p.yy), row(p.yy)),
              erf_cov(p.xy, col(p.xx), row(p.yy))};
    case LayerKind::AttnIdentity: return {ref_identity(l, p.xx), ref_identity(l, p.yy), ref_identity(l, p.xy)};
    case LayerKind::AttnTied: {
      auto a = ref_pattern(p.xx, l.sigma_qk2, l.causal), b = ref_pattern(p.yy, l.sigma_qk2, l.causal);
      auto sw = [&](const torch::Tensor& u, const torch::Tensor& c, const torch::Tensor& v) {
        return l.sigma_w2 * torch::matmul(torch::matmul(u, c), v.t()) + l.sigma_b2;
      };
      return {sw(a, p.xx, a), sw(b, p.yy, b), sw(a, p.xy, b)};
    }
    case LayerKind::Residual: {
      RefPair f = p;
      for (const auto& sub : l.inner) f = ref_layer(sub, f);
      return {p.xx + f.xx, p.yy + f.yy, p.xy + f.xy};
    }
    default: throw std::runtime_error("ref_layer: no deterministic reference for this layer");
  }
}

torch::Tensor ref_gram(const KernelSpec& spec, const torch::Tensor& a, const torch::Tensor& b, int vocab) {
  auto out = torch::zeros({a.size(0), b.size(0)}, torch::kFloat64);
  const auto& e = spec.layers[0];
  for (int64_t i = 0; i < a.size(0); ++i)
    for (int64_t j = 0; j < b.size(0); ++j) {
      RefPair p{ref_embed(e, a[i], a[i], vocab), ref_embed(e, b[j], b[j], vocab), ref_embed(e, a[i], b[j], vocab)};
      for (size_t k = 1; k + 1 < spec.layers.size(); ++k) p = ref_layer(spec.layers[k], p);
      out[i][j] = spec.layers.back().kind == LayerKind::MeanPool ? p.xy.mean() : p.xy[-1][-1];
    }
  return out;
}

}  // namespace

TEST(GpKernels, ReluMatchesQuadrature) {  // budget 1e-10 relative
  const double cases[][3] = {{1, 1, 0.3}, {2, 0.5, -0.9}, {0.7, 1.3, 0.95}, {1, 1, -0.2}, {3, 2, 2.4}};
  for (auto& t : cases) {
    double closed = relu_cov(scalar(t[2]), scalar(t[0]), scalar(t[1])).item<double>();
    double quad = relu_oracle(t[0], t[1], t[2]);
    EXPECT_LT(std::abs(closed - quad) / std::abs(quad), 1e-10) << t[0] << " " << t[1] << " " << t[2];
  }
}

TEST(GpKernels, ErfMatchesQuadrature) {  // budget 1e-10 relative
  const double cases[][3] = {{1, 1, 0.3}, {0.5, 0.8, -0.5}, {0.3, 1.1, 0.5}, {0.2, 0.2, 0.19}};
  for (auto& t : cases) {
    double closed = erf_cov(scalar(t[2]), scalar(t[0]), scalar(t[1])).item<double>();
    double quad = erf_oracle(t[0], t[1], t[2]);
    EXPECT_LT(std::abs(closed - quad) / std::abs(quad), 1e-10) << t[0] << " " << t[1] << " " << t[2];
  }
}

TEST(GpKernels, IdentityAttentionMatchesFiniteWidthSimulation) {
  // z_μ = Σ_ν (q_μ·k_ν / √d) v_ν with q, k, v Gaussian features of covariance Σ; E[z z'] is the closed form.
  auto toks = random_tokens(2, 3, 3, 1);
  auto spec = kernel_spec_parse("embed(pos=iid,sp=0.5) | attn(identity,qk=0.8,v=1.5) | meanpool");
  auto closed = gram("embed(pos=iid,sp=0.5) | attn(identity,qk=0.8,v=1.5) | meanpool", toks, toks);
  auto s = embed_cov(spec.layers[0], toks, toks, 3);  // [2, 2, 3, 3]
  auto joint = s.permute({0, 2, 1, 3}).reshape({6, 6});
  auto g = torch::linalg::cholesky(joint + 1e-12 * torch::eye(6, torch::kFloat64));
  auto gen = at::detail::createCPUGenerator(7);
  const int64_t d = 64, reps = 4000;
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto draw = [&] { return torch::matmul(g, at::normal(0, 1, {reps, 6, d}, gen, opts)); };  // [reps, 6, d]
  auto q = std::sqrt(0.8) * draw(), k = draw(), v = std::sqrt(1.5) * draw();
  auto zs = std::vector<torch::Tensor>();
  for (int x = 0; x < 2; ++x) {
    auto sl = torch::indexing::Slice(3 * x, 3 * x + 3);
    auto logits = torch::matmul(q.index({torch::indexing::Slice(), sl}), k.index({torch::indexing::Slice(), sl}).transpose(1, 2)) / std::sqrt((double)d);
    zs.push_back(torch::matmul(logits, v.index({torch::indexing::Slice(), sl})).mean(1));  // [reps, d] mean-pooled
  }
  for (int x = 0; x < 2; ++x)
    for (int y = 0; y < 2; ++y) {
      auto prod = (zs[x] * zs[y]).mean(1);  // per replica, averaged over d output features
      double est = prod.mean().item<double>(), se = prod.std().item<double>() / std::sqrt((double)reps);
      EXPECT_LT(std::abs(est - closed[x][y].item<double>()), 5 * se) << x << y << " est " << est << " se " << se;
    }
}

TEST(GpKernels, TiedSoftmaxMatchesScalarLoops) {  // budget 1e-13 relative
  auto toks = random_tokens(2, 4, 3, 3);
  auto spec = kernel_spec_parse("embed(pos=decay,sp=0.7) | attn(tied,qk=1.7,v=1.2,b=0.1,causal) | meanpool");
  auto k = gram(spec.text, toks, toks);
  auto s = embed_cov(spec.layers[0], toks, toks, 3);
  auto pattern = [&](int x) {
    std::vector<std::vector<double>> a(4, std::vector<double>(4, 0));
    for (int m = 0; m < 4; ++m) {
      double z = 0;
      for (int n = 0; n <= m; ++n) z += std::exp(1.7 * s[x][x][m][n].item<double>());
      for (int n = 0; n <= m; ++n) a[m][n] = std::exp(1.7 * s[x][x][m][n].item<double>()) / z;
    }
    return a;
  };
  for (int x = 0; x < 2; ++x)
    for (int y = 0; y < 2; ++y) {
      auto ax = pattern(x), ay = pattern(y);
      double total = 0;
      for (int m = 0; m < 4; ++m)
        for (int mp = 0; mp < 4; ++mp) {
          double e = 0;
          for (int n = 0; n < 4; ++n)
            for (int np = 0; np < 4; ++np) e += ax[m][n] * s[x][y][n][np].item<double>() * ay[mp][np];
          total += 1.2 * e + 0.1;
        }
      EXPECT_NEAR(k[x][y].item<double>(), total / 16, 1e-13 * std::abs(total / 16));
    }
}

TEST(GpKernels, PermutationSymmetries) {  // budget 1e-12
  auto a = random_tokens(6, 7, 3, 11), b = random_tokens(5, 7, 3, 12);
  auto perm = torch::tensor({3, 0, 6, 1, 5, 2, 4}), perm2 = torch::tensor({1, 2, 3, 4, 5, 6, 0});
  auto pa = a.index_select(1, perm), pb = b.index_select(1, perm), qb = b.index_select(1, perm2);
  const std::string body = " | attn(tied,qk=1.3) | relu | res(dense | attn(tied)) | erf | meanpool";
  auto k_iid = gram("embed(pos=iid,sp=0.6)" + body, a, b);
  EXPECT_LT(rel_err(gram("embed(pos=iid,sp=0.6)" + body, pa, pb), k_iid), 1e-12);  // simultaneous
  EXPECT_GT(rel_err(gram("embed(pos=iid,sp=0.6)" + body, pa, qb), k_iid), 1e-3);   // independent: broken
  auto k_none = gram("embed" + body, a, b);
  EXPECT_LT(rel_err(gram("embed" + body, pa, qb), k_none), 1e-12);  // no positions: independent permutations
  auto k_dec = gram("embed(pos=decay)" + body, a, b);
  EXPECT_GT(rel_err(gram("embed(pos=decay)" + body, pa, pb), k_dec), 1e-3);  // decayed: generic σ breaks it
}

TEST(GpKernels, GramIsPsdSymmetricAndBlockInvariant) {
  auto x = random_tokens(40, 6, 3, 5);
  for (std::string spec : {"embed(pos=iid) | attn(tied) | relu | meanpool",
                           "embed(random,pos=decay) | attn(identity,causal) | erf | last",
                           "embed(pos=iid) | res(attn(tied,causal)) | dense(w=2,b=0.1) | relu | last"}) {
    GramOptions opt;
    opt.vocab = 3;
    auto k = kernel_gram(kernel_spec_parse(spec), x, x, opt).k;
    EXPECT_LT((k - k.t()).abs().max().item<double>(), 1e-12 * k.abs().max().item<double>()) << spec;
    auto ev = torch::linalg::eigvalsh(k, "L");
    EXPECT_GT(ev.min().item<double>(), -1e-10 * ev.max().item<double>()) << spec;
    opt.block = 7;
    EXPECT_LT(rel_err(kernel_gram(kernel_spec_parse(spec), x, x, opt).k, k), 1e-13) << spec;
    EXPECT_LT(rel_err(kernel_diag(kernel_spec_parse(spec), x, opt), k.diagonal()), 1e-13) << spec;
  }
}

TEST(GpKernels, BothPathsMatchPairwiseReferenceForEveryLayer) {  // budget 1e-12 relative
  // Each spec routes through different stages: all-factored (one [N, F] product), factored prefix with residual
  // concatenation, a materialised middle whose tied attention leaves the block transposed (and a residual that
  // adds a transposed branch back), trailing layers folded into the readout, and embeds that cannot be factored.
  const std::vector<std::string> specs = {
      "embed(pos=iid,sp=0.7) | attn(tied,qk=1.3,v=1.1,b=0.2) | meanpool",
      "embed(random,pos=decay,ell=1.5) | attn(tied,causal,qk=0.9) | dense(w=1.7,b=0.3) | last",
      "embed(pos=decay,sp=0.4,ell=3) | res(dense(w=0.5) | attn(tied,qk=2)) | relu | attn(tied,causal) | "
      "dense(w=2) | meanpool",
      "embed | relu | res(attn(tied,qk=1.5,b=0.1)) | erf | last",
      "embed(pos=iid) | attn(identity,qk=0.8,v=1.5,b=0.1) | attn(tied) | attn(tied,causal) | relu | meanpool",
      "embed(random,pos=iid,se=0.5) | attn(identity,causal) | erf | attn(tied,causal,b=0.2) | last",
      "embed(pos=decay) | dense(w=-0.5,b=2) | relu | dense(w=-1) | meanpool",
      "embed(pos=decay,ell=0.7) | res(res(attn(tied,causal) | dense) | erf) | meanpool",
  };
  auto a = random_tokens(7, 5, 3, 21), b = random_tokens(4, 5, 3, 22);
  for (const auto& text : specs) {
    auto spec = kernel_spec_parse(text);
    auto ref_ab = ref_gram(spec, a, b, 3), ref_aa = ref_gram(spec, a, a, 3);
    for (bool factored : {true, false})
      for (int64_t block : {1, 3, 256}) {
        GramOptions opt;
        opt.vocab = 3;
        opt.block = block;
        opt.factored = factored;
        EXPECT_LT(rel_err(kernel_gram(spec, a, b, opt).k, ref_ab), 1e-12) << text << " factored " << factored
                                                                          << " block " << block;
        EXPECT_LT(rel_err(kernel_gram(spec, a, a, opt).k, ref_aa), 1e-12) << text << " factored " << factored
                                                                          << " block " << block << " (symmetric)";
      }
    EXPECT_LT(rel_err(kernel_diag(spec, a, GramOptions{3}), ref_aa.diagonal()), 1e-12) << text;
  }
}

TEST(GpKernels, LayerApplyKeepsThePairLayout) {  // budget 1e-13 relative
  // layer_apply on [a, L, b, L] must return Σ(X_i, X'_j) at [i, μ, j, ν] even though tied attention computes
  // the transpose internally.
  auto a = random_tokens(3, 4, 3, 31), b = random_tokens(2, 4, 3, 32);
  auto spec = kernel_spec_parse("embed(pos=decay) | attn(tied,causal,qk=1.4,b=0.3) | meanpool");
  const auto& e = spec.layers[0];
  auto diag = [&](const torch::Tensor& x) { return embed_cov(e, x, x, 3).diagonal(0, 0, 1).permute({2, 0, 1}); };
  PairCov in{embed_cov(e, a, b, 3).permute({0, 2, 1, 3}).contiguous(), diag(a), diag(b), false};
  auto gen = at::detail::createCPUGenerator(0);
  auto out = layer_apply(spec.layers[1], in, gen);
  ASSERT_EQ(out.cross.sizes().vec(), (std::vector<int64_t>{3, 4, 2, 4}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j) {
      RefPair p{ref_embed(e, a[i], a[i], 3), ref_embed(e, b[j], b[j], 3), ref_embed(e, a[i], b[j], 3)};
      auto r = ref_layer(spec.layers[1], p);
      EXPECT_LT(rel_err(out.cross.select(2, j).select(0, i), r.xy), 1e-13) << i << " " << j;
      EXPECT_LT(rel_err(out.self_a[i], r.xx), 1e-13);
      EXPECT_LT(rel_err(out.self_b[j], r.yy), 1e-13);
    }
}

TEST(GpKernels, LongSequencesSplitIntoCappedBlocks) {  // budget 1e-12 relative
  // At L = 64 one block side is capped at 64 sequences (128 MiB per block), so 66 sequences take two block rows;
  // capped and smaller blocks agree (dense(w<0) cannot be factored, so the tied layer runs on the blocks).
  GramOptions opt;
  opt.vocab = 8;
  EXPECT_EQ(gram_block_side(opt, 64), 64);
  EXPECT_EQ(gram_block_side(opt, 5), 256);
  auto x = random_tokens(66, 64, 8, 41);
  auto spec = kernel_spec_parse("embed(pos=iid) | dense(w=-1,b=3) | attn(tied,causal) | erf | meanpool");
  auto k = kernel_gram(spec, x, x, opt).k;
  opt.block = 40;
  EXPECT_LT(rel_err(kernel_gram(spec, x, x, opt).k, k), 1e-12);
}

TEST(GpKernels, SqrtSoftmaxMonteCarlo) {
  auto x = random_tokens(4, 5, 3, 9);
  // σ_QK² = 0: all logits vanish, attention is uniform, exactly the tied form at σ_QK² = 0.
  auto k0 = gram("embed(pos=iid) | attn(sqrt,qk=0,M=8) | meanpool", x, x);
  EXPECT_LT(rel_err(k0, gram("embed(pos=iid) | attn(tied,qk=0) | meanpool", x, x)), 1e-13);
  // A reference with 4x the samples and another seed; the estimate is within 5 standard errors of it.
  auto spec = kernel_spec_parse("embed(pos=iid) | attn(sqrt,qk=2,M=64) | meanpool");
  GramOptions opt;
  opt.vocab = 3;
  auto est = kernel_gram(spec, x, x, opt);
  auto ref_spec = kernel_spec_parse("embed(pos=iid) | attn(sqrt,qk=2,M=256) | meanpool");
  opt.seed = 99;
  auto ref = kernel_gram(ref_spec, x, x, opt);
  auto z = (est.k - ref.k).abs() / (est.stderr_.pow(2) + ref.stderr_.pow(2)).sqrt();
  EXPECT_LT(z.max().item<double>(), 5.0);
  // The standard error falls as 1/√M: 4x the samples, ~1/2 the error (8 replicas: slack 1.4–2.9).
  double ratio = (est.stderr_.mean() / ref.stderr_.mean()).item<double>();
  EXPECT_GT(ratio, 1.4);
  EXPECT_LT(ratio, 2.9);
}

TEST(GpKernels, SpecErrors) {
  EXPECT_THROW(kernel_spec_parse("attn(tied) | meanpool"), attnlab::Error);
  EXPECT_THROW(kernel_spec_parse("embed | relu"), attnlab::Error);
  EXPECT_THROW(kernel_spec_parse("embed(pos=foo) | meanpool"), attnlab::Error);
  EXPECT_THROW(kernel_spec_parse("embed | attn(tied | meanpool"), attnlab::Error);
  EXPECT_THROW(kernel_spec_parse("embed | conv | meanpool"), attnlab::Error);
  EXPECT_THROW(kernel_spec_parse("embed | attn(qk=x) | meanpool"), attnlab::Error);
  EXPECT_NO_THROW(kernel_spec_parse("embed(random,pos=decay,ell=3) | res(attn(sqrt,M=4) | dense) | last"));
  GramOptions opt;
  opt.vocab = 2;
  auto bad = torch::tensor({{0, 1, 2}}, torch::kInt64);
  EXPECT_THROW(kernel_gram(kernel_spec_parse("embed | meanpool"), bad, bad, opt), attnlab::Error);
  auto ok = torch::tensor({{0, 1, 1}}, torch::kInt64);
  opt.block = 0;
  EXPECT_THROW(kernel_gram(kernel_spec_parse("embed | meanpool"), ok, ok, opt), attnlab::Error);
}
