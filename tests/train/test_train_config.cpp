// Training config (TOML + overrides), schedule and optimiser against hand-derived values.
#include <gtest/gtest.h>

#include <cmath>

#include "train/config.h"
#include "train/optim.h"
#include "util/error.h"

namespace attnlab {
namespace {

std::string error_of(const std::string& toml, const std::vector<std::string>& overrides = {}) {
  try {
    train_config_parse(toml, "t.toml", overrides);
  } catch (const Error& e) {
    EXPECT_FALSE(e.hint().empty()) << e.message();
    return e.message();
  }
  return "";
}

TEST(TrainConfig, ParsesSectionsAndOverrides) {
  auto c = train_config_parse("seed = 3\n[task]\nname = \"dyck\"\nn = 12\n[model]\ntype = \"lstm\"\nd_hidden = 17\n"
                              "[optim]\nlr = 1\n[eval]\nlengths = [12, 24]\n",
                              "t.toml", {"model.d_hidden=33", "optim.name=sgd", "schedule.decay=\"linear\""});
  EXPECT_EQ(c.seed, 3);
  EXPECT_EQ(c.task.name, "dyck");
  EXPECT_EQ(c.task.n, 12);
  EXPECT_EQ(c.model.type, "lstm");
  EXPECT_EQ(c.model.d_hidden, 33);          // override wins over the file
  EXPECT_DOUBLE_EQ(c.optim.lr, 1.0);        // an integer is accepted for a float key
  EXPECT_EQ(c.optim.name, "sgd");           // bare word override
  EXPECT_EQ(c.schedule.decay, "linear");    // quoted override
  EXPECT_EQ(c.eval.lengths, (std::vector<int64_t>{12, 24}));
}

TEST(TrainConfig, ResolvedTomlRoundTrips) {
  auto c = train_config_parse("[task]\nname = \"equality\"\nn = 5\n", "t.toml", {"optim.lr=3e-3", "eval.lengths=[5,9]"});
  std::string text = train_config_to_toml(c);
  auto again = train_config_parse(text, "resolved.toml");
  EXPECT_EQ(train_config_to_toml(again), text);
  EXPECT_DOUBLE_EQ(again.optim.lr, 3e-3);
  EXPECT_NE(text.find("[schedule]"), std::string::npos);
  EXPECT_NE(text.find("lengths = [5, 9]"), std::string::npos);
}

TEST(TrainConfig, UnknownKeysAndTypeMismatchesNameTheKey) {
  std::string e = error_of("[model]\nd_modle = 3\n[optim]\nlr = \"fast\"\n[train]\nsteps = 1.5\n");
  EXPECT_NE(e.find("unknown key 'model.d_modle' (did you mean 'model.d_model'?)"), std::string::npos) << e;
  EXPECT_NE(e.find("key 'optim.lr' (line 4) must be a number, got string"), std::string::npos) << e;
  EXPECT_NE(e.find("key 'train.steps' (line 6) must be an integer"), std::string::npos) << e;
  EXPECT_NE(error_of("[nosuch]\nx = 1\n").find("unknown key 'nosuch.x'"), std::string::npos);
  EXPECT_NE(error_of("", {"train.stepz=3"}).find("unknown key 'train.stepz'"), std::string::npos);
  EXPECT_NE(error_of("", {"train.steps=many"}).find("key 'train.steps' in override 'train.steps=many' must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of("", {"novalue"}).find("not of the form key.sub=value"), std::string::npos);
  EXPECT_NE(error_of("[task\n").find("t.toml:1:"), std::string::npos);
  EXPECT_NE(error_of("", {"model.type=mamba"}).find("key 'model.type' is 'mamba'; it must be one of"), std::string::npos);
  EXPECT_NE(error_of("[task]\nname = \"dyck\"\nn = 7\n").find("even"), std::string::npos);
  EXPECT_NE(error_of("[train]\nkeep_checkpoints = 1\n").find("train.keep_checkpoints"), std::string::npos);
  // retrieval-only keys
  EXPECT_NE(error_of("", {"task.encoding=triples"}).find("key 'task.encoding' is 'triples'; it must be one of fused | pairs"),
            std::string::npos);
  EXPECT_NE(error_of("", {"task.encoding=fused"}).find("'task.encoding' = \"fused\" needs task.name = \"retrieval\""),
            std::string::npos);
  EXPECT_NE(error_of("", {"task.query=any"}).find("key 'task.query' is 'any'; it must be one of mixed | top"),
            std::string::npos);
  EXPECT_NE(error_of("", {"task.name=khop", "task.query=mixed"}).find("'task.query' = \"mixed\" needs task.name"),
            std::string::npos);
}

TEST(TrainSchedule, WarmupCosineLinearByHand) {
  ScheduleConfig s;
  s.warmup = 4;
  s.decay = "cosine";
  s.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(schedule_lr(s, 1.0, 0, 14), 0.25);   // (0+1)/4
  EXPECT_DOUBLE_EQ(schedule_lr(s, 1.0, 3, 14), 1.0);
  EXPECT_DOUBLE_EQ(schedule_lr(s, 1.0, 4, 14), 1.0);    // decay starts at its top
  EXPECT_NEAR(schedule_lr(s, 1.0, 13, 14), 0.1, 1e-15); // last step: min_lr_ratio
  EXPECT_NEAR(schedule_lr(s, 1.0, 9, 14), 0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * 5 / 9.0)), 1e-15);
  s.decay = "linear";
  EXPECT_NEAR(schedule_lr(s, 2.0, 9, 14), 2.0 * (0.1 + 0.9 * (1 - 5 / 9.0)), 1e-15);
  s.decay = "constant";
  EXPECT_DOUBLE_EQ(schedule_lr(s, 2.0, 13, 14), 2.0);
}

TEST(TrainOptim, AdamWOneStepByHand) {
  // p = [[1]], g = 0.5, lr = 0.1, wd = 0.1, beta = (0.9, 0.999):
  // m = 0.05, v = 0.00025, m^ = 0.5, v^ = 0.25 -> p = 1 * (1 - 0.01) - 0.1 * 0.5 / (0.5 + 1e-8)
  OptimConfig oc;
  oc.weight_decay = 0.1;
  auto w = torch::ones({1, 1}, torch::kFloat64).requires_grad_(true);
  auto b = torch::ones({1}, torch::kFloat64).requires_grad_(true);  // a bias: no weight decay
  Optimizer opt(oc, {{"w", w}, {"b", b}});
  (0.5 * (w.sum() + b.sum())).backward();
  opt.step(0.1);
  EXPECT_NEAR(w.item<double>(), 0.99 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-15);
  EXPECT_NEAR(b.item<double>(), 1.0 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-15);
  auto st = opt.state();
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].first, "exp_avg.w");
  EXPECT_NEAR(st[0].second.item<double>(), 0.05, 1e-15);
  EXPECT_NEAR(st[1].second.item<double>(), 0.00025, 1e-15);
}

