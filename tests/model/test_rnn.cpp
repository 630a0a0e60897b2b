// Recurrent runtime against LibTorch's own torch::nn::LSTM / GRU / RNN (an independent implementation of the
// same cell equations and gate orders) with copied weights. Error budget 1e-12 (f64). The lru model: see the
// LRU section below.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <complex>
#include <cstdio>
#include <filesystem>

#include "model/rnn.h"
#include "model/weights.h"
#include "model_test_util.h"
#include "util/error.h"

using namespace attnlab;
using namespace attnlab::test;

namespace {

ModelConfig rnn_config(ModelType type, int layers) {
  ModelConfig c;
  c.model_type = type;
  c.n_layers = layers;
  c.d_model = 3;      // input width
  c.d_in_num = 3;     // real-valued inputs, W_in_num = identity
  c.d_hidden = 4;
  c.d_vocab_out = 2;
  return c;
}

// Runs ours and the reference on the same inputs; returns max |difference| of the top layer's hidden states.
template <class RefModule>
double compare(SequenceModel& ours, RefModule& ref, const torch::Tensor& x) {
  torch::NoGradGuard g;
  ref->to(torch::kFloat64);
  for (auto& p : ref->named_parameters()) param(ours, "rnn." + p.key()).copy_(p.value());
  param_identity(ours, "embed.W_in_num");
  Hooks hooks;
  hooks.cache_add("rnn.*.hook_h");
  ours->forward({torch::Tensor(), x}, &hooks);
  auto theirs = std::get<0>(ref->forward(x));
  auto mine = hooks.cached("rnn." + std::to_string(ours->config().n_layers - 1) + ".hook_h");
  return (mine - theirs).abs().max().item().toDouble();
}

torch::Tensor inputs() {
  torch::manual_seed(3);
  return torch::randn({2, 5, 3}, torch::kFloat64);
}

}  // namespace

TEST(Rnn, LstmMatchesTorchNn) {
  torch::manual_seed(1);
  auto ours = model_create(rnn_config(ModelType::Lstm, 2));
  torch::nn::LSTM ref(torch::nn::LSTMOptions(3, 4).num_layers(2).batch_first(true));
  EXPECT_LT(compare(ours, ref, inputs()), 1e-12);
}

TEST(Rnn, GruMatchesTorchNn) {
  torch::manual_seed(2);
  auto ours = model_create(rnn_config(ModelType::Gru, 2));
  torch::nn::GRU ref(torch::nn::GRUOptions(3, 4).num_layers(2).batch_first(true));
  EXPECT_LT(compare(ours, ref, inputs()), 1e-12);
}

TEST(Rnn, ElmanTanhAndReluMatchTorchNn) {
  for (std::string nl : {"tanh", "relu"}) {
    torch::manual_seed(4);
    auto c = rnn_config(ModelType::Rnn, 2);
    c.nonlinearity = nl;
    auto ours = model_create(c);
    auto opts = torch::nn::RNNOptions(3, 4).num_layers(2).batch_first(true);
    if (nl == "relu") opts.nonlinearity(torch::kReLU);
    torch::nn::RNN ref(opts);
    EXPECT_LT(compare(ours, ref, inputs()), 1e-12) << nl;
  }
}

TEST(Rnn, ReadoutPerPositionAndLast) {
  auto c = rnn_config(ModelType::Rnn, 1);
  auto m = model_create(c);
  model_init_random(m, 5, 0.5);
  auto x = inputs();
  Hooks hooks;
  hooks.cache_add("rnn.0.hook_h");
  auto per_pos = m->forward({torch::Tensor(), x}, &hooks);
  auto h = hooks.cached("rnn.0.hook_h");
  auto expected = torch::matmul(h, param(m, "unembed.W_U")) + param(m, "unembed.b_U");
  EXPECT_LT((per_pos - expected).abs().max().item<double>(), 1e-12);
  m->config_mut().readout = Readout::Last;
  auto last = m->forward({torch::Tensor(), x});
  ASSERT_EQ(last.sizes(), (std::vector<int64_t>{2, 1, 2}));
  EXPECT_LT((last.squeeze(1) - expected.select(1, 4)).abs().max().item<double>(), 1e-12);
}

