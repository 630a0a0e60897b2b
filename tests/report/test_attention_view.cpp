// The attention viewer's page (report/attention_view.h): circuitsvis prop names, values that round-trip from
// the HTML within the f24 budget (relative error <= 2^-16, decoded here independently), causal layers stored as
// a lower triangle, tokens that cannot inject markup, every size mismatch named in one Error, and a bounded
// file size at 512 tokens. Patterns are softmaxes of seeded random scores, so they look like real attention.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>

#include "page_probe.h"
#include "report/attention_view.h"
#include "util/error.h"

namespace attnlab {
namespace {

// [H, T, T] rows softmax(scores), scores ~ N(0, sharpness); causal rows put exactly 0 above the diagonal.
AttentionLayer make_layer(const std::string& label, int H, int T, bool causal, uint32_t seed, float sharpness = 3.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sharpness);
  AttentionLayer layer{label, H, T, T, std::vector<float>(size_t(H) * T * T, 0.0f)};
  for (int h = 0; h < H; ++h)
    for (int d = 0; d < T; ++d) {
      float* row = layer.attention.data() + (size_t(h) * T + d) * T;
      int n = causal ? d + 1 : T;
      float sum = 0.0f;
      for (int s = 0; s < n; ++s) sum += row[s] = std::exp(normal(rng));
      for (int s = 0; s < n; ++s) row[s] /= sum;
    }
  return layer;
}

AttentionView make_view(int T, int L, int H, bool causal) {
  AttentionView view;
  view.title = "test view";
  for (int t = 0; t < T; ++t) view.tokens.push_back(t == 0 ? std::string("<bos>") : std::string(" tok").append(std::to_string(t)));
  for (int l = 0; l < L; ++l) view.layers.push_back(make_layer(std::string("L").append(std::to_string(l)), H, T, causal, 100 + l));
  view.info = {{"model", "models/test"}, {"input", "a b c"}};
  return view;
}

float at(const AttentionLayer& layer, int h, int d, int s) {
  return layer.attention[(size_t(h) * layer.n_dest + d) * layer.n_src + s];
}

nlohmann::json page_data(const std::string& page) { return nlohmann::json::parse(probe::data_block(page)); }

// Expands a layer's packed attention back to [H, T, T] the way viewer.js does (layout "dense" / "causal-lower").
std::vector<float> unpack(const nlohmann::json& layer) {
  const auto& a = layer.at("attention");
  int H = a.at("shape")[0], T = a.at("shape")[1];
  EXPECT_EQ(a.at("encoding"), "f24-base64");
  std::vector<float> packed = probe::f24_decode(a.at("data").get<std::string>());
  if (a.at("layout") == "dense") {
    EXPECT_EQ(packed.size(), size_t(H) * T * T);
    return packed;
  }
  EXPECT_EQ(a.at("layout"), "causal-lower");
  EXPECT_EQ(packed.size(), size_t(H) * T * (T + 1) / 2);
  std::vector<float> full(size_t(H) * T * T, 0.0f);
  size_t j = 0;
  for (int h = 0; h < H; ++h)
    for (int d = 0; d < T; ++d)
      for (int s = 0; s <= d && j < packed.size(); ++s) full[(size_t(h) * T + d) * T + s] = packed[j++];
  return full;
}

TEST(AttentionView, PageCarriesCircuitsvisPropsAndExactValues) {
  AttentionView view = make_view(7, 2, 3, /*causal=*/true);
  view.layers[1] = make_layer("L1", 3, 7, /*causal=*/false, 5);
  std::string page = attention_view_html(view);
  nlohmann::json data = page_data(page);
  EXPECT_EQ(data.at("tokens"), nlohmann::json(view.tokens));
  EXPECT_EQ(data.at("title"), "test view");
  EXPECT_EQ(data.at("info").at("model"), "models/test");
  ASSERT_EQ(data.at("layers").size(), 2u);
  EXPECT_EQ(data["layers"][0]["causal"], true);
  EXPECT_EQ(data["layers"][1]["causal"], false);
  for (int l = 0; l < 2; ++l) {
    const auto& layer = data["layers"][l];
    EXPECT_EQ(layer.at("label"), view.layers[l].label);
    EXPECT_EQ(layer.at("attention").at("shape"), nlohmann::json({3, 7, 7}));  // [heads, dest, src]
    std::vector<float> back = unpack(layer);
    ASSERT_EQ(back.size(), view.layers[l].attention.size());
    for (size_t i = 0; i < back.size(); ++i) {
      float v = view.layers[l].attention[i];
      ASSERT_LE(std::fabs(back[i] - v), std::ldexp(std::fabs(v), -16)) << "layer " << l << " index " << i;
    }
  }
  EXPECT_NE(page.find("data-view=\"attention\""), std::string::npos);
  EXPECT_NE(page.find("<title>test view</title>"), std::string::npos);
}

TEST(AttentionView, OneNonzeroAboveTheDiagonalMakesALayerDense) {
  AttentionView view = make_view(6, 1, 2, /*causal=*/true);
  EXPECT_EQ(attention_view_data(view)["layers"][0]["attention"]["layout"], "causal-lower");
  view.layers[0].attention[(size_t(1) * 6 + 2) * 6 + 5] = 1e-30f;  // head 1, dest 2, src 5
  nlohmann::json layer = attention_view_data(view)["layers"][0];
  EXPECT_EQ(layer["attention"]["layout"], "dense");
  EXPECT_EQ(layer["causal"], false);
  EXPECT_NEAR(unpack(layer)[(size_t(1) * 6 + 2) * 6 + 5], 1e-30f, 1e-34f);
  float v = at(view.layers[0], 0, 4, 3);
  EXPECT_NEAR(unpack(layer)[(size_t(0) * 6 + 4) * 6 + 3], v, std::ldexp(v, -16));
}

TEST(AttentionView, TokensCannotBreakThePage) {
  AttentionView view = make_view(4, 1, 1, true);
  view.tokens = {"</script><script>alert(1)</script>", "<b>bold</b>", "<!--<script>", "a&amp;\"'"};
  view.title = "</title><b>x";
  view.info = {{"note", "</script><img src=x>"}};
  std::string page = attention_view_html(view);
  EXPECT_EQ(probe::count(probe::lower(page), "</script"), 2u);  // only the page's own two end tags
  EXPECT_EQ(page.find("<!--"), std::string::npos);            // no switch into the parser's escaped states
  // Outside the JSON block (script data, never parsed as markup) no token text may appear as markup.
  std::string block = probe::data_block(page), outside = page;
  outside.erase(outside.find(block), block.size());
  EXPECT_EQ(outside.find("<b>"), std::string::npos);
  EXPECT_EQ(outside.find("<img"), std::string::npos);
  EXPECT_EQ(outside.find("alert(1)"), std::string::npos);
  nlohmann::json data = page_data(page);  // ...and the strings come back unchanged
  EXPECT_EQ(data.at("tokens"), nlohmann::json(view.tokens));
  EXPECT_EQ(data.at("info").at("note"), "</script><img src=x>");
  EXPECT_NE(page.find("<title>&lt;/title&gt;&lt;b&gt;x</title>"), std::string::npos);
}

TEST(AttentionView, RejectsMismatchedSizesNamingEveryProblem) {
  AttentionView view = make_view(5, 3, 2, true);
  view.layers[0].n_dest = 4;                  // disagrees with 5 tokens
  view.layers[1].attention.pop_back();        // one value short
  view.layers[2].n_heads = 0;
  view.layers[2].label = "blocks.2.attn";
  try {
    attention_view_html(view);
    FAIL() << "accepted mismatched sizes";
  } catch (const Error& e) {
    const std::string& m = e.message();
    EXPECT_NE(m.find("layer 0 ('L0'): n_dest = 4 but there are 5 tokens"), std::string::npos) << m;
    EXPECT_NE(m.find("layer 1 ('L1'): attention has 49 values, expected n_heads * n_dest * n_src = 2 * 5 * 5 = 50"),
              std::string::npos) << m;
    EXPECT_NE(m.find("layer 2 ('blocks.2.attn'): n_heads = 0"), std::string::npos) << m;
    EXPECT_NE(e.hint().find("n_dest = n_src = the number of tokens"), std::string::npos) << e.hint();
  }
  AttentionView empty;
  try {
    attention_view_data(empty);
    FAIL() << "accepted an empty view";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("there are no tokens"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("there are no layers"), std::string::npos) << e.message();
  }
  AttentionView bad_info = make_view(3, 1, 1, true);
  bad_info.info = nlohmann::json::array({1, 2});
  EXPECT_THROW(attention_view_data(bad_info), Error);
  AttentionView fine = make_view(3, 1, 1, true);
  fine.info = nullptr;  // no info is fine
  EXPECT_NO_THROW(attention_view_data(fine));
}

// Budget: 4 bytes per stored value + the viewer (~50 kB). T = 512, 2 layers x 4 heads:
// causal 8 * 512 * 513 / 2 values -> ~4.2 MB; bidirectional 8 * 512^2 -> ~8.4 MB.
TEST(AttentionView, PageSizeAt512TokensIsBounded) {
  for (bool causal : {true, false}) {
    std::string page = attention_view_html(make_view(512, 2, 4, causal));
    double stored = causal ? 8.0 * 512 * 513 / 2 : 8.0 * 512 * 512;
    std::cout << "[ size     ] 512 tokens, 2 layers x 4 heads, " << (causal ? "causal" : "bidirectional") << ": "
              << page.size() << " bytes (" << double(page.size()) / stored << " bytes per stored value)\n";
    EXPECT_LT(page.size(), stored * 4 + 200000);
    EXPECT_LT(page.size(), causal ? 4.5e6 : 8.7e6);
  }
}

}  // namespace
}  // namespace attnlab
