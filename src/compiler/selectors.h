// Selectors as polynomials of heads. A selector expression (select / and / or / not) is expanded into
// Σ_m c_m · M_m, where each monomial M_m is a conjunction of pairs (keys s-op, queries s-op, truth table over
// their value sets). Pairs on the same (keys, queries) merge into one table (so "a and not a" vanishes),
// identical monomials combine, and zero ones drop. One monomial is one attention head: its pairs' scores add
// (0 when selected, -1 when not), so the head selects exactly the conjunction. `or` = a + b - ab and
// `not a` = 1 - a (or a flipped table) make selector_width and single-key aggregates over any expression
// a signed sum of heads. Shapes: a pair's table is [|K.all| × |Q.all|], key-major.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/ir.h"

namespace attnlab::compiler {

struct Pair {
  const Node* keys = nullptr;
  const Node* queries = nullptr;
  std::vector<char> table;  // [|K| * |Q|] table[k * |Q| + q] = key value k selected for query value q
};

struct Monomial {
  int coef = 1;
  std::vector<Pair> pairs;  // sorted by (keys id, queries id); empty = every key selected
};

// Expands a selector node. Throws attnlab::Error when the expansion exceeds max_terms monomials.
std::vector<Monomial> selector_expand(const Node* sel, const std::map<const Node*, ValueSet>& values,
                                      size_t max_terms = 64);

// "select(indices, opp_index, ==) & select(...)" — a monomial for reports.
std::string monomial_str(const Monomial& m);

}  // namespace attnlab::compiler
