// TOML <-> TrainConfig through one field table: each key once, with its kind and where it lives.
#include "train/config.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "train/data.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

enum class Kind { Int, Float, Bool, String, IntList };

struct Field {
  const char* key;                 // "section.name" or "name" (top level)
  Kind kind;
  void* (*slot)(TrainConfig&);     // where the value lives
};

#define ATTNLAB_FIELD(key, kind, member) \
  Field { key, Kind::kind, [](TrainConfig& c) -> void* { return &c.member; } }

const std::vector<Field>& fields() {
  static const std::vector<Field> table = {
      ATTNLAB_FIELD("seed", Int, seed),
      ATTNLAB_FIELD("task.name", String, task.name),
      ATTNLAB_FIELD("task.n", Int, task.n),
      ATTNLAB_FIELD("task.alphabet", Int, task.alphabet),
      ATTNLAB_FIELD("task.k", Int, task.k),
      ATTNLAB_FIELD("task.m", Int, task.m),
      ATTNLAB_FIELD("task.labels", String, task.labels),
      ATTNLAB_FIELD("task.train_size", Int, task.train_size),
      ATTNLAB_FIELD("task.supervision", String, task.supervision),
      ATTNLAB_FIELD("task.chains", Int, task.chains),
      ATTNLAB_FIELD("task.chain_len", Int, task.chain_len),
      ATTNLAB_FIELD("task.assignments", Int, task.assignments),
      ATTNLAB_FIELD("task.variables", Int, task.variables),
      ATTNLAB_FIELD("task.values", Int, task.values),
      ATTNLAB_FIELD("task.shuffle", Bool, task.shuffle),
      ATTNLAB_FIELD("task.encoding", String, task.encoding),
      ATTNLAB_FIELD("task.query", String, task.query),
      ATTNLAB_FIELD("task.distractors", Int, task.distractors),
      ATTNLAB_FIELD("task.classes", Int, task.classes),
      ATTNLAB_FIELD("task.relations", Int, task.relations),
      ATTNLAB_FIELD("task.length", Int, task.length),
      ATTNLAB_FIELD("task.mix", Bool, task.mix),
      ATTNLAB_FIELD("model.type", String, model.type),
      ATTNLAB_FIELD("model.n_layers", Int, model.n_layers),
      ATTNLAB_FIELD("model.d_model", Int, model.d_model),
      ATTNLAB_FIELD("model.n_heads", Int, model.n_heads),
      ATTNLAB_FIELD("model.d_head", Int, model.d_head),
      ATTNLAB_FIELD("model.d_mlp", Int, model.d_mlp),
      ATTNLAB_FIELD("model.attn_only", Bool, model.attn_only),
      ATTNLAB_FIELD("model.normalization", String, model.normalization),
      ATTNLAB_FIELD("model.pos_embed", String, model.pos_embed),
      ATTNLAB_FIELD("model.act_fn", String, model.act_fn),
      ATTNLAB_FIELD("model.causal", Bool, model.causal),
      ATTNLAB_FIELD("model.d_hidden", Int, model.d_hidden),
      ATTNLAB_FIELD("model.nonlinearity", String, model.nonlinearity),
      ATTNLAB_FIELD("model.readout", String, model.readout),
      ATTNLAB_FIELD("model.init_std", Float, model.init_std),
      ATTNLAB_FIELD("optim.name", String, optim.name),
      ATTNLAB_FIELD("optim.lr", Float, optim.lr),
      ATTNLAB_FIELD("optim.weight_decay", Float, optim.weight_decay),
      ATTNLAB_FIELD("optim.beta1", Float, optim.beta1),
      ATTNLAB_FIELD("optim.beta2", Float, optim.beta2),
      ATTNLAB_FIELD("optim.eps", Float, optim.eps),
      ATTNLAB_FIELD("optim.momentum", Float, optim.momentum),
      ATTNLAB_FIELD("optim.clip", Float, optim.clip),
      ATTNLAB_FIELD("schedule.warmup", Int, schedule.warmup),
      ATTNLAB_FIELD("schedule.decay", String, schedule.decay),
      ATTNLAB_FIELD("schedule.min_lr_ratio", Float, schedule.min_lr_ratio),
      ATTNLAB_FIELD("train.steps", Int, train.steps),
      ATTNLAB_FIELD("train.batch", Int, train.batch),
      ATTNLAB_FIELD("train.dtype", String, train.dtype),
      ATTNLAB_FIELD("train.device", String, train.device),
      ATTNLAB_FIELD("train.log_every", Int, train.log_every),
      ATTNLAB_FIELD("train.eval_every", Int, train.eval_every),
      ATTNLAB_FIELD("train.checkpoint_every", Int, train.checkpoint_every),
      ATTNLAB_FIELD("train.keep_checkpoints", Int, train.keep_checkpoints),
      ATTNLAB_FIELD("train.snapshot_every", Int, train.snapshot_every),
      ATTNLAB_FIELD("train.probe_size", Int, train.probe_size),
      ATTNLAB_FIELD("eval.lengths", IntList, eval.lengths),
      ATTNLAB_FIELD("eval.size", Int, eval.size),
  };
  return table;
}
#undef ATTNLAB_FIELD

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Int: return "an integer";
    case Kind::Float: return "a number";
    case Kind::Bool: return "true or false";
    case Kind::String: return "a string";
    case Kind::IntList: return "a list of integers";
  }
  return "?";
}

