// The compiler's real-valued mode (universal_compile.h): classify -> positional values -> blocks (gathers,
// softmax heads, bilinear units, each placed at the first sub-layer after its operands are ready) -> layout
// (one residual dimension per positional feature, head output and unit output) -> assembly.
// Sub-layer s: attention of layer s/2 when s is even, its feed-forward layer when s is odd; a value written by
// sub-layer s is readable from s + 1 on; the embedding writes at time 0. Longer than 400 lines because the
// stages share one RealCompiler state; the ReLU-mode units (value sets, interpolants) are its biggest section.
#include "constructions/universal_compile.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "constructions/universal.h"
#include "rasp/eval.h"
#include "rasp/interp.h"
#include "util/error.h"

namespace attnlab {

namespace {

using rasp::MapOp;
using rasp::Node;
using rasp::NodeKind;
using Lin = std::map<int, double>;  // residual dimension -> coefficient

struct HeadBlock {
  int sub = 0;
  std::vector<Lin> q, k;  // per score component: query and key functionals
  std::vector<Lin> v;     // per value component: the value functional ...
  std::vector<int> out;   // ... and the residual dimension it is written to
};

struct UnitBlock {
  int sub = 0;
  Lin a, b;  // out = (a . x) * (b . x)
  int out = 0;
};

struct ReluUnit {  // ReLU mode: out += w * relu(a . x)
  int sub = 0;
  Lin a;
  int out = 0;
  double w = 0;
};

// The values a real s-op can take when the inputs lie on a grid: a finite sorted set, or only bounds.
struct ValueSet {
  bool finite = true;
  std::vector<double> v;  // sorted, distinct (finite)
  double lo = 0, hi = 0;  // bounds (always set)
};

constexpr size_t kMaxSet = 200000;

ValueSet vs_make(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::vector<double> u;
  for (double x : v)
    if (u.empty() || std::fabs(x - u.back()) > 1e-12 * std::max(1.0, std::fabs(x))) u.push_back(x);
  ValueSet s;
  s.lo = u.empty() ? 0 : u.front();
  s.hi = u.empty() ? 0 : u.back();
  s.v = std::move(u);
  return s;
}

ValueSet vs_bounds(double lo, double hi) {
  ValueSet s;
  s.finite = false;
  s.lo = lo;
  s.hi = hi;
  return s;
}

// {f(a, b)} over both sets, or bounds from the corners when a set is not finite or the result too large.
template <typename F>
ValueSet vs_combine(const ValueSet& A, const ValueSet& B, F f) {
  if (A.finite && B.finite && A.v.size() * B.v.size() <= kMaxSet) {
    std::vector<double> r;
    for (double a : A.v)
      for (double b : B.v) r.push_back(f(a, b));
    return vs_make(std::move(r));
  }
  double c[4] = {f(A.lo, B.lo), f(A.lo, B.hi), f(A.hi, B.lo), f(A.hi, B.hi)};
  return vs_bounds(*std::min_element(c, c + 4), *std::max_element(c, c + 4));
}

void lin_add(Lin& into, const Lin& x, double c) {
  for (auto [d, v] : x) into[d] += c * v;
}

int first_at_or_after(int t, int parity) { return t % 2 == parity ? t : t + 1; }

struct RealCompiler {
  RealCompileOptions opt;
  rasp::Evaluation pos;                           // positional s-ops and selectors, evaluated at compile time
  std::unordered_map<const Node*, bool> is_pos;   // positional (no tokens below)
  std::unordered_map<const Node*, Lin> lin;       // real s-ops
  std::unordered_map<const Node*, int> ready;     // real s-ops: time from which they are readable
  std::map<std::pair<const Node*, int>, int> pos_dim;  // (positional s-op, feature kind) -> dimension
  std::vector<std::string> labels;                // [R]
  std::vector<std::vector<double>> pos_values;    // [R][L] positional features (empty for other dims)
  std::vector<HeadBlock> heads;
  std::map<std::vector<const Node*>, std::vector<size_t>> heads_of;  // selector identity -> its heads
  std::vector<UnitBlock> units;
  std::vector<ReluUnit> relus;                    // ReLU mode
  std::unordered_map<const Node*, ValueSet> sets; // ReLU mode: value sets of real s-ops
  std::vector<std::string> problems;
  int one = 0, tok = 0;
  int64_t gathers = 0, softs = 0;
  int unit_ready = 0;  // ready time of the units made for the node being compiled

