// Context-length scaling of irrep eigenvalues and sample complexity (see scaling.h).
#include "gp/scaling.h"

#include <cmath>

#include "util/error.h"

namespace attnlab::gp {

double n_half_from_spectrum(const Spectrum& s, double lambda_star, double ridge) {
  double n = ridge / lambda_star;
  for (const auto& ir : s.irreps)
    for (double l : ir.eigenvalues) n += ir.dim * std::max(l, 0.0) / (std::max(l, 0.0) + lambda_star);
  return n;
}

double fit_log_slope(const std::vector<double>& x, const std::vector<double>& y) {
  check(x.size() == y.size() && x.size() >= 2, "fit_log_slope: need at least two points", "use more lengths");
  double mx = 0, my = 0, n = (double)x.size();
  for (size_t i = 0; i < x.size(); ++i) mx += std::log(x[i]) / n, my += std::log(y[i]) / n;
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double dx = std::log(x[i]) - mx;
    sxy += dx * (std::log(y[i]) - my);
    sxx += dx * dx;
  }
  return sxy / sxx;
}

ScalingResult context_scaling(const KernelSpec& spec, int vocab, const std::vector<int>& lengths, int kmax,
                              double rel_ridge, const GramOptions& opt, const std::function<void(int)>& progress) {
  check(lengths.size() >= 2, "scaling: need at least two lengths", "e.g. --lengths 4,6,8,10,12");
  check(kmax >= 1, "scaling: kmax must be >= 1", "e.g. --kmax 3");
  bool last = spec.symmetry() == SymmetryGroup::AllButLast;  // S_{L−1}: irreps (L−1−k, k)
  for (int L : lengths)
    check(spectrum_group_size(spec.symmetry(), L) >= 2 * kmax,
          "scaling: L = " + std::to_string(L) + " has no irrep (" + (last ? "L-1-k" : "L-k") + ", k) for k = " +
              std::to_string(kmax),
          last ? "use lengths >= 2 kmax + 1 (a last-token readout permutes L - 1 positions)" : "use lengths >= 2 kmax");
  ScalingResult r;
  std::vector<std::vector<double>> ratios(kmax), nhalf(kmax);
  std::vector<double> ls;
  for (int L : lengths) {
    if (progress) progress(L);
    Spectrum s = kernel_spectrum(spec, vocab, L, {}, opt);
    double top = s.irreps[0].eigenvalues[0], ridge = rel_ridge * s.expected_diag;
    ls.push_back(L);
    int m = s.group_size;
    for (int k = 1; k <= kmax; ++k) {
      const IrrepSpectrum* ir = nullptr;
      for (const auto& x : s.irreps)
        if (x.lambda == Partition{m - k, k}) ir = &x;
      check(ir != nullptr && ir->eigenvalues[0] > 1e-12 * top,
            "scaling: the irrep (" + std::to_string(m - k) + "," + std::to_string(k) + ") has no positive eigenvalue (above 1e-12 of the top one)",
            "use a kernel with positional terms (pos=iid); without them only the trivial irrep is non-zero");
      ScalingRow row{L, k, ir->eigenvalues[0], ir->eigenvalues[0] / top, 0};
      row.n_half = n_half_from_spectrum(s, row.eigenvalue, ridge);
      ratios[k - 1].push_back(row.ratio);
      nhalf[k - 1].push_back(row.n_half);
      r.rows.push_back(row);
    }
  }
  for (int k = 1; k <= kmax; ++k) {
    r.ks.push_back(k);
    r.exponent_ratio.push_back(fit_log_slope(ls, ratios[k - 1]));
    r.exponent_n_half.push_back(fit_log_slope(ls, nhalf[k - 1]));
  }
  return r;
}

}  // namespace attnlab::gp
