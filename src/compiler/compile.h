// The RASP compiler: a program's s-op -> a transformer (model directory) that computes it exactly.
//   auto plan = compile_program(interp.lookup("reverse")->node, "reverse", opt);
//   SequenceModel m = compiled_model(*plan, AttentionKind::Softmax);
//   compiled_write(*plan, "out/reverse", program_text, provenance);   // + out/reverse/hard/
// Inputs are the interpreter's inputs with BOS prepended (position 0); outputs at positions 1..n are the
// s-op's values. See docs/compiler.md for every block construction and its formula.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "compiler/ir.h"
#include "model/model.h"

namespace attnlab::compiler {

// Runs every stage (validation first); throws attnlab::Error listing every unsupported construct.
std::unique_ptr<Plan> compile_program(const Node* target, const std::string& name, const CompileOptions& opt);

// Assembles the weights into a runnable model (f64), with softmax or average-hard attention.
SequenceModel compiled_model(const Plan& plan, AttentionKind attention, torch::Dtype dtype = torch::kFloat64,
                             const nlohmann::json& provenance = nlohmann::json::object());

// Writes DIR (softmax attention) and DIR/hard (the same weights, hard attention), plus DIR/program.rasp and
// DIR/compile.json (sizes, layout, blocks). Every file is written atomically.
void compiled_write(const Plan& plan, const std::string& dir, const std::string& program_text,
                    const nlohmann::json& provenance);

// Parameter count of the compiled model (every tensor, zeros included).
int64_t compiled_parameter_count(const Plan& plan);

// The per-layer text report: heads (what they read and write), MLP sizes, residual layout, parameters.
std::string compile_report_text(const Plan& plan);

// report.html: the text report, the residual stream over `example` after every sub-layer (labelled with
// residual_labels), and every head's attention pattern; static HTML, no script.
void compiled_report_html(const Plan& plan, const std::string& path, const std::vector<std::string>& example);

// compile.json content.
nlohmann::json compile_summary(const Plan& plan);

}  // namespace attnlab::compiler
