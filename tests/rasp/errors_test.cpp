// RASP bad input: syntax errors point at file:line:col with the line and a caret and say what was
// expected; runtime errors name the s-op and the position; limits turn runaway programs into errors.
#include "rasp_test_util.h"

namespace attnlab::rasp::test {

static void expect_has(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "missing \"" << part << "\" in:\n" << text;
}

TEST(RaspErrors, SyntaxErrorShowsLineCaretAndExpectation) {
  std::string err = error_of("x = indices;\ny = x + 1\nz = y;");
  expect_has(err, "test.rasp:3:1: expected ';' to end the assignment, found 'z'");
  expect_has(err, "  3 | z = y;\n    | ^");
  expect_has(err, "HINT: RASP statements end with ';'");
}

TEST(RaspErrors, SyntaxErrorsOfManyKinds) {
  expect_has(error_of("x = (1 + 2;"), "test.rasp:1:11: expected ')' to close the parenthesis, found ';'");
  expect_has(error_of("x = 1 +;"), "1:8: expected an expression");
  expect_has(error_of("def f(a { return a; }"), "expected ')' to close the parameter list");
  expect_has(error_of("x = \"abc;"), "unterminated string literal");
  expect_has(error_of("x = 1 $ 2;"), "1:7: unexpected character '$'");
  expect_has(error_of("x = \xc3\xa9;"), "1:5: unexpected character '\\xc3'");
  expect_has(error_of("for x in [1] { y = x;"), "expected '}' to close the body of the loop, found end of input");
  expect_has(error_of("x = a < b < c;"), "comparisons cannot be chained");
  expect_has(error_of("1 = x;"), "cannot assign to this expression");
  expect_has(error_of("x = 12abc;"), "malformed number");
  expect_has(error_of("load sort;"), "expected a string after 'load'");
  expect_has(error_of("x = [1, 2;"), "expected ']' to close the list");
  expect_has(error_of("return 1;"), "'return' outside a function");
}

TEST(RaspErrors, CaretFollowsTheColumnOnLongerLines) {
  std::string err = error_of("y = tokens;\n  x = y +* 2;");
  expect_has(err, "test.rasp:2:10: expected an expression");
  expect_has(err, "  2 |   x = y +* 2;\n    |          ^");
}

TEST(RaspErrors, NamesTypesAndArity) {
  std::string err = error_of("x = tokenz + 1;");
  expect_has(err, "test.rasp:1:5: unknown name 'tokenz'");
  expect_has(err, "HINT: did you mean 'tokens'?");
  expect_has(error_of("x = select(tokens, tokens);"), "select() takes 3 arguments, got 2");
  expect_has(error_of("def f(a) { return a; } x = f(1, 2);"), "f() takes 1 argument, got 2");
  expect_has(error_of("x = \"a\" + 1;"), "cannot apply '+' to string \"a\" and int 1");
  expect_has(error_of("x = 1 / 0;"), "division by zero");
  expect_has(error_of("x = [1, 2][5];"), "index 5 is out of range for a list of length 2");
  expect_has(error_of("x = aggregate(tokens, tokens);"), "aggregate(): the first argument must be a selector");
  expect_has(error_of("x = tokens[0];"), "an s-op or selector cannot be indexed by position");
  expect_has(error_of("x = select(tokens, tokens, ==) + 1;"), "cannot apply '+' to a selector and a int");
  expect_has(error_of("def f() { x = 1; } y = f();"), "f() ended without 'return'");
  expect_has(error_of("x = len(tokens);"), "the input length is the s-op 'length'");
}

TEST(RaspErrors, RuntimeErrorsNameTheSopAndPosition) {
  std::string err = error_of("d = 6 / (indices - 2);", "d", "abcd");
  expect_has(err, "test.rasp:1:7: s-op 'd' at position 2: division by zero");
  expect_has(error_of("t = tokens + 1;", "t", "ab"), "s-op 't' at position 0: cannot apply '+' to string \"a\" and int 1");
  expect_has(error_of("t = [1, 2][indices];", "t", "abc"), "s-op 't' at position 2: index 2 is out of range");
  err = error_of("r = aggregate(select(indices, indices, <=), tokens);", "r", "aab");
  expect_has(err, "s-op 'r' at query position 2: the selected values disagree (\"a\" at key 0, \"b\" at key 2)");
  expect_has(error_of("s = select(indices, tokens, <); w = selector_width(s);", "w", "ab"),
             "keys and queries mix strings and numbers");
  expect_has(error_of("x = tokens_int;", "x", "ab"), "tokens_int: position 0 holds \"a\", which is not an integer");
  expect_has(error_of("x = 2 ^ (indices * 40);", "x", "abc"), "s-op 'x' at position 2: integer overflow in '^'");
}

TEST(RaspErrors, RunawayProgramsHitLimits) {
  expect_has(error_of("def f(n) { return f(n + 1); } x = f(0);"), "function calls nested more than 100 deep (in f)");
  Limits small;
  small.max_steps = 10000;
  try {
    Interpreter in(small);
    in.run_source("s = 0; for i in range(100000) { s = s + i; }", "t.rasp");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    expect_has(e.message(), "the program ran more than 10000 steps");
  }
  expect_has(error_of("x = range(10000000);"), "range longer than 1000000 elements");
  std::string deep = "x = " + std::string(500, '(') + "1" + std::string(500, ')') + ";";
  expect_has(error_of(deep), "nesting deeper than 200 levels");
  std::string chain = "x = 1";
  for (int i = 0; i < 300; ++i) chain += " + 1";
  expect_has(error_of(chain + ";"), "expression nested deeper than 200 levels");
  expect_has(error_of("x = 99999999999999999999;"), "integer literal 99999999999999999999 is too large");
  expect_has(error_of("x = []; for i in range(1000) { x = [x]; }"), "lists or dicts nested more than 100 levels deep");
  expect_has(error_of("s = \"ab\"; for i in range(40) { s = s + s; }"), "string longer than 1048576 bytes");
  Limits shallow;
  shallow.max_eval_depth = 50;
  try {
    Interpreter in(shallow);
    in.run_source("def f(n) { return 0 if n == 0 else 1 + f(n - 1); } x = f(40);", "t.rasp");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    expect_has(e.message(), "expressions and calls nested more than 50 deep");
  }
}

TEST(RaspErrors, TooLongInputIsAnErrorNotACrash) {
  Interpreter in;
  in.run_source("x = selector_width(select(tokens, tokens, ==));", "t");
  EvalOptions opts;
  opts.max_len = 100;
  try {
    evaluate({in.lookup("x")->node}, input_parse(std::string(101, 'a')), opts);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    expect_has(e.message(), "the input has 101 tokens, more than the limit of 100");
  }
}

TEST(RaspErrors, InputListSyntax) {
  EXPECT_EQ(show(input_parse("[1, -2, 2.5, \"a\", True]")), "[1, -2, 2.5, \"a\", True]");
  EXPECT_EQ(show(input_parse("hé")), "[\"h\", \"é\"]");
  EXPECT_EQ(show(input_parse("[1, 2")), R"(["[", "1", ",", " ", "2"])");  // not a list: characters
  EXPECT_EQ(show(input_parse("[]")), R"(["[", "]"])");
  EXPECT_EQ(show(input_parse("[1]", true)), R"(["[", "1", "]"])");
  try {
    input_parse("[1, 2", false, true);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    expect_has(e.message(), "expected a number, string, True or False in the input list, found end of input");
  }
}

}  // namespace attnlab::rasp::test
