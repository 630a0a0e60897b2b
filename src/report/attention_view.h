// The attention viewer: attention patterns of every layer and head over one token sequence, written as one
// self-contained HTML file (report/html.h, view "attention" in web/viewer.js): layer and head selectors, an
// all-heads grid, a canvas heatmap (dest = query rows, src = key columns) with hover values, and a tokens strip.
// Shapes: H = heads, T = tokens; a layer's pattern is [H, T, T] (TransformerLens blocks.{l}.attn.hook_pattern
// for one batch item). Data keys follow circuitsvis's props: `tokens`, `attention` [heads, dest, src].
//
// Precision: values travel as f24 (report/pack.h), relative error <= 1.5e-5, so the 4 significant digits the
// hover tooltip shows are the true value's. A layer whose entries above the diagonal are all exactly 0 is
// marked causal and only its lower triangle is stored; the viewer draws the masked cells blank.
// Size: ~4 bytes per stored value: T = 512, 2 layers x 4 heads is ~4.2 MB causal, ~8.4 MB bidirectional.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnlab {

struct AttentionLayer {
  std::string label;                // shown on the layer selector, e.g. "L0" or "blocks.0.attn" ("L<i>" if empty)
  int n_heads = 0;                  // H
  int n_dest = 0;                   // query positions; must equal tokens.size()
  int n_src = 0;                    // key positions; must equal tokens.size()
  std::vector<float> attention;     // [n_heads, n_dest, n_src] row-major
};

struct AttentionView {
  std::string title;                // page title and heading
  std::vector<std::string> tokens;  // [T] token strings, shown verbatim (escaped) on both axes and the strip
  std::vector<AttentionLayer> layers;
  nlohmann::json info;              // free-form key/values shown in the header (model path, input, ...); object or null
};

// Throws Error listing every problem (sizes that disagree, no tokens, no layers, info not an object).
void attention_view_validate(const AttentionView& view);

// The JSON the page carries: {title, info, tokens, layers: [{label, n_heads, n_dest, n_src, causal,
// attention: {shape: [H, T, T], layout: "dense" | "causal-lower", encoding: "f24-base64", data}}]}.
// "causal-lower" stores, per head, rows d = 0..T-1 with columns s = 0..d (T(T+1)/2 values per head).
nlohmann::json attention_view_data(const AttentionView& view);

std::string attention_view_html(const AttentionView& view);
void attention_view_write(const std::string& path, const AttentionView& view);

}  // namespace attnlab
