// The RASP program graph: s-ops (one value per position) and selectors (an N×N boolean pattern) as nodes
// of a DAG. The parser/interpreter and the C++ builders (builder.h) both produce it; the evaluator
// (eval.h), the analyser, the printers and the compiler consume it. Nodes are owned by a Graph arena and
// referenced by raw pointer, so deep chains never recurse on destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rasp/lexer.h"
#include "rasp/value.h"

namespace attnlab::rasp {

enum class NodeKind {
  Tokens,         // the input; token_type says how positions are typed
  Indices,        // 0..N-1
  Length,         // N at every position
  Const,          // a constant broadcast to every position (atom), or a container operand of a Map
  Map,            // elementwise op over args (s-ops and Consts): x + 1, a if c else b, table[x], ...
  Select,         // selector: args = {keys, queries}; key j selected for query i iff keys[j] cmp queries[i]
  Aggregate,      // args = {selector, values}: mean (numbers) or the agreed value (others); default if none
  SelectorWidth,  // args = {selector}: number of selected keys per query
  SelAnd, SelOr, SelNot,  // selector composition
  SoftSelect,     // softmax selector (extension): args = {k_1..k_m, q_1..q_m[, mask]}, constant = scale; key j of
                  // query i weighs exp(scale * sum_c k_c[j] q_c[i]) among the mask's keys (all when absent)
};

enum class TokenType { Any, Str, Int, Float, Bool };  // tokens, tokens_str, tokens_int, ...
enum class Encoding { Auto, Numerical, Categorical };  // numerical(e) / categorical(e) annotations

struct Node {
  int id = 0;                      // unique within its Graph, increasing in creation order
  NodeKind kind = NodeKind::Const;
  std::vector<const Node*> args;   // operands (see NodeKind)
  Value constant;                  // Const: the atom, list or dict
  MapOp map_op = MapOp::Add;       // Map
  Cmp cmp = Cmp::Eq;               // Select
  TokenType token_type = TokenType::Any;  // Tokens
  Encoding encoding = Encoding::Auto;
  Atom default_value = int64_t{0};  // Aggregate: value where nothing is selected
  std::string name;                // the first name it was assigned to ("" if none)
  SrcLoc loc;                      // where it was created (for errors)

  bool is_selector() const {
    return kind == NodeKind::Select || kind == NodeKind::SelAnd || kind == NodeKind::SelOr || kind == NodeKind::SelNot ||
           kind == NodeKind::SoftSelect;
  }
  bool is_const() const { return kind == NodeKind::Const; }
  // "reverse" or "aggregate@prog.rasp:3:9" — how errors and the analyser name it.
  std::string label() const;
};

// Owns the nodes. Primitives (tokens, indices, length) are created once per graph and shared.
class Graph {
 public:
  explicit Graph(size_t max_nodes = 2000000);
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  const Node* tokens(TokenType t = TokenType::Any);
  const Node* indices();
  const Node* length();
  const Node* constant(Value v, SrcLoc loc = {});
  const Node* map(MapOp op, std::vector<const Node*> args, SrcLoc loc = {});
  const Node* select(const Node* keys, const Node* queries, Cmp cmp, SrcLoc loc = {});
  const Node* aggregate(const Node* sel, const Node* values, Atom default_value, SrcLoc loc = {});
  const Node* selector_width(const Node* sel, SrcLoc loc = {});
  const Node* sel_and(const Node* a, const Node* b, SrcLoc loc = {});
  const Node* sel_or(const Node* a, const Node* b, SrcLoc loc = {});
  const Node* sel_not(const Node* a, SrcLoc loc = {});
  // keys and queries: m >= 1 s-ops each; mask: a boolean selector or null (every key).
  const Node* soft_select(const std::vector<const Node*>& keys, const std::vector<const Node*>& queries, double scale,
                          const Node* mask, SrcLoc loc = {});
  // A copy of an s-op node carrying the annotation (the original stays unannotated).
  const Node* annotate(const Node* sop, Encoding e, SrcLoc loc = {});
  // Names a node if it has no name yet (first assignment wins, as in the original REPL).
  void name_set(const Node* n, const std::string& name);

  size_t size() const { return nodes_.size(); }
  const Node* node(size_t i) const { return nodes_[i].get(); }

 private:
  Node* add(NodeKind kind, SrcLoc loc);
  std::vector<std::unique_ptr<Node>> nodes_;
  size_t max_nodes_;
  const Node* tokens_[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
  const Node* indices_ = nullptr;
  const Node* length_ = nullptr;
};

// The nodes reachable from targets, operands before users (iterative; safe on deep graphs).
std::vector<const Node*> graph_topo(const std::vector<const Node*>& targets);

std::string token_type_name(TokenType t);  // "tokens", "tokens_int", ...

}  // namespace attnlab::rasp
