// libFuzzer target: the RASP parser + interpreter + evaluator + analyser + printers on arbitrary bytes
// (rasp_fuzz_one: first line = input, rest = program). Only attnlab::Error may escape the library; its
// limits (steps, nodes, nesting, list and string sizes, input length) keep every run short and the stack
// bounded, so a crash, a sanitizer report, a hang or any other exception here is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "rasp/fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  attnlab::rasp::rasp_fuzz_one(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
