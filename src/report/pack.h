// Compact float arrays for the standalone HTML views (attention now; training curves and residual views later).
// JSON decimal text costs ~8 bytes per attention value ("0.001953,"), so a 512-token pattern would be tens of MB.
// Instead a float array travels as one base64 string of "f24" values: each f32 rounded to nearest on its top
// 24 bits (sign, 8 exponent bits, 15 mantissa bits), 3 bytes per value, most significant byte first, i.e.
// 4 base64 characters per value. Relative error <= 2^-16 ~ 1.5e-5 (~4.8 significant digits) over the whole f32
// range; 0, +-inf and NaN survive. web/viewer.js decodes it (decodeF24) into a Float32Array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace attnlab {

// Standard base64 (RFC 4648 alphabet, '=' padding, no line breaks).
std::string base64_encode(const uint8_t* bytes, size_t n);

// The 3 most significant bytes of value's f32 bit pattern after round-to-nearest on the dropped byte.
// NaN stays a (quiet) NaN; a finite value above the largest f24 rounds to inf.
uint32_t f24_bits(float value);  // result in [0, 2^24)

// base64 of f24_bits(values[i]) for i < n, 3 bytes each, most significant first: 4 * n characters.
std::string pack_f24_base64(const float* values, size_t n);

}  // namespace attnlab
