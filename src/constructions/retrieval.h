// Variable-chain retrieval in logarithmic depth by pointer jumping: an explicit bidirectional, attention-only
// transformer for the task of tasks/retrieval.h ("u1 c  u2 u1 ... uD uD-1 (+ distractors, shuffled) ? uD" ->
// c). It relates to Musat 2024 (arXiv 2411.12118): the answer can appear at the query only at a layer
// t >= log3(2D). This model puts it there after 1 + ceil(log3(2D)) layers: ceil(log3(2D)) lookup layers, which
// meets the bound exactly, plus one layer that moves each statement's lhs onto its rhs position.
//
// Elements: the rhs position of the depth-k statement of a chain is element k (it holds u_{k-1}, or the value
// c when k = 1); the query position is element D + 1 of the main chain. Slots (one-hot, K = variables,
// W = values): TOK [K] (the variable token; = START_0), VAL [W] (the value token; accumulated by every layer),
// NAME [K] (lhs variable of the statement, written by layer 0), START_l, END_l [K] (one pair per lookup layer),
// and ONE, POS = t - n_ctx/2, POS2 = POS^2, IS_LHS (even t; "?" cancels it), IS_SINK ("?" token).
// Invariant after lookup layer l, element k of a chain of m statements (elements 1..m; the query is m + 1):
//   START_l = u_{k - b_l} (0 and VAL = c once k - b_l <= 0: "resolved"),  END_l = u_{k + f_l} (0 once > m),
//   b_0 = 1, f_0 = 0;  b_{l+1} = 2 b_l + f_l,  f_{l+1} = b_l + 2 f_l,  so b_l = (3^l + 1) / 2, f_l = b_l - 1.
// Lookup layer l + 1 has two heads (q·k in units of the scale β; keys at lhs positions get -6β / -4β):
//   backward: q = START_l, key = 4·END_l + 2·NAME + 1·IS_SINK. The element whose END is my START (hop 3^l)
//     wins; if there is none (it would lie below element 1), the element named my START, which is then resolved
//     (fallback); a resolved row (START = 0) reads the "?" sink. Reads START_l -> START_{l+1}, VAL -> VAL (+=).
//   forward: q = END_l, key = 4·START_l + IS_SINK: the element whose START is my END (hop 3^l), else the sink.
//     Reads END_l -> END_{l+1}. Unused (zero weights) in the last layer.
// The query resolves when b_n >= D + 1, i.e. 3^n >= 2D + 1, i.e. n = ceil(log3(2D)) (2D is never a power of
// 3). Scheme "doubling": one head per layer, the backward head with END = NAME, b_l = 2^l, n = ceil(log2(D+1)).
// Layer 0: key/query POS, POS2 give score β(POS_{t-1}^2 - (POS_s - POS_{t-1})^2): every position reads t - 1
// (gap β); "?" reads itself (bonus 3β), so its NAME stays 0. Unembedding: logit_c = VAL_c at the query.
// Margin: every NAME/START/END slot is a convex combination of one-hot vectors (VAL sums them); with per-layer leak
// ε = (T-1)e^{-β(1-10η)} and η = Lε the target beats every key by >= β(1 - 10η) (the lhs penalties make lhs
// keys score <= 0), and the logit margin is >= 1 - 2·L·2^L·ε. β = 1.01(ln(n_ctx) + ln L + L ln 2 + ln 1000)
// makes ε·L·2^L <= 1e-3: margin >= 0.99 in exact arithmetic. f32: layer-0 scores reach 3β(n_ctx/2)^2 and their
// rounding (<= 3β·n_ctx^2·2^-24) stays < β/4 for n_ctx <= 1024; above that only f64 is covered by this argument.
//
// Fused encoding (spec.fused; tasks/retrieval.h: one token "lhs=rhs" per statement, the query "?x"): the
// embedding writes NAME = lhs and TOK or VAL = rhs directly, so there is no gather layer and the model has
// exactly ceil(log3(2D)) layers (= the lower bound); a sink token "<sink>" (the model's BOS, first position)
// takes the place of "?" as what resolved rows and unmatched forward reads attend to. Same invariant, same
// heads, same margin argument (no lhs positions, no POS slots).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "constructions/index_lookup.h"  // VerifyResult
#include "model/model.h"
#include "tasks/khop.h"
#include "tasks/retrieval.h"

