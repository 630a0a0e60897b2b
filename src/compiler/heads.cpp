// Attention blocks: aggregate, selector_width and length heads (see docs/compiler.md "Attention").
// Scores (before the sharpness λ): Σ over the monomial's pairs of T[k][q] ∈ {0, -1}, so a key scores 0 when the
// conjunction selects it and <= -1 otherwise (a pair on numerical s-ops may instead be a score function of
// the numbers, see scores.cpp). Two extra features place the BOS key (position 0):
//   level:  query 1 · key [BOS]·θ  -> every query scores the BOS key at θ (-1/2 aggregate, 0 width/length);
//   self:   query G·[BOS] · key [BOS] -> the BOS query attends only to the BOS key (G > pairs + |θ| + 1).
// aggregate: BOS carries value 0, so when nothing is selected the output is 0 = "the default" (categorical:
//   the default's indicator is 1 - Σ others; numerical: a bos_weight component times the default).
// selector_width / length: the BOS key scores like a selected key and carries 1, so the head writes
//   x = 1/(w + 1); an MLP decodes w.
#include <algorithm>
#include <cmath>

#include "compiler/blocks.h"
#include "compiler/values.h"
#include "util/error.h"

namespace attnlab::compiler {

using rasp::NodeKind;

namespace {
std::string node_name(const Node* n) { return n->name.empty() ? n->label() : n->name; }
}  // namespace

Head BlockBuilder::head_make(const Monomial& m, double bos_level, HeadUse use, const std::string& what) {
  Head h;
  h.what = what;
  h.selector = monomial_str(m);
  double bos_query_max = 0;  // what numerical score pairs can give a key at the BOS query
  for (const Pair& pair : m.pairs) {
    if (auto sp = score_pair(pair, use, m.pairs.size())) {
      for (size_t f = 0; f < sp->q.size(); ++f) {
        h.q.push_back(sp->q[f]);
        h.k.push_back(sp->k[f]);
        h.k_bos.push_back(0.0);
      }
      bos_query_max += sp->bos_query_max;
      h.selector += " [" + pair.keys->label() + " vs " + pair.queries->label() + ": " + sp->how + "]";
      continue;
    }
    const CatView kv = cat_view(pair.keys);
    const CatView qv = cat_view(pair.queries);
    const auto& K = p.values.at(pair.keys).all;
    const auto& Q = p.values.at(pair.queries).all;
    std::map<Atom, size_t, rasp::AtomKeyLess> ki, qi;
    for (size_t i = 0; i < K.size(); ++i) ki.emplace(K[i], i);
    for (size_t i = 0; i < Q.size(); ++i) qi.emplace(Q[i], i);
    // M[a][b] for view values a (keys) and b (queries): 0 selected, -1 not
    auto M = [&](size_t a, size_t b) -> double {
      auto x = ki.find(kv.values[a]);
      auto y = qi.find(qv.values[b]);
      if (x == ki.end() || y == qi.end()) return -1.0;
      return pair.table[x->second * Q.size() + y->second] ? 0.0 : -1.0;
    };
    std::vector<size_t> q_rows, k_rows;
    for (size_t b = 0; b < qv.values.size(); ++b)
      for (size_t a = 0; a < kv.values.size(); ++a)
        if (M(a, b) != 0) { q_rows.push_back(b); break; }
    for (size_t a = 0; a < kv.values.size(); ++a)
      for (size_t b = 0; b < qv.values.size(); ++b)
        if (M(a, b) != 0) { k_rows.push_back(a); break; }
    if (q_rows.size() <= k_rows.size()) {
      for (size_t b : q_rows) {  // one feature per query value: [q = b] · Σ_a M[a][b]·[k = a]
        Affine kf;
        for (size_t a = 0; a < kv.values.size(); ++a) kf.add(kv.ind[a], M(a, b));
        h.q.push_back(qv.ind[b]);
        h.k.push_back(kf);
        h.k_bos.push_back(0.0);
      }
    } else {
      for (size_t a : k_rows) {  // one feature per key value: Σ_b M[a][b]·[q = b] · [k = a]
        Affine qf;
        for (size_t b = 0; b < qv.values.size(); ++b) qf.add(qv.ind[b], M(a, b));
        h.q.push_back(qf);
        h.k.push_back(kv.ind[a]);
        h.k_bos.push_back(0.0);
      }
    }
  }
  if (bos_level != 0) {
    h.q.push_back(Affine::constant(1.0));
    h.k.push_back(Affine{});
    h.k_bos.push_back(bos_level);
  }
  double G = static_cast<double>(m.pairs.size()) + std::fabs(bos_level) + 2.0 + bos_query_max;
  Affine self;
  self.add(Affine::unit(bos_, 0), G);
  h.q.push_back(self);
  h.k.push_back(Affine{});
  h.k_bos.push_back(1.0);
  return h;
}

int BlockBuilder::aggregate_build(const Node* n) {
  const Node* sel = n->args[0];
  const Node* vals = n->args[1];
  const ValueSet& vs = p.values.at(vals);
  bool mean = aggregate_is_mean(n, vs);
  std::vector<Monomial> poly = selector_expand(sel, p.values);
  std::string name = node_name(n);
  if (poly.empty()) {  // never selects: always the default
    Leaf& l = p.leaf_add(LeafKind::Constant, n, name);
    l.values = p.values.at(n);
    l.ind[n->default_value] = Affine::constant(1.0);
    if (!rasp::atom_is_str(n->default_value)) l.num = Affine::constant(atom_number(n->default_value));
    p.warnings.push_back("'" + n->label() + "' never selects a key; it is the constant " +
                         rasp::atom_repr(n->default_value));
    return l.id;
  }
  check(!mean || poly.size() == 1,
        rasp::loc_message(n->loc, "numerical aggregate '" + n->label() + "' needs " + std::to_string(poly.size()) +
                                      " heads (its selector uses or / not over different s-op pairs)"),
        "a mean over a union of selections is not one attention head; aggregate over a selector built with "
        "'and' only, or over one select");
  HeadGroup g;
  std::vector<std::string> labels;
  std::vector<double> bos;
  Leaf* leaf = nullptr;
  if (mean) {
    bool has_default = atom_number(n->default_value) != 0.0;
    labels = {"mean"};
    if (has_default) labels.push_back("bos_weight");
    bos.assign(labels.size(), 0.0);
    if (has_default) bos[1] = 1.0;
    const Affine value = num_view(vals);
    for (size_t m = 0; m < poly.size(); ++m) {
      Head h = head_make(poly[m], -0.5, HeadUse::Mean, "aggregate " + name + " (mean)");
      h.v = {value};
      h.v_bos = {0.0};
      h.out = {{0, 1.0}};
      if (has_default) {
        h.v.push_back(Affine{});
        h.v_bos.push_back(1.0);
        h.out.push_back({1, 1.0});
      }
      g.heads.push_back(std::move(h));
    }
    g.source = p.source_add(SourceKind::Head, name, labels, bos);
    leaf = &p.leaf_add(LeafKind::Aggregate, n, name);
    Affine num = Affine::unit(g.source, 0);
    if (has_default) num.add(Affine::unit(g.source, 1), atom_number(n->default_value));
    leaf->num = num;
  } else {
    const CatView vv = cat_view(vals);
    std::vector<Atom> explicit_values;
    for (const Atom& v : p.values.at(n).all)
      if (!rasp::atom_equal(v, n->default_value)) explicit_values.push_back(v);
    for (const Atom& v : explicit_values) labels.push_back(rasp::atom_str(v));
    bos.assign(labels.size(), 0.0);
    for (size_t m = 0; m < poly.size(); ++m) {
      Head h = head_make(poly[m], -0.5, HeadUse::Copy, "aggregate " + name);
      for (size_t e = 0; e < explicit_values.size(); ++e) {
        for (size_t k = 0; k < vv.values.size(); ++k) {
          if (!rasp::atom_equal(vv.values[k], explicit_values[e])) continue;
          h.v.push_back(vv.ind[k]);
          h.v_bos.push_back(0.0);
          h.out.push_back({static_cast<int>(e), static_cast<double>(poly[m].coef)});
        }
      }
      g.heads.push_back(std::move(h));
    }
    g.source = p.source_add(SourceKind::Head, name, labels, bos);
    leaf = &p.leaf_add(LeafKind::Aggregate, n, name);
    Affine rest = Affine::constant(1.0);
    for (size_t e = 0; e < explicit_values.size(); ++e) {
      leaf->ind[explicit_values[e]] = Affine::unit(g.source, static_cast<int>(e));
      rest.add(Affine::unit(g.source, static_cast<int>(e)), -1.0);
    }
    leaf->ind[n->default_value] = rest;
  }
  leaf->values = p.values.at(n);
  p.groups.push_back(std::move(g));
  p.sources[static_cast<size_t>(p.groups.back().source)].block = static_cast<int>(p.groups.size()) - 1;
  p.order.push_back({true, static_cast<int>(p.groups.size()) - 1});
  return leaf->id;
}

// A width/length leaf: value w (int), held as x = 1/(w + 1) in one residual component.
static void width_leaf_fill(Leaf& l, int source, int comp, const std::vector<std::vector<int64_t>>& per_len) {
  l.values.per_len.resize(per_len.size());
  std::set<Atom, rasp::AtomKeyLess> all;
  for (size_t n = 0; n < per_len.size(); ++n)
    for (int64_t w : per_len[n]) {
      l.values.per_len[n].push_back(Atom{w});
      all.insert(Atom{w});
    }
  l.values.all = {all.begin(), all.end()};
  l.code = Affine::unit(source, comp);
  for (const Atom& v : l.values.all) l.code_of[v] = 1.0 / static_cast<double>(std::get<int64_t>(v) + 1);
}

void BlockBuilder::width_build(const Node* n) {
  if (width_terms_.count(n)) return;
  std::vector<Monomial> poly = selector_expand(n->args[0], p.values);
  std::string name = node_name(n);
  auto& terms = width_terms_[n];
  if (poly.empty()) {
    p.warnings.push_back("'" + n->label() + "' never selects a key; its width is always 0");
    return;
  }
  HeadGroup g;
  std::vector<std::string> labels;
  for (size_t m = 0; m < poly.size(); ++m) {
    g.heads.push_back(head_make(poly[m], 0.0, HeadUse::Count, "selector_width " + name + (poly.size() > 1 ? " #" + std::to_string(m) : "")));
    Head& h = g.heads.back();
    h.v = {Affine{}};
    h.v_bos = {1.0};
    h.out = {{static_cast<int>(m), 1.0}};
    labels.push_back(poly.size() > 1 ? "x" + std::to_string(m) : "x");
  }
  g.source = p.source_add(SourceKind::Head, "width(" + name + ")", labels, std::vector<double>(labels.size(), 1.0));
  std::vector<std::vector<int64_t>> per_len(static_cast<size_t>(p.opt.max_len) + 1);
  for (int len = 1; len <= p.opt.max_len; ++len)
    for (int64_t w = 0; w <= len; ++w) per_len[static_cast<size_t>(len)].push_back(w);
  for (size_t m = 0; m < poly.size(); ++m) {
    Leaf& l = p.leaf_add(LeafKind::Width, poly.size() == 1 ? n : nullptr,
                         "width(" + name + ")" + (poly.size() > 1 ? "#" + std::to_string(m) : ""));
    width_leaf_fill(l, g.source, static_cast<int>(m), per_len);
    terms.push_back({poly[m].coef, l.id});
  }
  p.groups.push_back(std::move(g));
  p.sources[static_cast<size_t>(p.groups.back().source)].block = static_cast<int>(p.groups.size()) - 1;
  p.order.push_back({true, static_cast<int>(p.groups.size()) - 1});
}

int BlockBuilder::length_build() {
  if (length_leaf_ >= 0) return length_leaf_;
  HeadGroup g;
  g.heads.push_back(head_make(Monomial{}, 0.0, HeadUse::Count, "length"));
  Head& h = g.heads.back();
  h.v = {Affine{}};
  h.v_bos = {1.0};
  h.out = {{0, 1.0}};
  g.source = p.source_add(SourceKind::Head, "length", {"x"}, {1.0});
  std::vector<std::vector<int64_t>> per_len(static_cast<size_t>(p.opt.max_len) + 1);
  for (int len = 1; len <= p.opt.max_len; ++len) per_len[static_cast<size_t>(len)] = {len};
  Leaf& l = p.leaf_add(LeafKind::Length, nullptr, "length");
  width_leaf_fill(l, g.source, 0, per_len);
  p.groups.push_back(std::move(g));
  p.sources[static_cast<size_t>(p.groups.back().source)].block = static_cast<int>(p.groups.size()) - 1;
  p.order.push_back({true, static_cast<int>(p.groups.size()) - 1});
  return length_leaf_ = l.id;
}

}  // namespace attnlab::compiler
