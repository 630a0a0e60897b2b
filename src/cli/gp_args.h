// Option parsing and output helpers shared by the `attnlab gp ...` commands (cmd_gp.cpp, cmd_gp_sectors.cpp,
// cmd_gp_trained.cpp): comma-separated number lists, token probabilities, V/L ranges, progress lines, and
// writing a file and printing its path. Every mistake is one Error naming the option and the item.
#pragma once

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab::gp_args {

// A progress line on stderr unless --quiet.
inline void progress(const std::string& line) {
  if (!cli_globals().quiet) std::cerr << line << std::endl;
}

// "1,2.5,4" -> {1, 2.5, 4}; `what` names the option in errors.
inline std::vector<double> parse_doubles(const std::string& text, const std::string& what) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    check(!item.empty() && *end == '\0' && std::isfinite(v), what + ": '" + item + "' is not a number",
          "write a comma-separated list, e.g. " + what + " 1,2,4");
    out.push_back(v);
  }
  check(!out.empty(), what + " is empty", "write a comma-separated list, e.g. " + what + " 1,2,4");
  return out;
}

// Positive integers up to `max`, e.g. --widths 16,64,256.
inline std::vector<int64_t> parse_positive_ints(const std::string& text, const std::string& what, double max) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    check(!item.empty() && *end == '\0' && v >= 1 && v <= max && v == std::floor(v),
          what + ": '" + item + "' is not a positive integer (at most " + std::to_string((int64_t)max) + ")",
          "write a comma-separated list, e.g. " + what + " 4,16,64");
    out.push_back((int64_t)v);
  }
  check(!out.empty(), what + " is empty", "write a comma-separated list, e.g. " + what + " 4,16,64");
  return out;
}

// --probs for V tokens, normalised to sum 1; empty text = {} (uniform).
inline std::vector<double> token_probs(const std::string& text, int vocab) {
  if (text.empty()) return {};
  auto q = parse_doubles(text, "--probs");
  check((int)q.size() == vocab, "--probs has " + std::to_string(q.size()) + " entries but V = " + std::to_string(vocab),
        "give one probability per token");
  double s = 0;
  for (double v : q) {
    check(v > 0, "--probs: every probability must be positive", "drop unused tokens by lowering --vocab");
    s += v;
  }
  for (double& v : q) v /= s;
  return q;
}

inline void check_vocab_length(int vocab, int length) {
  check(vocab >= 1 && vocab <= 64, "--vocab " + std::to_string(vocab) + " is out of range", "use 1 <= V <= 64");
  check(length >= 1 && length <= 512, "--length " + std::to_string(length) + " is out of range", "use 1 <= L <= 512");
}

// Writes `text` to `path` atomically and prints "what: path".
inline void write_text(const std::string& path, const std::string& text, const std::string& what) {
  file_write_atomic(path, text);
  std::cout << what << ": " << path << "\n";
}

}  // namespace attnlab::gp_args
