#include "tasks/dyck.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace attnlab {

void dyck_validate(const DyckSpec& spec) {
  check(spec.k >= 1 && spec.k <= 64, "Dyck: k = " + std::to_string(spec.k) + " bracket types (must be 1..64)",
        "pass --k between 1 and 64");
  check(spec.m >= 1 && spec.m <= 64, "Dyck: m = " + std::to_string(spec.m) + " (the depth bound must be 1..64)",
        "pass --m between 1 and 64");
}

std::vector<std::string> dyck_vocab(const DyckSpec& spec) {
  dyck_validate(spec);
  static const char* small[] = {"(", ")", "[", "]", "{", "}", "<", ">"};
  std::vector<std::string> v;
  for (int64_t j = 0; j < spec.k; ++j) {
    if (spec.k <= 4) {
      v.push_back(small[2 * j]);
      v.push_back(small[2 * j + 1]);
    } else {
      v.push_back("(" + std::to_string(j));
      v.push_back(")" + std::to_string(j));
    }
  }
  return v;
}

std::vector<std::string> dyck_vocab_out() { return {"no", "yes"}; }

bool dyck_member(const DyckSpec& spec, const std::vector<int64_t>& ids) {
  std::vector<int64_t> stack;
  for (int64_t id : ids) {
    if (id < 0 || id >= 2 * spec.k) return false;
    if (id % 2 == 0) {
      if (static_cast<int64_t>(stack.size()) == spec.m) return false;
      stack.push_back(id / 2);
    } else {
      if (stack.empty() || stack.back() != id / 2) return false;
      stack.pop_back();
    }
  }
  return stack.empty();
}

int64_t dyck_depth(const std::vector<int64_t>& ids) {
  int64_t d = 0, best = 0;
  for (int64_t id : ids) {
    d += id % 2 == 0 ? 1 : -1;
    best = std::max(best, d);
  }
  return best;
}

// A balanced string of length n with depth <= m (types uniform); when `reach` is set the walk is forced to
// reach depth m somewhere (n >= 2m required).
static std::vector<int64_t> balanced_walk(int64_t k, int64_t m, int64_t n, bool reach, TaskRng& rng) {
  std::vector<int64_t> out, stack;
  bool reached = !reach;
  const int64_t peak_at = reach ? static_cast<int64_t>(rng_below(rng, static_cast<uint64_t>(n - 2 * m + 1))) : 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = static_cast<int64_t>(stack.size()), left = n - i;
    bool can_open = d < m && d + 1 <= left - 1, can_close = d > 0;
    bool open = can_open && (!can_close || rng_below(rng, 2) == 0);
    if (!reached && i >= peak_at) open = can_open;  // climb straight to depth m once past peak_at
    if (open) {
      stack.push_back(static_cast<int64_t>(rng_below(rng, static_cast<uint64_t>(k))));
      out.push_back(2 * stack.back());
      if (static_cast<int64_t>(stack.size()) == m) reached = true;
    } else {
      out.push_back(2 * stack.back() + 1);
      stack.pop_back();
    }
  }
  return out;
}

std::vector<int64_t> dyck_sample_member(const DyckSpec& spec, int64_t n, TaskRng& rng) {
  dyck_validate(spec);
  check(n >= 2 && n % 2 == 0, "Dyck: member length " + std::to_string(n) + " (must be even and >= 2)",
        "members of a Dyck language have even length");
  return balanced_walk(spec.k, spec.m, n, false, rng);
}

// One near-miss non-member of length n; kind 0: one bracket changed, 1: one level too deep, 2: unbalanced.
static std::vector<int64_t> near_miss(const DyckSpec& spec, int64_t n, int kind, TaskRng& rng) {
  if (kind == 1 && n >= 2 * (spec.m + 1)) return balanced_walk(spec.k, spec.m + 1, n, true, rng);
  std::vector<int64_t> s = balanced_walk(spec.k, spec.m, n, false, rng);
  if (kind == 2) {  // turn one close into an open of the same type: the count no longer balances
    std::vector<int64_t> closes;
    for (int64_t i = 0; i < n; ++i)
      if (s[i] % 2 == 1) closes.push_back(i);
    s[closes[rng_below(rng, closes.size())]] -= 1;
  } else {  // change one bracket into a different one
    int64_t i = static_cast<int64_t>(rng_below(rng, static_cast<uint64_t>(n)));
    s[i] = (s[i] + 1 + static_cast<int64_t>(rng_below(rng, static_cast<uint64_t>(2 * spec.k - 1)))) % (2 * spec.k);
  }
  return s;
}

TaskBatch dyck_sample(const DyckSpec& spec, int64_t n, int64_t count, uint64_t seed) {
  dyck_validate(spec);
  check(n >= 2 && n % 2 == 0, "Dyck: length " + std::to_string(n) + " (must be even and >= 2)",
        "odd strings are never balanced; sample an even length");
  TaskBatch b;
  b.vocab = dyck_vocab(spec);
  b.vocab_out = dyck_vocab_out();
  TaskRng rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    TaskExample e;
    if (i % 2 == 0) {
      e.tokens = balanced_walk(spec.k, spec.m, n, false, rng);
    } else {
      int kind = static_cast<int>((i / 2) % 3);
      do e.tokens = near_miss(spec, n, kind, rng);
      while (dyck_member(spec, e.tokens));
    }
    e.target = dyck_member(spec, e.tokens) ? 1 : 0;
    b.examples.push_back(std::move(e));
  }
  return b;
}

TaskBatch dyck_enumerate(const DyckSpec& spec, int64_t max_len, int64_t limit) {
  dyck_validate(spec);
  check(max_len >= 1, "Dyck: enumeration length " + std::to_string(max_len) + " (must be >= 1)",
        "enumerate lengths 1 or more");
  double total = 0;
  for (int64_t L = 1; L <= max_len; ++L) total += std::pow(2.0 * spec.k, static_cast<double>(L));
  check(total <= static_cast<double>(limit), "Dyck: enumerating up to length " + std::to_string(max_len) +
        " gives " + std::to_string(total) + " strings", "lower the length (at most " + std::to_string(limit) +
        " strings)");
  TaskBatch b;
  b.vocab = dyck_vocab(spec);
  b.vocab_out = dyck_vocab_out();
  for (int64_t L = 1; L <= max_len; ++L) {
    std::vector<int64_t> s(L, 0);
    while (true) {
      b.examples.push_back({s, {}, dyck_member(spec, s) ? 1 : 0});
      int64_t i = 0;
      while (i < L && ++s[i] == 2 * spec.k) s[i++] = 0;
      if (i == L) break;
    }
  }
  return b;
}

}  // namespace attnlab
