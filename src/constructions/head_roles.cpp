// Head-role classifier, emergence order and the hop-chain view (head_roles.h). The targets of every role are
// computed once per probe row from the instance metadata; each head's score is then one pass over its rows.
#include "constructions/head_roles.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "model/weights.h"
#include "report/html.h"
#include "train/config.h"
#include "train/data.h"
#include "train/snapshot.h"
#include "util/safetensors.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

// Chain elements of one instance: positions by (chain, element) and the element of every reader position.
struct ChainIndex {
  std::map<int64_t, std::vector<int64_t>> pos;  // chain -> [element] = position (-1 where absent)
  std::vector<int64_t> elem;                    // [T] element of a reader position, -1 elsewhere
};

ChainIndex chain_index(const RetrievalInstance& r) {
  const int64_t T = static_cast<int64_t>(r.tokens.size());
  check(T >= 4 && r.chain_of.size() == r.tokens.size() && r.depth_of.size() == r.tokens.size(),
        "head roles: probe instance without metadata (" + std::to_string(T) + " tokens)",
        "pass instances made by retrieval_instance()");
  ChainIndex ci;
  ci.elem.assign(T, -1);
  auto put = [&](int64_t c, int64_t e, int64_t p) {
    auto& v = ci.pos[c];
    if (static_cast<int64_t>(v.size()) <= e) v.resize(e + 1, -1);
    v[e] = p, ci.elem[p] = e;
  };
  if (r.fused)  // every statement is a reader (its element = its depth)
    for (int64_t p = 0; p < T - 1; ++p) put(r.chain_of[p], r.depth_of[p], p);
  else
    for (int64_t p = 1; p < T - 2; p += 2) put(r.chain_of[p], r.depth_of[p], p);
  // the query is element d + 1 of the main chain for a query at depth d; below the top (query_mixed) that
  // element is a statement's, which keeps its place
  const int64_t qe = r.depth_of[T - 1] + 1;
  if (static_cast<int64_t>(ci.pos[0].size()) <= qe) put(0, qe, T - 1);
  else ci.elem[T - 1] = qe;
  return ci;
}

// Role ids, in a fixed order of first appearance.
struct RoleTable {
  std::map<std::string, int> id;
  std::vector<std::string> name;
  int get(const std::string& n) {
    auto [it, added] = id.emplace(n, static_cast<int>(name.size()));
    if (added) name.push_back(n);
    return it->second;
  }
};

// Roles scored on the query row alone carry this prefix ("query definition").
const std::string kQueryRole = "query ";

// (role, target) for every role whose target exists at reader row i; "first" is pattern position 0 (-offset).
std::vector<std::pair<int, int64_t>> row_targets(const RetrievalInstance& r, const ChainIndex& ci, int64_t i,
                                                 int64_t offset, RoleTable& roles) {
  const int64_t T = static_cast<int64_t>(r.tokens.size()), e = ci.elem[i];
  const int64_t c = i == T - 1 ? 0 : r.chain_of[i];
  const auto& chain = ci.pos.at(c);
  // Fused: no "?" token, and element e - h is itself the statement that defines the variable h links up (its
  // lhs), so the hops back are named definition / def-back h (hop-back h would have the same targets).
  std::vector<std::pair<int, int64_t>> out = {{roles.get("self"), i}};
  if (i > 0) out.emplace_back(roles.get("previous-token"), i - 1);
  if (!r.fused) out.emplace_back(roles.get("separator"), T - 2);
  out.emplace_back(roles.get("first"), -offset);
  if (e > 1 && chain[1] >= 0) out.emplace_back(roles.get("value"), chain[1]);
  for (int64_t h = 1; h < e; ++h) {
    if (chain[e - h] < 0) continue;
    if (!r.fused) out.emplace_back(roles.get("hop-back " + std::to_string(h)), chain[e - h]);
    out.emplace_back(roles.get(h == 1 ? "definition" : "def-back " + std::to_string(h)),
                     chain[e - h] - (r.fused ? 0 : 1));
  }
  for (int64_t h = 1; e + h < static_cast<int64_t>(chain.size()); ++h)
    if (chain[e + h] >= 0) out.emplace_back(roles.get("hop-forward " + std::to_string(h)), chain[e + h]);
  if (i == T - 1) {  // the query row again, on its own: "query <role>" (the second tier of the classifier)
    const size_t general = out.size();
    for (size_t k = 0; k < general; ++k) out.emplace_back(roles.get(kQueryRole + roles.name[out[k].first]), out[k].second);
  }
  return out;
}

}  // namespace