  int dim_new(const std::string& label, std::vector<double> values = {}) {
    labels.push_back(label);
    pos_values.push_back(std::move(values));
    return static_cast<int>(labels.size()) - 1;
  }

  void problem(const Node* n, const std::string& why) { problems.push_back(n->label() + ": " + why); }

  // Positional values of a node as doubles (bools 0/1); strings are a problem.
  std::vector<double> pos_numbers(const Node* n) {
    const rasp::Column& c = pos.at(n);
    std::vector<double> v(c.size(), 0.0);
    for (size_t p = 0; p < c.size(); ++p) {
      if (rasp::atom_is_str(c[p])) {
        problem(n, "a string-valued positional s-op cannot feed a real-valued block");
        return v;
      }
      v[p] = rasp::atom_to_double(c[p]);
    }
    return v;
  }

  // Feature kinds of a positional s-op: 0 = its value, 1 = its square, 2 = truthiness.
  int feature(const Node* n, int kind) {
    auto it = pos_dim.find({n, kind});
    if (it != pos_dim.end()) return it->second;
    std::vector<double> v = pos_numbers(n);
    for (double& x : v) x = kind == 1 ? x * x : kind == 2 ? (x != 0 ? 1.0 : 0.0) : x;
    static const char* suffix[] = {"", "^2", "?"};
    return pos_dim[{n, kind}] = dim_new("pos:" + n->label() + suffix[kind], std::move(v));
  }

  // The functional of an operand: a real s-op's, a constant's (times the one-dimension) or a positional
  // feature's.
  Lin operand(const Node* n) {
    if (!is_pos[n]) return lin.at(n);
    if (n->is_const()) {
      if (!n->constant.is_atom() || rasp::atom_is_str(n->constant.atom)) {
        problem(n, "only number constants can enter real arithmetic");
        return {};
      }
      double c = rasp::atom_to_double(n->constant.atom);
      return c == 0 ? Lin{} : Lin{{one, c}};
    }
    return {{feature(n, 0), 1.0}};
  }
  int time_of(const Node* n) const { return is_pos.at(n) ? 0 : ready.at(n); }

  ValueSet set_of(const Node* n) {
    if (!is_pos[n]) return sets.at(n);
    if (n->is_const()) return vs_make({operand(n).empty() ? 0.0 : operand(n).begin()->second});
    return vs_make(pos_numbers(n));
  }

  // ReLU mode: out_dim += w * g(t) for g the piecewise-linear interpolant of t -> t^2 through the points T
  // (exact at every point: slopes t_k + t_{k+1} from the actual gaps of T).
  void relu_square(const Lin& t_lin, const std::vector<double>& T, double w, int sub, int out) {
    relus.push_back({sub, {{one, 1.0}}, out, w * T[0] * T[0]});  // the constant t_0^2
    double prev_slope = 0;
    for (size_t k = 0; k + 1 < T.size(); ++k) {
      double slope = T[k] + T[k + 1];
      Lin a = t_lin;
      a[one] -= T[k];
      relus.push_back({sub, a, out, w * (slope - prev_slope)});
      prev_slope = slope;
    }
  }

