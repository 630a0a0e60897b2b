// RASP builders for C++ (see builder.h). Each one forwards to the interpreter operation that the
// corresponding RASP text would run, so builders and parser cannot drift apart.
#include "rasp/builder.h"

#include "rasp/parser.h"
#include "rasp/print.h"
#include "util/error.h"

namespace attnlab::rasp {

Value value_of(SOp x) { return Value::of_node(x.node); }
Value value_of(Sel x) { return Value::of_node(x.node); }

Builder::Builder(Limits limits) : in_(limits) {}

SOp Builder::sop(const Value& v) {
  if (!v.is_sop()) throw Error("builder: expected an s-op, got a " + value_type_name(v), "");
  return {this, v.node};
}

SOp Builder::tokens(TokenType t) { return {this, in_.graph().tokens(t)}; }
SOp Builder::indices() { return {this, in_.graph().indices()}; }
SOp Builder::length() { return {this, in_.graph().length()}; }
SOp Builder::constant(Atom a) { return {this, in_.graph().constant(Value::of(std::move(a)))}; }

Sel Builder::select(SOp keys, SOp queries, Cmp op) { return {this, in_.graph().select(keys.node, queries.node, op)}; }

Sel Builder::select(SOp keys, Atom query, Cmp op) {
  return {this, in_.graph().select(keys.node, in_.graph().constant(Value::of(std::move(query))), op)};
}

SOp Builder::aggregate(Sel s, SOp values, Atom default_value) {
  return {this, in_.graph().aggregate(s.node, values.node, std::move(default_value))};
}

SOp Builder::selector_width(Sel s) { return {this, in_.graph().selector_width(s.node)}; }
SOp Builder::numerical(SOp x) { return {this, in_.graph().annotate(x.node, Encoding::Numerical)}; }
SOp Builder::categorical(SOp x) { return {this, in_.graph().annotate(x.node, Encoding::Categorical)}; }

SOp Builder::lift(MapOp op, const Value& a, const Value& b) { return sop(interp_binary(in_, op, a, b, SrcLoc{})); }

SOp Builder::expr_eval(const std::string& expr, const std::vector<std::pair<std::string, SOp>>& vars) {
  auto src = std::make_shared<SourceFile>(SourceFile{"<builder>", expr});
  ExprPtr e = parse_expression(src);
  EnvPtr env = in_.scope_new();
  for (const auto& [name, x] : vars) env->vars[name] = value_of(x);
  Value v = interp_eval_expr(in_, *e, env);
  if (v.is_atom()) throw Error("builder map \"" + expr + "\" does not depend on its operand", "use constant() for constants");
  return sop(v);
}

SOp Builder::map(SOp x, const std::string& expr) { return expr_eval(expr, {{"x", x}}); }

SOp Builder::sequence_map(SOp x, SOp y, const std::string& expr) { return expr_eval(expr, {{"x", x}, {"y", y}}); }

SOp Builder::map_table(SOp x, const std::vector<Atom>& domain, const std::function<Atom(const Atom&)>& f) {
  Dict table;
  for (const Atom& v : domain) table[v] = Value::of(f(v));
  return sop(interp_index(in_, Value::of_dict(std::move(table)), value_of(x), SrcLoc{}));
}

SOp Builder::sop_and(SOp a, SOp b) { return lift(MapOp::And, value_of(a), value_of(b)); }
SOp Builder::sop_or(SOp a, SOp b) { return lift(MapOp::Or, value_of(a), value_of(b)); }
SOp Builder::sop_not(SOp a) { return sop(interp_unary(in_, MapOp::Not, value_of(a), SrcLoc{})); }
SOp Builder::if_else(SOp cond, SOp then, SOp otherwise) {
  return sop(interp_ternary(in_, value_of(then), value_of(cond), value_of(otherwise), SrcLoc{}));
}

SOp Builder::named(SOp x, const std::string& name) {
  in_.graph().name_set(x.node, name);
  return x;
}

Sel Builder::named(Sel x, const std::string& name) {
  in_.graph().name_set(x.node, name);
  return x;
}

std::string Builder::to_rasp(SOp target) const { return program_to_rasp({target.node}); }

SOp operator-(SOp a) { return {a.b, interp_unary(a.b->interpreter(), MapOp::Neg, value_of(a), SrcLoc{}).node}; }

Sel operator&(Sel a, Sel b) { return {a.b, a.b->interpreter().graph().sel_and(a.node, b.node)}; }
Sel operator|(Sel a, Sel b) { return {a.b, a.b->interpreter().graph().sel_or(a.node, b.node)}; }
Sel operator~(Sel a) { return {a.b, a.b->interpreter().graph().sel_not(a.node)}; }

}  // namespace attnlab::rasp