nlohmann::json HeadRole::to_json() const {
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [n, s] : scores)
    if (n != "uniform") ranked.emplace_back(s, n);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  nlohmann::json top = nlohmann::json::object();
  for (size_t k = 0; k < std::min<size_t>(3, ranked.size()); ++k) top[ranked[k].second] = ranked[k].first;
  return {{"layer", layer}, {"head", head}, {"role", role}, {"score", score}, {"top", top},
          {"uniform", scores.count("uniform") ? scores.at("uniform") : 0.0}};
}

std::vector<RetrievalInstance> head_roles_probes(const RetrievalSpec& spec, const HeadRoleOptions& opt) {
  check(opt.probes >= 1, "head roles: " + std::to_string(opt.probes) + " probes (must be >= 1)",
        "pass 1 or more probe instances");
  TaskRng rng(opt.seed);
  std::vector<RetrievalInstance> out;
  for (int64_t i = 0; i < opt.probes; ++i) out.push_back(retrieval_instance(spec, rng));
  return out;
}

std::vector<torch::Tensor> head_roles_patterns(const SequenceModel& model, const std::vector<RetrievalInstance>& inst,
                                               int64_t* offset) {
  const auto& cfg = model->config();
  check(cfg.is_transformer(), "head roles: the model is a " + model_type_name(cfg.model_type) + ", not a transformer",
        "classify the heads of a transformer model directory");
  check(!inst.empty(), "head roles: no probe instances", "pass 1 or more probes");
  const int64_t off = cfg.bos.empty() ? 0 : 1, T = static_cast<int64_t>(inst[0].tokens.size());
  std::vector<int64_t> flat;
  for (const auto& r : inst) {
    check(static_cast<int64_t>(r.tokens.size()) == T, "head roles: probes of different lengths",
          "draw every probe from one spec");
    if (off) flat.push_back(vocab_id(cfg.vocab, cfg.bos));
    flat.insert(flat.end(), r.tokens.begin(), r.tokens.end());
  }
  ModelInput in{torch::tensor(flat, torch::kInt64).view({static_cast<int64_t>(inst.size()), T + off}), {}};
  model_input_check(cfg, in);
  Hooks hooks;
  hooks.cache_add("blocks.*.attn.hook_pattern");
  torch::NoGradGuard no_grad;
  model->forward(in, &hooks);
  std::vector<torch::Tensor> out;
  for (int l = 0; l < cfg.n_layers; ++l)
    out.push_back(hooks.cached("blocks." + std::to_string(l) + ".attn.hook_pattern").to(torch::kFloat64).contiguous());
  if (offset) *offset = off;
  return out;
}

