// Empirical kernels of random finite transformers through the runtime (see monte_carlo.h).
#include "gp/monte_carlo.h"

#include <cmath>

#include "model/model.h"
#include "util/error.h"

namespace attnlab::gp {

namespace {

ModelConfig finite_config(const FiniteWidthOptions& o, int length) {
  ModelConfig c;
  c.n_layers = 1;
  c.d_model = o.width;
  c.d_head = o.d_head;
  c.n_heads = o.heads;
  c.d_vocab = c.d_vocab_out = o.vocab;
  c.n_ctx = length;
  c.attn_only = true;
  c.causal = o.causal;
  c.pos_embed = o.sigma_p2 > 0 ? PosEmbedKind::Learned : PosEmbedKind::None;
  c.attn_scale = o.d_head;  // scores = q·k / D: the 1/d scaling
  c.producer = "attnlab gp mc-check";
  return c;
}

void fill_normal(SequenceModel& m, const std::string& name, double var, at::Generator& gen) {
  auto* p = m->named_parameters().find(name);
  check(p != nullptr, "internal: the runtime model has no parameter " + name, "this is a bug in attnlab::gp");
  p->copy_(at::normal(0.0, std::sqrt(var), p->sizes(), gen, p->options()));
}

}  // namespace

std::string finite_width_spec(const FiniteWidthOptions& o) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "embed(se=%.17g,pos=%s,sp=%.17g) | attn(tied,qk=%.17g,v=%.17g%s) | meanpool",
                o.sigma_e2, o.sigma_p2 > 0 ? "iid" : "none", o.sigma_p2, o.sigma_qk2, o.sigma_v2,
                o.causal ? ",causal" : "");
  return buf;
}

SequenceModel finite_width_model(const FiniteWidthOptions& o, int length, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  SequenceModel model = model_create(finite_config(o, length), torch::kFloat64);
  for (auto& p : model->parameters()) p.zero_();
  fill_normal(model, "embed.W_E", o.sigma_e2, gen);
  if (o.sigma_p2 > 0) fill_normal(model, "pos_embed.W_pos", o.sigma_p2, gen);
  fill_normal(model, "blocks.0.attn.W_Q", o.sigma_qk2 / o.width, gen);
  model->named_parameters().find("blocks.0.attn.W_K")->copy_(*model->named_parameters().find("blocks.0.attn.W_Q"));
  fill_normal(model, "blocks.0.attn.W_V", 1.0 / o.width, gen);
  fill_normal(model, "blocks.0.attn.W_O", o.sigma_v2 / ((double)o.heads * o.d_head), gen);
  return model;
}

torch::Tensor finite_width_features(const SequenceModel& model, const torch::Tensor& tokens) {
  torch::NoGradGuard no_grad;
  Hooks hooks;
  hooks.cache_add("blocks.0.hook_attn_out");
  model->forward({tokens}, &hooks);
  return hooks.cached("blocks.0.hook_attn_out").mean(1);  // [N, R]
}

FiniteWidthKernel finite_width_kernel(const torch::Tensor& tokens, const FiniteWidthOptions& o) {
  check(o.width >= 1 && o.heads >= 1 && o.d_head >= 1 && o.networks >= 2,
        "finite_width_kernel: width, heads and d_head must be >= 1 and networks >= 2",
        "use e.g. --width 64 --heads 8 --d-head 64 --networks 16");
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(o.seed);
  std::vector<torch::Tensor> ks;
  for (int m = 0; m < o.networks; ++m) {
    auto pooled = finite_width_features(finite_width_model(o, (int)tokens.size(1), gen), tokens);  // [N, R]
    ks.push_back(torch::matmul(pooled, pooled.t()) / (double)o.width);
  }
  auto all = torch::stack(ks);
  return {all.mean(0), all.std(0) / std::sqrt((double)o.networks)};
}

}  // namespace attnlab::gp
