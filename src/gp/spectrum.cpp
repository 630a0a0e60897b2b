// Isotypic (Schur–Weyl) block decomposition of an S_L-invariant kernel on [V]^L (see spectrum.h).
#include "gp/spectrum.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "util/error.h"

namespace attnlab::gp {

namespace {

// The S_λ-orbits of [V]^L: positions split into row blocks of sizes λ_1, λ_2, ...; an orbit's canonical
// representative has each block sorted.
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

std::vector<std::vector<int>> transpositions(int L) {
  std::vector<std::vector<int>> out;
  for (int i = 0; i < L; ++i)
    for (int j = i + 1; j < L; ++j) {
      std::vector<int> p(L);
      for (int k = 0; k < L; ++k) p[k] = k;
      std::swap(p[i], p[j]);
      out.push_back(p);
    }
  return out;
}

std::vector<std::vector<int>> three_cycles(int L) {
  std::vector<std::vector<int>> out;
  for (int i = 0; i < L; ++i)
    for (int j = i + 1; j < L; ++j)
      for (int k = j + 1; k < L; ++k)
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

// Orthonormal basis (orbit coordinates) of the λ-isotypic part of the S_λ-invariant functions.
torch::Tensor isotypic_basis(const Orbits& o, const Partition& lambda, int vocab, int L) {
  auto q = eigenspace(class_sum_matrix(o, lambda, vocab, transpositions(L)), (double)content_sum(lambda));
  bool collides = false;
  for (const auto& mu : partitions(L))
    collides = collides || (mu != lambda && partition_dominates(mu, lambda) && content_sum(mu) == content_sum(lambda));
  if (collides && q.size(1) > 0) {
    auto c3 = torch::matmul(q.t(), torch::matmul(class_sum_matrix(o, lambda, vocab, three_cycles(L)), q));
    q = torch::matmul(q, eigenspace(0.5 * (c3 + c3.t()), central_character(lambda, cycle_type_3cycle(L))));
  }
  return q;
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

Spectrum kernel_spectrum(const KernelSpec& spec, int vocab, int length, std::vector<double> token_probs,
                         const GramOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  check(spec.permutation_symmetric(),
        "spectrum: the kernel '" + spec.text + "' is not invariant under simultaneous permutations",
        "use pos=none or pos=iid, no causal mask and a meanpool readout");
  if (token_probs.empty()) token_probs.assign(vocab, 1.0 / vocab);
  check((int)token_probs.size() == vocab, "spectrum: " + std::to_string(token_probs.size()) +
                                              " token probabilities for V = " + std::to_string(vocab),
        "give one probability per token");
  Spectrum out{vocab, length, token_probs};
  auto seqs = all_sequences(vocab, length);
  auto seq_p = sequence_probs(vocab, length, token_probs);
  auto p_t = torch::tensor(seq_p, torch::kFloat64);
  torch::NoGradGuard no_grad;
  out.expected_diag = (kernel_diag(spec, seqs, opt) * p_t).sum().item<double>();
  for (const auto& lambda : partitions(length)) {
    double mult = ssyt_count(lambda, vocab);
    if (mult == 0) continue;
    Orbits o = orbits_build(lambda, vocab, length, seq_p);
    auto q = isotypic_basis(o, lambda, vocab, length);
    check(q.size(1) == (int64_t)mult, "spectrum: internal: the " + partition_name(lambda) + " block has size " +
                                          std::to_string(q.size(1)) + ", Schur–Weyl says " + std::to_string((int64_t)mult),
          "this is a bug in attnlab::gp; please report it");
    std::vector<int64_t> flat;
    for (const auto& r : o.reps) flat.insert(flat.end(), r.begin(), r.end());
    auto reps = torch::tensor(flat, torch::kInt64).view({(int64_t)o.reps.size(), length});
    auto g = kernel_gram(spec, reps, seqs, opt).k;  // [n_orb, V^L]
    auto of_seq = torch::tensor(o.of_seq, torch::kInt64);
    auto summed = torch::zeros({g.size(0), g.size(0)}, torch::kFloat64).index_add_(1, of_seq, g * p_t);
    auto mass = torch::tensor(o.mass, torch::kFloat64);
    auto t = summed * (mass.sqrt().unsqueeze(1) / mass.sqrt().unsqueeze(0));  // D^½ T D^−½
    t = 0.5 * (t + t.t());
    auto b = torch::matmul(q.t(), torch::matmul(t, q));
    auto [ev, vec] = torch::linalg::eigh(0.5 * (b + b.t()), "L");
    ev = ev.flip(0);
    vec = vec.flip(1);
    IrrepSpectrum ir{lambda, irrep_dimension(lambda), mult, partition_boxes_below_first_row(lambda)};
    ir.eigenvalues.assign(ev.data_ptr<double>(), ev.data_ptr<double>() + ev.numel());
    ir.basis = q;
    ir.eigvecs = vec;
    out.trace += ir.dim * ev.sum().item<double>();
    out.irreps.push_back(std::move(ir));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace attnlab::gp
