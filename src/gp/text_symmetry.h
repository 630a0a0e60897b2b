// Approximate permutation symmetry of natural text (Lavie, Gur-Ari, Ringel, arXiv 2402.05173, sec. 6).
// Windows of L consecutive word tokens are embedded by one-hot token overlap (the embed layer's kernel);
// their position covariance C_μν = Σ_v [P(x_μ = v, x_ν = v) − P(x_μ = v) P(x_ν = v)] is S_L-invariant
// (a I + b (11ᵀ − I)) for exchangeable text. Statistics: the symmetry defect ‖C − Sym C‖_F / ‖C‖_F, with
// Sym C the projection onto invariant matrices, and the trivial-sector weight (u·1)²/L of the top
// eigenvectors u of C. A noise floor comes from the same windows with their tokens shuffled inside each window.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab::gp {

struct TextSymmetry {
  int64_t windows = 0;
  int length = 0, vocab = 0;
  double defect = 0;                    // ‖C − Sym C‖_F / ‖C‖_F
  double diag_mean = 0;                 // mean C_μμ
  double defect_shuffled = 0;           // the same after shuffling inside each window (sampling noise floor)
  std::vector<double> top_eigenvalues;  // of C, descending (first 4)
  std::vector<double> trivial_weights;  // (u_i·1)²/L for those eigenvectors
  std::vector<double> offdiag_by_distance;  // mean C_μν at |μ − ν| = 1 .. L−1
};

// Lower-cased words (runs of letters; apostrophes dropped; runs followed by a digit, e.g. "Ge1:1", skipped); the vocab−1 most frequent get ids 0..vocab−2,
// every other word vocab−1.
std::vector<int> text_tokenize(const std::string& text, int vocab);

// Synthetic calibration text: "iid" (Zipf unigrams), "exchangeable" (each window of L draws one of 8 topics,
// then i.i.d. tokens from that topic), "markov" (a sticky chain: repeat the previous token with probability 1/2, else a fresh unigram draw).
std::vector<int> synthetic_text(const std::string& kind, int64_t n_tokens, int vocab, int length, uint64_t seed);

TextSymmetry text_symmetry(const std::vector<int>& tokens, int vocab, int length, uint64_t seed);

}  // namespace attnlab::gp
