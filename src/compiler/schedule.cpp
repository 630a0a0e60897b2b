// Layer scheduling: each block runs at the first sub-layer after everything it reads is written (ASAP in
// creation order, which is topological). A head group goes to the first attention sub-layer (odd stage)
// after its inputs; an MLP to the first MLP sub-layer (even stage), so an MLP shares a layer with the
// attention before it whenever its inputs allow. Layers = ceil(last stage / 2).
#include "compiler/schedule.h"

#include <algorithm>

namespace attnlab::compiler {

namespace {
int affine_ready(const Plan& p, const Affine& a, int ready) {
  for (const Term& t : a.terms) ready = std::max(ready, p.sources[static_cast<size_t>(t.source)].stage);
  return ready;
}
}  // namespace

void schedule_blocks(Plan& p) {
  int last = 0;
  for (const Plan::BlockRef& b : p.order) {
    int ready = 0;
    int src = 0;
    if (b.head) {
      const HeadGroup& g = p.groups[static_cast<size_t>(b.index)];
      for (const Head& h : g.heads) {
        for (const Affine& a : h.q) ready = affine_ready(p, a, ready);
        for (const Affine& a : h.k) ready = affine_ready(p, a, ready);
        for (const Affine& a : h.v) ready = affine_ready(p, a, ready);
      }
      src = g.source;
      p.sources[static_cast<size_t>(src)].stage = stage_first_attn_after(ready);
    } else {
      const MlpBlock& m = p.mlps[static_cast<size_t>(b.index)];
      ready = affine_ready(p, m.u, ready);
      src = m.source;
      p.sources[static_cast<size_t>(src)].stage = stage_first_mlp_after(ready);
    }
    last = std::max(last, p.sources[static_cast<size_t>(src)].stage);
  }
  for (const Affine& a : p.out_ind) last = std::max(last, affine_ready(p, a, 0));
  p.n_layers = (last + 1) / 2;
}

}  // namespace attnlab::compiler
