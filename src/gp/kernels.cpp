// NNGP kernel layer maps and the streamed Gram computation (see kernels.h and docs/gp.md).
// A Gram runs in three stages: (1) per sequence, the longest prefix of layers that keeps the covariance
// factored, Σ(X, X') = U(X) U(X')ᵀ + c (embed, dense, tied attention, residual sums of those); (2) per block of
// pairs, the layers that need the cross covariance itself, on one [a·L, b·L] matrix; (3) trailing dense / tied
// layers folded into the readout vectors, K = s · w(X)ᵀ Σ(X, X') w(X') + k. GramOptions::factored = false skips
// (1) and (3): every layer runs on the materialised block (the reference path the tests compare against).
// Longer than 400 lines because the three stages share the layer maps and are only correct together.
#include "gp/kernels.h"

#include <cmath>

#include "util/error.h"

namespace attnlab::gp {

namespace {

using torch::indexing::Slice;

constexpr int64_t kBlockElems = int64_t(1) << 24;  // numbers in one [a, L, b, L] block (128 MiB of float64)

torch::TensorOptions f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

torch::Tensor mask_causal(const torch::Tensor& logits) {  // [..., L, L]: −inf where key ν > query μ
  int64_t L = logits.size(-1);
  auto upper = torch::ones({L, L}, torch::kBool).triu(1);
  return logits.masked_fill(upper, -std::numeric_limits<double>::infinity());
}

torch::Tensor attn_pattern(const torch::Tensor& logits, bool causal) {
  return torch::softmax(causal ? mask_causal(logits) : logits, -1);
}

// Symmetric square root G with G Gᵀ = S for PSD S [..., n, n] (eigen-decomposition; negative round-off clamped).
torch::Tensor psd_sqrt(const torch::Tensor& s) {
  auto [evals, evecs] = torch::linalg::eigh(s, "L");
  return evecs * evals.clamp_min(0).sqrt().unsqueeze(-2);
}

// Softmax attention at 1/√d_k: logits s = √σ_QK² G Z Gᵀ with G Gᵀ the joint covariance, Z standard normal.
// Pair layout: cross [r, c, L, L], self_a [r, 1, L, L], self_b [1, c, L, L]; diagonal: all [n, L, L]. Rows are
// split so that one chunk of samples holds at most kBlockElems numbers.
torch::Tensor attn_sqrt_mc(const LayerSpec& l, const torch::Tensor& cross, const torch::Tensor& self_a,
                           const torch::Tensor& self_b, bool diagonal, torch::Generator& gen) {
  const int64_t L = cross.size(-1), chunk = 16;
  if (!diagonal && cross.size(0) > 1) {
    int64_t rows = std::max<int64_t>(1, kBlockElems / (chunk * cross.size(1) * 4 * L * L));
    if (rows < cross.size(0)) {
      std::vector<torch::Tensor> parts;
      for (int64_t i0 = 0; i0 < cross.size(0); i0 += rows) {
        auto sl = Slice(i0, std::min(cross.size(0), i0 + rows));
        parts.push_back(attn_sqrt_mc(l, cross.index({sl}), self_a.index({sl}), self_b, false, gen));
      }
      return torch::cat(parts, 0);
    }
  }
  torch::Tensor joint;
  if (diagonal) {
    joint = cross;
  } else {
    auto shape = cross.sizes().vec();
    auto top = torch::cat({self_a.expand(shape), cross}, -1);
    auto bottom = torch::cat({cross.transpose(-1, -2), self_b.expand(shape)}, -1);
    joint = torch::cat({top, bottom}, -2);  // [..., 2L, 2L]
  }
  auto g = psd_sqrt(joint);
  auto acc = torch::zeros_like(cross);
  for (int64_t m0 = 0; m0 < l.mc_samples; m0 += chunk) {
    int64_t m = std::min<int64_t>(chunk, l.mc_samples - m0);
    auto zshape = joint.sizes().vec();
    zshape.insert(zshape.begin(), m);
    auto z = at::normal(0.0, 1.0, zshape, gen, joint.options());
    auto s = std::sqrt(l.sigma_qk2) * torch::matmul(torch::matmul(g, z), g.transpose(-1, -2));
    torch::Tensor a, b;
    if (diagonal) {
      a = b = attn_pattern(s, l.causal);
    } else {
      a = attn_pattern(s.index({"...", Slice(0, L), Slice(0, L)}), l.causal);
      b = attn_pattern(s.index({"...", Slice(L, 2 * L), Slice(L, 2 * L)}), l.causal);
    }
    acc += torch::matmul(torch::matmul(a, cross), b.transpose(-1, -2)).sum(0);
  }
  return l.sigma_w2 * acc / (double)l.mc_samples + l.sigma_b2;
}

// ---- per-sequence maps: the self covariance S [n, L, L] of each sequence ----

torch::Tensor self_map(const LayerSpec& l, const torch::Tensor& s, torch::Generator& gen) {
  auto var_col = s.diagonal(0, -2, -1).unsqueeze(-1);  // [n, L, 1]
  auto var_row = s.diagonal(0, -2, -1).unsqueeze(-2);  // [n, 1, L]
  switch (l.kind) {
    case LayerKind::Dense: return l.sigma_w2 * s + l.sigma_b2;
    case LayerKind::Relu: return relu_cov(s, var_col, var_row);
    case LayerKind::Erf: return erf_cov(s, var_col, var_row);
    case LayerKind::AttnIdentity: {
      auto sq = s * s;
      auto sum = l.causal ? sq.cumsum(-2).cumsum(-1) : sq.sum({-2, -1}, true);
      return l.sigma_w2 * l.sigma_qk2 * s * sum + l.sigma_b2;
    }
    case LayerKind::AttnTied: {
      auto a = attn_pattern(l.sigma_qk2 * s, l.causal);
      return l.sigma_w2 * torch::matmul(torch::matmul(a, s), a.transpose(-1, -2)) + l.sigma_b2;
    }
    case LayerKind::AttnSqrt: return attn_sqrt_mc(l, s, s, s, true, gen);
    case LayerKind::Residual: {
      auto f = s;
      for (const auto& sub : l.inner) f = self_map(sub, f, gen);
      return s + f;
    }
    default: throw Error("internal: layer kind has no covariance map", "this is a bug in attnlab::gp");
  }
}

// ---- per-block maps: the cross covariance of a block of pairs as one [r·L, c·L] matrix ----

struct Block {
  torch::Tensor cross;   // [r, L, c, L]: Σ(row i, column j)_μν at [i, μ, j, ν]
  torch::Tensor self_r;  // [r, L, L]
  torch::Tensor self_c;  // [c, L, L]
  bool swapped = false;  // rows hold the second token set (tied attention leaves its output transposed)
};

// σ_V² A(rows) Σ A(cols)ᵀ + σ_b² for every pair of the block, returned transposed as [c, L, r, L]. For a chunk
// of q row sequences, one [L, L] × [L, c·L] GEMM per row gives A_i Σ_ij for every j (≤ 32 MiB, cache-sized);
// then per column sequence j one [L, L] × [L, q·L] GEMM whose right operand is column slice j of that chunk
// read in place (leading dimension c·L) writes A'_j (A_i Σ_ij)ᵀ into rows of the output. No copies; Σ is read
// once and the output written once. a_r [r, L, L] and a_c [c, L, L] are the patterns, σ_V² folded into a_c.
torch::Tensor tied_cross(const LayerSpec& l, const Block& in, const torch::Tensor& a_r, const torch::Tensor& a_c) {
  int64_t r = in.self_r.size(0), c = in.self_c.size(0), L = in.self_r.size(-1);
  const int64_t q_max = std::max<int64_t>(1, (int64_t(1) << 22) / (L * c * L));
  auto sigma = in.cross.reshape({r, L, c * L});
  auto out = torch::empty({c, L, r * L}, f64());
  auto chunk = torch::empty({std::min(q_max, r), L, c * L}, f64());
  for (int64_t i0 = 0; i0 < r; i0 += q_max) {
    int64_t q = std::min(q_max, r - i0);
    auto left = chunk.narrow(0, 0, q);
    torch::matmul_out(left, a_r.narrow(0, i0, q), sigma.narrow(0, i0, q));  // A_i Σ_ij
    auto left2 = left.view({q * L, c * L});
    for (int64_t j = 0; j < c; ++j) {
      auto o = out[j].narrow(1, i0 * L, q * L);
      torch::mm_out(o, a_c[j], left2.narrow(1, j * L, L).t());  // A'_j (A_i Σ_ij)ᵀ = (A_i Σ_ij A'_jᵀ)ᵀ
    }
  }
  if (l.sigma_b2 != 0) out.add_(l.sigma_b2);
  return out.view({c, L, r, L});
}

torch::Tensor cross_map(const LayerSpec& l, const Block& in, torch::Generator& gen) {
  int64_t r = in.self_r.size(0), c = in.self_c.size(0), L = in.self_r.size(-1);
  auto var_r = in.self_r.diagonal(0, -2, -1).reshape({r, L, 1, 1});
  auto var_c = in.self_c.diagonal(0, -2, -1).reshape({1, 1, c, L});
  const auto& x = in.cross;
  switch (l.kind) {
    case LayerKind::Dense: return l.sigma_w2 * x + l.sigma_b2;
    case LayerKind::Relu: return relu_cov(x, var_r, var_c);
    case LayerKind::Erf: return erf_cov(x, var_r, var_c);
    case LayerKind::AttnIdentity: {
      auto sq = x * x;
      auto sum = l.causal ? sq.cumsum(1).cumsum(3) : sq.sum({1, 3}, true);
      return l.sigma_w2 * l.sigma_qk2 * x * sum + l.sigma_b2;
    }
    case LayerKind::AttnSqrt: {  // Monte Carlo per pair: pair layout [r, c, L, L] in and out
      auto out = attn_sqrt_mc(l, x.permute({0, 2, 1, 3}), in.self_r.unsqueeze(1), in.self_c.unsqueeze(0), false, gen);
      return out.permute({0, 2, 1, 3}).contiguous();
    }
    default: throw Error("internal: layer kind has no covariance map", "this is a bug in attnlab::gp");
  }
}

Block block_apply(const LayerSpec& l, const Block& in, torch::Generator& gen) {
  if (l.kind == LayerKind::Residual) {
    Block f = in;
    for (const auto& sub : l.inner) f = block_apply(sub, f, gen);
    if (f.swapped == in.swapped) return {in.cross + f.cross, in.self_r + f.self_r, in.self_c + f.self_c, in.swapped};
    return {in.cross + f.cross.permute({2, 3, 0, 1}), in.self_r + f.self_c, in.self_c + f.self_r, in.swapped};
  }
  if (l.kind == LayerKind::AttnTied) {  // patterns once for the self and the cross maps
    auto a_r = attn_pattern(l.sigma_qk2 * in.self_r, l.causal), a_c = attn_pattern(l.sigma_qk2 * in.self_c, l.causal);
    auto sandwich = [&](const torch::Tensor& a, const torch::Tensor& s) {
      return l.sigma_w2 * torch::matmul(torch::matmul(a, s), a.transpose(1, 2)) + l.sigma_b2;
    };
    return {tied_cross(l, in, a_r, l.sigma_w2 * a_c), sandwich(a_c, in.self_c), sandwich(a_r, in.self_r), !in.swapped};
  }
  auto sr = self_map(l, in.self_r, gen);
  auto sc = self_map(l, in.self_c, gen);
  return {cross_map(l, in, gen), sr, sc, in.swapped};
}

// ---- the input layer ----

torch::Tensor token_embeddings(const LayerSpec& e, int vocab) {  // [V, d]: the fixed random embeddings E
  auto gen = at::detail::createCPUGenerator(e.seed);
  return at::normal(0.0, 1.0, {vocab, e.random_dim}, gen, f64());
}

torch::Tensor token_gram(const LayerSpec& e, int vocab) {  // [V, V]
  if (e.tokens == TokenEmbed::OneHot) return torch::eye(vocab, f64());
  auto emb = token_embeddings(e, vocab);
  return torch::matmul(emb, emb.t()) / (double)e.random_dim;
}

torch::Tensor positional_cov(const LayerSpec& e, int64_t L) {  // [L, L]
  if (e.pos == PosKind::None) return torch::zeros({L, L}, f64());
  if (e.pos == PosKind::Iid) return e.sigma_p2 * torch::eye(L, f64());
  auto idx = torch::arange(L, f64());
  auto dist = (idx.unsqueeze(1) - idx.unsqueeze(0)).abs();
  return e.sigma_p2 * torch::exp(-dist / e.decay_length);
}

torch::Tensor embed_self(const LayerSpec& e, const torch::Tensor& tokens, int vocab) {  // [N, L, L]
  auto g = token_gram(e, vocab);
  auto rows = g.index_select(0, tokens.flatten()).view({tokens.size(0), tokens.size(1), vocab});
  auto onehot = torch::one_hot(tokens, vocab).to(torch::kFloat64);  // [N, L, V]
  return e.sigma_e2 * torch::matmul(rows, onehot.transpose(1, 2)) + positional_cov(e, tokens.size(1));
}

torch::Tensor embed_cross(const LayerSpec& e, const torch::Tensor& ta, const torch::Tensor& tb, int vocab) {
  int64_t a = ta.size(0), b = tb.size(0), L = ta.size(1);
  auto rows = (e.sigma_e2 * token_gram(e, vocab)).index_select(0, ta.flatten());  // [a·L, V]
  auto onehot = torch::one_hot(tb.flatten(), vocab).to(torch::kFloat64);          // [b·L, V]
  auto c = torch::matmul(rows, onehot.t()).view({a, L, b, L});
  if (e.pos == PosKind::Iid) c.diagonal(0, 1, 3).add_(e.sigma_p2);  // only the μ = ν entries
  if (e.pos == PosKind::Decay) c.add_(positional_cov(e, L).view({1, L, 1, L}));
  return c;
}

// ---- the factored prefix: Σ(X, X') = U(X) U(X')ᵀ + c ----

struct Factor {
  torch::Tensor u;  // [n, L, F]
  double c = 0;     // constant added to every entry (bias variances)
};

bool embed_factorable(const LayerSpec& e) {
  return e.sigma_e2 >= 0 && (e.pos == PosKind::None || e.sigma_p2 >= 0) &&
         (e.pos != PosKind::Decay || e.decay_length > 0);
}

int64_t embed_width(const LayerSpec& e, int vocab, int64_t L) {
  return (e.tokens == TokenEmbed::OneHot ? vocab : e.random_dim) + (e.pos == PosKind::None ? 0 : L);
}

// U(X) = [√σ_e² T(X), R] with T the one-hot rows (or E[x]/√d) and R Rᵀ the positional covariance: √σ_p² I for
// i.i.d. positions, and for σ_p² ρ^|μ−ν| (ρ = e^{−1/ℓ}) the exact Cholesky factor R_μ0 = σ_p ρ^μ,
// R_μν = σ_p ρ^{μ−ν} √(1−ρ²) (1 ≤ ν ≤ μ).
Factor embed_factor(const LayerSpec& e, const torch::Tensor& tokens, int vocab) {
  int64_t n = tokens.size(0), L = tokens.size(1);
  torch::Tensor tok = e.tokens == TokenEmbed::OneHot
                          ? torch::one_hot(tokens, vocab).to(torch::kFloat64) * std::sqrt(e.sigma_e2)
                          : token_embeddings(e, vocab).index_select(0, tokens.flatten()).view({n, L, e.random_dim}) *
                                std::sqrt(e.sigma_e2 / e.random_dim);
  if (e.pos == PosKind::None) return {tok, 0.0};
  torch::Tensor r;
  if (e.pos == PosKind::Iid) {
    r = std::sqrt(e.sigma_p2) * torch::eye(L, f64());
  } else {
    auto idx = torch::arange(L, f64());
    auto pow = torch::exp(-(idx.unsqueeze(1) - idx.unsqueeze(0)).clamp_min(0) / e.decay_length).tril();  // ρ^{μ−ν}
    auto col_scale = torch::full({L}, std::sqrt(-std::expm1(-2.0 / e.decay_length)), f64());  // √(1 − ρ²)
    col_scale[0] = 1.0;
    r = std::sqrt(e.sigma_p2) * pow * col_scale;
  }
  return {torch::cat({tok, r.expand({n, L, L})}, -1), 0.0};
}

bool factor_closed(const LayerSpec& l) {  // the layer maps U Uᵀ + c to U' U'ᵀ + c'
  if (l.kind == LayerKind::Dense || l.kind == LayerKind::AttnTied) return l.sigma_w2 >= 0;
  if (l.kind != LayerKind::Residual) return false;
  for (const auto& sub : l.inner)
    if (!factor_closed(sub)) return false;
  return true;
}

int64_t factor_width(const LayerSpec& l, int64_t f) {  // residual sums concatenate the factors
  if (l.kind != LayerKind::Residual) return f;
  int64_t g = f;
  for (const auto& sub : l.inner) g = factor_width(sub, g);
  return f + g;
}

// Dense: √σ_w² U, σ_w² c + σ_b². Tied attention: √σ_V² A U, σ_V² c + σ_b² (A 1 = 1, so A c 11ᵀ A'ᵀ = c 11ᵀ),
// A = rowsoftmax(σ_QK² (U Uᵀ + c)). Residual: [U, U_f], c + c_f.
Factor factor_apply(const LayerSpec& l, const Factor& f) {
  if (l.kind == LayerKind::Residual) {
    Factor g = f;
    for (const auto& sub : l.inner) g = factor_apply(sub, g);
    return {torch::cat({f.u, g.u}, -1), f.c + g.c};
  }
  double c = l.sigma_w2 * f.c + l.sigma_b2;
  if (l.kind == LayerKind::Dense) return {std::sqrt(l.sigma_w2) * f.u, c};
  auto self = torch::matmul(f.u, f.u.transpose(1, 2)) + f.c;
  return {std::sqrt(l.sigma_w2) * torch::matmul(attn_pattern(l.sigma_qk2 * self, l.causal), f.u), c};
}

struct Plan {
  bool factored = false;  // stage (1) runs: the block starts from U(X) U(X')ᵀ + c
  size_t prefix_end = 1;  // layers [1, prefix_end) run on factors, per sequence
  size_t tail_begin = 1;  // layers [tail_begin, n−1) fold into the readout; [prefix_end, tail_begin) run on blocks
};

Plan plan_of(const KernelSpec& spec, const GramOptions& opt, int64_t L) {
  const auto& layers = spec.layers;
  const size_t n = layers.size();
  Plan p;
  p.tail_begin = n - 1;
  if (!opt.factored) return p;
  p.factored = embed_factorable(layers[0]);
  if (p.factored) {
    const int64_t max_width = std::max<int64_t>(4 * L, 64);  // wider factors cost more than the block they save
    int64_t f = embed_width(layers[0], opt.vocab, L);
    while (p.prefix_end + 1 < n && factor_closed(layers[p.prefix_end]) &&
           factor_width(layers[p.prefix_end], f) <= max_width)
      f = factor_width(layers[p.prefix_end++], f);
  }
  while (p.tail_begin > p.prefix_end && (layers[p.tail_begin - 1].kind == LayerKind::Dense ||
                                         layers[p.tail_begin - 1].kind == LayerKind::AttnTied))
    --p.tail_begin;
  return p;
}

Factor factor_run(const KernelSpec& spec, const Plan& plan, const torch::Tensor& tokens, int vocab) {
  Factor f = embed_factor(spec.layers[0], tokens, vocab);
  for (size_t k = 1; k < plan.prefix_end; ++k) f = factor_apply(spec.layers[k], f);
  return f;
}

Block block_start(const KernelSpec& spec, const Plan& plan, const torch::Tensor& xa, const torch::Tensor& xb,
                  int vocab) {
  const auto& e = spec.layers[0];
  if (!plan.factored) return {embed_cross(e, xa, xb, vocab), embed_self(e, xa, vocab), embed_self(e, xb, vocab)};
  auto fa = factor_run(spec, plan, xa, vocab);
  auto fb = xa.is_same(xb) ? fa : factor_run(spec, plan, xb, vocab);
  int64_t a = xa.size(0), b = xb.size(0), L = xa.size(1), F = fa.u.size(2);
  auto cross = torch::matmul(fa.u.reshape({a * L, F}), fb.u.reshape({b * L, F}).t()).view({a, L, b, L});
  if (fa.c != 0) cross.add_(fa.c);
  auto self = [](const Factor& f) { return torch::matmul(f.u, f.u.transpose(1, 2)) + f.c; };
  return {cross, self(fa), self(fb)};
}

// ---- readouts ----

torch::Tensor readout_weights(bool mean, int64_t n, int64_t L) {  // [n, L]: w with Σ_μ w_μ = 1
  if (mean) return torch::full({n, L}, 1.0 / (double)L, f64());
  auto w = torch::zeros({n, L}, f64());
  w.select(1, L - 1).fill_(1.0);
  return w;
}

// K for the block, [a, b]: the readout of the cross covariance after the tail layers [tail_begin, n−1), as
// s · w_rᵀ Σ w_c + k with w pulled back through each tail layer (tied attention: w ← Aᵀ w).
torch::Tensor block_readout(const KernelSpec& spec, size_t tail_begin, const Block& b, torch::Generator& gen) {
  const auto& layers = spec.layers;
  const bool mean = layers.back().kind == LayerKind::MeanPool;
  int64_t r = b.self_r.size(0), c = b.self_c.size(0), L = b.self_r.size(-1);
  torch::Tensor k;
  if (tail_begin + 1 == layers.size()) {
    k = mean ? b.cross.sum(3).sum(1) / (double)(L * L) : b.cross.select(3, L - 1).select(1, L - 1);
  } else {
    std::vector<std::pair<torch::Tensor, torch::Tensor>> patterns(layers.size());  // tied layers: (A_r, A_c)
    auto sr = b.self_r, sc = b.self_c;
    for (size_t t = tail_begin; t + 1 < layers.size(); ++t) {
      const auto& l = layers[t];
      if (l.kind == LayerKind::AttnTied)
        patterns[t] = {attn_pattern(l.sigma_qk2 * sr, l.causal), attn_pattern(l.sigma_qk2 * sc, l.causal)};
      sr = self_map(l, sr, gen);
      sc = self_map(l, sc, gen);
    }
    auto wr = readout_weights(mean, r, L), wc = readout_weights(mean, c, L);
    double s = 1, k0 = 0;
    for (size_t t = layers.size() - 1; t-- > tail_begin;) {
      const auto& l = layers[t];
      k0 += s * l.sigma_b2;  // Σ_μ w_μ = 1 is kept by Aᵀ (rows of A sum to 1)
      s *= l.sigma_w2;
      if (l.kind == LayerKind::AttnTied) {
        wr = torch::matmul(patterns[t].first.transpose(1, 2), wr.unsqueeze(-1)).squeeze(-1);
        wc = torch::matmul(patterns[t].second.transpose(1, 2), wc.unsqueeze(-1)).squeeze(-1);
      }
    }
    auto half = (b.cross * wc.view({1, 1, c, L})).sum(3);  // [r, L, c]
    k = s * (half * wr.view({r, L, 1})).sum(1) + k0;
  }
  return b.swapped ? k.t() : k;
}

// Every layer factor-closed: K = φ_a φ_bᵀ + c with φ the readout row of U (mean over μ, or the last row).
torch::Tensor factored_gram(const KernelSpec& spec, const Plan& plan, const torch::Tensor& ta,
                            const torch::Tensor& tb, const GramOptions& opt) {
  const bool mean = spec.layers.back().kind == LayerKind::MeanPool;
  double c = 0;
  auto features = [&](const torch::Tensor& tokens) {
    int64_t n = tokens.size(0), L = tokens.size(1), step = std::max<int64_t>(1, kBlockElems / (L * L));
    std::vector<torch::Tensor> parts;
    for (int64_t i0 = 0; i0 < n; i0 += step) {
      auto f = factor_run(spec, plan, tokens.index({Slice(i0, std::min(n, i0 + step))}), opt.vocab);
      parts.push_back(mean ? f.u.mean(1) : f.u.select(1, L - 1));
      c = f.c;
    }
    return torch::cat(parts, 0);  // [n, F]
  };
  auto phi_a = features(ta);
  auto phi_b = ta.is_same(tb) ? phi_a : features(tb);
  return torch::matmul(phi_a, phi_b.t()) + c;
}

Gram gram_once(const KernelSpec& spec, const torch::Tensor& ta, const torch::Tensor& tb, const GramOptions& opt,
               uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  const auto& layers = spec.layers;
  int64_t na = ta.size(0), nb = tb.size(0), side = gram_block_side(opt, ta.size(1));
  const Plan plan = plan_of(spec, opt, ta.size(1));
  if (plan.factored && plan.prefix_end + 1 == layers.size()) {
    auto k = factored_gram(spec, plan, ta, tb, opt);
    return {k, torch::zeros_like(k)};
  }
  auto out = torch::empty({na, nb}, torch::kFloat64);
  const bool same = ta.is_same(tb);  // a symmetric Gram: compute the upper block triangle, mirror the rest
  for (int64_t i0 = 0; i0 < na; i0 += side)
    for (int64_t j0 = same ? i0 : 0; j0 < nb; j0 += side) {
      auto xa = ta.index({Slice(i0, std::min(na, i0 + side))});
      auto xb = same && i0 == j0 ? xa : tb.index({Slice(j0, std::min(nb, j0 + side))});
      Block b = block_start(spec, plan, xa, xb, opt.vocab);
      for (size_t k = plan.prefix_end; k < plan.tail_begin; ++k) b = block_apply(layers[k], b, gen);
      auto block = block_readout(spec, plan.tail_begin, b, gen);
      out.index_put_({Slice(i0, i0 + xa.size(0)), Slice(j0, j0 + xb.size(0))}, block);
      if (same && j0 != i0) out.index_put_({Slice(j0, j0 + xb.size(0)), Slice(i0, i0 + xa.size(0))}, block.t());
    }
  return {out, torch::zeros_like(out)};
}

}  // namespace

namespace {

torch::Tensor scaled(const torch::Tensor& c, const torch::Tensor& u, const torch::Tensor& v) {  // c u v, broadcast
  auto x = torch::mul(c, u);
  return x.sizes() == at::infer_size(x.sizes(), v.sizes()) ? x.mul_(v) : x * v;
}

}  // namespace

// Both maps scale c by per-row and per-column factors (a, b are small broadcast tensors in the Gram), so the
// full-size work is one product and a few in-place passes.
torch::Tensor relu_cov(const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() > 0 && b.numel() > 0 && a.min().item<double>() >= 0 && b.min().item<double>() >= 0) {
    auto ra = a.sqrt(), rb = b.sqrt();
    auto inv = [](const torch::Tensor& r) { return torch::where(r > 0, 1 / r, torch::zeros_like(r)); };
    auto rho = scaled(c, inv(ra), inv(rb)).clamp_(-1.0, 1.0);  // cos θ; 0 where a variance is 0
    auto out = (1.0 - rho).mul_(1.0 + rho).sqrt_();         // sin θ = √((1 − cos θ)(1 + cos θ))
    out.add_(torch::acos(rho).neg_().add_(M_PI).mul_(rho));    // + (π − θ) cos θ
    return out.mul_(ra / (2 * M_PI)).mul_(rb);  // out has the full broadcast shape
  }
  auto norm = (a * b).sqrt();  // negative variances (only from dense(w<0)): the plain formula
  auto rho = (c / norm.clamp_min(1e-300)).clamp(-1.0, 1.0);
  auto theta = torch::acos(rho);
  auto out = norm / (2 * M_PI) * (torch::sin(theta) + (M_PI - theta) * rho);
  return torch::where(norm > 0, out, torch::zeros_like(out));
}

