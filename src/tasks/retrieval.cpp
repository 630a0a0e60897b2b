// Variable-chain retrieval (Musat 2024, arXiv 2411.12118): the generator, its metadata (statement, chain,
// depth, definition position, resolved value of every position) and the implicit-curriculum targets computed
// from the tokens alone; then the conditional variant (facts and rules). Formats, worked examples: retrieval.h.
// Random draws happen in a fixed order (main value, main chain variables, then distractors, then the shuffle),
// so removing the distractors under the same seed keeps the main chain and its answer.
#include "tasks/retrieval.h"

#include <algorithm>
#include <array>
#include <map>

#include "util/error.h"

namespace attnlab {

namespace {

int64_t chain_len(const RetrievalSpec& s) { return s.distractor_len > 0 ? s.distractor_len : s.depth; }

int64_t statement_count(const RetrievalSpec& s) {
  return s.depth + s.distractor_chains * chain_len(s) + s.distractor_assign;
}

std::string value_name(int64_t W, int64_t v) { return W <= 10 ? std::to_string(v) : "n" + std::to_string(v); }

std::string variable_name(int64_t K, int64_t k) {
  return K <= 26 ? std::string(1, static_cast<char>('A' + k)) : "x" + std::to_string(k);
}

struct Statement {
  int64_t lhs;    // variable index 0..K-1
  int64_t rhs;    // value 0..W-1 when depth == 1, else the variable index of the previous link
  int64_t chain;  // 0 = main chain
  int64_t depth;  // 1 = the value assignment
};

RetrievalSpec as_pairs(RetrievalSpec s) {
  s.fused = false;
  return s;
}

// A pairs instance of spec in the fused encoding (retrieval.h): statement s = pairs positions 2s, 2s + 1.
RetrievalInstance fuse(const RetrievalSpec& spec, const RetrievalInstance& p) {
  const int64_t W = spec.values, K = spec.variables, Tp = static_cast<int64_t>(p.tokens.size());
  const int64_t S = (Tp - 2) / 2, T = S + 1;
  RetrievalInstance r;
  r.fused = true;
  r.answer = p.answer;
  r.tokens.assign(T, 0);
  r.stmt_of.assign(T, -1), r.chain_of.assign(T, -1), r.depth_of.assign(T, -1);
  r.def_pos.assign(T, -1), r.value_of.assign(T, -1);
  for (int64_t s = 0; s < S; ++s) {
    r.tokens[s] = W + (p.tokens[2 * s] - W) * (W + K) + p.tokens[2 * s + 1];
    r.stmt_of[s] = s, r.chain_of[s] = p.chain_of[2 * s], r.depth_of[s] = p.depth_of[2 * s];
    r.def_pos[s] = p.def_pos[2 * s + 1] >= 0 ? p.def_pos[2 * s + 1] / 2 : -1;
    r.value_of[s] = p.value_of[2 * s];
  }
  r.tokens[S] = W + K * (W + K) + (p.tokens[Tp - 1] - W);
  r.chain_of[S] = 0, r.depth_of[S] = p.depth_of[Tp - 1];
  r.def_pos[S] = p.def_pos[Tp - 1] / 2, r.value_of[S] = p.value_of[Tp - 1];
  return r;
}

// Fused tokens -> the pairs tokens of the same instance; Error naming the fused position of every id that is
// not a statement (positions 0..T-2) or a query (T-1). The caller checked the length.
std::vector<int64_t> unfuse(const RetrievalSpec& spec, const std::vector<int64_t>& tok) {
  const int64_t W = spec.values, K = spec.variables, T = static_cast<int64_t>(tok.size()), Q0 = W + K * (W + K);
  std::vector<std::string> problems;
  std::vector<int64_t> pairs;
  for (int64_t t = 0; t + 1 < T; ++t) {
    if (tok[t] < W || tok[t] >= Q0) {
      problems.push_back("position " + std::to_string(t) + " holds id " + std::to_string(tok[t]) +
                         ", not a statement \"lhs=rhs\"");
      continue;
    }
    pairs.push_back(W + (tok[t] - W) / (W + K));
    pairs.push_back((tok[t] - W) % (W + K));
  }
  if (T > 0 && (tok[T - 1] < Q0 || tok[T - 1] >= Q0 + K))
    problems.push_back("the last position holds id " + std::to_string(tok[T - 1]) + ", not a query \"?X\"");
  if (!problems.empty()) {
    std::string msg = "retrieval tokens (fused encoding) are no instance of the spec:";
    for (const auto& x : problems) msg += "\n  - " + x;
    throw Error(msg, "pass tokens of an instance of this spec (fused format in src/tasks/retrieval.h)");
  }
  pairs.push_back(W + K);
  pairs.push_back(W + tok[T - 1] - Q0);
  return pairs;
}

// Runs f on the pairs form of fused tokens; an Error's positions are then pairs positions, which it says.
template <class F>
auto on_pairs(const RetrievalSpec& spec, const std::vector<int64_t>& tok, F f) {
  const auto pairs = unfuse(spec, tok);
  try {
    return f(as_pairs(spec), pairs);
  } catch (const Error& e) {
    throw Error(e.message() + "\n  (fused encoding: positions above are in the pairs layout, where statement s "
                "is at positions 2s and 2s+1)", e.hint());
  }
}

}  // namespace

void retrieval_validate(const RetrievalSpec& s) {
  std::vector<std::string> p;
  if (s.depth < 1) p.push_back("depth D = " + std::to_string(s.depth) + " (must be >= 1)");
  if (s.depth > 4096) p.push_back("depth D = " + std::to_string(s.depth) + " (must be <= 4096)");
  if (s.distractor_chains < 0) p.push_back("distractor_chains = " + std::to_string(s.distractor_chains) + " (< 0)");
  if (s.distractor_len < 0) p.push_back("distractor_len = " + std::to_string(s.distractor_len) + " (< 0; 0 = D)");
  if (s.distractor_assign < 0) p.push_back("distractor_assign = " + std::to_string(s.distractor_assign) + " (< 0)");
  if (s.values < 2 || s.values > 4096) p.push_back("values W = " + std::to_string(s.values) + " (must be 2..4096)");
  if (p.empty() && (s.variables < statement_count(s) || s.variables > 1 << 16))
    p.push_back("variables K = " + std::to_string(s.variables) + " but the instance has " +
                std::to_string(statement_count(s)) + " statements, each defining its own variable (K must be in " +
                std::to_string(statement_count(s)) + "..65536)");
  if (p.empty() && s.fused && s.variables * (s.variables + s.values) > 1 << 20)
    p.push_back("fused encoding with K = " + std::to_string(s.variables) + " variables and W = " +
                std::to_string(s.values) + " values: K(K + W) = " + std::to_string(s.variables * (s.variables + s.values)) +
                " statement tokens (at most 1048576)");
  if (p.empty()) return;
  std::string msg = "retrieval task spec is invalid:";
  for (const auto& x : p) msg += "\n  - " + x;
  throw Error(msg, "statements = D + distractor_chains * (distractor_len or D) + distractor_assign; raise the "
                   "number of variables or lower D / the distractors");
}

std::vector<std::string> retrieval_vocab_out(const RetrievalSpec& spec) {
  retrieval_validate(spec);
  std::vector<std::string> v;
  for (int64_t i = 0; i < spec.values; ++i) v.push_back(value_name(spec.values, i));
  return v;
}

std::vector<std::string> retrieval_vocab(const RetrievalSpec& spec) {
  auto v = retrieval_vocab_out(spec);
  const int64_t W = spec.values, K = spec.variables;
  if (spec.fused) {
    for (int64_t lhs = 0; lhs < K; ++lhs)
      for (int64_t rho = 0; rho < W + K; ++rho)
        v.push_back(variable_name(K, lhs) + "=" + (rho < W ? value_name(W, rho) : variable_name(K, rho - W)));
    for (int64_t k = 0; k < K; ++k) v.push_back("?" + variable_name(K, k));
    return v;
  }
  for (int64_t k = 0; k < K; ++k) v.push_back(variable_name(K, k));
  v.push_back("?");
  return v;
}

int64_t retrieval_seq_len(const RetrievalSpec& spec) {
  retrieval_validate(spec);
  return spec.fused ? statement_count(spec) + 1 : 2 * statement_count(spec) + 2;
}

RetrievalInstance retrieval_instance(const RetrievalSpec& spec, TaskRng& rng) {
  retrieval_validate(spec);
  if (spec.fused) return fuse(spec, retrieval_instance(as_pairs(spec), rng));
  const int64_t W = spec.values, K = spec.variables, S = statement_count(spec);
  std::vector<int64_t> pool(K);  // partial Fisher-Yates: the i-th pick does not depend on S
  for (int64_t k = 0; k < K; ++k) pool[k] = k;
  int64_t picked = 0;
  auto pick = [&] {
    std::swap(pool[picked], pool[picked + static_cast<int64_t>(rng_below(rng, K - picked))]);
    return pool[picked++];
  };
  std::vector<Statement> st;
  std::vector<int64_t> main_vars;  // u_1..u_D
  auto add_chain = [&](int64_t chain, int64_t len) {
    int64_t value = static_cast<int64_t>(rng_below(rng, W)), prev = -1;
    for (int64_t d = 1; d <= len; ++d) {
      int64_t v = pick();
      st.push_back({v, d == 1 ? value : prev, chain, d});
      if (chain == 0) main_vars.push_back(v);
      prev = v;
    }
    return prev;
  };
  int64_t query = add_chain(0, spec.depth), query_depth = spec.depth;
  for (int64_t c = 1; c <= spec.distractor_chains; ++c) add_chain(c, chain_len(spec));
  for (int64_t a = 0; a < spec.distractor_assign; ++a) add_chain(spec.distractor_chains + 1 + a, 1);
  if (spec.shuffle)
    for (int64_t i = S - 1; i > 0; --i) std::swap(st[i], st[rng_below(rng, i + 1)]);
  if (spec.query_mixed) {
    query_depth = 1 + static_cast<int64_t>(rng_below(rng, spec.depth));
    query = main_vars[query_depth - 1];
  }

  const int64_t T = 2 * S + 2, var0 = W, qmark = W + K;
  RetrievalInstance r;
  r.tokens.assign(T, 0);
  r.stmt_of.assign(T, -1);
  r.chain_of.assign(T, -1);
  r.depth_of.assign(T, -1);
  r.def_pos.assign(T, -1);
  r.value_of.assign(T, -1);
  std::vector<int64_t> def_of_var(K, -1), value_of_var(K, -1);
  for (int64_t s = 0; s < S; ++s) def_of_var[st[s].lhs] = 2 * s;
  for (int64_t s = 0; s < S; ++s)  // chains in generation order: resolve by walking down to depth 1
    if (st[s].depth == 1) value_of_var[st[s].lhs] = st[s].rhs;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& x : st)
      if (x.depth > 1 && value_of_var[x.lhs] < 0 && value_of_var[x.rhs] >= 0)
        value_of_var[x.lhs] = value_of_var[x.rhs], changed = true;
  }
  for (int64_t s = 0; s < S; ++s) {
    const Statement& x = st[s];
    const int64_t l = 2 * s, rr = 2 * s + 1;
    r.tokens[l] = var0 + x.lhs;
    r.tokens[rr] = x.depth == 1 ? x.rhs : var0 + x.rhs;
    for (int64_t t : {l, rr}) r.stmt_of[t] = s, r.chain_of[t] = x.chain, r.depth_of[t] = x.depth;
    r.def_pos[l] = l;
    r.value_of[l] = value_of_var[x.lhs];
    r.def_pos[rr] = x.depth == 1 ? -1 : def_of_var[x.rhs];
    r.value_of[rr] = x.depth == 1 ? x.rhs : value_of_var[x.rhs];
  }
  r.tokens[T - 2] = qmark;
  r.tokens[T - 1] = var0 + query;
  r.chain_of[T - 1] = 0;
  r.depth_of[T - 1] = query_depth;
  r.def_pos[T - 1] = def_of_var[query];
  r.value_of[T - 1] = r.answer = value_of_var[query];
  return r;
}

