#include "cli/model_common.h"

#include <cstdio>
#include <sstream>

#include "util/error.h"

namespace attnlab {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

double number_parse(const std::string& text, size_t pos, size_t dim) {
  std::string t = text;
  t.erase(0, t.find_first_not_of(" \t"));
  t.erase(t.find_last_not_of(" \t") + 1);
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  check(!t.empty() && used == t.size() && std::isfinite(v),
        "--numbers: '" + t + "' at position " + std::to_string(pos) + ", value " + std::to_string(dim) +
            " is not a finite number",
        "write positions separated by ';' and values by ',', e.g. --numbers \"0.5,1;2,-3\"");
  return v;
}

}  // namespace

CliInput cli_input_parse(const ModelConfig& cfg, const std::string& text, const std::string& numbers,
                         torch::Dtype dtype) {
  CliInput out;
  if (!text.empty() || numbers.empty()) {
    auto ids = tokens_encode(cfg, text);
    out.tokens = tokens_split(cfg, text);
    out.input.tokens = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  }
  if (!numbers.empty()) {
    check(cfg.d_in_num > 0, "--numbers given but this model takes no real-valued inputs",
          "use --input with tokens from the model's vocabulary");
    auto positions = split(numbers, ';');
    auto values = torch::zeros({1, static_cast<int64_t>(positions.size()), cfg.d_in_num}, torch::kFloat64);
    for (size_t p = 0; p < positions.size(); ++p) {
      auto parts = split(positions[p], ',');
      check(static_cast<int>(parts.size()) == cfg.d_in_num,
            "--numbers: position " + std::to_string(p) + " has " + std::to_string(parts.size()) +
                " values but the model takes " + std::to_string(cfg.d_in_num) + " per position",
            "write positions separated by ';' and values by ','");
      for (size_t d = 0; d < parts.size(); ++d) values[0][p][d] = number_parse(parts[d], p, d);
    }
    out.input.numbers = values.to(dtype);
    if (out.tokens.empty())
      for (size_t p = 0; p < positions.size(); ++p) out.tokens.push_back("x" + std::to_string(p));
  }
  model_input_check(cfg, out.input);
  return out;
}

std::vector<std::string> outputs_decode(const ModelConfig& cfg, const torch::Tensor& logits) {
  std::vector<std::string> out;
  auto l = logits.to(torch::kFloat64).select(0, 0);  // [T, O]
  for (int64_t t = 0; t < l.size(0); ++t) {
    if (cfg.output == OutputKind::Numeric) {
      std::string s;
      for (int64_t o = 0; o < l.size(1); ++o) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%s%.10g", o ? "," : "", l[t][o].item<double>());
        s += buf;
      }
      out.push_back(s);
    } else {
      out.push_back(token_out_name(cfg, l[t].argmax().item<int64_t>()));
    }
  }
  return out;
}

AttentionView attention_view_build(const SequenceModel& model, const CliInput& in, const std::string& title) {
  const auto& cfg = model->config();
  check(cfg.is_transformer() && cfg.n_layers > 0, "this model has no attention layers to view",
        "attention views are for transformer models; use `attnlab model run --cache` for RNN hidden states");
  Hooks hooks;
  hooks.cache_add("blocks.*.attn.hook_pattern");
  torch::NoGradGuard no_grad;
  model->forward(in.input, &hooks);
  AttentionView view;
  view.title = title;
  view.tokens = in.tokens;
  view.info = {{"producer", cfg.producer}, {"model_type", model_type_name(cfg.model_type)},
               {"n_layers", cfg.n_layers}, {"n_heads", cfg.n_heads}, {"d_model", cfg.d_model},
               {"attention", cfg.attention == AttentionKind::Hard ? "hard" : "softmax"},
               {"attention_dir", cfg.causal ? "causal" : "bidirectional"}};
  for (int l = 0; l < cfg.n_layers; ++l) {
    auto pat = hooks.cached("blocks." + std::to_string(l) + ".attn.hook_pattern").select(0, 0);  // [H, T, T]
    pat = pat.to(torch::kFloat32).contiguous();
    AttentionLayer layer;
    layer.label = "layer " + std::to_string(l);
    layer.n_heads = static_cast<int>(pat.size(0));
    layer.n_dest = layer.n_src = static_cast<int>(pat.size(1));
    layer.attention.assign(pat.data_ptr<float>(), pat.data_ptr<float>() + pat.numel());
    view.layers.push_back(std::move(layer));
  }
  return view;
}

}  // namespace attnlab
