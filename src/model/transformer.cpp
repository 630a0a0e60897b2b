// Transformer runtime (model/transformer.h). Without hooks the forward runs the fused autograd nodes of
// model/transformer_ops.h (one per attention layer, per x W + b, for the embedding); with hooks it spells every op
// out so each hook point exists. Both give bit-identical results. Shapes: B batch, T seq len, R = d_model, H heads,
// D = d_head.
#include "model/transformer.h"

#include <cmath>
#include <limits>

#include "model/transformer_ops.h"

namespace attnlab {

namespace {
torch::Tensor zeros(std::vector<int64_t> shape) { return torch::zeros(shape, torch::kFloat64); }
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
  if (!hooks && cfg_->attention == AttentionKind::Softmax && ops_blas_ok(x) && x.is_contiguous())  // no hook points
    return ops_attention_layer(x, W_Q, W_K, W_V, b_Q, b_K, b_V, W_O, b_O, 1.0 / cfg_->attn_scale_value(), cfg_->causal);
  // One matmul for q, k, v: [R, 3*H*D]
  auto [w_qkv, b_qkv] = ops_qkv_pack(W_Q, W_K, W_V, b_Q, b_K, b_V);
  auto qkv = torch::addmm(b_qkv, x.reshape({B * T, R}), w_qkv).view({B, T, 3, H, D});
  auto parts = qkv.unbind(2);  // one backward node (a stack) instead of three zero-filled select backwards
  auto q = hook(hooks, hq_, parts[0]);  // [B, T, H, D]
  auto k = hook(hooks, hk_, parts[1]);
  auto v = hook(hooks, hv_, parts[2]);
  auto scores = ops_batched_matmul(q.permute({0, 2, 1, 3}), k.permute({0, 2, 3, 1}));  // [B, H, T, T]
  scores.mul_(1.0 / cfg_->attn_scale_value());
  if (cfg_->causal) scores.masked_fill_(ops_causal_mask(T, x.device()), -std::numeric_limits<double>::infinity());
  scores = hook(hooks, hscores_, scores);
  auto pat = hook(hooks, hpattern_, pattern(scores));              // [B, H, T, T]
  auto z = ops_batched_matmul(pat, v.permute({0, 2, 1, 3}));            // [B, H, T, D]
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
  auto pre = hook(hooks, hpre_, ops_linear(x, W_in, b_in));  // [B, T, M]
  torch::Tensor post;
  switch (kind_) {
    case MlpKind::Relu: post = torch::relu(pre); break;
    case MlpKind::Gelu: post = torch::gelu(pre); break;
    case MlpKind::Identity: post = pre; break;
    case MlpKind::Bilinear: post = pre * hook(hooks, hgate_, ops_linear(x, W_gate, b_gate)); break;
  }
  post = hook(hooks, hpost_, post);
  return ops_linear(post, W_out, b_out);  // [B, T, R]
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
  torch::Tensor resid;  // [B, T, R]
  const bool fused = !hooks && cfg_.pos_embed != PosEmbedKind::None && in.tokens.defined() && !in.numbers.defined() &&
                     embed->W_E.defined() && pos_embed->get("W_pos").scalar_type() == embed->W_E.scalar_type();
  if (fused) resid = ops_embed_pos(embed->W_E, pos_embed->get("W_pos"), in.tokens);
  else resid = hook(hooks, "hook_embed", embed->forward(in));
  if (!fused && cfg_.pos_embed != PosEmbedKind::None) {
    auto pos = pos_embed->get("W_pos").narrow(0, 0, in.length()).to(resid.dtype());
    resid = resid + hook(hooks, "hook_pos_embed", pos.unsqueeze(0).expand_as(resid));
  }
  for (const auto& block : *blocks) resid = block->as<BlockImpl>()->forward(resid, hooks);
  if (ln_final) resid = hook(hooks, "ln_final.hook_normalized", ln_final->forward(resid));
  auto logits = ops_linear(resid, unembed->get("W_U"), unembed->get("b_U"));
  return hook(hooks, "logits", logits);
}

}  // namespace attnlab
