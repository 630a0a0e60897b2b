// Torch-side runtime setup: thread count, dtype and device selection from CLI strings.
#pragma once

#include <string>

#include <torch/torch.h>

namespace attnlab {

void torch_threads_set(int n);                         // torch::set_num_threads (Debian's default is 1)
torch::Dtype dtype_from_string(const std::string& s);  // "f32" | "f64"; Error otherwise
torch::Device device_from_string(const std::string& s);  // "cpu" | "cuda" | "cuda:N"; Error if unavailable

}  // namespace attnlab
