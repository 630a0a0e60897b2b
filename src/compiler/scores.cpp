// Numerical comparisons as attention score functions (docs/compiler.md "Numerical comparisons").
// A selector pair whose keys or queries are annotated numerical(...) and whose table is one of ==, <, <=, >, >=
// on the numbers k (key) and q (query) is scored from the numerical views — a few query·key features instead
// of one feature per value (and no MLP for a categorical view). In the score units of heads.cpp (the BOS key
// scores θ = -1/2 for aggregates, 0 for widths; λ scales everything):
//   == exact:   s = (2kq - k² - q²)/δ² = -(k - q)²/δ²   query (q, 1, q²) · key (2k, -k², -1)/δ²
//               selected 0, others <= -1 (δ = smallest |k - q| != 0); needs k² and q² as free functionals.
//   == offset:  s = (2kq - k²)/δ² = q²/δ² - (k - q)²/δ²  query (q, 1) · key (2k, -k²)/δ²
//               every key is shifted by the same q²/δ² >= 0, so the BOS key at θ = -1/2 still loses by >= 1/2
//               — valid only when the head always selects some key (keys are a function of indices that takes
//               every queried value at every length) and the head is a lone-pair aggregate; needs k² only.
//   threshold:  s = σ(k - q)·2/g + c (σ = -1 for <, <=, +1 for >, >=; c = -1 strict, +1 non-strict;
//               g = the smallest gap across the boundary), so selected keys score >= 1 and others <= -1 — but
//               not equally, so only for a lone-pair categorical aggregate (all selected values agree, so any
//               weighting of them copies the same value); query (1, q) · key (σ·2k/g + c, -σ·2/g).
// Every key feature is 0 at the BOS key, so the BOS key keeps its level θ. The pair is refused (the table
// path of heads.cpp is used) for != and other tables, for strings, when k² / q² are not free, and when the
// scores grow so large that rounding could break the margins or the equal weights (max_magnitude below).
#include <algorithm>
#include <cmath>

#include "compiler/blocks.h"
#include "compiler/values.h"
#include "rasp/print.h"
#include "util/error.h"

