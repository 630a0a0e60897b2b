// Isotypic sectors of a (not necessarily invariant) kernel operator on [V]^L (see sectors.h). The class sums
// C2 (transpositions) and C3 (3-cycles) are built per S_L-orbit as integer matrices by applying each
// permutation to each member (no L! enumeration) and diagonalised densely there: their eigenvalues are integers
// (central characters), so the labels are exact, the basis is orthonormal by construction and no rank has to be
// guessed (a Lagrange polynomial in C2 applied to random blocks also reaches ~4e-14 eigen-residuals at V = 2,
// L = 12, but needs a QR with a rank decision). Σ_o n_o³ stays small: 0.27 s at V^L = 4096.
#include "gp/sectors.h"

#include <chrono>
#include <cmath>
#include <map>

#include "gp/spectrum.h"
#include "util/error.h"

namespace attnlab::gp {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The S_L-orbits of [V]^L: sequences with the same token counts. Members in base-V order.
struct OrbitIndex {
  std::vector<std::vector<int64_t>> members;  // per orbit: sequence indices
  std::vector<int64_t> local_of;              // [N] position of a sequence inside its orbit
};

OrbitIndex orbits_by_counts(int vocab, int length, int64_t n) {
  OrbitIndex o;
  o.local_of.resize(n);
  std::map<std::vector<int>, size_t> id_of_counts;
  std::vector<int> counts(vocab);
  for (int64_t s = 0; s < n; ++s) {
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t c = s, i = 0; i < length; ++i, c /= vocab) counts[c % vocab]++;
    auto [it, fresh] = id_of_counts.try_emplace(counts, o.members.size());
    if (fresh) o.members.emplace_back();
    o.local_of[s] = o.members[it->second].size();
    o.members[it->second].push_back(s);
  }
  return o;
}

// Position permutations p (y[p[i]] = x[i]) of a class: all transpositions or all 3-cycles of S_L.
std::vector<std::vector<int>> class_perms(int length, int cycle) {
  std::vector<std::vector<int>> out;
  std::vector<int> id(length);
  for (int i = 0; i < length; ++i) id[i] = i;
  for (int i = 0; i < length; ++i)
    for (int j = i + 1; j < length; ++j) {
      if (cycle == 2) {
        auto p = id;
        std::swap(p[i], p[j]);
        out.push_back(p);
        continue;
      }
      for (int k = j + 1; k < length; ++k) {
        auto p = id, q = id;
        p[i] = j, p[j] = k, p[k] = i;
        q[i] = k, q[k] = j, q[j] = i;
        out.push_back(p);
        out.push_back(q);
      }
    }
  return out;
}

// The class sum restricted to one orbit: [n_o, n_o], entry (a, b) = #{π in the class : π x_a = x_b}.
torch::Tensor class_sum_block(const std::vector<int64_t>& members, const OrbitIndex& o, int vocab, int length,
                              const std::vector<std::vector<int>>& perms) {
  int64_t n = members.size();
  auto m = torch::zeros({n, n}, torch::kFloat64);
  auto acc = m.accessor<double, 2>();
  std::vector<int64_t> x(length), y(length);
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t c = members[a], i = length - 1; i >= 0; --i, c /= vocab) x[i] = c % vocab;
    for (const auto& p : perms) {
      for (int i = 0; i < length; ++i) y[p[i]] = x[i];
      int64_t code = 0;
      for (int i = 0; i < length; ++i) code = code * vocab + y[i];
      acc[a][o.local_of[code]] += 1;
    }
  }
  return m;
}

// Class-sum eigenvalues of the used irreps; Error when two share both (none do for L ≤ 12).
struct IrrepLabels {
  std::vector<double> c2, c3;  // [n_sectors] content sum, 3-cycle central character (0 when L < 3)
  bool need_c3 = false;        // some content is shared by two used irreps
};

IrrepLabels irrep_labels(const std::vector<Partition>& irreps, int length) {
  IrrepLabels l;
  for (const auto& lam : irreps) {
    l.c2.push_back((double)content_sum(lam));
    l.c3.push_back(length >= 3 ? central_character(lam, cycle_type_3cycle(length)) : 0.0);
  }
  for (size_t s = 0; s < irreps.size(); ++s)
    for (size_t t = s + 1; t < irreps.size(); ++t) {
      if (l.c2[s] != l.c2[t]) continue;
      l.need_c3 = true;
      check(std::abs(l.c3[s] - l.c3[t]) > 0.5,
            "sectors: the irreps " + partition_name(irreps[s]) + " and " + partition_name(irreps[t]) +
                " share the eigenvalues of the transposition and 3-cycle class sums",
            "this V and L need a further class sum to separate them; use a smaller --length");
    }
  return l;
}

