#include "constructions/string_pair.h"

#include <chrono>
#include <cmath>

#include "constructions/construct_common.h"
#include "util/error.h"

namespace attnlab {

namespace {

constexpr double kFetchMargin = 0.75;  // layer-1 weight on x_i >= 7/8, so |fetched - x_i| <= 1/8

double flag_min(PairTask t) { return t == PairTask::Equality ? 5.0 / 8.0 : 3.0 / 8.0; }

ModelConfig string_pair_config(const StringPairOptions& opt, const NearOrthogonalCode& code, double lambda) {
  const int64_t k = code.k, N = opt.n;
  ModelConfig cfg;
  cfg.n_layers = 2;
  cfg.d_model = static_cast<int>(2 * k + 5);
  cfg.n_heads = 1;
  cfg.d_head = static_cast<int>(k);
  cfg.d_mlp = 2;
  cfg.d_vocab = 3;
  cfg.d_vocab_out = 2;
  cfg.n_ctx = static_cast<int>(2 * N + 1);
  cfg.causal = true;
  cfg.attn_scale = code.norm2 / lambda;
  cfg.vocab = string_pair_vocab();
  cfg.vocab_out = string_pair_vocab_out();
  cfg.producer = "attnlab construct " + pair_task_name(opt.task);
  cfg.residual_labels = {"bit:1", "is_y:1"};
  for (int64_t j = 0; j < k; ++j) cfg.residual_labels.push_back("key_code:" + std::to_string(j));
  for (int64_t j = 0; j < k; ++j) cfg.residual_labels.push_back("query_code:" + std::to_string(j));
  for (const char* l : {"fetched:x_i", "flag:1", "avg:flag"}) cfg.residual_labels.push_back(l);
  return cfg;
}

}  // namespace

nlohmann::json StringPairBuild::report() const {
  const auto& c = model->config();
  return {{"construction", c.producer.substr(18)}, {"d_model", c.d_model}, {"d_head", c.d_head},
          {"n_layers", c.n_layers}, {"code", code.kind}, {"code_dim", code.k}, {"gamma", code.gamma},
          {"scale", scale}, {"precision_bits", precision_bits}, {"parameters", model_parameter_count(model)}};
}

StringPairBuild string_pair_build(const StringPairOptions& opt) {
  string_pair_validate(opt.n);
  StringPairBuild b;
  const int64_t N = opt.n, T = 2 * N + 1;
  b.code = code_build(opt.code, N, opt.gamma, opt.seed, 1 << 30);
  b.scale = softmax_scale_for(static_cast<double>(T - 1), 1.0 - b.code.gamma, kFetchMargin);
  // layer 1 needs precision_bits_for(T, margin); layer 2 must tell avg = 0 from avg >= flag_min / T
  b.precision_bits = std::max(precision_bits_for(static_cast<double>(T), kFetchMargin),
                              static_cast<int>(std::ceil(std::log2(T / flag_min(opt.task)))) + 2);
  ModelConfig cfg = string_pair_config(opt, b.code, b.scale);
  cfg.provenance = {{"construction", pair_task_name(opt.task)}, {"paper", "Bhattamishra et al. 2024, arXiv 2406.09347"},
                    {"N", N}, {"gamma_target", opt.gamma}, {"seed", opt.seed}};
  b.model = model_create(cfg, torch::kFloat64);
  const int64_t k = b.code.k, BIT = 0, ISY = 1, KEY = 2, QRY = 2 + k, FET = 2 + 2 * k, FLAG = FET + 1, AVG = FET + 2;
  torch::NoGradGuard no_grad;
  auto p = b.model->named_parameters();
  auto raw = b.code.raw.to(torch::kFloat64);
  p["embed.W_E"][1][BIT] = 1.0;
  auto W_pos = p["pos_embed.W_pos"];
  W_pos.slice(0, 0, N).slice(1, KEY, KEY + k).copy_(raw);
  W_pos.slice(0, N + 1, T).slice(1, QRY, QRY + k).copy_(raw);
  W_pos.slice(0, N + 1, T).select(1, ISY).fill_(1.0);
  p["blocks.0.attn.W_Q"][0].slice(0, QRY, QRY + k).copy_(torch::eye(k, torch::kFloat64));
  p["blocks.0.attn.W_K"][0].slice(0, KEY, KEY + k).copy_(torch::eye(k, torch::kFloat64));
  p["blocks.0.attn.W_V"][0][BIT][0] = 1.0;
  p["blocks.0.attn.W_O"][0][0][FET] = 1.0;
  auto W_in = p["blocks.0.mlp.W_in"], b_in = p["blocks.0.mlp.b_in"], W_out = p["blocks.0.mlp.W_out"];
  if (opt.task == PairTask::Equality) {
    W_in[FET][0] = 1.0, W_in[BIT][0] = -1.0, W_in[ISY][0] = 2.0, b_in[0] = -9.0 / 4.0;
    W_in[FET][1] = -1.0, W_in[BIT][1] = 1.0, W_in[ISY][1] = 2.0, b_in[1] = -9.0 / 4.0;
    W_out[0][FLAG] = 1.0, W_out[1][FLAG] = 1.0;
  } else {
    W_in[FET][0] = 1.0, W_in[BIT][0] = 1.0, W_in[ISY][0] = 2.0, b_in[0] = -7.0 / 2.0;
    W_out[0][FLAG] = 1.0;
  }
  p["blocks.1.attn.W_V"][0][FLAG][0] = 1.0;  // zero W_Q, W_K: uniform average over the T positions
  p["blocks.1.attn.W_O"][0][0][AVG] = 1.0;
  p["unembed.W_U"][AVG][0] = 2.0 * static_cast<double>(T) / flag_min(opt.task);
  p["unembed.b_U"][1] = 1.0;
  b.model->config_mut().provenance["report"] = b.report();
  return b;
}

static VerifyResult string_pair_verify_one(const SequenceModel& model, const StringPairOptions& opt,
                                           const TaskBatch& batch, const std::string& mode) {
  VerifyResult r;
  auto t0 = std::chrono::steady_clock::now();
  r.dtype = model->parameters()[0].scalar_type() == torch::kFloat32 ? "f32" : "f64";
  r.mode = mode;
  const int64_t T = 2 * opt.n + 1, chunk = std::max<int64_t>(1, (int64_t{1} << 24) / (T * T));
  torch::NoGradGuard no_grad;
  for (size_t b0 = 0; b0 < batch.examples.size(); b0 += chunk) {
    const size_t b1 = std::min(batch.examples.size(), b0 + static_cast<size_t>(chunk));
    std::vector<int64_t> flat, tg;
    for (size_t i = b0; i < b1; ++i) {
      flat.insert(flat.end(), batch.examples[i].tokens.begin(), batch.examples[i].tokens.end());
      tg.push_back(batch.examples[i].target);
    }
    auto tokens = torch::tensor(flat, torch::kInt64).view({static_cast<int64_t>(b1 - b0), T});
    auto lg = model->forward({tokens, {}}).select(1, T - 1).to(torch::kFloat64);
    auto t = torch::tensor(tg, torch::kInt64);
    auto margin = lg.gather(1, t.unsqueeze(1)).squeeze(1) - lg.gather(1, (1 - t).unsqueeze(1)).squeeze(1);
    r.tally(margin);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<VerifyResult> string_pair_verify(const StringPairBuild& b, const StringPairOptions& opt, int64_t count,
                                             uint64_t seed) {
  check(count >= 1, "verify: " + std::to_string(count) + " examples (must be >= 1)", "pass --count 1 or more");
  const bool exhaustive = opt.n <= 6;
  TaskBatch batch = exhaustive ? string_pair_enumerate(opt.task, opt.n) : string_pair_sample(opt.task, opt.n, count, seed);
  const std::string mode = exhaustive ? "exhaustive" : std::to_string(count) + " sampled (half near misses)";
  return {string_pair_verify_one(model_copy_as(b.model, torch::kFloat32), opt, batch, mode),
          string_pair_verify_one(b.model, opt, batch, mode)};
}

}  // namespace attnlab
