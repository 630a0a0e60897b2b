// Recurrent runtime against LibTorch's own torch::nn::LSTM / GRU / RNN (an independent implementation of the
// same cell equations and gate orders) with copied weights. Error budget 1e-12 (f64).
#include <gtest/gtest.h>

#include "model/rnn.h"
#include "model_test_util.h"

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
