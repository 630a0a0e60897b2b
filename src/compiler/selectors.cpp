// Selector expansion into signed sums of conjunctions (see selectors.h).
#include "compiler/selectors.h"

#include <algorithm>

#include "rasp/print.h"
#include "util/error.h"

namespace attnlab::compiler {

namespace {

using Poly = std::vector<Monomial>;

const ValueSet& vs(const std::map<const Node*, ValueSet>& values, const Node* n) {
  auto it = values.find(n);
  check(it != values.end(), "internal: no value set for '" + n->label() + "'", "please report this bug");
  return it->second;
}

std::string monomial_key(const Monomial& m) {
  std::string k;
  for (const Pair& p : m.pairs) {
    k += std::to_string(p.keys->id) + "," + std::to_string(p.queries->id) + ":";
    k.append(p.table.begin(), p.table.end());
    k += ";";
  }
  return k;
}

bool table_empty(const Pair& p) { return std::none_of(p.table.begin(), p.table.end(), [](char c) { return c; }); }

// Product of two monomials: pairs on the same (keys, queries) intersect; an empty table kills the product.
bool monomial_mul(const Monomial& a, const Monomial& b, Monomial& out) {
  out.coef = a.coef * b.coef;
  out.pairs = a.pairs;
  for (const Pair& p : b.pairs) {
    auto it = std::find_if(out.pairs.begin(), out.pairs.end(),
                           [&](const Pair& o) { return o.keys == p.keys && o.queries == p.queries; });
    if (it == out.pairs.end()) {
      out.pairs.push_back(p);
    } else {
      for (size_t i = 0; i < p.table.size(); ++i) it->table[i] = it->table[i] && p.table[i];
      if (table_empty(*it)) return false;
    }
  }
  std::sort(out.pairs.begin(), out.pairs.end(), [](const Pair& x, const Pair& y) {
    return x.keys->id != y.keys->id ? x.keys->id < y.keys->id : x.queries->id < y.queries->id;
  });
  return true;
}

Poly poly_normalise(const Poly& p, size_t max_terms, const Node* sel) {
  std::map<std::string, size_t> seen;
  Poly out;
  for (const Monomial& m : p) {
    std::string k = monomial_key(m);
    auto it = seen.find(k);
    if (it == seen.end()) {
      seen[k] = out.size();
      out.push_back(m);
    } else {
      out[it->second].coef += m.coef;
    }
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const Monomial& m) { return m.coef == 0; }), out.end());
  check(out.size() <= max_terms,
        rasp::loc_message(sel->loc, "selector '" + sel->label() + "' expands into more than " + std::to_string(max_terms) +
                                  " attention heads"),
        "simplify the selector: each 'or' / 'not' over different s-op pairs doubles the heads it needs");
  return out;
}

Poly poly_mul(const Poly& a, const Poly& b, size_t max_terms, const Node* sel) {
  Poly out;
  for (const Monomial& x : a)
    for (const Monomial& y : b) {
      Monomial m;
      if (monomial_mul(x, y, m)) out.push_back(std::move(m));
    }
  return poly_normalise(out, max_terms, sel);
}

Poly poly_axpy(const Poly& a, int scale, const Poly& b, size_t max_terms, const Node* sel) {  // a + scale·b
  Poly out = a;
  for (Monomial m : b) {
    m.coef *= scale;
    out.push_back(std::move(m));
  }
  return poly_normalise(out, max_terms, sel);
}

Poly one() { return Poly{Monomial{}}; }

Poly leaf(const Node* sel, const std::map<const Node*, ValueSet>& values) {
  const Node* keys = sel->args[0];
  const Node* queries = sel->args[1];
  if (sel->cmp == rasp::Cmp::True) return one();
  if (sel->cmp == rasp::Cmp::False) return {};
  const auto& K = vs(values, keys).all;
  const auto& Q = vs(values, queries).all;
  Pair p{keys, queries, std::vector<char>(K.size() * Q.size(), 0)};
  for (size_t k = 0; k < K.size(); ++k)
    for (size_t q = 0; q < Q.size(); ++q) {
      bool on = false;
      try {
        on = rasp::cmp_apply(sel->cmp, K[k], Q[q]);
      } catch (const Error&) {
        on = false;  // unorderable values: the interpreter fails on such inputs, so they never reach a model
      }
      p.table[k * Q.size() + q] = on;
    }
  if (table_empty(p)) return {};
  return Poly{Monomial{1, {std::move(p)}}};
}

// A single-pair polynomial's complement is a flipped table (no extra heads).
bool single_pair(const Poly& p) { return p.size() == 1 && p[0].coef == 1 && p[0].pairs.size() == 1; }

}  // namespace

std::vector<Monomial> selector_expand(const Node* root, const std::map<const Node*, ValueSet>& values,
                                      size_t max_terms) {
  std::map<const Node*, Poly> memo;
  for (const Node* n : rasp::graph_topo({root})) {
    if (!n->is_selector()) continue;
    switch (n->kind) {
      case rasp::NodeKind::Select: memo[n] = leaf(n, values); break;
      case rasp::NodeKind::SelAnd: memo[n] = poly_mul(memo.at(n->args[0]), memo.at(n->args[1]), max_terms, n); break;
      case rasp::NodeKind::SelOr: {
        const Poly& a = memo.at(n->args[0]);
        const Poly& b = memo.at(n->args[1]);
        Poly sum = poly_axpy(a, 1, b, max_terms, n);
        memo[n] = poly_axpy(sum, -1, poly_mul(a, b, max_terms, n), max_terms, n);
        break;
      }
      case rasp::NodeKind::SelNot: {
        const Poly& a = memo.at(n->args[0]);
        if (single_pair(a)) {
          Monomial m = a[0];
          for (char& c : m.pairs[0].table) c = !c;
          memo[n] = table_empty(m.pairs[0]) ? Poly{} : Poly{m};
        } else {
          memo[n] = poly_axpy(one(), -1, a, max_terms, n);
        }
        break;
      }
      default: break;
    }
  }
  return memo.at(root);
}

std::string monomial_str(const Monomial& m) {
  if (m.pairs.empty()) return "every key";
  std::string s;
  for (const Pair& p : m.pairs) {
    if (!s.empty()) s += " & ";
    size_t on = std::count(p.table.begin(), p.table.end(), 1);
    s += "table(" + p.keys->label() + ", " + p.queries->label() + "; " + std::to_string(on) + "/" +
         std::to_string(p.table.size()) + " selected)";
  }
  return s;
}

}  // namespace attnlab::compiler
