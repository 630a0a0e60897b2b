// Built-in verification: the compiled model against the interpreter, on every input of each length whose
// input space is small (|V|^n <= exhaustive_limit) and on `samples` random inputs of every other length.
// Inputs on which the interpreter itself raises an error (e.g. a categorical aggregate whose selected values
// disagree) are outside the program's domain and are counted, not compared. A mismatch is localised: the
// failing input is rerun with the residual stream cached, and every leaf s-op is decoded from its subspace
// right after the sub-layer that writes it and compared with the interpreter's value of that s-op.
#include "compiler/verify.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "compiler/blocks.h"
#include "model/hooks.h"
#include "rasp/eval.h"
#include "util/error.h"

namespace attnlab::compiler {

namespace {

// The residual stream right after `stage` ([1, T, R]).
torch::Tensor resid_after(const Plan& p, const Hooks& hooks, int stage) {
  if (p.n_layers == 0) return hooks.cached("hook_embed") + hooks.cached("hook_pos_embed");
  if (stage == 0) return hooks.cached("blocks.0.hook_resid_pre");
  int layer = (stage + 1) / 2 - 1;
  std::string b = "blocks." + std::to_string(layer) + ".";
  if (stage % 2 == 1 && p.d_mlp > 0) return hooks.cached(b + "hook_resid_mid");
  return hooks.cached(b + "hook_resid_post");
}

double affine_at(const Plan& p, const Affine& a, const torch::TensorAccessor<double, 1>& r) {
  double v = a.c;
  for (const Term& t : a.terms) v += t.coef * r[p.resid_index(t)];
  return v;
}

int leaf_stage(const Plan& p, const Leaf& l) {
  int s = 0;
  auto see = [&](const Affine& a) {
    for (const Term& t : a.terms) s = std::max(s, p.sources[static_cast<size_t>(t.source)].stage);
  };
  for (const auto& [v, a] : l.ind) see(a);
  if (l.num) see(*l.num);
  return s;
}

std::string stage_str(int stage) {
  if (stage == 0) return "the embedding";
  return "layer " + std::to_string((stage + 1) / 2 - 1) + (stage % 2 ? " attention" : " MLP");
}

}  // namespace

std::string verify_diagnose(const Plan& p, const SequenceModel& model, const std::vector<Atom>& input) {
  rasp::EvalOptions eo;
  eo.max_len = static_cast<size_t>(p.opt.max_len);
  rasp::Evaluation ev = rasp::evaluate({p.target}, input, eo);
  const auto& cfg = model->config();
  std::vector<int64_t> ids{0};
  for (const Atom& a : input)
    for (size_t i = 0; i < p.opt.vocab.size(); ++i)
      if (p.opt.vocab[i] == std::get<std::string>(a)) ids.push_back(static_cast<int64_t>(i) + 1);
  ModelInput in;
  in.tokens = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  Hooks hooks;
  hooks.cache_add("*hook_resid_*");
  hooks.cache_add("hook_embed");
  hooks.cache_add("hook_pos_embed");
  torch::NoGradGuard no_grad;
  model->forward(in, &hooks);
  (void)cfg;
  std::vector<const Leaf*> order;
  for (const auto& l : p.leaves)
    if (l->node && ev.values.count(l->node) && (!l->ind.empty() || l->num)) order.push_back(l.get());
  std::stable_sort(order.begin(), order.end(),
                   [&](const Leaf* a, const Leaf* b) { return leaf_stage(p, *a) < leaf_stage(p, *b); });
  for (const Leaf* l : order) {
    int stage = leaf_stage(p, *l);
    auto r = resid_after(p, hooks, stage).to(torch::kFloat64).select(0, 0).contiguous();
    auto acc = r.accessor<double, 2>();
    const auto& col = ev.at(l->node);
    for (size_t pos = 0; pos < col.size(); ++pos) {
      auto row = acc[static_cast<int64_t>(pos) + 1];
      std::string got;
      bool same = false;
      if (!l->ind.empty()) {
        double best = -1e300;
        Atom arg;
        for (const auto& [v, a] : l->ind) {
          double x = affine_at(p, a, row);
          if (x > best) { best = x; arg = v; }
        }
        same = rasp::atom_equal(arg, col[pos]);
        got = rasp::atom_repr(arg);
      } else {
        double x = affine_at(p, *l->num, row);
        same = std::fabs(x - atom_number(col[pos])) <= 1e-6 * std::max(1.0, std::fabs(x));
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.12g", x);
        got = buf;
      }
      if (same) continue;
      const Source* src = nullptr;
      for (const auto& [v, a] : l->ind)
        for (const Term& t : a.terms) src = &p.sources[static_cast<size_t>(t.source)];
      if (l->num)
        for (const Term& t : l->num->terms) src = &p.sources[static_cast<size_t>(t.source)];
      std::string dims = src ? src->name + " [dims " + std::to_string(src->offset) + ".." +
                                   std::to_string(src->offset + src->width() - 1) + "]"
                             : "(no residual dims)";
      return "first divergence after " + stage_str(stage) + ": s-op '" + l->node->label() + "' at position " +
             std::to_string(pos) + ": interpreter " + rasp::atom_repr(col[pos]) + ", model " + got +
             " (residual subspace " + dims + ")";
    }
  }
  return "every intermediate s-op agrees; the divergence is in the unembedding";
}

VerifyResult compiled_verify(const Plan& p, const SequenceModel& model, const VerifyOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  VerifyResult res;
  std::mt19937_64 rng(o.seed);
  const size_t V = p.opt.vocab.size();
  rasp::EvalOptions eo;
  eo.max_len = static_cast<size_t>(p.opt.max_len);
  torch::NoGradGuard no_grad;
  for (int n = 1; n <= p.opt.max_len; ++n) {
    double space = std::pow(static_cast<double>(V), n);
    bool all = space <= static_cast<double>(o.exhaustive_limit);
    size_t count = all ? static_cast<size_t>(space) : static_cast<size_t>(o.samples);
    if (all) res.exhaustive_lengths.push_back(n);
    std::vector<std::vector<int64_t>> batch_ids;
    std::vector<std::vector<Atom>> batch_in;
    std::vector<rasp::Column> batch_out;
    auto flush = [&] {
      if (batch_ids.empty()) return;
      auto ids = torch::empty({static_cast<int64_t>(batch_ids.size()), n + 1}, torch::kInt64);
      auto ia = ids.accessor<int64_t, 2>();
      for (size_t b = 0; b < batch_ids.size(); ++b)
        for (int t = 0; t <= n; ++t) ia[static_cast<int64_t>(b)][t] = batch_ids[b][static_cast<size_t>(t)];
      ModelInput in;
      in.tokens = ids;
      auto logits = model->forward(in, nullptr).to(torch::kFloat64).contiguous();  // [B, n+1, O]
      auto la = logits.accessor<double, 3>();
      for (size_t b = 0; b < batch_ids.size(); ++b) {
        bool bad = false;
        for (int t = 1; t <= n && !bad; ++t) {
          const Atom& want = batch_out[b][static_cast<size_t>(t - 1)];
          ++res.positions;
          if (p.numeric_output) {
            double err = std::fabs(la[static_cast<int64_t>(b)][t][0] - atom_number(want));
            if (!std::isfinite(err)) err = INFINITY;
            res.max_abs_error = std::max(res.max_abs_error, err);
            bad = err > o.num_tol;
          } else {
            int64_t best = 0;
            for (int64_t k = 1; k < logits.size(2); ++k)
              if (la[static_cast<int64_t>(b)][t][k] > la[static_cast<int64_t>(b)][t][best]) best = k;
            bad = !rasp::atom_equal(p.out_values[static_cast<size_t>(best)], want);
            // how far the logits are from exact indicators (0 / 1)
            for (int64_t k = 0; k < logits.size(2); ++k) {
              double ideal = rasp::atom_equal(p.out_values[static_cast<size_t>(k)], want) ? 1.0 : 0.0;
              res.max_abs_error = std::max(res.max_abs_error, std::fabs(la[static_cast<int64_t>(b)][t][k] - ideal));
            }
          }
        }
        if (bad && res.mismatches++ == 0) {
          std::string text;
          for (const Atom& a : batch_in[b]) text += (text.empty() ? "" : " ") + std::get<std::string>(a);
          res.first_input = text;
          res.first_mismatch = verify_diagnose(p, model, batch_in[b]);
        }
      }
      batch_ids.clear();
      batch_in.clear();
      batch_out.clear();
    };
    for (size_t c = 0; c < count; ++c) {
      std::vector<int64_t> ids{0};
      std::vector<Atom> in;
      size_t code = c;
      for (int t = 0; t < n; ++t) {
        size_t tok = all ? code % V : static_cast<size_t>(rng() % V);
        code /= V;
        ids.push_back(static_cast<int64_t>(tok) + 1);
        in.push_back(Atom{p.opt.vocab[tok]});
      }
      ++res.inputs;
      try {
        rasp::Evaluation ev = rasp::evaluate({p.target}, in, eo);
        batch_out.push_back(ev.at(p.target));
      } catch (const Error&) {
        ++res.outside_domain;
        continue;
      }
      batch_ids.push_back(std::move(ids));
      batch_in.push_back(std::move(in));
      if (batch_ids.size() >= 2048) flush();
    }
    flush();
    if (o.progress)
      std::fprintf(stderr, "\rverify: length %d/%d, %lld inputs, %lld mismatches", n, p.opt.max_len,
                   static_cast<long long>(res.inputs), static_cast<long long>(res.mismatches));
  }
  if (o.progress) std::fprintf(stderr, "\n");
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace attnlab::compiler
