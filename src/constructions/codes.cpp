// Nearly orthogonal codes (codes.h). The random-code search is the expensive part of the index-lookup build:
// certifying all N² pairs at N = 16384 is one f32 GEMM of 16384 x k x 16384 over the upper triangle, done once
// or twice, with the ±1 entries held as int8 (N·k bytes) and converted per block.
#include "constructions/codes.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "util/error.h"

namespace attnlab {

namespace {

constexpr int64_t kRowBlock = 1024, kColBlock = 8192;

void gamma_check(double gamma) {
  check(gamma > 0 && gamma < 1, "code: gamma = " + std::to_string(gamma) + " (must be in (0, 1))",
        "pass --gamma between 0 and 1 exclusive, e.g. 0.5");
}

void n_check(int64_t n) { check(n >= 1, "code: N = " + std::to_string(n) + " (must be >= 1)", "pass N 1 or more"); }

// Pairs (i in rows, j != i; i < j when rows are all rows) with |<raw_i, raw_j>| > threshold, and the exact max.
struct GramScan {
  double max_abs = 0;
  torch::Tensor i, j;  // [C] int64
};

// Visits the blocks of |raw[rows] raw^T| with the diagonal (and, for all rows, the lower triangle) zeroed.
template <class Visit>
void gram_blocks(const torch::Tensor& raw, const torch::Tensor& rows, Visit visit) {
  const int64_t n = raw.size(0);
  const bool all = rows.size(0) == n;
  for (int64_t r0 = 0; r0 < rows.size(0); r0 += kRowBlock) {
    const int64_t r1 = std::min(rows.size(0), r0 + kRowBlock);
    auto rb = rows.slice(0, r0, r1);
    auto a = raw.index_select(0, rb).to(torch::kFloat32);  // [rb, k]
    for (int64_t c0 = all ? r0 : 0; c0 < n; c0 += kColBlock) {
      const int64_t c1 = std::min(n, c0 + kColBlock);
      auto g = torch::matmul(a, raw.slice(0, c0, c1).to(torch::kFloat32).t()).abs_();  // [rb, cb]
      if (all && c0 < r1) {
        g.triu_(r0 - c0 + 1);  // keep global column > global row
      } else if (!all) {
        auto inside = (rb >= c0).logical_and(rb < c1);
        auto r_idx = torch::nonzero(inside).squeeze(1);
        if (r_idx.numel()) g.index_put_({r_idx, rb.index_select(0, r_idx) - c0}, 0.0f);
      }
      visit(rb, c0, g);
    }
  }
}

GramScan gram_scan(const torch::Tensor& raw, const torch::Tensor& rows, double threshold) {
  GramScan s;
  std::vector<torch::Tensor> is, js;
  gram_blocks(raw, rows, [&](const torch::Tensor& rb, int64_t c0, const torch::Tensor& g) {
    if (g.numel() == 0) return;
    s.max_abs = std::max(s.max_abs, g.max().item<double>());
    auto idx = torch::nonzero(g > threshold);  // [m, 2]
    if (idx.size(0) == 0) return;
    is.push_back(rb.index_select(0, idx.select(1, 0)));
    js.push_back(idx.select(1, 1) + c0);
  });
  s.i = is.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(is);
  s.j = js.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(js);
  return s;
}

// ±1 entries [n, k] int8, 64 per draw of std::mt19937_64(seed), row-major.
torch::Tensor random_signs(int64_t n, int64_t k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto raw = torch::empty({n, k}, torch::kInt8);
  int8_t* p = raw.data_ptr<int8_t>();
  const int64_t total = n * k;
  for (int64_t i = 0; i < total; i += 64) {
    uint64_t bits = rng();
    for (int64_t b = 0; b < 64 && i + b < total; ++b) p[i + b] = ((bits >> b) & 1) ? 1 : -1;
  }
  return raw;
}

// Stage 1: the smallest k for which the pairs (sample rows x the first columns) pass; every smaller k fails on
// them, so it fails on all certified pairs. Rank-1 updates of the prefix Gram [S, C]; returns k_max + 1 if none.
int64_t sample_k_lo(const torch::Tensor& raw8, const torch::Tensor& rows, double gamma) {
  const int64_t n = raw8.size(0), k_max = raw8.size(1);
  auto srows = rows.slice(0, 0, std::min<int64_t>(rows.size(0), 256));
  auto cols = torch::arange(std::min<int64_t>(n, kColBlock), torch::kInt64);
  auto a = raw8.index_select(0, srows).to(torch::kFloat32).t().contiguous();  // [k_max, S]
  auto b = raw8.index_select(0, cols).to(torch::kFloat32).t().contiguous();   // [k_max, C]
  auto same = srows.unsqueeze(1) == cols.unsqueeze(0);                         // [S, C]
  auto g = torch::zeros({srows.size(0), cols.size(0)}, torch::kFloat32);
  for (int64_t k = 1; k <= k_max; ++k) {
    g.addr_(a[k - 1], b[k - 1]);
    if (g.abs().masked_fill_(same, 0.0f).max().item<double>() <= gamma * static_cast<double>(k)) return k;
  }
  return k_max + 1;
}

// Stage 2 for the window [k_lo, k_hi]: pairs with |G_{k_lo}| <= γk_lo - (1-γ)(k_hi-k_lo) pass at every k in the
// window (|G_k - G_{k_lo}| <= k - k_lo); the others are walked exactly. Returns the smallest passing k (0 if
// none) and its exact max |G_k| (or -1 when the candidates alone do not settle it).
std::pair<int64_t, double> window_search(const torch::Tensor& raw8, const torch::Tensor& rows, double gamma,
                                         int64_t k_lo, int64_t k_hi) {
  const double threshold = gamma * k_lo - (1.0 - gamma) * static_cast<double>(k_hi - k_lo);
  GramScan s = gram_scan(raw8.slice(1, 0, k_lo), rows, threshold);
  if (s.i.numel() == 0) return {k_lo, s.max_abs};
  auto ri = raw8.index_select(0, s.i).to(torch::kFloat32), rj = raw8.index_select(0, s.j).to(torch::kFloat32);
  auto g_lo = (ri.slice(1, 0, k_lo) * rj.slice(1, 0, k_lo)).sum(1, true);                    // [C, 1]
  auto walk = torch::cat({g_lo, g_lo + (ri.slice(1, k_lo, k_hi) * rj.slice(1, k_lo, k_hi)).cumsum(1)}, 1);
  auto worst = walk.abs().amax(0);                                                          // [W + 1]
  for (int64_t t = 0; t <= k_hi - k_lo; ++t) {
    const double m = worst[t].item<double>();
    if (m > gamma * static_cast<double>(k_lo + t)) continue;
    // non-candidates have |G_k| <= threshold + t; the candidates' max is exact if it is at least that
    return {k_lo + t, m >= threshold + t ? m : -1.0};
  }
  return {0, 0.0};
}

}  // namespace

torch::Tensor code_sample_rows(int64_t n, int64_t count, uint64_t seed) {
  if (n <= count) return torch::arange(n, torch::kInt64);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::set<int64_t> picked = {0, n - 1};
  while (static_cast<int64_t>(picked.size()) < count) picked.insert(static_cast<int64_t>(rng() % static_cast<uint64_t>(n)));
  return torch::tensor(std::vector<int64_t>(picked.begin(), picked.end()), torch::kInt64);
}

double code_max_inner(const torch::Tensor& raw, double norm2, const torch::Tensor& rows) {
  double best = 0;
  gram_blocks(raw, rows, [&](const torch::Tensor&, int64_t, const torch::Tensor& g) {
    if (g.numel()) best = std::max(best, g.max().item<double>());
  });
  return best / norm2;
}

NearOrthogonalCode code_random(int64_t n, double gamma, uint64_t seed, int64_t certify_max) {
  gamma_check(gamma);
  n_check(n);
  // Hoeffding + union bound: k > 4 ln N / γ² succeeds with probability > 1/2; search up to twice that.
  const int64_t k_max =
      std::min<int64_t>(8192, 8 * static_cast<int64_t>(std::ceil(std::log(n + 1.0) / (gamma * gamma))) + 16);
  check(static_cast<double>(n) * k_max <= 4e9, "code: a random code for N = " + std::to_string(n) + " and gamma = " +
        std::to_string(gamma) + " may need " + std::to_string(k_max) + " dimensions (too large to search)",
        "raise --gamma or lower N");
  NearOrthogonalCode code;
  code.kind = "random";
  code.seed = seed;
  code.certified_rows = n <= certify_max ? torch::arange(n, torch::kInt64) : code_sample_rows(n, 256, seed);
  auto raw8 = random_signs(n, k_max, seed);
  if (n == 1) {
    code.k = 1, code.norm2 = 1, code.gamma = 0, code.raw = raw8.slice(1, 0, 1).to(torch::kFloat32);
    return code;
  }
  const auto& rows = code.certified_rows;
  for (int64_t k_lo = sample_k_lo(raw8, rows, gamma); k_lo <= k_max;) {
    const int64_t k_hi = std::min(k_max, k_lo + std::clamp<int64_t>(k_lo / 4, 8, 64));
    auto [k, max_abs] = window_search(raw8, rows, gamma, k_lo, k_hi);
    if (k > 0) {
      code.k = k, code.norm2 = static_cast<double>(k);
      code.raw = raw8.slice(1, 0, k).to(torch::kFloat32).contiguous();
      code.gamma = max_abs >= 0 ? max_abs / code.norm2 : code_max_inner(raw8.slice(1, 0, k), code.norm2, rows);
      return code;
    }
    k_lo = k_hi + 1;
  }
  throw Error("code: no random code of dimension <= " + std::to_string(k_max) + " reaches gamma = " +
              std::to_string(gamma) + " for N = " + std::to_string(n) + " (seed " + std::to_string(seed) + ")",
              "raise --gamma or try another --seed");
}

static bool is_prime(int64_t q) {
  if (q < 2) return false;
  for (int64_t f = 2; f * f <= q; ++f)
    if (q % f == 0) return false;
  return true;
}

NearOrthogonalCode code_reed_solomon(int64_t n, double gamma) {
  gamma_check(gamma);
  n_check(n);
  int64_t best_q = 0, best_d = 0, best_e = 0;
  for (int64_t d = 1; d <= 40; ++d) {
    // e evaluation points with (d-1)/e <= gamma; q prime with q^d >= n and q >= e
    const int64_t e = std::max<int64_t>(1, static_cast<int64_t>(std::ceil((d - 1) / gamma - 1e-12)));
    int64_t q = std::max<int64_t>(e, static_cast<int64_t>(std::floor(std::pow(static_cast<double>(n), 1.0 / d))));
    auto covers = [&](int64_t qq) {
      double c = 1;
      for (int64_t i = 0; i < d; ++i) c *= static_cast<double>(qq);
      return c >= static_cast<double>(n);
    };
    while (!is_prime(q) || !covers(q)) ++q;
    if (best_q == 0 || e * q < best_e * best_q) best_q = q, best_d = d, best_e = e;
  }
  check(static_cast<double>(best_e) * best_q * n <= 4e9, "code: the Reed-Solomon code for N = " + std::to_string(n) +
        " needs " + std::to_string(best_e * best_q) + " dimensions (too large to store)", "use --code random");
  auto raw = torch::zeros({n, best_e * best_q}, torch::kFloat32);
  auto acc = raw.accessor<float, 2>();
  std::vector<int64_t> coef(best_d);
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = i;
    for (int64_t j = 0; j < best_d; ++j) coef[j] = v % best_q, v /= best_q;
    for (int64_t x = 0; x < best_e; ++x) {
      int64_t y = 0;  // Horner: sum_j coef[j] x^j mod q
      for (int64_t j = best_d - 1; j >= 0; --j) y = (y * x + coef[j]) % best_q;
      acc[i][x * best_q + y] = 1.0f;
    }
  }
  NearOrthogonalCode code;
  code.kind = "reed-solomon";
  code.rs_q = best_q, code.rs_d = best_d, code.rs_e = best_e;
  code.k = best_e * best_q;
  code.norm2 = static_cast<double>(best_e);
  code.raw = raw;
  code.certified_rows = torch::arange(n, torch::kInt64);
  // distinct polynomials of degree < d agree in at most d - 1 of the e points (their difference has <= d-1 roots)
  code.gamma = static_cast<double>(best_d - 1) / static_cast<double>(best_e);
  return code;
}

NearOrthogonalCode code_build(const std::string& kind, int64_t n, double gamma, uint64_t seed, int64_t certify_max) {
  if (kind == "random") return code_random(n, gamma, seed, certify_max);
  if (kind == "reed-solomon") return code_reed_solomon(n, gamma);
  throw Error("unknown code '" + kind + "'", "use --code random or --code reed-solomon");
}

}  // namespace attnlab
