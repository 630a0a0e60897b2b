// Value-set inference (see values.h).
#include "compiler/values.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "rasp/eval.h"
#include "util/error.h"

namespace attnlab::compiler {

using rasp::NodeKind;
using AtomSet = std::set<Atom, rasp::AtomKeyLess>;

std::vector<Atom> atoms_unique(std::vector<Atom> v) {
  AtomSet s(v.begin(), v.end());
  return {s.begin(), s.end()};
}

bool aggregate_is_mean(const Node* agg, const ValueSet& vals) {
  if (agg->encoding == rasp::Encoding::Numerical) return true;
  if (agg->encoding == rasp::Encoding::Categorical) return false;
  return !vals.all.empty() &&
         std::all_of(vals.all.begin(), vals.all.end(), [](const Atom& a) { return rasp::atom_is_number(a); });
}

namespace {

constexpr size_t kMaxValues = 100000;  // most values one s-op may take (a residual encoding per value at worst)

bool int_like(const Atom& a) { return rasp::atom_is_int(a) || rasp::atom_is_bool(a); }
int64_t as_int(const Atom& a) { return rasp::atom_is_bool(a) ? std::get<bool>(a) : std::get<int64_t>(a); }

// Sums of c values (with repetition) from an integer base, for c = 1..n in turn: visit(c, sorted sums).
// A bitset over [c·lo, c·hi] (a contiguous base needs no convolution: its sums are the whole range); false
// when a sum set exceeds cap or the range is too wide for a bitset.
bool int_sums(const std::vector<int64_t>& base, int n, size_t cap,
              const std::function<void(int, const std::vector<int64_t>&)>& visit) {
  const int64_t lo = base.front(), hi = base.back();
  const bool contiguous = hi - lo + 1 == static_cast<int64_t>(base.size());
  if (static_cast<double>(hi - lo) * n > 5e7) return false;
  std::vector<char> cur(static_cast<size_t>(hi - lo) + 1, 0);  // cur[s - c·lo]: s is a sum of c values
  for (int64_t b : base) cur[static_cast<size_t>(b - lo)] = 1;
  std::vector<int64_t> sums;
  for (int c = 1; c <= n; ++c) {
    sums.clear();
    for (size_t i = 0; i < cur.size(); ++i)
      if (contiguous || cur[i]) sums.push_back(c * lo + static_cast<int64_t>(i));
    if (sums.size() > cap) return false;
    visit(c, sums);
    if (c == n) break;
    std::vector<char> next(cur.size() + static_cast<size_t>(hi - lo), 0);
    if (!contiguous)
      for (size_t i = 0; i < cur.size(); ++i)
        if (cur[i])
          for (int64_t b : base) next[i + static_cast<size_t>(b - lo)] = 1;
    cur.swap(next);
  }
  return true;
}

// The interpreter's mean of integers: an int when it divides, else the double quotient.
Atom int_mean(int64_t s, int c) {
  if (s % c == 0) return Atom{s / c};
  return Atom{static_cast<double>(s) / static_cast<double>(c)};
}

// Every mean of c values (with repetition) from vals, c = 1..n, as the interpreter would print it.
bool means_of(const std::vector<Atom>& vals, int n, size_t cap, AtomSet& out) {
  bool all_int = std::all_of(vals.begin(), vals.end(), int_like);
  if (all_int) {
    std::set<int64_t> uniq;
    for (const Atom& a : vals) uniq.insert(as_int(a));
    std::vector<int64_t> base(uniq.begin(), uniq.end());
    std::vector<double> means;  // integral doubles are the int means (s/c is integral only when c divides s)
    bool ok = int_sums(base, n, cap, [&](int c, const std::vector<int64_t>& sums) {
      for (int64_t s : sums) means.push_back(s % c == 0 ? static_cast<double>(s / c) : static_cast<double>(s) / c);
    });
    if (ok) {
      std::sort(means.begin(), means.end());
      means.erase(std::unique(means.begin(), means.end()), means.end());
      if (means.size() > cap) return false;
      for (double m : means) {
        if (m == std::floor(m)) out.insert(out.end(), Atom{static_cast<int64_t>(m)});
        else out.insert(out.end(), Atom{m});
      }
      return true;
    }
    if (static_cast<double>(base.back() - base.front()) * n <= 5e7) return false;  // a sum set exceeded cap
    // else: too wide for a bitset, enumerate sets below
    std::set<int64_t> sums(base.begin(), base.end());
    for (int c = 1; c <= n; ++c) {
      for (int64_t s : sums) out.insert(int_mean(s, c));
      if (c == n) break;
      std::set<int64_t> next;
      for (int64_t s : sums)
        for (int64_t b : base) next.insert(s + b);
      sums.swap(next);
      if (sums.size() > cap || out.size() > cap) return false;
    }
    return true;
  }
  std::set<double> base, sums;
  for (const Atom& a : vals) base.insert(rasp::atom_to_double(a));
  sums = base;
  for (int c = 1; c <= n; ++c) {
    for (double s : sums) out.insert(Atom{s / static_cast<double>(c)});
    if (c == n) break;
    std::set<double> next;
    for (double s : sums)
      for (double b : base) next.insert(s + b);
    sums.swap(next);
    if (sums.size() > cap || out.size() > cap) return false;
  }
  return true;
}

// select(indices, q, ==) selects at most one key (indices are distinct), and so does its `and` with anything:
// a mean over it is one of the values (or the default), not every average of them.
bool selects_at_most_one_key(const Node* sel) {
  if (sel->kind == NodeKind::Select) return sel->cmp == rasp::Cmp::Eq && sel->args[0]->kind == NodeKind::Indices;
  if (sel->kind == NodeKind::SelAnd) return selects_at_most_one_key(sel->args[0]) || selects_at_most_one_key(sel->args[1]);
  return false;
}

bool same_sets(const ValueSet& v) {
  for (size_t n = 2; n < v.per_len.size(); ++n) {
    const auto& a = v.per_len[n];
    const auto& b = v.per_len[1];
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (rasp::AtomKeyLess{}(a[i], b[i]) || rasp::AtomKeyLess{}(b[i], a[i])) return false;
  }
  return true;
}

// mean_S(x) ± mean_S(y) over one selector S: both average the same c keys, so its values are
// mean_c(sums of x) ± mean_c(sums of y) for each c — not every pair of the two means' value sets (which, for
// Dyck's opens - closes, is ~N^4 values instead of ~N^3 pairs of sums). Integer operands whose value sets are
// the same at every length only; false when it does not apply (the product of the two sets is used then).
bool mean_pair_values(const Plan& plan, const Node* n, ValueSet& vs) {
  if (n->kind != NodeKind::Map || (n->map_op != rasp::MapOp::Add && n->map_op != rasp::MapOp::Sub)) return false;
  const Node* a = n->args[0];
  const Node* b = n->args[1];
  if (a->kind != NodeKind::Aggregate || b->kind != NodeKind::Aggregate || a->args[0] != b->args[0]) return false;
  const ValueSet& xa = plan.values.at(a->args[1]);
  const ValueSet& xb = plan.values.at(b->args[1]);
  if (!aggregate_is_mean(a, xa) || !aggregate_is_mean(b, xb)) return false;
  auto ints = [](const std::vector<Atom>& v) { return !v.empty() && std::all_of(v.begin(), v.end(), int_like); };
  if (!ints(xa.all) || !ints(xb.all) || !same_sets(xa) || !same_sets(xb)) return false;
  const int N = plan.opt.max_len;
  auto base = [](const std::vector<Atom>& v) {
    std::set<int64_t> u;
    for (const Atom& x : v) u.insert(as_int(x));
    return std::vector<int64_t>(u.begin(), u.end());
  };
  std::vector<std::vector<int64_t>> sa, sb;  // [c - 1] sums of c values
  bool ok = int_sums(base(xa.all), N, 1000000, [&](int, const std::vector<int64_t>& s) { sa.push_back(s); }) &&
            int_sums(base(xb.all), N, 1000000, [&](int, const std::vector<int64_t>& s) { sb.push_back(s); });
  if (!ok) return false;
  double work = 0;
  for (size_t c = 0; c < sa.size(); ++c) work += static_cast<double>(sa[c].size()) * static_cast<double>(sb[c].size());
  if (work > 4e6) return false;
  vs.per_len.assign(static_cast<size_t>(N) + 1, {});
  std::vector<Atom> acc;  // values reachable with at most c keys selected
  try {
    acc.push_back(map_node_apply(n, {a->default_value, b->default_value}));  // nothing selected: both defaults
  } catch (const Error&) {
  }
  for (int c = 1; c <= N; ++c) {
    for (int64_t x : sa[static_cast<size_t>(c) - 1])
      for (int64_t y : sb[static_cast<size_t>(c) - 1]) {
        try {
          acc.push_back(map_node_apply(n, {int_mean(x, c), int_mean(y, c)}));
        } catch (const Error&) {
        }
      }
    acc = atoms_unique(std::move(acc));
    vs.per_len[static_cast<size_t>(c)] = acc;
  }
  vs.all = acc;
  return true;
}

}  // namespace

Atom map_node_apply(const Node* n, const std::vector<Atom>& args) {
  switch (rasp::map_op_arity(n->map_op)) {
    case 1: return rasp::map_apply_unary(n->map_op, args[0]);
    case 3: return rasp::atom_truthy(args[1]) ? args[0] : args[2];
    default:
      if (n->map_op == rasp::MapOp::Index) return rasp::map_apply_index(n->args[0]->constant, args[1]);
      if (n->map_op == rasp::MapOp::In) return Atom{rasp::map_apply_in(args[0], n->args[1]->constant)};
      return rasp::map_apply_binary(n->map_op, args[0], args[1]);
  }
}

void values_infer(Plan& plan, std::vector<std::string>& problems) {
  const int N = plan.opt.max_len;
  bool soft = false;  // a softmax selector's weights are real: no finite value set (real-valued mode instead)
  for (const Node* n : rasp::graph_topo({plan.target}))
    if (n->kind == NodeKind::SoftSelect) {
      problems.push_back(rasp::loc_message(n->loc, "'" + n->label() + "'") +
                         ": softmax_select has real weights; compile it with the real-valued mode "
                         "(compile_real, docs/universal.md), not the value-set compiler");
      soft = true;
    }
  if (soft) return;
  for (const Node* n : rasp::graph_topo({plan.target})) {
    if (n->is_selector()) continue;
    if (n->kind == NodeKind::Const && !n->constant.is_atom()) continue;  // a container operand of a map
    ValueSet vs;
    if (mean_pair_values(plan, n, vs)) {
      if (vs.all.size() > kMaxValues)
        problems.push_back("'" + n->label() + "' takes " + std::to_string(vs.all.size()) +
                           " distinct values (more than 100000): too many for a residual encoding");
      plan.values[n] = std::move(vs);
      continue;
    }
    vs.per_len.resize(static_cast<size_t>(N) + 1);
    AtomSet all;
    bool too_many = false;  // stopped enumerating: more than kMaxValues values already
    for (int len = 1; len <= N && !too_many; ++len) {
      AtomSet s;
      switch (n->kind) {
        case NodeKind::Tokens:
          for (size_t i = 0; i < plan.opt.vocab.size(); ++i) {
            try {
              s.insert(rasp::token_convert(n->token_type, Atom{plan.opt.vocab[i]}, i));
            } catch (const Error& e) {
              if (len == 1)
                problems.push_back(rasp::token_type_name(n->token_type) + ": vocabulary token '" + plan.opt.vocab[i] +
                                   "' does not convert (" + e.message() + ")");
            }
          }
          break;
        case NodeKind::Indices:
          for (int i = 0; i < len; ++i) s.insert(Atom{int64_t{i}});
          break;
        case NodeKind::Length: s.insert(Atom{int64_t{len}}); break;
        case NodeKind::Const: s.insert(n->constant.atom); break;
        case NodeKind::SelectorWidth:
          for (int i = 0; i <= len; ++i) s.insert(Atom{int64_t{i}});
          break;
        case NodeKind::Aggregate: {
          const ValueSet& src = plan.values.at(n->args[1]);
          const auto& v = src.per_len[static_cast<size_t>(len)];
          if (aggregate_is_mean(n, src) && selects_at_most_one_key(n->args[0])) {
            for (const Atom& a : v) s.insert(rasp::atom_is_bool(a) ? Atom{as_int(a)} : a);  // a mean of one value
          } else if (aggregate_is_mean(n, src)) {
            if (!means_of(v, len, plan.opt.max_table, s)) {
              if (problems.empty() || problems.back().find(n->label()) == std::string::npos)
                problems.push_back("'" + n->label() + "': the means it can take exceed " +
                                   std::to_string(plan.opt.max_table) + " values at length " + std::to_string(len));
              len = N;  // stop enumerating this node
            }
          } else {
            s.insert(v.begin(), v.end());
          }
          s.insert(n->default_value);
          break;
        }
        case NodeKind::Map: {
          std::vector<const std::vector<Atom>*> sets;
          size_t product = 1;
          for (const Node* a : n->args) {
            if (a->kind == NodeKind::Const && !a->constant.is_atom()) {
              sets.push_back(nullptr);
              continue;
            }
            sets.push_back(&plan.values.at(a).per_len[static_cast<size_t>(len)]);
            product *= std::max<size_t>(1, sets.back()->size());
          }
          if (product > plan.opt.max_table) {
            problems.push_back("'" + n->label() + "': its operands' value combinations exceed " +
                               std::to_string(plan.opt.max_table) + " at length " + std::to_string(len));
            len = N;
            break;
          }
          std::vector<size_t> idx(sets.size(), 0);
          std::vector<Atom> args(sets.size(), Atom{int64_t{0}});
          while (true) {
            bool empty = false;
            for (size_t k = 0; k < sets.size(); ++k) {
              if (!sets[k]) continue;
              if (sets[k]->empty()) empty = true;
              else args[k] = (*sets[k])[idx[k]];
            }
            if (empty) break;
            try {
              s.insert(map_node_apply(n, args));
            } catch (const Error&) {
              // outside the map's domain (e.g. x / 0 for an unreachable x): the interpreter fails there
            }
            if (s.size() > kMaxValues) {  // refused anyway: stop now rather than after millions of tuples
              too_many = true;
              break;
            }
            size_t k = 0;
            for (; k < sets.size(); ++k) {
              if (!sets[k]) continue;
              if (++idx[k] < sets[k]->size()) break;
              idx[k] = 0;
            }
            if (k == sets.size()) break;
          }
          break;
        }
        default: break;
      }
      vs.per_len[static_cast<size_t>(len)] = {s.begin(), s.end()};
      all.insert(s.begin(), s.end());
    }
    vs.all = {all.begin(), all.end()};
    if (too_many || vs.all.size() > kMaxValues)
      problems.push_back("'" + n->label() + "' takes " + (too_many ? std::string("over 100000") : std::to_string(vs.all.size())) +
                         " distinct values (more than 100000): too many for a residual encoding");
    plan.values[n] = std::move(vs);
  }
}

}  // namespace attnlab::compiler