TaskBatch retrieval_sample(const RetrievalSpec& spec, int64_t count, uint64_t seed) {
  check(count >= 1, "retrieval: sample count " + std::to_string(count) + " (must be >= 1)", "ask for 1 or more");
  TaskBatch b;
  b.vocab = retrieval_vocab(spec);
  b.vocab_out = retrieval_vocab_out(spec);
  TaskRng rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    RetrievalInstance inst = retrieval_instance(spec, rng);
    b.examples.push_back({std::move(inst.tokens), {}, inst.answer});
  }
  return b;
}

std::string retrieval_text(const RetrievalSpec& spec, const RetrievalInstance& inst) {
  if (spec.fused) {
    check(inst.tokens.size() >= 2, "retrieval_text: " + std::to_string(inst.tokens.size()) + " tokens",
          "pass an instance of this spec");
    RetrievalInstance p;
    p.tokens = unfuse(spec, inst.tokens);
    return retrieval_text(as_pairs(spec), p);
  }
  const auto vocab = retrieval_vocab(spec);
  const int64_t T = static_cast<int64_t>(inst.tokens.size());
  check(T >= 2 && T % 2 == 0, "retrieval_text: " + std::to_string(T) + " tokens", "pass an instance of this spec");
  std::string out;
  for (int64_t s = 0; 2 * s + 1 < T - 2; ++s)
    out += (s ? ", " : "") + vocab.at(inst.tokens[2 * s]) + "=" + vocab.at(inst.tokens[2 * s + 1]);
  return out + ". " + vocab.at(inst.tokens[T - 1]) + "?";
}

