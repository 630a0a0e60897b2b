// A constant-size recurrent network recognising bounded Dyck-(k, m) (Bhattamishra et al. 2024, arXiv
// 2406.09347, §5: a constant-size RNN recognises Dyck-(k, m), whose one-layer-transformer size must grow
// linearly with the length). Runtime format: an Elman RNN (model_type "rnn", ReLU), readout per position:
// the logits at position t say whether the prefix x_0..x_t is in Dyck-(k, m).
// The network simulates the language's automaton exactly. States Q = stacks of height ≤ m over k types, plus
// "dead"; hidden units are pairs (q', σ') (Hd = |Q|·2k), one-hot: unit (q', σ') is 1 after reading σ' into q'.
//   pre(q',σ') = Σ_{(q,σ)} ([δ(q,σ') = q'] - [δ(q0,σ') = q']) h(q,σ) + x_σ' + [δ(q0,σ') = q'] - 1
// With h one-hot (or zero at the start, standing for q0) and x one-hot, pre = 1 for the one right unit and ≤ 0
// elsewhere, so ReLU keeps h exactly one-hot at every step. Logits: "yes" = Σ h over units with q' = empty
// stack, "no" = the rest (margin exactly 1). Size depends on k and m only, never on the input length; all
// arithmetic is on integers in [-2, 1] (exact with 2 mantissa bits).
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"
#include "tasks/dyck.h"

namespace attnlab {

struct DyckRnnBuild {
  SequenceModel model;      // float64
  int64_t states = 0;       // |Q| including dead
  int precision_bits = 2;
  nlohmann::json report() const;
};

DyckRnnBuild dyck_rnn_build(const DyckSpec& spec);

struct DyckVerifyResult {
  std::string dtype;
  int64_t exhaustive_len = 0, exhaustive_strings = 0, exhaustive_wrong = 0;  // every string of that length
  int64_t random_len = 0, random_strings = 0, random_prefixes = 0, random_wrong = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

// Every string of length L (all shorter ones are their prefixes; L = 12 unless (2k)^L > 2^24 forces less)
// and `random_count` near-miss/member strings of length random_len, every prefix checked.
std::vector<DyckVerifyResult> dyck_rnn_verify(const DyckRnnBuild& b, const DyckSpec& spec, int64_t max_len,
                                              int64_t random_len, int64_t random_count, uint64_t seed);

}  // namespace attnlab
