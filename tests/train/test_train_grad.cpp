// Gradients of the training loss (masked cross-entropy through every architecture the trainer builds) against
// central finite differences in f64. Error budget per coordinate: |fd - autograd| <= 1e-7 + 1e-6 |autograd|
// (central differences with h = 1e-6: truncation ~h^2 |f'''| ~ 1e-12, rounding ~ eps |f| / h ~ 1e-10).
// Also the lru model through the trainer (TrainLru.*): its ring initialisation and its config errors (learning a
// tiny task: TrainLoop.TinyIndexLookupLearnedByTheLru).
#include <gtest/gtest.h>

#include <cmath>

#include "train/data.h"
#include "train/loss.h"
#include "train/model_build.h"
#include "util/error.h"

namespace attnlab {
namespace {

struct GradCase {
  const char* name;
  std::vector<std::string> overrides;
};

void check_gradients(const GradCase& c) {
  std::vector<std::string> ov = {"model.init_std=0.4", "task.n=5", "train.batch=3"};
  ov.insert(ov.end(), c.overrides.begin(), c.overrides.end());
  TrainConfig cfg = train_config_parse("", c.name, ov);
  SequenceModel model = train_model_build(cfg, torch::kFloat64);
  DataStream data(cfg.task, cfg.train.batch, 11);
  TrainBatch batch = data.next();
  auto loss_of = [&] { return loss_cross_entropy(model->forward({batch.tokens, {}}), batch); };
  model->zero_grad();
  loss_of().backward();
  TaskRng rng(5);
  const double h = 1e-6;
  int checked = 0;
  for (auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << c.name << ": no gradient for " << p.key();
    auto flat = p.value().data().view({-1});
    auto grad = p.value().grad().view({-1});
    for (int k = 0; k < 4; ++k) {
      int64_t i = static_cast<int64_t>(rng_below(rng, static_cast<uint64_t>(flat.numel())));
      double x0 = flat[i].item<double>(), plus, minus;
      {
        torch::NoGradGuard g;
        flat[i] = x0 + h;
        plus = loss_of().item<double>();
        flat[i] = x0 - h;
        minus = loss_of().item<double>();
        flat[i] = x0;
      }
      double fd = (plus - minus) / (2 * h), an = grad[i].item<double>();
      EXPECT_LE(std::abs(fd - an), 1e-7 + 1e-6 * std::abs(an))
          << c.name << ": " << p.key() << "[" << i << "] autograd " << an << " vs finite difference " << fd;
      ++checked;
    }
  }
  EXPECT_GT(checked, 8) << c.name;
}

TEST(TrainGradients, EveryArchitectureMatchesFiniteDifferences) {
  const std::vector<GradCase> cases = {
      {"transformer-ln-relu-learned", {"model.d_model=8", "model.n_heads=2"}},
      {"transformer-gelu-causal-sinusoidal-2layers",
       {"model.d_model=8", "model.n_layers=2", "model.act_fn=gelu", "model.causal=true", "model.pos_embed=sinusoidal"}},
      {"transformer-bilinear-noln", {"model.d_model=6", "model.act_fn=bilinear", "model.normalization=none",
                                     "model.d_head=4", "model.d_mlp=5"}},
      {"transformer-attn-only-identity-nopos", {"model.d_model=6", "model.attn_only=true", "model.pos_embed=none"}},
      {"transformer-dyck-prefix", {"task.name=dyck", "task.n=6", "task.labels=prefix", "model.d_model=8"}},
      {"lstm-last", {"model.type=lstm", "model.d_model=4", "model.d_hidden=5"}},
      {"gru-2layers", {"model.type=gru", "model.d_model=4", "model.d_hidden=5", "model.n_layers=2"}},
      {"rnn-tanh-per-position", {"model.type=rnn", "model.d_model=4", "model.d_hidden=5", "task.name=dyck",
                                 "task.n=6", "task.labels=prefix", "model.readout=per_position"}},
      {"rnn-relu", {"model.type=rnn", "model.nonlinearity=relu", "model.d_model=4", "model.d_hidden=6"}},
      {"equality-transformer", {"task.name=equality", "task.n=3", "model.d_model=8"}},
      {"lru-last", {"model.type=lru", "model.d_model=4", "model.d_hidden=3"}},
      {"lru-2layers-per-position", {"model.type=lru", "model.d_model=4", "model.d_hidden=3", "model.n_layers=2",
                                    "task.name=dyck", "task.n=6", "task.labels=prefix", "model.readout=per_position"}},
  };
  for (const auto& c : cases) check_gradients(c);
}

// The ring init (Orvieto et al. 2023): |lambda| in [r_min, r_max] = [0.9, 0.999], arg lambda in [0, 2 pi),
// gamma = sqrt(1 - |lambda|^2); seeded like every kind (same seed, same weights).
TEST(TrainLru, RingInitialisation) {
  TrainConfig cfg = train_config_parse("", "lru", {"model.type=lru", "model.d_model=8", "model.d_hidden=200",
                                                   "model.n_layers=2"});
  SequenceModel a = train_model_build(cfg, torch::kFloat64), b = train_model_build(cfg, torch::kFloat64);
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  for (int l = 0; l < 2; ++l) {
    std::string s = "blocks." + std::to_string(l) + ".lru.";
    auto modulus = torch::exp(-torch::exp(pa[s + "nu_log"])), angle = torch::exp(pa[s + "theta_log"]);
    EXPECT_GE(modulus.min().item<double>(), 0.9 - 1e-12);
    EXPECT_LE(modulus.max().item<double>(), 0.999 + 1e-12);
    EXPECT_GT(modulus.max().item<double>() - modulus.min().item<double>(), 0.08) << "200 draws span the ring";
    EXPECT_GE(angle.min().item<double>(), 0.0);
    EXPECT_LT(angle.max().item<double>(), 2 * M_PI);
    EXPECT_GT(angle.max().item<double>(), M_PI) << "200 draws span [0, 2 pi)";
    auto gamma = torch::exp(pa[s + "gamma_log"]);
    EXPECT_LT((gamma - torch::sqrt(1 - modulus * modulus)).abs().max().item<double>(), 1e-12);
    EXPECT_NEAR(pa[s + "B_re"].std().item<double>(), 1 / std::sqrt(16.0), 0.05);  // N(0, 1/(2R))
    EXPECT_NEAR(pa[s + "C_im"].std().item<double>(), 1 / std::sqrt(200.0), 0.02);  // N(0, 1/N)
  }
  EXPECT_EQ(pa["blocks.1.ln.w"].min().item<double>(), 1.0);
}

TEST(TrainLru, ConfigErrorsNameTheKey) {
  auto error_of = [](const std::vector<std::string>& overrides) {
    try {
      train_config_parse("", "t.toml", overrides);
    } catch (const Error& e) {
      EXPECT_FALSE(e.hint().empty());
      return e.message();
    }
    return std::string();
  };
  EXPECT_EQ(error_of({"model.type=lru"}), "");
  EXPECT_NE(error_of({"model.type=lru", "model.d_hidden=0"}).find("key 'model.d_hidden' must be >= 1"),
            std::string::npos);
  EXPECT_NE(error_of({"model.type=lru", "model.n_layers=0"}).find("key 'model.n_layers' must be >= 1"),
            std::string::npos);
  EXPECT_NE(error_of({"model.type=lru", "model.d_hidden=1.5"}).find("key 'model.d_hidden'"), std::string::npos);
  EXPECT_NE(error_of({"model.type=lru", "task.name=dyck", "task.labels=prefix"}).find("model.readout"),
            std::string::npos);
  std::string e = error_of({"model.type=lur"});
  EXPECT_NE(e.find("key 'model.type' is 'lur'; it must be one of"), std::string::npos) << e;
  EXPECT_NE(e.find("| lru |"), std::string::npos) << e;
}

}  // namespace
}  // namespace attnlab