std::vector<int64_t> retrieval_targets(const RetrievalSpec& spec, const std::vector<int64_t>& tokens, bool prefix) {
  const int64_t W = spec.values, K = spec.variables, T = retrieval_seq_len(spec);
  auto bad = [&](const std::string& what) {
    throw Error("retrieval tokens: " + what, "pass tokens of an instance of this spec (retrieval.h)");
  };
  if (static_cast<int64_t>(tokens.size()) != T) bad(std::to_string(tokens.size()) + " tokens, expected " +
                                                    std::to_string(T));
  if (spec.fused)  // statement s: its lhs's value (prefix: once its rhs is a value or resolved before s)
    return on_pairs(spec, tokens, [&](const RetrievalSpec& ps, const std::vector<int64_t>& pt) {
      const auto out = retrieval_targets(ps, pt, prefix);
      std::vector<int64_t> f(T, -1);
      for (int64_t s = 0; s + 1 < T; ++s) f[s] = !prefix ? out[2 * s] : pt[2 * s + 1] < W ? pt[2 * s + 1] : out[2 * s + 1];
      f[T - 1] = out.back();
      return f;
    });
  auto is_var = [&](int64_t id) { return id >= W && id < W + K; };
  std::vector<int64_t> value(K, -1), out(T, -1);
  std::vector<std::vector<int64_t>> waiting(K);  // variables defined as "= v", waiting for v's value
  auto settle = [&](int64_t var, int64_t val) {  // give var its value and pass it on down every chain
    std::vector<int64_t> todo{var};
    value[var] = val;
    while (!todo.empty()) {
      int64_t v = todo.back();
      todo.pop_back();
      for (int64_t w : waiting[v])
        if (value[w] < 0) value[w] = val, todo.push_back(w);
    }
  };
  for (int64_t t = 1; t < T - 2; t += 2) {
    const int64_t lhs = tokens[t - 1], rhs = tokens[t];
    if (!is_var(lhs)) bad("position " + std::to_string(t - 1) + " holds no variable");
    if (rhs >= 0 && rhs < W) {
      settle(lhs - W, rhs);
    } else if (is_var(rhs)) {
      out[t] = value[rhs - W];
      if (value[rhs - W] >= 0) settle(lhs - W, value[rhs - W]);
      else waiting[rhs - W].push_back(lhs - W);
    } else {
      bad("position " + std::to_string(t) + " holds neither a value nor a variable");
    }
  }
  if (tokens[T - 2] != W + K || !is_var(tokens[T - 1])) bad("the last two tokens are not \"? variable\"");
  out[T - 1] = value[tokens[T - 1] - W];
  if (out[T - 1] < 0) bad("the query variable has no value");
  if (!prefix)  // every variable position, with the values of the whole input
    for (int64_t t = 0; t < T - 2; ++t) out[t] = is_var(tokens[t]) ? value[tokens[t] - W] : -1;
  return out;
}

