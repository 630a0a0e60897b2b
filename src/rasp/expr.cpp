// RASP expression evaluation and operator lifting (interp.h: interp_eval_expr, interp_unary, ...).
// Lifting rule: an operator with an s-op operand becomes a Map node whose constant operands become Const
// nodes; 'and' / 'or' / 'not' on selectors compose them; constants are computed on the spot with the same
// map_apply_* functions the evaluator uses per position.
#include <algorithm>

#include "rasp/interp.h"
#include "util/error.h"

namespace attnlab::rasp {

[[noreturn]] static void fail(const SrcLoc& loc, const std::string& msg, const std::string& hint = "") {
  throw Error(loc_message(loc, msg), hint);
}

// Re-throws a location-free error from an operation with the location of the expression that ran it.
template <typename F>
static auto at(const SrcLoc& loc, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    if (loc.file && e.message().rfind(loc.file->name + ":", 0) == 0) throw;
    throw Error(loc_message(loc, e.message()), e.hint());
  }
}

const Node* Interpreter::as_node(const Value& v, const SrcLoc& loc, const std::string& what) {
  if (v.kind == Value::Kind::Node) return v.node;
  if (v.is_atom()) return graph_.constant(v, loc);
  fail(loc, what + " needs an s-op or a single value, got a " + value_type_name(v),
       "lists and dicts can be indexed by an s-op (table[x]) but not used as s-ops themselves");
}

Value interp_unary(Interpreter& in, MapOp op, const Value& x, const SrcLoc& loc) {
  if (x.is_selector()) {
    if (op != MapOp::Not) fail(loc, "'" + map_op_str(op) + "' cannot be applied to a selector", "selectors combine with and, or, not");
    return Value::of_node(in.graph().sel_not(x.node, loc));
  }
  if (x.is_sop()) return Value::of_node(in.graph().map(op, {x.node}, loc));
  if (op == MapOp::Not && (x.kind == Value::Kind::List || x.kind == Value::Kind::Dict))
    return Value::of(Atom{x.kind == Value::Kind::List ? x.list->empty() : x.dict->empty()});
  if (!x.is_atom()) fail(loc, "'" + map_op_str(op) + "' cannot be applied to a " + value_type_name(x));
  return Value::of(at(loc, [&] { return map_apply_unary(op, x.atom); }));
}

static Value container_binary(MapOp op, const Value& a, const Value& b, const SrcLoc& loc, size_t max_list) {
  if (op == MapOp::Eq || op == MapOp::Ne) return Value::of(Atom{value_equal(a, b) == (op == MapOp::Eq)});
  if (op == MapOp::Add && a.kind == Value::Kind::List && b.kind == Value::Kind::List) {
    if (a.list->size() + b.list->size() > max_list) fail(loc, "list longer than " + std::to_string(max_list) + " elements");
    List out = *a.list;
    out.insert(out.end(), b.list->begin(), b.list->end());
    return Value::of_list(std::move(out));
  }
  fail(loc, "cannot apply '" + map_op_str(op) + "' to a " + value_type_name(a) + " and a " + value_type_name(b),
       "lists support + (joining) and ==; dicts support ==");
}

Value interp_binary(Interpreter& in, MapOp op, const Value& a, const Value& b, const SrcLoc& loc) {
  Graph& g = in.graph();
  if (a.is_selector() || b.is_selector()) {
    if ((op == MapOp::And || op == MapOp::Or) && a.is_selector() && b.is_selector())
      return Value::of_node(op == MapOp::And ? g.sel_and(a.node, b.node, loc) : g.sel_or(a.node, b.node, loc));
    fail(loc, "cannot apply '" + map_op_str(op) + "' to a " + value_type_name(a) + " and a " + value_type_name(b),
         "selectors combine only with other selectors, by 'and', 'or', 'not'");
  }
  if (op == MapOp::In) {
    if (b.is_sop()) fail(loc, "'in' needs a constant list, dict or string on the right, got an s-op", "");
    if (a.is_sop()) {
      if (b.kind != Value::Kind::List && b.kind != Value::Kind::Dict && !(b.is_atom() && atom_is_str(b.atom)))
        fail(loc, "'in' needs a list, dict or string on the right, got a " + value_type_name(b));
      return Value::of_node(g.map(MapOp::In, {a.node, g.constant(b, loc)}, loc));
    }
    if (!a.is_atom()) fail(loc, "'in' needs a single value on the left, got a " + value_type_name(a));
    return Value::of(Atom{at(loc, [&] { return map_apply_in(a.atom, b); })});
  }
  if (a.is_sop() || b.is_sop()) {
    const Node* x = in.as_node(a, loc, "'" + map_op_str(op) + "'");
    const Node* y = in.as_node(b, loc, "'" + map_op_str(op) + "'");
    return Value::of_node(g.map(op, {x, y}, loc));
  }
  if (a.is_atom() && b.is_atom()) return Value::of(at(loc, [&] { return map_apply_binary(op, a.atom, b.atom); }));
  if (op == MapOp::And || op == MapOp::Or) {
    bool ta = a.is_atom() ? atom_truthy(a.atom) : !value_equal(a, Value::of_list({}));
    bool tb = b.is_atom() ? atom_truthy(b.atom) : !value_equal(b, Value::of_list({}));
    return Value::of(Atom{op == MapOp::And ? ta && tb : ta || tb});
  }
  return container_binary(op, a, b, loc, in.limits().max_list);
}

