// Index lookup with a one-layer transformer of width O(log N + |Σ|) (Bhattamishra et al. 2024, arXiv
// 2406.09347, Theorem 1: a one-layer transformer with width O(log N) and O(log N) precision performs index
// lookup; any RNN needs Ω(N) hidden size). Input: x_0..x_{N-1}, then the query token "@p" (tasks/index_lookup.h).
// Residual (R = |Σ| + k + 1): [symbol one-hot (|Σ|) | position/query code (k) | is_query (1)].
//   W_pos[i] = raw code c_i (i < N), W_pos[N] = 0; W_E[symbol a] = e_a; W_E["@p"] = c_p + e_is_query.
//   head (D = max(k + 1, |Σ|)): q = [code, is_query], key = [code, -2s·is_query] (s = squared code norm), so
//   the query scores s at position p, ≤ γs at the other positions and -s at itself; attn_scale = s / λ.
//   value = symbol one-hot → W_O back into the symbol dims (zero at the query); W_U reads the symbol dims.
// With λ = (ln N + ln((1+μ)/(1-μ))) / (1-γ) the weight on p is ≥ (1+μ)/2, so the right symbol's logit wins by
// ≥ μ. The output is read at the last position (causal attention; other positions are not used).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "constructions/codes.h"
#include "model/model.h"
#include "tasks/index_lookup.h"

namespace attnlab {

struct IndexLookupOptions {
  int64_t n = 64;               // N
  int64_t alphabet = 4;         // |Σ|
  double gamma = 0.5;           // target max |<c_i, c_j>|, in (0, 1)
  double margin = 0.5;          // μ: target logit margin, in (0, 1)
  std::string code = "random";  // random | reed-solomon
  uint64_t seed = 0;
  int64_t certify_max = 16384;  // codes with N above this are certified on 256 sampled rows only
};

struct IndexLookupBuild {
  SequenceModel model;      // float64
  NearOrthogonalCode code;
  double scale = 0;         // λ
  int precision_bits = 0;   // mantissa bits needed (precision_bits_for(N + 1, μ))
  nlohmann::json report() const;  // parameters, width, γ, λ, bits
};

IndexLookupBuild index_lookup_build(const IndexLookupOptions& opt);

// Logits [P, O] at the last position for string x (symbol ids, length N) and queries p (length P), computed
// from the model's parameters for that one row (same math as forward(); O(N·P·D), no T x T matrix). Needs a
// 1-layer, 1-head, attention-only model without LayerNorm whose last position is the query.
torch::Tensor index_lookup_query_logits(const SequenceModel& model, const std::vector<int64_t>& x,
                                        const std::vector<int64_t>& queries, int64_t alphabet);

struct VerifyResult {
  std::string dtype;            // "f32" | "f64"
  int64_t checked = 0, correct = 0;
  double min_margin = 0;        // min over checks of logit(target) - max other logit
  double seconds = 0;
  std::string mode;             // "exhaustive" | "all positions of S strings" | "sampled queries"
  nlohmann::json to_json() const;
  void tally(const torch::Tensor& margin);  // adds one batch of per-check margins [B] (correct = margin > 0)
};

// Exhaustive over every string and query when |Σ|^N·N <= 65536 (through forward()); otherwise `strings`
// random strings x every certified query row (through index_lookup_query_logits).
std::vector<VerifyResult> index_lookup_verify(const IndexLookupBuild& b, const IndexLookupOptions& opt,
                                              int64_t strings, uint64_t seed);

}  // namespace attnlab