const Field* field_find(const std::string& key) {
  for (const auto& f : fields())
    if (key == f.key) return &f;
  return nullptr;
}

std::string unknown_key_message(const std::string& key) {
  std::string best;
  size_t best_d = 4;
  for (const auto& f : fields()) {
    size_t d = edit_distance(key, f.key);
    if (d < best_d) best_d = d, best = f.key;
  }
  std::string msg = "unknown key '" + key + "'";
  if (!best.empty()) msg += " (did you mean '" + best + "'?)";
  return msg;
}

std::string where(const toml::node& node) {
  const auto& src = node.source();
  if (!src.begin) return "";
  return " (line " + std::to_string(src.begin.line) + ")";
}

// Stores node's value into the field when the kinds agree; otherwise a problem naming the key.
void field_assign(TrainConfig& cfg, const Field& f, const toml::node& node, const std::string& at,
                  std::vector<std::string>& problems) {
  void* slot = f.slot(cfg);
  auto mismatch = [&] {
    std::ostringstream got;
    got << node.type();
    problems.push_back("key '" + std::string(f.key) + "'" + at + " must be " + kind_name(f.kind) + ", got " +
                       got.str());
  };
  switch (f.kind) {
    case Kind::Int:
      if (!node.is_integer()) return mismatch();
      *static_cast<int64_t*>(slot) = node.as_integer()->get();
      return;
    case Kind::Float:
      if (node.is_integer()) *static_cast<double*>(slot) = static_cast<double>(node.as_integer()->get());
      else if (node.is_floating_point()) *static_cast<double*>(slot) = node.as_floating_point()->get();
      else mismatch();
      return;
    case Kind::Bool:
      if (!node.is_boolean()) return mismatch();
      *static_cast<bool*>(slot) = node.as_boolean()->get();
      return;
    case Kind::String:
      if (!node.is_string()) return mismatch();
      *static_cast<std::string*>(slot) = node.as_string()->get();
      return;
    case Kind::IntList: {
      const toml::array* arr = node.as_array();
      if (!arr || !arr->is_homogeneous(toml::node_type::integer)) {
        if (arr && arr->empty()) {
          static_cast<std::vector<int64_t>*>(slot)->clear();
          return;
        }
        return mismatch();
      }
      auto* out = static_cast<std::vector<int64_t>*>(slot);
      out->clear();
      for (const auto& v : *arr) out->push_back(v.as_integer()->get());
      return;
    }
  }
}

void table_apply(TrainConfig& cfg, const toml::table& tbl, const std::string& prefix,
                 std::vector<std::string>& problems) {
  for (const auto& [k, v] : tbl) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const Field* f = field_find(key);
    if (!f && v.is_table() && prefix.empty()) {
      table_apply(cfg, *v.as_table(), key, problems);
      continue;
    }
    if (!f) {
      problems.push_back(unknown_key_message(key) + where(v));
      continue;
    }
    field_assign(cfg, *f, v, where(v), problems);
  }
}