Value interp_ternary(Interpreter& in, const Value& then, const Value& cond, const Value& otherwise, const SrcLoc& loc) {
  if (then.is_selector() || cond.is_selector() || otherwise.is_selector())
    fail(loc, "a conditional expression cannot involve selectors", "combine selectors with and, or, not");
  std::vector<const Node*> args = {in.as_node(then, loc, "'if'"), in.as_node(cond, loc, "'if'"),
                                   in.as_node(otherwise, loc, "'if'")};
  return Value::of_node(in.graph().map(MapOp::IfElse, std::move(args), loc));
}

Value interp_index(Interpreter& in, const Value& c, const Value& i, const SrcLoc& loc) {
  if (c.kind == Value::Kind::Node)
    fail(loc, "an s-op or selector cannot be indexed by position",
         "to read another position, select it and aggregate: aggregate(select(indices, q, ==), x)");
  if (i.is_sop()) {
    if (c.kind != Value::Kind::List && c.kind != Value::Kind::Dict && !(c.is_atom() && atom_is_str(c.atom)))
      fail(loc, "only a list, dict or string can be indexed by an s-op, not a " + value_type_name(c));
    return Value::of_node(in.graph().map(MapOp::Index, {in.graph().constant(c, loc), i.node}, loc));
  }
  if (!i.is_atom()) fail(loc, "an index must be a single value, got a " + value_type_name(i));
  if (c.kind == Value::Kind::Dict) {
    auto it = c.dict->find(i.atom);
    if (it == c.dict->end()) fail(loc, "key " + atom_repr(i.atom) + " is not in the dict", "check with 'in' first");
    return it->second;
  }
  if (c.kind == Value::Kind::List) {
    if (!atom_is_int(i.atom) && !atom_is_bool(i.atom))
      fail(loc, "a list index must be an integer, got " + atom_type_name(i.atom) + " " + atom_repr(i.atom));
    int64_t n = static_cast<int64_t>(c.list->size());
    int64_t k = atom_is_bool(i.atom) ? std::get<bool>(i.atom) : std::get<int64_t>(i.atom);
    int64_t j = k < 0 ? k + n : k;
    if (j < 0 || j >= n)
      fail(loc, "index " + std::to_string(k) + " is out of range for a list of length " + std::to_string(n),
           n ? "valid indices are 0.." + std::to_string(n - 1) + " (or negative, counting from the end)" : "the list is empty");
    return (*c.list)[static_cast<size_t>(j)];
  }
  return Value::of(at(loc, [&] { return map_apply_index(c, i.atom); }));
}

static Value eval(Interpreter& in, const Expr& e, const EnvPtr& env);

// Elements of a list, the characters of a string, or the keys of a dict.
static List iterate(const Value& v, const SrcLoc& loc) {
  if (v.kind == Value::Kind::List) return *v.list;
  if (v.kind == Value::Kind::Dict) {
    List out;
    for (const auto& kv : *v.dict) out.push_back(Value::of(kv.first));
    return out;
  }
  if (v.is_atom() && atom_is_str(v.atom)) {
    List out;
    for (char ch : std::get<std::string>(v.atom)) out.push_back(Value::of(std::string(1, ch)));
    return out;
  }
  fail(loc, "cannot iterate over a " + value_type_name(v), "loop over a list, range(n), a string or a dict");
}

void bind_targets(const std::vector<std::string>& names, const Value& v, Env& env, const SrcLoc& loc) {
  if (names.size() == 1) {
    env.vars[names[0]] = v;
    return;
  }
  if (v.kind != Value::Kind::List || v.list->size() != names.size())
    fail(loc, "cannot unpack a " + value_type_name(v) +
                  (v.kind == Value::Kind::List ? " of length " + std::to_string(v.list->size()) : "") + " into " +
                  std::to_string(names.size()) + " names",
         "the right-hand side must be a list with one element per name");
  for (size_t i = 0; i < names.size(); ++i) env.vars[names[i]] = (*v.list)[i];
}

