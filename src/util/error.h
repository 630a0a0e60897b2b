// attnlab::Error — the one error type of the project: a message saying what went wrong and where,
// plus a HINT line saying what to do about it. The CLI prints both and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace attnlab {

class Error : public std::runtime_error {
 public:
  explicit Error(std::string message, std::string hint = "");
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  // "error: <message>\nHINT: <hint>" (the HINT line only when there is one)
  std::string format() const;

 private:
  std::string message_;  // what went wrong and where (file:line:col, tensor name, position)
  std::string hint_;     // what the user can do about it; may be empty
};

// Levenshtein distance, for "did you mean ..." hints (unknown names, unknown config keys).
size_t edit_distance(const std::string& a, const std::string& b);

// Throws Error(message, hint) unless cond holds.
inline void check(bool cond, const std::string& message, const std::string& hint = "") {
  if (!cond) throw Error(message, hint);
}

}  // namespace attnlab
