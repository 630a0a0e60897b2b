// Transformer runtime with TransformerLens parameter names and hook points:
//   resid = embed + pos_embed; per block: resid += attn(ln1(resid)); resid += mlp(ln2(resid));
//   logits = unembed(ln_final(resid)).
// Attention: softmax(q.k / attn_scale) or average-hard (uniform over the maximal scores), causal or not.
// MLP: relu / gelu / identity / bilinear ((x W_in + b_in) * (x W_gate + b_gate)).
// Without hooks the attention layer, the linear maps and the embedding run as fused autograd nodes that do the
// same arithmetic as the hooked path, bit for bit (transformer.cpp).
// Shapes: B batch, T seq len, R = d_model, H = n_heads, D = d_head, M = d_mlp, O = d_vocab_out.
#pragma once

#include "model/model.h"

namespace attnlab {

class LayerNormImpl : public torch::nn::Module {
 public:
  LayerNormImpl(int64_t width, double eps);
  torch::Tensor forward(const torch::Tensor& x);  // [..., R]
  torch::Tensor w, b;                             // [R]
  double eps;
};
TORCH_MODULE(LayerNorm);

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(const ModelConfig& cfg, int layer);
  torch::Tensor forward(const torch::Tensor& x, Hooks* hooks);  // [B, T, R] -> [B, T, R]
  torch::Tensor W_Q, W_K, W_V;  // [H, R, D]
  torch::Tensor W_O;            // [H, D, R]
  torch::Tensor b_Q, b_K, b_V;  // [H, D]
  torch::Tensor b_O;            // [R]

 private:
  torch::Tensor pattern(const torch::Tensor& scores) const;  // [B, H, T, T]
  const ModelConfig* cfg_;
  std::string hq_, hk_, hv_, hscores_, hpattern_, hz_;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(const ModelConfig& cfg, int layer);
  torch::Tensor forward(const torch::Tensor& x, Hooks* hooks);  // [B, T, R] -> [B, T, R]
  torch::Tensor W_in, W_gate;   // [R, M] (W_gate only for bilinear)
  torch::Tensor b_in, b_gate;   // [M]
  torch::Tensor W_out;          // [M, R]
  torch::Tensor b_out;          // [R]

 private:
  MlpKind kind_;
  std::string hpre_, hgate_, hpost_;
};
TORCH_MODULE(Mlp);

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const ModelConfig& cfg, int layer);
  torch::Tensor forward(torch::Tensor resid, Hooks* hooks);  // [B, T, R]
  LayerNorm ln1{nullptr}, ln2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};

 private:
  std::string hresid_pre_, hattn_out_, hresid_mid_, hmlp_out_, hresid_post_;
};
TORCH_MODULE(Block);

class TransformerImpl : public SequenceModelImpl {
 public:
  explicit TransformerImpl(const ModelConfig& cfg);
  torch::Tensor forward(const ModelInput& in, Hooks* hooks = nullptr) override;  // [B, T, O]
  Embed embed{nullptr};
  torch::nn::ModuleList blocks;
  LayerNorm ln_final{nullptr};
  std::shared_ptr<ParamsImpl> pos_embed;  // W_pos [n_ctx, R]: a parameter (learned) or a buffer (sinusoidal)
  std::shared_ptr<ParamsImpl> unembed;    // W_U [R, O], b_U [O]
};

// The sinusoidal table of Vaswani et al.: P[t, 2i] = sin(t / 10000^(2i/R)), P[t, 2i+1] = cos(same).
torch::Tensor sinusoidal_positions(int64_t n_ctx, int64_t width);  // [n_ctx, R] float64

}  // namespace attnlab
