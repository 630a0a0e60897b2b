// libFuzzer target for the safetensors reader (src/util/safetensors.cpp), which treats every file as untrusted.
// Contract checked: safetensors_parse either returns or throws attnlab::Error; anything else (another exception,
// a crash, an ASan/UBSan report) is a bug. A file it accepts must also round-trip: the writer accepts it and
// re-reading the writer's bytes gives the same tensors and metadata.
#include <cstdint>
#include <cstdlib>

#include "util/error.h"
#include "util/safetensors.h"

namespace {

bool same(const attnlab::SafetensorsFile& a, const attnlab::SafetensorsFile& b) {
  if (a.tensors.size() != b.tensors.size() || a.metadata != b.metadata) return false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const attnlab::TensorData& x = a.tensors[i];
    const attnlab::TensorData& y = b.tensors[i];
    if (x.name != y.name || x.dtype != y.dtype || x.shape != y.shape || x.bytes != y.bytes) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attnlab::SafetensorsFile file;
  try {
    file = attnlab::safetensors_parse(data, size, "fuzz");
  } catch (const attnlab::Error&) {
    return 0;  // refused: the expected outcome for most inputs
  }
  // Accepted: the writer must accept it too (any Error here escapes and aborts the run), and round-trip it.
  std::vector<uint8_t> bytes = attnlab::safetensors_serialize(file);
  if (!same(attnlab::safetensors_parse(bytes.data(), bytes.size(), "fuzz round trip"), file)) std::abort();
  return 0;
}
