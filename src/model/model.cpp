// Model creation, the model directory (load/save with full shape checks), input checks and tokenisation.
#include "model/model.h"

#include <filesystem>
#include <set>

#include "model/rnn.h"
#include "model/transformer.h"
#include "model/weights.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

int64_t ModelInput::batch() const { return tokens.defined() ? tokens.size(0) : numbers.size(0); }
int64_t ModelInput::length() const { return tokens.defined() ? tokens.size(1) : numbers.size(1); }

torch::Tensor& ParamsImpl::add(const std::string& name, std::vector<int64_t> shape) {
  return register_parameter(name, torch::zeros(shape, torch::kFloat64));
}

torch::Tensor ParamsImpl::get(const std::string& name) const {
  if (auto* p = named_parameters(false).find(name)) return *p;
  if (auto* b = named_buffers(false).find(name)) return *b;
  throw Error("internal: no tensor '" + name + "'", "report this as a bug");
}

EmbedImpl::EmbedImpl(const ModelConfig& cfg) {
  if (cfg.d_vocab > 0) W_E = register_parameter("W_E", torch::zeros({cfg.d_vocab, cfg.d_model}, torch::kFloat64));
  if (cfg.d_in_num > 0)
    W_in_num = register_parameter("W_in_num", torch::zeros({cfg.d_in_num, cfg.d_model}, torch::kFloat64));
}

torch::Tensor EmbedImpl::forward(const ModelInput& in) {
  torch::Tensor x;
  if (in.tokens.defined()) x = W_E.index_select(0, in.tokens.reshape({-1})).view({in.batch(), in.length(), -1});
  if (in.numbers.defined()) {
    auto num = torch::matmul(in.numbers.to(W_in_num.dtype()), W_in_num);
    x = x.defined() ? x + num : num;
  }
  return x;
}

void model_input_check(const ModelConfig& cfg, const ModelInput& in) {
  const char* hint = "see `attnlab model info DIR` for the model's inputs";
  check(in.tokens.defined() || in.numbers.defined(), "model input is empty: no tokens and no numbers", hint);
  if (in.tokens.defined()) {
    check(cfg.d_vocab > 0, "this model takes no token inputs (d_vocab = 0)", "pass real-valued inputs instead");
    check(in.tokens.dim() == 2, "token input must be [batch, length], got " + c10::str(in.tokens.sizes()), hint);
    check(in.tokens.scalar_type() == torch::kInt64, "token ids must be int64", hint);
    if (in.tokens.numel() > 0) {
      int64_t lo = in.tokens.min().item<int64_t>(), hi = in.tokens.max().item<int64_t>();
      check(lo >= 0 && hi < cfg.d_vocab,
            "token id out of range [0, " + std::to_string(cfg.d_vocab) + "): found " + std::to_string(lo < 0 ? lo : hi),
            hint);
    }
  } else {
    check(cfg.d_in_num > 0, "this model takes no real-valued inputs (attnlab.d_in_num = 0); it needs tokens", hint);
  }
  if (in.numbers.defined()) {
    check(cfg.d_in_num > 0, "this model takes no real-valued inputs (attnlab.d_in_num = 0)", hint);
    check(in.numbers.dim() == 3 && in.numbers.size(2) == cfg.d_in_num,
          "real-valued input must be [batch, length, " + std::to_string(cfg.d_in_num) + "], got " +
              c10::str(in.numbers.sizes()), hint);
    if (in.tokens.defined())
      check(in.tokens.size(0) == in.numbers.size(0) && in.tokens.size(1) == in.numbers.size(1),
            "token and real-valued inputs disagree in batch or length", hint);
  }
  check(in.length() > 0, "input is empty (length 0)", "give at least one token");
  if (cfg.n_ctx > 0)
    check(in.length() <= cfg.n_ctx,
          "input has " + std::to_string(in.length()) + " positions but the model's n_ctx is " +
              std::to_string(cfg.n_ctx) + (cfg.bos.empty() ? "" : " (BOS included)"),
          "shorten the input");
}

SequenceModel model_create(const ModelConfig& cfg, torch::Dtype dtype) {
  config_validate(cfg, "model config");
  SequenceModel m;
  if (cfg.is_transformer()) m = std::make_shared<TransformerImpl>(cfg);
  else if (cfg.is_lru()) m = std::make_shared<LruImpl>(cfg);
  else m = std::make_shared<RnnImpl>(cfg);
  m->to(dtype);
  return m;
}

void model_init_random(SequenceModel& model, uint64_t seed, double std) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& p : model->named_parameters()) {
    auto noise = at::normal(0.0, std, p.value().sizes(), gen, torch::TensorOptions().dtype(torch::kFloat64));
    bool ln_weight = p.key().size() >= 2 && p.key().compare(p.key().size() - 2, 2, ".w") == 0;
    p.value().copy_(ln_weight ? noise + 1.0 : noise);
  }
}