  // ReLU mode: a * b = ((a + b)^2 - (a - b)^2) / 4, exact on the finite value sets A, B.
  Lin relu_product(const Lin& a, const ValueSet& A, const Lin& b, const ValueSet& B, int t, const std::string& label,
                   const Node* n) {
    if (!A.finite || !B.finite) {
      problem(n, "a product of values that are not from finite sets cannot be computed exactly by ReLU units");
      return {};
    }
    int sub = first_at_or_after(t, 1);
    int out = dim_new("mlp" + std::to_string(sub / 2) + ":" + label);
    Lin sum = a, diff = a;
    lin_add(sum, b, 1.0);
    lin_add(diff, b, -1.0);
    relu_square(sum, vs_combine(A, B, [](double x, double y) { return x + y; }).v, 0.25, sub, out);
    relu_square(diff, vs_combine(A, B, [](double x, double y) { return x - y; }).v, -0.25, sub, out);
    unit_ready = std::max(unit_ready, sub + 1);
    return {{out, 1.0}};
  }

  // ReLU mode: x * g for a 0/1 gate g and |x| < B: relu(x + B g - B) - relu(-x + B g - B).
  Lin relu_gate(const Lin& x, const ValueSet& X, const Lin& gate, int t, const std::string& label) {
    double B = std::max(std::fabs(X.lo), std::fabs(X.hi)) * 2 + 1;
    int sub = first_at_or_after(t, 1);
    int out = dim_new("mlp" + std::to_string(sub / 2) + ":" + label);
    for (double sign : {1.0, -1.0}) {
      Lin a;
      lin_add(a, x, sign);
      lin_add(a, gate, B);
      a[one] -= B;
      relus.push_back({sub, a, out, sign});
    }
    unit_ready = std::max(unit_ready, sub + 1);
    return {{out, 1.0}};
  }

  Lin unit(const Lin& a, const Lin& b, int t, const std::string& label) {
    UnitBlock u{first_at_or_after(t, 1), a, b, 0};
    u.out = dim_new("mlp" + std::to_string(u.sub / 2) + ":" + label);
    units.push_back(u);
    unit_ready = std::max(unit_ready, u.sub + 1);
    return {{u.out, 1.0}};
  }

