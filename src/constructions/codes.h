// Nearly orthogonal codes: N vectors c_0..c_{N-1} ∈ R^k with <c_i, c_i> = 1 and |<c_i, c_j>| ≤ γ (i ≠ j), the
// ingredient of every log-size construction of Bhattamishra et al. 2024 (arXiv 2406.09347, Lemma on nearly
// orthogonal vectors: k = O(log N / γ²) suffices). Codes are stored as small integers with a common squared
// norm s, c_i = raw_i / √s, so every inner product the models compute is an exact integer.
//   random:       raw entries ±1 (s = k) from std::mt19937_64(seed); k = the smallest found whose certified
//                 max |<c_i, c_j>| ≤ γ (prefix search: k at multiples of 8, then every k in the first passing block)
//   reed-solomon: position i = base-q digits = a polynomial of degree < d over GF(q) (q prime), evaluated at
//                 e points; raw = e concatenated one-hots of width q (k = e·q, s = e); two codewords agree in
//                 ≤ d - 1 points, so 0 ≤ <c_i, c_j> ≤ (d-1)/e. Deterministic; (q, d, e) minimise k.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace attnlab {

struct NearOrthogonalCode {
  std::string kind;              // "random" | "reed-solomon"
  torch::Tensor raw;             // [N, k] float32 small integers (exact), c_i = raw_i / sqrt(norm2)
  int64_t k = 0;                 // dimension
  double norm2 = 0;              // s: <raw_i, raw_i> for every i
  double gamma = 0;              // certified max_{i in rows, j != i} |<c_i, c_j>|
  torch::Tensor certified_rows;  // [S] int64: the rows i whose products with every j were checked (all when S = N)
  uint64_t seed = 0;             // random codes
  int64_t rs_q = 0, rs_d = 0, rs_e = 0;  // reed-solomon parameters
  int64_t n() const { return raw.size(0); }
  bool all_certified() const { return certified_rows.size(0) == n(); }
};

// max over i in rows, j != i of |<raw_i, raw_j>| / norm2, exactly (float32 integer arithmetic; blocked).
double code_max_inner(const torch::Tensor& raw, double norm2, const torch::Tensor& rows);

// Random ±1 code; rows certified: all when N <= certify_max, otherwise `certify_max` ... at most 256 sampled rows.
NearOrthogonalCode code_random(int64_t n, double gamma, uint64_t seed, int64_t certify_max = 16384);
NearOrthogonalCode code_reed_solomon(int64_t n, double gamma, int64_t certify_max = 16384);
NearOrthogonalCode code_build(const std::string& kind, int64_t n, double gamma, uint64_t seed,
                              int64_t certify_max = 16384);  // kind: random | reed-solomon

}  // namespace attnlab
