// Assembly: the plan's affine functionals become weight matrices of a runtime transformer (model/), and the
// model directory is written with its report. Conventions (docs/compiler.md "Assembly"):
//   token t -> W_E row t+1 (row 0 = BOS: only the bos dimension); position p -> W_pos row p (row 0 = zeros);
//   query features are scaled by λ (attn_scale = 1); key / value features at the BOS key are fixed through
//   the bos dimension's row; MLP unit 0 is the shared "one" unit; b_out = 0, so MLPs write 0 at BOS (the
//   erasure units of a reused subspace come last in their layer and are not gated: they zero it everywhere).
#include <cmath>
#include <filesystem>
#include <set>

#include "compiler/compile.h"
#include "compiler/layout.h"
#include "model/weights.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab::compiler {

namespace {

int bos_dim(const Plan& p) { return p.sources[0].offset; }

ModelConfig config_make(const Plan& p, AttentionKind attention, const nlohmann::json& provenance) {
  ModelConfig c;
  c.n_layers = p.n_layers;
  c.d_model = p.d_model;
  c.n_heads = p.n_layers > 0 ? std::max(1, p.n_heads) : 0;
  c.d_head = p.n_layers > 0 ? std::max(1, p.d_head) : 0;
  c.d_mlp = p.d_mlp;
  c.attn_only = p.d_mlp == 0;
  c.vocab.push_back(p.opt.bos);
  c.vocab.insert(c.vocab.end(), p.opt.vocab.begin(), p.opt.vocab.end());
  c.d_vocab = static_cast<int>(c.vocab.size());
  c.bos = p.opt.bos;
  if (p.numeric_output) {
    c.output = OutputKind::Numeric;
    c.d_vocab_out = 1;
  } else {
    c.vocab_out = p.out_vocab;
    c.d_vocab_out = static_cast<int>(p.out_vocab.size());
  }
  c.n_ctx = p.opt.max_len + 1;
  c.act_fn = MlpKind::Relu;
  c.normalization = NormKind::None;
  c.pos_embed = PosEmbedKind::Learned;
  c.causal = p.opt.causal;
  c.attn_scale = 1.0;
  c.attention = attention;
  c.residual_labels = p.residual_labels;
  c.producer = "attnlab compile";
  c.provenance = provenance;
  return c;
}

}  // namespace

