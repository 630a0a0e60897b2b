#include "report/attention_view.h"

#include "report/html.h"
#include "report/pack.h"
#include "util/error.h"

namespace attnlab {

static std::string layer_name(const AttentionLayer& layer, size_t i) {
  if (!layer.label.empty()) return layer.label;
  std::string name = "L";  // (not "L" + to_string: GCC 12 -Wrestrict false positive)
  return name += std::to_string(i);
}

void attention_view_validate(const AttentionView& view) {
  std::vector<std::string> problems;
  const size_t T = view.tokens.size();
  if (T == 0) problems.push_back("there are no tokens");
  if (view.layers.empty()) problems.push_back("there are no layers");
  if (!view.info.is_null() && !view.info.is_object())
    problems.push_back("info is a JSON " + std::string(view.info.type_name()) + ", expected an object of key/values");
  for (size_t i = 0; i < view.layers.size(); ++i) {
    const AttentionLayer& layer = view.layers[i];
    std::string where = "layer " + std::to_string(i) + " ('" + layer_name(layer, i) + "'): ";
    if (layer.n_heads <= 0) problems.push_back(where + "n_heads = " + std::to_string(layer.n_heads) + ", expected >= 1");
    if (layer.n_dest < 0 || size_t(layer.n_dest) != T)
      problems.push_back(where + "n_dest = " + std::to_string(layer.n_dest) + " but there are " + std::to_string(T) +
                         " tokens");
    if (layer.n_src < 0 || size_t(layer.n_src) != T)
      problems.push_back(where + "n_src = " + std::to_string(layer.n_src) + " but there are " + std::to_string(T) +
                         " tokens");
    if (layer.n_heads > 0 && layer.n_dest >= 0 && layer.n_src >= 0) {
      size_t expected = size_t(layer.n_heads) * size_t(layer.n_dest) * size_t(layer.n_src);
      if (layer.attention.size() != expected)
        problems.push_back(where + "attention has " + std::to_string(layer.attention.size()) +
                           " values, expected n_heads * n_dest * n_src = " + std::to_string(layer.n_heads) + " * " +
                           std::to_string(layer.n_dest) + " * " + std::to_string(layer.n_src) + " = " +
                           std::to_string(expected));
    }
  }
  if (problems.empty()) return;
  std::string message = "cannot build the attention view '" + view.title + "':";
  for (const std::string& p : problems) message += "\n  - " + p;
  throw Error(message,
              "pass every layer's pattern for one batch item as [n_heads, n_dest, n_src] row-major "
              "(blocks.{l}.attn.hook_pattern[0]), with n_dest = n_src = the number of tokens");
}

// True when every entry above the diagonal of every head is exactly 0 (a causal mask), for T > 1.
static bool layer_is_causal(const AttentionLayer& layer) {
  const size_t T = size_t(layer.n_dest);
  if (T < 2) return false;
  for (size_t h = 0; h < size_t(layer.n_heads); ++h)
    for (size_t d = 0; d < T; ++d) {
      const float* row = layer.attention.data() + (h * T + d) * T;
      for (size_t s = d + 1; s < T; ++s)
        if (row[s] != 0.0f) return false;
    }
  return true;
}

static nlohmann::json layer_data(const AttentionLayer& layer, size_t i) {
  const size_t H = size_t(layer.n_heads), T = size_t(layer.n_dest);
  const bool causal = layer_is_causal(layer);
  std::string packed;
  if (causal) {
    std::vector<float> lower;  // per head, row d: columns 0..d
    lower.reserve(H * T * (T + 1) / 2);
    for (size_t h = 0; h < H; ++h)
      for (size_t d = 0; d < T; ++d) {
        const float* row = layer.attention.data() + (h * T + d) * T;
        lower.insert(lower.end(), row, row + d + 1);
      }
    packed = pack_f24_base64(lower.data(), lower.size());
  } else {
    packed = pack_f24_base64(layer.attention.data(), layer.attention.size());
  }
  nlohmann::json attention = {{"shape", {H, T, T}},
                              {"layout", causal ? "causal-lower" : "dense"},
                              {"encoding", "f24-base64"},
                              {"data", std::move(packed)}};
  return {{"label", layer_name(layer, i)}, {"n_heads", H},      {"n_dest", T},
          {"n_src", T},                    {"causal", causal}, {"attention", std::move(attention)}};
}

nlohmann::json attention_view_data(const AttentionView& view) {
  attention_view_validate(view);
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < view.layers.size(); ++i) layers.push_back(layer_data(view.layers[i], i));
  return {{"title", view.title},
          {"info", view.info.is_null() ? nlohmann::json::object() : view.info},
          {"tokens", view.tokens},
          {"layers", std::move(layers)}};
}

std::string attention_view_html(const AttentionView& view) {
  return html_page(view.title.empty() ? "attention" : view.title, attention_view_data(view), "attention");
}

void attention_view_write(const std::string& path, const AttentionView& view) {
  html_write(path, view.title.empty() ? "attention" : view.title, attention_view_data(view), "attention");
}

}  // namespace attnlab
