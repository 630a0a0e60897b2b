#include "model/hooks.h"

#include <fnmatch.h>

#include "util/error.h"

namespace attnlab {

bool glob_match(const std::string& glob, const std::string& name) {
  return fnmatch(glob.c_str(), name.c_str(), 0) == 0;
}

torch::Tensor Hooks::operator()(const std::string& name, torch::Tensor value) {
  seen_.push_back(name);
  for (const auto& [glob, patch] : patches_) {
    if (!glob_match(glob, name)) continue;
    torch::Tensor patched = patch(value, name);
    if (!patched.defined() || patched.sizes() != value.sizes())
      throw Error("hook patch for '" + name + "' returned a tensor of shape " +
                      (patched.defined() ? c10::str(patched.sizes()) : std::string("<undefined>")) + ", expected " +
                      c10::str(value.sizes()),
                  "a patch must return a tensor of the same shape as its input");
    value = patched.to(value.dtype());
  }
  for (const auto& glob : cache_globs_) {
    if (glob_match(glob, name)) {
      cache_.emplace_back(name, value.detach());
      break;
    }
  }
  return value;
}

torch::Tensor Hooks::cached(const std::string& name) const {
  for (const auto& [n, t] : cache_)
    if (n == name) return t;
  throw Error("activation '" + name + "' is not in the cache",
              "check the name against `attnlab model info DIR` and that the cache glob matches it");
}

}  // namespace attnlab