namespace attnlab {

struct RetrievalBuildOptions {
  RetrievalSpec spec;                // vocabulary (K, W), n_ctx = retrieval_seq_len(spec), D = spec.depth
  std::string scheme = "tripling";   // tripling (2 heads/layer, log3) | doubling (1 head/layer, log2)
  int64_t lookup_layers = 0;         // n; 0 = the fewest that resolve depth spec.depth (fewer: the model fails)
};

struct RetrievalBuild {
  SequenceModel model;       // float64, n_layers = 1 + lookup_layers (fused: lookup_layers, BOS "<sink>")
  std::string scheme;
  int64_t lookup_layers = 0; // n
  int64_t capacity = 0;      // largest D the model resolves: b_n - 1
  double beta = 0;           // the score scale β
  nlohmann::json report() const;
};

// Fewest lookup layers n for depth D: tripling 3^n >= 2D + 1, doubling 2^n >= D + 1.
int64_t retrieval_lookup_layers(int64_t depth, const std::string& scheme);
// Musat's lower bound: the smallest t with 3^t >= 2D (= ceil(log3(2D))).
int64_t retrieval_layer_lower_bound(int64_t depth);
// b_n - 1: the deepest chain n lookup layers resolve ((3^n - 1)/2, or 2^n - 1).
int64_t retrieval_capacity(int64_t lookup_layers, const std::string& scheme);

RetrievalBuild retrieval_build(const RetrievalBuildOptions& opt);

// `count` random instances of `spec` (same K, W, n_ctx as the build; any D) through forward() in f32 and f64;
// correct = argmax at the query equals the generator's answer; margin = logit(answer) - max other logit.
std::vector<VerifyResult> retrieval_verify(const RetrievalBuild& b, const RetrievalSpec& spec, int64_t count,
                                           uint64_t seed);

// ---- k-hop induction (Sanford, Hsu, Telgarsky 2024; tasks/khop.h) in 2 + ceil(log2 k) causal layers -------
// Slots: TOK [A] (symbol), PREV [A] (symbol at t - 1, layer 0, the same POS/POS2 head as above), and per hop
// count v in use a pointer PTR_v (scalar: the centred position of hop^v(t)) with SYM_v [A] (its symbol);
// v = 0 is (POS, TOK). Layer 1 (find): score β·T·[PREV_s = TOK_t] + β·POS_s: the latest s <= t whose previous
// symbol is x_t (gap β), reading POS -> PTR_1, TOK -> SYM_1. Lookup layer m computes hop^v for v in
// need_m = {ceil(v'/2), floor(v'/2) : v' in need_{m+1}} (need_top = {k}, at most 2 values, one head each):
// the head reads at PTR_a (score β(2 PTR_a POS_s - POS_s^2), a = ceil(v/2)) the slots PTR_b, SYM_b (b = floor(v/2)),
// since hop^a then hop^b is hop^v. ceil(log2 k) halvings reach {0, 1}: layers = 2 + ceil(log2 k).
// Margin: pointer drift δ <= L·ε·T keeps the gap β(1 - 2δ); β = 1.01(2 ln T + ln L + ln 1000) makes the logit
// margin >= 0.99 at every defined position. Built for one k (spec.mix must be off). f32: T <= 512.
struct KhopBuild {
  SequenceModel model;       // float64, causal, n_layers = 2 + ceil(log2 k), 2 heads
  int64_t k = 0;
  double beta = 0;
  nlohmann::json report() const;
};

int64_t khop_construction_layers(int64_t k);  // 2 + ceil(log2 k)
KhopBuild khop_build(const KhopSpec& spec);
// `count` strings (khop_sample with a defined last position) in f32 and f64; every position with a target
// (khop_targets) is checked.
std::vector<VerifyResult> khop_verify(const KhopBuild& b, const KhopSpec& spec, int64_t count, uint64_t seed);

}  // namespace attnlab
