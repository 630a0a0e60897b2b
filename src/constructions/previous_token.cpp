#include "constructions/previous_token.h"

namespace attnlab {

SequenceModel previous_token_build(const PreviousTokenOptions& opt) {
  const int64_t V = static_cast<int64_t>(opt.vocab.size()), N = opt.n_ctx, R = 2 * V + N, D = N;
  ModelConfig cfg;
  cfg.n_layers = 1;
  cfg.d_model = static_cast<int>(R);
  cfg.n_heads = 1;
  cfg.d_head = static_cast<int>(D);
  cfg.d_vocab = cfg.d_vocab_out = static_cast<int>(V);
  cfg.n_ctx = static_cast<int>(N);
  cfg.attn_only = true;
  cfg.causal = true;
  cfg.attn_scale = 1.0 / opt.sharpness;  // scores = q.k * sharpness
  cfg.vocab = cfg.vocab_out = opt.vocab;
  cfg.producer = "attnlab previous_token_build";
  cfg.provenance = {{"construction", "previous-token head"}, {"sharpness", opt.sharpness}};
  for (int64_t i = 0; i < V; ++i) cfg.residual_labels.push_back("token:" + opt.vocab[i]);
  for (int64_t i = 0; i < N; ++i) cfg.residual_labels.push_back("position:" + std::to_string(i));
  for (int64_t i = 0; i < V; ++i) cfg.residual_labels.push_back("previous:" + opt.vocab[i]);

  SequenceModel model = model_create(cfg, torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto p = model->named_parameters();
  for (int64_t i = 0; i < V; ++i) p["embed.W_E"][i][i] = 1.0;                  // token i -> dim i
  for (int64_t t = 0; t < N; ++t) p["pos_embed.W_pos"][t][V + t] = 1.0;       // position t -> dim V+t
  for (int64_t t = 0; t < N; ++t) p["blocks.0.attn.W_Q"][0][V + t][t > 0 ? t - 1 : 0] = 1.0;  // query: e_{t-1}
  for (int64_t s = 0; s < N; ++s) p["blocks.0.attn.W_K"][0][V + s][s] = 1.0;  // key: e_s
  for (int64_t i = 0; i < V; ++i) p["blocks.0.attn.W_V"][0][i][i] = 1.0;      // value: token one-hot
  for (int64_t i = 0; i < V; ++i) p["blocks.0.attn.W_O"][0][i][V + N + i] = 1.0;  // -> previous-token dims
  for (int64_t i = 0; i < V; ++i) p["unembed.W_U"][V + N + i][i] = 1.0;       // read the previous token
  return model;
}

}  // namespace attnlab
