// Training configuration: one plain struct per TOML section, read from a TOML file plus `key.sub=value`
// command-line overrides, and written back as config.resolved.toml. Every key is declared once in a field
// table (config.cpp), so unknown keys and type mismatches are errors that name the key, and the resolved file
// lists every field with its value. docs/training.md documents each key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab {

struct TaskConfig {
  std::string name = "index_lookup";  // index_lookup | dyck | equality | disjointness | retrieval | conditional | khop
  int64_t n = 8;                      // length parameter: N (index lookup, equality/disjointness), Dyck length,
                                      // D (retrieval, conditional: retrieval steps), k (khop: hops)
  int64_t alphabet = 4;               // index lookup: |Σ|
  int64_t k = 2;                      // dyck: bracket types
  int64_t m = 2;                      // dyck: maximal depth
  std::string labels = "last";        // last (one target per example) | prefix (dyck: membership of every prefix)
  int64_t train_size = 0;             // 0: fresh samples every step; > 0: a fixed training set of that size
  // retrieval / conditional / khop (src/tasks/retrieval.h, khop.h; docs/retrieval.md)
  std::string supervision = "final";  // final: the answer only (khop: the last position) | curriculum: every
                                      // variable position with its value (bidirectional models; khop: every
                                      // position whose k-hop exists) | curriculum_prefix: only where the prefix
                                      // determines the value (causal models)
  int64_t chains = 2;                 // retrieval: distractor chains
  int64_t chain_len = 0;              // retrieval: distractor chain length; 0 = D
  int64_t assignments = 0;            // retrieval: single distractor assignments "X = value"
  int64_t variables = 26;             // retrieval: K variables; conditional: people
  int64_t values = 10;                // retrieval: W values; conditional: places
  bool shuffle = true;                // retrieval, conditional: shuffle the statement order
  std::string query = "top";          // retrieval: top (the query asks for the main chain's top) | mixed (a uniform
                                      // depth 1..D per training example; held-out evaluation stays at the top)
  std::string encoding = "pairs";     // retrieval: pairs (a statement = tokens "lhs rhs") | fused (one token "lhs=rhs")
  int64_t distractors = 2;            // conditional: distractor people (with their own residence)
  int64_t classes = 2;                // conditional: classes (each with a rule), 2..6
  int64_t relations = 2;              // conditional: relations, 2..6
  int64_t length = 32;                // khop: string length L (T = L + 1); task.alphabet is |Σ|
  bool mix = false;                   // khop: every training example draws its k from 1..n (evaluation: k = n)
};

struct ModelSection {
  std::string type = "transformer";   // transformer | lstm | gru | rnn | lru (diagonal linear recurrence)
  int64_t n_layers = 1;               // blocks / stacked RNN layers
  int64_t d_model = 32;               // residual width (transformer) / embedding width (RNN)
  int64_t n_heads = 1;
  int64_t d_head = 0;                 // 0: d_model / n_heads
  int64_t d_mlp = 0;                  // 0: 4 * d_model
  bool attn_only = false;
  std::string normalization = "ln";   // ln | none
  std::string pos_embed = "learned";  // learned | sinusoidal | none
  std::string act_fn = "relu";        // relu | gelu | identity | bilinear
  bool causal = false;
  int64_t d_hidden = 64;              // RNN hidden size
  std::string nonlinearity = "tanh";  // Elman RNN: tanh | relu
  std::string readout = "last";       // RNN: last | per_position
  double init_std = 0.02;             // transformer weights ~ N(0, init_std^2); RNNs use U(-1/sqrt(Hd), 1/sqrt(Hd))
};

struct OptimConfig {
  std::string name = "adamw";  // adamw | sgd
  double lr = 1e-3;
  double weight_decay = 0.0;   // decoupled (AdamW); L2 added to the gradient for SGD
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double momentum = 0.0;       // SGD
  double clip = 1.0;           // global gradient-norm clip; 0 = off
};

struct ScheduleConfig {
  int64_t warmup = 0;          // linear warm-up steps from 0 to optim.lr
  std::string decay = "cosine";  // cosine | linear | constant (after warm-up, down to min_lr_ratio * lr)
  double min_lr_ratio = 0.0;
};

struct TrainSection {
  int64_t steps = 1000;
  int64_t batch = 32;
  std::string dtype = "f32";       // f32 | f64
  std::string device = "cpu";      // cpu | cuda | cuda:N
  int64_t log_every = 10;          // metrics.jsonl + progress line
  int64_t eval_every = 100;        // held-out evaluation (and at the last step)
  int64_t checkpoint_every = 100;  // and at the last step
  int64_t keep_checkpoints = 2;    // newest checkpoints kept (>= 2, so a corrupt newest has a fallback)
  int64_t snapshot_every = 100;    // attention snapshots of the probe batch; 0 = off
  int64_t probe_size = 4;          // probe batch examples
};

struct EvalConfig {
  std::vector<int64_t> lengths;    // task length parameters to evaluate; empty: [task.n]
  int64_t size = 256;              // held-out examples per length
};

struct TrainConfig {
  int64_t seed = 0;                // model initialisation and the data stream
  TaskConfig task;
  ModelSection model;
  OptimConfig optim;
  ScheduleConfig schedule;
  TrainSection train;
  EvalConfig eval;
};

// Parses TOML text then applies overrides "key.sub=value" (value in TOML syntax; bare words are strings).
// origin names the file in errors. Every unknown key, type mismatch and invalid value is reported at once.
TrainConfig train_config_parse(const std::string& toml_text, const std::string& origin,
                               const std::vector<std::string>& overrides = {});
TrainConfig train_config_read(const std::string& path, const std::vector<std::string>& overrides = {});
// Every field, by section, in TOML; train_config_parse(train_config_to_toml(c)) == c.
std::string train_config_to_toml(const TrainConfig& cfg);
// Semantic checks (ranges, enum values, task/model combinations); Error listing every problem.
void train_config_validate(const TrainConfig& cfg, const std::string& origin);
// The eval lengths actually used (eval.lengths or [task.n]).
std::vector<int64_t> train_eval_lengths(const TrainConfig& cfg);
// Every key "section.name" that a config accepts (for hints and sweeps).
std::vector<std::string> train_config_keys();

}  // namespace attnlab