// ---- Metadata from tokens ----------------------------------------------------------------------------------

namespace {

// Depth and value statement of every statement, following rhs -> definition; problems appended (cycles).
void chain_walk(const std::vector<int64_t>& rhs_def, std::vector<int64_t>& depth, std::vector<int64_t>& root,
                std::vector<std::string>& problems) {
  const int64_t S = static_cast<int64_t>(rhs_def.size());
  depth.assign(S, -1), root.assign(S, -1);
  for (int64_t s = 0; s < S; ++s) {
    std::vector<int64_t> path;  // s, def(s), def(def(s)), ... until a known depth, a value or a cycle
    int64_t x = s;
    while (x >= 0 && depth[x] < 0 && static_cast<int64_t>(path.size()) <= S) path.push_back(x), x = rhs_def[x];
    if (static_cast<int64_t>(path.size()) > S) {
      problems.push_back("the statement at position " + std::to_string(2 * s) + " lies on a cycle of definitions");
      return;
    }
    int64_t d = x >= 0 ? depth[x] : 0, r = x >= 0 ? root[x] : path.back();
    for (auto it = path.rbegin(); it != path.rend(); ++it) depth[*it] = ++d, root[*it] = r;
  }
}

}  // namespace

RetrievalInstance retrieval_metadata(const RetrievalSpec& spec, const std::vector<int64_t>& tok) {
  const int64_t W = spec.values, K = spec.variables, T = retrieval_seq_len(spec), S = (T - 2) / 2;
  const std::string hint = "pass the tokens of an instance of this spec (format in src/tasks/retrieval.h; the "
                           "spec comes from the run's task.* keys with D = task.n)";
  check(static_cast<int64_t>(tok.size()) == T, "retrieval metadata: " + std::to_string(tok.size()) +
        " tokens, expected T = " + std::to_string(T) + " for D = " + std::to_string(spec.depth), hint);
  if (spec.fused)
    return on_pairs(spec, tok, [&](const RetrievalSpec& ps, const std::vector<int64_t>& pt) {
      return fuse(spec, retrieval_metadata(ps, pt));
    });
  auto is_var = [&](int64_t id) { return id >= W && id < W + K; };
  auto is_value = [&](int64_t id) { return id >= 0 && id < W; };
  std::vector<std::string> problems;
  std::vector<int64_t> def_of_var(K, -1), used_as_rhs(K, -1);
  for (int64_t s = 0; s < S; ++s) {
    const int64_t l = tok[2 * s], r = tok[2 * s + 1];
    if (!is_var(l)) problems.push_back("position " + std::to_string(2 * s) + " (a statement's lhs) holds id " +
                                       std::to_string(l) + ", not a variable");
    else if (def_of_var[l - W] >= 0) problems.push_back("variable id " + std::to_string(l) + " is defined twice (positions " +
                                                        std::to_string(def_of_var[l - W]) + " and " + std::to_string(2 * s) + ")");
    else def_of_var[l - W] = 2 * s;
    if (is_var(r) && used_as_rhs[r - W] >= 0) problems.push_back("variable id " + std::to_string(r) + " is the rhs of two "
        "statements (positions " + std::to_string(used_as_rhs[r - W]) + " and " + std::to_string(2 * s + 1) + "): chains do not branch");
    else if (is_var(r)) used_as_rhs[r - W] = 2 * s + 1;
    else if (!is_value(r)) problems.push_back("position " + std::to_string(2 * s + 1) + " (a statement's rhs) holds id " +
                                              std::to_string(r) + ", neither a value nor a variable");
  }
  const int64_t query = tok[T - 1];
  if (tok[T - 2] != W + K || !is_var(query)) problems.push_back("the last two tokens are not \"? variable\"");
  else if (def_of_var[query - W] < 0) problems.push_back("the query variable (position " + std::to_string(T - 1) + ") is never defined");
  else if (used_as_rhs[query - W] >= 0 && !spec.query_mixed)
    problems.push_back("the query variable is the rhs at position " + std::to_string(used_as_rhs[query - W]) +
                       ": it must be the top of its chain");
  std::vector<int64_t> rhs_def(S, -1);  // statement defining each statement's rhs variable; -1 for a value
  const bool tokens_ok = problems.empty();
  for (int64_t s = 0; s < S && tokens_ok; ++s)
    if (is_var(tok[2 * s + 1])) {
      const int64_t def = def_of_var[tok[2 * s + 1] - W];
      rhs_def[s] = def >= 0 ? def / 2 : -1;
      if (def < 0) problems.push_back("the rhs variable at position " + std::to_string(2 * s + 1) + " is never defined");
    }
  std::vector<int64_t> depth, root;
  if (problems.empty()) chain_walk(rhs_def, depth, root, problems);
  int64_t chain_len = 0;  // statements of the query's chain (its top's depth)
  for (int64_t s = 0; s < S && problems.empty(); ++s)
    if (root[s] == root[def_of_var[query - W] / 2]) chain_len = std::max(chain_len, depth[s]);
  if (problems.empty() && chain_len != spec.depth)
    problems.push_back("the query's chain has " + std::to_string(chain_len) + " statements, the spec has D = " +
                       std::to_string(spec.depth));
  if (!problems.empty()) {
    std::string msg = "retrieval metadata: the tokens are no instance of the spec:";
    for (const auto& p : problems) msg += "\n  - " + p;
    throw Error(msg, hint);
  }
  std::vector<int64_t> chain_of_root(S, -1);  // value statement -> chain number
  chain_of_root[root[def_of_var[query - W] / 2]] = 0;
  for (int64_t s = 0, next = 1; s < S; ++s)
    if (depth[s] == 1 && chain_of_root[s] < 0) chain_of_root[s] = next++;
  RetrievalInstance r;
  r.tokens = tok;
  r.stmt_of.assign(T, -1), r.chain_of.assign(T, -1), r.depth_of.assign(T, -1);
  r.def_pos.assign(T, -1), r.value_of.assign(T, -1);
  for (int64_t s = 0; s < S; ++s) {
    const int64_t value = tok[2 * root[s] + 1];
    for (int64_t t : {2 * s, 2 * s + 1})
      r.stmt_of[t] = s, r.chain_of[t] = chain_of_root[root[s]], r.depth_of[t] = depth[s];
    r.def_pos[2 * s] = 2 * s;
    r.value_of[2 * s] = value;
    r.def_pos[2 * s + 1] = rhs_def[s] >= 0 ? 2 * rhs_def[s] : -1;
    r.value_of[2 * s + 1] = value;
  }
  r.chain_of[T - 1] = 0;
  r.depth_of[T - 1] = depth[def_of_var[query - W] / 2];
  r.def_pos[T - 1] = def_of_var[query - W];
  r.value_of[T - 1] = r.answer = tok[2 * root[def_of_var[query - W] / 2] + 1];
  return r;
}

