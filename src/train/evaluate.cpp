#include "train/evaluate.h"

#include <algorithm>

#include "train/loss.h"

namespace attnlab {

namespace {

// Held-out batches score what the run is compared on: retrieval and conditional the final answer under either
// supervision (so "exact" is the answer accuracy at D = n, comparable between final and curriculum runs; the query
// at the top of the chain also when training mixes query depths); khop
// its own positions, at exactly k = n hops (no mixture).
TaskConfig eval_task(const TaskConfig& task) {
  TaskConfig t = task;
  if (t.name == "retrieval" || t.name == "conditional") t.supervision = "final";
  t.query = "top";  // retrieval: the answer to the D-step question, also for runs trained on mixed query depths
  t.mix = false;
  return t;
}

// Definitions the value at position t takes (0: no variable there): the depth of the statement that defines the
// position's variable (pairs: the lhs itself, a rhs variable's definition, the query's; fused: the statement
// itself, the query's definition).
int64_t definition_steps(const RetrievalInstance& m, int64_t t) {
  const int64_t T = static_cast<int64_t>(m.tokens.size());
  if (m.fused) return t == T - 1 ? m.depth_of[m.def_pos[t]] : m.depth_of[t];
  return m.def_pos[t] >= 0 ? m.depth_of[m.def_pos[t]] : 0;
}

}  // namespace

TaskBatch eval_examples(const TrainConfig& cfg, int64_t n, int64_t count) {
  return task_examples(eval_task(cfg.task), n, count, seed_mix(seed_mix(static_cast<uint64_t>(cfg.seed), 0xe7a1), n));
}

std::vector<EvalResult> evaluate(const SequenceModel& model, const TrainConfig& cfg, int64_t batch) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  auto param = model->parameters().front();
  std::vector<EvalResult> out;
  for (int64_t n : train_eval_lengths(cfg)) {
    TaskBatch ex = eval_examples(cfg, n, cfg.eval.size);
    AccuracyCounts acc;
    double loss_sum = 0;
    const bool steps = cfg.task.name == "retrieval" && n == cfg.task.n;
    const RetrievalSpec spec = task_retrieval_spec(cfg.task, n);
    std::vector<int64_t> right(n + 1, 0), total(n + 1, 0);
    for (int64_t begin = 0; begin < cfg.eval.size; begin += batch) {
      const int64_t count = std::min(batch, cfg.eval.size - begin);
      std::vector<int64_t> index(count);
      for (int64_t i = 0; i < count; ++i) index[i] = begin + i;
      TrainBatch b = batch_from_examples(eval_task(cfg.task), ex, index, n);
      ModelInput in{b.tokens.to(param.device()), {}};
      auto logits = model->forward(in);
      loss_sum += loss_cross_entropy(logits, b).item<double>() * count;
      acc.add(accuracy_count(logits, b));
      if (!steps || logits.size(1) != b.tokens.size(1)) continue;  // (RNN last-position readouts: no positions)
      auto pred = logits.argmax(-1).cpu();
      auto p = pred.accessor<int64_t, 2>();
      for (int64_t i = 0; i < count; ++i) {
        const RetrievalInstance m = retrieval_metadata(spec, ex.examples[index[i]].tokens);
        for (int64_t t = 0; t < static_cast<int64_t>(m.tokens.size()); ++t) {
          const int64_t d = definition_steps(m, t);
          if (d < 1 || d > n) continue;
          ++total[d];
          right[d] += p[i][t] == m.value_of[t];
        }
      }
    }
    out.push_back({n, cfg.eval.size, loss_sum / cfg.eval.size, acc.token_acc(), acc.exact_match()});
    for (int64_t d = 1; d <= n && total[1] > 0; ++d)
      out.back().by_steps.push_back(total[d] ? static_cast<double>(right[d]) / static_cast<double>(total[d]) : 0.0);
  }
  model->train(was_training);
  return out;
}

nlohmann::json eval_to_json(const std::vector<EvalResult>& results) {
  auto j = nlohmann::json::array();
  for (const auto& r : results) {
    j.push_back({{"n", r.n}, {"count", r.count}, {"loss", r.loss}, {"token_acc", r.token_acc}, {"exact", r.exact}});
    if (!r.by_steps.empty()) j.back()["by_steps"] = r.by_steps;
  }
  return j;
}

}  // namespace attnlab
