#include "tasks/task.h"

#include <cmath>
#include <cstring>

#include "util/error.h"

namespace attnlab {

uint64_t rng_below(TaskRng& rng, uint64_t n) {
  check(n >= 1, "rng_below: empty range", "this is a bug in a task generator");
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // accept x < limit: every residue equally often
  uint64_t x = rng();
  while (x >= limit) x = rng();
  return x % n;
}

double rng_unit(TaskRng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double rng_normal(TaskRng& rng) {
  double u = rng_unit(rng), v = rng_unit(rng);
  return std::sqrt(-2.0 * std::log(1.0 - u)) * std::cos(2.0 * M_PI * v);
}

double exact_match(const std::vector<int64_t>& predicted, const TaskBatch& batch) {
  check(!batch.examples.empty(), "exact_match: empty batch", "sample at least one example");
  check(predicted.size() == batch.examples.size(),
        "exact_match: " + std::to_string(predicted.size()) + " predictions for " +
            std::to_string(batch.examples.size()) + " examples",
        "pass one prediction per example");
  size_t hits = 0;
  for (size_t i = 0; i < predicted.size(); ++i) hits += predicted[i] == batch.examples[i].target;
  return static_cast<double>(hits) / static_cast<double>(predicted.size());
}

int64_t vocab_id(const std::vector<std::string>& vocab, const std::string& token) {
  for (size_t i = 0; i < vocab.size(); ++i)
    if (vocab[i] == token) return static_cast<int64_t>(i);
  throw Error("token '" + token + "' is not in the vocabulary", "use one of the task's vocabulary tokens");
}

std::string task_batch_bytes(const TaskBatch& batch) {
  std::string out;
  auto put = [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
  for (const auto& e : batch.examples) {
    put(e.tokens.data(), e.tokens.size() * sizeof(int64_t));
    put(e.numbers.data(), e.numbers.size() * sizeof(double));
    put(&e.target, sizeof(e.target));
  }
  return out;
}

}  // namespace attnlab
