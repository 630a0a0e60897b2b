#include "tasks/index_lookup.h"

#include <cmath>

#include "util/error.h"

namespace attnlab {

void index_lookup_validate(const IndexLookupSpec& spec) {
  check(spec.n >= 1, "index lookup: N = " + std::to_string(spec.n) + " (must be >= 1)", "pass --N 1 or more");
  check(spec.n <= (int64_t{1} << 26), "index lookup: N = " + std::to_string(spec.n) + " is above 2^26",
        "use N <= 67108864");
  check(spec.alphabet >= 2, "index lookup: alphabet size " + std::to_string(spec.alphabet) + " (must be >= 2)",
        "pass --alphabet 2 or more");
  check(spec.alphabet <= 4096, "index lookup: alphabet size " + std::to_string(spec.alphabet) + " is above 4096",
        "use an alphabet of at most 4096 symbols");
}

std::vector<std::string> index_lookup_vocab_out(const IndexLookupSpec& spec) {
  index_lookup_validate(spec);
  std::vector<std::string> v;
  for (int64_t a = 0; a < spec.alphabet; ++a)
    v.push_back(spec.alphabet <= 26 ? std::string(1, static_cast<char>('a' + a)) : "s" + std::to_string(a));
  return v;
}

std::vector<std::string> index_lookup_vocab(const IndexLookupSpec& spec) {
  auto v = index_lookup_vocab_out(spec);
  for (int64_t p = 0; p < spec.n; ++p) v.push_back("@" + std::to_string(p));
  return v;
}

TaskExample index_lookup_example(const IndexLookupSpec& spec, const std::vector<int64_t>& x, int64_t p) {
  check(static_cast<int64_t>(x.size()) == spec.n, "index lookup: string of length " + std::to_string(x.size()) +
        " for N = " + std::to_string(spec.n), "pass exactly N symbols");
  check(p >= 0 && p < spec.n, "index lookup: query " + std::to_string(p) + " outside 0.." +
        std::to_string(spec.n - 1), "query a position of the string");
  TaskExample e;
  e.tokens = x;
  for (int64_t s : x)
    check(s >= 0 && s < spec.alphabet, "index lookup: symbol id " + std::to_string(s) + " outside the alphabet",
          "use symbol ids 0..|alphabet|-1");
  e.tokens.push_back(spec.alphabet + p);
  e.target = x[p];
  return e;
}

TaskBatch index_lookup_sample(const IndexLookupSpec& spec, int64_t count, uint64_t seed) {
  TaskBatch b;
  b.vocab = index_lookup_vocab(spec);
  b.vocab_out = index_lookup_vocab_out(spec);
  TaskRng rng(seed);
  std::vector<int64_t> x(spec.n);
  for (int64_t i = 0; i < count; ++i) {
    for (auto& s : x) s = static_cast<int64_t>(rng_below(rng, spec.alphabet));
    b.examples.push_back(index_lookup_example(spec, x, static_cast<int64_t>(rng_below(rng, spec.n))));
  }
  return b;
}

TaskBatch index_lookup_enumerate(const IndexLookupSpec& spec, int64_t limit) {
  index_lookup_validate(spec);
  double total = std::pow(static_cast<double>(spec.alphabet), static_cast<double>(spec.n)) * spec.n;
  check(total <= static_cast<double>(limit), "index lookup: enumerating N = " + std::to_string(spec.n) +
        ", |alphabet| = " + std::to_string(spec.alphabet) + " gives " + std::to_string(total) + " examples",
        "enumerate only small cases (at most " + std::to_string(limit) + " examples), or sample");
  TaskBatch b;
  b.vocab = index_lookup_vocab(spec);
  b.vocab_out = index_lookup_vocab_out(spec);
  std::vector<int64_t> x(spec.n, 0);
  while (true) {
    for (int64_t p = 0; p < spec.n; ++p) b.examples.push_back(index_lookup_example(spec, x, p));
    int64_t i = 0;  // odometer increment
    while (i < spec.n && ++x[i] == spec.alphabet) x[i++] = 0;
    if (i == spec.n) break;
  }
  return b;
}

}  // namespace attnlab
