// config.json <-> ModelConfig, with every field checked. See config.h for the field meanings.
#include "model/config.h"

#include <cmath>

#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

const char* kHintSchema = "see docs/model-format.md for the config.json fields";

// Typed, located access to one JSON object.
struct Fields {
  const nlohmann::json& j;
  std::string where;  // "model/config.json" or "model/config.json: attnlab"

  bool has(const char* key) const { return j.contains(key) && !j[key].is_null(); }
  [[noreturn]] void fail(const char* key, const std::string& what) const {
    throw Error(where + ": field '" + key + "' " + what, kHintSchema);
  }
  int integer(const char* key, int fallback, int min_value = 0) const {
    if (!has(key)) return fallback;
    const auto& v = j[key];
    if (!v.is_number_integer()) fail(key, "must be an integer (got " + v.dump() + ")");
    auto x = v.get<int64_t>();
    if (x < min_value || x > (1 << 30)) fail(key, "must be in [" + std::to_string(min_value) + ", 2^30] (got " + v.dump() + ")");
    return static_cast<int>(x);
  }
  double number(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    const auto& v = j[key];
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, "must be a finite number (got " + v.dump() + ")");
    return v.get<double>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j[key].is_boolean()) fail(key, "must be true or false (got " + j[key].dump() + ")");
    return j[key].get<bool>();
  }
  std::string string(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!j[key].is_string()) fail(key, "must be a string (got " + j[key].dump() + ")");
    return j[key].get<std::string>();
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    if (!has(key)) return out;
    if (!j[key].is_array()) fail(key, "must be a list of strings");
    for (const auto& v : j[key]) {
      if (!v.is_string()) fail(key, "must be a list of strings (found " + v.dump() + ")");
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  template <class E>
  E choice(const char* key, E fallback, const std::vector<std::pair<std::string, E>>& options) const {
    if (!has(key)) return fallback;
    std::string s = j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
    std::string names;
    for (const auto& [name, value] : options) {
      if (name == s) return value;
      names += (names.empty() ? "" : ", ") + name;
    }
    fail(key, "has unknown value '" + s + "' (expected one of: " + names + ")");
  }
};

const std::vector<std::pair<std::string, ModelType>> kModelTypes = {
    {"transformer", ModelType::Transformer}, {"lstm", ModelType::Lstm}, {"gru", ModelType::Gru}, {"rnn", ModelType::Rnn},
    {"lru", ModelType::Lru}};
const std::vector<std::pair<std::string, MlpKind>> kMlpKinds = {
    {"relu", MlpKind::Relu}, {"gelu", MlpKind::Gelu}, {"identity", MlpKind::Identity}, {"bilinear", MlpKind::Bilinear}};

template <class E>
std::string name_of(E value, const std::vector<std::pair<std::string, E>>& options) {
  for (const auto& [name, v] : options)
    if (v == value) return name;
  return "?";
}

}  // namespace

std::string model_type_name(ModelType t) { return name_of(t, kModelTypes); }
std::string mlp_kind_name(MlpKind k) { return name_of(k, kMlpKinds); }

double ModelConfig::attn_scale_value() const {
  return attn_scale > 0 ? attn_scale : std::sqrt(static_cast<double>(d_head > 0 ? d_head : 1));
}

