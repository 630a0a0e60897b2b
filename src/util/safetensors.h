// safetensors reader and writer, written to the format's spec (no LibTorch here):
//   [8-byte little-endian u64 N][N bytes of JSON header][data]
//   header: {"name": {"dtype": "F32", "shape": [2,3], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
// The reader treats every file as untrusted: each violated rule is an Error naming the tensor and the rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attnlab {

enum class Dtype { F64, F32, F16, BF16, I64, I32, I8, U8, BOOL };

size_t dtype_size(Dtype dtype);             // bytes per element
std::string dtype_name(Dtype dtype);        // "F64", "F32", ...
Dtype dtype_parse(const std::string& name); // throws Error on an unknown name

struct TensorData {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<int64_t> shape;   // row-major; [] = scalar (one element)
  std::vector<uint8_t> bytes;   // little-endian elements, size = numel(shape) * dtype_size(dtype)
};

struct SafetensorsFile {
  std::vector<TensorData> tensors;              // in data-offset order when read; written in this order
  std::map<std::string, std::string> metadata;  // "__metadata__" (string -> string only)
  const TensorData* find(const std::string& name) const;  // nullptr when absent
};

inline constexpr uint64_t kSafetensorsMaxHeader = 100ull * 1000 * 1000;  // 100 MB header cap

// Parses an in-memory file. `origin` (a path) prefixes every error message.
SafetensorsFile safetensors_parse(const uint8_t* data, size_t size, const std::string& origin);
SafetensorsFile safetensors_read(const std::string& path);

// Serialises with the header padded by spaces to a multiple of 8 bytes. Validates names (unique, non-empty,
// not "__metadata__") and byte sizes first; throws Error on violation.
std::vector<uint8_t> safetensors_serialize(const SafetensorsFile& file);
// Writes to `path` atomically (temporary file in the same directory, then rename): an existing file is
// never left half-written.
void safetensors_write(const std::string& path, const SafetensorsFile& file);

}  // namespace attnlab
