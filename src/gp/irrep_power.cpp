// Per-irrep target power C_λ = (d_λ/#tabloids) RᵀR and the per-irrep eigenlearning sum (see irrep_power.h).
// R is built tabloid by tabloid: under a tabloid t, the S_λ-orbit of x∘σ_t is fixed by the multiset of tokens
// that t puts in each row (plus the spectator tokens). A sum of random 64-bit words over positions hashes these
// multisets; it is additive over positions, so it is read from two half-sequence tables and each
// (tabloid, sequence) visit costs one add and one probe of an open-addressing table of the orbit keys.
// Keys are checked distinct over the orbits, so the hash never merges two orbits.
#include "gp/irrep_power.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "util/error.h"

namespace attnlab::gp {

namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Open-addressing map from a 64-bit orbit key to the orbit id (the keys are random words: low bits index).
struct OrbitTable {
  std::vector<uint64_t> keys;
  std::vector<int32_t> ids;  // −1 = empty
  uint64_t mask = 0;

  explicit OrbitTable(const std::vector<uint64_t>& orbit_keys) {
    size_t size = 4;
    while (size < 4 * orbit_keys.size()) size *= 2;
    keys.assign(size, 0);
    ids.assign(size, -1);
    mask = size - 1;
    for (size_t o = 0; o < orbit_keys.size(); ++o) {
      check(find(orbit_keys[o]) < 0, "irrep power: internal: two orbits share a hash key",
            "this is a bug in attnlab::gp (or a 2^-64 accident); please report it");
      uint64_t i = orbit_keys[o] & mask;
      while (ids[i] >= 0) i = (i + 1) & mask;
      keys[i] = orbit_keys[o];
      ids[i] = (int32_t)o;
    }
  }
  int32_t find(uint64_t key) const {
    for (uint64_t i = key & mask;; i = (i + 1) & mask) {
      if (ids[i] < 0 || keys[i] == key) return ids[i];
    }
  }
};

// The hash of every token string on positions [a, b): table[c] for c in base-V order, w[p][v] the word of token v
// at position p.
std::vector<uint64_t> half_table(const std::vector<const uint64_t*>& w, int a, int b, int vocab) {
  std::vector<uint64_t> t{0};
  for (int p = a; p < b; ++p) {
    std::vector<uint64_t> next(t.size() * vocab);
    for (size_t c = 0; c < t.size(); ++c)
      for (int v = 0; v < vocab; ++v) next[c * vocab + v] = t[c] + w[p][v];
    t.swap(next);
  }
  return t;
}

double tabloid_count(const Partition& lambda) {
  double c = factorial(partition_size(lambda));
  for (int part : lambda) c /= factorial(part);
  return std::round(c);
}

// C_λ for one irrep; pf[x] = p(x) f(x) over [V]^L.
IrrepPower irrep_power_one(const IrrepSpectrum& ir, int vocab, int m, int L, const std::vector<double>& pf) {
  const Partition& lambda = ir.lambda;
  int64_t n_orb = ir.orbit_reps.size(0);
  uint64_t state = 0x5eed0001ULL + 7919ULL * (uint64_t)m;
  std::vector<std::vector<uint64_t>> row_words(lambda.size(), std::vector<uint64_t>(vocab));
  std::vector<std::vector<uint64_t>> spect_words(L - m, std::vector<uint64_t>(vocab));
  for (auto& r : row_words)
    for (auto& w : r) w = splitmix64(state);
  for (auto& r : spect_words)
    for (auto& w : r) w = splitmix64(state);
  std::vector<int> label;  // label[p] = row of position p; starts at the standard tabloid (the row blocks)
  for (size_t r = 0; r < lambda.size(); ++r) label.insert(label.end(), lambda[r], (int)r);
  std::vector<uint64_t> orbit_keys(n_orb, 0);
  auto reps = ir.orbit_reps.accessor<int64_t, 2>();
  for (int64_t o = 0; o < n_orb; ++o)
    for (int p = 0; p < L; ++p) orbit_keys[o] += p < m ? row_words[label[p]][reps[o][p]] : spect_words[p - m][reps[o][p]];
  OrbitTable table(orbit_keys);

  auto q_fn = ir.basis / ir.orbit_mass.sqrt().unsqueeze(1);  // [n_orb, b]: B_a on each orbit
  int64_t b = q_fn.size(1);
  auto c = torch::zeros({b, b}, torch::kFloat64);
  int64_t block_rows = std::max<int64_t>(1, std::min<int64_t>(4096, (int64_t(1) << 21) / n_orb));
  auto h = torch::zeros({block_rows, n_orb}, torch::kFloat64);  // [tabloids in block, n_orb] Σ p f per orbit
  int64_t filled = 0;
  auto flush = [&] {
    auto r = torch::matmul(h.narrow(0, 0, filled), q_fn);  // [filled, b] R rows
    c += torch::matmul(r.t(), r);
    h.zero_();
    filled = 0;
  };
  int nh = L / 2;
  int64_t n_lo = (int64_t)std::llround(std::pow((double)vocab, L - nh));
  std::vector<const uint64_t*> w(L);
  double tabloids = 0;
  do {
    for (int p = 0; p < L; ++p) w[p] = p < m ? row_words[label[p]].data() : spect_words[p - m].data();
    auto hi = half_table(w, 0, nh, vocab), lo = half_table(w, nh, L, vocab);
    double* row = h.data_ptr<double>() + filled * n_orb;
    const double* f = pf.data();
    bool missing = false;
    for (size_t i = 0; i < hi.size(); ++i, f += n_lo)
      for (int64_t j = 0; j < n_lo; ++j) {
        int32_t o = table.find(hi[i] + lo[j]);
        missing = missing || o < 0;
        row[std::max(o, 0)] += f[j];
      }
    check(!missing, "irrep power: internal: a sequence maps to no orbit", "this is a bug in attnlab::gp; please report it");
    tabloids += 1;
    if (++filled == block_rows) flush();
  } while (std::next_permutation(label.begin(), label.end()));
  if (filled > 0) flush();
  check(tabloids == tabloid_count(lambda), "irrep power: internal: wrong number of tabloids for " + partition_name(lambda),
        "this is a bug in attnlab::gp; please report it");
  IrrepPower out;
  out.c = c * (ir.dim / tabloids);
  out.c = 0.5 * (out.c + out.c.t());
  out.tabloids = tabloids;
  out.power = out.c.trace().item<double>();
  auto modes = (ir.eigvecs * torch::matmul(out.c, ir.eigvecs)).sum(0).contiguous();  // u_iᵀ C u_i
  out.mode_power.assign(modes.data_ptr<double>(), modes.data_ptr<double>() + b);
  return out;
}

}  // namespace

