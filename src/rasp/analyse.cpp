// Layer / head / MLP analysis of a RASP program (see analyse.h).
#include "rasp/analyse.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "rasp/print.h"

namespace attnlab::rasp {

int Analysis::max_heads() const {
  int m = 0;
  for (int h : heads_per_layer) m = std::max(m, h);
  return m;
}

std::string stage_name(int stage) {
  if (stage == 0) return "input";
  return "layer " + std::to_string((stage + 1) / 2) + (stage % 2 ? " attn" : " mlp");
}

static int next_odd_after(int s) { return s % 2 ? s + 2 : s + 1; }
static int next_even_after(int s) { return s % 2 ? s + 1 : s + 2; }

Analysis analyse(const Node* target) {
  Analysis a;
  std::unordered_map<const Node*, int> stage;
  for (const Node* n : graph_topo({target})) {
    int m = 0;
    for (const Node* x : n->args) m = std::max(m, stage[x]);
    int s = 0;
    switch (n->kind) {
      case NodeKind::Tokens: case NodeKind::Indices: case NodeKind::Length: case NodeKind::Const: s = 0; break;
      case NodeKind::Select: case NodeKind::SelAnd: case NodeKind::SelOr: case NodeKind::SelNot:
      case NodeKind::SoftSelect: s = m; break;
      case NodeKind::Aggregate: s = next_odd_after(m); break;
      case NodeKind::SelectorWidth: s = next_odd_after(m) + 1; break;
      case NodeKind::Map: {
        bool fuse = m > 0 && m % 2 == 0;
        for (const Node* x : n->args)
          if (stage[x] == m && x->kind != NodeKind::Map) fuse = false;
        s = fuse ? m : next_even_after(m);
        break;
      }
    }
    stage[n] = s;
    a.nodes.push_back({n, s});
  }
  int max_stage = 0;
  for (const auto& e : a.nodes) max_stage = std::max(max_stage, e.stage);
  a.layers = (max_stage + 1) / 2;
  a.heads_per_layer.assign(static_cast<size_t>(a.layers), 0);
  a.mlps_per_layer.assign(static_cast<size_t>(a.layers), 0);
  for (const auto& e : a.nodes) {
    const Node* n = e.node;
    if (n->kind == NodeKind::Aggregate || n->kind == NodeKind::SelectorWidth) {
      int attn = n->kind == NodeKind::Aggregate ? e.stage : e.stage - 1;
      a.heads_per_layer[static_cast<size_t>((attn - 1) / 2)]++;
      if (n->kind == NodeKind::SelectorWidth) a.mlps_per_layer[static_cast<size_t>(e.stage / 2 - 1)]++;
    }
    if (n->kind == NodeKind::Map) {
      // a map starts a new MLP chain unless one of its operands is a map in the same MLP
      bool continues = false;
      for (const Node* x : n->args) continues = continues || (x->kind == NodeKind::Map && stage[x] == e.stage);
      if (!continues) a.mlps_per_layer[static_cast<size_t>(e.stage / 2 - 1)]++;
    }
  }
  for (int h : a.heads_per_layer) a.attn_layers += h > 0;
  for (int m : a.mlps_per_layer) a.mlp_layers += m > 0;
  return a;
}

std::string analysis_text(const Analysis& a, const std::string& target_name) {
  std::string out = "s-op: " + target_name + "\n";
  out += "layers: " + std::to_string(a.layers) + " (attention layers: " + std::to_string(a.attn_layers) +
         ", MLP layers: " + std::to_string(a.mlp_layers) + ", most heads in a layer: " + std::to_string(a.max_heads()) + ")\n";
  for (size_t l = 0; l < a.heads_per_layer.size(); ++l)
    out += "  layer " + std::to_string(l + 1) + ": " + std::to_string(a.heads_per_layer[l]) + " head" +
           (a.heads_per_layer[l] == 1 ? "" : "s") + ", " + std::to_string(a.mlps_per_layer[l]) + " MLP" +
           (a.mlps_per_layer[l] == 1 ? "" : "s") + "\n";
  out += "s-ops by layer:\n";
  std::set<std::string> seen;
  for (const auto& e : a.nodes) {
    const Node* n = e.node;
    if (n->is_const() || n->is_selector() || (n->name.empty() && e.node != a.nodes.back().node)) continue;
    std::string label = n->name.empty() ? target_name : n->label();
    out += "  " + label + std::string(label.size() < 20 ? 20 - label.size() : 1, ' ') + stage_name(e.stage) + "   " +
           node_expr(n) + "\n";
  }
  return out;
}

}  // namespace attnlab::rasp
