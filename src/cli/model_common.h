// Shared by the CLI commands that run models: parse --input / --numbers into a ModelInput, run with hooks,
// decode outputs, and turn cached attention patterns into the HTML attention view.
#pragma once

#include <string>
#include <vector>

#include "model/model.h"
#include "report/attention_view.h"

namespace attnlab {

struct CliInput {
  ModelInput input;                  // batch of one
  std::vector<std::string> tokens;   // token string per position (or "x0".. for numeric-only inputs)
};

// text: tokens (see tokens_split); numbers: "v,v,...;v,v,..." one group of d_in_num values per position.
CliInput cli_input_parse(const ModelConfig& cfg, const std::string& text, const std::string& numbers,
                         torch::Dtype dtype);

// The decoded output per position: vocab_out token of the argmax (tokens) or the values (numeric).
std::vector<std::string> outputs_decode(const ModelConfig& cfg, const torch::Tensor& logits);  // logits [1, T, O]

// Runs the model caching every hook_pattern and returns the per-layer attention view.
AttentionView attention_view_build(const SequenceModel& model, const CliInput& in, const std::string& title);

}  // namespace attnlab
