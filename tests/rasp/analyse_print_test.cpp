// Layer analysis and printing. Expected layer counts are derived by hand from the rules in analyse.h;
// printed programs are checked as text and by re-running them (same values on the same input).
#include "rasp/analyse.h"
#include "rasp/print.h"
#include "rasp_test_util.h"

namespace attnlab::rasp::test {

static Analysis analyse_named(Interpreter& in, const std::string& src, const std::string& name) {
  in.run_source(src, "t.rasp");
  return analyse(in.lookup(name)->node);
}

TEST(RaspAnalyse, HistogramIsOneHeadPlusItsMlp) {
  Interpreter in;
  Analysis a = analyse_named(in, "load \"lib/histogram\"; out = histogram(tokens);", "out");
  EXPECT_EQ(a.layers, 1);
  EXPECT_EQ(a.heads_per_layer, std::vector<int>({1}));
  EXPECT_EQ(a.mlps_per_layer, std::vector<int>({1}));
  EXPECT_EQ(stage_name(a.nodes.back().stage), "layer 1 mlp");
}

TEST(RaspAnalyse, ReverseNeedsAnMlpBeforeItsHead) {
  Interpreter in;
  Analysis a = analyse_named(in, "load \"lib/reverse\"; out = reverse(tokens);", "out");
  EXPECT_EQ(a.layers, 2);  // opp_index in layer 1's MLP, the aggregate in layer 2's attention
  EXPECT_EQ(a.attn_layers, 1);
  EXPECT_EQ(a.mlp_layers, 1);
  EXPECT_EQ(a.heads_per_layer, std::vector<int>({0, 1}));
  EXPECT_EQ(stage_name(a.nodes.back().stage), "layer 2 attn");
}

TEST(RaspAnalyse, SortAndDyck) {
  Interpreter in;
  Analysis s = analyse_named(in, "load \"lib/sort\"; out = sort(tokens, tokens);", "out");
  EXPECT_EQ(s.layers, 2);
  EXPECT_EQ(s.heads_per_layer, std::vector<int>({1, 1}));
  EXPECT_EQ(s.mlps_per_layer, std::vector<int>({1, 0}));
  // dyck1: layer 1 MLP computes indicator(tokens == "(") and indicator(tokens == ")") (two chains); layer 2
  // attention takes both prefix means, its MLP the balance chain (< 0, == 0, the inner 'if'); layer 3
  // attention takes the mean of 'balance < 0', its MLP the '> 0' and the outer 'if'.
  Analysis d = analyse_named(in, "load \"lib/dyck\"; d1 = dyck1_ptf(tokens);", "d1");
  EXPECT_EQ(d.layers, 3);
  EXPECT_EQ(d.heads_per_layer, std::vector<int>({0, 2, 1}));
  EXPECT_EQ(d.mlps_per_layer, std::vector<int>({2, 1, 1}));
  // dyck2: L1 mlp is_open/is_close; L2 the two prefix counts (selector_width + its MLP); L3 mlp depth
  // (a map cannot join a selector_width's MLP); L4 counts c and r; L5 the match; L6 the failure mean.
  Analysis d2 = analyse_named(in, "d2 = dyck2_ptf(tokens);", "d2");
  EXPECT_EQ(d2.layers, 6);
  EXPECT_EQ(d2.heads_per_layer, std::vector<int>({0, 2, 0, 2, 1, 1}));
}

TEST(RaspAnalyse, MapChainsShareOneMlp) {
  Interpreter in;
  Analysis a = analyse_named(in, "x = indices + 1; y = x * 2; z = y - x;", "z");
  EXPECT_EQ(a.layers, 1);
  EXPECT_EQ(a.heads_per_layer, std::vector<int>({0}));
  EXPECT_EQ(a.mlps_per_layer, std::vector<int>({1}));
  std::string text = analysis_text(a, "z");
  EXPECT_NE(text.find("layers: 1 (attention layers: 0, MLP layers: 1, most heads in a layer: 0)"), std::string::npos) << text;
  EXPECT_NE(text.find("x                   layer 1 mlp   (indices + 1)"), std::string::npos) << text;
}

TEST(RaspPrint, ProgramTextNamesSharedNodes) {
  Interpreter in;
  in.run_source("a = indices + 1; sel = select(a, indices, ==); out = aggregate(sel, tokens, \"_\");", "t");
  std::string text = program_to_rasp({in.lookup("out")->node});
  EXPECT_EQ(text,
            "a = (indices + 1);\n"
            "sel = select(a, indices, ==);\n"
            "out = aggregate(sel, tokens, \"_\");\n");
}

TEST(RaspPrint, PrintedLibraryProgramsRunToTheSameValues) {
  for (std::string lib : {"sort_freq", "dyck", "double_hist", "pattern", "length"}) {
    SCOPED_TRACE(lib);
    Interpreter in;
    in.run_source("load \"lib/" + lib + "\";", "t");
    std::string call = lib == "sort_freq" ? "sort_by_most_freq(tokens)" : lib == "dyck" ? "dyck2_ptf(tokens)"
                       : lib == "double_hist" ? "double_histogram(tokens)" : lib == "pattern" ? "detect_pattern(tokens, \"ab\")"
                       : "length_bos()";
    in.run_source("out = " + call + ";", "t2");
    const Node* out = in.lookup("out")->node;
    std::string text = program_to_rasp({out});
    Interpreter again;
    again.run_source(text, "printed.rasp");
    const Node* out2 = again.last_sop();  // the target is printed last (possibly under an inner name)
    ASSERT_NE(out2, nullptr);
    for (std::string input : {"([)]", "aabab(", "x"}) {
      EXPECT_EQ(show(evaluate({out}, input_parse(input)).at(out)), show(evaluate({out2}, input_parse(input)).at(out2)))
          << text;
    }
    EXPECT_EQ(program_to_rasp({out2}), text);  // printing is a fixed point
  }
}

TEST(RaspPrint, DotHasNodesAndEdges) {
  Interpreter in;
  in.run_source("load \"lib/reverse\"; out = reverse(tokens);", "t");
  std::string dot = program_to_dot({in.lookup("out")->node});
  EXPECT_EQ(dot.rfind("digraph rasp {", 0), 0u);
  EXPECT_NE(dot.find("label=\"opp_index\\n((length - indices) - 1)\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("style=dashed"), std::string::npos);  // the selector
  EXPECT_NE(dot.find(" -> "), std::string::npos);
}

}  // namespace attnlab::rasp::test
