// Isotypic (Schur–Weyl) block decomposition of an S_L- or S_{L−1}-invariant kernel on [V]^L (see spectrum.h).
#include "gp/spectrum.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "util/error.h"

namespace attnlab::gp {

namespace {

// The S_λ-orbits of [V]^L, λ ⊢ m: positions 0..m−1 split into row blocks of sizes λ_1, λ_2, ...; an orbit's
// canonical representative has each block sorted (positions m..L−1 are spectators, kept as they are).
struct Orbits {
  std::vector<std::vector<int64_t>> reps;  // canonical representatives
  std::vector<int64_t> of_seq;             // [V^L] orbit id of each sequence (base-V order)
  std::vector<double> size, mass;          // |O| and Σ_{x∈O} p(x)
  std::unordered_map<int64_t, int64_t> id_of_code;
};

int64_t seq_code(const std::vector<int64_t>& x, int vocab) {
  int64_t c = 0;
  for (int64_t t : x) c = c * vocab + t;
  return c;
}

std::vector<int64_t> canonical(std::vector<int64_t> x, const Partition& lambda) {
  size_t start = 0;
  for (int part : lambda) {
    std::sort(x.begin() + start, x.begin() + start + part);
    start += part;
  }
  return x;
}

Orbits orbits_build(const Partition& lambda, int vocab, int length, const std::vector<double>& seq_p) {
  Orbits o;
  int64_t n = seq_p.size();
  o.of_seq.resize(n);
  std::vector<int64_t> x(length);
  for (int64_t s = 0; s < n; ++s) {
    int64_t c = s;
    for (int i = length - 1; i >= 0; --i, c /= vocab) x[i] = c % vocab;
    auto canon = canonical(x, lambda);
    int64_t code = seq_code(canon, vocab);
    auto [it, fresh] = o.id_of_code.try_emplace(code, (int64_t)o.reps.size());
    if (fresh) {
      o.reps.push_back(canon);
      o.size.push_back(0);
      o.mass.push_back(0);
    }
    o.of_seq[s] = it->second;
    o.size[it->second] += 1;
    o.mass[it->second] += seq_p[s];
  }
  return o;
}

// A class sum (a list of position permutations) on the orthonormal orbit basis u_O = 1_O / √mass_O.
torch::Tensor class_sum_matrix(const Orbits& o, const Partition& lambda, int vocab,
                               const std::vector<std::vector<int>>& perms) {
  int64_t n = o.reps.size();
  auto c = torch::zeros({n, n}, torch::kFloat64);
  auto acc = c.accessor<double, 2>();
  for (int64_t r = 0; r < n; ++r) {
    const auto& x = o.reps[r];
    std::vector<int64_t> y(x.size());
    for (const auto& p : perms) {
      for (size_t i = 0; i < x.size(); ++i) y[p[i]] = x[i];
      acc[r][o.id_of_code.at(seq_code(canonical(y, lambda), vocab))] += 1;
    }
  }
  auto mass = torch::tensor(o.mass, torch::kFloat64).sqrt();
  c = c * mass.unsqueeze(1) / mass.unsqueeze(0);
  return 0.5 * (c + c.t());
}

// Transpositions / 3-cycles of S_m as permutations of L ≥ m positions (fixing m..L−1).
std::vector<std::vector<int>> transpositions(int m, int L) {
  std::vector<std::vector<int>> out;
  for (int i = 0; i < m; ++i)
    for (int j = i + 1; j < m; ++j) {
      std::vector<int> p(L);
      for (int k = 0; k < L; ++k) p[k] = k;
      std::swap(p[i], p[j]);
      out.push_back(p);
    }
  return out;
}

std::vector<std::vector<int>> three_cycles(int m, int L) {
  std::vector<std::vector<int>> out;
  for (int i = 0; i < m; ++i)
    for (int j = i + 1; j < m; ++j)
      for (int k = j + 1; k < m; ++k)
        for (int dir = 0; dir < 2; ++dir) {
          std::vector<int> p(L);
          for (int m = 0; m < L; ++m) p[m] = m;
          if (dir == 0) { p[i] = j; p[j] = k; p[k] = i; }
          else { p[i] = k; p[k] = j; p[j] = i; }
          out.push_back(p);
        }
  return out;
}

// Columns of an orthonormal eigenbasis of the symmetric m whose eigenvalues are within 0.5 of `value`.
torch::Tensor eigenspace(const torch::Tensor& m, double value) {
  auto [ev, vec] = torch::linalg::eigh(m, "L");
  auto sel = ((ev - value).abs() < 0.5).nonzero().flatten();
  return vec.index_select(1, sel);
}

// Orthonormal basis (orbit coordinates) of the λ-isotypic part of the S_λ-invariant functions, λ ⊢ m.
// Only μ ⊵ λ occur among the S_λ-invariants (Kostka K_μλ > 0), so only their contents can collide.
torch::Tensor isotypic_basis(const Orbits& o, const Partition& lambda, int vocab, int m, int L) {
  auto q = eigenspace(class_sum_matrix(o, lambda, vocab, transpositions(m, L)), (double)content_sum(lambda));
  bool collides = false;
  for (const auto& mu : partitions(m))
    collides = collides || (mu != lambda && partition_dominates(mu, lambda) && content_sum(mu) == content_sum(lambda));
  if (collides && q.size(1) > 0) {
    auto c3 = torch::matmul(q.t(), torch::matmul(class_sum_matrix(o, lambda, vocab, three_cycles(m, L)), q));
    q = torch::matmul(q, eigenspace(0.5 * (c3 + c3.t()), central_character(lambda, cycle_type_3cycle(m))));
  }
  return q;
}

// b orbits whose rows of q are well conditioned: greedy pivoting (the row with the largest residual after
// projecting out the rows already chosen). Returns the orbit ids and σ_min(q_S).
std::pair<torch::Tensor, double> pivot_orbits(const torch::Tensor& q) {
  int64_t b = q.size(1);
  auto r = q.clone();
  std::vector<int64_t> chosen;
  for (int64_t k = 0; k < b; ++k) {
    int64_t i = r.pow(2).sum(1).argmax().item<int64_t>();
    auto v = r[i] / r[i].norm();
    r -= torch::outer(torch::mv(r, v), v);
    chosen.push_back(i);
  }
  auto sel = torch::tensor(chosen, torch::kInt64);
  auto qs = q.index_select(0, sel);
  double smin = std::sqrt(std::max(0.0, torch::linalg::eigvalsh(torch::matmul(qs.t(), qs), "L").min().item<double>()));
  return {sel, smin};
}

// B_λ = qᵀ (D^½ T D^−½) q in the orbit coordinates; row O of D^½ T D^−½ needs the kernel row of O's representative
// only. T maps span(q) into itself (T q = q B_λ), so B_λ = q_S⁻¹ (T q)_S on b pivot orbits S: b kernel rows
// instead of n_orb. When q_S is ill-conditioned (σ_min < 1e-3) every row is computed.
torch::Tensor block_matrix(const KernelSpec& spec, const Orbits& o, const torch::Tensor& reps, const torch::Tensor& q,
                           const torch::Tensor& seqs, const torch::Tensor& p_t, const GramOptions& opt) {
  int64_t n_orb = reps.size(0);
  auto [sel, smin] = pivot_orbits(q);
  bool pivot = smin >= 1e-3 && q.size(1) < n_orb;
  if (!pivot) sel = torch::arange(n_orb, torch::kInt64);
  auto g = kernel_gram(spec, reps.index_select(0, sel), seqs, opt).k;  // [rows, V^L]
  auto of_seq = torch::tensor(o.of_seq, torch::kInt64);
  auto summed = torch::zeros({g.size(0), n_orb}, torch::kFloat64).index_add_(1, of_seq, g * p_t);
  auto mass_sqrt = torch::tensor(o.mass, torch::kFloat64).sqrt();
  auto t = summed * (mass_sqrt.index_select(0, sel).unsqueeze(1) / mass_sqrt.unsqueeze(0));  // rows of D^½ T D^−½
  torch::Tensor b;
  if (pivot) {
    b = torch::linalg::solve(q.index_select(0, sel), torch::matmul(t, q), true);
  } else {
    t = 0.5 * (t + t.t());
    b = torch::matmul(q.t(), torch::matmul(t, q));
  }
  return 0.5 * (b + b.t());
}

}  // namespace

torch::Tensor all_sequences(int vocab, int length) {
  double n = std::pow((double)vocab, length);
  check(vocab >= 1 && length >= 1 && n <= (double)(1 << 22),
        "[V]^L with V = " + std::to_string(vocab) + ", L = " + std::to_string(length) + " has " +
            std::to_string((int64_t)n) + " sequences (the limit is 2^22)",
        "use a smaller vocabulary or length");
  auto codes = torch::arange((int64_t)n, torch::kInt64);
  auto out = torch::empty({(int64_t)n, length}, torch::kInt64);
  for (int i = length - 1; i >= 0; --i) {
    out.select(1, i).copy_(codes.remainder(vocab));
    codes = codes.div(vocab, "floor");
  }
  return out;
}

std::vector<double> sequence_probs(int vocab, int length, const std::vector<double>& q) {
  int64_t n = (int64_t)std::llround(std::pow((double)vocab, length));
  std::vector<double> p(n, 1.0);
  for (int64_t s = 0; s < n; ++s)
    for (int64_t c = s, i = 0; i < length; ++i, c /= vocab) p[s] *= q[c % vocab];
  return p;
}

torch::Tensor operator_dense(const torch::Tensor& gram_all, const std::vector<double>& seq_probs) {
  auto sp = torch::tensor(seq_probs, torch::kFloat64).sqrt();
  auto t = gram_all * sp.unsqueeze(1) * sp.unsqueeze(0);
  return 0.5 * (t + t.t());
}

int spectrum_group_size(SymmetryGroup group, int length) {
  return group == SymmetryGroup::AllButLast && length > 1 ? length - 1 : length;
}

Spectrum kernel_spectrum(const KernelSpec& spec, int vocab, int length, std::vector<double> token_probs,
                         const GramOptions& opt, const std::function<void(const std::string&)>& progress) {
  auto t0 = std::chrono::steady_clock::now();
  auto group = spec.symmetry();
  check(group != SymmetryGroup::None,
        "spectrum: the kernel '" + spec.text + "' is not invariant under simultaneous permutations of the positions "
        "(decayed positions, or a causal mask that the readout sees through)",
        "for kernels without permutation symmetry use `attnlab gp sectors`; for S_L use pos=none|iid, no causal mask "
        "and meanpool; for S_{L-1} use a `last` readout (a causal mask only on the last attention layer)");
  if (token_probs.empty()) token_probs.assign(vocab, 1.0 / vocab);
  check((int)token_probs.size() == vocab, "spectrum: " + std::to_string(token_probs.size()) +
                                              " token probabilities for V = " + std::to_string(vocab),
        "give one probability per token");
  int m = spectrum_group_size(group, length);
  Spectrum out{vocab, length, m, symmetry_group_name(group), token_probs};
  auto seqs = all_sequences(vocab, length);
  auto seq_p = sequence_probs(vocab, length, token_probs);
  auto p_t = torch::tensor(seq_p, torch::kFloat64);
  torch::NoGradGuard no_grad;
  out.expected_diag = (kernel_diag(spec, seqs, opt) * p_t).sum().item<double>();
  double spectators = std::pow((double)vocab, length - m);
  for (const auto& lambda : partitions(m)) {
    double ssyt = ssyt_count(lambda, vocab), mult = ssyt * spectators;
    if (ssyt == 0) continue;
    if (progress) progress("spectrum: irrep " + partition_name(lambda) + " (block " + std::to_string((int64_t)mult) + ")");
    Orbits o = orbits_build(lambda, vocab, length, seq_p);
    auto q = isotypic_basis(o, lambda, vocab, m, length);
    check(q.size(1) == (int64_t)mult, "spectrum: internal: the " + partition_name(lambda) + " block has size " +
                                          std::to_string(q.size(1)) + ", Schur–Weyl says " + std::to_string((int64_t)mult),
          "this is a bug in attnlab::gp; please report it");
    std::vector<int64_t> flat;
    for (const auto& r : o.reps) flat.insert(flat.end(), r.begin(), r.end());
    auto reps = torch::tensor(flat, torch::kInt64).view({(int64_t)o.reps.size(), length});
    auto [ev, vec] = torch::linalg::eigh(block_matrix(spec, o, reps, q, seqs, p_t, opt), "L");
    ev = ev.flip(0);
    vec = vec.flip(1);
    IrrepSpectrum ir{lambda, irrep_dimension(lambda), mult, ssyt, partition_boxes_below_first_row(lambda)};
    ir.eigenvalues.assign(ev.data_ptr<double>(), ev.data_ptr<double>() + ev.numel());
    ir.basis = q;
    ir.eigvecs = vec;
    ir.orbit_reps = reps;
    ir.orbit_mass = torch::tensor(o.mass, torch::kFloat64);
    out.trace += ir.dim * ev.sum().item<double>();
    out.irreps.push_back(std::move(ir));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace attnlab::gp