// Sectors whose label `value` is within 0.5 of the eigenvalue ev (labels are integers); candidates restrict.
std::vector<int> sectors_matching(const std::vector<double>& value, const std::vector<int>& candidates, double ev) {
  std::vector<int> out;
  for (int s : candidates)
    if (std::abs(value[s] - ev) < 0.5) out.push_back(s);
  return out;
}

// Eigenvectors of one orbit's class sums, each labelled with its sector: columns of vecs, label per column.
void orbit_diagonalise(const std::vector<int64_t>& members, const OrbitIndex& o, const IsotypicBasis& b,
                       const IrrepLabels& lab, torch::Tensor& vecs, std::vector<int>& labels) {
  int vocab = b.vocab, length = b.length;
  auto [ev, vec] = torch::linalg::eigh(class_sum_block(members, o, vocab, length, class_perms(length, 2)), "L");
  std::vector<int> all(b.irreps.size());
  for (size_t s = 0; s < all.size(); ++s) all[s] = s;
  std::vector<torch::Tensor> parts;
  torch::Tensor c3;  // built on first need
  std::vector<double> evs(ev.data_ptr<double>(), ev.data_ptr<double>() + ev.numel());
  int64_t n = evs.size();
  for (int64_t i = 0; i < n;) {  // runs of equal (integer) eigenvalues, ascending
    double e = evs[i];
    int64_t j = i;
    while (j < n && std::abs(evs[j] - e) < 0.5) ++j;
    check(std::abs(e - std::round(e)) < 1e-6, "sectors: internal: a transposition class-sum eigenvalue " +
                                                   std::to_string(e) + " is not an integer",
          "this is a bug in attnlab::gp; please report it");
    auto cand = sectors_matching(lab.c2, all, std::round(e));
    check(!cand.empty(), "sectors: internal: no used irrep has content " + std::to_string(e),
          "this is a bug in attnlab::gp; please report it");
    auto block = vec.narrow(1, i, j - i);
    if (cand.size() == 1) {
      parts.push_back(block);
      labels.insert(labels.end(), j - i, cand[0]);
    } else {  // a content collision: split by the 3-cycle class sum inside this eigenspace
      if (!c3.defined()) c3 = class_sum_block(members, o, vocab, length, class_perms(length, 3));
      auto m = torch::matmul(block.t(), torch::matmul(c3, block));
      auto [ev3, vec3] = torch::linalg::eigh(0.5 * (m + m.t()), "L");
      parts.push_back(torch::matmul(block, vec3));
      for (int64_t k = 0; k < ev3.numel(); ++k) {
        auto hit = sectors_matching(lab.c3, cand, ev3[k].item<double>());
        check(hit.size() == 1, "sectors: internal: a 3-cycle class-sum eigenvalue " +
                                   std::to_string(ev3[k].item<double>()) + " matches no used irrep",
              "this is a bug in attnlab::gp; please report it");
        labels.push_back(hit[0]);
      }
    }
    i = j;
  }
  vecs = torch::cat(parts, 1);
}

}  // namespace