RetrievalInstance retrieval_metadata(const RetrievalSpec& spec, const std::vector<std::string>& tokens) {
  const auto vocab = retrieval_vocab(spec);
  std::map<std::string, int64_t> id;
  for (size_t i = 0; i < vocab.size(); ++i) id[vocab[i]] = static_cast<int64_t>(i);
  std::vector<int64_t> ids;
  std::string unknown;
  for (size_t t = 0; t < tokens.size(); ++t) {
    auto it = id.find(tokens[t]);
    if (it == id.end() && unknown.empty()) unknown = "'" + tokens[t] + "' at position " + std::to_string(t);
    ids.push_back(it == id.end() ? -1 : it->second);
  }
  check(unknown.empty(), "retrieval metadata: token " + unknown + " is not in the vocabulary (K = " +
        std::to_string(spec.variables) + " variables, W = " + std::to_string(spec.values) + " values)",
        "pass token strings of an instance of this spec (retrieval_vocab)");
  return retrieval_metadata(spec, ids);
}

// ---- Conditional retrieval ----------------------------------------------------------------------------------

namespace {

const char* const kClasses[] = {"wizard", "elf", "giant", "troll", "dwarf", "pixie"};
const char* const kClassPlural[] = {"wizards", "elves", "giants", "trolls", "dwarves", "pixies"};
const char* const kRelations[] = {"mother", "father", "teacher", "friend", "sister", "uncle"};

struct CondIds {  // id layout of conditional_vocab
  int64_t W, K, C, R;
  int64_t person(int64_t k) const { return W + k; }
  int64_t cls(int64_t c) const { return W + K + c; }
  int64_t rel(int64_t r) const { return W + K + C + r; }
  int64_t lives() const { return W + K + C + R; }
  int64_t is() const { return lives() + 1; }
  int64_t with() const { return lives() + 2; }
  int64_t qmark() const { return lives() + 3; }
  bool is_person(int64_t id) const { return id >= W && id < W + K; }
  bool is_cls(int64_t id) const { return id >= W + K && id < W + K + C; }
  bool is_rel(int64_t id) const { return id >= W + K + C && id < W + K + C + R; }
};

CondIds cond_ids(const ConditionalSpec& s) { return {s.places, s.people, s.classes, s.relations}; }

// statements: 1 fact + D * (class, relation, distractor relation) + distractor facts + one rule per class
int64_t cond_statements(const ConditionalSpec& s) { return 1 + 3 * s.depth + s.distractors + s.classes; }

// Residence of `person` given the statements [0, n_stmt) of tokens (3 tokens each); -1 when undetermined.
int64_t cond_resolve(const CondIds& ids, const std::vector<int64_t>& tok, int64_t n_stmt, int64_t person) {
  for (int64_t guard = 0; guard <= n_stmt; ++guard) {  // a chain visits each statement at most once
    int64_t cls = -1, place = -1;
    for (int64_t s = 0; s < n_stmt; ++s)
      if (tok[3 * s] == person && tok[3 * s + 1] == ids.lives()) place = tok[3 * s + 2];
      else if (tok[3 * s] == person && tok[3 * s + 1] == ids.is()) cls = tok[3 * s + 2];
    if (place >= 0) return place;
    int64_t rel = -1, next = -1;
    for (int64_t s = 0; s < n_stmt && cls >= 0; ++s)
      if (tok[3 * s] == cls && tok[3 * s + 1] == ids.with()) rel = tok[3 * s + 2];
    for (int64_t s = 0; s < n_stmt && rel >= 0; ++s)
      if (tok[3 * s] == person && tok[3 * s + 1] == rel) next = tok[3 * s + 2];
    if (next < 0) return -1;
    person = next;
  }
  return -1;
}

}  // namespace

