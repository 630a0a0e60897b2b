// The RASP program graph (see graph.h).
#include "rasp/graph.h"

#include <cmath>
#include <unordered_set>

#include "util/error.h"

namespace attnlab::rasp {

std::string token_type_name(TokenType t) {
  static const char* names[] = {"tokens", "tokens_str", "tokens_int", "tokens_float", "tokens_bool"};
  return names[static_cast<int>(t)];
}

std::string Node::label() const {
  if (!name.empty()) return name;
  switch (kind) {
    case NodeKind::Tokens: return token_type_name(token_type);
    case NodeKind::Indices: return "indices";
    case NodeKind::Length: return "length";
    default: break;
  }
  static const char* kinds[] = {"tokens", "indices", "length", "constant", "map", "select", "aggregate",
                                "selector_width", "and", "or", "not", "softmax_select"};
  std::string k = kinds[static_cast<int>(kind)];
  if (kind == NodeKind::Map) k = "'" + map_op_str(map_op) + "'";
  return loc.file ? k + "@" + loc.str() : k + "#" + std::to_string(id);
}

Graph::Graph(size_t max_nodes) : max_nodes_(max_nodes) {}

Node* Graph::add(NodeKind kind, SrcLoc loc) {
  if (nodes_.size() >= max_nodes_)
    throw Error(loc_message(loc, "the program graph grew past " + std::to_string(max_nodes_) + " nodes"),
                "a loop or recursion is building s-ops without bound; check its range");
  auto n = std::make_unique<Node>();
  n->id = static_cast<int>(nodes_.size());
  n->kind = kind;
  n->loc = std::move(loc);
  nodes_.push_back(std::move(n));
  return nodes_.back().get();
}

const Node* Graph::tokens(TokenType t) {
  const Node*& slot = tokens_[static_cast<int>(t)];
  if (!slot) {
    Node* n = add(NodeKind::Tokens, {});
    n->token_type = t;
    slot = n;
  }
  return slot;
}

const Node* Graph::indices() {
  if (!indices_) indices_ = add(NodeKind::Indices, {});
  return indices_;
}

const Node* Graph::length() {
  if (!length_) length_ = add(NodeKind::Length, {});
  return length_;
}

const Node* Graph::constant(Value v, SrcLoc loc) {
  Node* n = add(NodeKind::Const, std::move(loc));
  n->constant = std::move(v);
  return n;
}

static void need_sop(const Node* n, const char* what) {
  if (!n || n->is_selector()) throw Error(std::string(what) + " needs an s-op operand", "");
}
static void need_sel(const Node* n, const char* what) {
  if (!n || !n->is_selector()) throw Error(std::string(what) + " needs a selector operand", "");
}

// and / or / not / selector_width / a mask need a boolean selector, not a softmax selector's real weights.
static void need_boolean_sel(const Node* n, const char* what) {
  need_sel(n, what);
  if (n->kind == NodeKind::SoftSelect)
    throw Error(std::string(what) + " needs a boolean selector, got a softmax_select (real weights)",
                "a softmax selector can only be aggregated: aggregate(softmax_select(...), values)");
}

const Node* Graph::map(MapOp op, std::vector<const Node*> args, SrcLoc loc) {
  if (static_cast<int>(args.size()) != map_op_arity(op)) throw Error("map '" + map_op_str(op) + "': wrong operand count", "");
  for (const Node* a : args) need_sop(a, "map");
  Node* n = add(NodeKind::Map, std::move(loc));
  n->map_op = op;
  n->args = std::move(args);
  return n;
}

const Node* Graph::select(const Node* keys, const Node* queries, Cmp cmp, SrcLoc loc) {
  need_sop(keys, "select");
  need_sop(queries, "select");
  Node* n = add(NodeKind::Select, std::move(loc));
  n->args = {keys, queries};
  n->cmp = cmp;
  return n;
}

const Node* Graph::aggregate(const Node* sel, const Node* values, Atom default_value, SrcLoc loc) {
  need_sel(sel, "aggregate");
  need_sop(values, "aggregate");
  Node* n = add(NodeKind::Aggregate, std::move(loc));
  n->args = {sel, values};
  n->default_value = std::move(default_value);
  return n;
}

const Node* Graph::selector_width(const Node* sel, SrcLoc loc) {
  need_boolean_sel(sel, "selector_width");
  Node* n = add(NodeKind::SelectorWidth, std::move(loc));
  n->args = {sel};
  return n;
}

const Node* Graph::sel_and(const Node* a, const Node* b, SrcLoc loc) {
  need_boolean_sel(a, "and");
  need_boolean_sel(b, "and");
  Node* n = add(NodeKind::SelAnd, std::move(loc));
  n->args = {a, b};
  return n;
}

const Node* Graph::sel_or(const Node* a, const Node* b, SrcLoc loc) {
  need_boolean_sel(a, "or");
  need_boolean_sel(b, "or");
  Node* n = add(NodeKind::SelOr, std::move(loc));
  n->args = {a, b};
  return n;
}

const Node* Graph::sel_not(const Node* a, SrcLoc loc) {
  need_boolean_sel(a, "not");
  Node* n = add(NodeKind::SelNot, std::move(loc));
  n->args = {a};
  return n;
}

const Node* Graph::soft_select(const std::vector<const Node*>& keys, const std::vector<const Node*>& queries,
                               double scale, const Node* mask, SrcLoc loc) {
  if (keys.empty() || keys.size() != queries.size())
    throw Error("softmax_select needs as many query s-ops as key s-ops (at least one), got " +
                    std::to_string(keys.size()) + " keys and " + std::to_string(queries.size()) + " queries",
                "write softmax_select([k1, k2], [q1, q2], scale) or softmax_select(k, q, scale)");
  for (const Node* k : keys) need_sop(k, "softmax_select");
  for (const Node* q : queries) need_sop(q, "softmax_select");
  if (!std::isfinite(scale)) throw Error("softmax_select: the scale must be a finite number", "");
  Node* n = add(NodeKind::SoftSelect, std::move(loc));
  n->args = keys;
  n->args.insert(n->args.end(), queries.begin(), queries.end());
  if (mask) {
    need_boolean_sel(mask, "softmax_select's mask");
    n->args.push_back(mask);
  }
  n->constant = Value::of(Atom{scale});
  return n;
}

const Node* Graph::annotate(const Node* sop, Encoding e, SrcLoc loc) {
  need_sop(sop, e == Encoding::Numerical ? "numerical" : "categorical");
  Node* n = add(sop->kind, std::move(loc));
  int id = n->id;
  *n = *sop;
  n->id = id;
  n->name.clear();
  n->encoding = e;
  return n;
}

void Graph::name_set(const Node* n, const std::string& name) {
  Node* owned = const_cast<Node*>(n);  // every node handed out is owned (mutably) by a Graph
  if (owned->name.empty()) owned->name = name;
}

std::vector<const Node*> graph_topo(const std::vector<const Node*>& targets) {
  std::vector<const Node*> order;
  std::unordered_set<const Node*> done, open;
  std::vector<std::pair<const Node*, size_t>> stack;  // node, next operand to visit
  for (const Node* t : targets) {
    if (done.count(t)) continue;
    stack.push_back({t, 0});
    open.insert(t);
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < n->args.size()) {
        const Node* a = n->args[next++];
        if (!done.count(a) && !open.count(a)) {
          open.insert(a);
          stack.push_back({a, 0});
        }
        continue;
      }
      done.insert(n);
      order.push_back(n);
      stack.pop_back();
    }
  }
  return order;
}

}  // namespace attnlab::rasp