int64_t model_parameter_count(const SequenceModel& model) {
  int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  return n;
}

SequenceModel model_load(const std::string& dir, torch::Dtype dtype, torch::Device device) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error("model directory " + dir + (fs::exists(dir, ec) ? " is not a directory" : " does not exist"),
                "pass a directory holding config.json and model.safetensors (e.g. one written by `attnlab demo`)");
  ModelConfig cfg = config_read(dir + "/config.json");
  std::string weights_path = dir + "/model.safetensors";
  auto tensors = tensors_read(weights_path);
  std::map<std::string, torch::Tensor> by_name(tensors.begin(), tensors.end());

  SequenceModel model = model_create(cfg, dtype);
  std::vector<std::string> problems;
  std::set<std::string> expected;
  for (const auto& [name, shape] : config_tensor_shapes(cfg)) {
    expected.insert(name);
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      problems.push_back("missing tensor '" + name + "' " + c10::str(c10::IntArrayRef(shape)));
    } else if (it->second.sizes().vec() != shape) {
      problems.push_back("tensor '" + name + "' has shape " + c10::str(it->second.sizes()) + " but the config needs " +
                         c10::str(c10::IntArrayRef(shape)));
    } else if (!it->second.is_floating_point()) {
      problems.push_back("tensor '" + name + "' has non-float dtype " + std::string(c10::toString(it->second.scalar_type())));
    }
  }
  for (const auto& [name, t] : tensors)
    if (!expected.count(name)) problems.push_back("unexpected tensor '" + name + "' (not used by this config)");
  if (!problems.empty()) {
    std::string msg = weights_path + " does not match " + dir + "/config.json:";
    for (const auto& p : problems) msg += "\n  - " + p;
    throw Error(msg, "the weights and the config must come from the same model; re-create or re-save the model");
  }
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) p.value().copy_(by_name.at(p.key()));
  model->to(device, dtype);
  return model;
}

void model_save(const std::string& dir, const SequenceModel& model, torch::Dtype file_dtype) {
  dir_create(dir);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  auto params = model->named_parameters();
  for (const auto& [name, shape] : config_tensor_shapes(model->config())) {
    auto* p = params.find(name);
    check(p != nullptr, "internal: model has no parameter '" + name + "'", "report this as a bug");
    tensors.emplace_back(name, p->to(file_dtype));
  }
  tensors_write(dir + "/model.safetensors", tensors, {{"format", "pt"}, {"producer", "attnlab"}});
  file_write_atomic(dir + "/config.json", config_to_json(model->config()).dump(2) + "\n");
}

std::vector<std::string> tokens_split(const ModelConfig& cfg, const std::string& text) {
  std::vector<std::string> parts;
  bool has_space = text.find_first_of(" \t\n\r") != std::string::npos;
  bool single_chars = !cfg.vocab.empty();
  for (const auto& t : cfg.vocab)
    if (t.size() != 1 && t != cfg.bos) single_chars = false;
  if (!cfg.bos.empty()) parts.push_back(cfg.bos);
  if (has_space) {
    std::string cur;
    for (char ch : text + " ") {
      if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
        if (!cur.empty()) parts.push_back(cur);
        cur.clear();
      } else {
        cur += ch;
      }
    }
  } else if (single_chars) {
    for (char ch : text) parts.emplace_back(1, ch);
  } else if (!text.empty()) {
    parts.push_back(text);
  }
  return parts;
}

std::vector<int64_t> tokens_encode(const ModelConfig& cfg, const std::string& text) {
  check(!cfg.vocab.empty(), "this model has no token vocabulary (attnlab.vocab is empty)",
        "give real-valued inputs with --numbers, or a model with a vocabulary");
  std::map<std::string, int64_t> index;
  for (size_t i = 0; i < cfg.vocab.size(); ++i) index[cfg.vocab[i]] = static_cast<int64_t>(i);
  std::vector<int64_t> ids;
  auto parts = tokens_split(cfg, text);
  for (size_t pos = 0; pos < parts.size(); ++pos) {
    auto it = index.find(parts[pos]);
    if (it == index.end()) {
      std::string vocab;
      for (size_t i = 0; i < cfg.vocab.size() && i < 40; ++i) vocab += (i ? " " : "") + cfg.vocab[i];
      if (cfg.vocab.size() > 40) vocab += " ...";
      throw Error("unknown token '" + parts[pos] + "' at position " + std::to_string(pos),
                  "the model's vocabulary is: " + vocab);
    }
    ids.push_back(it->second);
  }
  check(!ids.empty(), "input is empty", "give at least one token, e.g. --input \"a b c\"");
  return ids;
}

std::string token_out_name(const ModelConfig& cfg, int64_t index) {
  if (index >= 0 && index < static_cast<int64_t>(cfg.vocab_out.size())) return cfg.vocab_out[index];
  return std::to_string(index);
}

}  // namespace attnlab