std::vector<HeadRole> head_roles_from_patterns(const std::vector<torch::Tensor>& patterns,
                                               const std::vector<RetrievalInstance>& probes, int64_t offset,
                                               bool causal, const HeadRoleOptions& opt) {
  check(!patterns.empty() && !probes.empty(), "head roles: no patterns or no probes", "pass both");
  const int64_t B = static_cast<int64_t>(probes.size()), T = static_cast<int64_t>(probes[0].tokens.size());
  RoleTable roles;
  std::vector<std::vector<std::pair<int64_t, std::vector<std::pair<int, int64_t>>>>> rows(B);  // (row, targets)
  for (int64_t b = 0; b < B; ++b) {
    ChainIndex ci = chain_index(probes[b]);
    for (int64_t i = 0; i < T; ++i)
      if (ci.elem[i] >= 0) rows[b].emplace_back(i, row_targets(probes[b], ci, i, offset, roles));
  }
  std::vector<HeadRole> out;
  for (size_t l = 0; l < patterns.size(); ++l) {
    const auto& pat = patterns[l];
    check(pat.dim() == 4 && pat.size(0) == B && pat.size(2) == T + offset && pat.size(3) == T + offset,
          "head roles: layer " + std::to_string(l) + " pattern has shape " + std::to_string(pat.dim()) +
              "-d, expected [" + std::to_string(B) + ", H, " + std::to_string(T + offset) + ", same]",
          "pass blocks.{l}.attn.hook_pattern of the probes");
    auto P = pat.to(torch::kFloat64).contiguous();
    auto a = P.accessor<double, 4>();
    for (int64_t h = 0; h < P.size(1); ++h) {
      std::vector<double> sum(roles.name.size(), 0.0);
      std::vector<int64_t> cnt(roles.name.size(), 0);
      double entropy = 0;
      int64_t n_rows = 0;
      for (int64_t b = 0; b < B; ++b)
        for (const auto& [i, targets] : rows[b]) {
          const int64_t q = i + offset, keys = causal ? q + 1 : T + offset;
          for (const auto& [role, t] : targets) sum[role] += a[b][h][q][t + offset], ++cnt[role];
          if (keys < 2) continue;
          double H = 0;
          for (int64_t k = 0; k < keys; ++k) H -= a[b][h][q][k] > 0 ? a[b][h][q][k] * std::log(a[b][h][q][k]) : 0.0;
          entropy += H / std::log(static_cast<double>(keys)), ++n_rows;
        }
      HeadRole hr;
      hr.layer = static_cast<int>(l), hr.head = static_cast<int>(h);
      std::string best, best_query;  // over all reader rows; over the query rows only (second tier)
      for (size_t r = 0; r < roles.name.size(); ++r) {
        if (cnt[r] < opt.min_support) continue;
        double s = sum[r] / static_cast<double>(cnt[r]);
        hr.scores[roles.name[r]] = s;
        std::string& b = roles.name[r].rfind(kQueryRole, 0) == 0 ? best_query : best;
        if (b.empty() || s > hr.scores[b]) b = roles.name[r];
      }
      const double uniform = n_rows ? entropy / static_cast<double>(n_rows) : 0.0;
      hr.scores["uniform"] = uniform;
      if (!best.empty() && hr.scores[best] >= opt.threshold) hr.role = best, hr.score = hr.scores[best];
      else if (!best_query.empty() && hr.scores[best_query] >= opt.threshold)
        hr.role = best_query, hr.score = hr.scores[best_query];
      else if (uniform >= opt.uniform_entropy) hr.role = "uniform", hr.score = uniform;
      else hr.role = "other", hr.score = best.empty() ? 0.0 : hr.scores[best];
      out.push_back(hr);
    }
  }
  return out;
}

std::vector<HeadRole> head_roles_classify(const SequenceModel& model, const RetrievalSpec& spec,
                                          const HeadRoleOptions& opt) {
  auto probes = head_roles_probes(spec, opt);
  int64_t offset = 0;
  auto patterns = head_roles_patterns(model, probes, &offset);
  return head_roles_from_patterns(patterns, probes, offset, model->config().causal, opt);
}

std::vector<HeadEmergence> head_roles_emergence(const std::vector<std::pair<int64_t, std::vector<HeadRole>>>& history,
                                                double threshold) {
  check(!history.empty(), "head roles: empty checkpoint history", "classify at least one checkpoint");
  std::vector<HeadEmergence> out;
  for (const auto& last : history.back().second) {
    HeadEmergence e{last.layer, last.head, last.role, -1};
    if (last.role != "uniform" && last.role != "other")
      for (const auto& [step, roles] : history) {
        auto it = std::find_if(roles.begin(), roles.end(),
                               [&](const HeadRole& r) { return r.layer == e.layer && r.head == e.head; });
        if (it == roles.end()) continue;
        auto s = it->scores.find(e.role);
        if (s != it->scores.end() && s->second >= threshold) {
          e.step = step;
          break;
        }
      }
    out.push_back(e);
  }
  std::stable_sort(out.begin(), out.end(), [](const HeadEmergence& a, const HeadEmergence& b) {
    if ((a.step < 0) != (b.step < 0)) return b.step < 0;
    if (a.step != b.step) return a.step < b.step;
    return a.layer != b.layer ? a.layer < b.layer : a.head < b.head;
  });
  return out;
}

// ---- Emergence over a training run ----------------------------------------------------------------------