ModelConfig config_from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw Error(origin + ": config must be a JSON object", kHintSchema);
  Fields top{j, origin};
  static const nlohmann::json empty = nlohmann::json::object();
  if (top.has("attnlab") && !j["attnlab"].is_object()) top.fail("attnlab", "must be an object");
  const nlohmann::json& a = top.has("attnlab") ? j["attnlab"] : empty;
  Fields at{a, origin + ": attnlab"};
  Fields rnn{a.contains("rnn") && a["rnn"].is_object() ? a["rnn"] : empty, origin + ": attnlab.rnn"};

  ModelConfig c;
  c.model_type = at.choice("model_type", ModelType::Transformer, kModelTypes);
  c.n_layers = top.integer("n_layers", 1, 0);
  c.d_model = top.integer("d_model", 0, 1);
  c.d_head = top.integer("d_head", 0);
  c.n_heads = top.integer("n_heads", 0);
  c.d_mlp = top.integer("d_mlp", 0);
  c.d_vocab = top.integer("d_vocab", 0);
  c.d_vocab_out = top.integer("d_vocab_out", 0, 1);
  c.n_ctx = top.integer("n_ctx", 0);
  MlpKind act = top.choice("act_fn", MlpKind::Relu, kMlpKinds);
  c.act_fn = at.choice("mlp", act, kMlpKinds);
  if (top.has("act_fn") && act != c.act_fn)
    top.fail("act_fn", "disagrees with attnlab.mlp ('" + mlp_kind_name(act) + "' vs '" + mlp_kind_name(c.act_fn) + "')");
  c.normalization = top.choice("normalization_type", NormKind::None, {{"LN", NormKind::LN}, {"none", NormKind::None}});
  c.causal = top.choice("attention_dir", false, {{"causal", true}, {"bidirectional", false}});
  c.attn_only = top.boolean("attn_only", false);
  c.pos_embed = top.choice("positional_embedding_type", PosEmbedKind::Learned,
                           {{"standard", PosEmbedKind::Learned}, {"sinusoidal", PosEmbedKind::Sinusoidal},
                            {"none", PosEmbedKind::None}});
  c.attn_scale = top.boolean("use_attn_scale", true) ? top.number("attn_scale", 0) : 1.0;
  c.ln_eps = top.number("eps", 1e-5);
  c.attention = at.choice("attention", AttentionKind::Softmax, {{"softmax", AttentionKind::Softmax}, {"hard", AttentionKind::Hard}});
  c.hard_tol = at.number("hard_tol", 1e-6);
  c.d_in_num = at.integer("d_in_num", 0);
  c.output = at.choice("output", OutputKind::Tokens, {{"tokens", OutputKind::Tokens}, {"numeric", OutputKind::Numeric}});
  c.vocab = at.strings("vocab");
  c.vocab_out = at.strings("vocab_out");
  c.bos = at.string("bos", "");
  c.pad = at.string("pad", "");
  c.residual_labels = at.strings("residual_labels");
  c.d_hidden = rnn.integer("hidden_size", 0);
  c.nonlinearity = rnn.string("nonlinearity", "tanh");
  c.readout = rnn.choice("readout", Readout::PerPosition, {{"per_position", Readout::PerPosition}, {"last", Readout::Last}});
  c.producer = at.string("producer", "");
  if (a.contains("provenance")) c.provenance = a["provenance"];
  config_validate(c, origin);
  return c;
}

nlohmann::json config_to_json(const ModelConfig& c) {
  nlohmann::json j;
  j["n_layers"] = c.n_layers;
  j["d_model"] = c.d_model;
  j["d_vocab"] = c.d_vocab;
  j["d_vocab_out"] = c.d_vocab_out;
  j["n_ctx"] = c.n_ctx;
  if (c.is_transformer()) {
    j["d_head"] = c.d_head;
    j["n_heads"] = c.n_heads;
    j["d_mlp"] = c.d_mlp;
    j["act_fn"] = mlp_kind_name(c.act_fn);
    j["normalization_type"] = c.normalization == NormKind::LN ? nlohmann::json("LN") : nlohmann::json(nullptr);
    j["attention_dir"] = c.causal ? "causal" : "bidirectional";
    j["attn_only"] = c.attn_only;
    j["positional_embedding_type"] = c.pos_embed == PosEmbedKind::Learned      ? "standard"
                                     : c.pos_embed == PosEmbedKind::Sinusoidal ? "sinusoidal"
                                                                               : "none";
    j["use_attn_scale"] = true;
    j["attn_scale"] = c.attn_scale_value();
    j["eps"] = c.ln_eps;
    j["gated_mlp"] = c.act_fn == MlpKind::Bilinear;
  }
  if (c.is_lru()) j["eps"] = c.ln_eps;  // the blocks' LayerNorm
  nlohmann::json a;
  a["format_version"] = 1;
  a["model_type"] = model_type_name(c.model_type);
  if (c.is_transformer()) {
    a["attention"] = c.attention == AttentionKind::Hard ? "hard" : "softmax";
    if (c.attention == AttentionKind::Hard) a["hard_tol"] = c.hard_tol;
    a["mlp"] = mlp_kind_name(c.act_fn);
  } else if (c.is_lru()) {
    a["rnn"] = {{"hidden_size", c.d_hidden}, {"readout", c.readout == Readout::Last ? "last" : "per_position"}};
  } else {
    a["rnn"] = {{"hidden_size", c.d_hidden},
                {"nonlinearity", c.nonlinearity},
                {"readout", c.readout == Readout::Last ? "last" : "per_position"}};
  }
  a["d_in_num"] = c.d_in_num;
  a["output"] = c.output == OutputKind::Numeric ? "numeric" : "tokens";
  a["vocab"] = c.vocab;
  a["vocab_out"] = c.vocab_out;
  a["bos"] = c.bos;
  a["pad"] = c.pad;
  if (!c.residual_labels.empty()) a["residual_labels"] = c.residual_labels;
  a["producer"] = c.producer;
  a["provenance"] = c.provenance;
  j["attnlab"] = a;
  return j;
}

