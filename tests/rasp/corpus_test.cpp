// The fuzz corpus (tests/fuzz/corpus/fuzz_rasp: valid and malformed programs) replayed in the regular
// suite: each one either runs or fails with an attnlab::Error whose message we check for the malformed ones.
#include <filesystem>
#include <map>

#include "rasp/fuzz_one.h"
#include "rasp_test_util.h"
#include "util/fs.h"

namespace attnlab::rasp::test {

TEST(RaspCorpus, EveryCorpusFileRunsOrFailsCleanly) {
  // the malformed seeds and the error each must produce; every other seed must run without error
  std::map<std::string, std::string> want = {
      {"syntax_error", "fuzz.rasp:1:10: expected an expression"},
      {"recursion", "function calls nested more than 40 deep (in f)"},
      {"disagree", "s-op 'r' at query position 2: the selected values disagree"},
      {"runtime_errors", "s-op 'x' at position 1: division by zero"},
      {"type_error", "fuzz.rasp:1:9: cannot apply '+' to string \"a\" and int 1"},
  };
  std::string dir = std::string(ATTNLAB_TEST_DATA) + "/fuzz/corpus/fuzz_rasp";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    ++files;
    std::string err = rasp_fuzz_one(file_read_text(entry.path().string()));
    auto it = want.find(name);
    if (it == want.end()) EXPECT_EQ(err, "");
    else EXPECT_NE(err.find(it->second), std::string::npos) << err;
  }
  EXPECT_GE(files, 10);
}

}  // namespace attnlab::rasp::test