TEST(Rnn, TokenInputsUseTheEmbedding) {
  auto c = rnn_config(ModelType::Gru, 1);
  c.d_in_num = 0;
  c.d_vocab = 3;
  auto m = model_create(c);
  model_init_random(m, 6, 0.5);
  auto ids = tokens({2, 0, 1});
  auto via_tokens = m->forward({ids});
  // the same sequence as one-hot rows times W_E fed as numbers through a twin with W_in_num = W_E
  auto c2 = c;
  c2.d_vocab = 0;
  c2.d_in_num = 3;
  auto twin = model_create(c2);
  torch::NoGradGuard g;
  for (auto& p : m->named_parameters())
    param(twin, p.key() == "embed.W_E" ? "embed.W_in_num" : p.key()).copy_(p.value());
  auto onehot = torch::one_hot(ids, 3).to(torch::kFloat64);
  EXPECT_LT((twin->forward({torch::Tensor(), onehot}) - via_tokens).abs().max().item<double>(), 1e-12);
}

namespace attnlab {
namespace {

// Without hooks the runtime calls ATen's recurrent loop (torch::lstm/gru/rnn_*); with hooks it steps by hand
// to expose hook_c. Both paths must give the same outputs (1e-12, f64) for every kind and both readouts.
TEST(Rnn, FusedPathEqualsTheStepByStepPath) {
  for (auto kind : {ModelType::Lstm, ModelType::Gru, ModelType::Rnn}) {
    for (const char* nl : {"tanh", "relu"}) {
      if (kind != ModelType::Rnn && std::string(nl) == "relu") continue;
      ModelConfig cfg = rnn_config(kind, 2);
      cfg.nonlinearity = nl;
      auto model = model_create(cfg);
      model_init_random(model, 5, 0.5);
      torch::Tensor x = inputs();
      Hooks hooks;
      hooks.cache_add("rnn.*");
      torch::Tensor fused = model->forward({torch::Tensor(), x});
      torch::Tensor stepped = model->forward({torch::Tensor(), x}, &hooks);
      EXPECT_LT((fused - stepped).abs().max().item<double>(), 1e-12) << model_type_name(kind) << " " << nl;
    }
  }
}

}  // namespace
}  // namespace attnlab

// ------------------------------------------------------------------------------------------------------------ LRU
// The diagonal linear recurrent model (model type "lru", src/model/rnn.h): a hand-derived closed form with
// std::complex, the numpy complex128 oracle (tests/oracle/forward.py) on random models, the model directory
// round trip, and config errors. Error budgets: 1e-12 in f64 (O(1) values, a few dozen operations), 1e-5 in f32.

