// RASP builtins: the primitives (tokens, indices, length, typed tokens), the attention operations (select,
// aggregate, selector_width), the encoding annotations (numerical, categorical — extensions the compiler
// needs), and the helpers of the original REPL language (range, zip, len, round, indicator), plus exp, sqrt, abs (for the matrix library, lib/matrix.rasp).
#include "rasp/interp.h"
#include "util/error.h"

namespace attnlab::rasp {

namespace {

Value fn_range(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  std::vector<int64_t> v;
  for (const Value& x : a) {
    if (!x.is_atom() || !atom_is_int(x.atom)) throw Error("arguments must be integers, got a " + value_type_name(x), "");
    v.push_back(std::get<int64_t>(x.atom));
  }
  int64_t start = a.size() > 1 ? v[0] : 0, stop = a.size() > 1 ? v[1] : v[0], step = a.size() > 2 ? v[2] : 1;
  if (step == 0) throw Error("the step must not be zero", "");
  List out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (out.size() >= in.limits().max_list)
      throw Error("range longer than " + std::to_string(in.limits().max_list) + " elements", "use a smaller range");
    out.push_back(Value::of(Atom{i}));
  }
  return Value::of_list(std::move(out));
}

Value fn_len(Interpreter&, const std::vector<Value>& a, const SrcLoc&) {
  const Value& x = a[0];
  if (x.kind == Value::Kind::List) return Value::of(Atom{static_cast<int64_t>(x.list->size())});
  if (x.kind == Value::Kind::Dict) return Value::of(Atom{static_cast<int64_t>(x.dict->size())});
  if (x.is_atom() && atom_is_str(x.atom)) return Value::of(Atom{static_cast<int64_t>(std::get<std::string>(x.atom).size())});
  if (x.is_sop()) throw Error("len() of an s-op is not defined", "the input length is the s-op 'length'");
  throw Error("len() of a " + value_type_name(x) + " is not defined", "len() takes a list, dict or string");
}

Value fn_zip(Interpreter&, const std::vector<Value>& a, const SrcLoc&) {
  std::vector<List> cols;
  size_t n = SIZE_MAX;
  for (const Value& x : a) {
    List col;
    if (x.kind == Value::Kind::List) col = *x.list;
    else if (x.is_atom() && atom_is_str(x.atom)) for (char c : std::get<std::string>(x.atom)) col.push_back(Value::of(std::string(1, c)));
    else throw Error("arguments must be lists or strings, got a " + value_type_name(x), "");
    n = std::min(n, col.size());
    cols.push_back(std::move(col));
  }
  List out;
  for (size_t i = 0; i < n; ++i) {
    List row;
    for (const List& c : cols) row.push_back(c[i]);
    out.push_back(Value::of_list(std::move(row)));
  }
  return Value::of_list(std::move(out));
}

Value fn_round(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  return interp_unary(in, MapOp::Round, a[0], loc);
}

Value fn_exp(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  return interp_unary(in, MapOp::Exp, a[0], loc);
}

Value fn_sqrt(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  return interp_unary(in, MapOp::Sqrt, a[0], loc);
}

Value fn_abs(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  return interp_unary(in, MapOp::Abs, a[0], loc);
}

Value fn_indicator(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  return interp_unary(in, MapOp::Indicator, a[0], loc);
}

Value fn_select(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  Cmp cmp;
  if (a[2].kind == Value::Kind::Cmp) cmp = a[2].cmp;
  else if (a[2].is_atom() && atom_is_bool(a[2].atom)) cmp = std::get<bool>(a[2].atom) ? Cmp::True : Cmp::False;
  else
    throw Error("the third argument must be a comparison (== != < > <= >= True False), got a " + value_type_name(a[2]),
                "write select(keys, queries, ==)");
  if (a[0].is_selector() || a[1].is_selector()) throw Error("keys and queries must be s-ops, not selectors", "");
  if (!a[0].is_sop() && !a[1].is_sop())
    throw Error("at least one of keys and queries must be an s-op", "write select(tokens, tokens, ==)");
  const Node* keys = in.as_node(a[0], loc, "select() keys");
  const Node* queries = in.as_node(a[1], loc, "select() queries");
  return Value::of_node(in.graph().select(keys, queries, cmp, loc));
}

Value fn_aggregate(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  if (!a[0].is_selector()) throw Error("the first argument must be a selector, got a " + value_type_name(a[0]), "make one with select(keys, queries, op)");
  if (a[1].is_selector()) throw Error("the second argument must be an s-op, got a selector", "");
  Atom dflt = int64_t{0};
  if (a.size() > 2) {
    if (!a[2].is_atom()) throw Error("the default must be a single value, got a " + value_type_name(a[2]), "");
    dflt = a[2].atom;
  }
  const Node* values = in.as_node(a[1], loc, "aggregate() values");
  return Value::of_node(in.graph().aggregate(a[0].node, values, dflt, loc));
}

Value fn_selector_width(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  if (!a[0].is_selector()) throw Error("the argument must be a selector, got a " + value_type_name(a[0]), "make one with select(keys, queries, op)");
  return Value::of_node(in.graph().selector_width(a[0].node, loc));
}

// softmax_select(keys, queries, scale[, mask]): keys/queries one s-op each or equal-length lists of s-ops.
Value fn_softmax_select(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  auto nodes = [&](const Value& v, const char* what) {
    std::vector<const Node*> out;
    if (v.kind == Value::Kind::List)
      for (const Value& x : *v.list) out.push_back(in.as_node(x, loc, what));
    else
      out.push_back(in.as_node(v, loc, what));
    return out;
  };
  std::vector<const Node*> keys = nodes(a[0], "softmax_select() keys");
  std::vector<const Node*> queries = nodes(a[1], "softmax_select() queries");
  if (!a[2].is_atom() || atom_is_str(a[2].atom))
    throw Error("the scale (third argument) must be a number, got a " + value_type_name(a[2]),
                "write softmax_select(keys, queries, 1 / sqrt(dk))");
  double scale = atom_is_int(a[2].atom) ? static_cast<double>(std::get<int64_t>(a[2].atom))
               : atom_is_bool(a[2].atom) ? static_cast<double>(std::get<bool>(a[2].atom))
                                         : std::get<double>(a[2].atom);
  const Node* mask = nullptr;
  if (a.size() > 3) {
    if (!a[3].is_selector()) throw Error("the mask (fourth argument) must be a selector, got a " + value_type_name(a[3]), "");
    mask = a[3].node;
  }
  return Value::of_node(in.graph().soft_select(keys, queries, scale, mask, loc));
}

Value annotate(Interpreter& in, const Value& x, Encoding e, const SrcLoc& loc) {
  if (!x.is_sop()) throw Error("the argument must be an s-op, got a " + value_type_name(x), "annotations mark how the compiler encodes an s-op");
  return Value::of_node(in.graph().annotate(x.node, e, loc));
}

Value fn_numerical(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  return annotate(in, a[0], Encoding::Numerical, loc);
}

Value fn_categorical(Interpreter& in, const std::vector<Value>& a, const SrcLoc& loc) {
  return annotate(in, a[0], Encoding::Categorical, loc);
}

void add(Env& env, const char* name, BuiltinFn f, int min_args, int max_args) {
  auto fn = std::make_shared<Function>();
  fn->name = name;
  fn->builtin = f;
  fn->min_args = min_args;
  fn->max_args = max_args;
  Value v;
  v.kind = Value::Kind::Func;
  v.func = fn;
  env.vars[name] = v;
}

}  // namespace

