// The transformer runtime's custom autograd nodes (model/transformer_ops.cpp), each bit-identical to the LibTorch
// expression it replaces: the unhooked forward uses all of them, the hooked forward ops_batched_matmul and
// ops_linear. Internal to src/model/ (transformer.cpp). Shapes: B batch, T seq len, R = d_model, H heads,
// D = d_head.
#pragma once

#include <cstdint>
#include <utility>

#include <torch/torch.h>

namespace attnlab {

// The per-entry BLAS gemm path applies (CPU, f32/f64, the BLAS symbols found in the process).
bool ops_blas_ok(const torch::Tensor& t);
// a [..., m, k] x b [..., k, n] over the batch dims: BLAS gemm per entry in one node (torch::matmul otherwise).
torch::Tensor ops_batched_matmul(const torch::Tensor& a, const torch::Tensor& b);
// x [..., R] W [R, M] + b [M] (one node when x is contiguous).
torch::Tensor ops_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);
// [L, L] bool, true above the diagonal (the keys a causal query must not see).
torch::Tensor ops_causal_mask(int64_t L, const torch::Device& device);
// W_Q, W_K, W_V [H, R, D] and b_Q, b_K, b_V [H, D] -> the packed projection [R, 3·H·D] and bias [3·H·D].
std::pair<torch::Tensor, torch::Tensor> ops_qkv_pack(const torch::Tensor& W_Q, const torch::Tensor& W_K,
                                                     const torch::Tensor& W_V, const torch::Tensor& b_Q,
                                                     const torch::Tensor& b_K, const torch::Tensor& b_V);
// A whole softmax attention layer x [B, T, R] -> [B, T, R] as one node; scale = 1 / attn_scale.
torch::Tensor ops_attention_layer(const torch::Tensor& x, const torch::Tensor& W_Q, const torch::Tensor& W_K,
                                  const torch::Tensor& W_V, const torch::Tensor& b_Q, const torch::Tensor& b_K,
                                  const torch::Tensor& b_V, const torch::Tensor& W_O, const torch::Tensor& b_O,
                                  double scale, bool causal);
// W_E [V, R][tokens [B, T]] + W_pos [n_ctx, R][:T] -> [B, T, R] as one node.
torch::Tensor ops_embed_pos(const torch::Tensor& W_E, const torch::Tensor& W_pos, const torch::Tensor& tokens);

}  // namespace attnlab
