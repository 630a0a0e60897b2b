// Printing a RASP graph back out: as RASP text that parses to an equivalent graph (the C++ builders use
// this to show what they built), and as Graphviz DOT (attnlab rasp draw).
#pragma once

#include <string>
#include <vector>

#include "rasp/graph.h"

namespace attnlab::rasp {

// RASP text for a node's own computation, operands shown by name (or inline when unnamed).
std::string node_expr(const Node* n);

// A RASP program computing targets: one 'name = expr;' line per named or shared node, operands first,
// primitives and constants inline. Names that would shadow a builtin or repeat get a '_<id>' suffix.
std::string program_to_rasp(const std::vector<const Node*>& targets);

// Graphviz DOT of the computation graph of targets: s-ops as boxes, selectors as dashed ellipses,
// attention ops (aggregate, selector_width) filled; edges point from operands to users.
std::string program_to_dot(const std::vector<const Node*>& targets);

}  // namespace attnlab::rasp
