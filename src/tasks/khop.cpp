// k-hop induction (Sanford, Hsu, Telgarsky 2024): generator and per-position targets. Definition and worked
// example: khop.h. Targets follow a last-occurrence table (O(L) per hop), not the quadratic definition, so the
// tests can check them against a brute-force re-implementation.
#include "tasks/khop.h"

#include "util/error.h"

namespace attnlab {

namespace {

int64_t max_k(const KhopSpec& s) { return s.max_k > 0 ? s.max_k : s.k; }

}  // namespace

void khop_validate(const KhopSpec& s) {
  std::vector<std::string> p;
  if (s.k < 1 || s.k > 4096) p.push_back("hops k = " + std::to_string(s.k) + " (must be 1..4096)");
  if (s.length < 2 || s.length > 1 << 20) p.push_back("length L = " + std::to_string(s.length) + " (must be 2..2^20)");
  if (s.alphabet < 2 || s.alphabet > 4096) p.push_back("alphabet = " + std::to_string(s.alphabet) + " (must be 2..4096)");
  if (s.max_k != 0 && s.max_k < s.k)
    p.push_back("max_k = " + std::to_string(s.max_k) + " is below k = " + std::to_string(s.k) + " (0 = k)");
  if (p.empty()) return;
  std::string msg = "k-hop task spec is invalid:";
  for (const auto& x : p) msg += "\n  - " + x;
  throw Error(msg, "k >= 1, a string of 2 or more symbols over an alphabet of 2 or more; max_k covers every k used");
}

std::vector<std::string> khop_vocab_out(const KhopSpec& spec) {
  khop_validate(spec);
  std::vector<std::string> v;
  for (int64_t a = 0; a < spec.alphabet; ++a)
    v.push_back(spec.alphabet <= 26 ? std::string(1, static_cast<char>('a' + a)) : "s" + std::to_string(a));
  return v;
}

std::vector<std::string> khop_vocab(const KhopSpec& spec) {
  auto v = khop_vocab_out(spec);
  for (int64_t k = 1; k <= max_k(spec); ++k) v.push_back("k" + std::to_string(k));
  return v;
}

int64_t khop_seq_len(const KhopSpec& spec) {
  khop_validate(spec);
  return spec.length + 1;
}

std::vector<int64_t> khop_targets(const KhopSpec& spec, const std::vector<int64_t>& tokens) {
  const int64_t T = khop_seq_len(spec), A = spec.alphabet, L = spec.length;
  check(static_cast<int64_t>(tokens.size()) == T, "k-hop tokens: " + std::to_string(tokens.size()) +
        " tokens, expected " + std::to_string(T), "pass tokens of an instance of this spec (khop.h)");
  const int64_t k = tokens[0] - A + 1;
  check(k >= 1 && k <= max_k(spec), "k-hop tokens: position 0 holds no hop-count token",
        "the first token is k1..k" + std::to_string(max_k(spec)));
  std::vector<int64_t> x(tokens.begin() + 1, tokens.end()), find(L, -1), last(A, -1);
  for (int64_t i = 0; i < L; ++i) {
    check(x[i] >= 0 && x[i] < A, "k-hop tokens: position " + std::to_string(i + 1) + " holds no symbol",
          "symbols are ids 0.." + std::to_string(A - 1));
    if (last[x[i]] >= 0) find[i] = last[x[i]] + 1;
    last[x[i]] = i;
  }
  std::vector<int64_t> out(T, -1);
  for (int64_t i = 0; i < L; ++i) {
    int64_t p = i;
    for (int64_t h = 0; h < k && p >= 0; ++h) p = find[p];
    if (p >= 0) out[i + 1] = x[p];
  }
  return out;
}

TaskBatch khop_sample(const KhopSpec& spec, int64_t count, uint64_t seed, bool last_defined) {
  check(count >= 1, "k-hop: sample count " + std::to_string(count) + " (must be >= 1)", "ask for 1 or more");
  TaskBatch b;
  b.vocab = khop_vocab(spec);
  b.vocab_out = khop_vocab_out(spec);
  TaskRng rng(seed);
  const int64_t A = spec.alphabet;
  for (int64_t n = 0; n < count; ++n) {
    TaskExample e;
    for (int attempt = 0;; ++attempt) {
      check(attempt < 10000, "k-hop: 10000 strings in a row without a defined last position (k = " +
            std::to_string(spec.k) + ", L = " + std::to_string(spec.length) + ")", "use a longer string or fewer hops");
      const int64_t k = spec.mix ? 1 + static_cast<int64_t>(rng_below(rng, spec.k)) : spec.k;
      e.tokens.assign(1, A + k - 1);
      int64_t prev = static_cast<int64_t>(rng_below(rng, A));
      e.tokens.push_back(prev);
      for (int64_t i = 1; i < spec.length; ++i) {  // uniform over the symbols other than the previous one
        int64_t s = static_cast<int64_t>(rng_below(rng, A - 1));
        prev = s >= prev ? s + 1 : s;
        e.tokens.push_back(prev);
      }
      e.target = khop_targets(spec, e.tokens).back();
      if (!last_defined || e.target >= 0) break;
    }
    b.examples.push_back(std::move(e));
  }
  return b;
}

std::string khop_text(const KhopSpec& spec, const std::vector<int64_t>& tokens) {
  const auto vocab = khop_vocab(spec);
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    check(tokens[i] >= 0 && tokens[i] < static_cast<int64_t>(vocab.size()), "k-hop text: token id " +
          std::to_string(tokens[i]) + " at position " + std::to_string(i), "pass tokens of this spec");
    out += (i == 0 ? "" : i == 1 ? " | " : " ") + vocab[tokens[i]];
  }
  return out;
}

}  // namespace attnlab
