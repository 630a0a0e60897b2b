#include "tasks/string_pair.h"

#include "util/error.h"

namespace attnlab {

std::string pair_task_name(PairTask task) { return task == PairTask::Equality ? "equality" : "disjointness"; }

void string_pair_validate(int64_t n) {
  check(n >= 1, "string pair: N = " + std::to_string(n) + " (must be >= 1)", "pass --N 1 or more");
  check(n <= (int64_t{1} << 24), "string pair: N = " + std::to_string(n) + " is above 2^24", "use N <= 16777216");
}

std::vector<std::string> string_pair_vocab() { return {"0", "1", "|"}; }
std::vector<std::string> string_pair_vocab_out() { return {"no", "yes"}; }

bool string_pair_label(PairTask task, const std::vector<int64_t>& x, const std::vector<int64_t>& y) {
  check(x.size() == y.size(), "string pair: |x| = " + std::to_string(x.size()) + " but |y| = " +
        std::to_string(y.size()), "give x and y the same length");
  for (size_t i = 0; i < x.size(); ++i) {
    if (task == PairTask::Equality && x[i] != y[i]) return false;
    if (task == PairTask::Disjointness && x[i] == 1 && y[i] == 1) return false;
  }
  return true;
}

TaskExample string_pair_example(PairTask task, const std::vector<int64_t>& x, const std::vector<int64_t>& y) {
  TaskExample e;
  for (int64_t b : x) {
    check(b == 0 || b == 1, "string pair: bit " + std::to_string(b), "x and y are bit strings");
    e.tokens.push_back(b);
  }
  e.tokens.push_back(2);
  for (int64_t b : y) {
    check(b == 0 || b == 1, "string pair: bit " + std::to_string(b), "x and y are bit strings");
    e.tokens.push_back(b);
  }
  e.target = string_pair_label(task, x, y) ? 1 : 0;
  return e;
}

TaskBatch string_pair_sample(PairTask task, int64_t n, int64_t count, uint64_t seed) {
  string_pair_validate(n);
  TaskBatch b;
  b.vocab = string_pair_vocab();
  b.vocab_out = string_pair_vocab_out();
  TaskRng rng(seed);
  std::vector<int64_t> x(n), y(n);
  for (int64_t i = 0; i < count; ++i) {
    const bool positive = i % 2 == 0;
    if (task == PairTask::Equality) {
      for (auto& v : x) v = static_cast<int64_t>(rng_below(rng, 2));
      y = x;
      if (!positive) y[rng_below(rng, n)] ^= 1;
    } else {
      for (int64_t j = 0; j < n; ++j) {  // (x_j, y_j) uniform over (0,0), (1,0), (0,1)
        uint64_t c = rng_below(rng, 3);
        x[j] = c == 1;
        y[j] = c == 2;
      }
      if (!positive) {
        int64_t j = static_cast<int64_t>(rng_below(rng, n));
        x[j] = y[j] = 1;
      }
    }
    b.examples.push_back(string_pair_example(task, x, y));
  }
  return b;
}

TaskBatch string_pair_enumerate(PairTask task, int64_t n, int64_t limit) {
  string_pair_validate(n);
  check(2 * n < 62 && (int64_t{1} << (2 * n)) <= limit, "string pair: enumerating N = " + std::to_string(n) +
        " gives 4^N pairs", "enumerate only N with 4^N <= " + std::to_string(limit));
  TaskBatch b;
  b.vocab = string_pair_vocab();
  b.vocab_out = string_pair_vocab_out();
  std::vector<int64_t> x(n), y(n);
  for (int64_t code = 0; code < (int64_t{1} << (2 * n)); ++code) {
    for (int64_t j = 0; j < n; ++j) {
      x[j] = (code >> j) & 1;
      y[j] = (code >> (n + j)) & 1;
    }
    b.examples.push_back(string_pair_example(task, x, y));
  }
  return b;
}

}  // namespace attnlab
