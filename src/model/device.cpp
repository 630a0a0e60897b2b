#include "model/device.h"

#include "util/error.h"

namespace attnlab {

void torch_threads_set(int n) { torch::set_num_threads(n > 0 ? n : 1); }

torch::Dtype dtype_from_string(const std::string& s) {
  if (s == "f32" || s == "float32") return torch::kFloat32;
  if (s == "f64" || s == "float64") return torch::kFloat64;
  throw Error("unknown dtype '" + s + "'", "use f32 or f64");
}

torch::Device device_from_string(const std::string& s) {
  if (s == "cpu") return torch::Device(torch::kCPU);
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw Error("device '" + s + "' requested but CUDA is not available in this build",
                  "build against a CUDA LibTorch (see README, 'GPU build') or use --device cpu");
    if (s == "cuda") return torch::Device(torch::kCUDA, 0);
    try {
      int idx = std::stoi(s.substr(5));
      return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(idx));
    } catch (const std::exception&) {
      throw Error("bad device '" + s + "'", "use cpu, cuda or cuda:N");
    }
  }
  throw Error("unknown device '" + s + "'", "use cpu, cuda or cuda:N");
}

}  // namespace attnlab
