// Recurrent runtime: Elman (tanh | relu), LSTM and GRU, stacked n_layers deep, with torch.nn's weight names
// and gate orders (LSTM: i, f, g, o; GRU: r, z, n), an input embedding and a linear readout.
//   Elman: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
//   LSTM:  c_t = f*c_{t-1} + i*g,  h_t = o*tanh(c_t)
//   GRU:   n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),  h_t = (1-z)*n + z*h_{t-1}
// Hooks: hook_embed [B,T,R], rnn.{l}.hook_h [B,T,Hd] (all steps), rnn.{l}.hook_c (LSTM cell state), logits.
// Shapes: B batch, T seq len, R = d_model (input width), Hd = hidden size, G = gates (1, 4 or 3).
#pragma once

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

}  // namespace attnlab
