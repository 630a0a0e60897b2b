// Index lookup with a one-layer transformer of width O(log N + log|Σ|) (Bhattamishra et al. 2024, arXiv
// 2406.09347, Theorem 1: a one-layer transformer with width O(log N) and O(log N) precision performs index
// lookup; any RNN needs Ω(N) hidden size). Input: x_0..x_{N-1}, then the query token "@p" (tasks/index_lookup.h).
// Residual (R = b + k + 1): [symbol code (b) | position/query code (k) | is_query (1)], where the symbol code is
//   binary (default): b = ceil(log2|Σ|) dims, symbol a ↦ β(a) ∈ {±1}^b (β_t(a) = 2·bit_t(a) - 1), or
//   one-hot (for comparison): b = |Σ|.
//   W_pos[i] = raw code c_i (i < N), W_pos[N] = 0; W_E[symbol a] = β(a); W_E["@p"] = c_p + e_is_query.
//   head (D = max(k + 1, b)): q = [code, is_query], key = [code, -2s·is_query] (s = squared code norm), so
//   the query scores s at position p, ≤ γs at the other positions and -s at itself; attn_scale = s / λ.
//   value = symbol code → W_O back into the symbol dims (zero at the query); W_U[:, a] = β(a)/2 (one-hot: e_a).
// With λ = (ln N + ln((1+μ)/(1-μ))) / (1-γ) the weight w on p is ≥ (1+μ)/2, so every symbol dim t of the head
// output z has β_t(x_p)·z_t ≥ w - (1 - w) ≥ μ, and logit(x_p) - logit(a) = Σ_{t: β_t(a) ≠ β_t(x_p)} β_t(x_p) z_t
// ≥ μ for every a ≠ x_p. The output is read at the last position (causal attention; other positions unused).
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
  std::string symbols = "binary";  // symbol code: binary (ceil(log2|Σ|) dims) | one-hot (|Σ| dims)
  uint64_t seed = 0;
  int64_t certify_max = 16384;  // random codes with N above this are certified on 256 sampled rows only
};

int64_t index_lookup_symbol_dims(const IndexLookupOptions& opt);  // b: ceil(log2|Σ|) (binary) or |Σ| (one-hot)

struct IndexLookupBuild {
  SequenceModel model;      // float64
  NearOrthogonalCode code;
  double scale = 0;         // λ
  int precision_bits = 0;   // mantissa bits needed (precision_bits_for(N + 1, μ))
  nlohmann::json report() const;  // parameters, width, γ, λ, bits
};

IndexLookupBuild index_lookup_build(const IndexLookupOptions& opt);

// Logits [P, O] at the last position for string x (symbol ids, length N) and queries p (length P), computed
// from the model's parameters for that one row (same math as forward(); O(N·P·D) time, no T x T matrix). When
// the string's keys fit in 2^24 numbers they are computed once and the queries go in blocks through one fused
// softmax each; otherwise (or when chunk > 0) the keys are streamed in chunks of `chunk` (0: 2^22 / P, within
// [256, 65536]) with an online softmax, so memory is O(P·D + chunk·(R + D)). Head dims that contribute exactly
// zero (zero columns of W_V, or of W_Q or W_K) are skipped. Needs a 1-layer, 1-head, attention-only model
// without LayerNorm whose last position is the query.
torch::Tensor index_lookup_query_logits(const SequenceModel& model, const std::vector<int64_t>& x,
                                        const std::vector<int64_t>& queries, int64_t alphabet, int64_t chunk = 0);

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
// random strings x the query positions (through index_lookup_query_logits): every certified row when there are
// at most `max_queries` of them (all N positions for a fully certified code), else `max_queries` rows sampled
// from the certified ones (code_sample_rows).
std::vector<VerifyResult> index_lookup_verify(const IndexLookupBuild& b, const IndexLookupOptions& opt,
                                              int64_t strings, uint64_t seed, int64_t max_queries = 16384);

}  // namespace attnlab
