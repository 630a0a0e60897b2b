#include "model/rnn.h"

namespace attnlab {

RnnImpl::RnnImpl(const ModelConfig& cfg) : SequenceModelImpl(cfg) {
  embed = register_module("embed", Embed(cfg_));
  rnn = register_module("rnn", std::make_shared<ParamsImpl>());
  unembed = register_module("unembed", std::make_shared<ParamsImpl>());
  for (const auto& [name, shape] : config_tensor_shapes(cfg_)) {
    if (name.rfind("rnn.", 0) == 0) rnn->add(name.substr(4), shape);
    if (name.rfind("unembed.", 0) == 0) unembed->add(name.substr(8), shape);
  }
}

torch::Tensor RnnImpl::layer_forward(int layer, const torch::Tensor& x, Hooks* hooks) {
  const std::string s = std::to_string(layer);
  auto w_ih = rnn->get("weight_ih_l" + s), w_hh = rnn->get("weight_hh_l" + s);
  auto b_ih = rnn->get("bias_ih_l" + s), b_hh = rnn->get("bias_hh_l" + s);
  const int64_t B = x.size(0), T = x.size(1), Hd = cfg_.d_hidden;
  if (!hooks) {
    // No hooks: ATen's own recurrent loop (what torch.nn.LSTM/GRU/RNN call), same equations and gate order,
    // far fewer autograd nodes than the step-by-step loop below (which exists for the per-step hook_c).
    auto h0 = torch::zeros({1, B, Hd}, x.options());
    std::vector<torch::Tensor> params = {w_ih, w_hh, b_ih, b_hh};
    switch (cfg_.model_type) {
      case ModelType::Lstm:
        return std::get<0>(torch::lstm(x, {h0, h0.clone()}, params, true, 1, 0.0, is_training(), false, true));
      case ModelType::Gru: return std::get<0>(torch::gru(x, h0, params, true, 1, 0.0, is_training(), false, true));
      case ModelType::Rnn:
        return std::get<0>(cfg_.nonlinearity == "relu"
                               ? torch::rnn_relu(x, h0, params, true, 1, 0.0, is_training(), false, true)
                               : torch::rnn_tanh(x, h0, params, true, 1, 0.0, is_training(), false, true));
      case ModelType::Transformer: break;
    }
  }
  auto xw = torch::matmul(x, w_ih.t()).add_(b_ih);  // [B, T, G*Hd]: input projections of every step at once
  auto h = torch::zeros({B, Hd}, x.options()), c = torch::zeros({B, Hd}, x.options());
  std::vector<torch::Tensor> hs, cs;
  hs.reserve(T);
  for (int64_t t = 0; t < T; ++t) {
    auto gx = xw.select(1, t);                          // [B, G*Hd]
    auto gh = torch::addmm(b_hh, h, w_hh.t());          // [B, G*Hd]
    switch (cfg_.model_type) {
      case ModelType::Rnn:
        h = cfg_.nonlinearity == "relu" ? torch::relu(gx + gh) : torch::tanh(gx + gh);
        break;
      case ModelType::Lstm: {
        auto g = (gx + gh).chunk(4, 1);
        c = torch::sigmoid(g[1]) * c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
        h = torch::sigmoid(g[3]) * torch::tanh(c);
        cs.push_back(c);
        break;
      }
      case ModelType::Gru: {
        auto ix = gx.chunk(3, 1), ih = gh.chunk(3, 1);
        auto r = torch::sigmoid(ix[0] + ih[0]), z = torch::sigmoid(ix[1] + ih[1]);
        auto n = torch::tanh(ix[2] + r * ih[2]);
        h = (1 - z) * n + z * h;
        break;
      }
      case ModelType::Transformer: break;
    }
    hs.push_back(h);
  }
  if (!cs.empty()) hook(hooks, "rnn." + s + ".hook_c", torch::stack(cs, 1));
  return hook(hooks, "rnn." + s + ".hook_h", torch::stack(hs, 1));  // [B, T, Hd]
}

torch::Tensor RnnImpl::forward(const ModelInput& in, Hooks* hooks) {
  model_input_check(cfg_, in);
  auto x = hook(hooks, "hook_embed", embed->forward(in));  // [B, T, R]
  for (int l = 0; l < cfg_.n_layers; ++l) x = layer_forward(l, x, hooks);
  if (cfg_.readout == Readout::Last) x = x.narrow(1, x.size(1) - 1, 1);  // [B, 1, Hd]
  auto logits = torch::matmul(x, unembed->get("W_U")).add_(unembed->get("b_U"));
  return hook(hooks, "logits", logits);
}

}  // namespace attnlab
