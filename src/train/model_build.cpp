#include "train/model_build.h"

#include <algorithm>
#include <cmath>

#include "train/data.h"

namespace attnlab {

ModelConfig train_model_config(const TrainConfig& cfg) {
  const ModelSection& s = cfg.model;
  ModelConfig m;
  m.model_type = s.type == "lstm" ? ModelType::Lstm : s.type == "gru" ? ModelType::Gru
               : s.type == "rnn" ? ModelType::Rnn : ModelType::Transformer;
  int64_t max_n = cfg.task.n;
  for (auto n : train_eval_lengths(cfg)) max_n = std::max(max_n, n);
  m.vocab = task_vocab(cfg.task, max_n);
  m.vocab_out = task_vocab_out(cfg.task);
  m.d_vocab = static_cast<int>(m.vocab.size());
  m.d_vocab_out = static_cast<int>(m.vocab_out.size());
  m.n_layers = static_cast<int>(s.n_layers);
  m.d_model = static_cast<int>(s.d_model);
  m.producer = "attnlab train";
  if (m.model_type == ModelType::Transformer) {
    m.n_heads = static_cast<int>(s.n_heads);
    m.d_head = static_cast<int>(s.d_head > 0 ? s.d_head : s.d_model / s.n_heads);
    m.attn_only = s.attn_only;
    m.d_mlp = s.attn_only ? 0 : static_cast<int>(s.d_mlp > 0 ? s.d_mlp : 4 * s.d_model);
    m.n_ctx = static_cast<int>(task_seq_len(cfg.task, max_n));
    m.normalization = s.normalization == "ln" ? NormKind::LN : NormKind::None;
    m.pos_embed = s.pos_embed == "learned" ? PosEmbedKind::Learned
                : s.pos_embed == "sinusoidal" ? PosEmbedKind::Sinusoidal : PosEmbedKind::None;
    m.act_fn = s.act_fn == "gelu" ? MlpKind::Gelu : s.act_fn == "identity" ? MlpKind::Identity
             : s.act_fn == "bilinear" ? MlpKind::Bilinear : MlpKind::Relu;
    m.causal = s.causal;
  } else {
    m.d_hidden = static_cast<int>(s.d_hidden);
    m.nonlinearity = s.nonlinearity;
    m.readout = s.readout == "last" ? Readout::Last : Readout::PerPosition;
  }
  m.provenance = {{"seed", cfg.seed}, {"task", cfg.task.name}};
  return m;
}

SequenceModel train_model_build(const TrainConfig& cfg, torch::Dtype dtype) {
  SequenceModel model = model_create(train_model_config(cfg), torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed_mix(static_cast<uint64_t>(cfg.seed), 0x1417));
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const bool transformer = model->config().is_transformer();
  const double bound = transformer ? 0.0 : 1.0 / std::sqrt(static_cast<double>(cfg.model.d_hidden));
  for (auto& p : model->named_parameters()) {
    const std::string& name = p.key();
    torch::Tensor& t = p.value();
    bool ln_weight = name.size() >= 2 && name.compare(name.size() - 2, 2, ".w") == 0;
    if (!transformer && name.rfind("embed.", 0) != 0) {
      t.copy_(at::rand(t.sizes(), gen, f64) * (2 * bound) - bound);
    } else if (ln_weight) {
      t.fill_(1.0);
    } else if (t.dim() >= 2) {
      t.copy_(at::normal(0.0, transformer ? cfg.model.init_std : 1.0, t.sizes(), gen, f64));
    } else {
      t.zero_();
    }
  }
  model->to(dtype);
  return model;
}

}  // namespace attnlab
