// Held-out evaluation per length: fresh examples from a seed disjoint from the training stream's, at the
// training length and at longer ones (length generalisation), scored by mean loss, per-token accuracy and
// exact match (every scored position right). With last-position labels the two accuracies coincide.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"
#include "train/config.h"
#include "train/data.h"

namespace attnlab {

struct EvalResult {
  int64_t n = 0;         // task length parameter
  int64_t count = 0;     // examples
  double loss = 0;
  double token_acc = 0;
  double exact = 0;
  // Retrieval at n = task.n: accuracy at every variable position (fused: every statement) and the query whose
  // value takes d definitions to reach, d = 1..D (index d - 1): the implicit curriculum's depths, held out.
  std::vector<double> by_steps;
};

// The held-out examples at length n (the same for every step and every resume of a run).
TaskBatch eval_examples(const TrainConfig& cfg, int64_t n, int64_t count);
std::vector<EvalResult> evaluate(const SequenceModel& model, const TrainConfig& cfg, int64_t batch = 256);
nlohmann::json eval_to_json(const std::vector<EvalResult>& results);  // [{n, count, loss, token_acc, exact, by_steps?}]

}  // namespace attnlab
