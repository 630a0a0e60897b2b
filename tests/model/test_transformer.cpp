// Forward passes of small hand-built transformers against values derived by hand (error budget 1e-12, f64).
#include <gtest/gtest.h>

#include <cmath>

#include "model/hooks.h"
#include "model/transformer.h"
#include "model_test_util.h"

using namespace attnlab;
using namespace attnlab::test;

namespace {

// Token i embeds to e_i in R = vocab dims; V = O = identity; W_U = identity: logits = resid.
SequenceModel copy_model(ModelConfig c) {
  auto m = model_create(c);
  param_identity(m, "embed.W_E");
  param_identity(m, "blocks.0.attn.W_V");
  param_identity(m, "blocks.0.attn.W_O");
  param_identity(m, "unembed.W_U");
  return m;
}

double logit(const torch::Tensor& l, int t, int o) { return l[0][t][o].item<double>(); }

}  // namespace

TEST(Transformer, UniformSoftmaxAveragesValuesBidirectional) {
  auto m = copy_model(tiny_config(3, 3));  // W_Q = 0: every score is 0, so softmax is uniform
  auto l = m->forward({tokens({0, 1, 1})});
  // resid_t = e_{x_t} + mean_s e_{x_s}; mean = (1/3, 2/3, 0)
  EXPECT_NEAR(logit(l, 0, 0), 1 + 1.0 / 3, 1e-12);
  EXPECT_NEAR(logit(l, 0, 1), 2.0 / 3, 1e-12);
  EXPECT_NEAR(logit(l, 2, 1), 1 + 2.0 / 3, 1e-12);
  EXPECT_NEAR(logit(l, 2, 2), 0, 1e-12);
}

TEST(Transformer, UniformSoftmaxCausalAveragesPrefix) {
  auto c = tiny_config(3, 3);
  c.causal = true;
  auto m = copy_model(c);
  auto l = m->forward({tokens({0, 1, 2})});
  EXPECT_NEAR(logit(l, 0, 0), 2.0, 1e-12);                        // sees only itself
  EXPECT_NEAR(logit(l, 1, 0), 0.5, 1e-12);                        // mean of e0, e1
  EXPECT_NEAR(logit(l, 1, 1), 1.5, 1e-12);
  EXPECT_NEAR(logit(l, 2, 2), 1 + 1.0 / 3, 1e-12);
}

TEST(Transformer, SoftmaxWeightsFollowScaledScores) {
  auto c = tiny_config(2, 2);
  c.attn_scale = 2.0;  // scores = q.k / 2
  auto m = copy_model(c);
  param_set(m, "blocks.0.attn.W_Q", {3, 0, 0, 1});  // q = diag(3, 1) x
  param_identity(m, "blocks.0.attn.W_K");
  auto l = m->forward({tokens({0, 1})});
  // query token 0: q = (3,0); keys e0, e1 -> scores (3/2, 0): weights w0 = e^1.5 / (e^1.5 + 1)
  double w0 = std::exp(1.5) / (std::exp(1.5) + 1);
  EXPECT_NEAR(logit(l, 0, 0), 1 + w0, 1e-12);
  EXPECT_NEAR(logit(l, 0, 1), 1 - w0, 1e-12);
  // query token 1: q = (0,1); scores (0, 1/2)
  double v1 = std::exp(0.5) / (std::exp(0.5) + 1);
  EXPECT_NEAR(logit(l, 1, 0), 1 - v1, 1e-12);
  EXPECT_NEAR(logit(l, 1, 1), 1 + v1, 1e-12);
}

TEST(Transformer, HardAttentionAveragesExactlyOverTies) {
  auto c = tiny_config(3, 3);
  c.attention = AttentionKind::Hard;
  auto m = copy_model(c);
  // q = k = one-hot token: the query selects keys with its own token (score 1), others score 0
  param_identity(m, "blocks.0.attn.W_Q");
  param_identity(m, "blocks.0.attn.W_K");
  auto l = m->forward({tokens({0, 1, 0, 2})});
  // position 0 (token 0) selects positions 0 and 2, both token 0: value e0 -> resid = 2 e0
  EXPECT_EQ(logit(l, 0, 0), 2.0);
  EXPECT_EQ(logit(l, 1, 1), 2.0);
  // all-equal scores (W_Q = 0) give an exact uniform mean over all keys
  param_set(m, "blocks.0.attn.W_Q", std::vector<double>(9, 0.0));
  l = m->forward({tokens({0, 1, 0, 2})});
  EXPECT_EQ(logit(l, 3, 0), 0.5);
  EXPECT_EQ(logit(l, 3, 2), 1.25);
}