double irrep_power_work(const Spectrum& s) {
  double work = 0, n = std::pow((double)s.vocab, s.length);
  for (const auto& ir : s.irreps) work += tabloid_count(ir.lambda) * n;
  return work;
}

double irrep_power_work(int vocab, int length, int group_size) {
  double work = 0, n = std::pow((double)vocab, length);
  for (const auto& lambda : partitions(group_size))
    if (ssyt_count(lambda, vocab) > 0) work += tabloid_count(lambda) * n;
  return work;
}

void irrep_power_check_size(double work, int vocab, int length) {
  check(work <= kIrrepPowerWorkLimit,
        "irrep power: V = " + std::to_string(vocab) + ", L = " + std::to_string(length) + " needs " +
            std::to_string((int64_t)work) + " (coset, sequence) visits, above the limit " +
            std::to_string((int64_t)kIrrepPowerWorkLimit),
        "use a smaller --vocab or --length (V = 2: L <= 15, or L <= 16 with a last-token readout)");
}

std::vector<IrrepPower> irrep_powers(const Spectrum& s, const torch::Tensor& target,
                                     const std::function<void(const std::string&)>& progress) {
  irrep_power_check_size(irrep_power_work(s), s.vocab, s.length);
  auto seq_p = sequence_probs(s.vocab, s.length, s.token_probs);
  check(target.numel() == (int64_t)seq_p.size(), "irrep power: the target has " + std::to_string(target.numel()) +
                                                     " values, [V]^L has " + std::to_string(seq_p.size()),
        "give one value per sequence in base-V order");
  auto f = target.to(torch::kFloat64).contiguous();
  check(torch::isfinite(f).all().item<bool>(), "irrep power: the target has non-finite values (NaN or inf)",
        "give finite target values");
  std::vector<double> pf(seq_p.size());
  double norm2 = 0;
  for (size_t x = 0; x < pf.size(); ++x) {
    double fx = f.data_ptr<double>()[x];
    pf[x] = seq_p[x] * fx;
    norm2 += seq_p[x] * fx * fx;
  }
  std::vector<IrrepPower> out;
  double total = 0;
  for (const auto& ir : s.irreps) {
    if (progress) progress("irrep power: " + partition_name(ir.lambda) + " (" + std::to_string((int64_t)tabloid_count(ir.lambda)) + " tabloids)");
    out.push_back(irrep_power_one(ir, s.vocab, s.group_size, s.length, pf));
    total += out.back().power;
  }
  check(std::abs(total - norm2) <= 1e-8 * norm2 + 1e-300,
        "irrep power: internal: the powers per irrep add up to " + std::to_string(total) + ", ||f||^2 is " +
            std::to_string(norm2),
        "this is a bug in attnlab::gp; please report it");
  return out;
}

BlockModes block_modes(const Spectrum& s, const std::vector<IrrepPower>& powers) {
  check(powers.size() == s.irreps.size(), "block_modes: one IrrepPower per irrep is needed", "pass irrep_powers(s, f)");
  BlockModes m;
  for (size_t i = 0; i < s.irreps.size(); ++i)
    for (size_t j = 0; j < s.irreps[i].eigenvalues.size(); ++j) {
      m.eigs.push_back(s.irreps[i].eigenvalues[j]);
      m.power.push_back(powers[i].mode_power[j]);
      m.mult.push_back(s.irreps[i].dim);
      m.irrep.push_back((int)i);
    }
  return m;
}

IrrepPrediction eigenlearning_irreps(const BlockModes& modes, size_t n_irreps, double n, double ridge) {
  IrrepPrediction p;
  p.total = eigenlearning_predict(modes.eigs, modes.power, n, ridge, 0, modes.mult);
  p.by_irrep.assign(n_irreps, 0.0);
  for (size_t i = 0; i < modes.eigs.size(); ++i)
    if (p.total.residual[i] != 0) p.by_irrep[modes.irrep[i]] += p.total.e0 * p.total.residual[i];
  return p;
}

}  // namespace attnlab::gp
