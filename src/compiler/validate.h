// Static validation: every reason a program cannot be compiled, collected before anything is built, then
// raised as one attnlab::Error listing them all (numbered, each with where it comes from).
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"

namespace attnlab::compiler {

// Options alone (vocabulary, max_len, BOS token): throws at once.
void validate_options(const CompileOptions& opt);

// The program against the options and its value sets; `problems` already holds value-inference problems.
// Throws one Error listing every problem when there is any.
void validate_program(const Plan& plan, std::vector<std::string> problems);

}  // namespace attnlab::compiler
