// Helpers for the model tests: small configs and setting parameters by TransformerLens name.
#pragma once

#include <filesystem>
#include <string>

#include "model/model.h"

namespace attnlab::test {

// A 1-layer, 1-head transformer with d_model = d_head = R, attention only, no positions, no LN.
inline ModelConfig tiny_config(int R, int vocab, int n_ctx = 8) {
  ModelConfig c;
  c.n_layers = 1;
  c.d_model = c.d_head = R;
  c.n_heads = 1;
  c.d_vocab = c.d_vocab_out = vocab;
  c.n_ctx = n_ctx;
  c.attn_only = true;
  c.pos_embed = PosEmbedKind::None;
  c.attn_scale = 1.0;
  return c;
}

inline torch::Tensor param(SequenceModel& m, const std::string& name) {
  auto* p = m->named_parameters().find(name);
  if (!p) throw std::runtime_error("no parameter " + name);
  return *p;
}

// Sets a parameter from a flat list of values (row-major).
inline void param_set(SequenceModel& m, const std::string& name, std::vector<double> values) {
  torch::NoGradGuard g;
  auto p = param(m, name);
  p.copy_(torch::tensor(values, torch::kFloat64).view(p.sizes()));
}

// Identity in the last two dims (rectangular allowed): [.., A, B] gets eye(A, B).
inline void param_identity(SequenceModel& m, const std::string& name) {
  torch::NoGradGuard g;
  auto p = param(m, name);
  p.copy_(torch::eye(p.size(-2), p.size(-1), torch::kFloat64).expand(p.sizes()));
}

inline torch::Tensor tokens(std::vector<int64_t> ids) { return torch::tensor(ids, torch::kInt64).unsqueeze(0); }

inline std::string temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("attnlab_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

}  // namespace attnlab::test