torch::Tensor erf_cov(const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b) {
  auto x = scaled(c, 2 / (1 + 2 * a).sqrt(), 1 / (1 + 2 * b).sqrt()).clamp_(-1.0, 1.0);
  return x.asin_().mul_(2 / M_PI);
}

torch::Tensor embed_cov(const LayerSpec& e, const torch::Tensor& ta, const torch::Tensor& tb, int vocab) {
  return embed_cross(e, ta, tb, vocab).permute({0, 2, 1, 3});
}

PairCov layer_apply(const LayerSpec& l, const PairCov& in, torch::Generator& gen) {
  if (in.diagonal) {
    auto s = self_map(l, in.cross, gen);
    return {s, s, s, true};
  }
  Block b = block_apply(l, {in.cross, in.self_a, in.self_b, false}, gen);
  if (!b.swapped) return {b.cross, b.self_r, b.self_c, false};
  return {b.cross.permute({2, 3, 0, 1}).contiguous(), b.self_c, b.self_r, false};
}

int64_t gram_block_side(const GramOptions& opt, int64_t L) {
  auto cap = (int64_t)std::sqrt((double)kBlockElems / (double)(L * L));
  return std::max<int64_t>(1, std::min(opt.block, cap));
}

void tokens_check(const torch::Tensor& tokens, int vocab, const std::string& what) {
  check(tokens.dim() == 2 && tokens.scalar_type() == torch::kInt64,
        what + ": tokens must be a [N, L] int64 tensor", "pass token ids in 0..V-1");
  check(tokens.size(1) >= 1, what + ": sequences are empty", "use L >= 1");
  auto bad = ((tokens < 0) | (tokens >= vocab)).nonzero();
  if (bad.size(0) > 0) {
    int64_t r = bad[0][0].item<int64_t>(), p = bad[0][1].item<int64_t>();
    throw Error(what + ": token " + std::to_string(tokens[r][p].item<int64_t>()) + " at sequence " +
                    std::to_string(r) + ", position " + std::to_string(p) + " is outside 0.." +
                    std::to_string(vocab - 1),
                "tokens must be below the vocabulary size V = " + std::to_string(vocab));
  }
}

