// A model = config + a LibTorch module whose parameters carry TransformerLens names (blocks.0.attn.W_Q, ...).
// model_load / model_save read and write the model directory (config.json + model.safetensors).
// Shapes: B = batch, T = sequence length, R = d_model, I = d_in_num, O = d_vocab_out.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "model/config.h"
#include "model/hooks.h"

namespace attnlab {

struct ModelInput {
  torch::Tensor tokens;   // [B, T] int64 token ids, or undefined for numeric-only models
  torch::Tensor numbers;  // [B, T, I] real-valued inputs (embed.W_in_num), or undefined
  int64_t batch() const;
  int64_t length() const;
};

// Token and numeric input embedding shared by every model kind: x = W_E[tokens] + numbers @ W_in_num.
class EmbedImpl : public torch::nn::Module {
 public:
  explicit EmbedImpl(const ModelConfig& cfg);
  torch::Tensor forward(const ModelInput& in);  // [B, T, R]
  torch::Tensor W_E;       // [V, R] (undefined when d_vocab = 0)
  torch::Tensor W_in_num;  // [I, R] (undefined when d_in_num = 0)
};
TORCH_MODULE(Embed);

// A named group of parameters, e.g. "unembed" holding W_U and b_U.
class ParamsImpl : public torch::nn::Module {
 public:
  torch::Tensor& add(const std::string& name, std::vector<int64_t> shape);  // zero-initialised parameter
  torch::Tensor get(const std::string& name) const;
};

class SequenceModelImpl : public torch::nn::Module {
 public:
  explicit SequenceModelImpl(ModelConfig cfg) : cfg_(std::move(cfg)) {}
  // Logits (or numeric outputs) [B, T, O]; an RNN with readout "last" returns [B, 1, O].
  virtual torch::Tensor forward(const ModelInput& in, Hooks* hooks = nullptr) = 0;
  const ModelConfig& config() const { return cfg_; }
  ModelConfig& config_mut() { return cfg_; }

 protected:
  ModelConfig cfg_;
};
using SequenceModel = std::shared_ptr<SequenceModelImpl>;

// A model with all parameters zero (callers fill them), in the given dtype.
SequenceModel model_create(const ModelConfig& cfg, torch::Dtype dtype = torch::kFloat64);
// Fills every parameter with N(0, std^2) (LayerNorm weights 1 + N(0, std^2)) from a seeded generator.
void model_init_random(SequenceModel& model, uint64_t seed, double std = 0.5);
// Loads DIR/config.json + DIR/model.safetensors; every missing/unexpected/misshapen tensor is reported.
SequenceModel model_load(const std::string& dir, torch::Dtype dtype = torch::kFloat64,
                         torch::Device device = torch::kCPU);
// Writes DIR/config.json and DIR/model.safetensors (created atomically; DIR is created if needed).
void model_save(const std::string& dir, const SequenceModel& model, torch::Dtype file_dtype = torch::kFloat64);

// Checks the input against the config (ids in range, length <= n_ctx, numeric width); Error otherwise.
void model_input_check(const ModelConfig& cfg, const ModelInput& in);
int64_t model_parameter_count(const SequenceModel& model);

// Splits text into tokens: on whitespace if it has any; otherwise per character when every vocabulary entry
// is one character; otherwise one token. Prepends cfg.bos when set. Unknown tokens are an Error naming the
// token and its position.
std::vector<int64_t> tokens_encode(const ModelConfig& cfg, const std::string& text);
std::vector<std::string> tokens_split(const ModelConfig& cfg, const std::string& text);  // with BOS, as strings
std::string token_out_name(const ModelConfig& cfg, int64_t index);  // vocab_out entry or the index as text

}  // namespace attnlab