void conditional_validate(const ConditionalSpec& s) {
  std::vector<std::string> p;
  if (s.depth < 1 || s.depth > 1024) p.push_back("depth D = " + std::to_string(s.depth) + " (must be 1..1024)");
  if (s.distractors < 1) p.push_back("distractors = " + std::to_string(s.distractors) + " (must be >= 1)");
  if (s.classes < 2 || s.classes > 6) p.push_back("classes = " + std::to_string(s.classes) + " (must be 2..6)");
  if (s.relations < 2 || s.relations > 6) p.push_back("relations = " + std::to_string(s.relations) + " (must be 2..6)");
  if (s.places < 2 || s.places > 4096) p.push_back("places W = " + std::to_string(s.places) + " (must be 2..4096)");
  const int64_t need = s.depth + 1 + s.distractors;
  if (p.empty() && (s.people < need || s.people > 1 << 16))
    p.push_back("people K = " + std::to_string(s.people) + " (must be " + std::to_string(need) + "..65536: D + 1 "
                "chain people and the distractors)");
  if (p.empty()) return;
  std::string msg = "conditional retrieval task spec is invalid:";
  for (const auto& x : p) msg += "\n  - " + x;
  throw Error(msg, "raise the number of people or lower D / the distractors; classes and relations are 2..6");
}