void override_apply(TrainConfig& cfg, const std::string& text, std::vector<std::string>& problems) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    problems.push_back("override '" + text + "' is not of the form key.sub=value");
    return;
  }
  std::string key = text.substr(0, eq), value = text.substr(eq + 1);
  const Field* f = field_find(key);
  if (!f) {
    problems.push_back(unknown_key_message(key) + " in override '" + text + "'");
    return;
  }
  toml::table parsed;
  bool ok = true;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    ok = false;
  }
  if (ok && parsed.contains("v") && parsed.size() == 1) {
    field_assign(cfg, *f, *parsed.get("v"), " in override '" + text + "'", problems);
  } else if (f->kind == Kind::String) {
    *static_cast<std::string*>(f->slot(cfg)) = value;  // a bare word: model.type=lstm
  } else {
    problems.push_back("key '" + key + "' in override '" + text + "' must be " + kind_name(f->kind) +
                       ", got '" + value + "'");
  }
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string toml_value(const Field& f, TrainConfig& cfg) {
  void* slot = f.slot(cfg);
  switch (f.kind) {
    case Kind::Int: return std::to_string(*static_cast<int64_t*>(slot));
    case Kind::Float: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", *static_cast<double*>(slot));
      std::string s = buf;
      if (s.find_first_of(".eni") == std::string::npos) s += ".0";
      return s;
    }
    case Kind::Bool: return *static_cast<bool*>(slot) ? "true" : "false";
    case Kind::String: return toml_string(*static_cast<std::string*>(slot));
    case Kind::IntList: {
      std::string s = "[";
      for (auto v : *static_cast<std::vector<int64_t>*>(slot)) s += (s.size() > 1 ? ", " : "") + std::to_string(v);
      return s + "]";
    }
  }
  return "";
}

// The chain tasks' own validators, at task.n and every evaluation length; each problem once, naming the keys.
void task_spec_check(const TrainConfig& c, std::vector<std::string>& p) {
  const bool chain = c.task.name == "retrieval" || c.task.name == "conditional" || c.task.name == "khop";
  if (!chain) {
    if (c.task.supervision != "final") p.push_back("key 'task.supervision' = \"" + c.task.supervision +
                                                   "\" needs task.name = retrieval | conditional | khop");
    if (c.task.mix) p.push_back("key 'task.mix' = true needs task.name = \"khop\"");
    return;
  }
  if (c.task.mix && c.task.name != "khop") p.push_back("key 'task.mix' = true needs task.name = \"khop\"");
  if (c.task.supervision == "curriculum" && c.task.name != "khop" && (c.model.causal || c.model.type != "transformer"))
    p.push_back("task.supervision = \"curriculum\" scores every variable position with the value the whole "
                "input determines, which a causal model cannot see: use \"curriculum_prefix\" for causal "
                "transformers and RNNs");
  if (c.task.supervision != "final" && c.model.type != "transformer" && c.model.readout != "per_position")
    p.push_back("task.supervision = \"curriculum\" scores every position: it needs model.readout = "
                "\"per_position\" for RNNs");
  std::vector<int64_t> ns{c.task.n};
  ns.insert(ns.end(), c.eval.lengths.begin(), c.eval.lengths.end());
  std::set<std::string> seen;
  for (int64_t n : ns) {
    try {
      task_spec_validate(c.task, n);
    } catch (const Error& e) {
      std::string what = e.message();
      for (size_t at; (at = what.find(":\n  - ")) != std::string::npos || (at = what.find("\n  - ")) != std::string::npos;)
        what.replace(at, what[at] == ':' ? 6 : 5, what[at] == ':' ? ": " : "; ");
      if (seen.insert(what).second)
        p.push_back("task " + c.task.name + " at n = " + std::to_string(n) + ": " + what +
                    " (keys task.n, eval.lengths, task.chains, task.chain_len, task.assignments, task.variables, "
                    "task.values, task.distractors, task.classes, task.relations, task.length, task.alphabet)");
    }
  }
}