namespace attnlab {
namespace {

// One block, R = 2, N = 1, T = 3, numeric inputs x_t = (s_t, -s_t) (W_in_num = identity), one output.
ModelConfig lru_tiny_config() {
  ModelConfig c;
  c.model_type = ModelType::Lru;
  c.n_layers = 1;
  c.d_model = 2;
  c.d_in_num = 2;
  c.d_hidden = 1;
  c.d_vocab_out = 1;
  return c;
}

// lambda = 0.8 e^{0.5 i}, gamma = 0.6, B = (1, 0) + i (0.5, 0), C = (2, 0)^T + i (1, 0)^T, D = (0.3, -0.7),
// LN weights 1 and biases 0, GLU W_a = I, W_g = 0 (gate 1/2), readout W_U = (1, 1)^T, b_U = 0.25.
SequenceModel lru_tiny_model(torch::Dtype dtype) {
  auto m = model_create(lru_tiny_config());
  test::param_identity(m, "embed.W_in_num");
  param_set(m, "blocks.0.ln.w", {1, 1});
  param_set(m, "blocks.0.lru.nu_log", {std::log(-std::log(0.8))});  // |lambda| = exp(-exp(nu_log)) = 0.8
  param_set(m, "blocks.0.lru.theta_log", {std::log(0.5)});          // arg lambda = exp(theta_log) = 0.5
  param_set(m, "blocks.0.lru.gamma_log", {std::log(0.6)});
  param_set(m, "blocks.0.lru.B_re", {1, 0});
  param_set(m, "blocks.0.lru.B_im", {0.5, 0});
  param_set(m, "blocks.0.lru.C_re", {2, 0});
  param_set(m, "blocks.0.lru.C_im", {1, 0});
  param_set(m, "blocks.0.lru.D", {0.3, -0.7});
  test::param_identity(m, "blocks.0.glu.W_a");
  param_set(m, "unembed.W_U", {1, 1});
  param_set(m, "unembed.b_U", {0.25});
  m->to(dtype);
  return m;
}

TEST(Lru, TinyCaseMatchesTheClosedForm) {
  const std::vector<double> s = {0.7, -1.3, 2.0};
  const double eps = 1e-5;  // ModelConfig's default ln_eps
  // By hand: LN((s, -s)) = (n, -n) with n = s / sqrt(s^2 + eps); B u = (1 + 0.5 i) n;
  // h_t = sum_{k <= t} lambda^{t-k} gamma (1 + 0.5 i) n_k; y = (Re((2 + i) h) + 0.3 n, 0.7 n);
  // x_out = (s, -s) + y / 2; logit = sum(x_out) + 0.25 = (2 Re h - Im h + n) / 2 + 0.25.
  const std::complex<double> lambda = std::polar(0.8, 0.5);
  std::vector<double> expected, expected_re, expected_im;
  for (size_t t = 0; t < s.size(); ++t) {
    std::complex<double> h = 0;
    for (size_t k = 0; k <= t; ++k) {
      double n = s[k] / std::sqrt(s[k] * s[k] + eps);
      h += std::pow(lambda, static_cast<double>(t - k)) * 0.6 * std::complex<double>(1, 0.5) * n;
    }
    double n = s[t] / std::sqrt(s[t] * s[t] + eps);
    expected.push_back((2 * h.real() - h.imag() + n) / 2 + 0.25);
    expected_re.push_back(h.real());
    expected_im.push_back(h.imag());
  }
  auto x = torch::tensor({s[0], -s[0], s[1], -s[1], s[2], -s[2]}, torch::kFloat64).view({1, 3, 2});
  auto want = torch::tensor(expected, torch::kFloat64).view({1, 3, 1});
  auto m = lru_tiny_model(torch::kFloat64);
  Hooks hooks;
  hooks.cache_add("blocks.0.lru.*");
  auto logits = m->forward({torch::Tensor(), x}, &hooks);
  EXPECT_LT((logits - want).abs().max().item<double>(), 1e-12) << logits << want;
  EXPECT_LT((hooks.cached("blocks.0.lru.hook_h_re").view({3}) - torch::tensor(expected_re, torch::kFloat64))
                .abs().max().item<double>(), 1e-12);
  EXPECT_LT((hooks.cached("blocks.0.lru.hook_h_im").view({3}) - torch::tensor(expected_im, torch::kFloat64))
                .abs().max().item<double>(), 1e-12);
  // f32: the same model in single precision
  auto m32 = lru_tiny_model(torch::kFloat32);
  auto logits32 = m32->forward({torch::Tensor(), x.to(torch::kFloat32)});
  EXPECT_EQ(logits32.scalar_type(), torch::kFloat32);
  EXPECT_LT((logits32.to(torch::kFloat64) - want).abs().max().item<double>(), 1e-5);
  // readout "last": the last position only
  m->config_mut().readout = Readout::Last;
  auto last = m->forward({torch::Tensor(), x});
  ASSERT_EQ(last.sizes(), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_LT(std::abs(last.item<double>() - expected[2]), 1e-12);
}

// Random lru models (std 0.5) for the oracle: tokens per position; 2 blocks, readout last, tokens + numbers.
std::vector<std::pair<std::string, ModelConfig>> lru_oracle_cases() {
  ModelConfig a;
  a.model_type = ModelType::Lru, a.n_layers = 1, a.d_model = 6, a.d_hidden = 5, a.d_vocab = 5, a.d_vocab_out = 3;
  ModelConfig b = a;
  b.n_layers = 2, b.readout = Readout::Last, b.d_in_num = 2, b.ln_eps = 1e-3;
  return {{"lru", a}, {"lru_2_layers_last_tokens_and_numbers", b}};
}

// Runs `command` with stderr merged; returns (exit status or -1, output).
std::pair<int, std::string> command_run(const std::string& command) {
  std::string out;
  FILE* f = popen((command + " 2>&1").c_str(), "r");
  if (!f) return {-1, out};
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  int raw = pclose(f);
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out};
}

// Writes the cases (weights nudged by `nudge` after computing the logits) and runs forward.py on them.
std::pair<int, std::string> lru_oracle_run(const std::string& root, double nudge, const std::string& flags) {
  std::string command = std::string("/usr/bin/python3 ") + ATTNLAB_TEST_DATA "/oracle/forward.py --tol 1e-10 " + flags;
  uint64_t seed = 40;
  for (const auto& [name, cfg] : lru_oracle_cases()) {
    auto model = model_create(cfg);
    model_init_random(model, ++seed, 0.5);
    auto gen = at::detail::createCPUGenerator(++seed);
    ModelInput in;
    in.tokens = at::randint(0, cfg.d_vocab, {3, 7}, gen, torch::kInt64);
    if (cfg.d_in_num > 0) in.numbers = at::normal(0.0, 1.0, {3, 7, cfg.d_in_num}, gen, torch::kFloat64);
    torch::NoGradGuard no_grad;
    auto logits = model->forward(in);
    if (nudge != 0)
      for (auto& p : model->parameters()) p.add_(at::normal(0.0, nudge, p.sizes(), gen, torch::kFloat64));
    std::string dir = root + "/" + name;
    model_save(dir, model);
    std::vector<std::pair<std::string, torch::Tensor>> io = {{"tokens", in.tokens}};
    if (in.numbers.defined()) io.push_back({"numbers", in.numbers});
    io.push_back({"logits", logits});
    tensors_write(dir + "/io.safetensors", io);
    command += " " + dir;
  }
  return command_run(command);
}

TEST(Lru, RandomModelsMatchTheNumpyOracle) {
  if (access("/usr/bin/python3", X_OK) != 0 || command_run("/usr/bin/python3 -c 'import numpy'").first != 0)
    GTEST_SKIP() << "oracle test skipped: /usr/bin/python3 with numpy is missing\nHINT: apt-get install python3-numpy";
  std::string root = test::temp_dir("lru_oracle");
  auto [status, output] = lru_oracle_run(root, 0, "");
  std::cout << output;
  EXPECT_EQ(status, 0) << "the oracle disagrees with the runtime";
  EXPECT_NE(output.find("oracle: 2 models"), std::string::npos) << output;
  EXPECT_NE(output.find("0 failed"), std::string::npos) << output;
  // the same with every weight nudged by 1e-7: every model must fail (the oracle can fail)
  std::filesystem::remove_all(root);
  auto [status_nudged, output_nudged] = lru_oracle_run(root, 1e-7, "--expect-mismatch");
  EXPECT_EQ(status_nudged, 0) << "the oracle accepted nudged weights:\n" << output_nudged;
  std::filesystem::remove_all(root);
}

TEST(Lru, ModelDirectoryRoundTrips) {
  auto cfg = lru_oracle_cases()[1].second;
  auto model = model_create(cfg);
  model_init_random(model, 9, 0.5);
  std::string dir = test::temp_dir("lru_io");
  model_save(dir, model);
  auto back = model_load(dir);
  const ModelConfig& c = back->config();
  EXPECT_EQ(c.model_type, ModelType::Lru);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.d_hidden, 5);
  EXPECT_EQ(c.readout, Readout::Last);
  EXPECT_EQ(c.ln_eps, 1e-3);
  EXPECT_EQ(back->named_parameters().size(), model->named_parameters().size());
  ModelInput in{torch::tensor({{1, 4, 0, 2}}, torch::kInt64), torch::randn({1, 4, 2}, torch::kFloat64)};
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(model->forward(in), back->forward(in)));
  // the file holds every tensor of config_tensor_shapes, with the model's values
  auto tensors = tensors_read(dir + "/model.safetensors");
  EXPECT_EQ(tensors.size(), config_tensor_shapes(cfg).size());
  for (const auto& [name, t] : tensors) EXPECT_TRUE(torch::equal(t, param(model, name))) << name;

