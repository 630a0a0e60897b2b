// NNGP kernel layer maps and the streamed Gram computation (see kernels.h and docs/gp.md).
#include "gp/kernels.h"

#include <cmath>

#include "util/error.h"

namespace attnlab::gp {

namespace {

using torch::indexing::Slice;

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
torch::Tensor attn_sqrt_mc(const LayerSpec& l, const torch::Tensor& cross, const torch::Tensor& self_a,
                           const torch::Tensor& self_b, bool diagonal, torch::Generator& gen) {
  int64_t L = cross.size(-1);
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
  const int64_t chunk = 16;
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

// A C Bᵀ for every pair: a [..., L, L], c [..., L, L], b [..., L, L] broadcast. For a block (a [na, 1, L, L],
// c [na, nb, L, L], b [1, nb, L, L]) the products are regrouped into na GEMMs of L × L × (nb L) and nb GEMMs of
// (na L) × L × L, which run near the machine's GEMM rate (bench/RESULTS.md); otherwise plain broadcasting.
torch::Tensor sandwich(const torch::Tensor& a, const torch::Tensor& c, const torch::Tensor& b) {
  if (c.dim() != 4 || a.dim() != 4 || b.dim() != 4 || a.size(1) != 1 || b.size(0) != 1 || c.size(0) != a.size(0) ||
      c.size(1) != b.size(1))
    return torch::matmul(torch::matmul(a, c), b.transpose(-1, -2));
  int64_t na = c.size(0), nb = c.size(1), L = c.size(2);
  auto x = c.permute({0, 2, 1, 3}).reshape({na, L, nb * L});                        // [na, L, nb·L]
  auto left = torch::matmul(a.squeeze(1), x).view({na, L, nb, L});                // Σ_ν A[μ,ν] C[ν,ν']
  auto y = left.permute({2, 0, 1, 3}).reshape({nb, na * L, L});                   // [nb, na·L, L]
  auto out = torch::matmul(y, b.squeeze(0).transpose(1, 2)).view({nb, na, L, L});  // · Bᵀ
  return out.permute({1, 0, 2, 3});
}

// One layer's map (cross, self_a, self_b) -> new cross; for the self covariance pass cross = self_a = self_b.
torch::Tensor layer_map(const LayerSpec& l, const torch::Tensor& cross, const torch::Tensor& self_a,
                        const torch::Tensor& self_b, bool diagonal, torch::Generator& gen) {
  auto diag_col = [](const torch::Tensor& s) { return s.diagonal(0, -2, -1).unsqueeze(-1); };  // [..., L, 1]
  auto diag_row = [](const torch::Tensor& s) { return s.diagonal(0, -2, -1).unsqueeze(-2); };  // [..., 1, L]
  switch (l.kind) {
    case LayerKind::Dense: return l.sigma_w2 * cross + l.sigma_b2;
    case LayerKind::Relu: return relu_cov(cross, diag_col(self_a), diag_row(self_b));
    case LayerKind::Erf: return erf_cov(cross, diag_col(self_a), diag_row(self_b));
    case LayerKind::AttnIdentity: {
      auto sq = cross * cross;
      auto s = l.causal ? sq.cumsum(-2).cumsum(-1) : sq.sum({-2, -1}, true);
      return l.sigma_w2 * l.sigma_qk2 * cross * s + l.sigma_b2;
    }
    case LayerKind::AttnTied: {
      auto a = attn_pattern(l.sigma_qk2 * self_a, l.causal);
      auto b = diagonal ? a : attn_pattern(l.sigma_qk2 * self_b, l.causal);
      return l.sigma_w2 * sandwich(a, cross, b) + l.sigma_b2;
    }
    case LayerKind::AttnSqrt: return attn_sqrt_mc(l, cross, self_a, self_b, diagonal, gen);
    default: throw Error("internal: layer kind has no covariance map", "this is a bug in attnlab::gp");
  }
}

torch::Tensor token_gram(const LayerSpec& e, int vocab) {  // [V, V]
  if (e.tokens == TokenEmbed::OneHot) return torch::eye(vocab, torch::kFloat64);
  auto gen = at::detail::createCPUGenerator(e.seed);
  auto emb = at::normal(0.0, 1.0, {vocab, e.random_dim}, gen, torch::TensorOptions().dtype(torch::kFloat64));
  return torch::matmul(emb, emb.t()) / (double)e.random_dim;
}

torch::Tensor positional_cov(const LayerSpec& e, int64_t L) {  // [L, L]
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  if (e.pos == PosKind::None) return torch::zeros({L, L}, opts);
  if (e.pos == PosKind::Iid) return e.sigma_p2 * torch::eye(L, opts);
  auto idx = torch::arange(L, opts);
  auto dist = (idx.unsqueeze(1) - idx.unsqueeze(0)).abs();
  return e.sigma_p2 * torch::exp(-dist / e.decay_length);
}

torch::Tensor embed_self(const LayerSpec& e, const torch::Tensor& tokens, int vocab) {  // [N, L, L]
  auto g = token_gram(e, vocab);
  auto rows = g.index_select(0, tokens.flatten()).view({tokens.size(0), tokens.size(1), vocab});
  auto onehot = torch::one_hot(tokens, vocab).to(torch::kFloat64);  // [N, L, V]
  return e.sigma_e2 * torch::matmul(rows, onehot.transpose(1, 2)) + positional_cov(e, tokens.size(1));
}

Gram gram_once(const KernelSpec& spec, const torch::Tensor& ta, const torch::Tensor& tb, const GramOptions& opt,
               uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  const auto& layers = spec.layers;
  int64_t na = ta.size(0), nb = tb.size(0);
  auto out = torch::empty({na, nb}, torch::kFloat64);
  const bool same = ta.is_same(tb);  // a symmetric Gram: compute the upper block triangle, mirror the rest
  for (int64_t i0 = 0; i0 < na; i0 += opt.block)
    for (int64_t j0 = same ? i0 : 0; j0 < nb; j0 += opt.block) {
      auto xa = ta.index({Slice(i0, std::min(na, i0 + opt.block))});
      auto xb = tb.index({Slice(j0, std::min(nb, j0 + opt.block))});
      PairCov p{embed_cov(layers[0], xa, xb, opt.vocab), embed_self(layers[0], xa, opt.vocab).unsqueeze(1),
                embed_self(layers[0], xb, opt.vocab).unsqueeze(0), false};
      for (size_t k = 1; k + 1 < layers.size(); ++k) p = layer_apply(layers[k], p, gen);
      auto c = p.cross;
      auto block = layers.back().kind == LayerKind::MeanPool ? c.mean({-2, -1})
                                                              : c.index({"...", c.size(-2) - 1, c.size(-1) - 1});
      out.index_put_({Slice(i0, i0 + xa.size(0)), Slice(j0, j0 + xb.size(0))}, block);
      if (same && j0 != i0) out.index_put_({Slice(j0, j0 + xb.size(0)), Slice(i0, i0 + xa.size(0))}, block.t());
    }
  return {out, torch::zeros_like(out)};
}

}  // namespace

torch::Tensor relu_cov(const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b) {
  auto norm = (a * b).sqrt();
  auto rho = (c / norm.clamp_min(1e-300)).clamp(-1.0, 1.0);
  auto theta = torch::acos(rho);
  auto out = norm / (2 * M_PI) * (torch::sin(theta) + (M_PI - theta) * rho);
  return torch::where(norm > 0, out, torch::zeros_like(out));
}

torch::Tensor erf_cov(const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b) {
  auto x = (2 * c / ((1 + 2 * a) * (1 + 2 * b)).sqrt()).clamp(-1.0, 1.0);
  return (2 / M_PI) * torch::asin(x);
}

torch::Tensor embed_cov(const LayerSpec& e, const torch::Tensor& ta, const torch::Tensor& tb, int vocab) {
  auto g = token_gram(e, vocab);
  int64_t a = ta.size(0), b = tb.size(0), L = ta.size(1);
  auto rows = g.index_select(0, ta.flatten());                            // [a·L, V]
  auto onehot = torch::one_hot(tb.flatten(), vocab).to(torch::kFloat64);  // [b·L, V]
  auto c = torch::matmul(rows, onehot.t()).view({a, L, b, L}).permute({0, 2, 1, 3});
  return e.sigma_e2 * c + positional_cov(e, L);
}

PairCov layer_apply(const LayerSpec& l, const PairCov& in, torch::Generator& gen) {
  if (l.kind == LayerKind::Residual) {
    PairCov f = in;
    for (const auto& sub : l.inner) f = layer_apply(sub, f, gen);
    if (in.diagonal) {
      auto s = in.cross + f.cross;
      return {s, s, s, true};
    }
    return {in.cross + f.cross, in.self_a + f.self_a, in.self_b + f.self_b, false};
  }
  auto sa = layer_map(l, in.self_a, in.self_a, in.self_a, true, gen);
  if (in.diagonal) return {sa, sa, sa, true};
  auto sb = layer_map(l, in.self_b, in.self_b, in.self_b, true, gen);
  return {layer_map(l, in.cross, in.self_a, in.self_b, false, gen), sa, sb, false};
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
  PairCov p{s, s, s, true};
  for (size_t k = 1; k + 1 < spec.layers.size(); ++k) p = layer_apply(spec.layers[k], p, gen);
  auto c = p.cross;
  return spec.layers.back().kind == LayerKind::MeanPool ? c.mean({-2, -1}) : c.index({"...", -1, -1});
}

}  // namespace attnlab::gp
