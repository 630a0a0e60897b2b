// Blocks: views, attention head groups and tabulating MLPs, built on demand (see blocks.h).
// Longer than most files because the six view rules and the three head kinds share one memoised builder.
#include "compiler/blocks.h"

#include <algorithm>
#include <cmath>

#include "compiler/values.h"
#include "rasp/print.h"
#include "util/error.h"

namespace attnlab::compiler {

using rasp::NodeKind;

double atom_number(const Atom& a) {
  if (rasp::atom_is_bool(a)) return std::get<bool>(a) ? 1.0 : 0.0;
  return rasp::atom_to_double(a);
}

namespace {

bool all_numbers(const std::vector<Atom>& v) {
  return std::all_of(v.begin(), v.end(), [](const Atom& a) { return !rasp::atom_is_str(a); });
}

std::string node_name(const Node* n) { return n->name.empty() ? n->label() : n->name; }

// Index of each atom in a sorted unique list.
std::map<Atom, size_t, rasp::AtomKeyLess> index_of(const std::vector<Atom>& v) {
  std::map<Atom, size_t, rasp::AtomKeyLess> m;
  for (size_t i = 0; i < v.size(); ++i) m.emplace(v[i], i);
  return m;
}

}  // namespace

BlockBuilder::BlockBuilder(Plan& plan) : p(plan) {
  bos_ = p.source_add(SourceKind::Bos, "bos", {"bos"}, {1.0});
  std::vector<std::string> labels;
  for (const auto& t : p.opt.vocab) labels.push_back(t);
  tokens_ = p.source_add(SourceKind::Tokens, "tokens", labels);
  for (size_t i = 0; i < p.opt.vocab.size(); ++i) p.sources[tokens_].vocab_comp.push_back(static_cast<int>(i));
}

int BlockBuilder::leaf_of(const Node* n) {
  auto it = p.node_leaf.find(n);
  if (it != p.node_leaf.end()) return it->second;
  int id = -1;
  if (n->kind == NodeKind::Tokens) {
    Leaf& l = p.leaf_add(LeafKind::Tokens, n, rasp::token_type_name(n->token_type));
    l.values = p.values.at(n);
    for (size_t i = 0; i < p.opt.vocab.size(); ++i) {
      // the value this vocabulary entry converts to (as values_infer computed it, in vocabulary order)
      Atom v;
      try {
        v = rasp::token_convert(n->token_type, Atom{p.opt.vocab[i]}, i);
      } catch (const Error&) {
        continue;
      }
      l.ind[v].add(Affine::unit(tokens_, static_cast<int>(i)), 1.0);
    }
    if (all_numbers(l.values.all)) {
      Affine num;
      for (const auto& [v, ind] : l.ind) num.add(ind, atom_number(v));
      l.num = num;
    }
    id = l.id;
  } else if (n->kind == NodeKind::Indices) {
    Leaf& l = p.leaf_add(LeafKind::Indices, n, "indices");
    l.values = p.values.at(n);
    id = l.id;
  } else if (n->kind == NodeKind::Aggregate) {
    id = aggregate_build(n);
  } else {
    throw Error("internal: '" + n->label() + "' is not a leaf", "please report this bug");
  }
  p.node_leaf[n] = id;
  return id;
}

void BlockBuilder::indices_cat_ensure(Leaf& l) {
  if (!l.ind.empty()) return;
  const int N = p.opt.max_len;
  std::vector<std::string> labels;
  for (int i = 0; i < N; ++i) labels.push_back(std::to_string(i));
  indices_cat_ = p.source_add(SourceKind::IndicesCat, "indices", labels);
  Source& s = p.sources[indices_cat_];
  s.pos_rows.assign(static_cast<size_t>(N) + 1, std::vector<double>(static_cast<size_t>(N), 0.0));
  for (int i = 0; i < N; ++i) s.pos_rows[static_cast<size_t>(i) + 1][static_cast<size_t>(i)] = 1.0;
  for (int i = 0; i < N; ++i) l.ind[Atom{int64_t{i}}] = Affine::unit(indices_cat_, i);
}

void BlockBuilder::indices_num_ensure(Leaf& l) {
  if (l.num) return;
  const int N = p.opt.max_len;
  indices_num_ = p.source_add(SourceKind::IndicesNum, "indices", {"value"});
  Source& s = p.sources[indices_num_];
  s.pos_rows.assign(static_cast<size_t>(N) + 1, std::vector<double>(1, 0.0));
  for (int i = 0; i < N; ++i) s.pos_rows[static_cast<size_t>(i) + 1][0] = i;
  l.num = Affine::unit(indices_num_, 0);
}

bool BlockBuilder::leaf_has_ind(Leaf& l) {
  if (l.kind == LeafKind::Indices) indices_cat_ensure(l);
  return !l.ind.empty();
}

void BlockBuilder::leaf_code_set(Leaf& l) {
  if (!l.code_of.empty()) return;
  if (l.kind == LeafKind::Indices) indices_num_ensure(l);
  if (l.num) {
    l.code = *l.num;
    for (const Atom& v : l.values.all) l.code_of[v] = atom_number(v);
    return;
  }
  check(!l.ind.empty(), "internal: leaf '" + l.name + "' has no code", "please report this bug");
  size_t i = 0;
  for (const Atom& v : l.values.all) {
    auto it = l.ind.find(v);
    if (it == l.ind.end()) continue;
    l.code.add(it->second, static_cast<double>(i));
    l.code_of[v] = static_cast<double>(i++);
  }
}

const std::set<int>& BlockBuilder::frontier(const Node* n) {
  auto it = frontier_memo_.find(n);
  if (it != frontier_memo_.end()) return it->second;
  std::set<int> f;
  switch (n->kind) {
    case NodeKind::Const: break;
    case NodeKind::Tokens: case NodeKind::Indices: case NodeKind::Aggregate: f.insert(leaf_of(n)); break;
    case NodeKind::Length: f.insert(length_build()); break;
    case NodeKind::SelectorWidth:
      width_build(n);
      for (const auto& [coef, leaf] : width_terms_.at(n)) f.insert(leaf);
      break;
    case NodeKind::Map:
      for (const Node* a : n->args) {
        if (a->kind == NodeKind::Const && !a->constant.is_atom()) continue;
        const auto& fa = frontier(a);
        f.insert(fa.begin(), fa.end());
      }
      break;
    default: throw Error("internal: frontier of a selector", "please report this bug");
  }
  return frontier_memo_[n] = std::move(f);
}

Atom BlockBuilder::eval(const Node* n, const std::map<int, Atom>& a) {
  auto m = materialised_.find(n);
  if (m != materialised_.end()) {
    auto v = a.find(m->second);
    if (v != a.end()) return v->second;
  }
  switch (n->kind) {
    case NodeKind::Const: return n->constant.atom;
    case NodeKind::Tokens: case NodeKind::Indices: case NodeKind::Aggregate: return a.at(leaf_of(n));
    case NodeKind::Length: return a.at(length_leaf_);
    case NodeKind::SelectorWidth: {
      int64_t w = 0;
      for (const auto& [coef, leaf] : width_terms_.at(n)) w += coef * std::get<int64_t>(a.at(leaf));
      return Atom{w};
    }
    case NodeKind::Map: {
      std::vector<Atom> args;
      for (const Node* x : n->args) {
        if (x->kind == NodeKind::Const && !x->constant.is_atom()) args.push_back(Atom{int64_t{0}});
        else args.push_back(eval(x, a));
      }
      return map_node_apply(n, args);
    }
    default: throw Error("internal: eval of a selector", "please report this bug");
  }
}

const CatView& BlockBuilder::cat_view(const Node* n) {
  auto it = cat_memo_.find(n);
  if (it != cat_memo_.end()) return it->second;
  CatView v;
  auto from_leaf = [&](Leaf& l) {
    for (const auto& [val, ind] : l.ind) {
      v.values.push_back(val);
      v.ind.push_back(ind);
    }
  };
  if (n->kind == NodeKind::Const) {
    v.values = {n->constant.atom};
    v.ind = {Affine::constant(1.0)};
    return cat_memo_[n] = v;
  }
  const std::set<int>& fr = frontier(n);
  bool leaf_bound = n->kind == NodeKind::Tokens || n->kind == NodeKind::Indices || n->kind == NodeKind::Aggregate;
  Leaf* single = fr.size() == 1 ? p.leaves[static_cast<size_t>(*fr.begin())].get() : nullptr;
  if (leaf_bound && leaf_has_ind(*single)) {
    from_leaf(*single);
  } else if (fr.empty()) {
    v.values = {eval(n, {})};
    v.ind = {Affine::constant(1.0)};
  } else if (single && single->kind == LeafKind::Indices) {
    from_leaf(*p.leaves[static_cast<size_t>(positional_build(n, true))]);
  } else if (single && leaf_has_ind(*single)) {
    std::map<Atom, Affine, rasp::AtomKeyLess> ind;
    for (const auto& [val, lind] : single->ind) {
      try {
        ind[eval(n, {{single->id, val}})].add(lind, 1.0);
      } catch (const Error&) {
      }
    }
    for (auto& [val, a] : ind) {
      v.values.push_back(val);
      v.ind.push_back(a);
    }
  } else {
    int id = mlp_build(node_name(n), n, mlp_inputs(n), [this, n](const std::map<int, Atom>& a) { return eval(n, a); }, true);
    from_leaf(*p.leaves[static_cast<size_t>(id)]);
  }
  return cat_memo_[n] = v;
}

std::optional<Affine> BlockBuilder::affine_try(const Node* n) {
  using rasp::MapOp;
  if (n->kind == NodeKind::SelectorWidth) {
    width_build(n);
    Affine sum;
    for (const auto& [coef, leaf] : width_terms_.at(n)) {
      auto it = leaf_num_memo_.find(leaf);
      if (it == leaf_num_memo_.end()) {
        int id = mlp_build(p.leaves[static_cast<size_t>(leaf)]->name, nullptr, {leaf},
                           [leaf](const std::map<int, Atom>& a) { return a.at(leaf); }, false);
        it = leaf_num_memo_.emplace(leaf, *p.leaves[static_cast<size_t>(id)]->num).first;
      }
      sum.add(it->second, coef);
    }
    return sum;
  }
  if (n->kind != NodeKind::Map) return std::nullopt;
  auto is_num_const = [](const Node* x) {
    return x->kind == NodeKind::Const && x->constant.is_atom() && !rasp::atom_is_str(x->constant.atom);
  };
  switch (n->map_op) {
    case MapOp::Add: case MapOp::Sub: {
      if (!all_numbers(p.values.at(n->args[0]).all) || !all_numbers(p.values.at(n->args[1]).all)) return std::nullopt;
      Affine a = num_view(n->args[0]);
      a.add(num_view(n->args[1]), n->map_op == MapOp::Add ? 1.0 : -1.0);
      return a;
    }
    case MapOp::Neg: case MapOp::Pos: {
      if (!all_numbers(p.values.at(n->args[0]).all)) return std::nullopt;
      Affine a;
      a.add(num_view(n->args[0]), n->map_op == MapOp::Neg ? -1.0 : 1.0);
      return a;
    }
    case MapOp::Mul: case MapOp::Div: {
      const Node* x = n->args[0];
      const Node* c = n->args[1];
      if (n->map_op == MapOp::Mul && is_num_const(x)) std::swap(x, c);
      if (!is_num_const(c) || !all_numbers(p.values.at(x).all)) return std::nullopt;
      double k = atom_number(c->constant.atom);
      if (n->map_op == MapOp::Div) {
        if (k == 0) return std::nullopt;
        k = 1.0 / k;
      }
      Affine a;
      a.add(num_view(x), k);
      return a;
    }
    default: return std::nullopt;
  }
}

const Affine& BlockBuilder::num_view(const Node* n) {
  auto it = num_memo_.find(n);
  if (it != num_memo_.end()) return it->second;
  const auto& vals = p.values.at(n).all;
  check(all_numbers(vals), rasp::loc_message(n->loc, "'" + n->label() + "' is used as a number but can hold a string"),
        "use it categorically (compare it with ==, or aggregate it without numerical(...))");
  Affine a;
  if (n->kind == NodeKind::Const) {
    a = Affine::constant(atom_number(n->constant.atom));
    return num_memo_[n] = a;
  }
  const std::set<int>& fr = frontier(n);
  Leaf* single = fr.size() == 1 ? p.leaves[static_cast<size_t>(*fr.begin())].get() : nullptr;
  bool leaf_bound = n->kind == NodeKind::Tokens || n->kind == NodeKind::Indices || n->kind == NodeKind::Aggregate;
  if (leaf_bound && single->kind == LeafKind::Indices) indices_num_ensure(*single);
  std::optional<Affine> affine;
  if (leaf_bound && single->num) {
    a = *single->num;
  } else if (fr.empty()) {
    a = Affine::constant(atom_number(eval(n, {})));
  } else if (single && single->kind == LeafKind::Indices && n->kind != NodeKind::SelectorWidth) {
    a = *p.leaves[static_cast<size_t>(positional_build(n, false))]->num;
  } else if ((affine = affine_try(n))) {
    a = *affine;
  } else if (single && leaf_has_ind(*single)) {
    for (const auto& [val, lind] : single->ind) {
      try {
        a.add(lind, atom_number(eval(n, {{single->id, val}})));
      } catch (const Error&) {
      }
    }
  } else {
    int id = mlp_build(node_name(n), n, mlp_inputs(n), [this, n](const std::map<int, Atom>& x) { return eval(n, x); }, false);
    a = *p.leaves[static_cast<size_t>(id)]->num;
  }
  return num_memo_[n] = a;
}

size_t BlockBuilder::tuple_count(const std::set<int>& leaves) const {
  size_t total = 0;
  for (int len = 1; len <= p.opt.max_len; ++len) {
    double prod = 1;
    for (int id : leaves) prod *= static_cast<double>(p.leaves[static_cast<size_t>(id)]->values.per_len[static_cast<size_t>(len)].size());
    total += static_cast<size_t>(std::min(prod, 1e15));
  }
  return total;
}

bool BlockBuilder::cheap_affine(const Node* n) {
  using rasp::MapOp;
  if (n->kind == NodeKind::Const) return n->constant.is_atom() && !rasp::atom_is_str(n->constant.atom);
  if (n->kind == NodeKind::Aggregate || n->kind == NodeKind::Tokens) {
    Leaf& l = *p.leaves[static_cast<size_t>(leaf_of(n))];
    return l.num.has_value();
  }
  if (n->kind != NodeKind::Map || !all_numbers(p.values.at(n).all)) return false;
  switch (n->map_op) {
    case MapOp::Add: case MapOp::Sub: return cheap_affine(n->args[0]) && cheap_affine(n->args[1]);
    case MapOp::Neg: case MapOp::Pos: return cheap_affine(n->args[0]);
    case MapOp::Mul:
      return (n->args[0]->kind == NodeKind::Const && cheap_affine(n->args[0]) && cheap_affine(n->args[1])) ||
             (n->args[1]->kind == NodeKind::Const && cheap_affine(n->args[1]) && cheap_affine(n->args[0]));
    case MapOp::Div:
      return n->args[1]->kind == NodeKind::Const && cheap_affine(n->args[1]) && cheap_affine(n->args[0]);
    default: return false;
  }
}

std::set<int> BlockBuilder::collect_inputs(const Node* n) {
  auto m = materialised_.find(n);
  if (m != materialised_.end()) return {m->second};
  if (n->kind == NodeKind::Const) return {};
  if (n->kind == NodeKind::Map && frontier(n).size() > 1 && cheap_affine(n)) {
    Leaf& l = p.leaf_add(LeafKind::Mlp, n, node_name(n));  // a pseudo-leaf: no block, read through num_view
    l.values = p.values.at(n);
    l.num = num_view(n);
    materialised_[n] = l.id;
    return {l.id};
  }
  if (n->kind == NodeKind::Map && frontier(n).size() == 1) {
    // a map of one categorical leaf with fewer values than the leaf (detect_pattern's shift == "a": a bool of an
    // 11-valued aggregate) is read through its own free categorical view: a smaller table for every user
    Leaf* single = p.leaves[static_cast<size_t>(*frontier(n).begin())].get();
    if (single->kind != LeafKind::Indices && single->kind != LeafKind::Positional && !single->ind.empty() &&
        p.values.at(n).all.size() < single->values.all.size()) {
      const CatView& cv = cat_view(n);
      Leaf& l = p.leaf_add(LeafKind::Mlp, n, node_name(n));  // a pseudo-leaf: no block, read through cv
      for (size_t i = 0; i < cv.values.size(); ++i) l.ind[cv.values[i]] = cv.ind[i];
      const ValueSet& vs = p.values.at(n);  // only values the view has an indicator for (the leaf's images)
      auto has = [&](const Atom& a) { return l.ind.count(a) > 0; };
      l.values.per_len.resize(vs.per_len.size());
      for (size_t len = 0; len < vs.per_len.size(); ++len)
        std::copy_if(vs.per_len[len].begin(), vs.per_len[len].end(), std::back_inserter(l.values.per_len[len]), has);
      std::copy_if(vs.all.begin(), vs.all.end(), std::back_inserter(l.values.all), has);
      materialised_[n] = l.id;
      return {l.id};
    }
  }
  if (n->kind != NodeKind::Map) return frontier(n);
  std::set<int> out;
  for (const Node* a : n->args) {
    if (a->kind == NodeKind::Const && !a->constant.is_atom()) continue;
    auto fa = collect_inputs(a);
    out.insert(fa.begin(), fa.end());
  }
  return out;
}

std::set<int> BlockBuilder::mlp_inputs(const Node* n) {
  constexpr size_t kSplitTuples = 200000;
  constexpr size_t kDecodeTuples = 50000;
  std::set<int> fr = collect_inputs(n);
  if (n->kind != NodeKind::Map || fr.size() <= 1) return fr;
  const size_t tuples = tuple_count(fr);
  if (tuples > kDecodeTuples && all_numbers(p.values.at(n).all) && p.values.at(n).all.size() * 16 < tuples) {
    // an affine map of attention outputs (Dyck's depth = width(opens) - width(closes)): decode each output to
    // its number first (1-D MLPs, one more sub-layer) and tabulate along n's own values, instead of a table
    // over every reachable tuple of the outputs (~N³/3 tuples for two widths)
    if (std::optional<Affine> a = affine_try(n)) {
      Leaf& l = p.leaf_add(LeafKind::Mlp, n, node_name(n));  // a pseudo-leaf read through the affine view
      l.values = p.values.at(n);
      l.num = *a;
      num_memo_.emplace(n, *a);
      materialised_[n] = l.id;
      return {l.id};
    }
  }
  if (tuples <= kSplitTuples) return fr;
  // too many combinations: compute each operand that has fewer values than its inputs' combinations first
  std::set<int> out;
  for (const Node* a : n->args) {
    if (a->kind == NodeKind::Const) continue;
    std::set<int> fa = collect_inputs(a);
    size_t combos = 1;
    for (int id : fa) combos *= std::max<size_t>(1, p.leaves[static_cast<size_t>(id)]->values.all.size());
    if (fa.size() <= 1 && combos <= p.values.at(a).all.size()) {
      out.insert(fa.begin(), fa.end());
      continue;
    }
    const auto& vals = p.values.at(a).all;
    bool categorical = vals.size() <= 64 || !all_numbers(vals);
    int id = mlp_build(node_name(a), a, mlp_inputs(a), [this, a](const std::map<int, Atom>& x) { return eval(a, x); },
                       categorical);
    materialised_[a] = id;
    out.insert(id);
  }
  return out;
}

int BlockBuilder::positional_build(const Node* n, bool categorical) {
  const int N = p.opt.max_len;
  int idx_leaf = *frontier(n).begin();
  std::vector<std::optional<Atom>> at(static_cast<size_t>(N));
  std::set<Atom, rasp::AtomKeyLess> seen;
  for (int i = 0; i < N; ++i) {
    try {
      at[static_cast<size_t>(i)] = eval(n, {{idx_leaf, Atom{int64_t{i}}}});
      seen.insert(*at[static_cast<size_t>(i)]);
    } catch (const Error&) {
    }
  }
  std::vector<Atom> vals(seen.begin(), seen.end());
  auto index = index_of(vals);
  std::vector<std::string> labels;
  if (categorical) for (const Atom& v : vals) labels.push_back(rasp::atom_str(v));
  else labels.push_back("value");
  int src = p.source_add(SourceKind::Positional, node_name(n), labels);
  Leaf& l = p.leaf_add(LeafKind::Positional, n, node_name(n));
  l.values.per_len.resize(static_cast<size_t>(N) + 1);
  Source& s = p.sources[static_cast<size_t>(src)];
  s.pos_rows.assign(static_cast<size_t>(N) + 1, std::vector<double>(labels.size(), 0.0));
  for (int i = 0; i < N; ++i) {
    if (!at[static_cast<size_t>(i)]) continue;
    const Atom& v = *at[static_cast<size_t>(i)];
    if (categorical) s.pos_rows[static_cast<size_t>(i) + 1][index.at(v)] = 1.0;
    else s.pos_rows[static_cast<size_t>(i) + 1][0] = atom_number(v);
    for (int len = i + 1; len <= N; ++len) l.values.per_len[static_cast<size_t>(len)].push_back(v);
  }
  for (auto& per : l.values.per_len) per = atoms_unique(per);
  l.values.all = vals;
  if (categorical) {
    for (size_t k = 0; k < vals.size(); ++k) l.ind[vals[k]] = Affine::unit(src, static_cast<int>(k));
  } else {
    l.num = Affine::unit(src, 0);
  }
  return l.id;
}

}  // namespace attnlab::compiler

namespace attnlab::compiler {

void BlockBuilder::build() {
  const Node* t = p.target;
  const auto& vals = p.values.at(t).all;
  bool numbers = !vals.empty() && std::all_of(vals.begin(), vals.end(), [](const Atom& a) {
    return rasp::atom_is_number(a);
  });
  bool fractional = std::any_of(vals.begin(), vals.end(), [](const Atom& a) { return rasp::atom_is_float(a); });
  bool mean = t->kind == NodeKind::Aggregate && aggregate_is_mean(t, p.values.at(t->args[1]));
  p.numeric_output = numbers && (t->encoding == rasp::Encoding::Numerical || fractional || mean);
  if (p.numeric_output) {
    p.out_ind = {num_view(t)};
    return;
  }
  const CatView& cv = cat_view(t);
  p.out_values = cv.values;
  for (const Atom& v : cv.values) p.out_vocab.push_back(rasp::atom_str(v));
  p.out_ind = cv.ind;
}

}  // namespace attnlab::compiler
