// Helpers for the RASP tests: run program text, evaluate one named s-op on an input, show the result as
// text ("[1, 2.5, \"a\"]": ints without a point, floats with one, strings quoted) so that expectations are
// written by hand and also check that integers stay integers.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "rasp/eval.h"
#include "rasp/interp.h"
#include "util/error.h"

namespace attnlab::rasp::test {

inline std::string show(const Column& c) {
  std::string s = "[";
  for (size_t i = 0; i < c.size(); ++i) s += (i ? ", " : "") + atom_repr(c[i]);
  return s + "]";
}

// Runs src, evaluates the s-op bound to name on input ("abc" or "[1, 2]"), returns it shown.
inline std::string run(const std::string& src, const std::string& name, const std::string& input, bool causal = false) {
  Interpreter in;
  in.run_source(src, "test.rasp");
  const Value* v = in.lookup(name);
  if (!v || !v->is_sop()) throw Error("test: '" + name + "' is not an s-op");
  EvalOptions opts;
  opts.causal = causal;
  return show(evaluate({v->node}, input_parse(input), opts).at(v->node));
}

// The attnlab::Error message (and hint) that running + evaluating throws; "" if nothing is thrown.
inline std::string error_of(const std::string& src, const std::string& name = "", const std::string& input = "abc") {
  try {
    Interpreter in;
    in.run_source(src, "test.rasp");
    if (!name.empty()) run(src, name, input);
  } catch (const Error& e) {
    return e.format();
  }
  return "";
}

}  // namespace attnlab::rasp::test
