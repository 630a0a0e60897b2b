// RASP from C++: builders spelled as in RASP (select, aggregate, selector_width, map, sequence_map,
// numerical, categorical) and C++ operators that lift like RASP's. Every builder goes through the same
// interpreter operations as parsed text (interp_binary, Graph::select, ...), so a program built here is
// the same graph the parser makes from its printed text (to_rasp), and evaluates with eval.h.
//   Builder b;
//   SOp opp = b.named(b.length() - b.indices() - 1, "opp_index");
//   Sel flip = b.select(b.indices(), opp, Cmp::Eq);
//   SOp rev = b.named(b.aggregate(flip, b.tokens()), "reverse");
//   b.to_rasp(rev)  // "opp_index = ((length - indices) - 1);\nreverse = aggregate(select(...), tokens);\n"
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "rasp/interp.h"

namespace attnlab::rasp {

class Builder;

struct SOp {  // an s-op node of a Builder's graph
  Builder* b = nullptr;
  const Node* node = nullptr;
};
struct Sel {  // a selector node of a Builder's graph
  Builder* b = nullptr;
  const Node* node = nullptr;
};

class Builder {
 public:
  explicit Builder(Limits limits = {});

  SOp tokens(TokenType t = TokenType::Any);
  SOp indices();
  SOp length();
  SOp constant(Atom a);

  Sel select(SOp keys, SOp queries, Cmp op);
  Sel select(SOp keys, Atom query, Cmp op);  // constant query: every query compares keys with it
  SOp aggregate(Sel s, SOp values, Atom default_value = int64_t{0});
  SOp selector_width(Sel s);
  SOp numerical(SOp x);
  SOp categorical(SOp x);

  // Elementwise maps written as RASP expressions in x (and y): map(x, "x % 3 + 1").
  SOp map(SOp x, const std::string& expr);
  SOp sequence_map(SOp x, SOp y, const std::string& expr);
  // Any C++ function, tabulated on a finite domain: becomes {v: f(v) for v in domain}[x].
  SOp map_table(SOp x, const std::vector<Atom>& domain, const std::function<Atom(const Atom&)>& f);

  // Logic on s-ops (RASP's and / or / not), which C++'s && || ! cannot overload usefully.
  SOp sop_and(SOp a, SOp b);
  SOp sop_or(SOp a, SOp b);
  SOp sop_not(SOp a);
  SOp if_else(SOp cond, SOp then, SOp otherwise);

  SOp named(SOp x, const std::string& name);  // names the node (first name wins, as an assignment)
  Sel named(Sel x, const std::string& name);

  std::string to_rasp(SOp target) const;  // the program as RASP text (print.h)
  Interpreter& interpreter() { return in_; }

  // used by the operators below
  SOp lift(MapOp op, const Value& a, const Value& b);

 private:
  Interpreter in_;
  SOp sop(const Value& v);
  SOp expr_eval(const std::string& expr, const std::vector<std::pair<std::string, SOp>>& vars);
};

Value value_of(SOp x);
Value value_of(Sel x);

// Operators lift exactly like RASP's: SOp op SOp, SOp op constant, constant op SOp.
#define ATTNLAB_RASP_BINOP(sym, op)                                                                   \
  inline SOp operator sym(SOp a, SOp b) { return a.b->lift(op, value_of(a), value_of(b)); }            \
  inline SOp operator sym(SOp a, Atom b) { return a.b->lift(op, value_of(a), Value::of(std::move(b))); } \
  inline SOp operator sym(Atom a, SOp b) { return b.b->lift(op, Value::of(std::move(a)), value_of(b)); }
ATTNLAB_RASP_BINOP(+, MapOp::Add)
ATTNLAB_RASP_BINOP(-, MapOp::Sub)
ATTNLAB_RASP_BINOP(*, MapOp::Mul)
ATTNLAB_RASP_BINOP(/, MapOp::Div)
ATTNLAB_RASP_BINOP(%, MapOp::Mod)
ATTNLAB_RASP_BINOP(==, MapOp::Eq)
ATTNLAB_RASP_BINOP(!=, MapOp::Ne)
ATTNLAB_RASP_BINOP(<, MapOp::Lt)
ATTNLAB_RASP_BINOP(>, MapOp::Gt)
ATTNLAB_RASP_BINOP(<=, MapOp::Le)
ATTNLAB_RASP_BINOP(>=, MapOp::Ge)
#undef ATTNLAB_RASP_BINOP
SOp operator-(SOp a);
Sel operator&(Sel a, Sel b);  // RASP 'and' on selectors
Sel operator|(Sel a, Sel b);  // RASP 'or'
Sel operator~(Sel a);         // RASP 'not'

}  // namespace attnlab::rasp
