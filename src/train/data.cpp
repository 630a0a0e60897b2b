// Task examples -> tensors, and the seeded data stream (fresh samples, or a fixed set reshuffled per epoch).
#include "train/data.h"

#include <sstream>

#include "tasks/dyck.h"
#include "tasks/index_lookup.h"
#include "tasks/khop.h"
#include "tasks/retrieval.h"
#include "tasks/string_pair.h"
#include "util/error.h"

namespace attnlab {

uint64_t seed_mix(uint64_t a, uint64_t b) {
  auto splitmix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  return splitmix(a ^ splitmix(b));
}

RetrievalSpec task_retrieval_spec(const TaskConfig& t, int64_t n) {
  return {n, t.chains, t.chain_len, t.assignments, t.variables, t.values, t.shuffle, t.encoding == "fused",
          t.query == "mixed"};
}

namespace {

// The chain tasks (retrieval, conditional, khop) at length parameter n (D, D, k).
bool chain_task(const TaskConfig& t) { return t.name == "retrieval" || t.name == "conditional" || t.name == "khop"; }

ConditionalSpec conditional_spec(const TaskConfig& t, int64_t n) {
  return {n, t.distractors, t.classes, t.relations, t.variables, t.values, t.shuffle};
}
KhopSpec khop_spec(const TaskConfig& t, int64_t n, int64_t max_k = 0) { return {n, t.length, t.alphabet, max_k, t.mix}; }

// Per-position targets (-1 = not scored) of one example, from its tokens.
// curriculum: every variable position (the whole input determines it: bidirectional models);
// curriculum_prefix: only where the prefix determines it (causal models). khop: the same for both.
std::vector<int64_t> chain_targets(const TaskConfig& t, int64_t n, const std::vector<int64_t>& tokens) {
  const bool prefix = t.supervision == "curriculum_prefix";
  if (t.name == "retrieval") return retrieval_targets(task_retrieval_spec(t, n), tokens, prefix);
  if (t.name == "conditional") return conditional_targets(conditional_spec(t, n), tokens, prefix);
  return khop_targets(khop_spec(t, n, n), tokens);
}

// final: the answer at the last position (last_only); curriculum: every position with a target.
TrainBatch chain_batch(const TaskConfig& task, const TaskBatch& ex, const std::vector<int64_t>& index, int64_t n) {
  const int64_t B = static_cast<int64_t>(index.size()), T = task_seq_len(task, n);
  TrainBatch b;
  b.n = n;
  b.last_only = task.supervision == "final";
  b.tokens = torch::empty({B, T}, torch::kInt64);
  b.targets = torch::zeros({B, T}, torch::kInt64);
  b.mask = torch::zeros({B, T}, torch::kFloat64);
  auto tok = b.tokens.accessor<int64_t, 2>(), tgt = b.targets.accessor<int64_t, 2>();
  auto msk = b.mask.accessor<double, 2>();
  for (int64_t i = 0; i < B; ++i) {
    const TaskExample& e = ex.examples.at(index[i]);
    check(static_cast<int64_t>(e.tokens.size()) == T, "internal: task example has length " +
          std::to_string(e.tokens.size()) + ", expected " + std::to_string(T), "report this as a bug");
    for (int64_t t = 0; t < T; ++t) tok[i][t] = e.tokens[t];
    if (b.last_only) {
      check(e.target >= 0, "internal: a final-answer example without an answer", "report this as a bug");
      tgt[i][T - 1] = e.target;
      msk[i][T - 1] = 1.0;
      continue;
    }
    std::vector<int64_t> y = chain_targets(task, n, e.tokens);
    for (int64_t t = 0; t < T; ++t)
      if (y[t] >= 0) tgt[i][t] = y[t], msk[i][t] = 1.0;
  }
  return b;
}

}  // namespace

void task_spec_validate(const TaskConfig& task, int64_t n) {
  if (task.name == "retrieval") retrieval_validate(task_retrieval_spec(task, n));
  if (task.name == "conditional") conditional_validate(conditional_spec(task, n));
  if (task.name == "khop") khop_validate(khop_spec(task, n));
}

std::vector<std::string> task_vocab(const TaskConfig& task, int64_t max_n) {
  if (task.name == "retrieval") return retrieval_vocab(task_retrieval_spec(task, max_n));
  if (task.name == "conditional") return conditional_vocab(conditional_spec(task, max_n));
  if (task.name == "khop") return khop_vocab(khop_spec(task, max_n, max_n));
  if (task.name == "index_lookup") return index_lookup_vocab({max_n, task.alphabet});
  if (task.name == "dyck") return dyck_vocab({task.k, task.m});
  return string_pair_vocab();
}

std::vector<std::string> task_vocab_out(const TaskConfig& task) {
  if (task.name == "retrieval") return retrieval_vocab_out(task_retrieval_spec(task, task.n));
  if (task.name == "conditional") return conditional_vocab_out(conditional_spec(task, task.n));
  if (task.name == "khop") return khop_vocab_out(khop_spec(task, task.n));
  if (task.name == "index_lookup") return index_lookup_vocab_out({task.n, task.alphabet});
  if (task.name == "dyck") return dyck_vocab_out();
  return string_pair_vocab_out();
}

int64_t task_seq_len(const TaskConfig& task, int64_t n) {
  if (task.name == "retrieval") return retrieval_seq_len(task_retrieval_spec(task, n));
  if (task.name == "conditional") return conditional_seq_len(conditional_spec(task, n));
  if (task.name == "khop") return task.length + 1;
  if (task.name == "index_lookup") return n + 1;
  if (task.name == "dyck") return n;
  return 2 * n + 1;
}

TaskBatch task_examples(const TaskConfig& task, int64_t n, int64_t count, uint64_t seed) {
  if (task.name == "retrieval") return retrieval_sample(task_retrieval_spec(task, n), count, seed);
  if (task.name == "conditional") return conditional_sample(conditional_spec(task, n), count, seed);
  if (task.name == "khop") return khop_sample(khop_spec(task, n), count, seed, task.supervision == "final");
  if (task.name == "index_lookup") return index_lookup_sample({n, task.alphabet}, count, seed);
  if (task.name == "dyck") return dyck_sample({task.k, task.m}, n, count, seed);
  if (task.name == "equality") return string_pair_sample(PairTask::Equality, n, count, seed);
  if (task.name == "disjointness") return string_pair_sample(PairTask::Disjointness, n, count, seed);
  throw Error("unknown task '" + task.name + "'",
              "task.name is one of index_lookup | dyck | equality | disjointness | retrieval | conditional | khop");
}

TrainBatch batch_from_examples(const TaskConfig& task, const TaskBatch& ex, const std::vector<int64_t>& index,
                               int64_t n) {
  if (chain_task(task)) return chain_batch(task, ex, index, n);
  const int64_t B = static_cast<int64_t>(index.size()), T = task_seq_len(task, n);
  TrainBatch b;
  b.n = n;
  b.tokens = torch::empty({B, T}, torch::kInt64);
  b.targets = torch::zeros({B, T}, torch::kInt64);
  b.mask = torch::zeros({B, T}, torch::kFloat64);
  auto tok = b.tokens.accessor<int64_t, 2>(), tgt = b.targets.accessor<int64_t, 2>();
  auto msk = b.mask.accessor<double, 2>();
  const bool prefix = task.labels == "prefix";
  b.last_only = !prefix;
  DyckSpec dyck{task.k, task.m};
  for (int64_t i = 0; i < B; ++i) {
    const TaskExample& e = ex.examples.at(index[i]);
    check(static_cast<int64_t>(e.tokens.size()) == T, "internal: task example has length " +
          std::to_string(e.tokens.size()) + ", expected " + std::to_string(T), "report this as a bug");
    for (int64_t t = 0; t < T; ++t) tok[i][t] = e.tokens[t];
    if (!prefix) {
      tgt[i][T - 1] = e.target;
      msk[i][T - 1] = 1.0;
      continue;
    }
    std::vector<int64_t> pre;
    for (int64_t t = 0; t < T; ++t) {  // Dyck membership of every prefix
      pre.push_back(e.tokens[t]);
      tgt[i][t] = dyck_member(dyck, pre) ? 1 : 0;
      msk[i][t] = 1.0;
    }
  }
  return b;
}

DataStream::DataStream(const TaskConfig& task, int64_t batch, uint64_t seed)
    : task_(task), batch_(batch), rng_(seed_mix(seed, 0xda7a)) {
  if (task_.train_size > 0) fixed_ = task_examples(task_, task_.n, task_.train_size, seed_mix(seed, 0x7a1e));
}

TrainBatch DataStream::next() {
  ++drawn_;
  if (task_.train_size == 0) {
    TaskBatch ex = task_examples(task_, task_.n, batch_, rng_());
    std::vector<int64_t> index(batch_);
    for (int64_t i = 0; i < batch_; ++i) index[i] = i;
    return batch_from_examples(task_, ex, index, task_.n);
  }
  std::vector<int64_t> index;
  const int64_t S = task_.train_size;
  while (static_cast<int64_t>(index.size()) < batch_) {
    if (perm_.empty() || pos_ == S) {  // a new epoch: Fisher-Yates with the stream's rng
      perm_.resize(S);
      for (int64_t i = 0; i < S; ++i) perm_[i] = i;
      for (int64_t i = S - 1; i > 0; --i) std::swap(perm_[i], perm_[rng_below(rng_, i + 1)]);
      if (pos_ == S) ++epoch_;
      pos_ = 0;
    }
    index.push_back(perm_[pos_++]);
  }
  return batch_from_examples(task_, fixed_, index, task_.n);
}

nlohmann::json DataStream::state() const {
  std::ostringstream rng;
  rng << rng_;
  return {{"rng", rng.str()}, {"batches_drawn", drawn_}, {"epoch", epoch_}, {"position", pos_},
          {"permutation", perm_}, {"train_size", task_.train_size}};
}

void DataStream::state_load(const nlohmann::json& s) {
  try {
    check(s.at("train_size").get<int64_t>() == task_.train_size, "data-stream state is for another training set size",
          "the checkpoint does not belong to this config");
    std::istringstream rng(s.at("rng").get<std::string>());
    rng >> rng_;
    check(!rng.fail(), "data-stream state has a malformed RNG state", "the checkpoint is damaged");
    drawn_ = s.at("batches_drawn").get<int64_t>();
    epoch_ = s.at("epoch").get<int64_t>();
    pos_ = s.at("position").get<int64_t>();
    perm_ = s.at("permutation").get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error("data-stream state is malformed: " + std::string(e.what()), "the checkpoint is damaged");
  }
  check(perm_.empty() || (static_cast<int64_t>(perm_.size()) == task_.train_size && pos_ <= task_.train_size),
        "data-stream state has a permutation of the wrong size", "the checkpoint is damaged");
}

}  // namespace attnlab
