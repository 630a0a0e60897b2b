#include "model/weights.h"

#include <cstring>

#include "util/error.h"

namespace attnlab {

torch::Dtype dtype_to_torch(Dtype dtype) {
  switch (dtype) {
    case Dtype::F64: return torch::kFloat64;
    case Dtype::F32: return torch::kFloat32;
    case Dtype::F16: return torch::kFloat16;
    case Dtype::BF16: return torch::kBFloat16;
    case Dtype::I64: return torch::kInt64;
    case Dtype::I32: return torch::kInt32;
    case Dtype::I8: return torch::kInt8;
    case Dtype::U8: return torch::kUInt8;
    case Dtype::BOOL: return torch::kBool;
  }
  return torch::kFloat32;
}

Dtype dtype_from_torch(torch::Dtype dtype) {
  for (Dtype d : {Dtype::F64, Dtype::F32, Dtype::F16, Dtype::BF16, Dtype::I64, Dtype::I32, Dtype::I8, Dtype::U8,
                  Dtype::BOOL})
    if (dtype_to_torch(d) == dtype) return d;
  throw Error(std::string("tensor dtype ") + c10::toString(dtype) + " cannot be stored in safetensors here",
              "convert to float32 or float64 first");
}

torch::Tensor tensor_from_data(const TensorData& data) {
  auto t = torch::empty(data.shape, torch::dtype(dtype_to_torch(data.dtype)));
  if (!data.bytes.empty()) std::memcpy(t.data_ptr(), data.bytes.data(), data.bytes.size());
  return t;
}

TensorData tensor_to_data(const std::string& name, const torch::Tensor& tensor) {
  auto t = tensor.detach().to(torch::kCPU).contiguous();
  TensorData d;
  d.name = name;
  d.dtype = dtype_from_torch(t.scalar_type());
  d.shape = t.sizes().vec();
  d.bytes.resize(static_cast<size_t>(t.numel()) * t.element_size());
  if (!d.bytes.empty()) std::memcpy(d.bytes.data(), t.data_ptr(), d.bytes.size());
  return d;
}

std::vector<std::pair<std::string, torch::Tensor>> tensors_read(const std::string& path) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& d : safetensors_read(path).tensors) out.emplace_back(d.name, tensor_from_data(d));
  return out;
}

void tensors_write(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                   const std::map<std::string, std::string>& metadata) {
  SafetensorsFile file;
  file.metadata = metadata;
  for (const auto& [name, t] : tensors) file.tensors.push_back(tensor_to_data(name, t));
  safetensors_write(path, file);
}

}  // namespace attnlab
