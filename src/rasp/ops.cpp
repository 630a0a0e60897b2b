// Elementwise operator semantics (value.h: map_apply_*). One definition serves constant folding in the
// interpreter and per-position evaluation of lifted s-ops. Integers stay integers unless the exact result
// is not an integer (x / y, negative powers); overflow of 64-bit integers is an error, never a wrap-around.
#include <cmath>

#include "rasp/value.h"
#include "util/error.h"

namespace attnlab::rasp {

std::string map_op_str(MapOp op) {
  static const char* names[] = {"-", "+", "not", "round", "exp", "sqrt", "abs", "indicator", "+", "-", "*", "/", "%", "^",
                                "==", "!=", "<", ">", "<=", ">=", "and", "or", "in", "[]", "if"};
  return names[static_cast<int>(op)];
}

int map_op_arity(MapOp op) {
  if (op <= MapOp::Indicator) return 1;
  if (op == MapOp::IfElse) return 3;
  return 2;
}

static bool int_like(const Atom& a) { return atom_is_int(a) || atom_is_bool(a); }
static int64_t as_int(const Atom& a) {
  return atom_is_bool(a) ? static_cast<int64_t>(std::get<bool>(a)) : std::get<int64_t>(a);
}
static bool numeric_like(const Atom& a) { return !atom_is_str(a); }

static Atom checked_double(double d) {
  if (!std::isfinite(d))
    throw Error("numeric overflow (the result is not a finite number)", "keep values in the range of a double");
  return d;
}

static Error overflow(const char* op) {
  return Error(std::string("integer overflow in '") + op + "'", "RASP integers are 64-bit; keep values below 9.2e18");
}

static Error type_error(MapOp op, const Atom& a, const Atom& b) {
  return Error("cannot apply '" + map_op_str(op) + "' to " + atom_type_name(a) + " " + atom_repr(a) + " and " +
                   atom_type_name(b) + " " + atom_repr(b),
               "arithmetic needs numbers on both sides ('+' also joins two strings)");
}

Atom map_apply_unary(MapOp op, const Atom& x) {
  switch (op) {
    case MapOp::Not: return !atom_truthy(x);
    case MapOp::Indicator: return static_cast<int64_t>(atom_truthy(x) ? 1 : 0);
    default: break;
  }
  if (atom_is_str(x))
    throw Error("cannot apply '" + map_op_str(op) + "' to the string " + atom_repr(x), "it needs a number");
  if (op == MapOp::Round) {
    if (int_like(x)) return as_int(x);
    double r = std::nearbyint(std::get<double>(x));  // round half to even, as Python's round()
    if (!(std::fabs(r) < 9.2e18)) throw overflow("round");
    return static_cast<int64_t>(r);
  }
  if (op == MapOp::Exp || op == MapOp::Sqrt) {
    double v = int_like(x) ? static_cast<double>(as_int(x)) : std::get<double>(x);
    if (op == MapOp::Sqrt && v < 0)
      throw Error("sqrt of the negative number " + atom_repr(x), "sqrt needs a value >= 0");
    return checked_double(op == MapOp::Exp ? std::exp(v) : std::sqrt(v));  // always a float, as in Python's math
  }
  if (op == MapOp::Abs) {
    if (!int_like(x)) return std::fabs(std::get<double>(x));
    if (as_int(x) == INT64_MIN) throw overflow("abs");
    return as_int(x) < 0 ? -as_int(x) : as_int(x);
  }
  if (op == MapOp::Pos) return int_like(x) ? Atom{as_int(x)} : x;
  // Neg
  if (int_like(x)) {
    if (as_int(x) == INT64_MIN) throw overflow("-");
    return -as_int(x);
  }
  return -std::get<double>(x);
}

static Atom int_pow(int64_t base, int64_t exp) {
  if (exp < 0) {
    if (base == 0) throw Error("division by zero: 0 raised to a negative power", "");
    return checked_double(std::pow(static_cast<double>(base), static_cast<double>(exp)));
  }
  if (base == 0) return int64_t{exp == 0 ? 1 : 0};
  if (base == 1) return int64_t{1};
  if (base == -1) return int64_t{exp % 2 == 0 ? 1 : -1};
  if (exp > 63) throw overflow("^");
  int64_t result = 1;
  for (int64_t e = 0; e < exp; ++e)
    if (__builtin_mul_overflow(result, base, &result)) throw overflow("^");
  return result;
}

static Atom arith_int(MapOp op, int64_t a, int64_t b) {
  int64_t r = 0;
  switch (op) {
    case MapOp::Add: if (__builtin_add_overflow(a, b, &r)) throw overflow("+"); return r;
    case MapOp::Sub: if (__builtin_sub_overflow(a, b, &r)) throw overflow("-"); return r;
    case MapOp::Mul: if (__builtin_mul_overflow(a, b, &r)) throw overflow("*"); return r;
    case MapOp::Div:
      if (b == 0) throw Error("division by zero", "guard the divisor, e.g. 'x / d if d != 0 else 0'");
      if (a == INT64_MIN && b == -1) throw overflow("/");
      if (a % b == 0) return a / b;
      return static_cast<double>(a) / static_cast<double>(b);
    case MapOp::Mod: {
      if (b == 0) throw Error("modulo by zero", "guard the divisor, e.g. 'x % d if d != 0 else 0'");
      if (b == -1) return int64_t{0};
      int64_t m = a % b;
      if (m != 0 && ((m < 0) != (b < 0))) m += b;  // Python: the result has the divisor's sign
      return m;
    }
    default: return int_pow(a, b);
  }
}

static Atom arith_float(MapOp op, double a, double b) {
  switch (op) {
    case MapOp::Add: return checked_double(a + b);
    case MapOp::Sub: return checked_double(a - b);
    case MapOp::Mul: return checked_double(a * b);
    case MapOp::Div:
      if (b == 0.0) throw Error("division by zero", "guard the divisor, e.g. 'x / d if d != 0 else 0'");
      return checked_double(a / b);
    case MapOp::Mod: {
      if (b == 0.0) throw Error("modulo by zero", "guard the divisor");
      double m = std::fmod(a, b);
      if (m != 0.0 && ((m < 0) != (b < 0))) m += b;
      return checked_double(m);
    }
    default:
      if (a == 0.0 && b < 0) throw Error("division by zero: 0 raised to a negative power", "");
      if (a < 0 && b != std::floor(b))
        throw Error("a negative number raised to a fractional power has no real value", "");
      return checked_double(std::pow(a, b));
  }
}

Atom map_apply_binary(MapOp op, const Atom& a, const Atom& b) {
  switch (op) {
    case MapOp::Eq: return atom_equal(a, b);
    case MapOp::Ne: return !atom_equal(a, b);
    case MapOp::Lt: return cmp_apply(Cmp::Lt, a, b);
    case MapOp::Gt: return cmp_apply(Cmp::Gt, a, b);
    case MapOp::Le: return cmp_apply(Cmp::Le, a, b);
    case MapOp::Ge: return cmp_apply(Cmp::Ge, a, b);
    case MapOp::And: return atom_truthy(a) && atom_truthy(b);
    case MapOp::Or: return atom_truthy(a) || atom_truthy(b);
    default: break;
  }
  if (op == MapOp::Add && atom_is_str(a) && atom_is_str(b)) {
    if (std::get<std::string>(a).size() + std::get<std::string>(b).size() > kMaxString)
      throw Error("string longer than " + std::to_string(kMaxString) + " bytes", "");
    return std::get<std::string>(a) + std::get<std::string>(b);
  }
  if (!numeric_like(a) || !numeric_like(b)) throw type_error(op, a, b);
  if (int_like(a) && int_like(b)) return arith_int(op, as_int(a), as_int(b));
  return arith_float(op, atom_to_double(a), atom_to_double(b));
}

Atom map_apply_index(const Value& container, const Atom& index) {
  if (container.kind == Value::Kind::Dict) {
    auto it = container.dict->find(index);
    if (it == container.dict->end())
      throw Error("key " + atom_repr(index) + " is not in the dict", "add the key, or check the value first with 'in'");
    if (!it->second.is_atom()) throw Error("dict value for " + atom_repr(index) + " is a " + value_type_name(it->second) + ", not a single value", "");
    return it->second.atom;
  }
  if (!int_like(index))
    throw Error("a list or string index must be an integer, got " + atom_type_name(index) + " " + atom_repr(index), "");
  int64_t i = as_int(index);
  int64_t n = container.kind == Value::Kind::List ? static_cast<int64_t>(container.list->size())
              : container.is_atom() && atom_is_str(container.atom)
                  ? static_cast<int64_t>(std::get<std::string>(container.atom).size())
                  : -1;
  if (n < 0) throw Error("a " + value_type_name(container) + " cannot be indexed", "index lists, strings and dicts");
  int64_t j = i < 0 ? i + n : i;
  if (j < 0 || j >= n)
    throw Error("index " + std::to_string(i) + " is out of range for a " + value_type_name(container) + " of length " + std::to_string(n),
                "valid indices are 0.." + std::to_string(n - 1) + " (or negative, counting from the end)");
  if (container.kind == Value::Kind::List) {
    const Value& v = (*container.list)[static_cast<size_t>(j)];
    if (!v.is_atom()) throw Error("list element " + std::to_string(i) + " is a " + value_type_name(v) + ", not a single value", "");
    return v.atom;
  }
  return std::string(1, std::get<std::string>(container.atom)[static_cast<size_t>(j)]);
}

bool map_apply_in(const Atom& x, const Value& container) {
  if (container.kind == Value::Kind::Dict) return container.dict->count(x) > 0;
  if (container.kind == Value::Kind::List) {
    for (const Value& v : *container.list)
      if (v.is_atom() && atom_equal(v.atom, x)) return true;
    return false;
  }
  if (container.is_atom() && atom_is_str(container.atom)) {
    if (!atom_is_str(x)) throw Error("'in <string>' needs a string on the left, got " + atom_type_name(x), "");
    return std::get<std::string>(container.atom).find(std::get<std::string>(x)) != std::string::npos;
  }
  throw Error("'in' needs a list, dict or string on the right, got " + value_type_name(container), "");
}

}  // namespace attnlab::rasp
