#include "train/model_build.h"

#include <algorithm>
#include <cmath>

#include "train/data.h"

namespace attnlab {

ModelConfig train_model_config(const TrainConfig& cfg) {
  const ModelSection& s = cfg.model;
  ModelConfig m;
  m.model_type = s.type == "lstm" ? ModelType::Lstm : s.type == "gru" ? ModelType::Gru
               : s.type == "rnn" ? ModelType::Rnn : s.type == "lru" ? ModelType::Lru : ModelType::Transformer;
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
    if (m.model_type != ModelType::Lru) m.nonlinearity = s.nonlinearity;
    m.readout = s.readout == "last" ? Readout::Last : Readout::PerPosition;
  }
  m.provenance = {{"seed", cfg.seed}, {"task", cfg.task.name}};
  return m;
}

namespace {

// The lru's initialisation (Orvieto et al. 2023, Sec. 3.2-3.3 and their Appendix A code), tensor by tensor in
// named_parameters() order: "ring init" |lambda| = sqrt(U(r_min^2, r_max^2)) (uniform on the ring's area),
// arg(lambda) ~ U[0, 2 pi), gamma = sqrt(1 - |lambda|^2) (so a unit-variance white input keeps unit variance
// in h); B_re, B_im ~ N(0, 1/(2R)), C_re, C_im ~ N(0, 1/N), D ~ N(0, 1); GLU and readout ~ U(+-1/sqrt(R))
// (torch.nn.Linear's default); LayerNorm weights 1, biases 0; embeddings ~ N(0, 1). r_min, r_max are the
// paper's long-range values; on index lookup N = 20 (1500 steps, seed 0) they gave held-out exact match 0.71
// against 0.67 for [0.5, 0.99] and 0.62 for [0, 0.99] (docs/training.md).
constexpr double kLruRMin = 0.9, kLruRMax = 0.999, kLruMaxPhase = 2 * M_PI;

void lru_init(SequenceModel& model, at::Generator& gen) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const ModelConfig& c = model->config();
  const double R = c.d_model, N = c.d_hidden, bound = 1.0 / std::sqrt(R);
  torch::Tensor nu_log;  // of the current block, for its gamma_log
  for (auto& p : model->named_parameters()) {
    const std::string& name = p.key();
    torch::Tensor& t = p.value();
    auto ends_with = [&](const std::string& suffix) {
      return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (name.rfind("embed.", 0) == 0) {
      t.copy_(at::normal(0.0, 1.0, t.sizes(), gen, f64));
    } else if (ends_with("ln.w")) {
      t.fill_(1.0);
    } else if (ends_with("ln.b")) {
      t.zero_();
    } else if (ends_with("lru.nu_log")) {
      auto u1 = at::rand(t.sizes(), gen, f64);
      auto r2 = u1 * (kLruRMax * kLruRMax - kLruRMin * kLruRMin) + kLruRMin * kLruRMin;  // |lambda|^2
      nu_log = torch::log(-0.5 * torch::log(r2));  // exp(-exp(nu_log)) = sqrt(r2)
      t.copy_(nu_log);
    } else if (ends_with("lru.theta_log")) {
      t.copy_(torch::log(kLruMaxPhase * at::rand(t.sizes(), gen, f64).clamp_min(1e-12)));
    } else if (ends_with("lru.gamma_log")) {
      t.copy_(0.5 * torch::log(1 - torch::exp(-2 * torch::exp(nu_log))));  // log sqrt(1 - |lambda|^2)
    } else if (ends_with("lru.B_re") || ends_with("lru.B_im")) {
      t.copy_(at::normal(0.0, 1.0 / std::sqrt(2 * R), t.sizes(), gen, f64));
    } else if (ends_with("lru.C_re") || ends_with("lru.C_im")) {
      t.copy_(at::normal(0.0, 1.0 / std::sqrt(N), t.sizes(), gen, f64));
    } else if (ends_with("lru.D")) {
      t.copy_(at::normal(0.0, 1.0, t.sizes(), gen, f64));
    } else {  // glu.*, unembed.*
      t.copy_(at::rand(t.sizes(), gen, f64) * (2 * bound) - bound);
    }
  }
}

}  // namespace

SequenceModel train_model_build(const TrainConfig& cfg, torch::Dtype dtype) {
  SequenceModel model = model_create(train_model_config(cfg), torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed_mix(static_cast<uint64_t>(cfg.seed), 0x1417));
  if (model->config().is_lru()) {
    lru_init(model, gen);
    model->to(dtype);
    return model;
  }
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