constexpr const char* kHintKeys =
    "every key is listed in docs/training.md; a run directory's config.resolved.toml shows them all with values";

}  // namespace

std::vector<std::string> train_config_keys() {
  std::vector<std::string> keys;
  for (const auto& f : fields()) keys.push_back(f.key);
  return keys;
}

TrainConfig train_config_parse(const std::string& toml_text, const std::string& origin,
                               const std::vector<std::string>& overrides) {
  toml::table tbl;
  try {
    tbl = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    throw Error(origin + ":" + std::to_string(e.source().begin.line) + ":" + std::to_string(e.source().begin.column) +
                    ": not valid TOML: " + std::string(e.description()),
                "fix the TOML syntax (strings need quotes: name = \"dyck\"; sections are [task], [model], ...)");
  }
  TrainConfig cfg;
  std::vector<std::string> problems;
  table_apply(cfg, tbl, "", problems);
  for (const auto& o : overrides) override_apply(cfg, o, problems);
  if (!problems.empty()) {
    std::string msg = origin + ": invalid training config";
    for (const auto& p : problems) msg += "\n  - " + p;
    throw Error(msg, kHintKeys);
  }
  train_config_validate(cfg, origin);
  return cfg;
}

TrainConfig train_config_read(const std::string& path, const std::vector<std::string>& overrides) {
  return train_config_parse(file_read_text(path), path, overrides);
}

std::string train_config_to_toml(const TrainConfig& cfg_in) {
  TrainConfig cfg = cfg_in;
  std::string out = "# attnlab train: the resolved configuration (file + overrides + defaults)\n";
  std::string section;
  for (const auto& f : fields()) {
    std::string key = f.key;
    size_t dot = key.find('.');
    std::string sec = dot == std::string::npos ? "" : key.substr(0, dot);
    if (sec != section) {
      out += "\n[" + sec + "]\n";
      section = sec;
    }
    out += key.substr(dot == std::string::npos ? 0 : dot + 1) + " = " + toml_value(f, cfg) + "\n";
  }
  return out;
}

