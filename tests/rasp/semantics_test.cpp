// RASP semantics, operator by operator. Every expectation is derived by hand from the definitions in
// docs/rasp.md: select(k, q, op) selects key j for query i iff k[j] op q[i]; aggregate is the mean of the
// selected numbers (an int when exact), the agreed value otherwise, the default when nothing is selected.
#include "rasp_test_util.h"

namespace attnlab::rasp::test {

TEST(RaspSemantics, PrimitivesOnAnInput) {
  EXPECT_EQ(run("x = tokens;", "x", "abc"), R"(["a", "b", "c"])");
  EXPECT_EQ(run("x = indices;", "x", "abc"), "[0, 1, 2]");
  EXPECT_EQ(run("x = length;", "x", "abc"), "[3, 3, 3]");
  EXPECT_EQ(run("x = tokens_int + 1;", "x", "[3, -1, 2]"), "[4, 0, 3]");
  EXPECT_EQ(run("x = tokens_int;", "x", "312"), "[3, 1, 2]");  // characters parsed as integers
  EXPECT_EQ(run("x = tokens_float;", "x", "[1, 2.5]"), "[1.0, 2.5]");
  EXPECT_EQ(run("x = tokens_str;", "x", "[1, 2]"), R"(["1", "2"])");
  EXPECT_EQ(run("x = not tokens_bool;", "x", "[True, False]"), "[False, True]");
}

TEST(RaspSemantics, LiftingElementwise) {
  EXPECT_EQ(run("x = length - indices - 1;", "x", "abcd"), "[3, 2, 1, 0]");
  EXPECT_EQ(run("x = indices * indices + 2 ^ indices;", "x", "abcd"), "[1, 3, 8, 17]");
  EXPECT_EQ(run("x = -indices;", "x", "abc"), "[0, -1, -2]");
  EXPECT_EQ(run("x = tokens == \"a\";", "x", "aba"), "[True, False, True]");
  EXPECT_EQ(run("x = indicator(tokens == \"a\");", "x", "aba"), "[1, 0, 1]");
  EXPECT_EQ(run("x = tokens + \"!\";", "x", "ab"), R"(["a!", "b!"])");
  EXPECT_EQ(run("x = \"y\" if indices % 2 == 0 else \"n\";", "x", "abc"), R"(["y", "n", "y"])");
  EXPECT_EQ(run("x = tokens in [\"a\", \"c\"];", "x", "abc"), "[True, False, True]");
  EXPECT_EQ(run("x = (indices > 0) and (indices < 2);", "x", "abc"), "[False, True, False]");
}

TEST(RaspSemantics, EveryComparisonAndLogicOperatorLifts) {
  EXPECT_EQ(run("x = +indices;", "x", "ab"), "[0, 1]");
  EXPECT_EQ(run("x = indices != 1;", "x", "abc"), "[True, False, True]");
  EXPECT_EQ(run("x = indices <= 1;", "x", "abc"), "[True, True, False]");
  EXPECT_EQ(run("x = indices >= 1;", "x", "abc"), "[False, True, True]");
  EXPECT_EQ(run("x = indices > 1;", "x", "abc"), "[False, False, True]");
  EXPECT_EQ(run("x = (indices == 0) or (indices == 2);", "x", "abc"), "[True, False, True]");
  EXPECT_EQ(run("x = not (indices == 1);", "x", "abc"), "[True, False, True]");
  EXPECT_EQ(run("x = tokens in {\"a\": 1};", "x", "ab"), "[True, False]");
  EXPECT_EQ(run("x = tokens in \"xa\";", "x", "ab"), "[True, False]");
  EXPECT_EQ(run("x = 10 - indices * 3;", "x", "abc"), "[10, 7, 4]");   // constant on the left
  EXPECT_EQ(run("x = 1 / (indices + 1);", "x", "abc"), "[1, 0.5, 0.3333333333333333]");
  EXPECT_EQ(run("x = 1.5 + indices;", "x", "ab"), "[1.5, 2.5]");
  EXPECT_EQ(run("x = indices + True;", "x", "ab"), "[1, 2]");  // bools count as 0/1 in arithmetic
}

TEST(RaspSemantics, OperatorsOnConstants) {
  std::string src = "a = 7 / 2; b = 6 / 2; c = -7 % 3; d = 2 ^ 10; e = round(2.5); f = round(3.5);"
                    "g = \"ab\" + \"c\"; h = [1] + [2]; i = 3 in [1, 3]; j = not 0; k = 1 < 2;"
                    "x = [a, b, c, d, e, f, g, h, i, j, k];";
  Interpreter in;
  in.run_source(src, "t.rasp");
  EXPECT_EQ(value_repr(*in.lookup("x")), "[3.5, 3, 2, 1024, 2, 4, \"abc\", [1, 2], True, True, True]");
}

TEST(RaspSemantics, ConstantTablesIndexedByAnSop) {
  EXPECT_EQ(run("x = [10, 20, 30][indices];", "x", "abc"), "[10, 20, 30]");
  EXPECT_EQ(run("x = {\"a\": 1, \"b\": 2}[tokens];", "x", "abba"), "[1, 2, 2, 1]");
  EXPECT_EQ(run("x = \"xyz\"[2 - indices];", "x", "abc"), R"(["z", "y", "x"])");
}

TEST(RaspSemantics, IntegersStayIntegers) {
  EXPECT_EQ(run("x = indices / 2;", "x", "abcd"), "[0, 0.5, 1, 1.5]");
  EXPECT_EQ(run("x = (indices - 3) % 3;", "x", "abcd"), "[0, 1, 2, 0]");  // Python's floor modulo
  EXPECT_EQ(run("x = round(indices + 0.5);", "x", "abcd"), "[0, 2, 2, 4]");  // half to even
  EXPECT_EQ(run("x = 2 ^ (indices - 1);", "x", "ab"), "[0.5, 1]");
}

TEST(RaspSemantics, SelectComparesKeyToQuery) {
  // query i selects keys j with k[j] < q[i]: position 0 selects nothing, position 3 selects 0, 1, 2
  EXPECT_EQ(run("x = selector_width(select(indices, indices, <));", "x", "abcd"), "[0, 1, 2, 3]");
  EXPECT_EQ(run("x = selector_width(select(indices, indices, >=));", "x", "abcd"), "[4, 3, 2, 1]");
  // [3, 1, 2]: q=3 -> keys > 3: none; q=1 -> 3, 2; q=2 -> 3
  EXPECT_EQ(run("x = selector_width(select(tokens_int, tokens_int, >));", "x", "[3, 1, 2]"), "[0, 2, 1]");
  EXPECT_EQ(run("x = selector_width(select(tokens, tokens, ==));", "x", "abac"), "[2, 1, 2, 1]");
  EXPECT_EQ(run("x = selector_width(select(tokens, tokens, !=));", "x", "abac"), "[2, 3, 2, 3]");
  EXPECT_EQ(run("x = selector_width(select(tokens, tokens, True));", "x", "abac"), "[4, 4, 4, 4]");
  EXPECT_EQ(run("x = selector_width(select(tokens, tokens, False));", "x", "abac"), "[0, 0, 0, 0]");
  // a constant query: keys equal to "a"
  EXPECT_EQ(run("x = selector_width(select(tokens, \"a\", ==));", "x", "abac"), "[2, 2, 2, 2]");
  EXPECT_EQ(run("x = selector_width(select(tokens, tokens, <));", "x", "cab"), "[2, 0, 1]");
}

TEST(RaspSemantics, AggregateMeanDefaultAndAgreement) {
  EXPECT_EQ(run("x = aggregate(select(indices, indices, <=), tokens_int);", "x", "[2, 4, 6]"), "[2, 3, 4]");
  EXPECT_EQ(run("x = aggregate(select(indices, indices, <=), tokens_int);", "x", "[1, 2, 4]"),
            "[1, 1.5, 2.3333333333333335]");
  EXPECT_EQ(run("x = aggregate(select(indices, indices, <), tokens_int);", "x", "[5, 7]"), "[0, 5]");
  EXPECT_EQ(run("x = aggregate(select(indices, indices, <), tokens_int, -1);", "x", "[5, 7]"), "[-1, 5]");
  EXPECT_EQ(run("x = aggregate(select(indices, indices - 1, ==), tokens, \"_\");", "x", "abc"), R"(["_", "a", "b"])");
  EXPECT_EQ(run("x = aggregate(select(tokens, tokens, ==), tokens);", "x", "abca"), R"(["a", "b", "c", "a"])");
  EXPECT_EQ(run("x = aggregate(select(indices, indices, <=), tokens_float);", "x", "[0.5, 1.5]"), "[0.5, 1.0]");
}

TEST(RaspSemantics, EncodingAnnotations) {
  // numerical: booleans count as 0/1 and are averaged
  EXPECT_EQ(run("x = numerical(aggregate(select(indices, indices, <=), tokens == \"a\"));", "x", "abaa"),
            "[1, 0.5, 0.6666666666666666, 0.75]");
  // categorical: numbers must agree like any other value
  std::string err = error_of("x = categorical(aggregate(select(indices, indices, <=), tokens_int));", "x", "[1, 2]");
  EXPECT_NE(err.find("query position 1"), std::string::npos) << err;
  EXPECT_EQ(run("x = categorical(aggregate(select(indices, indices, ==), tokens_int));", "x", "[1, 2]"), "[1, 2]");
}

TEST(RaspSemantics, SelectorComposition) {
  std::string prefix = "lt = select(indices, indices, <); a = select(tokens, \"a\", ==);";
  EXPECT_EQ(run(prefix + "x = selector_width(lt and a);", "x", "abac"), "[0, 1, 1, 2]");
  EXPECT_EQ(run(prefix + "x = selector_width(lt or a);", "x", "abac"), "[2, 2, 3, 3]");
  EXPECT_EQ(run(prefix + "x = selector_width(not lt);", "x", "abac"), "[4, 3, 2, 1]");
  EXPECT_EQ(run(prefix + "x = selector_width(not (lt or a));", "x", "abac"), "[2, 2, 1, 1]");
}

TEST(RaspSemantics, CausalMasksEverySelector) {
  std::string all = "x = selector_width(select(tokens, tokens, True));";
  EXPECT_EQ(run(all, "x", "abcd", true), "[1, 2, 3, 4]");
  EXPECT_EQ(run(all, "x", "abcd", false), "[4, 4, 4, 4]");
  // 'not' of a masked selector stays masked: keys j <= i with j != i
  EXPECT_EQ(run("x = selector_width(not select(indices, indices, ==));", "x", "abcd", true), "[0, 1, 2, 3]");
  // reverse needs future keys: under the mask, only the middle position finds its partner
  EXPECT_EQ(run("x = aggregate(select(indices, length - indices - 1, ==), tokens, \"_\");", "x", "abc", true),
            R"(["_", "b", "a"])");
}

TEST(RaspSemantics, LanguageConstantsFunctionsLoops) {
  std::string src =
      "def add(a, b) { return a + b; }\n"
      "xs = [i * i for i in range(4) if i != 2];\n"
      "d = {k: v for k, v in zip(\"ab\", [1, 2])};\n"
      "s = 0; for x in xs { s = add(s, x); }\n"
      "p, q = len(xs), d[\"b\"];\n"
      "y = indices + s + p * 10 + q;";
  EXPECT_EQ(run(src, "y", "ab"), "[42, 43]");  // xs = [0, 1, 9], s = 10, p = 3, q = 2
  EXPECT_EQ(run("def f(x) { return x + 1, x - 1; } a, b = f(indices); y = a * b;", "y", "abc"), "[-1, 0, 3]");
  EXPECT_EQ(run("y = indices + (1 if 2 > 1 else \"no\");", "y", "ab"), "[1, 2]");  // constant condition: lazy
}

TEST(RaspSemantics, LargeInputTenThousand) {
  std::string input(10000, 'a');
  for (size_t i = 1; i < input.size(); i += 2) input[i] = 'b';
  Interpreter in;
  in.run_source("h = selector_width(select(tokens, tokens, ==)); r = aggregate(select(indices, length - indices - 1, ==), tokens);", "t");
  const Node* h = in.lookup("h")->node;
  const Node* r = in.lookup("r")->node;
  Evaluation ev = evaluate({h, r}, input_parse(input));
  ASSERT_EQ(ev.at(h).size(), 10000u);
  for (size_t i = 0; i < 10000; i += 997) EXPECT_EQ(std::get<int64_t>(ev.at(h)[i]), 5000);
  EXPECT_EQ(std::get<std::string>(ev.at(r)[0]), "b");  // position 9999 is odd → 'b'
  EXPECT_EQ(std::get<std::string>(ev.at(r)[9999]), "a");
}

TEST(RaspSemantics, EveryNamedSopIsKept) {
  Interpreter in;
  in.run_source("a = indices + 1; b = a * 2; sel = select(a, b, ==); c = selector_width(sel);\n"
                "for k in range(2) { looped = a + k; }", "t");
  auto sops = in.sops();
  ASSERT_EQ(sops.size(), 4u);
  EXPECT_EQ(sops[0].first, "a");
  EXPECT_EQ(sops[2].first, "c");
  EXPECT_EQ(sops[3].first, "looped");  // global names assigned inside a top-level loop count too
  EXPECT_EQ(in.last_sop(), in.lookup("c")->node);
  Evaluation ev = evaluate({in.lookup("c")->node}, input_parse("abcd"));
  EXPECT_EQ(show(ev.at(in.lookup("a")->node)), "[1, 2, 3, 4]");  // intermediate values stay inspectable
  // query i selects keys j with a[j] == b[i]; b = 2, 4, 6, 8 finds a[1] = 2 and a[3] = 4, then nothing
  EXPECT_EQ(show(ev.at(in.lookup("c")->node)), "[1, 1, 0, 0]");
}

}  // namespace attnlab::rasp::test

