// RASP graph → RASP text and → Graphviz DOT (see print.h).
#include "rasp/print.h"

#include <functional>
#include <set>
#include <unordered_map>

namespace attnlab::rasp {

namespace {

const std::set<std::string> kReserved = {
    "tokens", "tokens_str", "tokens_int", "tokens_float", "tokens_bool", "indices", "length", "select",
    "aggregate", "selector_width", "softmax_select", "numerical", "categorical", "range", "len", "zip", "round", "exp", "sqrt", "abs",
    "indicator", "def", "return", "for", "in", "if", "else", "and", "or", "not", "True", "False", "load"};

bool is_leaf(const Node* n) {
  return n->kind == NodeKind::Tokens || n->kind == NodeKind::Indices || n->kind == NodeKind::Length || n->is_const();
}

// Builds one node's expression; operand(k) renders argument k.
std::string expr_with(const Node* n, const std::function<std::string(size_t)>& operand) {
  std::string s;
  switch (n->kind) {
    case NodeKind::Tokens: return token_type_name(n->token_type);
    case NodeKind::Indices: return "indices";
    case NodeKind::Length: return "length";
    case NodeKind::Const: return value_repr(n->constant);
    case NodeKind::Map: {
      MapOp op = n->map_op;
      if (op == MapOp::Round || op == MapOp::Indicator || op == MapOp::Exp || op == MapOp::Sqrt ||
          op == MapOp::Abs) s = map_op_str(op) + "(" + operand(0) + ")";
      else if (op == MapOp::Not) s = "(not " + operand(0) + ")";
      else if (map_op_arity(op) == 1) s = "(" + map_op_str(op) + operand(0) + ")";
      else if (op == MapOp::Index) s = operand(0) + "[" + operand(1) + "]";
      else if (op == MapOp::IfElse) s = "(" + operand(0) + " if " + operand(1) + " else " + operand(2) + ")";
      else s = "(" + operand(0) + " " + map_op_str(op) + " " + operand(1) + ")";
      break;
    }
    case NodeKind::Select: s = "select(" + operand(0) + ", " + operand(1) + ", " + cmp_str(n->cmp) + ")"; break;
    case NodeKind::Aggregate: {
      s = "aggregate(" + operand(0) + ", " + operand(1);
      bool zero = atom_is_int(n->default_value) && std::get<int64_t>(n->default_value) == 0;
      s += zero ? ")" : ", " + atom_repr(n->default_value) + ")";
      break;
    }
    case NodeKind::SelectorWidth: s = "selector_width(" + operand(0) + ")"; break;
    case NodeKind::SelAnd: s = "(" + operand(0) + " and " + operand(1) + ")"; break;
    case NodeKind::SelOr: s = "(" + operand(0) + " or " + operand(1) + ")"; break;
    case NodeKind::SelNot: s = "(not " + operand(0) + ")"; break;
    case NodeKind::SoftSelect: {
      size_t m = (n->args.size() - (n->args.size() % 2)) / 2;
      auto list = [&](size_t from) {
        std::string l = "[";
        for (size_t c = 0; c < m; ++c) l += (c ? ", " : "") + operand(from + c);
        return l + "]";
      };
      s = "softmax_select(" + list(0) + ", " + list(m) + ", " + atom_repr(n->constant.atom);
      s += n->args.size() % 2 ? ", " + operand(2 * m) + ")" : ")";
      break;
    }
  }
  if (n->encoding == Encoding::Numerical) s = "numerical(" + s + ")";
  if (n->encoding == Encoding::Categorical) s = "categorical(" + s + ")";
  return s;
}

}  // namespace

static std::string node_expr_depth(const Node* n, int depth) {
  return expr_with(n, [&](size_t k) {
    const Node* a = n->args[k];
    if (is_leaf(a)) return expr_with(a, [](size_t) { return std::string(); });
    if (a->name.empty() && depth < 3) return node_expr_depth(a, depth + 1);
    return a->label();
  });
}

std::string node_expr(const Node* n) { return node_expr_depth(n, 0); }

std::string program_to_rasp(const std::vector<const Node*>& targets) {
  std::vector<const Node*> order = graph_topo(targets);
  std::unordered_map<const Node*, int> uses, inline_depth;
  for (const Node* n : order)
    for (const Node* a : n->args) uses[a]++;
  std::unordered_map<const Node*, std::string> bound;
  std::set<std::string> taken;
  auto bind = [&](const Node* n) {
    std::string base = n->name.empty() ? "_t" : n->name;
    std::string name = base;
    if (n->name.empty() || kReserved.count(name) || taken.count(name)) name = base + "_" + std::to_string(n->id);
    taken.insert(name);
    bound[n] = name;
  };
  for (const Node* n : order) {
    if (is_leaf(n)) continue;
    int depth = 1;
    for (const Node* a : n->args)
      if (!bound.count(a)) depth = std::max(depth, inline_depth[a] + 1);
    inline_depth[n] = depth;
    bool target = std::find(targets.begin(), targets.end(), n) != targets.end();
    if (!n->name.empty() || uses[n] >= 2 || depth > 32 || target) bind(n);
  }
  std::function<std::string(const Node*)> render = [&](const Node* n) -> std::string {
    auto it = bound.find(n);
    if (it != bound.end()) return it->second;
    return expr_with(n, [&](size_t k) { return render(n->args[k]); });
  };
  std::string out;
  for (const Node* n : order) {
    if (!bound.count(n)) continue;
    out += bound[n] + " = " + expr_with(n, [&](size_t k) { return render(n->args[k]); }) + ";\n";
  }
  return out;
}

static std::string dot_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string program_to_dot(const std::vector<const Node*>& targets) {
  std::string out = "digraph rasp {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=11];\n";
  std::vector<const Node*> order = graph_topo(targets);
  for (const Node* n : order) {
    if (n->is_const()) continue;
    std::string label = n->name.empty() ? node_expr(n) : n->name + "\\n" + dot_escape(node_expr(n));
    if (n->name.empty()) label = dot_escape(label);
    if (label.size() > 160) label = label.substr(0, 160) + "...";
    std::string style = "shape=box";
    if (n->is_selector()) style = "shape=ellipse, style=dashed";
    else if (n->kind == NodeKind::Aggregate || n->kind == NodeKind::SelectorWidth) style = "shape=box, style=filled, fillcolor=\"#cfe2ff\"";
    else if (is_leaf(n)) style = "shape=box, style=filled, fillcolor=\"#e9ecef\"";
    out += "  n" + std::to_string(n->id) + " [label=\"" + label + "\", " + style + "];\n";
  }
  for (const Node* n : order)
    for (const Node* a : n->args)
      if (!a->is_const()) out += "  n" + std::to_string(a->id) + " -> n" + std::to_string(n->id) + ";\n";
  return out + "}\n";
}

}  // namespace attnlab::rasp