IsotypicBasis isotypic_basis_build(int vocab, int length) {
  auto t0 = Clock::now();
  double n_seq = std::pow((double)vocab, (double)length);
  check(vocab >= 1 && length >= 1 && n_seq <= (double)kSectorsMaxSequences,
        "sectors: [V]^L with V = " + std::to_string(vocab) + ", L = " + std::to_string(length) + " has " +
            (n_seq < 1e15 ? std::to_string((int64_t)n_seq) : std::string("more than 10^15")) +
            " sequences; the dense operator is limited to " + std::to_string(kSectorsMaxSequences),
        "use V^L <= 4096: V = 2 up to L = 12, V = 3 up to L = 7, V = 4 up to L = 6, V = 8 up to L = 4");
  IsotypicBasis b;
  b.vocab = vocab;
  b.length = length;
  for (const auto& lam : partitions(length))
    if (ssyt_count(lam, vocab) > 0) b.irreps.push_back(lam);
  auto lab = irrep_labels(b.irreps, length);
  auto o = orbits_by_counts(vocab, length, (int64_t)std::llround(n_seq));
  size_t n_sec = b.irreps.size();
  std::vector<std::vector<int>> labels(o.members.size());
  std::vector<int64_t> count(n_sec, 0);
  for (size_t k = 0; k < o.members.size(); ++k) {
    torch::Tensor vecs;
    orbit_diagonalise(o.members[k], o, b, lab, vecs, labels[k]);
    for (int s : labels[k]) count[s]++;
    b.orbit_seqs.push_back(torch::tensor(o.members[k], torch::kInt64));
    b.orbit_vecs.push_back(vecs);
  }
  b.offset.assign(n_sec + 1, 0);
  for (size_t s = 0; s < n_sec; ++s) {
    double rank = irrep_dimension(b.irreps[s]) * ssyt_count(b.irreps[s], vocab);
    check(count[s] == (int64_t)rank, "sectors: internal: the " + partition_name(b.irreps[s]) + " sector has rank " +
                                         std::to_string(count[s]) + ", d_lambda * #SSYT = " + std::to_string((int64_t)rank),
          "this is a bug in attnlab::gp; please report it");
    b.offset[s + 1] = b.offset[s] + count[s];
  }
  std::vector<int64_t> next(b.offset.begin(), b.offset.end() - 1);  // next free column per sector
  for (size_t k = 0; k < o.members.size(); ++k) {
    std::vector<int64_t> cols;
    for (int s : labels[k]) cols.push_back(next[s]++);
    b.orbit_cols.push_back(torch::tensor(cols, torch::kInt64));
  }
  b.seconds = since(t0);
  return b;
}

torch::Tensor isotypic_basis_dense(const IsotypicBasis& b) {
  int64_t n = b.offset.back();
  auto u = torch::zeros({n, n}, torch::kFloat64);
  for (size_t k = 0; k < b.orbit_seqs.size(); ++k) {
    auto rows = torch::zeros({(int64_t)b.orbit_seqs[k].numel(), n}, torch::kFloat64);
    rows.index_copy_(1, b.orbit_cols[k], b.orbit_vecs[k]);
    u.index_copy_(0, b.orbit_seqs[k], rows);
  }
  return u;
}

torch::Tensor isotypic_basis_sector(const IsotypicBasis& b, int s) {
  check(s >= 0 && s < (int)b.irreps.size(), "sectors: no sector " + std::to_string(s),
        "sectors are numbered 0.." + std::to_string((int)b.irreps.size() - 1));
  return isotypic_basis_dense(b).narrow(1, b.offset[s], b.offset[s + 1] - b.offset[s]).contiguous();
}

torch::Tensor isotypic_rotate(const IsotypicBasis& b, const torch::Tensor& t) {
  int64_t n = b.offset.back();
  check(t.dim() == 2 && t.size(0) == n && t.size(1) == n,
        "sectors: the operator must be [" + std::to_string(n) + ", " + std::to_string(n) + "]",
        "pass the dense operator on all V^L sequences (operator_dense)");
  auto tu = torch::empty({n, n}, torch::kFloat64);  // T U, one orbit's columns at a time
  for (size_t k = 0; k < b.orbit_seqs.size(); ++k)
    tu.index_copy_(1, b.orbit_cols[k], torch::matmul(t.index_select(1, b.orbit_seqs[k]), b.orbit_vecs[k]));
  auto out = torch::empty({n, n}, torch::kFloat64);  // Uᵀ (T U), one orbit's rows at a time
  for (size_t k = 0; k < b.orbit_seqs.size(); ++k)
    out.index_copy_(0, b.orbit_cols[k], torch::matmul(b.orbit_vecs[k].t(), tu.index_select(0, b.orbit_seqs[k])));
  return out;
}