void config_validate(const ModelConfig& c, const std::string& origin) {
  std::vector<std::string> problems;
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) problems.push_back(what);
  };
  need(c.d_model > 0, "d_model must be positive");
  need(c.d_vocab_out > 0, "d_vocab_out must be positive");
  need(c.d_vocab > 0 || c.d_in_num > 0, "the model has no input: d_vocab and attnlab.d_in_num are both 0");
  if (c.is_transformer()) {
    need(c.n_ctx > 0, "n_ctx must be positive for a transformer");
    if (c.n_layers > 0) need(c.n_heads > 0 && c.d_head > 0, "n_heads and d_head must be positive");
    if (!c.attn_only && c.n_layers > 0) need(c.d_mlp > 0, "d_mlp must be positive unless attn_only");
    need(c.hard_tol >= 0, "attnlab.hard_tol must be >= 0");
    need(c.attn_scale >= 0, "attn_scale must be positive");
  } else {
    need(c.n_layers > 0, "an RNN or lru needs n_layers >= 1");
    need(c.d_hidden > 0, "attnlab.rnn.hidden_size must be positive");
    need(c.nonlinearity == "tanh" || c.nonlinearity == "relu", "attnlab.rnn.nonlinearity must be tanh or relu");
    if (c.is_lru()) need(c.ln_eps > 0, "eps (the lru blocks' LayerNorm epsilon) must be positive");
  }
  need(c.vocab.empty() || static_cast<int>(c.vocab.size()) == c.d_vocab,
       "attnlab.vocab has " + std::to_string(c.vocab.size()) + " tokens but d_vocab is " + std::to_string(c.d_vocab));
  if (c.output == OutputKind::Tokens)
    need(c.vocab_out.empty() || static_cast<int>(c.vocab_out.size()) == c.d_vocab_out,
         "attnlab.vocab_out has " + std::to_string(c.vocab_out.size()) + " tokens but d_vocab_out is " +
             std::to_string(c.d_vocab_out));
  std::map<std::string, int> seen;
  for (const auto& t : c.vocab) {
    need(!t.empty(), "attnlab.vocab contains an empty token");
    need(seen[t]++ == 0, "attnlab.vocab contains '" + t + "' twice");
  }
  need(c.bos.empty() || seen.count(c.bos), "attnlab.bos '" + c.bos + "' is not in attnlab.vocab");
  need(c.pad.empty() || seen.count(c.pad), "attnlab.pad '" + c.pad + "' is not in attnlab.vocab");
  need(c.residual_labels.empty() || static_cast<int>(c.residual_labels.size()) == c.d_model,
       "attnlab.residual_labels has " + std::to_string(c.residual_labels.size()) + " entries but d_model is " +
           std::to_string(c.d_model));
  if (problems.empty()) return;
  std::string msg = origin + ": invalid model config";
  for (const auto& p : problems) msg += "\n  - " + p;
  throw Error(msg, kHintSchema);
}

ModelConfig config_read(const std::string& path) {
  std::string text = file_read_text(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ": not valid JSON (" + std::string(e.what()) + ")", "fix the file, or re-create the model");
  }
  return config_from_json(j, path);
}

