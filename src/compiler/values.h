// Value-set inference: for every s-op of the program and every input length n <= N, the set of values it can
// take. Lengths are kept apart so that indices < length is known (length - indices - 1 ranges over 0..n-1,
// not -N..N). Maps take the product of their operands' sets at each n; a numerical mean takes every
// average of c values of its operand's set for c = 1..n (exact integers where the interpreter gives them),
// plus the default; selector_width takes 0..n. Values are over-approximations: never missing a reachable
// value, sometimes holding an unreachable one (which only costs a residual dimension or an MLP unit).
// Refinements: a mean over select(indices, q, ==) (at most one key) takes its operand's values; and
// mean_S(x) ± mean_S(y) over one selector S takes sum_c(x)/c ± sum_c(y)/c per count c (both average the same
// keys), not every pair of the two means' values.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"

namespace attnlab::rasp {
Atom token_convert(TokenType t, const Atom& a, size_t pos);  // rasp/eval_input.cpp: tokens_int etc.
}

namespace attnlab::compiler {

// Fills plan.values for every s-op reachable from plan.target. Problems (sets too large, tokens that do not
// convert) are appended to `problems` instead of thrown, so validation can report them all at once.
void values_infer(Plan& plan, std::vector<std::string>& problems);

// True when the aggregate computes a mean (as the interpreter decides: numerical(), or every value a number).
bool aggregate_is_mean(const Node* agg, const ValueSet& values_of_operand);

// Applies a Map node's operation to its operands' values (container operands come from the node itself).
Atom map_node_apply(const Node* map, const std::vector<Atom>& args);

// Sorted, duplicate-free (rasp::AtomKeyLess) copy.
std::vector<Atom> atoms_unique(std::vector<Atom> v);

}  // namespace attnlab::compiler