namespace attnlab::rasp::test {

// exp / sqrt always give floats (Python's math module); abs keeps ints. Values by hand: e^0 = 1, sqrt(4) = 2.
TEST(RaspSemantics, ExpSqrtAbs) {
  EXPECT_EQ(run("x = exp(indices - indices);", "x", "ab"), "[1.0, 1.0]");
  EXPECT_EQ(run("x = sqrt(indices * indices);", "x", "abc"), "[0.0, 1.0, 2.0]");
  EXPECT_EQ(run("x = abs(1 - indices);", "x", "abc"), "[1, 0, 1]");
  EXPECT_EQ(run("x = abs(tokens_float);", "x", "[-1.5, 2]"), "[1.5, 2.0]");
  EXPECT_THROW(run("x = sqrt(indices - 1);", "x", "ab"), Error);   // sqrt(-1)
  EXPECT_THROW(run("x = exp(tokens_float);", "x", "[1000.0]"), Error);  // overflow is an error, not inf
}

// softmax_select weighs the mask's keys j of query i by exp(scale * sum_c k_c[j] q_c[i]).
// Input [0, ln 3]: with q = 1 everywhere and scale 1, weights are 1 and 3 (of 4): mean of v = [10, 20] is
// 10 * 1/4 + 20 * 3/4 = 17.5 at every query.
TEST(RaspSemantics, SoftmaxSelectWeighsKeys) {
  const std::string prog =
      "k = tokens_float; v = 10 * (indices + 1); q = indices - indices + 1;\n"
      "x = aggregate(softmax_select(k, q, 1), v);\n";
  std::string out = run(prog, "x", "[0.0, 1.0986122886681098]");  // "[17.5, 17.5]" up to rounding
  double first = std::stod(out.substr(1)), second = std::stod(out.substr(out.find(',') + 1));
  EXPECT_NEAR(first, 17.5, 1e-12);
  EXPECT_NEAR(second, 17.5, 1e-12);
  EXPECT_EQ(run(prog, "x", "[0.0, 100.0]"), "[20.0, 20.0]");  // e^-100 of the weight on the first key
  // Two components, the second cancelling the first: every key weighs the same -> the plain mean 15.
  EXPECT_EQ(run("k = tokens_float; q = indices - indices + 1;\n"
                "x = aggregate(softmax_select([k, k], [q, -q], 2.5), 10 * (indices + 1));",
                "x", "[0.0, 5.0]"),
            "[15.0, 15.0]");
  // A mask restricts the keys; a query without keys gets the default.
  EXPECT_EQ(run("m = select(indices, 1, <=) and select(indices, indices, <);\n"
                "x = aggregate(softmax_select(tokens_float, tokens_float, 1, m), 10 * (indices + 1), -1);",
                "x", "[0.0, 0.0, 0.0]"),
            "[-1, 10.0, 15.0]");
  // Causal mode masks keys after the query.
  EXPECT_EQ(run("x = aggregate(softmax_select(tokens_float, tokens_float, 1), 10 * (indices + 1));", "x",
                "[0.0, 0.0]", true),
            "[10.0, 15.0]");
}

TEST(RaspSemantics, SoftmaxSelectErrors) {
  EXPECT_THROW(run("x = aggregate(softmax_select([tokens_float], [], 1), indices);", "x", "[1.0]"), Error);
  EXPECT_THROW(run("x = aggregate(softmax_select(tokens_float, tokens_float, \"a\"), indices);", "x", "[1.0]"), Error);
  EXPECT_THROW(run("x = selector_width(softmax_select(tokens_float, tokens_float, 1));", "x", "[1.0]"), Error);
  EXPECT_THROW(run("s = softmax_select(tokens_float, tokens_float, 1); x = aggregate(s and s, indices);", "x", "[1.0]"),
               Error);
  EXPECT_THROW(run("x = aggregate(softmax_select(tokens, tokens, 1), indices);", "x", "ab"), Error);  // strings
}

}  // namespace attnlab::rasp::test