Gram kernel_gram(const KernelSpec& spec, const torch::Tensor& ta, const torch::Tensor& tb, const GramOptions& opt) {
  tokens_check(ta, opt.vocab, "kernel_gram (first set)");
  tokens_check(tb, opt.vocab, "kernel_gram (second set)");
  check(ta.size(1) == tb.size(1), "kernel_gram: the two sets have lengths " + std::to_string(ta.size(1)) + " and " +
                                      std::to_string(tb.size(1)),
        "kernels compare sequences of one length L");
  check(opt.block >= 1, "kernel_gram: block size " + std::to_string(opt.block) + " is not positive",
        "set GramOptions::block >= 1 (sequences per block side)");
  torch::NoGradGuard no_grad;
  if (!spec.has_monte_carlo()) return gram_once(spec, ta, tb, opt, opt.seed);
  check(opt.mc_replicas >= 2, "kernel_gram: Monte Carlo needs at least 2 replicas for a standard error",
        "set mc_replicas >= 2");
  std::vector<torch::Tensor> reps;
  for (int r = 0; r < opt.mc_replicas; ++r) reps.push_back(gram_once(spec, ta, tb, opt, opt.seed * 1000003 + r).k);
  auto all = torch::stack(reps);
  return {all.mean(0), all.std(0) / std::sqrt((double)opt.mc_replicas)};
}

torch::Tensor kernel_diag(const KernelSpec& spec, const torch::Tensor& tokens, const GramOptions& opt) {
  tokens_check(tokens, opt.vocab, "kernel_diag");
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(opt.seed);
  auto s = embed_self(spec.layers[0], tokens, opt.vocab);
  for (size_t k = 1; k + 1 < spec.layers.size(); ++k) s = self_map(spec.layers[k], s, gen);
  return spec.layers.back().kind == LayerKind::MeanPool ? s.mean({-2, -1}) : s.index({"...", -1, -1});
}

}  // namespace attnlab::gp
