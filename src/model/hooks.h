// Activation hooks keyed by TransformerLens hook names (docs/hooks.md lists every name and shape).
// A Hooks object is passed to forward(): at each hook point the model calls hooks(name, x), which first applies
// every patch whose glob matches (activation patching / ablation: the returned tensor replaces x downstream),
// then stores x in the cache if a cache glob matches. Globs use fnmatch syntax: "*" also matches ".".
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace attnlab {

using HookPatch = std::function<torch::Tensor(const torch::Tensor& value, const std::string& name)>;

class Hooks {
 public:
  void cache_add(const std::string& glob) { cache_globs_.push_back(glob); }
  void patch_add(const std::string& glob, HookPatch patch) { patches_.emplace_back(glob, std::move(patch)); }

  // Called by the model at every hook point; returns the (possibly patched) value.
  torch::Tensor operator()(const std::string& name, torch::Tensor value);

  // Cached activations in the order the forward pass produced them; detached from autograd.
  const std::vector<std::pair<std::string, torch::Tensor>>& cache() const { return cache_; }
  torch::Tensor cached(const std::string& name) const;  // Error when absent
  void cache_clear() { cache_.clear(); }
  std::vector<std::string> names_seen() const { return seen_; }  // every hook point reached, cached or not

 private:
  std::vector<std::string> cache_globs_;
  std::vector<std::pair<std::string, HookPatch>> patches_;
  std::vector<std::pair<std::string, torch::Tensor>> cache_;
  std::vector<std::string> seen_;
};

bool glob_match(const std::string& glob, const std::string& name);

// The hook call as written in forward passes: a no-op when there are no hooks.
inline torch::Tensor hook(Hooks* hooks, const std::string& name, torch::Tensor x) {
  return hooks ? (*hooks)(name, std::move(x)) : x;
}

}  // namespace attnlab