static Value comprehension(Interpreter& in, const Expr& e, const EnvPtr& env) {
  bool dict = e.kind == ExprKind::DictComp;
  size_t it_index = dict ? 2 : 1;
  Value source = eval(in, *e.items[it_index], env);
  auto scope = std::make_shared<Env>();
  scope->parent = env;
  List out;
  Dict out_dict;
  for (const Value& item : iterate(source, e.items[it_index]->loc)) {
    bind_targets(e.vars, item, *scope, e.loc);
    if (e.has_cond) {
      Value c = eval(in, *e.items[it_index + 1], scope);
      if (!c.is_atom()) fail(e.items[it_index + 1]->loc, "a comprehension condition must be a single value, got a " + value_type_name(c));
      if (!atom_truthy(c.atom)) continue;
    }
    if (!dict) {
      out.push_back(eval(in, *e.items[0], scope));
      continue;
    }
    Value k = eval(in, *e.items[0], scope);
    if (!k.is_atom()) fail(e.items[0]->loc, "a dict key must be a single value, got a " + value_type_name(k));
    out_dict[k.atom] = eval(in, *e.items[1], scope);
  }
  return dict ? Value::of_dict(std::move(out_dict)) : Value::of_list(std::move(out));
}

static Value literal_collection(Interpreter& in, const Expr& e, const EnvPtr& env) {
  if (e.kind == ExprKind::List) {
    List out;
    for (const auto& item : e.items) out.push_back(eval(in, *item, env));
    return Value::of_list(std::move(out));
  }
  Dict out;
  for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
    Value k = eval(in, *e.items[i], env);
    if (!k.is_atom()) fail(e.items[i]->loc, "a dict key must be a single value, got a " + value_type_name(k));
    out[k.atom] = eval(in, *e.items[i + 1], env);
  }
  return Value::of_dict(std::move(out));
}

static std::string closest_name(const Env& env, const std::string& name);

static Value eval_logic(Interpreter& in, const Expr& e, const EnvPtr& env) {
  Value a = eval(in, *e.items[0], env);
  if (a.is_atom()) {  // constants short-circuit, as in Python
    bool t = atom_truthy(a.atom);
    if (e.op == MapOp::And && !t) return Value::of(Atom{false});
    if (e.op == MapOp::Or && t) return Value::of(Atom{true});
  }
  return interp_binary(in, e.op, a, eval(in, *e.items[1], env), e.loc);
}

static Value eval_kind(Interpreter& in, const Expr& e, const EnvPtr& env);

static Value eval(Interpreter& in, const Expr& e, const EnvPtr& env) {
  in.step(e.loc);
  if (in.eval_depth >= in.limits().max_eval_depth)
    fail(e.loc, "expressions and calls nested more than " + std::to_string(in.limits().max_eval_depth) + " deep",
         "unbounded recursion? give the recursion a base case");
  ++in.eval_depth;
  struct Leave {
    Interpreter& in;
    ~Leave() { --in.eval_depth; }
  } leave{in};
  return eval_kind(in, e, env);
}

static Value eval_kind(Interpreter& in, const Expr& e, const EnvPtr& env) {
  switch (e.kind) {
    case ExprKind::Literal: return Value::of(e.literal);
    case ExprKind::CmpLit: return Value::of_cmp(e.cmp);
    case ExprKind::Name: {
      if (const Value* v = env->find(e.name)) return *v;
      fail(e.loc, "unknown name '" + e.name + "'", closest_name(*env, e.name));
    }
    case ExprKind::List:
    case ExprKind::Dict: return literal_collection(in, e, env);
    case ExprKind::ListComp:
    case ExprKind::DictComp: return comprehension(in, e, env);
    case ExprKind::Unary: return interp_unary(in, e.op, eval(in, *e.items[0], env), e.loc);
    case ExprKind::Binary:
      if (e.op == MapOp::And || e.op == MapOp::Or) return eval_logic(in, e, env);
      return interp_binary(in, e.op, eval(in, *e.items[0], env), eval(in, *e.items[1], env), e.loc);
    case ExprKind::Ternary: {
      Value c = eval(in, *e.items[1], env);
      if (c.is_atom()) return eval(in, *e.items[atom_truthy(c.atom) ? 0 : 2], env);
      return interp_ternary(in, eval(in, *e.items[0], env), c, eval(in, *e.items[2], env), e.loc);
    }
    case ExprKind::Index: return interp_index(in, eval(in, *e.items[0], env), eval(in, *e.items[1], env), e.loc);
    case ExprKind::Call: {
      Value f = eval(in, *e.items[0], env);
      std::vector<Value> args;
      for (size_t i = 1; i < e.items.size(); ++i) args.push_back(eval(in, *e.items[i], env));
      return interp_call(in, f, args, e.loc);
    }
  }
  fail(e.loc, "internal: unknown expression kind");
}

Value interp_eval_expr(Interpreter& in, const Expr& e, const EnvPtr& env) { return eval(in, e, env); }

static std::string closest_name(const Env& env, const std::string& name) {
  std::string best;
  size_t best_d = name.size() / 3 + 2;
  for (const Env* s = &env; s; s = s->parent.get())
    for (const auto& kv : s->vars) {
      size_t d = edit_distance(kv.first, name);
      if (d < best_d || (d == best_d && !best.empty() && kv.first < best)) {
        best_d = d;
        best = kv.first;
      }
    }
  if (!best.empty()) return "did you mean '" + best + "'?";
  return "assign it first (x = ...;) or load the file that defines it (load \"lib/sort\";)";
}

}  // namespace attnlab::rasp
