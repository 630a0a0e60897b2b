// The symmetric group S_L for the infinite-width analysis (Lavie, Gur-Ari, Ringel, arXiv 2402.05173):
// partitions λ ⊢ L (Young diagrams), hook-length dimensions d_λ, semistandard tableaux counts #SSYT(λ, V)
// (hook-content formula: the multiplicity of the irrep S^λ in the functions on [V]^L, by Schur–Weyl),
// characters χ^λ(μ) (Murnaghan–Nakayama) and central characters of class sums, which act on the λ-isotypic
// component as scalars (transpositions: the content sum Σ_{cells}(col − row)). Plain C++, no LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab::gp {

using Partition = std::vector<int>;  // weakly decreasing positive parts, e.g. {3, 1, 1} for the hook (3,1,1)

std::vector<Partition> partitions(int n);   // all λ ⊢ n, in reverse lexicographic order: (n), (n-1,1), ...
std::string partition_name(const Partition& lambda);  // "(3,1,1)"
int partition_size(const Partition& lambda);            // Σ λ_i
Partition partition_conjugate(const Partition& lambda);
bool partition_dominates(const Partition& a, const Partition& b);  // a ⊵ b (same size)
int partition_boxes_below_first_row(const Partition& lambda);       // L − λ_1

double factorial(int n);                                  // exact up to 22!
double irrep_dimension(const Partition& lambda);          // d_λ = L! / Π hook lengths
double ssyt_count(const Partition& lambda, int v);        // #SSYT(λ, V) = Π (V + content) / hook
int64_t content_sum(const Partition& lambda);             // Σ_{cells (r,c)} (c − r): transposition class sum

// z_μ = Π_i i^{m_i} m_i!; the class of cycle type μ has L!/z_μ elements.
double centralizer_size(const Partition& mu);
double class_size(const Partition& mu);

// χ^λ(μ): the character of S^λ on a permutation of cycle type μ (Murnaghan–Nakayama on beta-sets).
int64_t character(const Partition& lambda, const Partition& mu);

// Central character ω_λ(C_μ) = |C_μ| χ^λ(μ) / d_λ: the scalar by which the class sum of type μ acts on S^λ.
double central_character(const Partition& lambda, const Partition& mu);

// The cycle type of a transposition / 3-cycle in S_n (n ≥ 2 / n ≥ 3): (2,1,...,1), (3,1,...,1).
Partition cycle_type_transposition(int n);
Partition cycle_type_3cycle(int n);

// Irrep labels: central characters of transpositions and 3-cycles. Returns the pairs (i, j), i < j, of
// partitions of n that the transposition class sum alone does not separate (e.g. (4,1,1) and (3,3) at n = 6).
std::vector<std::pair<int, int>> content_collisions(int n);

}  // namespace attnlab::gp