namespace {

// Probes rebuilt from a snapshot's "tokens" metadata; Error naming the file and probe.
std::vector<RetrievalInstance> snapshot_probes(const SafetensorsFile& sf, const RetrievalSpec& spec,
                                               const std::string& path) {
  auto it = sf.metadata.find("tokens");
  check(it != sf.metadata.end(), path + ": no \"tokens\" metadata", "pass snapshots written by attnlab train");
  auto j = nlohmann::json::parse(it->second, nullptr, false);
  check(j.is_array() && !j.empty(), path + ": \"tokens\" metadata is not a JSON list of probes",
        "pass snapshots written by attnlab train");
  std::vector<RetrievalInstance> probes;
  for (size_t b = 0; b < j.size(); ++b) {
    check(j[b].is_array() && std::all_of(j[b].begin(), j[b].end(), [](const auto& x) { return x.is_string(); }),
          path + ": probe " + std::to_string(b) + " is not a list of token strings", "pass snapshots written by attnlab train");
    try {
      probes.push_back(retrieval_metadata(spec, j[b].get<std::vector<std::string>>()));
    } catch (const Error& e) {
      throw Error(path + ": probe " + std::to_string(b) + ": " + e.message(),
                  "the run's config.resolved.toml (task.*) must describe the probes: is this the run's own snapshots/ folder?");
    }
  }
  return probes;
}

std::string shape_text(const torch::Tensor& t) {
  std::string out = "[";
  for (int64_t d = 0; d < t.dim(); ++d) out += (d ? ", " : "") + std::to_string(t.size(d));
  return out + "]";
}

// Per layer [P, H, T', T'] float64 patterns, in layer order; Error on a missing layer or a bad shape.
std::vector<torch::Tensor> snapshot_patterns(const SafetensorsFile& sf, int64_t P, int64_t T, const std::string& path) {
  std::vector<torch::Tensor> out;
  for (int l = 0;; ++l) {
    const TensorData* td = sf.find("blocks." + std::to_string(l) + ".attn.hook_pattern");
    if (!td) break;
    torch::Tensor t = tensor_from_data(*td).to(torch::kFloat64);
    check(t.dim() == 4 && t.size(0) == P && t.size(2) == t.size(3) && (t.size(2) == T || t.size(2) == T + 1),
          path + ": blocks." + std::to_string(l) + ".attn.hook_pattern has shape " + shape_text(t) + ", expected [" +
              std::to_string(P) + ", H, T', T'] with T' = " + std::to_string(T) + " or " + std::to_string(T + 1),
          "pass snapshots written by attnlab train for this run");
    out.push_back(t);
  }
  check(!out.empty(), path + ": no blocks.0.attn.hook_pattern tensor", "pass snapshots written by attnlab train");
  return out;
}

// eval length -> first step whose "exact" >= level, from metrics.jsonl (absent file: empty).
// Per eval length, and per definition count d of the by_steps entries at D = depth: the first eval step >= level.
std::map<int64_t, int64_t> accuracy_steps(const std::string& run_dir, double level, int64_t depth,
                                          std::map<int64_t, int64_t>* by_steps) {
  std::map<int64_t, int64_t> out;
  if (!std::filesystem::exists(run_dir + "/metrics.jsonl")) return out;
  std::istringstream lines(file_read_text(run_dir + "/metrics.jsonl"));
  std::string line;
  while (std::getline(lines, line)) {
    auto r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object() || r.value("kind", "") != "eval" || !r.contains("results")) continue;
    for (const auto& e : r["results"]) {
      if (!e.contains("n") || !e.contains("exact")) continue;
      auto [it, added] = out.emplace(e["n"].get<int64_t>(), -1);
      if (it->second < 0 && e["exact"].get<double>() >= level) it->second = r.value("step", int64_t{-1});
      if (e["n"].get<int64_t>() != depth || !e.contains("by_steps") || !e["by_steps"].is_array()) continue;
      for (size_t d = 0; d < e["by_steps"].size(); ++d) {
        auto [jt, first] = by_steps->emplace(static_cast<int64_t>(d) + 1, -1);
        if (jt->second < 0 && e["by_steps"][d].is_number() && e["by_steps"][d].get<double>() >= level)
          jt->second = r.value("step", int64_t{-1});
      }
    }
  }
  return out;
}

}  // namespace

