#include "train/evaluate.h"

#include <algorithm>

#include "train/loss.h"

namespace attnlab {

namespace {

// Held-out batches score what the run is compared on: retrieval and conditional the final answer under either
// supervision (so "exact" is the answer accuracy at D = n, comparable between final and curriculum runs); khop
// its own positions, at exactly k = n hops (no mixture).
TaskConfig eval_task(const TaskConfig& task) {
  TaskConfig t = task;
  if (t.name == "retrieval" || t.name == "conditional") t.supervision = "final";
  t.mix = false;
  return t;
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
    for (int64_t begin = 0; begin < cfg.eval.size; begin += batch) {
      const int64_t count = std::min(batch, cfg.eval.size - begin);
      std::vector<int64_t> index(count);
      for (int64_t i = 0; i < count; ++i) index[i] = begin + i;
      TrainBatch b = batch_from_examples(eval_task(cfg.task), ex, index, n);
      ModelInput in{b.tokens.to(param.device()), {}};
      auto logits = model->forward(in);
      loss_sum += loss_cross_entropy(logits, b).item<double>() * count;
      acc.add(accuracy_count(logits, b));
    }
    out.push_back({n, cfg.eval.size, loss_sum / cfg.eval.size, acc.token_acc(), acc.exact_match()});
  }
  model->train(was_training);
  return out;
}

nlohmann::json eval_to_json(const std::vector<EvalResult>& results) {
  auto j = nlohmann::json::array();
  for (const auto& r : results)
    j.push_back({{"n", r.n}, {"count", r.count}, {"loss", r.loss}, {"token_acc", r.token_acc}, {"exact", r.exact}});
  return j;
}

}  // namespace attnlab
