#include "tasks/nearest_neighbour.h"

#include <cmath>
#include <limits>

#include "util/error.h"

namespace attnlab {

void nearest_neighbour_validate(const NearestNeighbourSpec& s) {
  check(s.k >= 1 && s.k <= (1 << 20), "nearest neighbour: k = " + std::to_string(s.k) + " points (must be 1..2^20)",
        "pass --k between 1 and 1048576");
  check(s.d >= 1 && s.d <= 4096, "nearest neighbour: d = " + std::to_string(s.d) + " (must be 1..4096)",
        "pass --d between 1 and 4096");
  check(s.classes >= 2 && s.classes <= 4096, "nearest neighbour: " + std::to_string(s.classes) +
        " classes (must be 2..4096)", "pass --classes between 2 and 4096");
  check(s.margin > 0 && s.margin <= 1, "nearest neighbour: margin " + std::to_string(s.margin) +
        " (must be in (0, 1])", "pass --margin in (0, 1]");
}

std::vector<std::string> nearest_neighbour_vocab_out(const NearestNeighbourSpec& s) {
  nearest_neighbour_validate(s);
  std::vector<std::string> v;
  for (int64_t c = 0; c < s.classes; ++c) v.push_back("L" + std::to_string(c));
  return v;
}

std::vector<std::string> nearest_neighbour_vocab(const NearestNeighbourSpec& s) {
  std::vector<std::string> v = {"x", "?"};
  for (auto& l : nearest_neighbour_vocab_out(s)) v.push_back(l);
  return v;
}

// Inner products <q, x_j> for j = 0..k-1.
static std::vector<double> inner_products(const NearestNeighbourSpec& s, const TaskExample& e) {
  check(static_cast<int64_t>(e.numbers.size()) == (2 * s.k + 1) * s.d, "nearest neighbour: example has " +
        std::to_string(e.numbers.size()) + " numbers", "an example has (2k + 1) * d numbers");
  const double* q = e.numbers.data() + 2 * s.k * s.d;
  std::vector<double> out(s.k, 0.0);
  for (int64_t j = 0; j < s.k; ++j)
    for (int64_t i = 0; i < s.d; ++i) out[j] += q[i] * e.numbers[2 * j * s.d + i];
  return out;
}

int64_t nearest_neighbour_label(const NearestNeighbourSpec& s, const TaskExample& e) {
  auto ip = inner_products(s, e);
  int64_t best = 0;
  for (int64_t j = 1; j < s.k; ++j)
    if (ip[j] > ip[best]) best = j;
  return e.tokens[2 * best + 1] - 2;
}

double nearest_neighbour_margin(const NearestNeighbourSpec& s, const TaskExample& e) {
  auto ip = inner_products(s, e);
  double first = -INFINITY, second = -INFINITY;
  for (double v : ip) {
    if (v > first) {
      second = first;
      first = v;
    } else if (v > second) {
      second = v;
    }
  }
  return s.k == 1 ? std::numeric_limits<double>::infinity() : first - second;
}

static void unit_vector(TaskRng& rng, double* out, int64_t d, const double* around, double noise) {
  double norm = 0;
  for (int64_t i = 0; i < d; ++i) {
    out[i] = (around ? around[i] : 0.0) + noise * rng_normal(rng);
    norm += out[i] * out[i];
  }
  norm = std::sqrt(norm);
  if (norm == 0) {
    out[0] = 1, norm = 1;
  }
  for (int64_t i = 0; i < d; ++i) out[i] /= norm;
}

TaskBatch nearest_neighbour_sample(const NearestNeighbourSpec& s, int64_t count, uint64_t seed) {
  TaskBatch b;
  b.vocab = nearest_neighbour_vocab(s);
  b.vocab_out = nearest_neighbour_vocab_out(s);
  b.num_width = static_cast<int>(s.d);
  TaskRng rng(seed);
  for (int64_t n = 0; n < count; ++n) {
    TaskExample e;
    e.numbers.assign((2 * s.k + 1) * s.d, 0.0);
    for (int64_t tries = 0;; ++tries) {
      check(tries < 10000, "nearest neighbour: no instance with margin " + std::to_string(s.margin) +
            " found in 10000 tries (k = " + std::to_string(s.k) + ", d = " + std::to_string(s.d) + ")",
            "lower --margin or k, or raise d");
      e.tokens.clear();
      for (int64_t j = 0; j < s.k; ++j) {
        unit_vector(rng, e.numbers.data() + 2 * j * s.d, s.d, nullptr, 1.0);
        e.tokens.push_back(0);
        e.tokens.push_back(2 + static_cast<int64_t>(rng_below(rng, s.classes)));
      }
      e.tokens.push_back(1);
      int64_t near = static_cast<int64_t>(rng_below(rng, s.k));
      unit_vector(rng, e.numbers.data() + 2 * s.k * s.d, s.d, e.numbers.data() + 2 * near * s.d, 0.3);
      if (nearest_neighbour_margin(s, e) >= s.margin) break;
    }
    e.target = nearest_neighbour_label(s, e);
    b.examples.push_back(std::move(e));
  }
  return b;
}

}  // namespace attnlab
