// The compiler's entry point: one call per stage (see compile.h and docs/compiler.md).
#include "compiler/compile.h"

#include <cmath>

#include "compiler/blocks.h"
#include "compiler/layout.h"
#include "compiler/schedule.h"
#include "compiler/validate.h"
#include "compiler/values.h"
#include "util/error.h"

namespace attnlab::compiler {

std::unique_ptr<Plan> compile_program(const Node* target, const std::string& name, const CompileOptions& opt) {
  validate_options(opt);                        // 0. the vocabulary and lengths make sense
  auto plan = std::make_unique<Plan>();
  plan->opt = opt;
  plan->target = target;                        // 1. program graph: everything reachable from the target
  plan->target_name = name;
  std::vector<std::string> problems;
  values_infer(*plan, problems);                // 2. value sets per length (collecting problems)
  validate_program(*plan, problems);            // 3. static validation: every unsupported construct at once
  BlockBuilder blocks(*plan);
  blocks.build();                               // 4. encodings + blocks: views, heads, MLPs, unembedding
  schedule_blocks(*plan);                       // 5. layer scheduling (ASAP; MLP shares the attention's layer)
  layout_residual(*plan);                       // 6. residual layout and model sizes
  // 7. softmax sharpness: a key 1/2 below the best keeps weight <= n_ctx · e^{-λ/2} <= e^{-30} of it
  plan->lambda = 2.0 * (std::log(static_cast<double>(opt.max_len + 1)) + 30.0);
  return plan;                                  // 8. assembly: compiled_model / compiled_write (assemble.cpp)
}

}  // namespace attnlab::compiler
