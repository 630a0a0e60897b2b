// RASP abstract syntax: expressions and statements as plain tagged structs. Produced by parser.cpp,
// executed by interp.cpp. Every node keeps the location of its first token for error messages.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rasp/lexer.h"
#include "rasp/value.h"

namespace attnlab::rasp {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  Literal,   // atom: int, float, string, True/False
  CmpLit,    // a comparison operator written as an argument: select(k, q, ==)
  Name,      // a variable
  List,      // [a, b, c]                         items
  Dict,      // {k: v, ...}                       items = k0, v0, k1, v1, ...
  ListComp,  // [e for x in it if c]              items = {e, it, c?}, vars
  DictComp,  // {k: v for x in it if c}           items = {k, v, it, c?}, vars
  Unary,     // - + not                           items = {x}
  Binary,    // ^ * / % + - == != < > <= >= and or in     items = {a, b}
  Ternary,   // a if c else b                     items = {a, c, b}
  Index,     // a[i]                              items = {a, i}
  Call,      // f(args)                           items = {f, args...}
};

struct Expr {
  ExprKind kind = ExprKind::Literal;
  SrcLoc loc;
  Atom literal;                   // Literal
  Cmp cmp = Cmp::Eq;              // CmpLit
  std::string name;               // Name
  MapOp op = MapOp::Add;          // Unary / Binary
  std::vector<ExprPtr> items;     // operands (see ExprKind)
  std::vector<std::string> vars;  // comprehension loop variables
  bool has_cond = false;          // comprehension has an 'if'
  int depth = 1;                  // height of this subtree (bounded by the parser)
};

struct Stmt;
using StmtPtr = std::shared_ptr<const Stmt>;

enum class StmtKind {
  Assign,  // a, b = e1, e2;  (or a, b = e; unpacking a list)    targets, exprs
  Expr,    // e;                                                 exprs = {e}
  Def,     // def f(a, b) { body }                               name, targets = params, body
  For,     // for x in e { body }  (or for a, b in e)            targets, exprs = {e}, body
  Return,  // return e;                                          exprs = {e}
  Load,    // load "file";                                       name = the path
};

struct Stmt {
  StmtKind kind = StmtKind::Expr;
  SrcLoc loc;
  std::string name;
  std::vector<std::string> targets;
  std::vector<ExprPtr> exprs;
  std::vector<StmtPtr> body;
};

}  // namespace attnlab::rasp
