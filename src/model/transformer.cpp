#include "model/transformer.h"

#include <dlfcn.h>

#include <cmath>

namespace attnlab {

namespace {
torch::Tensor zeros(std::vector<int64_t> shape) { return torch::zeros(shape, torch::kFloat64); }

// ---- batched matmul of many small CPU matrices ----
// ATen's CPU bmm without MKL loops over the batch and dispatches select + select + select + addmm per entry: for
// attention at B·H = 64 entries of 16 × 16 that is ~1200 dispatched ops per training step, most of a tiny
// model's step. Here the same Fortran BLAS gemm that ATen ends in (sgemm_/dgemm_, found in the process because
// LibTorch links it) is called directly per entry, with the operand order and transpose flags ATen uses for
// contiguous row-major operands, and the backward is the same two products. Falls back to torch::matmul when the
// BLAS symbols are absent, off the CPU, or for other dtypes.
using sgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                         const int*, const float*, const int*, const float*, float*, const int*);
using dgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*, const double*, const double*,
                         const int*, const double*, const int*, const double*, double*, const int*);

struct Blas {
  sgemm_t sgemm = reinterpret_cast<sgemm_t>(dlsym(RTLD_DEFAULT, "sgemm_"));
  dgemm_t dgemm = reinterpret_cast<dgemm_t>(dlsym(RTLD_DEFAULT, "dgemm_"));
};

const Blas& blas() {
  static const Blas b;
  return b;
}

// out[i] = op(x[i]) · op(y[i]) for contiguous x, y [N, ., .]; op transposes when tx / ty. Row-major C = A B is
// column-major Cᵀ = Bᵀ Aᵀ, so gemm gets (y, x) with m = cols of C, n = rows of C.
template <typename T, typename Gemm>
void bmm_loop(Gemm gemm, const torch::Tensor& x, bool tx, const torch::Tensor& y, bool ty, torch::Tensor& out) {
  const int64_t N = x.size(0);
  const int m = static_cast<int>(tx ? x.size(2) : x.size(1)), k = static_cast<int>(tx ? x.size(1) : x.size(2));
  const int n = static_cast<int>(ty ? y.size(1) : y.size(2));
  const int ldx = static_cast<int>(x.size(2)), ldy = static_cast<int>(y.size(2)), ldc = n;
  const char ta = tx ? 'T' : 'N', tb = ty ? 'T' : 'N';
  const T one = 1, zero = 0;
  const T* xp = x.data_ptr<T>();
  const T* yp = y.data_ptr<T>();
  T* op = out.data_ptr<T>();
  const int64_t sx = x.size(1) * x.size(2), sy = y.size(1) * y.size(2), so = static_cast<int64_t>(m) * n;
  for (int64_t i = 0; i < N; ++i) gemm(&tb, &ta, &n, &m, &k, &one, yp + i * sy, &ldy, xp + i * sx, &ldx, &zero, op + i * so, &ldc);
}

torch::Tensor bmm_raw(const torch::Tensor& x, bool tx, const torch::Tensor& y, bool ty) {
  torch::Tensor xc = x.contiguous(), yc = y.contiguous();
  const int64_t m = tx ? xc.size(2) : xc.size(1), n = ty ? yc.size(1) : yc.size(2);
  torch::Tensor out = torch::empty({xc.size(0), m, n}, xc.options());
  if (out.numel() == 0) return out;
  if (xc.scalar_type() == torch::kFloat32) bmm_loop<float>(blas().sgemm, xc, tx, yc, ty, out);
  else bmm_loop<double>(blas().dgemm, xc, tx, yc, ty, out);
  return out;
}

class SmallBmm : public torch::autograd::Function<SmallBmm> {
 public:
  // a [N, m, k], b [N, k, n] -> [N, m, n]
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return bmm_raw(a, false, b, false);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor& g = grad[0];
    return {bmm_raw(g, false, saved[1], true), bmm_raw(saved[0], true, g, false)};  // dC Bᵀ, Aᵀ dC
  }
};

// a [..., m, k] · b [..., k, n] with the same leading dims (no broadcasting).
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  const bool fast = a.device().is_cpu() && b.device().is_cpu() && a.scalar_type() == b.scalar_type() &&
                    (a.scalar_type() == torch::kFloat32 || a.scalar_type() == torch::kFloat64) &&
                    blas().sgemm != nullptr && blas().dgemm != nullptr && a.dim() >= 3 &&
                    a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2) && a.dim() == b.dim();
  if (!fast) return torch::matmul(a, b);
  std::vector<int64_t> lead(a.sizes().begin(), a.sizes().end() - 2);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  auto out = SmallBmm::apply(a.reshape({-1, m, k}), b.reshape({-1, k, n}));
  lead.push_back(m);
  lead.push_back(n);
  return out.view(lead);
}
}  // namespace

