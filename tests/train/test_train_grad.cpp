// Gradients of the training loss (masked cross-entropy through every architecture the trainer builds) against
// central finite differences in f64. Error budget per coordinate: |fd - autograd| <= 1e-7 + 1e-6 |autograd|
// (central differences with h = 1e-6: truncation ~h^2 |f'''| ~ 1e-12, rounding ~ eps |f| / h ~ 1e-10).
#include <gtest/gtest.h>

#include "train/data.h"
#include "train/loss.h"
#include "train/model_build.h"

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
  };
  for (const auto& c : cases) check_gradients(c);
}

}  // namespace
}  // namespace attnlab
