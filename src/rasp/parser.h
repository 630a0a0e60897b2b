// RASP parser: tokens → statements (recursive descent; precedence from lowest: 'x if c else y', or, and,
// not, comparisons and 'in', + -, * / %, unary - +, ^, postfix calls and indexing). Syntax errors carry
// file:line:col, the source line, a caret and what was expected. Nesting is bounded (kMaxNesting) so that
// no input can overflow the stack.
#pragma once

#include <string>
#include <vector>

#include "rasp/ast.h"

namespace attnlab::rasp {

constexpr int kMaxNesting = 200;  // deepest expression / block nesting accepted

std::vector<StmtPtr> parse_program(const SourcePtr& src);
// A single expression filling the whole source (used by the C++ builders' map(x, "x + 1")).
ExprPtr parse_expression(const SourcePtr& src);

// True when text is a statement (or statements) cut short: open brackets/braces, or no final ';' / '}'.
// The REPL keeps reading lines while this holds. Lexing errors count as complete (they will be reported).
bool parse_needs_more(const std::string& text);

}  // namespace attnlab::rasp
