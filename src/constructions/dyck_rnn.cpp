#include "constructions/dyck_rnn.h"

#include <chrono>
#include <cmath>
#include <map>

#include "constructions/construct_common.h"
#include "util/error.h"

namespace attnlab {

nlohmann::json DyckRnnBuild::report() const {
  const auto& c = model->config();
  return {{"construction", "dyck-rnn"}, {"hidden_size", c.d_hidden}, {"states", states},
          {"precision_bits", precision_bits}, {"parameters", model_parameter_count(model)}};
}

namespace {

struct DyckAutomaton {
  std::vector<std::vector<int64_t>> stacks;          // state id -> stack (dead = last id, empty stack)
  std::map<std::vector<int64_t>, int64_t> id;        // stack -> state id
  int64_t dead = 0;
  std::vector<std::vector<int64_t>> delta;           // [state][symbol] -> state
};

DyckAutomaton dyck_automaton(const DyckSpec& s) {
  DyckAutomaton a;
  std::vector<std::vector<int64_t>> frontier = {{}};
  for (int64_t h = 0; h <= s.m; ++h) {
    std::vector<std::vector<int64_t>> next;
    for (auto& st : frontier) {
      a.id[st] = static_cast<int64_t>(a.stacks.size());
      a.stacks.push_back(st);
      check(a.stacks.size() <= 4096, "Dyck RNN: Dyck-(" + std::to_string(s.k) + ", " + std::to_string(s.m) +
            ") has more than 4096 stack states", "use smaller k or m (the hidden size is states x 2k)");
      if (h < s.m)
        for (int64_t j = 0; j < s.k; ++j) {
          next.push_back(st);
          next.back().push_back(j);
        }
    }
    frontier = std::move(next);
  }
  a.dead = static_cast<int64_t>(a.stacks.size());
  a.delta.assign(a.dead + 1, std::vector<int64_t>(2 * s.k, a.dead));
  for (int64_t q = 0; q < a.dead; ++q)
    for (int64_t sym = 0; sym < 2 * s.k; ++sym) {
      auto st = a.stacks[q];
      if (sym % 2 == 0 && static_cast<int64_t>(st.size()) < s.m) {
        st.push_back(sym / 2);
      } else if (sym % 2 == 1 && !st.empty() && st.back() == sym / 2) {
        st.pop_back();
      } else {
        continue;  // dead
      }
      a.delta[q][sym] = a.id.at(st);
    }
  return a;
}

}  // namespace

DyckRnnBuild dyck_rnn_build(const DyckSpec& spec) {
  dyck_validate(spec);
  DyckAutomaton a = dyck_automaton(spec);
  const int64_t Q = a.dead + 1, S = 2 * spec.k, Hd = Q * S, q0 = 0;  // q0 = the empty stack
  ModelConfig cfg;
  cfg.model_type = ModelType::Rnn;
  cfg.nonlinearity = "relu";
  cfg.n_layers = 1;
  cfg.d_model = static_cast<int>(S);
  cfg.d_hidden = static_cast<int>(Hd);
  cfg.d_vocab = static_cast<int>(S);
  cfg.d_vocab_out = 2;
  cfg.n_ctx = 0;
  cfg.pos_embed = PosEmbedKind::None;
  cfg.readout = Readout::PerPosition;
  cfg.vocab = dyck_vocab(spec);
  cfg.vocab_out = dyck_vocab_out();
  cfg.producer = "attnlab construct dyck-rnn";
  cfg.provenance = {{"construction", "dyck-rnn"}, {"paper", "Bhattamishra et al. 2024, arXiv 2406.09347"},
                    {"k", spec.k}, {"m", spec.m}};
  DyckRnnBuild b;
  b.states = Q;
  b.model = model_create(cfg, torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto p = b.model->named_parameters();
  p["embed.W_E"].copy_(torch::eye(S, torch::kFloat64));
  check(Hd <= 4096, "Dyck RNN: hidden size " + std::to_string(Hd) + " (states x 2k) is above 4096",
        "use smaller k or m");
  auto W_ih = p["rnn.weight_ih_l0"].accessor<double, 2>(), W_hh = p["rnn.weight_hh_l0"].accessor<double, 2>();
  auto b_ih = p["rnn.bias_ih_l0"].accessor<double, 1>();
  auto W_U = p["unembed.W_U"].accessor<double, 2>();
  for (int64_t qn = 0; qn < Q; ++qn)
    for (int64_t sn = 0; sn < S; ++sn) {
      const int64_t u = qn * S + sn;
      const double from_start = a.delta[q0][sn] == qn ? 1.0 : 0.0;
      W_ih[u][sn] = 1.0;
      b_ih[u] = from_start - 1.0;
      for (int64_t q = 0; q < Q; ++q) {
        const double w = (a.delta[q][sn] == qn ? 1.0 : 0.0) - from_start;
        if (w != 0)
          for (int64_t s = 0; s < S; ++s) W_hh[u][q * S + s] = w;
      }
      W_U[u][qn == q0 ? 1 : 0] = 1.0;
    }
  b.model->config_mut().provenance["report"] = b.report();
  return b;
}

nlohmann::json DyckVerifyResult::to_json() const {
  return {{"dtype", dtype}, {"exhaustive_len", exhaustive_len}, {"exhaustive_strings", exhaustive_strings},
          {"exhaustive_wrong", exhaustive_wrong}, {"random_len", random_len}, {"random_strings", random_strings},
          {"random_prefixes", random_prefixes}, {"random_wrong", random_wrong}, {"seconds", seconds}};
}

// Runs the model on rows of `ids` ([B, L]) and counts prefixes whose verdict differs from dyck_member.
static int64_t dyck_wrong_prefixes(const SequenceModel& model, const DyckSpec& spec, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  auto pred = model->forward({ids, {}}).argmax(-1).contiguous();  // [B, L]
  auto ids_c = ids.contiguous();
  const int64_t B = ids.size(0), L = ids.size(1);
  const int64_t* x = ids_c.data_ptr<int64_t>();
  const int64_t* y = pred.data_ptr<int64_t>();
  int64_t wrong = 0;
  std::vector<int64_t> stack;
  for (int64_t b = 0; b < B; ++b) {
    stack.clear();
    bool dead = false;
    for (int64_t t = 0; t < L; ++t) {  // incremental membership of every prefix
      int64_t s = x[b * L + t];
      if (dead) {
      } else if (s % 2 == 0 && static_cast<int64_t>(stack.size()) < spec.m) {
        stack.push_back(s / 2);
      } else if (s % 2 == 1 && !stack.empty() && stack.back() == s / 2) {
        stack.pop_back();
      } else {
        dead = true;
      }
      wrong += y[b * L + t] != ((!dead && stack.empty()) ? 1 : 0);
    }
  }
  return wrong;
}

static DyckVerifyResult dyck_verify_one(const SequenceModel& model, const DyckSpec& spec, int64_t L,
                                        int64_t random_len, int64_t random_count, uint64_t seed) {
  DyckVerifyResult r;
  auto t0 = std::chrono::steady_clock::now();
  r.dtype = model->parameters()[0].scalar_type() == torch::kFloat32 ? "f32" : "f64";
  const int64_t S = 2 * spec.k;
  r.exhaustive_len = L;
  r.exhaustive_strings = static_cast<int64_t>(std::llround(std::pow(static_cast<double>(S), static_cast<double>(L))));
  const int64_t chunk = 1 << 16;
  for (int64_t c0 = 0; c0 < r.exhaustive_strings; c0 += chunk) {
    const int64_t n = std::min(chunk, r.exhaustive_strings - c0);
    auto code = torch::arange(c0, c0 + n, torch::kInt64).unsqueeze(1);  // string = base-S digits of its index
    auto pw = torch::pow(torch::full({L}, S, torch::kInt64), torch::arange(L, torch::kInt64)).unsqueeze(0);
    r.exhaustive_wrong += dyck_wrong_prefixes(model, spec, torch::floor_divide(code, pw).remainder(S));
  }
  if (random_count > 0) {
    TaskBatch rb = dyck_sample(spec, random_len, random_count, seed);
    std::vector<int64_t> flat;
    for (auto& e : rb.examples) flat.insert(flat.end(), e.tokens.begin(), e.tokens.end());
    r.random_len = random_len;
    r.random_strings = random_count;
    r.random_prefixes = random_count * random_len;
    r.random_wrong = dyck_wrong_prefixes(model, spec, torch::tensor(flat, torch::kInt64).view({random_count, random_len}));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<DyckVerifyResult> dyck_rnn_verify(const DyckRnnBuild& b, const DyckSpec& spec, int64_t max_len,
                                              int64_t random_len, int64_t random_count, uint64_t seed) {
  check(max_len >= 1, "Dyck verify: length " + std::to_string(max_len) + " (must be >= 1)", "pass --max-len 1 or more");
  int64_t L = max_len;
  while (L > 1 && std::pow(2.0 * spec.k, static_cast<double>(L)) > 16777216.0) --L;
  std::vector<DyckVerifyResult> out;
  out.push_back(dyck_verify_one(model_copy_as(b.model, torch::kFloat32), spec, L, random_len, random_count, seed));
  out.push_back(dyck_verify_one(b.model, spec, L, random_len, random_count, seed));
  return out;
}

}  // namespace attnlab
