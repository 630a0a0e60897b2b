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
      case ModelType::Transformer:
      case ModelType::Lru: break;
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
      case ModelType::Transformer:
      case ModelType::Lru: break;
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

// ------------------------------------------------------------------------------------------------------- LRU

LruImpl::LruImpl(const ModelConfig& cfg) : SequenceModelImpl(cfg) {
  embed = register_module("embed", Embed(cfg_));
  auto blocks = register_module("blocks", std::make_shared<torch::nn::Module>());
  for (int l = 0; l < cfg_.n_layers; ++l) {
    auto block = blocks->register_module(std::to_string(l), std::make_shared<torch::nn::Module>());
    ln.push_back(block->register_module("ln", std::make_shared<ParamsImpl>()));
    lru.push_back(block->register_module("lru", std::make_shared<ParamsImpl>()));
    glu.push_back(block->register_module("glu", std::make_shared<ParamsImpl>()));
  }
  unembed = register_module("unembed", std::make_shared<ParamsImpl>());
  for (const auto& [name, shape] : config_tensor_shapes(cfg_)) {  // "blocks.{l}.{group}.{tensor}" or "unembed.*"
    if (name.rfind("unembed.", 0) == 0) unembed->add(name.substr(8), shape);
    if (name.rfind("blocks.", 0) != 0) continue;
    size_t dot1 = name.find('.', 7), dot2 = name.find('.', dot1 + 1);
    int l = std::stoi(name.substr(7, dot1 - 7));
    std::string group = name.substr(dot1 + 1, dot2 - dot1 - 1), tensor = name.substr(dot2 + 1);
    (group == "ln" ? ln : group == "lru" ? lru : glu)[l]->add(tensor, shape);
  }
}

std::pair<torch::Tensor, torch::Tensor> lru_scan(const torch::Tensor& nu_log, const torch::Tensor& theta_log,
                                                 const torch::Tensor& v_re, const torch::Tensor& v_im) {
  auto modulus = torch::exp(-torch::exp(nu_log)), angle = torch::exp(theta_log);  // [N]: |lambda|, arg(lambda)
  auto l_re = modulus * torch::cos(angle), l_im = modulus * torch::sin(angle);
  const int64_t T = v_re.size(1);
  std::vector<torch::Tensor> re, im;
  re.reserve(T);
  im.reserve(T);
  auto h_re = v_re.select(1, 0), h_im = v_im.select(1, 0);  // [B, N]: h_1 = v_1 (h_0 = 0)
  re.push_back(h_re);
  im.push_back(h_im);
  for (int64_t t = 1; t < T; ++t) {
    // (l_re + i l_im)(h_re + i h_im) + v_t
    auto next_re = l_re * h_re - l_im * h_im + v_re.select(1, t);
    auto next_im = l_re * h_im + l_im * h_re + v_im.select(1, t);
    h_re = next_re, h_im = next_im;
    re.push_back(h_re);
    im.push_back(h_im);
  }
  return {torch::stack(re, 1), torch::stack(im, 1)};
}

torch::Tensor LruImpl::block_forward(int layer, const torch::Tensor& x, Hooks* hooks) {
  const std::string b = "blocks." + std::to_string(layer) + ".";
  const ParamsImpl& p = *lru[layer];
  const ParamsImpl& g = *glu[layer];
  auto u = torch::layer_norm(x, {x.size(-1)}, ln[layer]->get("w"), ln[layer]->get("b"), cfg_.ln_eps);
  u = hook(hooks, b + "ln.hook_normalized", u);                          // [B, T, R]
  auto gamma = torch::exp(p.get("gamma_log"));                             // [N]
  auto v_re = torch::matmul(u, p.get("B_re").t()) * gamma;                 // [B, T, N]: gamma * (B u), real part
  auto v_im = torch::matmul(u, p.get("B_im").t()) * gamma;
  auto [h_re, h_im] = lru_scan(p.get("nu_log"), p.get("theta_log"), v_re, v_im);
  h_re = hook(hooks, b + "lru.hook_h_re", h_re);
  h_im = hook(hooks, b + "lru.hook_h_im", h_im);
  // Re(C h) = C_re h_re - C_im h_im
  auto y = torch::matmul(h_re, p.get("C_re").t()) - torch::matmul(h_im, p.get("C_im").t()) + u * p.get("D");
  y = hook(hooks, b + "lru.hook_out", y);                                  // [B, T, R]
  auto gate = torch::sigmoid(torch::matmul(y, g.get("W_g")) + g.get("b_g"));
  auto gated = (torch::matmul(y, g.get("W_a")) + g.get("b_a")) * gate;  // GLU
  return hook(hooks, b + "hook_resid_post", x + gated);
}

torch::Tensor LruImpl::forward(const ModelInput& in, Hooks* hooks) {
  model_input_check(cfg_, in);
  auto x = hook(hooks, "hook_embed", embed->forward(in));  // [B, T, R]
  for (int l = 0; l < cfg_.n_layers; ++l) x = block_forward(l, x, hooks);
  if (cfg_.readout == Readout::Last) x = x.narrow(1, x.size(1) - 1, 1);  // [B, 1, R]
  auto logits = torch::matmul(x, unembed->get("W_U")).add_(unembed->get("b_U"));
  return hook(hooks, "logits", logits);
}

}  // namespace attnlab
