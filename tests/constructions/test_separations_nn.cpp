// The nearest-neighbour construction (src/constructions/nearest_neighbour.h): the header's worked example by
// hand, random instances with margin δ in f32 and f64 against a plain double-loop argmax of <q, x_j> (error
// budget: f64 logit margin ≥ μ - 1e-9 as the theorem promises, f32 ≥ μ - 1e-3), save/load, a broken scale
// that the verifier catches, and every bad parameter.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "../model/model_test_util.h"
#include "constructions/construct_common.h"
#include "constructions/nearest_neighbour.h"
#include "util/error.h"

namespace attnlab {
namespace {

// Label of argmax_j <q, x_j>, by a plain loop over the example's numbers (independent of the generator).
int64_t loop_nearest_label(const NearestNeighbourSpec& s, const TaskExample& e) {
  const double* q = e.numbers.data() + 2 * s.k * s.d;
  int64_t best = 0;
  double best_ip = -1e300;
  for (int64_t j = 0; j < s.k; ++j) {
    double ip = 0;
    for (int64_t i = 0; i < s.d; ++i) ip += q[i] * e.numbers[2 * j * s.d + i];
    if (ip > best_ip) best_ip = ip, best = j;
  }
  return e.tokens[2 * best + 1] - 2;
}

NearestNeighbourOptions options(int64_t k, int64_t d, int64_t C, double delta) {
  NearestNeighbourOptions opt;
  opt.spec = {k, d, C, delta};
  return opt;
}

TEST(NearestNeighbour, WorkedExampleFromTheTaskHeader) {
  // x_0 = (1, 0) label L1, x_1 = (0, 1) label L0; q = (.8, .6) -> L1; q = (.6, .8) -> L0. Margin .2.
  auto b = nearest_neighbour_build(options(2, 2, 2, 0.2));
  for (auto [q0, q1, want] : {std::tuple{0.8, 0.6, 1}, std::tuple{0.6, 0.8, 0}}) {
    ModelInput in{torch::tensor({0, 3, 0, 2, 1}, torch::kInt64).unsqueeze(0),
                  torch::tensor({1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, q0, q1}, torch::kFloat64).view({1, 5, 2})};
    auto lg = b.model->forward(in)[0][4];
    EXPECT_EQ(lg.argmax().item<int64_t>(), want);
    EXPECT_GE((lg[want] - lg[1 - want]).item<double>(), 0.5 - 1e-9);  // μ = 0.5
  }
}

TEST(NearestNeighbour, RandomInstancesWithMarginInF32AndF64) {
  struct Case { int64_t k, d, C; double delta; std::string code; };
  for (const Case& c : {Case{1, 3, 2, 0.5, "random"}, Case{8, 4, 4, 0.1, "random"}, Case{64, 16, 8, 0.05, "random"},
                        Case{200, 8, 3, 0.02, "reed-solomon"}, Case{40, 2, 5, 0.01, "random"}}) {
    auto opt = options(c.k, c.d, c.C, c.delta);
    opt.code = c.code;
    opt.seed = 7;
    auto b = nearest_neighbour_build(opt);
    const auto& cfg = b.model->config();
    EXPECT_EQ(cfg.d_model, 2 * c.d + c.C + 2 * b.code.k + 2);
    EXPECT_LE(b.code.gamma, opt.gamma);
    TaskBatch batch = nearest_neighbour_sample(opt.spec, 60, 11);
    for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
      auto model = dtype == torch::kFloat64 ? b.model : model_copy_as(b.model, dtype);
      torch::NoGradGuard g;
      auto lg = model->forward(nearest_neighbour_input(opt.spec, batch, 0, batch.examples.size()))
                    .select(1, 2 * c.k).to(torch::kFloat64);
      for (size_t i = 0; i < batch.examples.size(); ++i) {
        const int64_t want = loop_nearest_label(opt.spec, batch.examples[i]);
        auto row = lg[i].clone();
        const double right = row[want].item<double>();
        row[want] = -INFINITY;
        const double margin = right - row.max().item<double>();
        EXPECT_GE(margin, dtype == torch::kFloat64 ? 0.5 - 1e-9 : 0.5 - 1e-3)
            << "k=" << c.k << " d=" << c.d << " delta=" << c.delta << " example " << i;
      }
    }
    for (auto& r : nearest_neighbour_verify(b, opt, 40, 3)) {
      EXPECT_EQ(r.checked, 40);
      EXPECT_EQ(r.correct, 40) << r.dtype;
    }
  }
}

TEST(NearestNeighbour, SaveLoadAndBrokenScaleIsCaught) {
  auto opt = options(16, 4, 4, 0.1);
  auto b = nearest_neighbour_build(opt);
  const std::string dir = test::temp_dir("nn");
  model_save(dir, b.model);
  auto loaded = model_load(dir);
  TaskBatch batch = nearest_neighbour_sample(opt.spec, 8, 1);
  auto in = nearest_neighbour_input(opt.spec, batch, 0, 8);
  EXPECT_TRUE(torch::allclose(loaded->forward(in), b.model->forward(in), 0, 1e-12));
  {
    torch::NoGradGuard g;
    b.model->named_parameters()["blocks.1.attn.W_Q"].mul_(1e-3);  // query head near uniform: labels blur
  }
  auto r = nearest_neighbour_verify(b, opt, 200, 2)[1];
  EXPECT_LT(r.correct, r.checked);
}

TEST(NearestNeighbour, BadParameters) {
  auto expect_error = [](NearestNeighbourOptions opt, const std::string& what) {
    try {
      nearest_neighbour_build(opt);
      ADD_FAILURE() << "no error for " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.message()).find(what), std::string::npos) << e.message();
    }
  };
  auto opt = options(8, 4, 4, 0.1);
  opt.gamma = 1.0;
  expect_error(opt, "gamma");
  opt = options(8, 4, 4, 0.1);
  opt.logit_margin = 0;
  expect_error(opt, "logit margin");
  expect_error(options(0, 4, 4, 0.1), "k = 0");
  expect_error(options(8, 0, 4, 0.1), "d = 0");
  expect_error(options(8, 4, 1, 0.1), "1 classes");
  expect_error(options(8, 4, 4, 0.0), "margin");
  expect_error(options(8, 4, 4, 1.5), "margin");
}

}  // namespace
}  // namespace attnlab
