#include "constructions/nearest_neighbour.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "constructions/construct_common.h"
#include "util/error.h"

namespace attnlab {

namespace {

void options_validate(const NearestNeighbourOptions& opt) {
  nearest_neighbour_validate(opt.spec);
  check(opt.gamma > 0 && opt.gamma < 1, "nearest neighbour: gamma = " + std::to_string(opt.gamma) +
        " (must be in (0, 1))", "pass --gamma in (0, 1), e.g. 0.5");
  check(opt.logit_margin > 0 && opt.logit_margin < 1, "nearest neighbour: logit margin " +
        std::to_string(opt.logit_margin) + " (must be in (0, 1))", "pass --logit-margin in (0, 1), e.g. 0.5");
}

// Residual layout offsets.
struct Layout {
  int64_t d, C, c, VEC, LAB, KEY, QRY, ISL, ISQ, FET, R;
  Layout(int64_t d_, int64_t C_, int64_t c_) : d(d_), C(C_), c(c_) {
    VEC = 0, LAB = d, KEY = d + C, QRY = KEY + c, ISL = QRY + c, ISQ = ISL + 1, FET = ISQ + 1, R = FET + d;
  }
};

ModelConfig nn_config(const NearestNeighbourOptions& opt, const Layout& L) {
  const auto& s = opt.spec;
  ModelConfig cfg;
  cfg.n_layers = 2;
  cfg.d_model = static_cast<int>(L.R);
  cfg.n_heads = 1;
  cfg.d_head = static_cast<int>(std::max({L.c, L.d + 1, L.C}));
  cfg.attn_only = true;
  cfg.d_vocab = static_cast<int>(s.classes + 2);
  cfg.d_vocab_out = static_cast<int>(s.classes);
  cfg.d_in_num = static_cast<int>(s.d);
  cfg.n_ctx = static_cast<int>(2 * s.k + 1);
  cfg.causal = true;
  cfg.attn_scale = 1.0;
  cfg.vocab = nearest_neighbour_vocab(s);
  cfg.vocab_out = nearest_neighbour_vocab_out(s);
  cfg.producer = "attnlab construct nearest-neighbour";
  for (int64_t i = 0; i < L.d; ++i) cfg.residual_labels.push_back("vec:" + std::to_string(i));
  for (int64_t a = 0; a < L.C; ++a) cfg.residual_labels.push_back("label:L" + std::to_string(a));
  for (int64_t i = 0; i < L.c; ++i) cfg.residual_labels.push_back("key_code:" + std::to_string(i));
  for (int64_t i = 0; i < L.c; ++i) cfg.residual_labels.push_back("query_code:" + std::to_string(i));
  cfg.residual_labels.push_back("is_label:1");
  cfg.residual_labels.push_back("is_query:1");
  for (int64_t i = 0; i < L.d; ++i) cfg.residual_labels.push_back("fetched:" + std::to_string(i));
  return cfg;
}

void nn_fill(SequenceModel& model, const NearestNeighbourBuild& b, const Layout& L, int64_t k) {
  torch::NoGradGuard no_grad;
  auto p = model->named_parameters();
  auto eye = [](int64_t n) { return torch::eye(n, torch::kFloat64); };
  p["embed.W_in_num"].slice(1, L.VEC, L.VEC + L.d).copy_(eye(L.d));
  p["embed.W_E"][1][L.ISQ] = 1.0;
  p["embed.W_E"].slice(0, 2, 2 + L.C).slice(1, L.LAB, L.LAB + L.C).copy_(eye(L.C));
  auto W_pos = p["pos_embed.W_pos"];
  auto raw = b.code.raw.to(torch::kFloat64);
  for (int64_t j = 0; j < k; ++j) {
    W_pos[2 * j].slice(0, L.KEY, L.KEY + L.c).copy_(raw[j]);
    W_pos[2 * j + 1].slice(0, L.QRY, L.QRY + L.c).copy_(raw[j]);
    W_pos[2 * j + 1][L.ISL] = 1.0;
  }
  // layer 1: score = λ1/s · <raw_i, raw_j>
  p["blocks.0.attn.W_Q"][0].slice(0, L.QRY, L.QRY + L.c).slice(1, 0, L.c).copy_(eye(L.c) * (b.scale1 / b.code.norm2));
  p["blocks.0.attn.W_K"][0].slice(0, L.KEY, L.KEY + L.c).slice(1, 0, L.c).copy_(eye(L.c));
  p["blocks.0.attn.W_V"][0].slice(0, L.VEC, L.VEC + L.d).slice(1, 0, L.d).copy_(eye(L.d));
  p["blocks.0.attn.W_O"][0].slice(0, 0, L.d).slice(1, L.FET, L.FET + L.d).copy_(eye(L.d));
  // layer 2: score = λ2 · (<vec, fetched> + 3·is_query·is_label)
  auto W_Q2 = p["blocks.1.attn.W_Q"][0], W_K2 = p["blocks.1.attn.W_K"][0];
  W_Q2.slice(0, L.VEC, L.VEC + L.d).slice(1, 0, L.d).copy_(eye(L.d) * b.scale2);
  W_Q2[L.ISQ][L.d] = b.scale2;
  W_K2.slice(0, L.FET, L.FET + L.d).slice(1, 0, L.d).copy_(eye(L.d));
  W_K2[L.ISL][L.d] = 3.0;
  p["blocks.1.attn.W_V"][0].slice(0, L.LAB, L.LAB + L.C).slice(1, 0, L.C).copy_(eye(L.C));
  p["blocks.1.attn.W_O"][0].slice(0, 0, L.C).slice(1, L.LAB, L.LAB + L.C).copy_(eye(L.C));
  p["unembed.W_U"].slice(0, L.LAB, L.LAB + L.C).copy_(eye(L.C));
}

}  // namespace

nlohmann::json NearestNeighbourBuild::report() const {
  const auto& c = model->config();
  return {{"construction", "nearest-neighbour"}, {"d_model", c.d_model}, {"d_head", c.d_head},
          {"n_layers", c.n_layers}, {"code", code.kind}, {"code_dim", code.k}, {"gamma", code.gamma},
          {"scale1", scale1}, {"scale2", scale2}, {"precision_bits", precision_bits},
          {"parameters", model_parameter_count(model)}};
}

NearestNeighbourBuild nearest_neighbour_build(const NearestNeighbourOptions& opt) {
  options_validate(opt);
  const auto& s = opt.spec;
  const double T = static_cast<double>(2 * s.k + 1), delta = s.margin;
  NearestNeighbourBuild b;
  b.code = code_build(opt.code, s.k, opt.gamma, opt.seed, 1 << 30);
  b.scale1 = softmax_scale_for(T - 1, 1.0 - std::max(b.code.gamma, 0.0), 1.0 - delta / 4.0);
  b.scale2 = softmax_scale_for(T - 1, delta / 2.0, opt.logit_margin);
  b.precision_bits = std::max(precision_bits_for(T, delta / 8.0), precision_bits_for(T, opt.logit_margin));
  const Layout L(s.d, s.classes, b.code.k);
  ModelConfig cfg = nn_config(opt, L);
  cfg.provenance = {{"construction", "nearest-neighbour"}, {"paper", "Bhattamishra et al. 2024, arXiv 2406.09347"},
                    {"k", s.k}, {"d", s.d}, {"classes", s.classes}, {"margin", delta},
                    {"gamma_target", opt.gamma}, {"logit_margin", opt.logit_margin}, {"seed", opt.seed}};
  b.model = model_create(cfg, torch::kFloat64);
  nn_fill(b.model, b, L, s.k);
  b.model->config_mut().provenance["report"] = b.report();
  return b;
}

ModelInput nearest_neighbour_input(const NearestNeighbourSpec& s, const TaskBatch& batch, size_t begin, size_t end) {
  const int64_t T = 2 * s.k + 1, B = static_cast<int64_t>(end - begin);
  std::vector<int64_t> tokens;
  std::vector<double> numbers;
  for (size_t i = begin; i < end; ++i) {
    tokens.insert(tokens.end(), batch.examples[i].tokens.begin(), batch.examples[i].tokens.end());
    numbers.insert(numbers.end(), batch.examples[i].numbers.begin(), batch.examples[i].numbers.end());
  }
  return {torch::tensor(tokens, torch::kInt64).view({B, T}),
          torch::tensor(numbers, torch::kFloat64).view({B, T, s.d})};
}

static VerifyResult nn_verify_one(const SequenceModel& model, const NearestNeighbourSpec& s, const TaskBatch& batch) {
  VerifyResult r;
  auto t0 = std::chrono::steady_clock::now();
  r.dtype = model->parameters()[0].scalar_type() == torch::kFloat32 ? "f32" : "f64";
  r.mode = std::to_string(batch.examples.size()) + " random instances with margin " + std::to_string(s.margin);
  const int64_t T = 2 * s.k + 1, chunk = std::max<int64_t>(1, (int64_t{1} << 22) / (T * T));
  torch::NoGradGuard no_grad;
  for (size_t b0 = 0; b0 < batch.examples.size(); b0 += chunk) {
    const size_t b1 = std::min(batch.examples.size(), b0 + static_cast<size_t>(chunk));
    auto lg = model->forward(nearest_neighbour_input(s, batch, b0, b1)).select(1, T - 1).to(torch::kFloat64);
    std::vector<int64_t> tg;
    for (size_t i = b0; i < b1; ++i) tg.push_back(batch.examples[i].target);
    auto t = torch::tensor(tg, torch::kInt64).unsqueeze(1);
    auto right = lg.gather(1, t).squeeze(1);
    auto others = lg.scatter(1, t, -INFINITY).amax(1);
    auto margin = right - others;
    r.tally(margin);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<VerifyResult> nearest_neighbour_verify(const NearestNeighbourBuild& b, const NearestNeighbourOptions& opt,
                                                   int64_t count, uint64_t seed) {
  check(count >= 1, "verify: " + std::to_string(count) + " instances (must be >= 1)", "pass --count 1 or more");
  TaskBatch batch = nearest_neighbour_sample(opt.spec, count, seed);
  return {nn_verify_one(model_copy_as(b.model, torch::kFloat32), opt.spec, batch),
          nn_verify_one(b.model, opt.spec, batch)};
}

}  // namespace attnlab
