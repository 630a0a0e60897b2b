// The model runtime against an independent oracle (STYLE 9): every case in kOracleCases is a seeded random model
// (transformer or RNN) saved as a model directory next to its inputs and our float64 logits (io.safetensors); then
// tests/oracle/forward.py, a numpy re-implementation from the math, recomputes the logits under /usr/bin/python3.
// Error budget: max abs error <= 1e-10 per model in float64 (observed <= 4e-15; logits are O(1..1e3)).
// The same cases with every weight nudged by 1e-7 (logits kept) must ALL fail the oracle: proof it can fail.
// The model directories are deleted unless a test fails or ATTNLAB_ORACLE_KEEP is set.
// Shapes: B = batch, T = seq len, I = d_in_num, O = d_vocab_out.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/weights.h"

namespace attnlab {
namespace {

namespace fs = std::filesystem;

constexpr double kTolerance = 1e-10;  // float64 budget; see the header
const char* kPython = "/usr/bin/python3";

enum class Weights {
  Random,     // N(0, std^2), LayerNorm weights 1 + N(0, std^2)
  Integer,    // N(0, std^2) rounded to integers: hard-attention scores tie exactly (and differ by >= 1/attn_scale)
  ZeroQuery,  // random, but W_Q = b_Q = 0: every attention score is 0, so every key ties
};

struct OracleCase {
  const char* name;
  ModelConfig cfg;
  Weights weights = Weights::Random;
  double std = 0.3;     // small enough that softmax is not saturated everywhere
  int64_t length = 6;   // T of the inputs (<= n_ctx)
};

// A 2-layer, 2-head transformer on 5 tokens, edited by `edit`.
ModelConfig transformer(const std::function<void(ModelConfig&)>& edit) {
  ModelConfig c;
  c.n_layers = 2, c.d_model = 8, c.d_head = 4, c.n_heads = 2, c.d_mlp = 12;
  c.d_vocab = 5, c.d_vocab_out = 4, c.n_ctx = 8;
  edit(c);
  return c;
}

// An RNN of `type` on 5 tokens (embedding width 6, hidden 7), edited by `edit`.
ModelConfig rnn(ModelType type, const std::function<void(ModelConfig&)>& edit) {
  ModelConfig c;
  c.model_type = type, c.n_layers = 1, c.d_model = 6, c.d_hidden = 7, c.d_vocab = 5, c.d_vocab_out = 3;
  edit(c);
  return c;
}

using MK = MlpKind;
using PK = PosEmbedKind;
const std::vector<OracleCase> kOracleCases = {
    {"softmax_relu_ln_causal_learned", transformer([](ModelConfig& c) {
       c.act_fn = MK::Relu, c.normalization = NormKind::LN, c.causal = true, c.pos_embed = PK::Learned;
     })},
    {"softmax_gelu_bidir_sinusoidal_odd_width", transformer([](ModelConfig& c) {
       c.d_model = 7, c.act_fn = MK::Gelu, c.pos_embed = PK::Sinusoidal;
     }), Weights::Random, 0.3, 8},
    {"softmax_identity_ln_nopos_3x3_eps_scale", transformer([](ModelConfig& c) {
       c.n_layers = 3, c.n_heads = 3, c.d_head = 3, c.act_fn = MK::Identity, c.normalization = NormKind::LN;
       c.pos_embed = PK::None, c.ln_eps = 1e-2, c.attn_scale = 1.7;
     })},
    {"softmax_bilinear_ln_causal_learned", transformer([](ModelConfig& c) {
       c.act_fn = MK::Bilinear, c.normalization = NormKind::LN, c.causal = true;
     }), Weights::Random, 0.3, 8},
    {"softmax_bilinear_bidir_sinusoidal", transformer([](ModelConfig& c) {
       c.act_fn = MK::Bilinear, c.pos_embed = PK::Sinusoidal, c.d_head = 2, c.n_heads = 4;
     })},
    {"attn_only_3_layers_causal_sinusoidal", transformer([](ModelConfig& c) {
       c.n_layers = 3, c.attn_only = true, c.d_mlp = 0, c.causal = true, c.pos_embed = PK::Sinusoidal;
     })},
    {"attn_only_ln_bidir_learned", transformer([](ModelConfig& c) {
       c.attn_only = true, c.d_mlp = 0, c.normalization = NormKind::LN, c.n_heads = 1;
     })},
    {"no_blocks", transformer([](ModelConfig& c) { c.n_layers = 0, c.normalization = NormKind::LN; })},
    {"numeric_only_gelu_ln_causal", transformer([](ModelConfig& c) {
       c.d_vocab = 0, c.d_in_num = 3, c.output = OutputKind::Numeric, c.d_vocab_out = 2;
       c.act_fn = MK::Gelu, c.normalization = NormKind::LN, c.causal = true;
     })},
    {"tokens_and_numbers_relu_bidir", transformer([](ModelConfig& c) {
       c.d_in_num = 2, c.act_fn = MK::Relu, c.pos_embed = PK::Sinusoidal;
     })},
    {"hard_integer_relu_causal_nopos", transformer([](ModelConfig& c) {
       c.attention = AttentionKind::Hard, c.causal = true, c.pos_embed = PK::None;
     }), Weights::Integer, 0.6, 8},
    {"hard_integer_bilinear_bidir_learned", transformer([](ModelConfig& c) {
       c.attention = AttentionKind::Hard, c.act_fn = MK::Bilinear;
     }), Weights::Integer, 0.4, 8},
    {"hard_zero_query_gelu_ln_causal", transformer([](ModelConfig& c) {
       c.attention = AttentionKind::Hard, c.act_fn = MK::Gelu, c.normalization = NormKind::LN, c.causal = true;
     }), Weights::ZeroQuery},
    {"hard_zero_query_attn_only_bidir", transformer([](ModelConfig& c) {
       c.attention = AttentionKind::Hard, c.attn_only = true, c.d_mlp = 0;
     }), Weights::ZeroQuery},
    {"hard_wide_tol_identity_ln", transformer([](ModelConfig& c) {
       c.attention = AttentionKind::Hard, c.hard_tol = 0.25, c.act_fn = MK::Identity, c.normalization = NormKind::LN;
     }), Weights::Random, 0.5, 8},
    {"lstm", rnn(ModelType::Lstm, [](ModelConfig&) {}), Weights::Random, 0.5, 7},
    {"lstm_2_layers_last_tokens_and_numbers", rnn(ModelType::Lstm, [](ModelConfig& c) {
       c.n_layers = 2, c.readout = Readout::Last, c.d_in_num = 2;
     }), Weights::Random, 0.5, 7},
    {"gru", rnn(ModelType::Gru, [](ModelConfig&) {}), Weights::Random, 0.5, 7},
    {"gru_2_layers_last_numeric", rnn(ModelType::Gru, [](ModelConfig& c) {
       c.n_layers = 2, c.readout = Readout::Last, c.d_vocab = 0, c.d_in_num = 3, c.output = OutputKind::Numeric;
     }), Weights::Random, 0.5, 7},
    {"rnn_tanh", rnn(ModelType::Rnn, [](ModelConfig& c) { c.nonlinearity = "tanh"; }), Weights::Random, 0.5, 7},
    {"rnn_relu_2_layers", rnn(ModelType::Rnn, [](ModelConfig& c) {
       c.nonlinearity = "relu", c.n_layers = 2;
     }), Weights::Random, 0.5, 7},
    {"rnn_tanh_2_layers_last", rnn(ModelType::Rnn, [](ModelConfig& c) {
       c.n_layers = 2, c.readout = Readout::Last;
     }), Weights::Random, 0.5, 7},
    {"lru", rnn(ModelType::Lru, [](ModelConfig&) {}), Weights::Random, 0.5, 7},
    {"lru_2_layers_last", rnn(ModelType::Lru, [](ModelConfig& c) {
       c.n_layers = 2, c.readout = Readout::Last;
     }), Weights::Random, 0.5, 7},
};

SequenceModel case_model(const OracleCase& k, uint64_t seed) {
  auto model = model_create(k.cfg, torch::kFloat64);
  model_init_random(model, seed, k.std);
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    const std::string& name = p.key();
    if (k.weights == Weights::Integer) p.value().round_();
    bool query = name.find("attn.W_Q") != std::string::npos || name.find("attn.b_Q") != std::string::npos;
    if (k.weights == Weights::ZeroQuery && query) p.value().zero_();
  }
  return model;
}

// Inputs for batch 3: tokens from a 5-token vocabulary over T >= 6 positions repeat, so equal keys occur.
ModelInput case_input(const OracleCase& k, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  ModelInput in;
  if (k.cfg.d_vocab > 0) in.tokens = at::randint(0, k.cfg.d_vocab, {3, k.length}, gen, torch::kInt64);
  if (k.cfg.d_in_num > 0) in.numbers = at::normal(0.0, 1.0, {3, k.length, k.cfg.d_in_num}, gen, torch::kFloat64);
  return in;
}

// Writes DIR/{config.json, model.safetensors} and DIR/io.safetensors (inputs and our logits).
void case_write(const std::string& dir, const SequenceModel& model, const ModelInput& in, const torch::Tensor& logits) {
  model_save(dir, model);
  std::vector<std::pair<std::string, torch::Tensor>> io;
  if (in.tokens.defined()) io.push_back({"tokens", in.tokens});
  if (in.numbers.defined()) io.push_back({"numbers", in.numbers});
  io.push_back({"logits", logits.to(torch::kFloat64)});
  tensors_write(dir + "/io.safetensors", io);
}

struct Process {
  int status = -1;     // exit status, or -1 when it did not exit normally
  std::string output;  // stdout and stderr
};

Process process_run(const std::string& command) {
  Process p;
  FILE* f = popen((command + " 2>&1").c_str(), "r");
  if (!f) return p;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) p.output.append(buf, n);
  int raw = pclose(f);
  p.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return p;
}