std::vector<std::pair<std::string, std::vector<int64_t>>> config_tensor_shapes(const ModelConfig& c) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> t;
  const int64_t R = c.d_model, H = c.n_heads, D = c.d_head, M = c.d_mlp;
  if (c.d_vocab > 0) t.push_back({"embed.W_E", {c.d_vocab, R}});
  if (c.d_in_num > 0) t.push_back({"embed.W_in_num", {c.d_in_num, R}});
  if (c.is_transformer()) {
    if (c.pos_embed == PosEmbedKind::Learned) t.push_back({"pos_embed.W_pos", {c.n_ctx, R}});
    bool ln = c.normalization == NormKind::LN;
    for (int l = 0; l < c.n_layers; ++l) {
      std::string b = "blocks." + std::to_string(l) + ".";
      if (ln) t.insert(t.end(), {{b + "ln1.w", {R}}, {b + "ln1.b", {R}}});
      for (const char* w : {"W_Q", "W_K", "W_V"}) t.push_back({b + "attn." + w, {H, R, D}});
      t.push_back({b + "attn.W_O", {H, D, R}});
      for (const char* w : {"b_Q", "b_K", "b_V"}) t.push_back({b + "attn." + w, {H, D}});
      t.push_back({b + "attn.b_O", {R}});
      if (c.attn_only) continue;
      if (ln) t.insert(t.end(), {{b + "ln2.w", {R}}, {b + "ln2.b", {R}}});
      t.insert(t.end(), {{b + "mlp.W_in", {R, M}}, {b + "mlp.b_in", {M}}});
      if (c.act_fn == MlpKind::Bilinear) t.insert(t.end(), {{b + "mlp.W_gate", {R, M}}, {b + "mlp.b_gate", {M}}});
      t.insert(t.end(), {{b + "mlp.W_out", {M, R}}, {b + "mlp.b_out", {R}}});
    }
    if (ln) t.insert(t.end(), {{"ln_final.w", {R}}, {"ln_final.b", {R}}});
    t.insert(t.end(), {{"unembed.W_U", {R, c.d_vocab_out}}, {"unembed.b_U", {c.d_vocab_out}}});
    return t;
  }
  if (c.is_lru()) {
    // Per block l (docs/training.md "The lru model"): LayerNorm, the diagonal recurrence (lambda from nu_log and
    // theta_log, input normalisation gamma_log, complex B [N, R] and C [R, N] as re/im parts, skip D), the GLU.
    const int64_t N = c.d_hidden;
    for (int l = 0; l < c.n_layers; ++l) {
      std::string b = "blocks." + std::to_string(l) + ".";
      t.insert(t.end(), {{b + "ln.w", {R}}, {b + "ln.b", {R}},
                         {b + "lru.nu_log", {N}}, {b + "lru.theta_log", {N}}, {b + "lru.gamma_log", {N}},
                         {b + "lru.B_re", {N, R}}, {b + "lru.B_im", {N, R}},
                         {b + "lru.C_re", {R, N}}, {b + "lru.C_im", {R, N}}, {b + "lru.D", {R}},
                         {b + "glu.W_a", {R, R}}, {b + "glu.b_a", {R}}, {b + "glu.W_g", {R, R}}, {b + "glu.b_g", {R}}});
    }
    t.insert(t.end(), {{"unembed.W_U", {R, c.d_vocab_out}}, {"unembed.b_U", {c.d_vocab_out}}});
    return t;
  }
  const int64_t G = c.model_type == ModelType::Lstm ? 4 : c.model_type == ModelType::Gru ? 3 : 1, Hd = c.d_hidden;
  for (int l = 0; l < c.n_layers; ++l) {
    std::string s = std::to_string(l);
    t.insert(t.end(), {{"rnn.weight_ih_l" + s, {G * Hd, l == 0 ? R : Hd}},
                       {"rnn.weight_hh_l" + s, {G * Hd, Hd}},
                       {"rnn.bias_ih_l" + s, {G * Hd}},
                       {"rnn.bias_hh_l" + s, {G * Hd}}});
  }
  t.insert(t.end(), {{"unembed.W_U", {Hd, c.d_vocab_out}}, {"unembed.b_U", {c.d_vocab_out}}});
  return t;
}

}  // namespace attnlab
