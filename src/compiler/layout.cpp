// Residual layout and model sizes (see layout.h).
#include "compiler/layout.h"

#include <algorithm>
#include <numeric>

namespace attnlab::compiler {

int layout_mlp_units(const Plan& p, int layer) {
  int units = 0;
  for (const MlpBlock& m : p.mlps)
    if (p.sources[static_cast<size_t>(m.source)].stage == 2 * layer + 2) units += 2 * static_cast<int>(m.thresholds.size());
  bool any = std::any_of(p.mlps.begin(), p.mlps.end(),
                         [&](const MlpBlock& m) { return p.sources[static_cast<size_t>(m.source)].stage == 2 * layer + 2; });
  return any ? units + 1 : 0;
}

void layout_residual(Plan& p) {
  std::vector<int> ids(p.sources.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) {
    return p.sources[static_cast<size_t>(a)].stage < p.sources[static_cast<size_t>(b)].stage;
  });
  int offset = 0;
  p.residual_labels.clear();
  for (int id : ids) {
    Source& s = p.sources[static_cast<size_t>(id)];
    s.offset = offset;
    offset += s.width();
    for (const auto& l : s.labels) p.residual_labels.push_back(s.kind == SourceKind::Bos ? "bos" : s.name + ":" + l);
  }
  p.d_model = offset;
  p.n_heads = p.d_head = p.d_mlp = 0;
  std::vector<int> heads(static_cast<size_t>(p.n_layers), 0);
  for (const HeadGroup& g : p.groups) {
    int layer = (p.sources[static_cast<size_t>(g.source)].stage - 1) / 2;
    heads[static_cast<size_t>(layer)] += static_cast<int>(g.heads.size());
    for (const Head& h : g.heads) p.d_head = std::max({p.d_head, static_cast<int>(h.q.size()), static_cast<int>(h.v.size())});
  }
  for (int h : heads) p.n_heads = std::max(p.n_heads, h);
  for (int l = 0; l < p.n_layers; ++l) p.d_mlp = std::max(p.d_mlp, layout_mlp_units(p, l));
}

}  // namespace attnlab::compiler
