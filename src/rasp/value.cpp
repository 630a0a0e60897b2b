// RASP values and the elementwise operator semantics (see value.h).
#include "rasp/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "rasp/graph.h"
#include "util/error.h"

namespace attnlab::rasp {

bool atom_is_bool(const Atom& a) { return std::holds_alternative<bool>(a); }
bool atom_is_int(const Atom& a) { return std::holds_alternative<int64_t>(a); }
bool atom_is_float(const Atom& a) { return std::holds_alternative<double>(a); }
bool atom_is_str(const Atom& a) { return std::holds_alternative<std::string>(a); }
bool atom_is_number(const Atom& a) { return atom_is_int(a) || atom_is_float(a); }

static bool int_like(const Atom& a) { return atom_is_int(a) || atom_is_bool(a); }
static int64_t as_int(const Atom& a) {
  return atom_is_bool(a) ? static_cast<int64_t>(std::get<bool>(a)) : std::get<int64_t>(a);
}

double atom_to_double(const Atom& a) {
  if (atom_is_float(a)) return std::get<double>(a);
  if (int_like(a)) return static_cast<double>(as_int(a));
  throw Error("expected a number, got the string \"" + std::get<std::string>(a) + "\"");
}

bool atom_truthy(const Atom& a) {
  if (atom_is_bool(a)) return std::get<bool>(a);
  if (atom_is_int(a)) return std::get<int64_t>(a) != 0;
  if (atom_is_float(a)) return std::get<double>(a) != 0.0;
  return !std::get<std::string>(a).empty();
}

std::string atom_type_name(const Atom& a) {
  static const char* names[] = {"bool", "int", "float", "string"};
  return names[a.index()];
}

std::string atom_str(const Atom& a) {
  if (atom_is_bool(a)) return std::get<bool>(a) ? "True" : "False";
  if (atom_is_int(a)) return std::to_string(std::get<int64_t>(a));
  if (atom_is_str(a)) return std::get<std::string>(a);
  double d = std::get<double>(a);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, res.ptr);
  if (std::isfinite(d) && s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string atom_repr(const Atom& a) {
  if (!atom_is_str(a)) return atom_str(a);
  return "\"" + std::get<std::string>(a) + "\"";
}

bool atom_equal(const Atom& a, const Atom& b) {
  if (atom_is_str(a) || atom_is_str(b)) return atom_is_str(a) && atom_is_str(b) && std::get<std::string>(a) == std::get<std::string>(b);
  if (int_like(a) && int_like(b)) return as_int(a) == as_int(b);
  return atom_to_double(a) == atom_to_double(b);
}

bool AtomKeyLess::operator()(const Atom& a, const Atom& b) const {
  bool sa = atom_is_str(a), sb = atom_is_str(b);
  if (sa != sb) return !sa;
  if (sa) return std::get<std::string>(a) < std::get<std::string>(b);
  if (int_like(a) && int_like(b)) return as_int(a) < as_int(b);
  return atom_to_double(a) < atom_to_double(b);
}

std::string cmp_str(Cmp c) {
  static const char* names[] = {"==", "!=", "<", ">", "<=", ">=", "True", "False"};
  return names[static_cast<int>(c)];
}

// -1, 0, 1; throws when a string meets a number.
static int atom_order(const Atom& a, const Atom& b, const char* what) {
  if (atom_is_str(a) && atom_is_str(b)) {
    int c = std::get<std::string>(a).compare(std::get<std::string>(b));
    return (c > 0) - (c < 0);
  }
  if (atom_is_str(a) || atom_is_str(b))
    throw Error(std::string("cannot order ") + atom_type_name(a) + " " + atom_repr(a) + " and " + atom_type_name(b) +
                    " " + atom_repr(b) + " with " + what,
                "only numbers with numbers and strings with strings can be compared by < > <= >=");
  if (int_like(a) && int_like(b)) return (as_int(a) > as_int(b)) - (as_int(a) < as_int(b));
  double x = atom_to_double(a), y = atom_to_double(b);
  return (x > y) - (x < y);
}

bool cmp_apply(Cmp c, const Atom& key, const Atom& query) {
  switch (c) {
    case Cmp::Eq: return atom_equal(key, query);
    case Cmp::Ne: return !atom_equal(key, query);
    case Cmp::True: return true;
    case Cmp::False: return false;
    case Cmp::Lt: return atom_order(key, query, "<") < 0;
    case Cmp::Gt: return atom_order(key, query, ">") > 0;
    case Cmp::Le: return atom_order(key, query, "<=") <= 0;
    case Cmp::Ge: return atom_order(key, query, ">=") >= 0;
  }
  return false;
}

Value Value::of(rasp::Atom a) {
  Value v;
  v.kind = Kind::Atom;
  v.atom = std::move(a);
  return v;
}
static void nest_check(int nest) {
  if (nest > kMaxNest)
    throw Error("lists or dicts nested more than " + std::to_string(kMaxNest) + " levels deep", "flatten the data");
}

Value Value::of_list(List l) {
  Value v;
  for (const Value& x : l) v.nest = std::max(v.nest, x.nest + 1);
  nest_check(v.nest);
  v.kind = Kind::List;
  v.list = std::make_shared<const List>(std::move(l));
  return v;
}
Value Value::of_dict(Dict d) {
  Value v;
  for (const auto& kv : d) v.nest = std::max(v.nest, kv.second.nest + 1);
  nest_check(v.nest);
  v.kind = Kind::Dict;
  v.dict = std::make_shared<const Dict>(std::move(d));
  return v;
}
Value Value::of_node(const Node* n) {
  Value v;
  v.kind = Kind::Node;
  v.node = n;
  return v;
}
Value Value::of_cmp(Cmp c) {
  Value v;
  v.kind = Kind::Cmp;
  v.cmp = c;
  return v;
}
bool Value::is_sop() const { return kind == Kind::Node && !node->is_selector(); }
bool Value::is_selector() const { return kind == Kind::Node && node->is_selector(); }

std::string value_type_name(const Value& v) {
  switch (v.kind) {
    case Value::Kind::None: return "nothing";
    case Value::Kind::Atom: return atom_type_name(v.atom);
    case Value::Kind::List: return "list";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Func: return "function";
    case Value::Kind::Cmp: return "comparison";
    case Value::Kind::Node: return v.node->is_selector() ? "selector" : "s-op";
  }
  return "?";
}

std::string value_repr(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Atom: return atom_repr(v.atom);
    case Value::Kind::List: {
      std::string s = "[";
      for (size_t i = 0; i < v.list->size(); ++i) s += (i ? ", " : "") + value_repr((*v.list)[i]);
      return s + "]";
    }
    case Value::Kind::Dict: {
      std::string s = "{";
      bool first = true;
      for (const auto& [k, x] : *v.dict) {
        s += (first ? "" : ", ") + atom_repr(k) + ": " + value_repr(x);
        first = false;
      }
      return s + "}";
    }
    case Value::Kind::Cmp: return cmp_str(v.cmp);
    default: return "<" + value_type_name(v) + ">";
  }
}

bool value_equal(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::None: return true;
    case Value::Kind::Atom: return atom_equal(a.atom, b.atom);
    case Value::Kind::Cmp: return a.cmp == b.cmp;
    case Value::Kind::Node: return a.node == b.node;
    case Value::Kind::Func: return a.func == b.func;
    case Value::Kind::List:
      if (a.list->size() != b.list->size()) return false;
      for (size_t i = 0; i < a.list->size(); ++i)
        if (!value_equal((*a.list)[i], (*b.list)[i])) return false;
      return true;
    case Value::Kind::Dict:
      if (a.dict->size() != b.dict->size()) return false;
      for (auto ia = a.dict->begin(), ib = b.dict->begin(); ia != a.dict->end(); ++ia, ++ib)
        if (!atom_equal(ia->first, ib->first) || !value_equal(ia->second, ib->second)) return false;
      return true;
  }
  return false;
}

}  // namespace attnlab::rasp
