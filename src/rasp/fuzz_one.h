// One fuzzing step over the whole RASP toolchain, shared by the libFuzzer target (tests/fuzz/fuzz_rasp.cpp)
// and the regular tests that replay its corpus (tests/rasp/corpus_test.cpp). The first line of text is
// the input, the rest the program; tight limits keep each run short.
#pragma once

#include <string>

namespace attnlab::rasp {

// Parses, runs, evaluates (every top-level s-op), analyses and prints. Returns "" when everything ran,
// else the attnlab::Error message; any other exception, crash or hang is a bug.
std::string rasp_fuzz_one(const std::string& text);

}  // namespace attnlab::rasp
