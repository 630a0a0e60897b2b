// Hooks: the names a forward pass produces match docs/hooks.md, caching filters by glob, and patching the
// attention pattern changes the output exactly as computed by hand.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "constructions/previous_token.h"
#include "model_test_util.h"
#include "util/error.h"

using namespace attnlab;
using namespace attnlab::test;

namespace {

// Hook names from the tables in docs/hooks.md, with {l} expanded for layers 0..n_layers-1.
std::set<std::string> documented_hooks(const std::string& section, int n_layers) {
  std::ifstream in(std::string(ATTNLAB_SOURCE_DIR) + "/docs/hooks.md");
  std::set<std::string> names;
  std::string line, current;
  std::regex row(R"(^\| `([^`]+)` \|)");
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) current = line.substr(3);
    std::smatch m;
    if (current.rfind(section, 0) != 0 || !std::regex_search(line, m, row)) continue;
    std::string name = m[1];
    auto at = name.find("{l}");
    if (at == std::string::npos) names.insert(name);
    for (int l = 0; at != std::string::npos && l < n_layers; ++l)
      names.insert(std::string(name).replace(at, 3, std::to_string(l)));
  }
  return names;
}

std::set<std::string> produced_hooks(SequenceModel& m, const ModelInput& in) {
  Hooks hooks;
  hooks.cache_add("*");
  m->forward(in, &hooks);
  std::set<std::string> names;
  for (const auto& [n, t] : hooks.cache()) names.insert(n);
  return names;
}

}  // namespace

TEST(Hooks, TransformerHookListMatchesDocumentation) {
  ModelConfig c = tiny_config(4, 3);
  c.n_layers = 2;
  c.attn_only = false;
  c.d_mlp = 5;
  c.act_fn = MlpKind::Bilinear;  // every optional hook present
  c.normalization = NormKind::LN;
  c.pos_embed = PosEmbedKind::Learned;
  auto m = model_create(c);
  auto documented = documented_hooks("Transformer", 2);
  ASSERT_GT(documented.size(), 30u);
  EXPECT_EQ(produced_hooks(m, {tokens({0, 1, 2})}), documented);
}

TEST(Hooks, RecurrentHookListMatchesDocumentation) {
  ModelConfig c;
  c.model_type = ModelType::Lstm;
  c.n_layers = 2;
  c.d_model = 2;
  c.d_vocab = 3;
  c.d_hidden = 3;
  c.d_vocab_out = 2;
  auto m = model_create(c);
  EXPECT_EQ(produced_hooks(m, {tokens({0, 1})}), documented_hooks("Recurrent", 2));
}

TEST(Hooks, CacheKeepsOnlyMatchingNames) {
  auto m = previous_token_build({});
  Hooks hooks;
  hooks.cache_add("blocks.*.attn.hook_pattern");
  m->forward({tokens({0, 1, 2})}, &hooks);
  ASSERT_EQ(hooks.cache().size(), 1u);
  EXPECT_EQ(hooks.cache()[0].first, "blocks.0.attn.hook_pattern");
  EXPECT_EQ(hooks.cache()[0].second.sizes(), (std::vector<int64_t>{1, 1, 3, 3}));
  EXPECT_THROW(hooks.cached("blocks.0.attn.hook_q"), Error);
}

TEST(Hooks, PatchingThePatternChangesTheOutputAsComputedByHand) {
  auto m = previous_token_build({});  // vocab a..h, output = previous token
  auto x = tokens({3, 1, 4, 1, 5});
  auto clean = m->forward({x});
  EXPECT_EQ(clean.argmax(-1)[0][2].item<int64_t>(), 1);  // position 2 outputs x[1]
  // Every query attends only to key 0: the attention output is e_{x[0]} in the previous-token subspace, and
  // W_U reads exactly that subspace, so the logits are the one-hot of x[0] = 3 at every position.
  Hooks hooks;
  hooks.patch_add("blocks.0.attn.hook_pattern", [](const torch::Tensor& p, const std::string&) {
    auto q = torch::zeros_like(p);
    q.select(-1, 0).fill_(1.0);
    return q;
  });
  auto patched = m->forward({x}, &hooks);
  auto expected = torch::zeros({1, 5, 8}, torch::kFloat64);
  expected.select(-1, 3).fill_(1.0);
  EXPECT_EQ((patched - expected).abs().max().item<double>(), 0.0);
  // Half on key 0, half on key 1: logits = (e_{x0} + e_{x1}) / 2.
  Hooks half;
  half.patch_add("*hook_pattern", [](const torch::Tensor& p, const std::string&) {
    auto q = torch::zeros_like(p);
    q.narrow(-1, 0, 2).fill_(0.5);
    return q;
  });
  auto mixed = m->forward({x}, &half);
  EXPECT_EQ(mixed[0][4][3].item<double>(), 0.5);
  EXPECT_EQ(mixed[0][4][1].item<double>(), 0.5);
  EXPECT_EQ(mixed.abs().sum().item<double>(), 5.0);
}

TEST(Hooks, AblatingAttentionOutputZeroesThePreviousTokenLogits) {
  auto m = previous_token_build({});
  Hooks hooks;
  hooks.patch_add("blocks.0.hook_attn_out", [](const torch::Tensor& t, const std::string&) { return t * 0; });
  auto l = m->forward({tokens({0, 1, 2})}, &hooks);
  EXPECT_EQ(l.abs().max().item<double>(), 0.0);
}

TEST(Hooks, PatchOfWrongShapeIsAnError) {
  auto m = previous_token_build({});
  Hooks hooks;
  hooks.patch_add("blocks.0.attn.hook_z", [](const torch::Tensor& t, const std::string&) { return t.sum(); });
  EXPECT_THROW(m->forward({tokens({0, 1})}, &hooks), Error);
}
