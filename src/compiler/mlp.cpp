// MLP blocks: one ReLU MLP tabulates any function F of finitely many leaves, exactly on every reachable value.
// Each leaf i has an injective code c_i (a one-hot's index, a number, or x = 1/(w+1)) with smallest gap g_i
// and span s_i. The mixed-radix code u = Σ β_i c_i, β_1 = 1/g_1, β_{i+1} = (U_i + 1)/g_{i+1} with
// U_i = Σ_{j<=i} β_j s_j, gives different tuples codes at least 1 apart. Sorting the reachable tuples by u,
// F(u) = F(u_0) + Σ_t ΔF_t · ramp(u - a_t) with a_t = u_{t-1} + 1/4 and ramp(x) = relu(2x) - relu(2x - 1):
// two units per place where F changes (slopes from the actual gaps, no tolerance to tune), plus one shared
// "one" unit for F(u_0). Every unit is switched off at the BOS position (its bias minus G·[BOS]).
#include <algorithm>
#include <cmath>

#include "compiler/blocks.h"
#include "compiler/values.h"
#include "util/error.h"

namespace attnlab::compiler {

int BlockBuilder::mlp_build(const std::string& name, const Node* n, const std::set<int>& leaf_ids, const Fn& f,
                            bool categorical) {
  const int N = p.opt.max_len;
  std::vector<Leaf*> leaves;
  for (int id : leaf_ids) {
    leaves.push_back(p.leaves[static_cast<size_t>(id)].get());
    leaf_code_set(*leaves.back());
  }
  // mixed-radix weights
  std::vector<double> beta;
  double U = 0;
  for (Leaf* l : leaves) {
    std::vector<double> codes;
    for (const auto& [v, c] : l->code_of) codes.push_back(c);
    std::sort(codes.begin(), codes.end());
    double gap = 1.0, span = codes.empty() ? 0.0 : codes.back() - codes.front();
    // values that differ only by rounding (1/3 - 1/3 vs 2/6 - 1/3) are one value to the network
    bool first = true;
    for (size_t i = 1; i < codes.size(); ++i) {
      double d = codes[i] - codes[i - 1];
      if (d <= 1e-9 * std::max(1.0, std::fabs(codes[i]))) continue;
      gap = first ? d : std::min(gap, d);
      first = false;
    }
    double b = (U + 1.0) / gap;
    if (beta.empty()) b = 1.0 / gap;
    beta.push_back(b);
    U += b * span;
  }
  MlpBlock blk;
  blk.what = (categorical ? "categorical " : "numerical ") + name;
  for (size_t i = 0; i < leaves.size(); ++i) {
    blk.u.add(leaves[i]->code, beta[i]);
    blk.inputs.push_back(leaves[i]->id);
  }
  // enumerate the reachable tuples, length by length
  std::map<double, Atom> table;
  std::vector<std::set<Atom, rasp::AtomKeyLess>> per_len(static_cast<size_t>(N) + 1);
  size_t visited = 0;
  for (int len = 1; len <= N; ++len) {
    std::vector<const std::vector<Atom>*> sets;
    for (Leaf* l : leaves) sets.push_back(&l->values.per_len[static_cast<size_t>(len)]);
    if (std::any_of(sets.begin(), sets.end(), [](auto* s) { return s->empty(); })) continue;
    std::vector<size_t> idx(sets.size(), 0);
    while (true) {
      check(++visited <= p.opt.max_table,
            "'" + name + "' depends on " + std::to_string(leaves.size()) + " values whose combinations exceed " +
                std::to_string(p.opt.max_table),
            "lower --max-len, or split the computation so each map reads fewer attention outputs");
      std::map<int, Atom> assign;
      double u = 0;
      for (size_t k = 0; k < sets.size(); ++k) {
        const Atom& v = (*sets[k])[idx[k]];
        assign[leaves[k]->id] = v;
        u += beta[k] * leaves[k]->code_of.at(v);
      }
      try {
        Atom r = f(assign);
        table.emplace(u, r);
        per_len[static_cast<size_t>(len)].insert(r);
      } catch (const Error&) {
        // outside F's domain: the interpreter fails on such inputs too
      }
      size_t k = 0;
      for (; k < sets.size(); ++k) {
        if (++idx[k] < sets[k]->size()) break;
        idx[k] = 0;
      }
      if (k == sets.size()) break;
    }
  }
  // merge codes closer than half a step (rounding twins): keep the F of the smallest |u| (e.g. 0 over 5.6e-17)
  for (auto it = table.begin(); it != table.end();) {
    auto next = std::next(it);
    if (next != table.end() && next->first - it->first < 0.5) {
      if (!rasp::atom_equal(it->second, next->second))
        p.warnings.push_back("'" + name + "': values that differ only by rounding map to " + rasp::atom_repr(it->second) +
                             " and " + rasp::atom_repr(next->second) + "; the compiled model uses one of them");
      if (std::fabs(next->first) < std::fabs(it->first)) it = table.erase(it);
      else table.erase(next);
      continue;
    }
    it = next;
  }
  check(!table.empty(), "'" + name + "' has no defined value on any input",
        "check the program: every combination of its operands raises an error");
  // output encoding
  std::set<Atom, rasp::AtomKeyLess> outs;
  for (const auto& [u, r] : table) outs.insert(r);
  std::vector<Atom> out_values(outs.begin(), outs.end());
  std::vector<std::string> labels;
  if (categorical) {
    for (size_t i = 0; i + 1 < out_values.size(); ++i) labels.push_back(rasp::atom_str(out_values[i]));
    if (labels.empty()) labels.push_back(rasp::atom_str(out_values[0]) + "(const)");
  } else {
    for (const Atom& v : out_values)
      check(!rasp::atom_is_str(v), "'" + name + "' is used as a number but can hold the string " + rasp::atom_repr(v),
            "use it categorically");
    labels.push_back("value");
  }
  auto vec = [&](const Atom& r) {
    std::vector<double> out(labels.size(), 0.0);
    if (!categorical) {
      out[0] = atom_number(r);
    } else {
      for (size_t i = 0; i + 1 < out_values.size(); ++i)
        if (rasp::atom_equal(out_values[i], r)) out[i] = 1.0;
      if (out_values.size() == 1) out[0] = 1.0;
    }
    return out;
  };
  auto it = table.begin();
  blk.base = vec(it->second);
  double prev_u = it->first;
  Atom prev = it->second;
  for (++it; it != table.end(); ++it) {
    if (!rasp::atom_equal(it->second, prev) || (!categorical && atom_number(it->second) != atom_number(prev))) {
      std::vector<double> a = vec(prev), b = vec(it->second);
      for (size_t i = 0; i < a.size(); ++i) b[i] -= a[i];
      blk.thresholds.push_back(prev_u + 0.25);
      blk.deltas.push_back(b);
    }
    prev_u = it->first;
    prev = it->second;
  }
  blk.source = p.source_add(SourceKind::Mlp, name, labels, std::vector<double>(labels.size(), 0.0));
  Leaf& l = p.leaf_add(LeafKind::Mlp, n, name);
  l.values.per_len.resize(static_cast<size_t>(N) + 1);
  for (int len = 1; len <= N; ++len)
    l.values.per_len[static_cast<size_t>(len)] = {per_len[static_cast<size_t>(len)].begin(), per_len[static_cast<size_t>(len)].end()};
  l.values.all = out_values;
  if (categorical) {
    Affine rest = Affine::constant(1.0);
    for (size_t i = 0; i + 1 < out_values.size(); ++i) {
      l.ind[out_values[i]] = Affine::unit(blk.source, static_cast<int>(i));
      rest.add(Affine::unit(blk.source, static_cast<int>(i)), -1.0);
    }
    l.ind[out_values.back()] = out_values.size() == 1 ? Affine::unit(blk.source, 0) : rest;
  } else {
    l.num = Affine::unit(blk.source, 0);
  }
  p.mlps.push_back(std::move(blk));
  p.sources[static_cast<size_t>(p.mlps.back().source)].block = static_cast<int>(p.mlps.size()) - 1;
  p.order.push_back({false, static_cast<int>(p.mlps.size()) - 1});
  return l.id;
}

}  // namespace attnlab::compiler
