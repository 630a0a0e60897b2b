#include "constructions/codes.h"

#include <cmath>
#include <random>

#include "util/error.h"

namespace attnlab {

namespace {

void gamma_check(double gamma) {
  check(gamma > 0 && gamma < 1, "code: gamma = " + std::to_string(gamma) + " (must be in (0, 1))",
        "pass --gamma between 0 and 1 exclusive, e.g. 0.5");
}

// Rows to certify: all, or 256 distinct rows drawn with a fixed generator (row 0 and N-1 always included).
torch::Tensor rows_to_certify(int64_t n, int64_t certify_max, uint64_t seed) {
  if (n <= certify_max) return torch::arange(n, torch::kInt64);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::vector<int64_t> rows = {0, n - 1};
  while (rows.size() < 256) rows.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(n)));
  auto t = std::get<0>(at::_unique(torch::tensor(rows, torch::kInt64), /*sorted=*/true));
  return t;
}

// Off-diagonal max |G| of G = raw[rows] raw^T where the entries (r, rows[r]) are the diagonal.
double offdiag_max(torch::Tensor g, const torch::Tensor& rows) {
  g = g.abs();
  g.index_put_({torch::arange(rows.size(0)), rows}, 0.0f);
  return g.numel() ? g.max().item<double>() : 0.0;
}

}  // namespace

double code_max_inner(const torch::Tensor& raw, double norm2, const torch::Tensor& rows) {
  double best = 0;
  const int64_t block = std::max<int64_t>(1, (int64_t{1} << 26) / std::max<int64_t>(1, raw.size(0)));
  for (int64_t r0 = 0; r0 < rows.size(0); r0 += block) {
    auto r = rows.slice(0, r0, std::min(rows.size(0), r0 + block));
    best = std::max(best, offdiag_max(torch::matmul(raw.index_select(0, r), raw.t()), r));
  }
  return best / norm2;
}

NearOrthogonalCode code_random(int64_t n, double gamma, uint64_t seed, int64_t certify_max) {
  gamma_check(gamma);
  check(n >= 1, "code: N = " + std::to_string(n) + " (must be >= 1)", "pass N 1 or more");
  // Hoeffding + union bound: k > 4 ln N / γ² succeeds with probability > 1/2; search up to twice that.
  const int64_t k_max = std::min<int64_t>(8192, 8 * static_cast<int64_t>(std::ceil(std::log(n + 1.0) / (gamma * gamma))) + 16);
  std::mt19937_64 rng(seed);
  auto raw = torch::empty({n, k_max}, torch::kFloat32);
  float* p = raw.data_ptr<float>();
  for (int64_t i = 0; i < n * k_max; i += 64) {
    uint64_t bits = rng();
    for (int64_t b = 0; b < 64 && i + b < n * k_max; ++b) p[i + b] = ((bits >> b) & 1) ? 1.0f : -1.0f;
  }
  NearOrthogonalCode code;
  code.kind = "random";
  code.seed = seed;
  code.certified_rows = rows_to_certify(n, certify_max, seed);
  const auto& rows = code.certified_rows;
  if (n == 1) {
    code.k = 1, code.norm2 = 1, code.gamma = 0, code.raw = raw.slice(1, 0, 1).contiguous();
    return code;
  }
  auto rows_raw = raw.index_select(0, rows);
  auto g = torch::zeros({rows.size(0), n}, torch::kFloat32);  // prefix Gram over the first k0 columns
  for (int64_t k0 = 0; k0 < k_max; k0 += 8) {
    const int64_t k1 = std::min(k_max, k0 + 8);
    auto g_next = g + torch::matmul(rows_raw.slice(1, k0, k1), raw.slice(1, k0, k1).t());
    if (offdiag_max(g_next.clone(), rows) <= gamma * static_cast<double>(k1)) {
      for (int64_t k = k0 + 1; k <= k1; ++k) {
        auto gk = k == k1 ? g_next : g + torch::matmul(rows_raw.slice(1, k0, k), raw.slice(1, k0, k).t());
        double m = offdiag_max(gk.clone(), rows) / static_cast<double>(k);
        if (m <= gamma) {
          code.k = k, code.norm2 = static_cast<double>(k), code.gamma = m;
          code.raw = raw.slice(1, 0, k).contiguous();
          return code;
        }
      }
    }
    g = g_next;
  }
  throw Error("code: no random code of dimension <= " + std::to_string(k_max) + " reaches gamma = " +
              std::to_string(gamma) + " for N = " + std::to_string(n) + " (seed " + std::to_string(seed) + ")",
              "raise --gamma or try another --seed");
}

}  // namespace attnlab

namespace attnlab {

static bool is_prime(int64_t q) {
  if (q < 2) return false;
  for (int64_t f = 2; f * f <= q; ++f)
    if (q % f == 0) return false;
  return true;
}

NearOrthogonalCode code_reed_solomon(int64_t n, double gamma, int64_t certify_max) {
  gamma_check(gamma);
  check(n >= 1, "code: N = " + std::to_string(n) + " (must be >= 1)", "pass N 1 or more");
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
  code.certified_rows = rows_to_certify(n, certify_max, 0);
  code.gamma = code_max_inner(raw, code.norm2, code.certified_rows);
  check(code.gamma <= gamma + 1e-12, "code: Reed-Solomon code has max inner product " + std::to_string(code.gamma) +
        " > gamma", "this is a bug in code_reed_solomon; please report it");
  return code;
}

NearOrthogonalCode code_build(const std::string& kind, int64_t n, double gamma, uint64_t seed, int64_t certify_max) {
  if (kind == "random") return code_random(n, gamma, seed, certify_max);
  if (kind == "reed-solomon") return code_reed_solomon(n, gamma, certify_max);
  throw Error("unknown code '" + kind + "'", "use --code random or --code reed-solomon");
}

}  // namespace attnlab