RunEmergence head_roles_run(const std::string& run_dir, const HeadRoleOptions& opt) {
  const std::string cfg_path = run_dir + "/config.resolved.toml";
  check(std::filesystem::is_directory(run_dir), "emergence: no run directory " + run_dir,
        "pass the --out directory of an attnlab train run");
  check(std::filesystem::exists(cfg_path), "emergence: " + run_dir + " has no config.resolved.toml: not a training run",
        "pass the --out directory of an attnlab train run");
  TrainConfig cfg = train_config_read(cfg_path);
  check(cfg.task.name == "retrieval", "emergence: " + run_dir + " is a '" + cfg.task.name + "' run, not retrieval",
        "the head roles are defined for task.name = \"retrieval\" (src/constructions/head_roles.h)");
  RunEmergence run;
  run.run_dir = run_dir, run.seed = static_cast<int64_t>(cfg.seed);
  run.spec = task_retrieval_spec(cfg.task, cfg.task.n);
  auto files = snapshot_list(run_dir);
  check(!files.empty(), "emergence: " + run_dir + " has no attention snapshots (snapshots/step_*.safetensors)",
        "train with train.snapshot_every > 0 (e.g. train.snapshot_every=250) and a transformer model");
  std::string last_tokens;
  std::vector<RetrievalInstance> probes;
  for (const auto& [step, path] : files) {
    SafetensorsFile sf = safetensors_read(path);
    auto tok = sf.metadata.find("tokens");
    if (probes.empty() || tok == sf.metadata.end() || tok->second != last_tokens) {
      probes = snapshot_probes(sf, run.spec, path);
      last_tokens = tok->second;
    }
    const int64_t T = static_cast<int64_t>(probes[0].tokens.size());
    auto patterns = snapshot_patterns(sf, static_cast<int64_t>(probes.size()), T, path);
    run.history.emplace_back(step, head_roles_from_patterns(patterns, probes, patterns[0].size(2) - T,
                                                            cfg.model.causal, opt));
  }
  run.emergence = head_roles_emergence(run.history, opt.threshold);
  run.accuracy_step = accuracy_steps(run_dir, run.accuracy_level, run.spec.depth, &run.steps_accuracy_step);
  return run;
}

std::vector<std::vector<double>> head_roles_timeline(const RunEmergence& run, std::vector<std::string>* role_of) {
  std::vector<std::vector<double>> out;
  if (role_of) role_of->clear();
  for (const auto& e : run.emergence) {
    auto find = [&](const std::vector<HeadRole>& roles) -> const HeadRole& {
      for (const auto& r : roles)
        if (r.layer == e.layer && r.head == e.head) return r;
      throw Error("emergence: head L" + std::to_string(e.layer) + "H" + std::to_string(e.head) +
                  " missing from a snapshot", "every snapshot of a run must have the same layers and heads");
    };
    std::string role = e.role;
    if (role == "other") {  // the best-scoring real role at the last snapshot
      double best = -1;
      for (const auto& [n, v] : find(run.history.back().second).scores)
        if (n != "uniform" && v > best) best = v, role = n;
    }
    std::vector<double> series;
    for (const auto& [step, roles] : run.history) {
      const auto& sc = find(roles).scores;
      auto it = sc.find(role);
      series.push_back(it == sc.end() ? 0.0 : it->second);
    }
    out.push_back(series);
    if (role_of) role_of->push_back(role);
  }
  return out;
}

std::vector<std::vector<std::string>> head_roles_order_key(const RunEmergence& run) {
  std::vector<std::vector<std::string>> out;
  int64_t prev = -2;
  for (const auto& e : run.emergence) {
    if (e.step < 0) continue;
    if (e.step != prev) out.emplace_back(), prev = e.step;
    out.back().push_back("L" + std::to_string(e.layer) + " " + e.role);
  }
  for (auto& g : out) std::sort(g.begin(), g.end());
  return out;
}

