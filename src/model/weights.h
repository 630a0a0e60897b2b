// torch::Tensor <-> safetensors TensorData, and whole-file load/save of named tensors.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "util/safetensors.h"

namespace attnlab {

torch::Dtype dtype_to_torch(Dtype dtype);
Dtype dtype_from_torch(torch::Dtype dtype);  // Error for dtypes safetensors here does not carry

torch::Tensor tensor_from_data(const TensorData& data);  // a CPU tensor owning a copy of the bytes
TensorData tensor_to_data(const std::string& name, const torch::Tensor& tensor);  // contiguous CPU copy

// Named tensors in file order.
std::vector<std::pair<std::string, torch::Tensor>> tensors_read(const std::string& path);
void tensors_write(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                   const std::map<std::string, std::string>& metadata = {});

}  // namespace attnlab
