// Attention-head roles on variable-chain retrieval (Musat 2024, arXiv 2411.12118): each head's attention
// pattern (blocks.{l}.attn.hook_pattern) on probe instances is scored against targets named by the instance
// metadata (tasks/retrieval.h), and the best-scoring role names the head. Reader rows: the rhs position of every
// statement and the query. With element e = the statement's depth (the query: D + 1) in chain c:
//   self (e itself)             previous-token (t - 1: the statement's own lhs for an rhs row)
//   hop-back h / hop-forward h  the rhs (element) h links down / up the chain (hop-back 1 = previous link)
//   definition / def-back h     the lhs of element e - h (def-back 1 = definition: def_pos of the variable)
//   value                       element 1 (the rhs holding the chain's value)
//   separator                   the "?" token            first: position 0 (BOS when the model has one)
// score(role) = mean attention weight on the role's target over the rows where the target exists (needs
// min_support rows over all probes); role = argmax if >= threshold; else, second tier, the best of the same
// roles scored on the query rows alone ("query definition": a head that matters only where the answer is read)
// if >= threshold; else "uniform" (mean normalised entropy >= uniform_entropy) or "other". Fused probes
// (tasks/retrieval.h): every statement is a reader row, no separator, and the hops back are definition /
// def-back h (element e - h is the statement defining the variable h links up). head_roles_classify names a model's heads; head_roles_run
// classifies every attention snapshot of a training run (probe metadata rebuilt from the stored token strings)
// and head_roles_emergence gives the first step at which each head's final role crosses the threshold.
// Shapes: B = probes, H = heads, T = sequence length; patterns are per layer [B, H, T, T].
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"
#include "tasks/retrieval.h"

