// Context-length scaling (Lavie, Gur-Ari, Ringel, arXiv 2402.05173, sec. on learnability vs L): for targets in
// the irrep (L−k, k) of S_L (k boxes below the first row; V = 2 has exactly these; (L−1−k, k) of S_{L−1} for
// last-token readouts), the suppression of the top eigenvalue against L and the number of samples at which
// eigenlearning gives that mode learnability 1/2:
//   κ(n) = λ*  ⇔  n_half = Σ_modes m_i λ_i/(λ_i + λ*) + δ/λ*   (m_i = d_λ multiplicities),
// with power-law exponents fitted by least squares on log–log axes.
#pragma once

#include <functional>
#include <vector>

#include "gp/spectrum.h"

namespace attnlab::gp {

struct ScalingRow {
  int length = 0, k = 0;
  double eigenvalue = 0;  // top eigenvalue of B_(m−k, k), m = L (S_L) or L − 1 (S_{L−1})
  double ratio = 0;       // eigenvalue / top eigenvalue of the trivial irrep (L)
  double n_half = 0;      // samples for learnability 1/2
};

struct ScalingResult {
  std::vector<ScalingRow> rows;
  std::vector<int> ks;
  std::vector<double> exponent_ratio, exponent_n_half;  // per k: slope of log value vs log L
};

double n_half_from_spectrum(const Spectrum& s, double lambda_star, double ridge);
double fit_log_slope(const std::vector<double>& x, const std::vector<double>& y);  // least squares

// progress(L) is called before each length's spectrum.
ScalingResult context_scaling(const KernelSpec& spec, int vocab, const std::vector<int>& lengths, int kmax,
                              double rel_ridge, const GramOptions& opt, const std::function<void(int)>& progress);

}  // namespace attnlab::gp
