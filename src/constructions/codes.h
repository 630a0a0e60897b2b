// Nearly orthogonal codes: N vectors c_0..c_{N-1} ∈ R^k with <c_i, c_i> = 1 and |<c_i, c_j>| ≤ γ (i ≠ j), the
// ingredient of every log-size construction of Bhattamishra et al. 2024 (arXiv 2406.09347, Lemma on nearly
// orthogonal vectors: k = O(log N / γ²) suffices). Codes are stored as small integers with a common squared
// norm s, c_i = raw_i / √s, so every inner product the models compute is an exact integer.
//   random:       raw entries ±1 (s = k) from std::mt19937_64(seed); k = the smallest prefix length whose
//                 max |<c_i, c_j>| over the certified pairs is ≤ γ (exact; see code_random below)
//   reed-solomon: position i = base-q digits = a polynomial of degree < d over GF(q) (q prime), evaluated at
//                 e points; raw = e concatenated one-hots of width q (k = e·q, s = e); two distinct codewords
//                 agree in ≤ d - 1 points, so 0 ≤ <c_i, c_j> ≤ (d-1)/e: certified analytically for all pairs
//                 (tests check the bound against brute force, and that it is attained when N = q^d).
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
  double gamma = 0;              // certified max_{i in rows, j != i} |<c_i, c_j>| (reed-solomon: the bound (d-1)/e)
  torch::Tensor certified_rows;  // [S] int64: the rows i whose products with every j are certified (all when S = N)
  uint64_t seed = 0;             // random codes
  int64_t rs_q = 0, rs_d = 0, rs_e = 0;  // reed-solomon parameters
  int64_t n() const { return raw.size(0); }
  bool all_certified() const { return certified_rows.size(0) == n(); }
};

// max over i in rows, j != i of |<raw_i, raw_j>| / norm2, exactly (float32 GEMM of integers in row x column
// blocks; when rows are all N rows only the blocks above the diagonal are computed). raw: [N, k] float32 or int8.
double code_max_inner(const torch::Tensor& raw, double norm2, const torch::Tensor& rows);

// Random ±1 code. Certified rows: all when N <= certify_max, otherwise 256 sampled rows (rows 0 and N-1 included).
// The search: (1) the smallest k passing on 256 rows x 8192 columns (rank-1 updates of a prefix Gram; every
// smaller k fails there, hence on all pairs), (2) one blocked GEMM at that k collects the pairs that could still
// exceed γk within a window of larger k, whose exact walks give the smallest passing k; repeat if none does.
NearOrthogonalCode code_random(int64_t n, double gamma, uint64_t seed, int64_t certify_max = 16384);
NearOrthogonalCode code_reed_solomon(int64_t n, double gamma);
NearOrthogonalCode code_build(const std::string& kind, int64_t n, double gamma, uint64_t seed,
                              int64_t certify_max = 16384);  // kind: random | reed-solomon

// Rows certified when N > certify_max (also the query rows the verifiers sample): `count` distinct rows drawn
// with a fixed generator, 0 and N-1 always included; all N rows when N <= count.
torch::Tensor code_sample_rows(int64_t n, int64_t count, uint64_t seed);

}  // namespace attnlab
