// Static validation (see validate.h): unsupported constructs, causal look-ahead, oversized selectors.
#include "compiler/validate.h"

#include <optional>
#include <set>

#include "compiler/selectors.h"
#include "compiler/values.h"
#include "util/error.h"

namespace attnlab::compiler {

using rasp::NodeKind;

void validate_options(const CompileOptions& opt) {
  check(!opt.vocab.empty(), "the vocabulary is empty", "give the input tokens, e.g. --vocab \"a b c d\"");
  std::set<std::string> seen;
  for (const auto& t : opt.vocab) {
    check(!t.empty(), "the vocabulary contains an empty token", "separate tokens by single spaces");
    check(seen.insert(t).second, "the vocabulary contains '" + t + "' twice", "list each token once");
    check(t != opt.bos, "the vocabulary contains the BOS token '" + opt.bos + "'",
          "the compiled model reserves it for the position it prepends; rename that token");
    check(t.find_first_of(" \t\n") == std::string::npos, "vocabulary token '" + t + "' contains whitespace",
          "tokens are separated by spaces in --vocab");
  }
  check(opt.max_len >= 1 && opt.max_len <= 4096,
        "--max-len " + std::to_string(opt.max_len) + " is outside 1..4096",
        "the model has max_len + 1 positions; value sets grow with max_len");
}

namespace {

// The value of an s-op that depends on indices only, at position i (nullopt otherwise or on error).
std::optional<Atom> eval_at_index(const Node* n, int64_t i) {
  switch (n->kind) {
    case NodeKind::Const: return n->constant.atom;
    case NodeKind::Indices: return Atom{i};
    case NodeKind::Map: {
      std::vector<Atom> args;
      for (const Node* a : n->args) {
        if (a->kind == NodeKind::Const && !a->constant.is_atom()) {
          args.push_back(Atom{int64_t{0}});
          continue;
        }
        auto v = eval_at_index(a, i);
        if (!v) return std::nullopt;
        args.push_back(*v);
      }
      try {
        return map_node_apply(n, args);
      } catch (const Error&) {
        return std::nullopt;
      }
    }
    default: return std::nullopt;
  }
}

// A monomial is causal when one of its pairs compares indices (keys) with a function of indices (queries)
// that never selects a key after the query: key k selected for query i only if k <= i.
bool monomial_causal(const Monomial& m, const Plan& plan) {
  for (const Pair& pr : m.pairs) {
    if (pr.keys->kind != NodeKind::Indices) continue;
    const auto& K = plan.values.at(pr.keys).all;
    const auto& Q = plan.values.at(pr.queries).all;
    bool ok = true;
    for (int64_t i = 0; i < plan.opt.max_len && ok; ++i) {
      auto q = eval_at_index(pr.queries, i);
      if (!q) { ok = false; break; }
      size_t qi = 0;
      while (qi < Q.size() && !rasp::atom_equal(Q[qi], *q)) ++qi;
      if (qi == Q.size()) continue;
      for (size_t k = 0; k < K.size(); ++k)
        if (pr.table[k * Q.size() + qi] && std::get<int64_t>(K[k]) > i) ok = false;
    }
    if (ok) return true;
  }
  return false;
}

}  // namespace

void validate_program(const Plan& plan, std::vector<std::string> problems) {
  const Node* target = plan.target;
  if (target->is_selector())
    problems.push_back("'" + plan.target_name + "' is a selector; compile an s-op (e.g. selector_width of it)");
  for (const Node* n : rasp::graph_topo({target})) {
    std::string where = rasp::loc_message(n->loc, "'" + n->label() + "'");
    if (plan.opt.causal && n->kind == NodeKind::Length)
      problems.push_back(where + ": 'length' depends on the whole input, so no causal model can compute it");
    if (n->kind != NodeKind::Aggregate && n->kind != NodeKind::SelectorWidth) continue;
    if (!plan.values.count(n)) continue;  // value inference already reported it
    std::vector<Monomial> poly;
    try {
      poly = selector_expand(n->args[0], plan.values);
    } catch (const Error& e) {
      problems.push_back(e.message());
      continue;
    }
    if (n->kind == NodeKind::Aggregate && plan.values.count(n->args[1])) {
      bool mean = aggregate_is_mean(n, plan.values.at(n->args[1]));
      if (mean && poly.size() > 1)
        problems.push_back(where + ": a numerical aggregate over a selector that needs " + std::to_string(poly.size()) +
                           " heads (or / not across different s-op pairs); a mean over a union is not one head");
    }
    if (plan.opt.causal)
      for (const Monomial& m : poly)
        if (!monomial_causal(m, plan)) {
          problems.push_back(where + ": its selector can select keys after the query (" + monomial_str(m) +
                             "), so its output at a position depends on later positions");
          break;
        }
  }
  if (problems.empty()) return;
  std::string msg = "cannot compile '" + plan.target_name + "' (" + std::to_string(problems.size()) + " problem" +
                    (problems.size() == 1 ? "" : "s") + "):";
  for (size_t i = 0; i < problems.size(); ++i) msg += "\n  " + std::to_string(i + 1) + ". " + problems[i];
  throw Error(msg, plan.opt.causal ? "a causal model can only run programs whose selectors look backwards "
                                     "(e.g. select(indices, indices, <=)); compile without --causal otherwise"
                                   : "see docs/compiler.md \"What compiles\" for the supported constructs");
}

}  // namespace attnlab::compiler