// `path` as one shell word.
std::string shell_quote(const std::string& path) {
  std::string out = "'";
  for (char ch : path) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

// Why the oracle cannot run here ("" when it can); asked once per process (importing torch takes ~1 s).
const std::string& oracle_unavailable() {
  static const std::string why = [] {
    if (access(kPython, X_OK) != 0) return std::string(kPython) + " does not exist";
    Process p = process_run(std::string(kPython) + " -c 'import numpy, torch'");
    return p.status == 0 ? std::string() : std::string(kPython) + " cannot import numpy and torch: " + p.output;
  }();
  return why;
}

// The number after "KEY=" on the report line "NAME: ...", or nan when absent.
double report_field(const std::string& output, const std::string& name, const std::string& key) {
  size_t line = output.find("\n" + name + ": ");
  if (line == std::string::npos && output.rfind(name + ": ", 0) == 0) line = 0;
  if (line == std::string::npos) return std::nan("");
  size_t end = output.find('\n', line + 1);
  size_t at = output.find(" " + key + "=", line);
  if (at == std::string::npos || at > end) return std::nan("");
  return std::strtod(output.c_str() + at + key.size() + 2, nullptr);
}

class OracleForward : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = oracle_unavailable();
    if (!why.empty())
      GTEST_SKIP() << "oracle test skipped: " << why << "\nHINT: apt-get install python3-numpy python3-torch";
    root_ = (fs::temp_directory_path() / ("attnlab-oracle-" + std::to_string(getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
  }
  void TearDown() override {
    if (root_.empty()) return;  // skipped
    bool keep = HasFailure() || std::getenv("ATTNLAB_ORACLE_KEEP");
    if (keep) std::cout << "oracle inputs kept in " << root_ << "\n";
    if (!keep) fs::remove_all(root_);
  }

  // Writes every case (weights nudged by `nudge` after computing the logits) and runs the oracle on them.
  Process cases_check(double nudge, const std::string& flags) {
    char tolerance_text[32];
    std::snprintf(tolerance_text, sizeof tolerance_text, "%.17g", kTolerance);
    std::string command = std::string(kPython) + " " + shell_quote(ATTNLAB_TEST_DATA "/oracle/forward.py") +
                          " --tol " + tolerance_text + " " + flags;
    for (size_t i = 0; i < kOracleCases.size(); ++i) {
      const OracleCase& k = kOracleCases[i];
      SCOPED_TRACE(k.name);
      auto model = case_model(k, 1000 + i);
      ModelInput in = case_input(k, 2000 + i);
      model_input_check(k.cfg, in);
      torch::NoGradGuard no_grad;
      torch::Tensor logits = model->forward(in);
      auto gen = at::detail::createCPUGenerator(3000 + i);
      if (nudge != 0)
        for (auto& p : model->parameters()) p.add_(at::normal(0.0, nudge, p.sizes(), gen, torch::kFloat64));
      std::string dir = root_ + "/" + k.name;
      case_write(dir, model, in, logits);
      command += " " + shell_quote(dir);
    }
    return process_run(command);
  }

  std::string root_;
};

TEST_F(OracleForward, EveryCaseMatchesTheNumpyOracle) {
  Process p = cases_check(0, "");
  std::cout << p.output;  // the per-model report, kept in the test log
  EXPECT_EQ(p.status, 0) << "the oracle disagrees with the runtime (report above)";
  for (const OracleCase& k : kOracleCases) {
    SCOPED_TRACE(k.name);
    double err = report_field(p.output, k.name, "max_abs_err");
    EXPECT_LE(err, kTolerance) << "no or bad report line for " << k.name;  // fails on nan too
    if (k.cfg.attention != AttentionKind::Hard) continue;
    // The hard cases must exercise ties (several keys selected), with no score within 1e-9 of the tolerance edge.
    EXPECT_GT(report_field(p.output, k.name, "tied_rows"), 0) << "no tied attention rows: the case tests no ties";
    EXPECT_EQ(report_field(p.output, k.name, "near_boundary"), 0) << "a score sits on the hard_tol edge";
  }
}

TEST_F(OracleForward, NudgedWeightsFailTheOracle) {
  Process p = cases_check(1e-7, "--expect-mismatch");
  EXPECT_EQ(p.status, 0) << "the oracle accepted a model whose weights differ from those that made the logits:\n"
                         << p.output;
}

}  // namespace
}  // namespace attnlab