void builtins_install(Interpreter& in, Env& env) {
  Graph& g = in.graph();
  env.vars["tokens"] = Value::of_node(g.tokens(TokenType::Any));
  env.vars["tokens_str"] = Value::of_node(g.tokens(TokenType::Str));
  env.vars["tokens_int"] = Value::of_node(g.tokens(TokenType::Int));
  env.vars["tokens_float"] = Value::of_node(g.tokens(TokenType::Float));
  env.vars["tokens_bool"] = Value::of_node(g.tokens(TokenType::Bool));
  env.vars["indices"] = Value::of_node(g.indices());
  env.vars["length"] = Value::of_node(g.length());
  add(env, "range", fn_range, 1, 3);
  add(env, "len", fn_len, 1, 1);
  add(env, "zip", fn_zip, 1, 16);
  add(env, "round", fn_round, 1, 1);
  add(env, "indicator", fn_indicator, 1, 1);
  add(env, "exp", fn_exp, 1, 1);
  add(env, "sqrt", fn_sqrt, 1, 1);
  add(env, "abs", fn_abs, 1, 1);
  add(env, "select", fn_select, 3, 3);
  add(env, "aggregate", fn_aggregate, 2, 3);
  add(env, "selector_width", fn_selector_width, 1, 1);
  add(env, "softmax_select", fn_softmax_select, 3, 4);
  add(env, "numerical", fn_numerical, 1, 1);
  add(env, "categorical", fn_categorical, 1, 1);
}

}  // namespace attnlab::rasp
