// C++ builders make the same graph as the parser: the printed text of a built program equals the printed
// text of the same program parsed from RASP, and both evaluate to the hand-derived outputs.
#include "rasp/builder.h"
#include "rasp/print.h"
#include "rasp_test_util.h"

namespace attnlab::rasp::test {

static std::string parsed_text(const std::string& src, const std::string& name) {
  Interpreter in;
  in.run_source(src, "t.rasp");
  return program_to_rasp({in.lookup(name)->node});
}

static std::string eval_show(SOp x, const std::string& input) {
  return show(evaluate({x.node}, input_parse(input)).at(x.node));
}

TEST(RaspBuilder, ReverseIsTheParsersGraph) {
  Builder b;
  SOp opp = b.named(b.length() - b.indices() - 1, "opp_index");
  Sel flip = b.named(b.select(b.indices(), opp, Cmp::Eq), "flip");
  SOp rev = b.named(b.aggregate(flip, b.tokens()), "reverse");
  EXPECT_EQ(b.to_rasp(rev),
            "opp_index = ((length - indices) - 1);\n"
            "flip = select(indices, opp_index, ==);\n"
            "reverse = aggregate(flip, tokens);\n");
  EXPECT_EQ(b.to_rasp(rev), parsed_text("load \"lib/reverse\"; reverse = reverse(tokens);", "reverse"));
  EXPECT_EQ(eval_show(rev, "abcd"), R"(["d", "c", "b", "a"])");
}

TEST(RaspBuilder, StableSortWithSelectorComposition) {
  Builder b;
  SOp keys = b.tokens();
  Sel before = b.named(b.select(keys, keys, Cmp::Lt) |
                           (b.select(keys, keys, Cmp::Eq) & b.select(b.indices(), b.indices(), Cmp::Lt)),
                       "before");
  SOp target = b.named(b.selector_width(before), "target_pos");
  Sel move = b.named(b.select(target, b.indices(), Cmp::Eq), "move");
  SOp sorted = b.named(b.aggregate(move, b.tokens()), "sorted");
  EXPECT_EQ(b.to_rasp(sorted), parsed_text("load \"lib/sort\"; sorted = sort(tokens, tokens);", "sorted"));
  EXPECT_EQ(eval_show(sorted, "baba"), R"(["a", "a", "b", "b"])");
}

TEST(RaspBuilder, MapsAnnotationsAndConstantQueries) {
  Builder b;
  SOp m = b.map(b.indices(), "x % 3 + 1");
  EXPECT_EQ(eval_show(m, "abcd"), "[1, 2, 3, 1]");
  SOp s = b.sequence_map(b.indices(), b.length(), "x * 10 + y");
  EXPECT_EQ(eval_show(s, "abc"), "[3, 13, 23]");
  SOp t = b.map_table(b.tokens(), {std::string("a"), std::string("b")},
                      [](const Atom& a) { return Atom{std::get<std::string>(a) == "a" ? int64_t{1} : int64_t{-1}}; });
  EXPECT_EQ(eval_show(t, "abba"), "[1, -1, -1, 1]");
  EXPECT_EQ(program_to_rasp({t.node}), "_t_" + std::to_string(t.node->id) + " = {\"a\": 1, \"b\": -1}[tokens];\n");
  SOp count_a = b.selector_width(b.select(b.tokens(), std::string("a"), Cmp::Eq));
  EXPECT_EQ(eval_show(count_a, "abca"), "[2, 2, 2, 2]");
  SOp frac = b.numerical(b.aggregate(b.select(b.indices(), b.indices(), Cmp::Le), b.tokens() == std::string("a")));
  EXPECT_EQ(eval_show(frac, "ab"), "[1, 0.5]");
  SOp label = b.if_else(b.sop_and(b.indices() > 0, b.sop_not(b.tokens() == std::string("b"))), b.constant(std::string("y")),
                        b.constant(std::string("n")));
  EXPECT_EQ(eval_show(label, "aba"), R"(["n", "n", "y"])");
  EXPECT_EQ(eval_show(-b.indices() + 1, "ab"), "[1, 0]");
  EXPECT_THROW(b.map(b.indices(), "x +"), Error);
  EXPECT_THROW(b.map(b.indices(), "2 + 2"), Error);
}

}  // namespace attnlab::rasp::test