namespace attnlab::compiler {

using rasp::Cmp;
using rasp::NodeKind;

namespace {

std::string node_name(const Node* n) { return n->name.empty() ? n->label() : n->name; }

// The comparison a pair's table is, over its value sets (merged tables included); nullopt when none.
std::optional<Cmp> table_relation(const Pair& pair, const std::vector<Atom>& K, const std::vector<Atom>& Q) {
  for (Cmp c : {Cmp::Eq, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge}) {
    bool same = true;
    for (size_t k = 0; k < K.size() && same; ++k)
      for (size_t q = 0; q < Q.size() && same; ++q) {
        bool want = false;
        try {
          want = rasp::cmp_apply(c, K[k], Q[q]);
        } catch (const Error&) {
          return std::nullopt;
        }
        same = (pair.table[k * Q.size() + q] != 0) == want;
      }
    if (same) return c;
  }
  return std::nullopt;
}

// Largest score magnitude (in units of the margin) for which rounding, ≈ λ·magnitude·2^-52 ≈ magnitude·1.5e-14,
// stays far below what the use tolerates: a mean needs equal weights to ~1e-11 (outputs within 1e-9); a width
// x = 1/(w+1) is decoded with a quarter of its gap, >= 1/(4(N+1)²) ~ 6e-5, to spare; a copy needs the margin.
double max_magnitude(HeadUse use) {
  switch (use) {
    case HeadUse::Mean: return 1e3;
    case HeadUse::Count: return 1e6;
    default: return 1e9;
  }
}
constexpr double kMaxMagnitudeMargin = 1e9;

}  // namespace

std::optional<Affine> BlockBuilder::square_view(const Node* n) {
  auto memo = square_memo_.find(n);
  if (memo != square_memo_.end()) return memo->second;
  std::optional<Affine> out;
  if (n->kind == NodeKind::Const) {
    double v = atom_number(n->constant.atom);
    out = Affine::constant(v * v);
    return square_memo_[n] = out;
  }
  const std::set<int>& fr = frontier(n);
  Leaf* single = fr.size() == 1 ? p.leaves[static_cast<size_t>(*fr.begin())].get() : nullptr;
  if (fr.empty()) {
    double v = atom_number(eval(n, {}));
    out = Affine::constant(v * v);
  } else if (single && single->kind == LeafKind::Indices && n->kind != NodeKind::SelectorWidth) {
    // a function of indices: its square is one more positional feature (a W_pos column)
    const int N = p.opt.max_len;
    int src = p.source_add(SourceKind::Positional, node_name(n) + "^2", {"value"});
    Source& s = p.sources[static_cast<size_t>(src)];
    s.pos_rows.assign(static_cast<size_t>(N) + 1, std::vector<double>(1, 0.0));
    for (int i = 0; i < N; ++i) {
      try {
        double v = atom_number(eval(n, {{single->id, Atom{int64_t{i}}}}));
        s.pos_rows[static_cast<size_t>(i) + 1][0] = v * v;
      } catch (const Error&) {
      }
    }
    out = Affine::unit(src, 0);
  } else if (single && single->kind != LeafKind::Indices && !single->ind.empty()) {
    Affine a;  // Σ_v F(v)²·[leaf = v]: free from the leaf's one-hot
    for (const auto& [val, ind] : single->ind) {
      try {
        double v = atom_number(eval(n, {{single->id, val}}));
        a.add(ind, v * v);
      } catch (const Error&) {
      }
    }
    out = a;
  }
  return square_memo_[n] = out;
}

// Keys that are a function of indices take every value {F(i) : i < n} at every input of length n; true when
// each value the queries can take at length n then has a key that the relation selects.
bool BlockBuilder::score_pair_total(const Pair& pair) {
  const std::set<int>& fr = frontier(pair.keys);
  if (fr.size() != 1 || p.leaves[static_cast<size_t>(*fr.begin())]->kind != LeafKind::Indices) return false;
  if (pair.keys->kind == NodeKind::SelectorWidth) return false;
  const int idx = *fr.begin();
  const ValueSet& qs = p.values.at(pair.queries);
  std::vector<Atom> present;
  for (int n = 1; n <= p.opt.max_len; ++n) {
    try {
      present.push_back(eval(pair.keys, {{idx, Atom{int64_t{n - 1}}}}));
    } catch (const Error&) {
      return false;
    }
    for (const Atom& q : qs.per_len[static_cast<size_t>(n)]) {
      bool hit = std::any_of(present.begin(), present.end(), [&](const Atom& k) { return rasp::atom_equal(k, q); });
      if (!hit) return false;
    }
  }
  return true;
}

std::optional<ScorePair> BlockBuilder::score_pair(const Pair& pair, HeadUse use, size_t pairs_in_monomial) {
  if (pair.keys->encoding != rasp::Encoding::Numerical && pair.queries->encoding != rasp::Encoding::Numerical)
    return std::nullopt;
  const auto& K = p.values.at(pair.keys).all;
  const auto& Q = p.values.at(pair.queries).all;
  auto numbers = [](const std::vector<Atom>& v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](const Atom& a) { return !rasp::atom_is_str(a); });
  };
  if (!numbers(K) || !numbers(Q)) return std::nullopt;
  std::optional<Cmp> rel = table_relation(pair, K, Q);
  if (!rel) return std::nullopt;
  double scale = 1.0;  // largest |value|
  for (const Atom& a : K) scale = std::max(scale, std::fabs(atom_number(a)));
  for (const Atom& a : Q) scale = std::max(scale, std::fabs(atom_number(a)));
  const bool lone = pairs_in_monomial == 1 && use != HeadUse::Count;
  ScorePair sp;
  if (*rel == Cmp::Eq) {
    double delta = INFINITY;
    for (const Atom& k : K)
      for (const Atom& q : Q) {
        double d = std::fabs(atom_number(k) - atom_number(q));
        if (d > 0) delta = std::min(delta, d);
      }
    if (!std::isfinite(delta)) delta = 1.0;  // every key equals every query: any δ
    if (delta <= 1e-9 * scale) return std::nullopt;  // values apart by rounding only: the table path is exact
    const double magnitude = 4.0 * scale * scale / (delta * delta);
    std::optional<Affine> k2 = square_view(pair.keys);
    if (!k2) return std::nullopt;
    const bool offset = lone && magnitude <= kMaxMagnitudeMargin && score_pair_total(pair);
    std::optional<Affine> q2;
    if (!offset) {
      if (magnitude > max_magnitude(use)) return std::nullopt;
      q2 = square_view(pair.queries);
      if (!q2) return std::nullopt;
    }
    const double w = 1.0 / (delta * delta);
    Affine kf;
    kf.add(num_view(pair.keys), 2.0 * w);
    Affine k2f;
    k2f.add(*k2, -w);
    sp.q = {num_view(pair.queries), Affine::constant(1.0)};
    sp.k = {kf, k2f};
    if (q2) {
      sp.q.push_back(*q2);
      sp.k.push_back(Affine::constant(-w));
    }
    double qb = p.bos_value(num_view(pair.queries));
    for (const Atom& a : K) {
      double k = atom_number(a);
      double s = w * (2 * k * qb - k * k - (q2 ? qb * qb : 0.0));
      sp.bos_query_max = std::max(sp.bos_query_max, s);
    }
    sp.how = offset ? "score == (offset)" : "score ==";
    return sp;
  }
  // thresholds: a lone pair of a categorical aggregate only (selected keys score unequally)
  if (!lone || use != HeadUse::Copy) return std::nullopt;
  const double sigma = (*rel == Cmp::Lt || *rel == Cmp::Le) ? -1.0 : 1.0;
  const bool strict = *rel == Cmp::Lt || *rel == Cmp::Gt;
  double gap = INFINITY;
  for (const Atom& ka : K)
    for (const Atom& qa : Q) {
      double d = sigma * (atom_number(ka) - atom_number(qa));  // > 0 (strict) / >= 0: selected
      double across = strict ? d : -d;                           // the smallest positive distance to the boundary
      if (across > 0) gap = std::min(gap, across);
    }
  if (!std::isfinite(gap) || gap <= 1e-9 * scale) return std::nullopt;
  const double a = 2.0 / gap, c = strict ? -1.0 : 1.0;
  if (2.0 * scale * a + 1.0 > kMaxMagnitudeMargin) return std::nullopt;
  Affine kf = Affine::constant(c);
  kf.add(num_view(pair.keys), sigma * a);
  sp.q = {Affine::constant(1.0), num_view(pair.queries)};
  sp.k = {kf, Affine::constant(-sigma * a)};
  double qb = p.bos_value(num_view(pair.queries));
  for (const Atom& ka : K) sp.bos_query_max = std::max(sp.bos_query_max, sigma * a * (atom_number(ka) - qb) + c);
  sp.how = "score " + rasp::cmp_str(*rel) + " (threshold)";
  return sp;
}

}  // namespace attnlab::compiler