torch::Tensor sinusoidal_positions(int64_t n_ctx, int64_t width) {
  auto table = torch::zeros({n_ctx, width}, torch::kFloat64);
  auto a = table.accessor<double, 2>();
  for (int64_t t = 0; t < n_ctx; ++t)
    for (int64_t i = 0; i < width; ++i) {
      double angle = t / std::pow(10000.0, static_cast<double>(i - i % 2) / width);
      a[t][i] = i % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  return table;
}

LayerNormImpl::LayerNormImpl(int64_t width, double eps_) : eps(eps_) {
  w = register_parameter("w", torch::ones({width}, torch::kFloat64));
  b = register_parameter("b", zeros({width}));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) {
  return torch::layer_norm(x, {x.size(-1)}, w, b, eps);
}

AttentionImpl::AttentionImpl(const ModelConfig& cfg, int layer) : cfg_(&cfg) {
  const int64_t R = cfg.d_model, H = cfg.n_heads, D = cfg.d_head;
  W_Q = register_parameter("W_Q", zeros({H, R, D}));
  W_K = register_parameter("W_K", zeros({H, R, D}));
  W_V = register_parameter("W_V", zeros({H, R, D}));
  W_O = register_parameter("W_O", zeros({H, D, R}));
  b_Q = register_parameter("b_Q", zeros({H, D}));
  b_K = register_parameter("b_K", zeros({H, D}));
  b_V = register_parameter("b_V", zeros({H, D}));
  b_O = register_parameter("b_O", zeros({R}));
  std::string p = "blocks." + std::to_string(layer) + ".attn.";
  hq_ = p + "hook_q", hk_ = p + "hook_k", hv_ = p + "hook_v";
  hscores_ = p + "hook_attn_scores", hpattern_ = p + "hook_pattern", hz_ = p + "hook_z";
}

torch::Tensor AttentionImpl::pattern(const torch::Tensor& scores) const {
  if (cfg_->attention == AttentionKind::Softmax) return torch::softmax(scores, -1);
  // average-hard: uniform over keys whose score is within hard_tol of the row maximum
  auto max = std::get<0>(scores.max(-1, /*keepdim=*/true));
  auto selected = (scores >= max - cfg_->hard_tol).to(scores.dtype());
  return selected / selected.sum(-1, /*keepdim=*/true);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, Hooks* hooks) {
  const int64_t B = x.size(0), T = x.size(1), R = x.size(2), H = W_Q.size(0), D = W_Q.size(2);
  // One matmul for q, k, v: [R, 3*H*D]
  auto w_qkv = torch::cat({W_Q, W_K, W_V}, 0).permute({1, 0, 2}).reshape({R, 3 * H * D});
  auto b_qkv = torch::cat({b_Q, b_K, b_V}, 0).reshape({3 * H * D});
  auto qkv = torch::addmm(b_qkv, x.reshape({B * T, R}), w_qkv).view({B, T, 3, H, D});
  auto parts = qkv.unbind(2);  // one backward node (a stack) instead of three zero-filled select backwards
  auto q = hook(hooks, hq_, parts[0]);  // [B, T, H, D]
  auto k = hook(hooks, hk_, parts[1]);
  auto v = hook(hooks, hv_, parts[2]);
  auto scores = batched_matmul(q.permute({0, 2, 1, 3}), k.permute({0, 2, 3, 1}));  // [B, H, T, T]
  scores.mul_(1.0 / cfg_->attn_scale_value());
  if (cfg_->causal) {
    auto mask = torch::ones({T, T}, torch::dtype(torch::kBool).device(x.device())).triu(1);
    scores.masked_fill_(mask, -std::numeric_limits<double>::infinity());
  }
  scores = hook(hooks, hscores_, scores);
  auto pat = hook(hooks, hpattern_, pattern(scores));              // [B, H, T, T]
  auto z = batched_matmul(pat, v.permute({0, 2, 1, 3}));            // [B, H, T, D]
  z = hook(hooks, hz_, z.permute({0, 2, 1, 3}));                    // [B, T, H, D]
  return torch::addmm(b_O, z.reshape({B * T, H * D}), W_O.reshape({H * D, R})).view({B, T, R});
}

MlpImpl::MlpImpl(const ModelConfig& cfg, int layer) : kind_(cfg.act_fn) {
  const int64_t R = cfg.d_model, M = cfg.d_mlp;
  W_in = register_parameter("W_in", zeros({R, M}));
  b_in = register_parameter("b_in", zeros({M}));
  if (kind_ == MlpKind::Bilinear) {
    W_gate = register_parameter("W_gate", zeros({R, M}));
    b_gate = register_parameter("b_gate", zeros({M}));
  }
  W_out = register_parameter("W_out", zeros({M, R}));
  b_out = register_parameter("b_out", zeros({R}));
  std::string p = "blocks." + std::to_string(layer) + ".mlp.";
  hpre_ = p + "hook_pre", hgate_ = p + "hook_pre_gate", hpost_ = p + "hook_post";
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x, Hooks* hooks) {
  auto pre = hook(hooks, hpre_, torch::matmul(x, W_in).add_(b_in));  // [B, T, M]
  torch::Tensor post;
  switch (kind_) {
    case MlpKind::Relu: post = torch::relu(pre); break;
    case MlpKind::Gelu: post = torch::gelu(pre); break;
    case MlpKind::Identity: post = pre; break;
    case MlpKind::Bilinear: post = pre * hook(hooks, hgate_, torch::matmul(x, W_gate).add_(b_gate)); break;
  }
  post = hook(hooks, hpost_, post);
  return torch::matmul(post, W_out).add_(b_out);  // [B, T, R]
}

BlockImpl::BlockImpl(const ModelConfig& cfg, int layer) {
  bool ln = cfg.normalization == NormKind::LN;
  if (ln) ln1 = register_module("ln1", LayerNorm(cfg.d_model, cfg.ln_eps));
  attn = register_module("attn", Attention(cfg, layer));
  if (!cfg.attn_only) {
    if (ln) ln2 = register_module("ln2", LayerNorm(cfg.d_model, cfg.ln_eps));
    mlp = register_module("mlp", Mlp(cfg, layer));
  }
  std::string p = "blocks." + std::to_string(layer) + ".";
  hresid_pre_ = p + "hook_resid_pre", hattn_out_ = p + "hook_attn_out", hresid_mid_ = p + "hook_resid_mid";
  hmlp_out_ = p + "hook_mlp_out", hresid_post_ = p + "hook_resid_post";
}

torch::Tensor BlockImpl::forward(torch::Tensor resid, Hooks* hooks) {
  resid = hook(hooks, hresid_pre_, resid);
  auto attn_out = hook(hooks, hattn_out_, attn->forward(ln1 ? ln1->forward(resid) : resid, hooks));
  resid = resid + attn_out;
  if (!mlp) return hook(hooks, hresid_post_, resid);
  resid = hook(hooks, hresid_mid_, resid);
  auto mlp_out = hook(hooks, hmlp_out_, mlp->forward(ln2 ? ln2->forward(resid) : resid, hooks));
  return hook(hooks, hresid_post_, resid + mlp_out);
}

TransformerImpl::TransformerImpl(const ModelConfig& cfg) : SequenceModelImpl(cfg) {
  embed = register_module("embed", Embed(cfg_));
  pos_embed = register_module("pos_embed", std::make_shared<ParamsImpl>());
  if (cfg_.pos_embed == PosEmbedKind::Learned) pos_embed->add("W_pos", {cfg_.n_ctx, cfg_.d_model});
  if (cfg_.pos_embed == PosEmbedKind::Sinusoidal)
    pos_embed->register_buffer("W_pos", sinusoidal_positions(cfg_.n_ctx, cfg_.d_model));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int l = 0; l < cfg_.n_layers; ++l) blocks->push_back(Block(cfg_, l));
  if (cfg_.normalization == NormKind::LN) ln_final = register_module("ln_final", LayerNorm(cfg_.d_model, cfg_.ln_eps));
  unembed = register_module("unembed", std::make_shared<ParamsImpl>());
  unembed->add("W_U", {cfg_.d_model, cfg_.d_vocab_out});
  unembed->add("b_U", {cfg_.d_vocab_out});
}

torch::Tensor TransformerImpl::forward(const ModelInput& in, Hooks* hooks) {
  model_input_check(cfg_, in);
  auto resid = hook(hooks, "hook_embed", embed->forward(in));  // [B, T, R]
  if (cfg_.pos_embed != PosEmbedKind::None) {
    auto pos = pos_embed->get("W_pos").narrow(0, 0, in.length()).to(resid.dtype());
    resid = resid + hook(hooks, "hook_pos_embed", pos.unsqueeze(0).expand_as(resid));
  }
  for (const auto& block : *blocks) resid = block->as<BlockImpl>()->forward(resid, hooks);
  if (ln_final) resid = hook(hooks, "ln_final.hook_normalized", ln_final->forward(resid));
  auto logits = torch::matmul(resid, unembed->get("W_U")).add_(unembed->get("b_U"));
  return hook(hooks, "logits", logits);
}

}  // namespace attnlab
