// The REPL's session logic (the libedit loop around it is a thin shell): assignments print their value
// on the example, multi-line defs wait for their closing brace, errors print and the session goes on.
#include "rasp/repl.h"
#include "rasp_test_util.h"

namespace attnlab::rasp::test {

static std::string feed(ReplSession& s, const std::string& line, bool expect_more = false) {
  bool more = true;
  std::string out = s.line_feed(line, &more);
  EXPECT_EQ(more, expect_more) << "after line: " << line;
  return out;
}

TEST(RaspRepl, AssignmentsPrintOnTheExample) {
  ReplSession s;
  EXPECT_EQ(feed(s, "x = indices + 1;"), "x = s-op (set example \"...\" to see its values)\n");
  EXPECT_EQ(feed(s, "set example \"abc\""), "example = \"abc\"\n");
  EXPECT_EQ(feed(s, "show example"), "example = \"abc\"\n");
  EXPECT_EQ(feed(s, "y = x * 2;"), "y(\"abc\") = [2, 4, 6]\n");
  EXPECT_EQ(feed(s, "n = 3;"), "n = 3\n");
  EXPECT_EQ(feed(s, "show x"), "x(\"abc\") = [1, 2, 3]\n");
  EXPECT_EQ(feed(s, "set example [3, 1]"), "example = [3, 1]\n");
  EXPECT_EQ(feed(s, "w = selector_width(select(tokens, tokens, <));"), "w([3, 1]) = [1, 0]\n");
  EXPECT_EQ(feed(s, "sel = select(tokens, tokens, <);"),
            "sel([3, 1]) = selector (row = query, column = key)\n  3 | 0 1\n  1 | 0 0\n");
}

TEST(RaspRepl, MultiLineDefAndErrorsDoNotEndTheSession) {
  ReplSession s;
  feed(s, "set example \"ab\"");
  EXPECT_EQ(feed(s, "def twice(x) {", true), "");
  EXPECT_EQ(feed(s, "  return x + x;", true), "");
  EXPECT_EQ(feed(s, "}"), "twice = function twice\n");
  std::string err = feed(s, "z = twice(tokenz);");
  EXPECT_NE(err.find("error: <repl>:1:11: unknown name 'tokenz'"), std::string::npos) << err;
  EXPECT_EQ(feed(s, "z = twice(tokens);"), "z(\"ab\") = [\"aa\", \"bb\"]\n");
  err = feed(s, "bad = aggregate(select(indices, indices, <=), tokens);");
  EXPECT_NE(err.find("bad = s-op, but on the example:\nerror:"), std::string::npos) << err;
  EXPECT_NE(err.find("the selected values disagree"), std::string::npos) << err;
  EXPECT_EQ(feed(s, "load \"lib/reverse\";"), "");
  EXPECT_EQ(feed(s, "r = reverse(tokens);"), "r(\"ab\") = [\"b\", \"a\"]\n");
  EXPECT_EQ(feed(s, "set causal on"), "causal mode on\n");
  EXPECT_EQ(feed(s, "c = selector_width(select(tokens, tokens, True));"), "c(\"ab\") = [1, 2]\n");
}

}  // namespace attnlab::rasp::test