std::vector<std::string> conditional_vocab_out(const ConditionalSpec& spec) {
  conditional_validate(spec);
  std::vector<std::string> v;
  for (int64_t i = 0; i < spec.places; ++i) v.push_back("p" + std::to_string(i));
  return v;
}

std::vector<std::string> conditional_vocab(const ConditionalSpec& spec) {
  auto v = conditional_vocab_out(spec);
  for (int64_t k = 0; k < spec.people; ++k) v.push_back(variable_name(spec.people, k));
  for (int64_t c = 0; c < spec.classes; ++c) v.push_back(kClasses[c]);
  for (int64_t r = 0; r < spec.relations; ++r) v.push_back(kRelations[r]);
  for (const char* w : {"lives", "is", "with", "?"}) v.push_back(w);
  return v;
}

int64_t conditional_seq_len(const ConditionalSpec& spec) {
  conditional_validate(spec);
  return 3 * cond_statements(spec) + 2;
}

ConditionalInstance conditional_instance(const ConditionalSpec& spec, TaskRng& rng) {
  conditional_validate(spec);
  const CondIds ids = cond_ids(spec);
  const int64_t K = spec.people, R = spec.relations;
  std::vector<int64_t> pool(K);
  for (int64_t k = 0; k < K; ++k) pool[k] = k;
  int64_t picked = 0;
  auto pick = [&] {
    std::swap(pool[picked], pool[picked + static_cast<int64_t>(rng_below(rng, K - picked))]);
    return ids.person(pool[picked++]);
  };
  auto below = [&](int64_t n) { return static_cast<int64_t>(rng_below(rng, n)); };
  std::vector<std::array<int64_t, 3>> st;
  ConditionalInstance r;
  r.answer = below(spec.places);
  std::vector<int64_t> rule(spec.classes), rel(R);  // distinct relations per class while there are enough
  for (int64_t i = 0; i < R; ++i) rel[i] = i;
  for (int64_t c = 0; c < spec.classes; ++c) {
    if (c < R) std::swap(rel[c], rel[c + below(R - c)]);
    rule[c] = c < R ? rel[c] : below(R);
  }
  for (int64_t i = 0; i <= spec.depth; ++i) r.chain.push_back(pick());
  std::vector<int64_t> distractor;
  for (int64_t j = 0; j < spec.distractors; ++j) distractor.push_back(pick());
  st.push_back({r.chain[0], ids.lives(), r.answer});
  for (int64_t i = 1; i <= spec.depth; ++i) {
    const int64_t c = below(spec.classes), wrong = (rule[c] + 1 + below(R - 1)) % R;
    st.push_back({r.chain[i], ids.is(), ids.cls(c)});
    st.push_back({r.chain[i], ids.rel(rule[c]), r.chain[i - 1]});
    st.push_back({r.chain[i], ids.rel(wrong), distractor[below(spec.distractors)]});
  }
  for (int64_t z : distractor) st.push_back({z, ids.lives(), below(spec.places)});
  for (int64_t c = 0; c < spec.classes; ++c) st.push_back({ids.cls(c), ids.with(), ids.rel(rule[c])});
  if (spec.shuffle)
    for (int64_t i = static_cast<int64_t>(st.size()) - 1; i > 0; --i) std::swap(st[i], st[below(i + 1)]);
  for (const auto& x : st) r.tokens.insert(r.tokens.end(), x.begin(), x.end());
  r.tokens.push_back(ids.qmark());
  r.tokens.push_back(r.chain.back());
  return r;
}

