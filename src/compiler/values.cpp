// Value-set inference (see values.h).
#include "compiler/values.h"

#include <algorithm>
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

bool int_like(const Atom& a) { return rasp::atom_is_int(a) || rasp::atom_is_bool(a); }
int64_t as_int(const Atom& a) { return rasp::atom_is_bool(a) ? std::get<bool>(a) : std::get<int64_t>(a); }

// Every mean of c values (with repetition) from vals, c = 1..n, as the interpreter would print it.
bool means_of(const std::vector<Atom>& vals, int n, size_t cap, AtomSet& out) {
  bool all_int = std::all_of(vals.begin(), vals.end(), int_like);
  if (all_int) {
    std::set<int64_t> base, sums;
    for (const Atom& a : vals) base.insert(as_int(a));
    sums = base;
    for (int c = 1; c <= n; ++c) {
      for (int64_t s : sums) {
        if (s % c == 0) out.insert(Atom{s / c});
        else out.insert(Atom{static_cast<double>(s) / static_cast<double>(c)});
      }
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
  for (const Node* n : rasp::graph_topo({plan.target})) {
    if (n->is_selector()) continue;
    if (n->kind == NodeKind::Const && !n->constant.is_atom()) continue;  // a container operand of a map
    ValueSet vs;
    vs.per_len.resize(static_cast<size_t>(N) + 1);
    AtomSet all;
    for (int len = 1; len <= N; ++len) {
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
          if (aggregate_is_mean(n, src)) {
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
    if (vs.all.size() > 100000)
      problems.push_back("'" + n->label() + "' takes " + std::to_string(vs.all.size()) +
                         " distinct values (more than 100000): too many for a residual encoding");
    plan.values[n] = std::move(vs);
  }
}

}  // namespace attnlab::compiler