TEST(Transformer, HardAttentionIsCausallyMasked) {
  auto c = tiny_config(2, 2);
  c.attention = AttentionKind::Hard;
  c.causal = true;
  auto m = copy_model(c);
  auto l = m->forward({tokens({1, 0, 0})});
  EXPECT_EQ(logit(l, 0, 1), 2.0);         // only itself
  EXPECT_EQ(logit(l, 1, 0), 1.5);         // mean of e1, e0 = (0.5, 0.5) plus e0
  EXPECT_NEAR(logit(l, 2, 1), 1.0 / 3, 1e-15);
}

TEST(Transformer, MlpKindsMatchTheirDefinitions) {
  // R = 1: resid = x (token embedding), attention contributes 0 (W_V = 0), MLP: W_in = 1, b_in = -0.5.
  for (MlpKind kind : {MlpKind::Relu, MlpKind::Gelu, MlpKind::Identity, MlpKind::Bilinear}) {
    auto c = tiny_config(1, 2);
    c.attn_only = false;
    c.d_mlp = 1;
    c.act_fn = kind;
    auto m = model_create(c);
    param_set(m, "embed.W_E", {0.25, 2.0});
    param_set(m, "blocks.0.mlp.W_in", {1.0});
    param_set(m, "blocks.0.mlp.b_in", {-0.5});
    param_set(m, "blocks.0.mlp.W_out", {1.0});
    param_set(m, "unembed.W_U", {1.0, 0.0});
    if (kind == MlpKind::Bilinear) {
      param_set(m, "blocks.0.mlp.W_gate", {3.0});
      param_set(m, "blocks.0.mlp.b_gate", {1.0});
    }
    auto l = m->forward({tokens({0, 1})});
    for (int t = 0; t < 2; ++t) {
      double x = t == 0 ? 0.25 : 2.0, pre = x - 0.5, post = 0;
      switch (kind) {
        case MlpKind::Relu: post = std::max(pre, 0.0); break;
        case MlpKind::Gelu: post = pre * 0.5 * (1 + std::erf(pre / std::sqrt(2.0))); break;
        case MlpKind::Identity: post = pre; break;
        case MlpKind::Bilinear: post = pre * (3 * x + 1); break;
      }
      EXPECT_NEAR(logit(l, t, 0), x + post, 1e-12) << mlp_kind_name(kind) << " t=" << t;
    }
  }
}

TEST(Transformer, LayerNormNormalisesBeforeAttentionAndUnembed) {
  auto c = tiny_config(2, 2);
  c.normalization = NormKind::LN;
  auto m = copy_model(c);
  param_set(m, "embed.W_E", {1.0, 3.0, 0.0, 0.0});
  param_set(m, "blocks.0.attn.W_V", std::vector<double>(4, 0.0));
  param_set(m, "ln_final.w", {2.0, 1.0});
  param_set(m, "ln_final.b", {0.0, 10.0});
  auto l = m->forward({tokens({0})});
  // x = (1, 3): mean 2, biased variance 1 -> (-1, 1) / sqrt(1 + 1e-5), then * w + b
  double s = 1 / std::sqrt(1 + 1e-5);
  EXPECT_NEAR(logit(l, 0, 0), -2 * s, 1e-12);
  EXPECT_NEAR(logit(l, 0, 1), 10 + s, 1e-12);
}

TEST(Transformer, PositionalEmbeddingsLearnedAndSinusoidal) {
  auto c = tiny_config(2, 2, 4);
  c.pos_embed = PosEmbedKind::Sinusoidal;
  auto m = copy_model(c);
  param_set(m, "blocks.0.attn.W_V", std::vector<double>(4, 0.0));
  param_set(m, "embed.W_E", std::vector<double>(4, 0.0));
  auto l = m->forward({tokens({0, 0, 0})});
  EXPECT_NEAR(logit(l, 2, 0), std::sin(2.0), 1e-12);  // P[t, 0] = sin(t), P[t, 1] = cos(t / 10000^0)
  EXPECT_NEAR(logit(l, 2, 1), std::cos(2.0), 1e-12);
  c.pos_embed = PosEmbedKind::Learned;
  auto m2 = copy_model(c);
  param_set(m2, "blocks.0.attn.W_V", std::vector<double>(4, 0.0));
  param_set(m2, "pos_embed.W_pos", {0, 0, 0, 0, 5, 7, 0, 0});
  auto l2 = m2->forward({tokens({0, 0, 0})});
  EXPECT_NEAR(logit(l2, 2, 0), 5.0 + 1.0, 1e-12);  // W_E[0] = e0 plus W_pos[2]
  EXPECT_NEAR(logit(l2, 2, 1), 7.0, 1e-12);
}

