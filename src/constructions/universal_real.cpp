// U in the compiler's real-valued mode (universal_compile.h): the RASP source of U for a shape
// (lib/matrix.rasp's attention_rows / attention_rows_grid), its compilation to a model, and running that model
// on the flattened U input layout (universal.h).
#include "constructions/universal_compile.h"

#include "constructions/universal.h"
#include "rasp/interp.h"
#include "util/error.h"

namespace attnlab {

namespace {

std::string rows_source(const AttentionShape& s, const std::string& fn) {
  attention_shape_validate(s);
  return "# U for the real-valued compiler: n = " + std::to_string(s.n) + ", d = " + std::to_string(s.d) +
         ", dk = " + std::to_string(s.dk) + ", heads = " + std::to_string(s.h) + " (docs/universal.md).\n" +
         "load \"matrix\";\nU = " + fn + "(tokens_float, " + std::to_string(s.n) + ", " + std::to_string(s.d) +
         ", " + std::to_string(s.dk) + ", " + std::to_string(s.h) + ");\n";
}

RealCompiled compile_u(const AttentionShape& s, const std::string& fn, RealCompileOptions opt) {
  rasp::Interpreter in;
  in.run_source(rows_source(s, fn), "U.rasp");
  opt.length = universal_layout(s).length;
  RealCompiled c = compile_real(rasp::interp_sop_pick(in, "U", "U.rasp"), opt);
  c.config.producer = "attnlab simulate-attention";
  c.config.provenance = {{"n", s.n}, {"d", s.d}, {"dk", s.dk}, {"heads", s.h}, {"program", "lib/matrix.rasp " + fn}};
  if (opt.relu) c.config.provenance["grid"] = opt.grid;
  if (c.model) c.model->config_mut() = c.config;
  return c;
}

}  // namespace

std::string universal_rows_source(const AttentionShape& s) { return rows_source(s, "attention_rows"); }
std::string universal_grid_source(const AttentionShape& s) { return rows_source(s, "attention_rows_grid"); }

RealCompiled universal_compile_bilinear(const AttentionShape& s, bool plan_only) {
  RealCompileOptions opt;
  opt.plan_only = plan_only;
  return compile_u(s, "attention_rows", opt);
}

RealCompiled universal_compile_grid(const AttentionShape& s, const std::vector<double>& grid, bool plan_only) {
  RealCompileOptions opt;
  opt.plan_only = plan_only;
  opt.relu = true;
  opt.grid = grid;
  return compile_u(s, "attention_rows_grid", opt);
}

std::vector<std::vector<double>> universal_model_run_batch(const SequenceModel& model, const AttentionShape& s,
                                                           const std::vector<std::vector<double>>& inputs) {
  torch::NoGradGuard no_grad;
  const int64_t B = static_cast<int64_t>(inputs.size()), L = universal_layout(s).length;
  torch::Tensor x = torch::empty({B, L, 1}, torch::kFloat64);
  auto xa = x.accessor<double, 3>();
  for (int64_t b = 0; b < B; ++b) {
    check(static_cast<int64_t>(inputs[b].size()) == L, "U's input must have " + std::to_string(L) + " positions", "");
    for (int64_t p = 0; p < L; ++p) xa[b][p][0] = inputs[b][p];
  }
  ModelInput in;
  in.numbers = x;
  model_input_check(model->config(), in);
  torch::Tensor out = model->forward(in).contiguous();  // [B, L, 1]
  auto a = out.accessor<double, 3>();
  const int64_t size = s.n * attention_out_width(s);
  std::vector<std::vector<double>> v(static_cast<size_t>(B), std::vector<double>(static_cast<size_t>(size)));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = 0; p < size; ++p) v[b][p] = a[b][p][0];
  return v;
}

std::vector<double> universal_model_run(const SequenceModel& model, const AttentionShape& s,
                                        const std::vector<double>& input) {
  torch::NoGradGuard no_grad;
  ModelInput in;
  in.numbers = torch::tensor(input, torch::kFloat64).view({1, static_cast<int64_t>(input.size()), 1});
  model_input_check(model->config(), in);
  torch::Tensor out = model->forward(in).contiguous();  // [1, L, 1]
  int64_t size = s.n * attention_out_width(s);
  auto a = out.accessor<double, 3>();
  std::vector<double> v(static_cast<size_t>(size));
  for (int64_t p = 0; p < size; ++p) v[static_cast<size_t>(p)] = a[0][p][0];
  return v;
}

}  // namespace attnlab
