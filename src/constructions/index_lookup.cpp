#include "constructions/index_lookup.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>

#include "constructions/construct_common.h"
#include "util/error.h"

namespace attnlab {

int64_t index_lookup_symbol_dims(const IndexLookupOptions& opt) {
  if (opt.symbols == "one-hot") return opt.alphabet;
  check(opt.symbols == "binary", "index lookup: unknown symbol code '" + opt.symbols + "'",
        "use --symbols binary or --symbols one-hot");
  int64_t b = 1;
  while ((int64_t{1} << b) < opt.alphabet) ++b;
  return b;
}

nlohmann::json IndexLookupBuild::report() const {
  const auto& c = model->config();
  nlohmann::json j = {{"construction", "index-lookup"}, {"d_model", c.d_model}, {"d_head", c.d_head},
                      {"symbol_code", c.provenance.value("symbols", std::string())},
                      {"symbol_dims", c.provenance.value("symbol_dims", 0)}, {"code", code.kind},
                      {"code_dim", code.k}, {"gamma", code.gamma}, {"scale", scale},
                      {"precision_bits", precision_bits}, {"certified_rows", code.certified_rows.size(0)},
                      {"parameters", model_parameter_count(model)}};
  if (code.kind == "reed-solomon") j["reed_solomon"] = {{"q", code.rs_q}, {"d", code.rs_d}, {"e", code.rs_e}};
  return j;
}

static ModelConfig index_lookup_config(const IndexLookupOptions& opt, const NearOrthogonalCode& code, double lambda) {
  const IndexLookupSpec spec{opt.n, opt.alphabet};
  const int64_t A = opt.alphabet, b = index_lookup_symbol_dims(opt), k = code.k;
  ModelConfig cfg;
  cfg.n_layers = 1;
  cfg.d_model = static_cast<int>(b + k + 1);
  cfg.n_heads = 1;
  cfg.d_head = static_cast<int>(std::max(k + 1, b));
  cfg.d_vocab = static_cast<int>(A + opt.n);
  cfg.d_vocab_out = static_cast<int>(A);
  cfg.n_ctx = static_cast<int>(opt.n + 1);
  cfg.attn_only = true;
  cfg.causal = true;
  cfg.attn_scale = code.norm2 / lambda;  // scores = λ <c_p, c_i>
  cfg.vocab = index_lookup_vocab(spec);
  cfg.vocab_out = index_lookup_vocab_out(spec);
  cfg.producer = "attnlab construct index-lookup";
  for (int64_t t = 0; t < b; ++t)
    cfg.residual_labels.push_back(opt.symbols == "one-hot" ? "symbol:" + cfg.vocab_out[t] : "symbol_bit:" + std::to_string(t));
  for (int64_t j = 0; j < k; ++j) cfg.residual_labels.push_back("code:" + std::to_string(j));
  cfg.residual_labels.push_back("is_query:1");
  return cfg;
}

// Symbol code rows [|Σ|, b]: one-hot, or β(a)_t = 2·bit_t(a) - 1.
static torch::Tensor symbol_code(const IndexLookupOptions& opt, int64_t b) {
  if (opt.symbols == "one-hot") return torch::eye(opt.alphabet, torch::kFloat64);
  auto code = torch::empty({opt.alphabet, b}, torch::kFloat64);
  auto acc = code.accessor<double, 2>();
  for (int64_t a = 0; a < opt.alphabet; ++a)
    for (int64_t t = 0; t < b; ++t) acc[a][t] = ((a >> t) & 1) ? 1.0 : -1.0;
  return code;
}

IndexLookupBuild index_lookup_build(const IndexLookupOptions& opt) {
  index_lookup_validate({opt.n, opt.alphabet});
  const int64_t b_dims = index_lookup_symbol_dims(opt);
  check(opt.margin > 0 && opt.margin < 1, "index lookup: margin " + std::to_string(opt.margin) +
        " (must be in (0, 1))", "pass --margin between 0 and 1 exclusive");
  IndexLookupBuild b;
  b.code = code_build(opt.code, opt.n, opt.gamma, opt.seed, opt.certify_max);
  b.scale = softmax_scale_for(static_cast<double>(opt.n), 1.0 - b.code.gamma, opt.margin);
  b.precision_bits = precision_bits_for(static_cast<double>(opt.n + 1), opt.margin);
  ModelConfig cfg = index_lookup_config(opt, b.code, b.scale);
  cfg.provenance = {{"construction", "index-lookup"}, {"paper", "Bhattamishra et al. 2024, arXiv 2406.09347"},
                    {"N", opt.n}, {"alphabet", opt.alphabet}, {"symbols", opt.symbols}, {"symbol_dims", b_dims},
                    {"gamma_target", opt.gamma}, {"margin", opt.margin}, {"seed", opt.seed}};
  b.model = model_create(cfg, torch::kFloat64);
  const int64_t A = opt.alphabet, B = b_dims, k = b.code.k, N = opt.n;
  const double s = b.code.norm2;
  torch::NoGradGuard no_grad;
  auto p = b.model->named_parameters();
  auto sym = symbol_code(opt, B);  // [A, B]
  p["embed.W_E"].slice(0, 0, A).slice(1, 0, B).copy_(sym);
  p["embed.W_E"].slice(0, A, A + N).slice(1, B, B + k).copy_(b.code.raw);  // float32 integers, converted exactly
  p["embed.W_E"].slice(0, A, A + N).select(1, B + k).fill_(1.0);
  p["pos_embed.W_pos"].slice(0, 0, N).slice(1, B, B + k).copy_(b.code.raw);
  auto WQ = p["blocks.0.attn.W_Q"][0], WK = p["blocks.0.attn.W_K"][0];
  WQ.slice(0, B, B + k + 1).slice(1, 0, k + 1).copy_(torch::eye(k + 1, torch::kFloat64));
  WK.slice(0, B, B + k).slice(1, 0, k).copy_(torch::eye(k, torch::kFloat64));
  WK[B + k][k] = -2.0 * s;
  p["blocks.0.attn.W_V"][0].slice(0, 0, B).slice(1, 0, B).copy_(torch::eye(B, torch::kFloat64));
  p["blocks.0.attn.W_O"][0].slice(0, 0, B).slice(1, 0, B).copy_(torch::eye(B, torch::kFloat64));
  p["unembed.W_U"].slice(0, 0, B).copy_(opt.symbols == "one-hot" ? sym : sym.t() * 0.5);
  b.model->config_mut().provenance["report"] = b.report();
  return b;
}

// Head dims whose contribution is exactly zero: a zero column of W_V (and b_V) gives v_d = 0, a zero column of
// W_Q or W_K (with its bias) gives q_d·k_d = 0. Dropping them changes no result (adding exact zeros is exact)
// and saves the work of the index-lookup value dims (b of D = k + 1 are used).
static torch::Tensor used_dims(const torch::Tensor& W, const torch::Tensor& b) {  // W [R, D], b [D] -> bool [D]
  return (W.abs().sum(0) + b.abs()) > 0;
}

// Attention output z [P, D_v] of queries q [P, D] (already scaled) over keys/values of resid rows, plus the
// query's own key/value: keys in chunks with an online softmax (running max m, normaliser l, weighted sum acc).
static torch::Tensor attend_streamed(const torch::Tensor& q, const torch::Tensor& s_self, const torch::Tensor& v_self,
                                     const std::function<std::pair<torch::Tensor, torch::Tensor>(int64_t, int64_t)>& kv,
                                     int64_t n, int64_t chunk) {
  auto m = s_self.clone(), l = torch::ones_like(s_self), acc = v_self.clone();  // [P, 1], [P, 1], [P, D_v]
  for (int64_t c0 = 0; c0 < n; c0 += chunk) {
    auto [keys, vals] = kv(c0, std::min(n, c0 + chunk));                          // [C, D], [C, D_v]
    auto scores = torch::matmul(q, keys.t());                                    // [P, C]
    auto m_new = torch::maximum(m, std::get<0>(scores.max(1, true)));
    auto rescale = torch::exp(m - m_new);
    auto e = torch::exp(scores - m_new);
    l = l * rescale + e.sum(1, true);
    acc = acc * rescale + torch::matmul(e, vals);
    m = m_new;
  }
  return acc / l;
}

torch::Tensor index_lookup_query_logits(const SequenceModel& model, const std::vector<int64_t>& x,
                                        const std::vector<int64_t>& queries, int64_t alphabet, int64_t chunk) {
  const auto& c = model->config();
  check(c.is_transformer() && c.n_layers == 1 && c.n_heads == 1 && c.attn_only && c.normalization == NormKind::None,
        "index lookup: the query-row evaluator needs a 1-layer, 1-head, attention-only model without LayerNorm",
        "verify this model with 'attnlab model run' instead");
  check(static_cast<int64_t>(x.size()) + 1 == c.n_ctx, "index lookup: string length " + std::to_string(x.size()) +
        " but the model's n_ctx is " + std::to_string(c.n_ctx), "pass N = n_ctx - 1 symbols");
  torch::NoGradGuard no_grad;
  auto p = model->named_parameters();
  auto opts = torch::TensorOptions().dtype(torch::kInt64);
  auto xt = torch::tensor(x, opts), qt = torch::tensor(queries, opts) + alphabet;
  const int64_t N = static_cast<int64_t>(x.size()), P = static_cast<int64_t>(queries.size());
  auto W_E = p["embed.W_E"], W_pos = p["pos_embed.W_pos"];
  auto WQ = p["blocks.0.attn.W_Q"][0], WK = p["blocks.0.attn.W_K"][0], WV = p["blocks.0.attn.W_V"][0];
  auto bQ = p["blocks.0.attn.b_Q"][0], bK = p["blocks.0.attn.b_K"][0], bV = p["blocks.0.attn.b_V"][0];
  auto WO = p["blocks.0.attn.W_O"][0];
  auto qk = torch::nonzero(used_dims(WQ, bQ).logical_and(used_dims(WK, bK))).squeeze(1);
  auto vd = torch::nonzero(used_dims(WV, bV)).squeeze(1);
  WQ = WQ.index_select(1, qk), bQ = bQ.index_select(0, qk), WK = WK.index_select(1, qk), bK = bK.index_select(0, qk);
  WV = WV.index_select(1, vd), bV = bV.index_select(0, vd), WO = WO.index_select(0, vd);
  const double inv = 1.0 / c.attn_scale_value();
  auto resid_q = W_E.index_select(0, qt) + W_pos[N];                   // [P, R]
  auto q = (torch::matmul(resid_q, WQ) + bQ) * inv;                    // [P, D]
  auto k_self = torch::matmul(resid_q, WK) + bK, v_self = torch::matmul(resid_q, WV) + bV;   // [P, D], [P, D_v]
  auto s_self = (q * k_self).sum(-1, true);                            // [P, 1]
  auto kv = [&](int64_t c0, int64_t c1) {
    auto resid = W_E.index_select(0, xt.slice(0, c0, c1)) + W_pos.slice(0, c0, c1);  // [C, R]
    return std::make_pair(torch::matmul(resid, WK) + bK, torch::matmul(resid, WV) + bV);
  };
  torch::Tensor z;                                                     // [P, D_v]
  if (chunk <= 0 && N * (qk.size(0) + vd.size(0) + 1) <= (int64_t{1} << 24)) {
    // whole string at once, queries in blocks of <= 2^22 scores: one fused softmax per block
    auto [keys, vals] = kv(0, N);
    const int64_t block = std::clamp<int64_t>((int64_t{1} << 22) / (N + 1), 1, std::max<int64_t>(1, P));
    std::vector<torch::Tensor> zs;
    for (int64_t p0 = 0; p0 < P; p0 += block) {
      const int64_t p1 = std::min(P, p0 + block);
      auto w = torch::softmax(torch::cat({torch::matmul(q.slice(0, p0, p1), keys.t()), s_self.slice(0, p0, p1)}, 1), 1);
      zs.push_back(torch::matmul(w.slice(1, 0, N), vals) + w.slice(1, N, N + 1) * v_self.slice(0, p0, p1));
    }
    z = torch::cat(zs, 0);
  } else {
    if (chunk <= 0) chunk = std::clamp<int64_t>((int64_t{1} << 22) / std::max<int64_t>(1, P), 256, 65536);
    z = attend_streamed(q, s_self, v_self, kv, N, chunk);
  }
  auto resid = resid_q + torch::matmul(z, WO) + p["blocks.0.attn.b_O"];
  return torch::matmul(resid, p["unembed.W_U"]) + p["unembed.b_U"];   // [P, O]
}

void VerifyResult::tally(const torch::Tensor& margin) {
  double m = margin.min().item<double>();
  min_margin = checked == 0 ? m : std::min(min_margin, m);
  checked += margin.numel();
  correct += (margin > 0).sum().item<int64_t>();
}

nlohmann::json VerifyResult::to_json() const {
  return {{"dtype", dtype}, {"checked", checked}, {"correct", correct}, {"min_margin", min_margin},
          {"seconds", seconds}, {"mode", mode}};
}

// Accumulates correctness and the margin logit(target) - max other logit. logits [P, O], targets [P].
static void score_logits(const torch::Tensor& logits, const torch::Tensor& targets, VerifyResult& r) {
  auto lg = logits.to(torch::kFloat64);
  auto right = lg.gather(1, targets.unsqueeze(1)).squeeze(1);
  auto others = lg.scatter(1, targets.unsqueeze(1), -INFINITY).amax(1);
  auto margin = right - others;
  r.checked += targets.size(0);
  r.correct += (margin > 0).sum().item<int64_t>();
  double m = margin.min().item<double>();
  r.min_margin = r.checked == targets.size(0) ? m : std::min(r.min_margin, m);
}

static VerifyResult verify_one(const SequenceModel& model, const IndexLookupOptions& opt, int64_t strings,
                               uint64_t seed, const torch::Tensor& rows) {
  VerifyResult r;
  auto t0 = std::chrono::steady_clock::now();
  r.dtype = model->parameters()[0].scalar_type() == torch::kFloat32 ? "f32" : "f64";
  const IndexLookupSpec spec{opt.n, opt.alphabet};
  double total = std::pow(static_cast<double>(opt.alphabet), static_cast<double>(opt.n)) * opt.n;
  torch::NoGradGuard no_grad;
  if (total <= 65536) {  // every string and query, through the runtime's forward()
    r.mode = "exhaustive";
    TaskBatch all = index_lookup_enumerate(spec, 65536);
    for (size_t b0 = 0; b0 < all.examples.size(); b0 += 4096) {
      size_t b1 = std::min(all.examples.size(), b0 + 4096);
      std::vector<int64_t> flat, tg;
      for (size_t i = b0; i < b1; ++i) {
        flat.insert(flat.end(), all.examples[i].tokens.begin(), all.examples[i].tokens.end());
        tg.push_back(all.examples[i].target);
      }
      auto tokens = torch::tensor(flat, torch::kInt64).view({static_cast<int64_t>(b1 - b0), opt.n + 1});
      auto logits = model->forward({tokens, {}}).select(1, opt.n);
      score_logits(logits, torch::tensor(tg, torch::kInt64), r);
    }
  } else {
    r.mode = rows.size(0) == opt.n ? "all positions of " + std::to_string(strings) + " strings"
                                   : std::to_string(rows.size(0)) + " sampled queries x " + std::to_string(strings) + " strings";
    TaskRng rng(seed);
    std::vector<int64_t> q(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.size(0));
    auto qt = torch::tensor(q, torch::kInt64);
    for (int64_t s = 0; s < strings; ++s) {
      std::vector<int64_t> x(opt.n);
      for (auto& v : x) v = static_cast<int64_t>(rng_below(rng, opt.alphabet));
      auto logits = index_lookup_query_logits(model, x, q, opt.alphabet);
      score_logits(logits, torch::tensor(x, torch::kInt64).index_select(0, qt), r);
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<VerifyResult> index_lookup_verify(const IndexLookupBuild& b, const IndexLookupOptions& opt,
                                              int64_t strings, uint64_t seed, int64_t max_queries) {
  check(strings >= 1, "verify: " + std::to_string(strings) + " strings (must be >= 1)", "pass --strings 1 or more");
  check(max_queries >= 1, "verify: " + std::to_string(max_queries) + " query positions (must be >= 1)",
        "pass --queries 1 or more");
  const auto& certified = b.code.certified_rows;
  auto rows = certified.size(0) <= max_queries
                  ? certified
                  : certified.index_select(0, code_sample_rows(certified.size(0), max_queries, seed));
  std::vector<VerifyResult> out;
  out.push_back(verify_one(model_copy_as(b.model, torch::kFloat32), opt, strings, seed, rows));
  out.push_back(verify_one(b.model, opt, strings, seed, rows));
  return out;
}

}  // namespace attnlab
