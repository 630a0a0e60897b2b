// Small helpers of the compiler IR (see ir.h).
#include "compiler/ir.h"

#include "util/error.h"

namespace attnlab::compiler {

void Affine::add(const Affine& o, double scale) {
  c += scale * o.c;
  for (const Term& t : o.terms) {
    bool merged = false;
    for (Term& x : terms)
      if (x.source == t.source && x.comp == t.comp) {
        x.coef += scale * t.coef;
        merged = true;
        break;
      }
    if (!merged) terms.push_back({t.source, t.comp, scale * t.coef});
  }
}

int Plan::source_add(SourceKind kind, const std::string& name, std::vector<std::string> labels,
                     std::vector<double> bos) {
  Source s;
  s.id = static_cast<int>(sources.size());
  s.kind = kind;
  s.name = name;
  if (bos.empty()) bos.assign(labels.size(), 0.0);
  check(bos.size() == labels.size(), "internal: source '" + name + "' BOS content size", "please report this bug");
  s.labels = std::move(labels);
  s.bos = std::move(bos);
  sources.push_back(std::move(s));
  return sources.back().id;
}

Leaf& Plan::leaf_add(LeafKind kind, const Node* node, const std::string& name) {
  auto l = std::make_unique<Leaf>();
  l->id = static_cast<int>(leaves.size());
  l->kind = kind;
  l->node = node;
  l->name = name;
  leaves.push_back(std::move(l));
  return *leaves.back();
}

double Plan::bos_value(const Affine& a) const {
  double v = a.c;
  for (const Term& t : a.terms) v += t.coef * sources[static_cast<size_t>(t.source)].bos[static_cast<size_t>(t.comp)];
  return v;
}

int stage_first_attn_after(int ready) { return ready % 2 == 0 ? ready + 1 : ready + 2; }
int stage_first_mlp_after(int ready) { return ready % 2 == 1 ? ready + 1 : ready + 2; }

}  // namespace attnlab::compiler