TaskBatch conditional_sample(const ConditionalSpec& spec, int64_t count, uint64_t seed) {
  check(count >= 1, "conditional retrieval: sample count " + std::to_string(count) + " (must be >= 1)",
        "ask for 1 or more");
  TaskBatch b;
  b.vocab = conditional_vocab(spec);
  b.vocab_out = conditional_vocab_out(spec);
  TaskRng rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    ConditionalInstance inst = conditional_instance(spec, rng);
    b.examples.push_back({std::move(inst.tokens), {}, inst.answer});
  }
  return b;
}

std::vector<int64_t> conditional_targets(const ConditionalSpec& spec, const std::vector<int64_t>& tokens,
                                         bool prefix) {
  const CondIds ids = cond_ids(spec);
  const int64_t T = conditional_seq_len(spec), S = (T - 2) / 3;
  check(static_cast<int64_t>(tokens.size()) == T && tokens[T - 2] == ids.qmark() && ids.is_person(tokens[T - 1]),
        "conditional retrieval tokens: " + std::to_string(tokens.size()) + " tokens (expected " + std::to_string(T) +
            ") or no \"? person\" at the end", "pass tokens of an instance of this spec (retrieval.h)");
  std::vector<int64_t> out(T, -1);
  for (int64_t t = 0; t < T - 2; ++t)
    if (ids.is_person(tokens[t])) out[t] = cond_resolve(ids, tokens, prefix ? (t + 1) / 3 : S, tokens[t]);
  out[T - 1] = cond_resolve(ids, tokens, S, tokens[T - 1]);
  check(out[T - 1] >= 0, "conditional retrieval tokens: the query's residence is not determined",
        "pass tokens of an instance of this spec (retrieval.h)");
  return out;
}

std::string conditional_text(const ConditionalSpec& spec, const std::vector<int64_t>& tokens,
                             const std::vector<std::string>& places, const std::vector<std::string>& people) {
  const CondIds ids = cond_ids(spec);
  const auto vocab = conditional_vocab(spec);
  const int64_t T = static_cast<int64_t>(tokens.size());
  check(T >= 2 && (T - 2) % 3 == 0, "conditional_text: " + std::to_string(T) + " tokens",
        "pass an instance of this spec");
  auto name = [&](int64_t id) {
    check(id >= 0 && id < static_cast<int64_t>(vocab.size()), "conditional_text: token id " + std::to_string(id),
          "pass an instance of this spec");
    if (id < spec.places && !places.empty()) return places.at(id);
    if (ids.is_person(id) && !people.empty()) return people.at(id - spec.places);
    return vocab[id];
  };
  std::string out;
  for (int64_t s = 0; 3 * s + 2 < T - 2; ++s) {
    const int64_t a = tokens[3 * s], verb = tokens[3 * s + 1], b = tokens[3 * s + 2];
    std::string line;
    if (verb == ids.lives()) line = name(a) + " lives in " + name(b) + ".";
    else if (verb == ids.is()) line = name(a) + " is " + (name(b)[0] == 'e' ? "an " : "a ") + name(b) + ".";
    else if (verb == ids.with()) {
      std::string cls = kClassPlural[a - ids.cls(0)];
      cls[0] = static_cast<char>(cls[0] - 'a' + 'A');
      line = cls + " live with their " + name(b) + "s.";
    } else line = name(a) + "'s " + name(verb) + " is " + name(b) + ".";
    out += (s ? " " : "") + line;
  }
  return out + " Where does " + name(tokens[T - 1]) + " live?";
}

}  // namespace attnlab
