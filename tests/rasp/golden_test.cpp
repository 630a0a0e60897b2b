// The shared RASP golden table (tests/golden/rasp_cases.json) run through the interpreter. The table's
// expectations are hand-derived (each case says why); the compiler's tests reuse the same table. Error
// budget: integers exact (and must stay integers), floats within 1e-12 relative.
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "../golden/golden.h"
#include "rasp_test_util.h"
#include "util/fs.h"

namespace attnlab::rasp::test {

using nlohmann::json;

TEST(RaspGolden, EveryCaseMatchesItsHandDerivedOutput) {
  json table = golden_load();
  ASSERT_GE(table["cases"].size(), 30u);
  for (const json& c : table["cases"]) {
    std::string name = c["name"];
    SCOPED_TRACE("golden case '" + name + "'");
    std::vector<Atom> input;
    std::set<std::string> vocab;
    for (const json& v : c["vocab"]) vocab.insert(v.dump());
    for (const json& v : c["input"]) {
      ASSERT_TRUE(vocab.count(v.dump())) << "input token " << v.dump() << " is not in the case's vocab";
      input.push_back(atom_from_json(v));
    }
    ASSERT_LE(input.size(), c["max_len"].get<size_t>());
    Interpreter in;
    in.run_source(c["program"].get<std::string>(), name + ".rasp");
    const Value* out = in.lookup(c["sop"]);
    ASSERT_TRUE(out && out->is_sop());
    EvalOptions opts;
    opts.causal = c.value("causal", false);
    Column got = evaluate({out->node}, input, opts).at(out->node);
    ASSERT_EQ(got.size(), c["expected"].size());
    for (size_t i = 0; i < got.size(); ++i) {
      std::string why = atom_mismatch(c["expected"][i], got[i]);
      EXPECT_EQ(why, "") << "first difference at position " << i << " (output " << show(got) << ")";
      if (!why.empty()) break;
    }
  }
}

// Every shipped library file is exercised by the golden table and shows a worked example in its header.
TEST(RaspGolden, EveryLibraryFileHasCasesAndAWorkedExample) {
  std::string all_programs;
  json table = golden_load();
  for (const json& c : table["cases"]) all_programs += c["program"].get<std::string>() + "\n";
  std::string lib = std::string(ATTNLAB_SOURCE_DIR) + "/src/rasp/lib";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(lib)) {
    if (entry.path().extension() != ".rasp") continue;
    ++files;
    std::string stem = entry.path().stem().string();
    EXPECT_NE(all_programs.find("load \"lib/" + stem + "\""), std::string::npos) << stem << ".rasp has no golden case";
    std::string text = file_read_text(entry.path().string());
    EXPECT_NE(text.find("Worked example"), std::string::npos) << stem << ".rasp has no worked example in its header";
    EXPECT_NE(text.find("->"), std::string::npos) << stem << ".rasp's header shows no input -> output";
  }
  EXPECT_GE(files, 14);
}

}  // namespace attnlab::rasp::test
