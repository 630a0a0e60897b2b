// Evaluation of the RASP graph on an input (see eval.h). The order is a topological sort of the nodes the
// targets need; each node is computed once. Hot loops work on integer codes: select compares codes (equal
// atoms ↔ equal codes, order preserved), categorical aggregates compare codes, numeric aggregates sum
// int64 in 128 bits (exact) or doubles in key order.
#include "rasp/eval.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "util/error.h"

namespace attnlab::rasp {

const Column& Evaluation::at(const Node* n) const {
  auto it = values.find(n);
  if (it == values.end()) throw Error("s-op '" + n->label() + "' was not evaluated", "add it to the evaluation targets");
  return it->second;
}

[[noreturn]] void eval_fail(const Node* n, size_t pos, const std::string& msg, const std::string& hint) {
  std::string what = std::string(n->is_selector() ? "selector '" : "s-op '") + n->label() + "' at " +
                     (n->is_selector() || n->kind == NodeKind::Aggregate ? "query " : "") + "position " + std::to_string(pos) + ": " + msg;
  throw Error(loc_message(n->loc, what), hint);
}

// ---- codes: equal atoms ↔ equal codes, order of numbers and of strings preserved ----

struct Codes {
  std::vector<int64_t> code;  // [N]
  std::vector<Atom> atoms;    // code - base → atom (empty when codes are the integers themselves)
  bool has_str = false, has_num = false;
};

static bool int_like(const Atom& a) { return atom_is_int(a) || atom_is_bool(a); }
static int64_t as_int(const Atom& a) { return atom_is_bool(a) ? std::get<bool>(a) : std::get<int64_t>(a); }

// Codes for the concatenation of columns (so keys and queries share one code space).
static std::vector<Codes> codes_make(const std::vector<const Column*>& cols) {
  std::vector<Codes> out(cols.size());
  bool all_int = true;
  for (const Column* c : cols)
    for (const Atom& a : *c) all_int = all_int && int_like(a);
  if (all_int) {
    for (size_t k = 0; k < cols.size(); ++k) {
      out[k].has_num = true;
      for (const Atom& a : *cols[k]) out[k].code.push_back(as_int(a));
    }
    return out;
  }
  std::map<Atom, int64_t, AtomKeyLess> table;
  for (const Column* c : cols)
    for (const Atom& a : *c) table.emplace(a, 0);
  int64_t next = 0;
  std::vector<Atom> atoms;
  for (auto& kv : table) {
    kv.second = next++;
    atoms.push_back(kv.first);
  }
  for (size_t k = 0; k < cols.size(); ++k) {
    for (const Atom& a : *cols[k]) {
      out[k].code.push_back(table.at(a));
      (atom_is_str(a) ? out[k].has_str : out[k].has_num) = true;
    }
    out[k].atoms = atoms;
  }
  return out;
}

// ---- selectors ----

static BitMatrix bits_make(size_t n) {
  BitMatrix m;
  m.n = n;
  m.words = (n + 63) / 64;
  m.bits.assign(n * m.words, 0);
  return m;
}

static void causal_mask(BitMatrix& m) {
  for (size_t i = 0; i < m.n; ++i) {
    uint64_t* row = m.bits.data() + i * m.words;
    size_t w = i / 64, b = i % 64;
    row[w] &= b == 63 ? ~uint64_t{0} : ((uint64_t{1} << (b + 1)) - 1);
    for (size_t x = w + 1; x < m.words; ++x) row[x] = 0;
  }
}

template <typename F>
static void fill_rows(BitMatrix& m, const int64_t* keys, const int64_t* queries, F cmp) {
  for (size_t i = 0; i < m.n; ++i) {
    int64_t q = queries[i];
    uint64_t* row = m.bits.data() + i * m.words;
    for (size_t w = 0; w < m.words; ++w) {
      size_t base = w * 64, end = std::min<size_t>(64, m.n - base);
      uint64_t word = 0;
      for (size_t b = 0; b < end; ++b) word |= static_cast<uint64_t>(cmp(keys[base + b], q)) << b;
      row[w] = word;
    }
  }
}

static BitMatrix eval_select(const Node* n, const Column& keys, const Column& queries, bool causal) {
  BitMatrix m = bits_make(keys.size());
  std::vector<Codes> c = codes_make({&keys, &queries});
  bool ordering = n->cmp != Cmp::Eq && n->cmp != Cmp::Ne && n->cmp != Cmp::True && n->cmp != Cmp::False;
  if (ordering && (c[0].has_str || c[1].has_str) && (c[0].has_num || c[1].has_num)) {
    size_t qi = 0;
    for (; qi < queries.size() && atom_is_str(queries[qi]) == atom_is_str(keys[0]); ++qi) {}
    eval_fail(n, qi < queries.size() ? qi : 0,
              "keys and queries mix strings and numbers, which cannot be ordered by " + cmp_str(n->cmp),
              "compare strings with strings and numbers with numbers");
  }
  const int64_t* k = c[0].code.data();
  const int64_t* q = c[1].code.data();
  switch (n->cmp) {
    case Cmp::Eq: fill_rows(m, k, q, [](int64_t a, int64_t b) { return a == b; }); break;
    case Cmp::Ne: fill_rows(m, k, q, [](int64_t a, int64_t b) { return a != b; }); break;
    case Cmp::Lt: fill_rows(m, k, q, [](int64_t a, int64_t b) { return a < b; }); break;
    case Cmp::Gt: fill_rows(m, k, q, [](int64_t a, int64_t b) { return a > b; }); break;
    case Cmp::Le: fill_rows(m, k, q, [](int64_t a, int64_t b) { return a <= b; }); break;
    case Cmp::Ge: fill_rows(m, k, q, [](int64_t a, int64_t b) { return a >= b; }); break;
    case Cmp::True: fill_rows(m, k, q, [](int64_t, int64_t) { return true; }); break;
    case Cmp::False: break;
  }
  if (causal) causal_mask(m);
  return m;
}

static BitMatrix eval_compose(const Node* n, const BitMatrix& a, const BitMatrix* b, bool causal) {
  BitMatrix m = a;
  for (size_t i = 0; i < m.bits.size(); ++i) {
    if (n->kind == NodeKind::SelAnd) m.bits[i] &= b->bits[i];
    else if (n->kind == NodeKind::SelOr) m.bits[i] |= b->bits[i];
    else m.bits[i] = ~m.bits[i];
  }
  if (n->kind == NodeKind::SelNot && m.n % 64 != 0) {
    uint64_t tail = (uint64_t{1} << (m.n % 64)) - 1;
    for (size_t i = 0; i < m.n; ++i) m.bits[i * m.words + m.words - 1] &= tail;
  }
  if (causal && n->kind == NodeKind::SelNot) causal_mask(m);
  return m;
}

// ---- aggregate and selector_width ----

template <typename F>
static void row_for_each(const BitMatrix& m, size_t i, F f) {
  const uint64_t* row = m.row(i);
  for (size_t w = 0; w < m.words; ++w)
    for (uint64_t x = row[w]; x; x &= x - 1) f(w * 64 + static_cast<size_t>(__builtin_ctzll(x)));
}

static Column eval_width(const BitMatrix& m) {
  Column out(m.n);
  for (size_t i = 0; i < m.n; ++i) {
    int64_t c = 0;
    const uint64_t* row = m.row(i);
    for (size_t w = 0; w < m.words; ++w) c += __builtin_popcountll(row[w]);
    out[i] = c;
  }
  return out;
}

static Column aggregate_mean(const Node* n, const BitMatrix& m, const Column& v) {
  bool all_int = std::all_of(v.begin(), v.end(), int_like);
  std::vector<int64_t> iv;
  std::vector<double> dv;
  if (all_int) for (const Atom& a : v) iv.push_back(as_int(a));
  else for (const Atom& a : v) dv.push_back(atom_to_double(a));
  Column out(m.n);
  for (size_t i = 0; i < m.n; ++i) {
    int64_t count = 0;
    __int128 isum = 0;
    double dsum = 0;
    if (all_int) row_for_each(m, i, [&](size_t j) { isum += iv[j]; ++count; });
    else row_for_each(m, i, [&](size_t j) { dsum += dv[j]; ++count; });
    if (count == 0) out[i] = n->default_value;
    else if (!all_int) out[i] = dsum / static_cast<double>(count);
    else if (isum % count == 0) out[i] = static_cast<int64_t>(isum / count);
    else out[i] = static_cast<double>(isum) / static_cast<double>(count);
  }
  return out;
}

static Column aggregate_agree(const Node* n, const BitMatrix& m, const Column& v) {
  std::vector<Codes> c = codes_make({&v});
  const std::vector<int64_t>& code = c[0].code;
  Column out(m.n);
  for (size_t i = 0; i < m.n; ++i) {
    int64_t first = -1;
    size_t first_j = 0;
    row_for_each(m, i, [&](size_t j) {
      if (first < 0) {
        first = static_cast<int64_t>(j);
        first_j = j;
      } else if (code[j] != code[first_j]) {
        eval_fail(n, i, "the selected values disagree (" + atom_repr(v[first_j]) + " at key " + std::to_string(first_j) +
                            ", " + atom_repr(v[j]) + " at key " + std::to_string(j) + ")",
                  "a non-numeric (or categorical) aggregate needs every selected value to be equal; select exactly one "
                  "key, or aggregate numbers with numerical(...)");
      }
    });
    out[i] = first < 0 ? n->default_value : v[first_j];
  }
  return out;
}

static Column eval_aggregate(const Node* n, const BitMatrix& m, const Column& v) {
  bool numbers = std::all_of(v.begin(), v.end(), [](const Atom& a) { return atom_is_number(a); });
  bool no_str = std::none_of(v.begin(), v.end(), [](const Atom& a) { return atom_is_str(a); });
  if (n->encoding == Encoding::Numerical && !no_str) {
    size_t j = 0;
    while (!atom_is_str(v[j])) ++j;
    eval_fail(n, j, "a numerical aggregate needs numbers, but value " + std::to_string(j) + " is " + atom_repr(v[j]),
              "aggregate strings categorically (drop numerical(...))");
  }
  bool mean = n->encoding == Encoding::Numerical || (n->encoding == Encoding::Auto && numbers);
  return mean ? aggregate_mean(n, m, v) : aggregate_agree(n, m, v);
}

// ---- softmax selectors (extension): the mask's keys weighted by exp(scale * <k_j, q_i>) ----

static std::vector<double> numbers_of(const Node* n, const Column& c, const char* what) {
  std::vector<double> out(c.size());
  for (size_t j = 0; j < c.size(); ++j) {
    if (atom_is_str(c[j]))
      eval_fail(n, j, std::string("softmax_select needs numbers, but its ") + what + " at position " +
                          std::to_string(j) + " is " + atom_repr(c[j]), "give it numerical s-ops");
    out[j] = atom_to_double(c[j]);
  }
  return out;
}

// Weighted mean of v over the mask's keys of each query; the maximal score is subtracted before exp, so the
// weights never overflow. A query with no key in the mask gets the default.
static Column aggregate_soft(const Node* n, const Node* soft, const BitMatrix& mask,
                             const std::unordered_map<const Node*, Column>& values) {
  size_t m = soft->args.size() / 2;  // key s-ops = query s-ops (the mask, if any, is the odd one out)
  double scale = std::get<double>(soft->constant.atom);
  std::vector<std::vector<double>> k(m), q(m);
  for (size_t c = 0; c < m; ++c) {
    k[c] = numbers_of(soft, values.at(soft->args[c]), "key");
    q[c] = numbers_of(soft, values.at(soft->args[m + c]), "query");
  }
  std::vector<double> v = numbers_of(n, values.at(n->args[1]), "value");
  Column out(mask.n);
  std::vector<double> score(mask.n);
  for (size_t i = 0; i < mask.n; ++i) {
    double mx = -HUGE_VAL;
    row_for_each(mask, i, [&](size_t j) {
      double s = 0;
      for (size_t c = 0; c < m; ++c) s += k[c][j] * q[c][i];
      score[j] = scale * s;
      mx = std::max(mx, score[j]);
    });
    if (mx == -HUGE_VAL) {
      out[i] = n->default_value;
      continue;
    }
    double total = 0, acc = 0;
    row_for_each(mask, i, [&](size_t j) {
      double w = std::exp(score[j] - mx);
      total += w;
      acc += w * v[j];
    });
    if (!std::isfinite(acc)) eval_fail(n, i, "the softmax average is not a finite number", "keep scores and values finite");
    out[i] = acc / total;
  }
  return out;
}

// The keys a softmax selector may weigh: its mask, or every key (causal: keys j <= i).
static BitMatrix soft_mask(const Node* n, const BitMatrix* mask, size_t len, bool causal) {
  BitMatrix m;
  if (mask) {
    m = *mask;
  } else {
    m = bits_make(len);
    uint64_t tail = len % 64 ? (uint64_t{1} << (len % 64)) - 1 : ~uint64_t{0};
    for (size_t i = 0; i < len; ++i)
      for (size_t w = 0; w < m.words; ++w) m.bits[i * m.words + w] = w + 1 == m.words ? tail : ~uint64_t{0};
  }
  if (causal) causal_mask(m);
  return m;
}

// ---- maps and tokens ----

static Column eval_map(const Node* n, const std::vector<const Column*>& args, size_t len) {
  Column out(len);
  size_t i = 0;
  try {
    switch (map_op_arity(n->map_op)) {
      case 1:
        for (; i < len; ++i) out[i] = map_apply_unary(n->map_op, (*args[0])[i]);
        break;
      case 3:
        for (; i < len; ++i) out[i] = atom_truthy((*args[1])[i]) ? (*args[0])[i] : (*args[2])[i];
        break;
      default:
        if (n->map_op == MapOp::Index)
          for (; i < len; ++i) out[i] = map_apply_index(n->args[0]->constant, (*args[1])[i]);
        else if (n->map_op == MapOp::In)
          for (; i < len; ++i) out[i] = map_apply_in((*args[0])[i], n->args[1]->constant);
        else
          for (; i < len; ++i) out[i] = map_apply_binary(n->map_op, (*args[0])[i], (*args[1])[i]);
    }
  } catch (const Error& e) {
    eval_fail(n, i, e.message(), e.hint());
  }
  return out;
}

Atom token_convert(TokenType t, const Atom& a, size_t pos);  // eval_input.cpp

static Column eval_tokens(const Node* n, const std::vector<Atom>& input) {
  Column out(input.size());
  for (size_t i = 0; i < input.size(); ++i) out[i] = token_convert(n->token_type, input[i], i);
  return out;
}

Evaluation evaluate(const std::vector<const Node*>& targets, const std::vector<Atom>& input, const EvalOptions& opts) {
  if (input.size() > opts.max_len)
    throw Error("the input has " + std::to_string(input.size()) + " tokens, more than the limit of " + std::to_string(opts.max_len),
                "use a shorter input (the limit bounds the N×N selector memory)");
  Evaluation ev;
  size_t len = ev.n = input.size();
  std::vector<const Node*> order = graph_topo(targets);
  std::unordered_map<const Node*, int> uses;  // remaining consumers of each selector
  for (const Node* n : order)
    for (const Node* a : n->args) uses[a]++;
  for (const Node* t : targets) uses[t]++;
  for (const Node* n : order) {
    auto col = [&](int k) -> const Column* {
      const Node* a = n->args[static_cast<size_t>(k)];
      return a->is_const() && !a->constant.is_atom() ? nullptr : &ev.values.at(a);
    };
    auto sel = [&](int k) -> const BitMatrix& { return ev.selectors.at(n->args[static_cast<size_t>(k)]); };
    switch (n->kind) {
      case NodeKind::Tokens: ev.values[n] = eval_tokens(n, input); break;
      case NodeKind::Indices: {
        Column c(len);
        for (size_t i = 0; i < len; ++i) c[i] = static_cast<int64_t>(i);
        ev.values[n] = std::move(c);
        break;
      }
      case NodeKind::Length: ev.values[n] = Column(len, Atom{static_cast<int64_t>(len)}); break;
      case NodeKind::Const:
        if (n->constant.is_atom()) ev.values[n] = Column(len, n->constant.atom);
        break;
      case NodeKind::Map: {
        std::vector<const Column*> args;
        for (size_t k = 0; k < n->args.size(); ++k) args.push_back(col(static_cast<int>(k)));
        ev.values[n] = eval_map(n, args, len);
        break;
      }
      case NodeKind::Select: ev.selectors[n] = eval_select(n, *col(0), *col(1), opts.causal); break;
      case NodeKind::SelAnd:
      case NodeKind::SelOr: ev.selectors[n] = eval_compose(n, sel(0), &sel(1), opts.causal); break;
      case NodeKind::SelNot: ev.selectors[n] = eval_compose(n, sel(0), nullptr, opts.causal); break;
      case NodeKind::SoftSelect:
        ev.selectors[n] = soft_mask(n, n->args.size() % 2 ? &sel(static_cast<int>(n->args.size()) - 1) : nullptr, len,
                                    opts.causal);
        break;
      case NodeKind::Aggregate:
        if (n->args[0]->kind == NodeKind::SoftSelect) ev.values[n] = aggregate_soft(n, n->args[0], sel(0), ev.values);
        else ev.values[n] = eval_aggregate(n, sel(0), *col(1));
        break;
      case NodeKind::SelectorWidth: ev.values[n] = eval_width(sel(0)); break;
    }
    for (const Node* a : n->args)
      if (a->is_selector() && --uses[a] == 0 && !opts.keep_selectors) ev.selectors.erase(a);
  }
  return ev;
}

}  // namespace attnlab::rasp
