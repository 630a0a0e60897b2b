// Recurrent runtime: Elman (tanh | relu), LSTM and GRU, stacked n_layers deep, with torch.nn's weight names
// and gate orders (LSTM: i, f, g, o; GRU: r, z, n), an input embedding and a linear readout.
//   Elman: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
//   LSTM:  c_t = f*c_{t-1} + i*g,  h_t = o*tanh(c_t)
//   GRU:   n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),  h_t = (1-z)*n + z*h_{t-1}
// Hooks: hook_embed [B,T,R], rnn.{l}.hook_h [B,T,Hd] (all steps), rnn.{l}.hook_c (LSTM cell state), logits.
// Shapes: B batch, T seq len, R = d_model (input width), Hd = hidden size, G = gates (1, 4 or 3).
// Also the diagonal linear recurrent model (LruImpl, model type "lru"), below.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "model/model.h"

namespace attnlab {

class RnnImpl : public SequenceModelImpl {
 public:
  explicit RnnImpl(const ModelConfig& cfg);
  torch::Tensor forward(const ModelInput& in, Hooks* hooks = nullptr) override;  // [B, T, O] or [B, 1, O]
  Embed embed{nullptr};
  std::shared_ptr<ParamsImpl> rnn;      // weight_ih_l{k} [G*Hd, in], weight_hh_l{k} [G*Hd, Hd], bias_*_l{k} [G*Hd]
  std::shared_ptr<ParamsImpl> unembed;  // W_U [Hd, O], b_U [O]

 private:
  // One layer over the whole sequence: x [B, T, in] -> hidden states [B, T, Hd] (and cell states for LSTM).
  torch::Tensor layer_forward(int layer, const torch::Tensor& x, Hooks* hooks);
};

// Diagonal linear recurrent unit (LRU; Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for Long
// Sequences"): n_layers pre-LN residual blocks  x <- x + GLU(LRU(LN(x)))  between the embedding and the readout.
//   LRU:  h_t = lambda * h_{t-1} + gamma * (B u_t)  (complex, h_0 = 0),   y_t = Re(C h_t) + D * u_t
//         lambda = exp(-exp(nu_log) + i exp(theta_log)),  gamma = exp(gamma_log)   (element-wise over N)
//   GLU:  g_t = (y_t W_a + b_a) * sigmoid(y_t W_g + b_g)
// Complex tensors are (re, im) pairs of real ones, so it runs in f32 and f64 alike; the scan is sequential in T.
// Hooks: hook_embed, blocks.{l}.ln.hook_normalized [B,T,R], blocks.{l}.lru.hook_h_re / hook_h_im [B,T,N],
// blocks.{l}.lru.hook_out [B,T,R] (y), blocks.{l}.hook_resid_post [B,T,R], logits.
// Shapes: N = d_hidden (complex state entries), R = d_model (block width), O = d_vocab_out.
class LruImpl : public SequenceModelImpl {
 public:
  explicit LruImpl(const ModelConfig& cfg);
  torch::Tensor forward(const ModelInput& in, Hooks* hooks = nullptr) override;  // [B, T, O] or [B, 1, O]
  Embed embed{nullptr};
  std::vector<std::shared_ptr<ParamsImpl>> ln;   // per block: w [R], b [R]
  std::vector<std::shared_ptr<ParamsImpl>> lru;  // per block: nu_log, theta_log, gamma_log [N], B_re, B_im [N, R],
                                                 //   C_re, C_im [R, N], D [R]
  std::vector<std::shared_ptr<ParamsImpl>> glu;  // per block: W_a, W_g [R, R], b_a, b_g [R]
  std::shared_ptr<ParamsImpl> unembed;           // W_U [R, O], b_U [O]

 private:
  torch::Tensor block_forward(int layer, const torch::Tensor& x, Hooks* hooks);  // [B, T, R] -> [B, T, R]
};

// The recurrence h_t = lambda h_{t-1} + v_t from h_0 = 0 with lambda = exp(-exp(nu_log) + i exp(theta_log)):
// v_re, v_im [B, T, N] -> (h_re, h_im) [B, T, N].
std::pair<torch::Tensor, torch::Tensor> lru_scan(const torch::Tensor& nu_log, const torch::Tensor& theta_log,
                                                 const torch::Tensor& v_re, const torch::Tensor& v_im);

}  // namespace attnlab