void train_config_validate(const TrainConfig& c, const std::string& origin) {
  std::vector<std::string> p;
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) p.push_back(what);
  };
  auto one_of = [&](const std::string& key, const std::string& v, std::set<std::string> allowed) {
    if (allowed.count(v)) return;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : " | ") + a;
    p.push_back("key '" + key + "' is '" + v + "'; it must be one of " + list);
  };
  one_of("task.name", c.task.name,
         {"index_lookup", "dyck", "equality", "disjointness", "retrieval", "conditional", "khop"});
  one_of("task.supervision", c.task.supervision, {"final", "curriculum", "curriculum_prefix"});
  one_of("task.encoding", c.task.encoding, {"pairs", "fused"});
  one_of("task.query", c.task.query, {"top", "mixed"});
  need(c.task.query == "top" || c.task.name == "retrieval", "key 'task.query' = \"" + c.task.query +
       "\" needs task.name = \"retrieval\"");
  need(c.task.encoding == "pairs" || c.task.name == "retrieval", "key 'task.encoding' = \"" + c.task.encoding +
       "\" needs task.name = \"retrieval\"");
  task_spec_check(c, p);
  one_of("task.labels", c.task.labels, {"last", "prefix"});
  need(c.task.labels == "last" || c.task.name == "dyck", "key 'task.labels' = \"prefix\" needs task.name = \"dyck\"");
  need(c.task.n >= 1, "key 'task.n' must be >= 1");
  if (c.task.name == "dyck") need(c.task.n >= 2 && c.task.n % 2 == 0, "key 'task.n' must be even and >= 2 for dyck");
  need(c.task.alphabet >= 2, "key 'task.alphabet' must be >= 2");
  need(c.task.k >= 1 && c.task.m >= 1, "keys 'task.k' and 'task.m' must be >= 1");
  need(c.task.train_size >= 0, "key 'task.train_size' must be >= 0 (0 = fresh samples every step)");
  one_of("model.type", c.model.type, {"transformer", "lstm", "gru", "rnn", "lru"});
  need(c.model.n_layers >= 1, "key 'model.n_layers' must be >= 1");
  need(c.model.d_model >= 1, "key 'model.d_model' must be >= 1");
  need(c.model.n_heads >= 1, "key 'model.n_heads' must be >= 1");
  need(c.model.d_head >= 0 && c.model.d_mlp >= 0, "keys 'model.d_head' and 'model.d_mlp' must be >= 0 (0 = default)");
  if (c.model.type == "transformer" && c.model.d_head == 0)
    need(c.model.d_model % c.model.n_heads == 0, "key 'model.n_heads' must divide model.d_model when model.d_head = 0");
  one_of("model.normalization", c.model.normalization, {"ln", "none"});
  one_of("model.pos_embed", c.model.pos_embed, {"learned", "sinusoidal", "none"});
  one_of("model.act_fn", c.model.act_fn, {"relu", "gelu", "identity", "bilinear"});
  one_of("model.nonlinearity", c.model.nonlinearity, {"tanh", "relu"});
  one_of("model.readout", c.model.readout, {"last", "per_position"});
  need(c.model.d_hidden >= 1, "key 'model.d_hidden' must be >= 1");
  need(c.model.init_std > 0, "key 'model.init_std' must be > 0");
  if (c.model.type != "transformer" && c.task.labels == "prefix")
    need(c.model.readout == "per_position", "task.labels = \"prefix\" needs model.readout = \"per_position\" for RNNs");
  one_of("optim.name", c.optim.name, {"adamw", "sgd"});
  need(c.optim.lr > 0, "key 'optim.lr' must be > 0");
  need(c.optim.weight_decay >= 0 && c.optim.clip >= 0 && c.optim.momentum >= 0 && c.optim.eps > 0,
       "keys 'optim.weight_decay', 'optim.clip', 'optim.momentum' must be >= 0 and 'optim.eps' > 0");
  need(c.optim.beta1 >= 0 && c.optim.beta1 < 1 && c.optim.beta2 >= 0 && c.optim.beta2 < 1,
       "keys 'optim.beta1' and 'optim.beta2' must be in [0, 1)");
  need(c.schedule.warmup >= 0, "key 'schedule.warmup' must be >= 0");
  one_of("schedule.decay", c.schedule.decay, {"cosine", "linear", "constant"});
  need(c.schedule.min_lr_ratio >= 0 && c.schedule.min_lr_ratio <= 1, "key 'schedule.min_lr_ratio' must be in [0, 1]");
  need(c.train.steps >= 1 && c.train.batch >= 1, "keys 'train.steps' and 'train.batch' must be >= 1");
  one_of("train.dtype", c.train.dtype, {"f32", "f64"});
  need(c.train.log_every >= 1 && c.train.eval_every >= 1 && c.train.checkpoint_every >= 1,
       "keys 'train.log_every', 'train.eval_every', 'train.checkpoint_every' must be >= 1");
  need(c.train.keep_checkpoints >= 2, "key 'train.keep_checkpoints' must be >= 2 (a corrupt newest one needs a fallback)");
  need(c.train.snapshot_every >= 0 && c.train.probe_size >= 1,
       "key 'train.snapshot_every' must be >= 0 and 'train.probe_size' >= 1");
  need(c.eval.size >= 1, "key 'eval.size' must be >= 1");
  for (auto n : c.eval.lengths) {
    need(n >= 1, "key 'eval.lengths' holds " + std::to_string(n) + "; lengths must be >= 1");
    if (c.task.name == "dyck") need(n % 2 == 0, "key 'eval.lengths' holds " + std::to_string(n) + "; dyck lengths are even");
  }
  if (p.empty()) return;
  std::string msg = origin + ": invalid training config";
  for (const auto& s : p) msg += "\n  - " + s;
  throw Error(msg, kHintKeys);
}

std::vector<int64_t> train_eval_lengths(const TrainConfig& cfg) {
  return cfg.eval.lengths.empty() ? std::vector<int64_t>{cfg.task.n} : cfg.eval.lengths;
}

}  // namespace attnlab
