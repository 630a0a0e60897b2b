// One fuzzing step over the RASP toolchain (see fuzz_one.h).
#include "rasp/fuzz_one.h"

#include "rasp/analyse.h"
#include "rasp/eval.h"
#include "rasp/interp.h"
#include "rasp/print.h"
#include "util/error.h"

namespace attnlab::rasp {

std::string rasp_fuzz_one(const std::string& text) {
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
    if (targets.empty()) return "";
    EvalOptions opts;
    opts.max_len = 32;
    opts.causal = text.size() % 2 == 1;
    evaluate(targets, input_parse(input), opts);
    analyse(targets.back());
    program_to_rasp({targets.back()});
    program_to_dot({targets.back()});
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

}  // namespace attnlab::rasp
