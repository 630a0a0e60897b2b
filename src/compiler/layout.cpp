// Residual layout with subspace reuse, and model sizes (see layout.h for the invariant).
// Allocation is first fit in write order: a source written at stage w takes the lowest run of `width`
// consecutive dimensions that are all erased at a stage < w (or new ones at the end).
#include "compiler/layout.h"

#include "compiler/compile.h"

#include <algorithm>
#include <climits>
#include <numeric>

namespace attnlab::compiler {

namespace {

constexpr int kForever = INT_MAX;

int block_units(const Plan& p, int layer) {
  int units = 0;
  bool any = false;
  for (const MlpBlock& m : p.mlps)
    if (p.sources[static_cast<size_t>(m.source)].stage == 2 * layer + 2) {
      units += 2 * static_cast<int>(m.thresholds.size());
      any = true;
    }
  return any ? units + 1 : 0;
}

// The last stage at which each source is read (-1: never; kForever: the BOS flag and what the unembedding reads).
std::vector<int> last_reads(const Plan& p) {
  std::vector<int> last(p.sources.size(), -1);
  auto see = [&](const Affine& a, int stage) {
    for (const Term& t : a.terms) last[static_cast<size_t>(t.source)] = std::max(last[static_cast<size_t>(t.source)], stage);
  };
  for (const HeadGroup& g : p.groups) {
    int s = p.sources[static_cast<size_t>(g.source)].stage;
    for (const Head& h : g.heads) {
      for (const Affine& a : h.q) see(a, s);
      for (const Affine& a : h.k) see(a, s);
      for (const Affine& a : h.v) see(a, s);
    }
  }
  for (const MlpBlock& m : p.mlps) see(m.u, p.sources[static_cast<size_t>(m.source)].stage);
  for (const Affine& a : p.out_ind) see(a, kForever);
  for (const Source& s : p.sources)
    if (s.kind == SourceKind::Bos) last[static_cast<size_t>(s.id)] = kForever;  // every block's BOS gate reads it
  return last;
}

// An embedding subspace whose every entry is >= 0 holds exact non-negative values: relu(x) = x erases it.
bool embedding_nonneg(const Source& s) {
  if (s.kind == SourceKind::Tokens) return true;
  if (s.kind != SourceKind::IndicesCat && s.kind != SourceKind::IndicesNum && s.kind != SourceKind::Positional) return false;
  for (const auto& row : s.pos_rows)
    for (double v : row)
      if (v < 0) return false;
  return true;
}

// Erasure candidates, earliest first; with within_slack, only those that fit in the MLP units each layer leaves
// free below the d_mlp its blocks need (so d_mlp does not grow).
std::vector<Erasure> erasures_plan(const Plan& p, bool within_slack) {
  std::vector<int> used(static_cast<size_t>(p.n_layers), 0);
  int d_mlp = 0;
  for (int l = 0; l < p.n_layers; ++l) d_mlp = std::max(d_mlp, used[static_cast<size_t>(l)] = block_units(p, l));
  std::vector<int> last = last_reads(p);
  std::vector<Erasure> cand;
  for (const Source& s : p.sources) {
    int r = last[static_cast<size_t>(s.id)];
    if (r == kForever || s.width() == 0) continue;
    Erasure e;
    e.source = s.id;
    e.stage = stage_first_mlp_after(std::max(r - 1, s.stage));  // first MLP sub-layer >= r and > the write
    e.nonneg = embedding_nonneg(s);
    e.units = s.width() * (e.nonneg ? 1 : 2);
    if (e.stage / 2 - 1 < p.n_layers) cand.push_back(e);
  }
  std::stable_sort(cand.begin(), cand.end(), [](const Erasure& a, const Erasure& b) { return a.stage < b.stage; });
  std::vector<Erasure> out;
  for (const Erasure& e : cand) {
    int& u = used[static_cast<size_t>(e.stage / 2 - 1)];
    if (within_slack && u + e.units > d_mlp) continue;
    u += e.units;
    out.push_back(e);
  }
  return out;
}

}  // namespace

int layout_mlp_units(const Plan& p, int layer) {
  int units = block_units(p, layer);
  for (const Erasure& e : p.erasures)
    if (e.stage == 2 * layer + 2) units += e.units;
  return units;
}

// First-fit allocation given the erasure candidates; fills offsets, erasures, labels and the sizes.
void layout_assign(Plan& p, const std::vector<Erasure>& cand) {
  std::vector<int> erased_at(p.sources.size(), kForever);
  for (const Erasure& e : cand) erased_at[static_cast<size_t>(e.source)] = e.stage;
  std::vector<int> ids(p.sources.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) {
    return p.sources[static_cast<size_t>(a)].stage < p.sources[static_cast<size_t>(b)].stage;
  });
  std::vector<int> free_after;                 // [d_model] stage at which the dimension is erased
  std::vector<std::vector<int>> occupants;     // [d_model] sources that held it, in order
  std::vector<char> reused(p.sources.size(), 0);
  p.d_model_unshared = 0;
  for (int id : ids) {
    Source& s = p.sources[static_cast<size_t>(id)];
    const int D = static_cast<int>(free_after.size());
    int o = 0;
    for (;; ++o) {
      bool fits = true;
      // free when erased before this write; an MLP output may also take dimensions its own sub-layer erases
      // (it then adds B - x to x: B up to one rounding of x, far inside every reader's tolerance)
      for (int d = o; d < std::min(D, o + s.width()) && fits; ++d) {
        const int f = free_after[static_cast<size_t>(d)];
        fits = f < s.stage || (f == s.stage && s.kind == SourceKind::Mlp);
      }
      if (fits) break;
    }
    s.offset = o;
    p.d_model_unshared += s.width();
    for (int d = o; d < o + s.width(); ++d) {
      if (d >= static_cast<int>(free_after.size())) {
        free_after.push_back(0);
        occupants.emplace_back();
      }
      if (!occupants[static_cast<size_t>(d)].empty()) reused[static_cast<size_t>(occupants[static_cast<size_t>(d)].back())] = 1;
      free_after[static_cast<size_t>(d)] = erased_at[static_cast<size_t>(id)];
      occupants[static_cast<size_t>(d)].push_back(id);
    }
  }
  p.erasures.clear();
  for (const Erasure& e : cand)
    if (reused[static_cast<size_t>(e.source)]) p.erasures.push_back(e);  // an erasure nobody reuses is dropped
  p.d_model = static_cast<int>(free_after.size());
  p.residual_labels.clear();
  for (size_t d = 0; d < occupants.size(); ++d) {
    std::string label;  // "a:x / b:y" for a dimension that two sources hold one after the other
    for (int id : occupants[d]) {
      const Source& s = p.sources[static_cast<size_t>(id)];
      label += (label.empty() ? "" : " / ") +
               (s.kind == SourceKind::Bos ? std::string("bos") : s.name + ":" + s.labels[d - static_cast<size_t>(s.offset)]);
    }
    p.residual_labels.push_back(label);
  }
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

void layout_residual(Plan& p) {
  layout_assign(p, {});
  const int unshared = p.d_model;
  if (!p.opt.reuse) {
    p.d_model_unshared = unshared;
    return;
  }
  // reuse within the free MLP units, and with every erasure it can use (d_mlp may grow): the fewer parameters
  layout_assign(p, erasures_plan(p, true));
  std::vector<int> offsets;
  for (const Source& s : p.sources) offsets.push_back(s.offset);
  const std::vector<Erasure> erasures = p.erasures;
  const std::vector<std::string> labels = p.residual_labels;
  const int d_model = p.d_model, d_mlp = p.d_mlp;
  const int64_t params = compiled_parameter_count(p);
  layout_assign(p, erasures_plan(p, false));
  if (compiled_parameter_count(p) >= params) {
    for (size_t i = 0; i < offsets.size(); ++i) p.sources[i].offset = offsets[i];
    p.erasures = erasures;
    p.residual_labels = labels;
    p.d_model = d_model;
    p.d_mlp = d_mlp;
  }
  p.d_model_unshared = unshared;
}

}  // namespace attnlab::compiler
