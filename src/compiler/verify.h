// Verification of a compiled model against the interpreter (see verify.cpp).
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"
#include "model/model.h"

namespace attnlab::compiler {

struct VerifyOptions {
  int samples = 100;                 // random inputs per length (lengths not enumerated exhaustively)
  uint64_t seed = 1;
  size_t exhaustive_limit = 100000;  // enumerate every input of a length when |V|^n <= this
  double num_tol = 1e-9;             // numeric outputs: max |model - interpreter| (1e-4 for f32)
  bool progress = false;             // a progress line on stderr
};

struct VerifyResult {
  int64_t inputs = 0;                // inputs generated
  int64_t outside_domain = 0;        // inputs on which the interpreter raised an error (not compared)
  int64_t positions = 0;             // output positions compared
  int64_t mismatches = 0;            // inputs with at least one wrong position
  double max_abs_error = 0;          // numeric: max |error|; categorical: max |logit - indicator|
  std::vector<int> exhaustive_lengths;
  std::string first_input;           // the first failing input (space-separated tokens)
  std::string first_mismatch;        // its diagnosis: first diverging s-op, sub-layer, position, subspace
  double seconds = 0;
};

VerifyResult compiled_verify(const Plan& plan, const SequenceModel& model, const VerifyOptions& opt);

// Reruns one input with the residual stream cached; names the first s-op whose subspace disagrees with
// the interpreter (in the order the model computes them).
std::string verify_diagnose(const Plan& plan, const SequenceModel& model, const std::vector<Atom>& input);

}  // namespace attnlab::compiler
