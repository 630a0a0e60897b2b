// RASP values. An Atom is what one position of an s-op holds (bool, int, float or string). A Value is
// anything an expression can produce: an atom, a list, a dict, a function, a comparison operator (the third
// argument of select), or a graph node (an s-op or a selector, see graph.h).
// Number semantics (docs/rasp.md "Where floats appear"): integers stay integers under + - * % ^ (non-negative
// exponent) and under / and mean-aggregation when the result is exact; otherwise the result is a float.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace attnlab::rasp {

struct Node;
struct Function;

using Atom = std::variant<bool, int64_t, double, std::string>;

bool atom_is_bool(const Atom& a);
bool atom_is_int(const Atom& a);  // int64 only (not bool)
bool atom_is_float(const Atom& a);
bool atom_is_str(const Atom& a);
bool atom_is_number(const Atom& a);  // int or float (bools are not numbers here)
double atom_to_double(const Atom& a);  // bool/int/float → double; throws Error on strings
bool atom_truthy(const Atom& a);
std::string atom_type_name(const Atom& a);  // "bool", "int", "float", "string"
// How an atom prints: strings raw ("a"), floats in shortest round-trip form with ".0" when integral.
std::string atom_str(const Atom& a);
// Python-style repr: strings quoted.
std::string atom_repr(const Atom& a);
// Equality as RASP/Python defines it: numbers (and bools) compare by value, strings by content, a string
// never equals a number.
bool atom_equal(const Atom& a, const Atom& b);

// Orders atoms for dict keys: numbers (and bools) by value, then strings.
struct AtomKeyLess {
  bool operator()(const Atom& a, const Atom& b) const;
};

// The operator of select(keys, queries, op); True/False select every / no key.
enum class Cmp { Eq, Ne, Lt, Gt, Le, Ge, True, False };
std::string cmp_str(Cmp c);  // "==", ..., "True"
bool cmp_apply(Cmp c, const Atom& key, const Atom& query);  // throws Error when the atoms cannot be ordered

constexpr int kMaxNest = 100;           // deepest list/dict nesting (deeper is an Error)
constexpr size_t kMaxString = 1 << 20;  // longest string a program can build (bytes)

struct Value;
using List = std::vector<Value>;
using Dict = std::map<Atom, Value, AtomKeyLess>;

struct Value {
  enum class Kind { None, Atom, List, Dict, Func, Node, Cmp };
  Kind kind = Kind::None;
  rasp::Atom atom;                        // Kind::Atom
  std::shared_ptr<const List> list;       // Kind::List
  std::shared_ptr<const Dict> dict;       // Kind::Dict
  std::shared_ptr<const Function> func;   // Kind::Func
  const Node* node = nullptr;             // Kind::Node (owned by a Graph)
  Cmp cmp = Cmp::Eq;                      // Kind::Cmp
  int nest = 0;                           // List/Dict: nesting depth (bounded by kMaxNest)

  static Value of(rasp::Atom a);
  static Value of_list(List l);
  static Value of_dict(Dict d);
  static Value of_node(const Node* n);
  static Value of_cmp(Cmp c);
  bool is_atom() const { return kind == Kind::Atom; }
  bool is_sop() const;       // a node that is an s-op
  bool is_selector() const;  // a node that is a selector
};

std::string value_type_name(const Value& v);  // "int", "list", "s-op", "selector", ...
std::string value_repr(const Value& v);        // how the REPL shows a non-graph value
bool value_equal(const Value& a, const Value& b);  // deep equality of non-graph values

// Elementwise operator semantics shared by the interpreter (on constants) and the evaluator (per
// position), so that constant folding and s-op evaluation can never disagree.
enum class MapOp {
  Neg, Pos, Not, Round, Exp, Sqrt, Abs, Indicator,      // unary
  Add, Sub, Mul, Div, Mod, Pow,                          // arithmetic
  Eq, Ne, Lt, Gt, Le, Ge, And, Or,                       // comparison and logic (on values)
  In, Index, IfElse,                                     // x in c, c[x], a if c else b
};
std::string map_op_str(MapOp op);  // RASP spelling: "-", "not", "round", "+", "==", "in", ...
int map_op_arity(MapOp op);
// Applies an op to atoms; throws attnlab::Error (without location) on type errors, division by zero,
// integer overflow. Index/In take the container as a Value (args[0] for Index, args[1] for In).
Atom map_apply_unary(MapOp op, const Atom& x);
Atom map_apply_binary(MapOp op, const Atom& a, const Atom& b);
Atom map_apply_index(const Value& container, const Atom& index);
bool map_apply_in(const Atom& x, const Value& container);

}  // namespace attnlab::rasp
