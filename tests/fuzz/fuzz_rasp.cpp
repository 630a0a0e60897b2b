// libFuzzer target: the RASP parser + interpreter + evaluator on arbitrary bytes. The first line is the
// input (text or a [list]), the rest the program. Only attnlab::Error may escape the library; limits
// (steps, nodes, nesting, list and string sizes, input length) keep every run short and the stack bounded,
// so a crash, a sanitizer report, a hang or an uncaught exception here is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "rasp/analyse.h"
#include "rasp/eval.h"
#include "rasp/interp.h"
#include "rasp/print.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attnlab::rasp;
  if (size > 8192) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t nl = text.find('\n');
  std::string input = nl == std::string::npos ? "abc" : text.substr(0, nl);
  std::string program = nl == std::string::npos ? text : text.substr(nl + 1);
  Limits limits;
  limits.max_steps = 200000;
  limits.max_list = 20000;
  limits.max_nodes = 20000;
  limits.max_call_depth = 40;
  limits.max_eval_depth = 400;
  try {
    Interpreter in(limits);
    in.run_source(program, "fuzz.rasp");
    std::vector<const Node*> targets;
    for (const auto& [name, node] : in.sops()) targets.push_back(node);
    if (targets.empty()) return 0;
    EvalOptions opts;
    opts.max_len = 32;
    opts.causal = size % 2 == 1;
    Evaluation ev = evaluate(targets, input_parse(input), opts);
    analyse(targets.back());
    program_to_rasp({targets.back()});
    program_to_dot({targets.back()});
  } catch (const attnlab::Error&) {
  }
  return 0;
}
