// Symmetric group toolkit: partitions, hook lengths, hook-content, Murnaghan–Nakayama (see the header).
#include "gp/symmetric_group.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "util/error.h"

namespace attnlab::gp {

namespace {

void partitions_rec(int remaining, int max_part, Partition& cur, std::vector<Partition>& out) {
  if (remaining == 0) {
    out.push_back(cur);
    return;
  }
  for (int p = std::min(remaining, max_part); p >= 1; --p) {
    cur.push_back(p);
    partitions_rec(remaining - p, p, cur, out);
    cur.pop_back();
  }
}

// hook length of cell (r, c): arm + leg + 1, with λ' the conjugate
int hook_length(const Partition& lambda, const Partition& conj, int r, int c) {
  return (lambda[r] - c - 1) + (conj[c] - r - 1) + 1;
}

// χ via beta-sets: beta holds distinct non-negative integers; removing a rim hook of length r moves one
// bead from b to b − r (must be free); the sign is (−1)^(beads strictly between).
int64_t mn_rec(std::vector<int>& beta, const Partition& mu, size_t k) {
  if (k == mu.size()) return 1;
  int r = mu[k];
  int64_t total = 0;
  for (size_t i = 0; i < beta.size(); ++i) {
    int b = beta[i], nb = b - r;
    if (nb < 0 || std::find(beta.begin(), beta.end(), nb) != beta.end()) continue;
    int between = 0;
    for (int x : beta) between += (x > nb && x < b);
    beta[i] = nb;
    int64_t sub = mn_rec(beta, mu, k + 1);
    beta[i] = b;
    total += (between % 2 ? -sub : sub);
  }
  return total;
}

}  // namespace

std::vector<Partition> partitions(int n) {
  check(n >= 0, "partitions: n = " + std::to_string(n) + " is negative", "give a sequence length L >= 1");
  std::vector<Partition> out;
  Partition cur;
  partitions_rec(n, n, cur, out);
  return out;
}

std::string partition_name(const Partition& lambda) {
  std::string s = "(";
  for (size_t i = 0; i < lambda.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(lambda[i]);
  }
  return s + ")";
}

int partition_size(const Partition& lambda) {
  int s = 0;
  for (int p : lambda) s += p;
  return s;
}

Partition partition_conjugate(const Partition& lambda) {
  Partition conj(lambda.empty() ? 0 : lambda[0], 0);
  for (int p : lambda)
    for (int c = 0; c < p; ++c) ++conj[c];
  return conj;
}

bool partition_dominates(const Partition& a, const Partition& b) {
  int sa = 0, sb = 0;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    sa += i < a.size() ? a[i] : 0;
    sb += i < b.size() ? b[i] : 0;
    if (sa < sb) return false;
  }
  return true;
}

int partition_boxes_below_first_row(const Partition& lambda) {
  return lambda.empty() ? 0 : partition_size(lambda) - lambda[0];
}

double factorial(int n) {
  double f = 1;
  for (int i = 2; i <= n; ++i) f *= i;
  return f;
}

double irrep_dimension(const Partition& lambda) {
  Partition conj = partition_conjugate(lambda);
  double d = factorial(partition_size(lambda));
  for (size_t r = 0; r < lambda.size(); ++r)
    for (int c = 0; c < lambda[r]; ++c) d /= hook_length(lambda, conj, (int)r, c);
  return std::round(d);
}

double ssyt_count(const Partition& lambda, int v) {
  Partition conj = partition_conjugate(lambda);
  double num = 1, den = 1;
  for (size_t r = 0; r < lambda.size(); ++r)
    for (int c = 0; c < lambda[r]; ++c) {
      num *= (v + c - (int)r);
      den *= hook_length(lambda, conj, (int)r, c);
    }
  return std::round(num / den);  // a factor v + c − r = 0 (more rows than V) gives 0
}

int64_t content_sum(const Partition& lambda) {
  int64_t s = 0;
  for (size_t r = 0; r < lambda.size(); ++r)
    for (int c = 0; c < lambda[r]; ++c) s += c - (int64_t)r;
  return s;
}

double centralizer_size(const Partition& mu) {
  std::map<int, int> mult;
  for (int p : mu) ++mult[p];
  double z = 1;
  for (auto [part, m] : mult) z *= std::pow((double)part, m) * factorial(m);
  return z;
}

double class_size(const Partition& mu) { return factorial(partition_size(mu)) / centralizer_size(mu); }

int64_t character(const Partition& lambda, const Partition& mu) {
  check(partition_size(lambda) == partition_size(mu),
        "character: " + partition_name(lambda) + " and " + partition_name(mu) + " have different sizes",
        "the irrep and the cycle type must be partitions of the same L");
  std::vector<int> beta(lambda.size());
  for (size_t i = 0; i < lambda.size(); ++i) beta[i] = lambda[i] + (int)(lambda.size() - 1 - i);
  return mn_rec(beta, mu, 0);
}

double central_character(const Partition& lambda, const Partition& mu) {
  return class_size(mu) * (double)character(lambda, mu) / irrep_dimension(lambda);
}

Partition cycle_type_transposition(int n) {
  check(n >= 2, "no transpositions in S_" + std::to_string(n), "use L >= 2");
  Partition mu{2};
  mu.resize(n - 1, 1);
  return mu;
}

Partition cycle_type_3cycle(int n) {
  check(n >= 3, "no 3-cycles in S_" + std::to_string(n), "use L >= 3");
  Partition mu{3};
  mu.resize(n - 2, 1);
  return mu;
}

std::vector<std::pair<int, int>> content_collisions(int n) {
  auto parts = partitions(n);
  std::vector<std::pair<int, int>> out;
  for (size_t i = 0; i < parts.size(); ++i)
    for (size_t j = i + 1; j < parts.size(); ++j)
      if (content_sum(parts[i]) == content_sum(parts[j])) out.push_back({(int)i, (int)j});
  return out;
}

}  // namespace attnlab::gp