  // Another aggregate over the same selector at the same sub-layer: one more value component of that head.
  bool head_reuse(const Node* n, const std::vector<const Node*>& key, int sub) {
    for (size_t hi : heads_of[key])
      if (heads[hi].sub == sub) {
        value_add(n, heads[hi]);
        return true;
      }
    return false;
  }
  void head_add(const Node* n, const std::vector<const Node*>& key, HeadBlock h) {
    value_add(n, h);
    heads_of[key].push_back(heads.size());
    heads.push_back(std::move(h));
  }
  void value_add(const Node* n, HeadBlock& h) {
    if (opt.relu) {  // a gather keeps the value set; a softmax average only the bounds
      ValueSet v = set_of(n->args[1]);
      sets[n] = n->args[0]->kind == NodeKind::SoftSelect ? vs_bounds(v.lo, v.hi) : v;
    }
    h.v.push_back(operand(n->args[1]));
    h.out.push_back(dim_new("attn" + std::to_string(h.sub / 2) + ":" + n->label()));
    lin[n] = {{h.out.back(), 1.0}};
    ready[n] = h.sub + 1;
  }
  void map_node(const Node* n);
  void aggregate_node(const Node* n);
  void gather(const Node* n, const Node* sel);
  void soft(const Node* n, const Node* sel);
};

void RealCompiler::map_node(const Node* n) {
  auto a = [&](size_t k) { return n->args[k]; };
  int t = 0;
  for (const Node* x : n->args) t = std::max(t, time_of(x));
  unit_ready = t;
  Lin out;
  const bool relu = opt.relu;
  ValueSet vs;  // ReLU mode: the node's value set
  auto sets_of = [&](size_t k) { return relu ? set_of(a(k)) : ValueSet{}; };
  switch (n->map_op) {
    case MapOp::Add: case MapOp::Sub: {
      double sign = n->map_op == MapOp::Add ? 1.0 : -1.0;
      lin_add(out, operand(a(0)), 1.0);
      lin_add(out, operand(a(1)), sign);
      if (relu) vs = vs_combine(sets_of(0), sets_of(1), [sign](double x, double y) { return x + sign * y; });
      break;
    }
    case MapOp::Neg:
      lin_add(out, operand(a(0)), -1.0);
      if (relu) vs = vs_combine(sets_of(0), vs_make({-1.0}), [](double x, double y) { return x * y; });
      break;
    case MapOp::Pos: out = operand(a(0)); if (relu) vs = sets_of(0); break;
    case MapOp::Mul:
      if (a(0)->is_const() || a(1)->is_const()) {
        const Node* c = a(0)->is_const() ? a(0) : a(1);
        const Node* x = c == a(0) ? a(1) : a(0);
        Lin cl = operand(c);
        lin_add(out, operand(x), cl.empty() ? 0.0 : cl.begin()->second);
      } else if (relu) {
        out = relu_product(operand(a(0)), sets_of(0), operand(a(1)), sets_of(1), t, n->label(), n);
      } else {
        out = unit(operand(a(0)), operand(a(1)), t, n->label());
      }
      if (relu) vs = vs_combine(sets_of(0), sets_of(1), [](double x, double y) { return x * y; });
      break;
    case MapOp::Div:
      if (!a(1)->is_const() || operand(a(1)).empty()) {
        problem(n, "division by a real or positional s-op (or by 0) is not bilinear");
        return;
      }
      lin_add(out, operand(a(0)), 1.0 / operand(a(1)).begin()->second);
      if (relu) vs = vs_combine(sets_of(0), sets_of(1), [](double x, double y) { return x / y; });
      break;
    case MapOp::IfElse: {  // then, cond, else: then * [cond] + else * (1 - [cond])
      if (!is_pos[a(1)]) {
        problem(n, "the condition of 'x if c else y' must be positional (a function of indices) here");
        return;
      }
      int c = feature(a(1), 2);
      if (relu) {  // the union of both branches' values
        ValueSet e = sets_of(2), th = sets_of(0);
        if (th.finite && e.finite) {
          std::vector<double> u = th.v;
          u.insert(u.end(), e.v.begin(), e.v.end());
          vs = vs_make(u);
        } else {
          vs = vs_bounds(std::min(th.lo, e.lo), std::max(th.hi, e.hi));
        }
      }
      for (int branch : {0, 2}) {
        const Node* x = a(static_cast<size_t>(branch));
        Lin gate = branch == 0 ? Lin{{c, 1.0}} : Lin{{one, 1.0}, {c, -1.0}};
        if (is_pos[x]) {
          std::vector<double> v = pos_numbers(x), g = pos_values[static_cast<size_t>(c)];
          bool zero = true;
          for (size_t p = 0; p < v.size(); ++p) zero = zero && (v[p] = v[p] * (branch == 0 ? g[p] : 1 - g[p])) == 0;
          if (!zero) out[dim_new("pos:" + n->label() + (branch == 0 ? "#then" : "#else"), v)] += 1.0;
        } else {
          std::string label = n->label() + (branch == 0 ? "#then" : "#else");
          lin_add(out, relu ? relu_gate(operand(x), set_of(x), gate, t, label) : unit(operand(x), gate, t, label), 1.0);
        }
      }
      break;
    }
    default:
      problem(n, "'" + rasp::map_op_str(n->map_op) + "' of a real s-op is not linear or bilinear");
      return;
  }
  lin[n] = out;
  ready[n] = unit_ready;
  if (relu) sets[n] = vs;
}

void RealCompiler::gather(const Node* n, const Node* sel) {
  if (sel->kind != NodeKind::Select || sel->cmp != rasp::Cmp::Eq) {
    problem(n, "a positional selector must be select(k, q, ==) to be a gather (got " + sel->label() + ")");
    return;
  }
  const Node *k = sel->args[0], *q = sel->args[1];
  std::vector<double> kv = pos_numbers(k), qv = pos_numbers(q);
  const rasp::BitMatrix& m = pos.selectors.at(sel);
  double gap = HUGE_VAL;
  for (size_t i = 0; i < m.n; ++i) {
    bool any = false;
    for (size_t j = 0; j < m.n; ++j) {
      if (m.get(i, j)) any = true;
      else gap = std::min(gap, (kv[j] - qv[i]) * (kv[j] - qv[i]));
    }
    if (!any) {
      problem(n, "query " + std::to_string(i) + " selects no key (real mode has no BOS default: clamp the target)");
      return;
    }
  }
  double lambda = std::isfinite(gap) ? opt.gather_margin / gap : 1.0;
  if (head_reuse(n, {k, q}, first_at_or_after(time_of(n->args[1]), 0))) return;
  HeadBlock h;
  // score = lambda * (2 k_j q_i - k_j^2) = lambda * (q_i^2 - (k_j - q_i)^2): maximal exactly on the selected keys
  Lin ql = operand(q), kl = operand(k);
  for (auto& [d, c] : ql) c *= 2 * lambda;
  h.q = {ql, {{one, -lambda}}};
  h.k = {kl, k->is_const() ? Lin{{one, kv[0] * kv[0]}} : Lin{{feature(k, 1), 1.0}}};
  h.sub = first_at_or_after(time_of(n->args[1]), 0);
  head_add(n, {k, q}, std::move(h));
  ++gathers;
}

void RealCompiler::soft(const Node* n, const Node* sel) {
  size_t m = sel->args.size() / 2;
  {
    int t0 = time_of(n->args[1]);
    for (const Node* x : sel->args)
      if (!x->is_selector()) t0 = std::max(t0, time_of(x));
    if (head_reuse(n, {sel}, first_at_or_after(t0, 0))) return;
  }
  HeadBlock h;
  double scale = std::get<double>(sel->constant.atom);
  int t = time_of(n->args[1]);
  for (size_t c = 0; c < m; ++c) {
    Lin kl = operand(sel->args[c]), ql = operand(sel->args[m + c]);
    for (auto& [d, v] : ql) v *= scale;
    h.q.push_back(ql);
    h.k.push_back(kl);
    t = std::max({t, time_of(sel->args[c]), time_of(sel->args[m + c])});
  }
  if (sel->args.size() % 2) {
    const Node* mask = sel->args.back();
    if (mask->kind != NodeKind::Select || mask->cmp != rasp::Cmp::Eq || !is_pos[mask->args[0]] ||
        !mask->args[1]->is_const()) {
      problem(n, "a softmax_select mask must be select(positional keys, constant, ==) (a key-only mask)");
      return;
    }
    const rasp::BitMatrix& mm = pos.selectors.at(mask);
    std::vector<double> ind(mm.n, 0.0);
    for (size_t j = 0; j < mm.n; ++j) ind[j] = mm.get(0, j) ? 1.0 : 0.0;
    if (std::count(ind.begin(), ind.end(), 1.0) == 0) {
      problem(n, "the softmax_select mask selects no key");
      return;
    }
    h.q.push_back({{one, opt.mask_bonus}});
    h.k.push_back({{dim_new("pos:" + mask->label(), ind), 1.0}});
  }
  h.sub = first_at_or_after(t, 0);
  head_add(n, {sel}, std::move(h));
  ++softs;
}

void RealCompiler::aggregate_node(const Node* n) {
  const Node* sel = n->args[0];
  if (sel->kind == NodeKind::SoftSelect) soft(n, sel);
  else if (is_pos[sel]) gather(n, sel);
  else problem(n, "a selector that compares real values cannot be compiled (use softmax_select)");
}

// One residual dimension per label; layer l holds the heads of sub-layer 2l and the units of 2l + 1.
RealCompiled real_assemble(const RealCompiler& rc, const Node* target) {
  int n_sub = 1;
  for (const HeadBlock& h : rc.heads) n_sub = std::max(n_sub, h.sub + 1);
  for (const UnitBlock& u : rc.units) n_sub = std::max(n_sub, u.sub + 1);
  for (const ReluUnit& u : rc.relus) n_sub = std::max(n_sub, u.sub + 1);
  const int n_layers = (n_sub + 1) / 2;
  std::vector<std::vector<const HeadBlock*>> layer_heads(n_layers);
  std::vector<std::vector<const UnitBlock*>> layer_units(n_layers);
  int64_t D = 1, H = 1, M = 1;
  for (const HeadBlock& h : rc.heads) {
    layer_heads[h.sub / 2].push_back(&h);
    D = std::max<int64_t>({D, static_cast<int64_t>(h.q.size()), static_cast<int64_t>(h.v.size())});
  }
  for (const UnitBlock& u : rc.units) layer_units[u.sub / 2].push_back(&u);
  std::vector<std::vector<const ReluUnit*>> layer_relus(n_layers);
  for (const ReluUnit& u : rc.relus) layer_relus[u.sub / 2].push_back(&u);
  for (int l = 0; l < n_layers; ++l) {
    H = std::max<int64_t>(H, static_cast<int64_t>(layer_heads[l].size()));
    M = std::max<int64_t>(
        {M, static_cast<int64_t>(layer_units[l].size()), static_cast<int64_t>(layer_relus[l].size())});
  }
  ModelConfig c;
  c.n_layers = n_layers;
  c.d_model = static_cast<int>(rc.labels.size());
  c.n_heads = static_cast<int>(H);
  c.d_head = static_cast<int>(D);
  c.d_mlp = static_cast<int>(M);
  c.d_vocab = 0;
  c.d_in_num = 1;
  c.d_vocab_out = 1;
  c.output = OutputKind::Numeric;
  c.n_ctx = static_cast<int>(rc.opt.length);
  c.act_fn = rc.opt.relu ? MlpKind::Relu : MlpKind::Bilinear;
  c.normalization = NormKind::None;
  c.pos_embed = PosEmbedKind::Learned;
  c.attn_scale = 1.0;
  c.residual_labels = rc.labels;
  c.producer = "attnlab compile (real-valued mode)";
  RealCompiled out;
  out.config = c;
  out.residual_labels = rc.labels;
  out.gathers = rc.gathers;
  out.soft_heads = rc.softs;
  out.bilinear_units = static_cast<int64_t>(rc.units.size());
  for (const auto& v : rc.pos_values) out.positional_dims += v.empty() ? 0 : 1;
  for (int l = 0; l < n_layers; ++l) {
    out.heads_per_layer.push_back(static_cast<int64_t>(layer_heads[l].size()));
    out.units_per_layer.push_back(static_cast<int64_t>(layer_units[l].size() + layer_relus[l].size()));
  }
  for (const auto& [name, shape] : config_tensor_shapes(c)) {
    int64_t k = 1;
    for (int64_t x : shape) k *= x;
    out.parameters += k;
  }
  if (rc.opt.plan_only) return out;
  out.model = model_create(c, torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto P = out.model->named_parameters();
  auto put = [](torch::Tensor t, const Lin& l, auto&& index) {
    auto a = t.accessor<double, 3>();
    for (auto [d, v] : l) index(a, d) += v;
  };
  auto W_pos = P["pos_embed.W_pos"].accessor<double, 2>();
  for (size_t d = 0; d < rc.pos_values.size(); ++d)
    for (size_t p = 0; p < rc.pos_values[d].size(); ++p)
      W_pos[static_cast<int64_t>(p)][static_cast<int64_t>(d)] = rc.pos_values[d][p];
  P["embed.W_in_num"].accessor<double, 2>()[0][rc.tok] = 1.0;
  for (int l = 0; l < n_layers; ++l) {
    std::string b = "blocks." + std::to_string(l) + ".";
    for (size_t hi = 0; hi < layer_heads[l].size(); ++hi) {
      const HeadBlock& h = *layer_heads[l][hi];
      int64_t i = static_cast<int64_t>(hi);
      for (size_t cpt = 0; cpt < h.q.size(); ++cpt) {
        int64_t k = static_cast<int64_t>(cpt);
        put(P[b + "attn.W_Q"], h.q[cpt], [&](auto& a, int d) -> double& { return a[i][d][k]; });
        put(P[b + "attn.W_K"], h.k[cpt], [&](auto& a, int d) -> double& { return a[i][d][k]; });
      }
      for (size_t cpt = 0; cpt < h.v.size(); ++cpt) {
        int64_t k = static_cast<int64_t>(cpt);
        put(P[b + "attn.W_V"], h.v[cpt], [&](auto& a, int d) -> double& { return a[i][d][k]; });
        P[b + "attn.W_O"].accessor<double, 3>()[i][k][h.out[cpt]] = 1.0;
      }
    }
    auto W_in = P[b + "mlp.W_in"].accessor<double, 2>();
    auto W_out = P[b + "mlp.W_out"].accessor<double, 2>();
    for (size_t ui = 0; ui < layer_relus[l].size(); ++ui) {
      const ReluUnit& u = *layer_relus[l][ui];
      int64_t j = static_cast<int64_t>(ui);
      for (auto [d, v] : u.a) W_in[d][j] += v;
      W_out[j][u.out] += u.w;
    }
    if (rc.opt.relu) continue;
    auto W_gate = P[b + "mlp.W_gate"].accessor<double, 2>();
    for (size_t ui = 0; ui < layer_units[l].size(); ++ui) {
      const UnitBlock& u = *layer_units[l][ui];
      int64_t j = static_cast<int64_t>(ui);
      for (auto [d, v] : u.a) W_in[d][j] += v;
      for (auto [d, v] : u.b) W_gate[d][j] += v;
      W_out[j][u.out] = 1.0;
    }
  }
  auto W_U = P["unembed.W_U"].accessor<double, 2>();
  for (auto [d, v] : rc.lin.at(target)) W_U[d][0] += v;
  return out;
}

}  // namespace

RealCompiled compile_real(const Node* target, const RealCompileOptions& opt) {
  if (opt.length < 1) throw Error("compile_real: the input length must be >= 1", "");
  if (opt.relu && opt.grid.empty())
    throw Error("compile_real: ReLU mode needs the grid of input values", "pass the grid, e.g. {-1, -0.5, 0, 0.5, 1}");
  RealCompiler rc;
  rc.opt = opt;
  std::vector<const Node*> order = rasp::graph_topo({target});
  std::vector<const Node*> pos_targets;
  for (const Node* n : order) {
    bool p = n->kind != NodeKind::Tokens && n->kind != NodeKind::SoftSelect;
    for (const Node* a : n->args) p = p && rc.is_pos[a];
    rc.is_pos[n] = p;
    if (p) pos_targets.push_back(n);
  }
  rasp::EvalOptions eo;
  eo.keep_selectors = true;
  rc.pos = rasp::evaluate(pos_targets, std::vector<rasp::Atom>(static_cast<size_t>(opt.length), rasp::Atom{0.0}), eo);
  rc.one = rc.dim_new("one", std::vector<double>(static_cast<size_t>(opt.length), 1.0));
  rc.tok = rc.dim_new("tokens_float");
  for (const Node* n : order) {
    if (rc.is_pos[n] || n->is_selector()) continue;
    switch (n->kind) {
      case NodeKind::Tokens:
        rc.lin[n] = {{rc.tok, 1.0}};
        rc.ready[n] = 0;
        if (opt.relu) rc.sets[n] = vs_make(opt.grid);
        break;
      case NodeKind::Map: rc.map_node(n); break;
      case NodeKind::Aggregate: rc.aggregate_node(n); break;
      default: rc.problem(n, "selector_width of a real selector cannot be compiled");
    }
    if (!rc.problems.empty() && !rc.lin.count(n)) rc.lin[n] = {}, rc.ready[n] = 0;  // keep collecting problems
    if (opt.relu && !rc.sets.count(n)) rc.sets[n] = vs_bounds(0, 0);
  }
  if (rc.is_pos[target]) rc.problems.push_back(target->label() + ": the output does not depend on the input");
  if (!rc.problems.empty()) {
    std::string msg =
        "the real-valued compiler cannot compile " + std::to_string(rc.problems.size()) + " construct(s):";
    for (const std::string& p : rc.problems) msg += "\n  " + p;
    throw Error(msg,
                "real mode supports sums, products, positional gathers and softmax_select (see universal_compile.h)");
  }
  return real_assemble(rc, target);
}


}  // namespace attnlab