  // a missing tensor is named
  std::vector<std::pair<std::string, torch::Tensor>> fewer;
  for (const auto& t : tensors)
    if (t.first != "blocks.1.lru.theta_log") fewer.push_back(t);
  tensors_write(dir + "/model.safetensors", fewer);
  try {
    model_load(dir);
    ADD_FAILURE() << "loaded a model without blocks.1.lru.theta_log";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("missing tensor 'blocks.1.lru.theta_log' [5]"), std::string::npos) << e.message();
  }
  std::filesystem::remove_all(dir);
}

TEST(Lru, ConfigErrorsNameTheField) {
  auto error_of = [](nlohmann::json j) {
    try {
      config_from_json(j, "m/config.json");
    } catch (const Error& e) {
      EXPECT_FALSE(e.hint().empty());
      return e.message();
    }
    return std::string();
  };
  auto j = config_to_json(lru_oracle_cases()[0].second);
  EXPECT_EQ(error_of(j), "");
  auto bad = j;
  bad["attnlab"]["rnn"]["hidden_size"] = 0;
  EXPECT_NE(error_of(bad).find("attnlab.rnn.hidden_size must be positive"), std::string::npos) << error_of(bad);
  bad = j;
  bad["eps"] = 0;
  EXPECT_NE(error_of(bad).find("eps (the lru blocks' LayerNorm epsilon) must be positive"), std::string::npos);
  bad = j;
  bad["n_layers"] = 0;
  EXPECT_NE(error_of(bad).find("n_layers >= 1"), std::string::npos);
  bad = j;
  bad["attnlab"]["model_type"] = "lruu";
  EXPECT_NE(error_of(bad).find("field 'model_type' has unknown value 'lruu' (expected one of: transformer, lstm, gru, "
                               "rnn, lru)"), std::string::npos) << error_of(bad);
}

}  // namespace
}  // namespace attnlab
