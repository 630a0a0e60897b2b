#include "util/error.h"

#include <algorithm>
#include <vector>

namespace attnlab {

Error::Error(std::string message, std::string hint)
    : std::runtime_error(message), message_(std::move(message)), hint_(std::move(hint)) {}

std::string Error::format() const {
  std::string out = "error: " + message_;
  if (!hint_.empty()) out += "\nHINT: " + hint_;
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace attnlab