// AdamW with weight decay on a matrix and not on a vector, by hand, against the optimiser's flat buffers over
// four steps — including a gradient set to none (the optimiser adopts the new one) and a parameter whose storage
// is replaced behind its back (it falls back to the per-parameter path); the update must stay the same.
TEST(TrainOptim, FlatBuffersMatchAdamWByHandThroughReplacedGradsAndStorage) {
  OptimConfig oc;
  oc.weight_decay = 0.05;
  auto w = torch::tensor({{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}}, torch::kFloat64).requires_grad_(true);
  auto b = torch::tensor({0.1, -0.2, 0.3}, torch::kFloat64).requires_grad_(true);
  auto w_ref = w.detach().clone(), b_ref = b.detach().clone();
  auto mw = torch::zeros_like(w_ref), vw = torch::zeros_like(w_ref), mb = torch::zeros_like(b_ref),
       vb = torch::zeros_like(b_ref);
  Optimizer opt(oc, {{"w", w}, {"b", b}});
  const double lr = 0.01;
  for (int step = 1; step <= 4; ++step) {
    if (step == 3) w.mutable_grad() = torch::Tensor();  // set to none, as Module::zero_grad(true) would
    if (step == 4) {
      torch::NoGradGuard no_grad;
      w.set_data(w.detach().clone());  // new storage: no longer a view of the flat buffer
    }
    opt.zero_grad();
    auto x = torch::arange(1.0, 7.0, torch::kFloat64).view({2, 3}) * step;
    ((w * w * x).sum() + (b * x[0]).sum()).backward();
    opt.step(lr);
    // the reference: g_w = 2 w x, g_b = x[0]
    auto gw = 2 * w_ref * x, gb = x[0];
    double bc1 = 1 - std::pow(0.9, step), bc2 = 1 - std::pow(0.999, step);
    w_ref.mul_(1 - lr * 0.05);
    mw = 0.9 * mw + 0.1 * gw; vw = 0.999 * vw + 0.001 * gw * gw;
    mb = 0.9 * mb + 0.1 * gb; vb = 0.999 * vb + 0.001 * gb * gb;
    w_ref -= lr / bc1 * mw / (vw.sqrt() / std::sqrt(bc2) + 1e-8);
    b_ref -= lr / bc1 * mb / (vb.sqrt() / std::sqrt(bc2) + 1e-8);
    EXPECT_LT((w.detach() - w_ref).abs().max().item<double>(), 1e-14) << "step " << step;
    EXPECT_LT((b.detach() - b_ref).abs().max().item<double>(), 1e-14) << "step " << step;
  }
  // the state still names and shapes every tensor
  auto st = opt.state();
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].second.sizes(), w.sizes());
  EXPECT_LT((st[0].second - mw).abs().max().item<double>(), 1e-14);
}

TEST(TrainOptim, SgdMomentumTwoStepsAndClipByHand) {
  OptimConfig oc;
  oc.name = "sgd";
  oc.momentum = 0.9;
  auto w = torch::zeros({2}, torch::kFloat64).requires_grad_(true);
  Optimizer opt(oc, {{"w", w}});
  for (int i = 0; i < 2; ++i) {
    opt.zero_grad();
    (w * torch::tensor({3.0, 4.0}, torch::kFloat64)).sum().backward();  // g = [3, 4], |g| = 5
    if (i == 1) EXPECT_DOUBLE_EQ(opt.clip_grad_norm(1.0), 5.0);          // g -> [0.6, 0.8] (up to 1e-6 / 5)
    opt.step(0.5);
  }
  // step 1: buf = [3, 4], w = -[1.5, 2]; step 2: buf = 0.9 [3, 4] + [0.6, 0.8] (scaled by 1/(5+1e-6))
  double s = 1.0 / (5.0 + 1e-6);
  EXPECT_NEAR(w[0].item<double>(), -1.5 - 0.5 * (2.7 + 3 * s), 1e-12);
  EXPECT_NEAR(w[1].item<double>(), -2.0 - 0.5 * (3.6 + 4 * s), 1e-12);
}

}  // namespace
}  // namespace attnlab
