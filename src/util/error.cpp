#include "util/error.h"

namespace attnlab {

Error::Error(std::string message, std::string hint)
    : std::runtime_error(message), message_(std::move(message)), hint_(std::move(hint)) {}

std::string Error::format() const {
  std::string out = "error: " + message_;
  if (!hint_.empty()) out += "\nHINT: " + hint_;
  return out;
}

}  // namespace attnlab