namespace attnlab {

struct HeadRoleOptions {
  int64_t probes = 32;            // probe instances (drawn from the spec)
  uint64_t seed = 1;              // seed of the probes
  double threshold = 0.5;         // a role is assigned when its score reaches this
  int64_t min_support = 8;        // rows (over all probes) a role needs to be scored
  double uniform_entropy = 0.9;   // mean normalised row entropy above which an unassigned head is "uniform"
};

struct HeadRole {
  int layer = 0, head = 0;
  std::string role;                       // argmax role, "uniform" or "other"
  double score = 0;                       // the role's score (for uniform: the normalised entropy)
  std::map<std::string, double> scores;   // every role with enough support, plus "uniform"
  nlohmann::json to_json() const;         // {layer, head, role, score, top: the 3 best roles}
};

// Probe instances (`opt.probes` of spec, seeded).
std::vector<RetrievalInstance> head_roles_probes(const RetrievalSpec& spec, const HeadRoleOptions& opt);
// Per layer [B, H, T + offset, T + offset] float64 patterns of the instances (offset = 1 with BOS prepended).
std::vector<torch::Tensor> head_roles_patterns(const SequenceModel& model, const std::vector<RetrievalInstance>& inst,
                                               int64_t* offset = nullptr);
// The classifier on given patterns (offset: pattern position = instance position + offset; causal: rows see
// only the keys up to themselves, which sets the entropy normalisation).
std::vector<HeadRole> head_roles_from_patterns(const std::vector<torch::Tensor>& patterns,
                                               const std::vector<RetrievalInstance>& probes, int64_t offset,
                                               bool causal, const HeadRoleOptions& opt);
// Probes + patterns + classifier for one model (the instances must fit its vocabulary and n_ctx).
std::vector<HeadRole> head_roles_classify(const SequenceModel& model, const RetrievalSpec& spec,
                                          const HeadRoleOptions& opt);

struct HeadEmergence {
  int layer = 0, head = 0;
  std::string role;   // the head's role at the last checkpoint
  int64_t step = -1;  // first checkpoint step whose score for that role is >= threshold; -1: uniform/other
};
// history: (step, roles) in training order. Sorted by step (never-emerged last), then layer, head.
std::vector<HeadEmergence> head_roles_emergence(const std::vector<std::pair<int64_t, std::vector<HeadRole>>>& history,
                                                double threshold);

// ---- Emergence over a training run ------------------------------------------------------------------------
// A retrieval run directory (attnlab train, task.name = "retrieval", train.snapshot_every > 0) holds
// config.resolved.toml, metrics.jsonl and snapshots/step_XXXXXXXX.safetensors (train/snapshot.h: per layer
// blocks.{l}.attn.hook_pattern [P, H, T', T'], T' = T + 1 with a BOS, and the probe's token strings). Every
// snapshot is classified with the probes' metadata rebuilt from those strings (retrieval_metadata).
struct RunEmergence {
  std::string run_dir;
  int64_t seed = 0;
  RetrievalSpec spec;                                                // task.* keys at D = task.n
  std::vector<std::pair<int64_t, std::vector<HeadRole>>> history;   // (step, roles) per snapshot, oldest first
  std::vector<HeadEmergence> emergence;                              // head_roles_emergence(history)
  std::map<int64_t, int64_t> accuracy_step;  // eval length D -> first eval step with answer accuracy
                                             // ("exact") >= accuracy_level; -1: never; empty: no eval entries
  std::map<int64_t, int64_t> steps_accuracy_step;  // d -> first eval step at which the held-out positions whose
                                                   // value takes d definitions (by_steps at D = task.n) reach
                                                   // accuracy_level; -1: never; empty: no by_steps entries
  double accuracy_level = 0.9;
};
// Error with a HINT for a missing directory or config, a task other than retrieval, no snapshots, a snapshot
// that is malformed (not safetensors, layers missing, shapes not [P, H, T', T'], token metadata no instance).
RunEmergence head_roles_run(const std::string& run_dir, const HeadRoleOptions& opt);
// Per head (in emergence order): the score of the head's final role at every snapshot (for "uniform": the
// entropy; for "other": the role that scores highest at the last snapshot). role_of gets that role.
std::vector<std::vector<double>> head_roles_timeline(const RunEmergence& run, std::vector<std::string>* role_of);
// {"runs": [{run, seed, D, heads: [{layer, head, role, score, step}], order, accuracy_step, steps_accuracy_step,
//            layer_order, steps, timeline}],
//  "same_order": bool (the (layer, role, step rank) sequences agree), "same_layer_order": bool (the layers'
//  stage orders agree), "consistent_layer_order": bool (no pair of layers in opposite orders), "threshold"}
nlohmann::json head_roles_runs_json(const std::vector<RunEmergence>& runs, double threshold);
// The order as text, "L0H1 previous-token@750 < L1H0 definition@1500 = ..." (= for a shared step).
std::string head_roles_order_text(const RunEmergence& run);
// Heads are exchangeable within a layer, so runs are compared by (layer, role) in emergence order, ties grouped.
std::vector<std::vector<std::string>> head_roles_order_key(const RunEmergence& run);
// Stages: each layer with the first step at which one of its heads reached its role, earliest first (layers
// whose heads never do are left out). Compares runs whose heads differ in number and kind but whose layers
// start working in the same order. Text: "L0@300 < L1@1400" (= for a shared step; steps = false: "L0 < L1").
std::vector<std::pair<int, int64_t>> head_roles_layer_stages(const RunEmergence& run);
std::string head_roles_layer_order_text(const RunEmergence& run, bool steps = true);
// No two runs put a pair of layers in opposite orders (ties: the same step; a pair is compared only where both
// runs have both layers): runs with fewer stages still agree with the others.
bool head_roles_layer_orders_consistent(const std::vector<RunEmergence>& runs);

// The hop chain of one probe: for each layer and head, the position each main-chain element (and the query)
// reads most (argmax of its attention row). Written as a standalone HTML page with an SVG (no scripts).
struct HopRead {
  int layer = 0, head = 0;
  int64_t reader = 0, source = 0;  // positions in the instance
  double weight = 0;               // attention weight on `source`
};
struct HopTrace {
  RetrievalInstance inst;
  std::vector<std::string> tokens;   // [T]
  std::string text;                  // retrieval_text
  int n_layers = 0, n_heads = 0;
  std::vector<HopRead> reads;        // main-chain readers only
};
HopTrace hop_trace(const SequenceModel& model, const RetrievalSpec& spec, const RetrievalInstance& inst);
std::string hop_view_html(const HopTrace& trace, const std::vector<HeadRole>& roles, const std::string& title);
void hop_view_write(const std::string& path, const HopTrace& trace, const std::vector<HeadRole>& roles,
                    const std::string& title);

}  // namespace attnlab