SequenceModel compiled_model(const Plan& p, AttentionKind attention, torch::Dtype dtype,
                             const nlohmann::json& provenance) {
  ModelConfig cfg = config_make(p, attention, provenance);
  SequenceModel model = model_create(cfg, torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  auto A2 = [&](const std::string& n) { return params[n].accessor<double, 2>(); };
  auto A3 = [&](const std::string& n) { return params[n].accessor<double, 3>(); };
  auto A1 = [&](const std::string& n) { return params[n].accessor<double, 1>(); };
  const int bos = bos_dim(p);
  // embeddings
  auto W_E = A2("embed.W_E");
  W_E[0][bos] = 1.0;
  auto W_pos = A2("pos_embed.W_pos");
  for (const Source& s : p.sources) {
    if (s.kind == SourceKind::Tokens)
      for (size_t i = 0; i < s.vocab_comp.size(); ++i) W_E[static_cast<int64_t>(i) + 1][s.offset + s.vocab_comp[i]] = 1.0;
    for (size_t r = 0; r < s.pos_rows.size(); ++r)
      for (size_t c = 0; c < s.pos_rows[r].size(); ++c) W_pos[static_cast<int64_t>(r)][s.offset + static_cast<int64_t>(c)] = s.pos_rows[r][c];
  }
  // attention
  std::vector<int> slot(static_cast<size_t>(p.n_layers), 0);
  for (const HeadGroup& g : p.groups) {
    const Source& out = p.sources[static_cast<size_t>(g.source)];
    int layer = (out.stage - 1) / 2;
    std::string b = "blocks." + std::to_string(layer) + ".attn.";
    auto W_Q = A3(b + "W_Q"), W_K = A3(b + "W_K"), W_V = A3(b + "W_V"), W_O = A3(b + "W_O");
    auto b_Q = A2(b + "b_Q"), b_K = A2(b + "b_K"), b_V = A2(b + "b_V");
    for (const Head& h : g.heads) {
      int hi = slot[static_cast<size_t>(layer)]++;
      for (size_t f = 0; f < h.q.size(); ++f) {
        for (const Term& t : h.q[f].terms) W_Q[hi][p.resid_index(t)][static_cast<int64_t>(f)] += p.lambda * t.coef;
        b_Q[hi][static_cast<int64_t>(f)] += p.lambda * h.q[f].c;
        for (const Term& t : h.k[f].terms) W_K[hi][p.resid_index(t)][static_cast<int64_t>(f)] += t.coef;
        b_K[hi][static_cast<int64_t>(f)] += h.k[f].c;
        W_K[hi][bos][static_cast<int64_t>(f)] += h.k_bos[f] - p.bos_value(h.k[f]);
      }
      for (size_t f = 0; f < h.v.size(); ++f) {
        for (const Term& t : h.v[f].terms) W_V[hi][p.resid_index(t)][static_cast<int64_t>(f)] += t.coef;
        b_V[hi][static_cast<int64_t>(f)] += h.v[f].c;
        W_V[hi][bos][static_cast<int64_t>(f)] += h.v_bos[f] - p.bos_value(h.v[f]);
        W_O[hi][static_cast<int64_t>(f)][out.offset + h.out[f].first] += h.out[f].second;
      }
    }
  }
  // MLPs
  for (int layer = 0; layer < p.n_layers && p.d_mlp > 0; ++layer) {
    std::string b = "blocks." + std::to_string(layer) + ".mlp.";
    auto W_in = A2(b + "W_in"), W_out = A2(b + "W_out");
    auto b_in = A1(b + "b_in");
    int unit = 0;
    for (const MlpBlock& m : p.mlps) {
      const Source& out = p.sources[static_cast<size_t>(m.source)];
      if (out.stage != 2 * layer + 2) continue;
      if (unit == 0) {  // the shared "one" unit: relu(1 - 2·[BOS])
        b_in[0] = 1.0;
        W_in[bos][0] = -2.0;
        unit = 1;
      }
      for (size_t c = 0; c < m.base.size(); ++c) W_out[0][out.offset + static_cast<int64_t>(c)] += m.base[c];
      double u_bos = p.bos_value(m.u);
      for (size_t t = 0; t < m.thresholds.size(); ++t) {
        double a = m.thresholds[t];
        double gate = std::max(0.0, 2.0 * (u_bos - a)) + 1.0;
        for (int k = 0; k < 2; ++k, ++unit) {
          for (const Term& term : m.u.terms) W_in[p.resid_index(term)][unit] += 2.0 * term.coef;
          b_in[unit] = 2.0 * (m.u.c - a) - k;
          W_in[bos][unit] -= gate;
          for (size_t c = 0; c < m.deltas[t].size(); ++c)
            W_out[unit][out.offset + static_cast<int64_t>(c)] += (k == 0 ? 1.0 : -1.0) * m.deltas[t][c];
        }
      }
    }
    // erasures (layout.h): relu(x) - relu(-x) or relu(x) per dimension, written back as -x; not gated at BOS
    for (const Erasure& e : p.erasures) {
      if (e.stage != 2 * layer + 2) continue;
      const Source& s = p.sources[static_cast<size_t>(e.source)];
      for (int c = 0; c < s.width(); ++c) {
        const int64_t d = s.offset + c;
        for (int sign : {1, -1}) {
          if (sign < 0 && e.nonneg) break;
          W_in[d][unit] = sign;
          W_out[unit][d] = -sign;
          ++unit;
        }
      }
    }
  }
  // unembedding
  auto W_U = A2("unembed.W_U");
  auto b_U = A1("unembed.b_U");
  for (size_t o = 0; o < p.out_ind.size(); ++o) {
    for (const Term& t : p.out_ind[o].terms) W_U[p.resid_index(t)][static_cast<int64_t>(o)] += t.coef;
    b_U[static_cast<int64_t>(o)] += p.out_ind[o].c;
  }
  if (dtype != torch::kFloat64) {
    SequenceModel copy = model_create(cfg, dtype);
    auto src = model->named_parameters();
    for (auto& q : copy->named_parameters()) q.value().copy_(src[q.key()].to(dtype));
    return copy;
  }
  return model;
}

int64_t compiled_parameter_count(const Plan& p) {
  ModelConfig cfg = config_make(p, AttentionKind::Softmax, {});
  int64_t n = 0;
  for (const auto& [name, shape] : config_tensor_shapes(cfg)) {
    int64_t k = 1;
    for (int64_t d : shape) k *= d;
    n += k;
  }
  return n;
}

void compiled_write(const Plan& p, const std::string& dir, const std::string& program_text,
                    const nlohmann::json& provenance) {
  dir_create(dir);
  model_save(dir, compiled_model(p, AttentionKind::Softmax, torch::kFloat64, provenance));
  // DIR/hard: the same weights with hard attention — its own config.json, and the weights file hard-linked
  // (copied where the file system cannot link): writing them twice was most of the compile time of big models
  dir_create(dir + "/hard");
  const std::filesystem::path weights = std::filesystem::path(dir) / "model.safetensors";
  const std::filesystem::path hard_weights = std::filesystem::path(dir) / "hard" / "model.safetensors";
  std::error_code ec;
  std::filesystem::remove(hard_weights, ec);
  ec.clear();
  std::filesystem::create_hard_link(weights, hard_weights, ec);
  if (ec) std::filesystem::copy_file(weights, hard_weights, std::filesystem::copy_options::overwrite_existing);
  file_write_atomic(dir + "/hard/config.json",
                    config_to_json(config_make(p, AttentionKind::Hard, provenance)).dump(2) + "\n");
  file_write_atomic(dir + "/program.rasp", program_text);
  file_write_atomic(dir + "/compile.json", compile_summary(p).dump(2) + "\n");
}

}  // namespace attnlab::compiler