Sectors operator_sectors(const torch::Tensor& t, const IsotypicBasis& b, int top, const SectorProgress& progress) {
  auto t0 = Clock::now();
  if (progress) progress("sectors: rotating T into the isotypic basis (" + std::to_string(t.size(0)) + " x " +
                         std::to_string(t.size(0)) + ")");
  auto r = isotypic_rotate(b, t.to(torch::kFloat64));
  r = 0.5 * (r + r.t());
  Sectors out;
  out.vocab = b.vocab;
  out.length = b.length;
  out.norm = r.norm().item<double>();
  double off_total = 0;
  for (size_t s = 0; s < b.irreps.size(); ++s) {
    int64_t lo = b.offset[s], n = b.offset[s + 1] - lo, total = r.size(0);
    auto col = r.narrow(1, lo, n);
    auto block = col.narrow(0, lo, n);
    double off = col.narrow(0, 0, lo).pow(2).sum().item<double>() +
                 col.narrow(0, lo + n, total - lo - n).pow(2).sum().item<double>();
    off_total += off;
    SectorStats st{b.irreps[s], irrep_dimension(b.irreps[s]), ssyt_count(b.irreps[s], b.vocab), n};
    st.trace = block.trace().item<double>();
    st.leakage = std::sqrt(off) / std::max(col.norm().item<double>(), 1e-12 * out.norm);
    auto ev = torch::linalg::eigvalsh(block.contiguous(), "L").flip(0).contiguous();
    st.eigenvalues.assign(ev.data_ptr<double>(), ev.data_ptr<double>() + ev.numel());
    out.trace += st.trace;
    out.sectors.push_back(std::move(st));
  }
  for (auto& st : out.sectors) st.share = out.trace != 0 ? st.trace / out.trace : 0;
  out.defect = out.norm > 0 ? std::sqrt(off_total) / out.norm : 0;
  out.seconds_sectors = since(t0);
  top = std::min<int64_t>(std::max(top, 0), r.size(0));
  if (top > 0) {
    auto t1 = Clock::now();
    if (progress) progress("sectors: eigendecomposition of T (" + std::to_string(r.size(0)) + " x " +
                           std::to_string(r.size(0)) + ")");
    auto [ev, vec] = torch::linalg::eigh(r, "L");
    auto psi2 = vec.narrow(1, r.size(0) - top, top).flip(1).pow(2);  // [N, top] in sector coordinates
    for (int i = 0; i < top; ++i) {
      TopMode m;
      m.eigenvalue = ev[r.size(0) - 1 - i].item<double>();
      for (size_t s = 0; s < b.irreps.size(); ++s) {
        m.weights.push_back(psi2.narrow(0, b.offset[s], b.offset[s + 1] - b.offset[s]).select(1, i).sum().item<double>());
        if (m.weights[s] > m.weights[m.dominant]) m.dominant = (int)s;
      }
      out.top.push_back(std::move(m));
    }
    out.seconds_eigh = since(t1);
  }
  return out;
}

Sectors kernel_sectors(const KernelSpec& spec, int vocab, int length, std::vector<double> token_probs,
                       const GramOptions& opt, int top, const SectorProgress& progress) {
  auto t0 = Clock::now();
  auto basis = isotypic_basis_build(vocab, length);  // validates V^L first
  if (token_probs.empty()) token_probs.assign(vocab, 1.0 / vocab);
  check((int)token_probs.size() == vocab, "sectors: " + std::to_string(token_probs.size()) +
                                              " token probabilities for V = " + std::to_string(vocab),
        "give one probability per token");
  for (double q : token_probs)
    check(std::isfinite(q) && q >= 0, "sectors: token probability " + std::to_string(q) + " is not >= 0",
          "give non-negative probabilities summing to 1");
  auto seqs = all_sequences(vocab, length);
  auto seq_p = sequence_probs(vocab, length, token_probs);
  if (progress) progress("sectors: kernel on all " + std::to_string(seqs.size(0)) + " sequences");
  torch::NoGradGuard no_grad;
  auto t1 = Clock::now();
  auto t = operator_dense(kernel_gram(spec, seqs, seqs, opt).k, seq_p);
  double ediag = (kernel_diag(spec, seqs, opt) * torch::tensor(seq_p, torch::kFloat64)).sum().item<double>();
  double secs_kernel = since(t1);
  Sectors out = operator_sectors(t, basis, top, progress);
  out.token_probs = token_probs;
  out.expected_diag = ediag;
  out.seconds_kernel = secs_kernel;
  out.seconds_basis = basis.seconds;
  out.seconds = since(t0);
  return out;
}

}  // namespace attnlab::gp