std::vector<std::pair<int, int64_t>> head_roles_layer_stages(const RunEmergence& run) {
  std::map<int, int64_t> first;  // layer -> earliest emergence step of its heads
  for (const auto& e : run.emergence)
    if (e.step >= 0 && (!first.count(e.layer) || e.step < first[e.layer])) first[e.layer] = e.step;
  std::vector<std::pair<int, int64_t>> out(first.begin(), first.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return out;
}

bool head_roles_layer_orders_consistent(const std::vector<RunEmergence>& runs) {
  std::map<std::pair<int, int>, int> seen;  // (layer a < layer b) -> sign of step(a) - step(b) in the first run with both
  for (const auto& run : runs) {
    const auto stages = head_roles_layer_stages(run);
    for (const auto& [a, sa] : stages)
      for (const auto& [b, sb] : stages) {
        if (a >= b) continue;
        const int sign = (sa > sb) - (sa < sb);
        auto [it, added] = seen.emplace(std::make_pair(a, b), sign);
        if (!added && it->second != sign) return false;
      }
  }
  return true;
}

std::string head_roles_layer_order_text(const RunEmergence& run, bool steps) {
  std::string out;
  int64_t prev = -2;
  for (const auto& [layer, step] : head_roles_layer_stages(run)) {
    if (!out.empty()) out += step == prev ? " = " : " < ";
    out += "L" + std::to_string(layer) + (steps ? "@" + std::to_string(step) : "");
    prev = step;
  }
  return out.empty() ? "(no head reached its role)" : out;
}

std::string head_roles_order_text(const RunEmergence& run) {
  std::string out;
  int64_t prev = -2;
  for (const auto& e : run.emergence) {
    if (e.step < 0) continue;
    if (!out.empty()) out += e.step == prev ? " = " : " < ";
    out += "L" + std::to_string(e.layer) + "H" + std::to_string(e.head) + " " + e.role + "@" + std::to_string(e.step);
    prev = e.step;
  }
  return out.empty() ? "(no head reached its role)" : out;
}

nlohmann::json head_roles_runs_json(const std::vector<RunEmergence>& runs, double threshold) {
  nlohmann::json j = {{"threshold", threshold}, {"runs", nlohmann::json::array()}};
  bool same = true, same_layers = true;
  for (const auto& run : runs) {
    std::vector<std::string> role_of;
    auto timeline = head_roles_timeline(run, &role_of);
    nlohmann::json r = {{"run", run.run_dir}, {"seed", run.seed}, {"D", run.spec.depth},
                        {"order", head_roles_order_text(run)}, {"heads", nlohmann::json::array()},
                        {"steps", nlohmann::json::array()}, {"accuracy_level", run.accuracy_level},
                        {"accuracy_step", nlohmann::json::object()}};
    for (const auto& [step, roles] : run.history) r["steps"].push_back(step);
    for (size_t i = 0; i < run.emergence.size(); ++i) {
      const auto& e = run.emergence[i];
      const auto& last = run.history.back().second;
      auto it = std::find_if(last.begin(), last.end(), [&](const HeadRole& h) { return h.layer == e.layer && h.head == e.head; });
      r["heads"].push_back({{"layer", e.layer}, {"head", e.head}, {"role", e.role}, {"score", it->score},
                            {"step", e.step}, {"timeline_role", role_of[i]}, {"timeline", timeline[i]},
                            {"final", it->to_json()}});
    }
    for (const auto& [D, step] : run.accuracy_step) r["accuracy_step"][std::to_string(D)] = step;
    r["steps_accuracy_step"] = nlohmann::json::object();
    for (const auto& [d, step] : run.steps_accuracy_step) r["steps_accuracy_step"][std::to_string(d)] = step;
    r["layer_order"] = head_roles_layer_order_text(run, true);
    same = same && head_roles_order_key(run) == head_roles_order_key(runs.front());
    same_layers = same_layers && head_roles_layer_order_text(run, false) == head_roles_layer_order_text(runs.front(), false);
    j["runs"].push_back(r);
  }
  j["same_order"] = same;
  j["same_layer_order"] = same_layers;
  j["consistent_layer_order"] = head_roles_layer_orders_consistent(runs);
  return j;
}

HopTrace hop_trace(const SequenceModel& model, const RetrievalSpec& spec, const RetrievalInstance& inst) {
  HopTrace tr;
  tr.inst = inst;
  const auto vocab = retrieval_vocab(spec);
  for (int64_t id : inst.tokens) tr.tokens.push_back(vocab.at(id));
  tr.text = retrieval_text(spec, inst);
  int64_t off = 0;
  auto patterns = head_roles_patterns(model, {inst}, &off);
  tr.n_layers = static_cast<int>(patterns.size());
  tr.n_heads = static_cast<int>(patterns[0].size(1));
  ChainIndex ci = chain_index(inst);
  const int64_t T = static_cast<int64_t>(inst.tokens.size());
  for (int l = 0; l < tr.n_layers; ++l)
    for (int h = 0; h < tr.n_heads; ++h)
      for (int64_t i = 0; i < T; ++i) {
        if (ci.elem[i] < 0 || (i != T - 1 && inst.chain_of[i] != 0)) continue;
        auto row = patterns[l][0][h][i + off].slice(0, off);
        const int64_t src = row.argmax().item<int64_t>();
        tr.reads.push_back({l, h, i, src, row[src].item<double>()});
      }
  return tr;
}

namespace {

const char* const kHeadColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

// Where a source position sits in the view: the row of a main-chain element (dashed when it is that
// statement's lhs), the "?" row, or "elsewhere" (other chains and their lhs).
struct SourceRow {
  int64_t row;  // element 1..D+1, 0 = "?", -1 = elsewhere
  bool lhs;
  std::string label;
};

SourceRow source_row(const HopTrace& tr, const ChainIndex& ci, int64_t src) {
  const int64_t T = static_cast<int64_t>(tr.tokens.size());
  const std::string tok = " (" + tr.tokens[src] + ")";
  if (src == T - 2 && !tr.inst.fused) return {0, false, "t=" + std::to_string(src) + " ?"};
  const bool main_elem = ci.elem[src] >= 0 && (src == T - 1 || tr.inst.chain_of[src] == 0);
  if (main_elem) return {ci.elem[src], false, "e" + std::to_string(ci.elem[src]) + " t=" + std::to_string(src) + tok};
  if (!tr.inst.fused && src + 1 < T - 2 && src % 2 == 0 && tr.inst.chain_of[src + 1] == 0)
    return {ci.elem[src + 1], true, "lhs of e" + std::to_string(ci.elem[src + 1]) + " t=" + std::to_string(src) + tok};
  return {-1, false, "t=" + std::to_string(src) + tok + " chain " + std::to_string(tr.inst.chain_of[src])};
}

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

}  // namespace

std::string hop_view_html(const HopTrace& tr, const std::vector<HeadRole>& roles, const std::string& title) {
  ChainIndex ci = chain_index(tr.inst);
  const int64_t T = static_cast<int64_t>(tr.tokens.size()), top = ci.elem[T - 1];  // D + 1
  const double dx = 170, dy = 18, x0 = 190, y0 = 40;
  auto y_of = [&](int64_t row) { return y0 + dy * static_cast<double>(row >= 1 ? top - row : row == 0 ? top : top + 1); };
  const double width = x0 + dx * tr.n_layers + 60, height = y_of(-1) + 40;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", width) + "\" height=\"" +
                    fmt("%.0f", height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  for (int l = 0; l <= tr.n_layers; ++l)
    svg += "<text x=\"" + fmt("%.1f", x0 + dx * l) + "\" y=\"20\" text-anchor=\"middle\">" +
           (l == 0 ? std::string("embed") : "after L" + std::to_string(l - 1)) + "</text>\n";
  for (int64_t row = -1; row <= top; ++row) {
    std::string label = row == -1 ? "elsewhere" : row == 0 ? "? (t=" + std::to_string(T - 2) + ")" : "";
    if (row >= 1) {
      const int64_t p = ci.pos.at(0)[row];
      label = (row == top ? "query e" : "e") + std::to_string(row) + " t=" + std::to_string(p) + " " + tr.tokens[p];
    }
    svg += "<text x=\"8\" y=\"" + fmt("%.1f", y_of(row) + 4) + "\">" + html_escape(label) + "</text>\n";
    for (int l = 0; l <= tr.n_layers; ++l)
      svg += "<circle cx=\"" + fmt("%.1f", x0 + dx * l) + "\" cy=\"" + fmt("%.1f", y_of(row)) + "\" r=\"2.5\" fill=\"#888\"/>\n";
  }
  // The query's information tree: (layer, row) nodes the final query node depends on, through the residual
  // (same row) and through reads of weight >= 0.25; its edges are drawn bold, the others faint.
  std::set<std::pair<int, int64_t>> reach = {{tr.n_layers, top}};
  std::set<const HopRead*> bold;
  for (int l = tr.n_layers - 1; l >= 0; --l)
    for (const auto& r : tr.reads)
      if (r.layer == l && r.weight >= 0.25 && reach.count({l + 1, ci.elem[r.reader]})) {
        reach.insert({l, ci.elem[r.reader]}), reach.insert({l, source_row(tr, ci, r.source).row});
        bold.insert(&r);
      }
  for (const auto& r : tr.reads) {
    if (r.weight < 0.25) continue;
    SourceRow s = source_row(tr, ci, r.source);
    const double shift = 3.0 * r.head;
    const bool on_tree = bold.count(&r) > 0;
    svg += "<line x1=\"" + fmt("%.1f", x0 + dx * r.layer) + "\" y1=\"" + fmt("%.1f", y_of(s.row) + shift) + "\" x2=\"" +
           fmt("%.1f", x0 + dx * (r.layer + 1)) + "\" y2=\"" + fmt("%.1f", y_of(ci.elem[r.reader]) + shift) +
           "\" stroke=\"" + kHeadColours[r.head % 6] + "\" stroke-opacity=\"" + fmt("%.2f", r.weight * (on_tree ? 1 : 0.3)) +
           "\" stroke-width=\"" + (on_tree ? "3" : "1") + "\"" + (s.lhs ? " stroke-dasharray=\"4 2\"" : "") + "><title>" +
           html_escape("L" + std::to_string(r.layer) + " H" + std::to_string(r.head) + ": e" +
                       std::to_string(ci.elem[r.reader]) + " reads " + s.label + ", weight " + fmt("%.4f", r.weight)) +
           "</title></line>\n";
  }
  for (int h = 0; h < tr.n_heads; ++h)
    svg += "<text x=\"" + fmt("%.1f", x0 + 60.0 * h) + "\" y=\"" + fmt("%.1f", height - 12) + "\" fill=\"" +
           kHeadColours[h % 6] + "\">head " + std::to_string(h) + "</text>\n";
  svg += "</svg>\n";
  std::string table = "<table><tr><th>layer</th><th>head</th><th>role (score)</th><th>the query reads</th></tr>\n";
  for (const auto& r : tr.reads) {
    if (r.reader != T - 1) continue;
    std::string role = "?";
    for (const auto& hr : roles)
      if (hr.layer == r.layer && hr.head == r.head) role = hr.role + " (" + fmt("%.3f", hr.score) + ")";
    table += "<tr><td>L" + std::to_string(r.layer) + "</td><td style=\"color:" + kHeadColours[r.head % 6] + "\">H" +
             std::to_string(r.head) + "</td><td>" + html_escape(role) + "</td><td>" +
             html_escape(source_row(tr, ci, r.source).label) + ", weight " + fmt("%.4f", r.weight) + "</td></tr>\n";
  }
  table += "</table>\n";
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
  out += "<title>" + html_escape(title) + "</title>\n<style>body{font-family:sans-serif;margin:1.5em}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
         "code{white-space:pre-wrap}</style>\n</head>\n<body>\n<h1>" + html_escape(title) + "</h1>\n";
  out += "<p>Probe: <code>" + html_escape(tr.text) + "</code> &rarr; answer index " + std::to_string(tr.inst.answer) +
         ". Rows: elements of the main chain (e1 holds the value, the query is e" + std::to_string(top) + "); "
         "columns: the residual stream after each layer. A line from row s (column l) to row r (column l+1) means "
         "that in layer l the head's attention at element r peaks on s (opacity = weight, dashed = the lhs of that "
         "statement; hover for details). Bold: the reads the query's final state depends on. Colours are heads.</p>\n";
  out += svg + "<h2>Heads and what the query reads</h2>\n" + table + "</body>\n</html>\n";
  return out;
}

void hop_view_write(const std::string& path, const HopTrace& trace, const std::vector<HeadRole>& roles,
                    const std::string& title) {
  file_write_atomic(path, hop_view_html(trace, roles, title));
}

}  // namespace attnlab
