#include "report/pack.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace attnlab {

std::string base64_encode(const uint8_t* bytes, size_t n) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t(bytes[i]) << 16) | (uint32_t(bytes[i + 1]) << 8) | bytes[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < n) {  // 1 or 2 bytes left
    uint32_t v = uint32_t(bytes[i]) << 16;
    if (i + 1 < n) v |= uint32_t(bytes[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

uint32_t f24_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if (std::isnan(value)) return ((bits & 0x80000000u) | 0x7FC00000u) >> 8;  // keep it a NaN, not inf
  if (std::isfinite(value)) bits += 0x80u;  // round to nearest; a carry into the exponent is correct rounding
  return bits >> 8;
}

std::string pack_f24_base64(const float* values, size_t n) {
  std::vector<uint8_t> bytes(3 * n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t b = f24_bits(values[i]);
    bytes[3 * i] = uint8_t(b >> 16);
    bytes[3 * i + 1] = uint8_t(b >> 8);
    bytes[3 * i + 2] = uint8_t(b);
  }
  return base64_encode(bytes.data(), bytes.size());
}

}  // namespace attnlab