TEST(Transformer, NumericInputsEnterThroughWInNum) {
  auto c = tiny_config(2, 0);
  c.d_vocab_out = 2;
  c.d_in_num = 1;
  auto m = model_create(c);
  param_set(m, "embed.W_in_num", {1.0, -2.0});
  param_identity(m, "unembed.W_U");
  auto numbers = torch::tensor({0.5, 3.0}, torch::kFloat64).view({1, 2, 1});
  auto l = m->forward({torch::Tensor(), numbers});
  EXPECT_NEAR(logit(l, 1, 0), 3.0, 1e-12);
  EXPECT_NEAR(logit(l, 1, 1), -6.0, 1e-12);
}

TEST(Transformer, Float32AgreesWithFloat64) {
  auto c = tiny_config(4, 5);
  c.n_heads = 2;
  c.d_head = 3;
  c.n_layers = 2;
  c.attn_only = false;
  c.d_mlp = 6;
  c.normalization = NormKind::LN;
  c.pos_embed = PosEmbedKind::Learned;
  auto m = model_create(c);
  model_init_random(m, 7, 0.4);
  auto x = tokens({0, 4, 2, 2, 1});
  auto l64 = m->forward({x});
  m->to(torch::kFloat32);
  auto l32 = m->forward({x}).to(torch::kFloat64);
  EXPECT_LT((l64 - l32).abs().max().item<double>(), 1e-5);
}

// Without hooks the runtime runs fused autograd nodes (AttnLayer, LinearFn, EmbedPos in transformer.cpp); with a
// Hooks object, even an empty one, it spells every op out. Both must give the same logits and the same parameter
// gradients bit for bit, in f32 and f64, for every kind of block the trainer builds.
TEST(Transformer, FusedNodesEqualTheHookedPathBitForBit) {
  auto base = [] {
    auto c = tiny_config(8, 6, 7);
    c.n_heads = 2, c.d_head = 4, c.n_layers = 2, c.d_vocab_out = 5;
    return c;
  };
  std::vector<std::pair<std::string, ModelConfig>> cases;
  {
    auto c = base();
    c.attn_only = false, c.d_mlp = 12, c.normalization = NormKind::LN, c.pos_embed = PosEmbedKind::Learned;
    cases.emplace_back("ln relu mlp learned bidirectional", c);
  }
  {
    auto c = base();
    c.attn_only = false, c.d_mlp = 12, c.act_fn = MlpKind::Gelu, c.causal = true;
    c.pos_embed = PosEmbedKind::Sinusoidal;
    cases.emplace_back("gelu causal sinusoidal no LN", c);
  }
  {
    auto c = base();
    c.attn_only = false, c.d_mlp = 12, c.act_fn = MlpKind::Bilinear, c.normalization = NormKind::LN;
    cases.emplace_back("bilinear LN", c);
  }
  {
    auto c = base();
    c.attn_only = true, c.pos_embed = PosEmbedKind::None, c.causal = true;
    cases.emplace_back("attention-only causal no positions", c);
  }
  for (auto dtype : {torch::kFloat32, torch::kFloat64})
    for (const auto& [name, cfg] : cases) {
      auto m = model_create(cfg, dtype);
      model_init_random(m, 11, 0.5);
      auto x = torch::tensor({0, 5, 2, 2, 1, 3, 4, 1, 0, 0, 5, 5, 3, 2, 1, 4, 4, 0, 2, 1, 3}, torch::kInt64).view({3, 7});
      auto w = torch::randn({3, 7, 5}, torch::TensorOptions().dtype(dtype));
      auto run = [&](Hooks* hooks) {
        for (auto& p : m->parameters()) p.mutable_grad() = torch::Tensor();
        auto logits = m->forward({x, {}}, hooks);
        (logits * w).sum().backward();
        std::vector<torch::Tensor> out{logits.detach().clone()};
        for (auto& p : m->parameters()) out.push_back(p.grad().clone());
        return out;
      };
      Hooks empty;
      auto fused = run(nullptr), hooked = run(&empty);
      ASSERT_EQ(fused.size(), hooked.size());
      for (size_t i = 0; i < fused.size(); ++i)
        EXPECT_TRUE(torch::equal(fused[i], hooked[i]))
            << name << (dtype == torch::kFloat32 ? " f32" : " f64") << (i ? " gradient " + std::to_string(i - 1) : " logits")
            << ": max difference " << (fused[i] - hooked[i]).abs().max().item<double>();
    }
}
