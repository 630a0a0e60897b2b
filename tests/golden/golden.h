// Reading the shared golden table (tests/golden/rasp_cases.json): the interpreter tests and the compiler
// tests run the same hand-derived cases. Budget: integers exact (and integers), floats within 1e-12 relative.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "rasp/value.h"
#include "util/fs.h"

namespace attnlab::rasp::test {

using nlohmann::json;

inline json golden_load() {
  return json::parse(file_read_text(std::string(ATTNLAB_TEST_DATA) + "/golden/rasp_cases.json"));
}

inline Atom atom_from_json(const json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_float()) return j.get<double>();
  return j.get<std::string>();
}

// A vocabulary / input token as the user types it ("a", "1").
inline std::string token_text(const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

// "" when actual matches the expectation, else why not.
inline std::string atom_mismatch(const json& want, const Atom& got) {
  if (want.is_number_float()) {
    if (!atom_is_float(got)) return "expected the float " + want.dump() + ", got " + atom_type_name(got) + " " + atom_repr(got);
    double w = want.get<double>(), g = std::get<double>(got);
    return std::abs(w - g) <= 1e-12 * std::max(1.0, std::abs(w)) ? "" : "expected " + want.dump() + ", got " + atom_repr(got);
  }
  Atom w = atom_from_json(want);
  if (w.index() != got.index()) return "expected " + atom_type_name(w) + " " + atom_repr(w) + ", got " + atom_type_name(got) + " " + atom_repr(got);
  return atom_equal(w, got) ? "" : "expected " + atom_repr(w) + ", got " + atom_repr(got);
}

}  // namespace attnlab::rasp::test
