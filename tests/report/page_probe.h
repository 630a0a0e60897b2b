// Test-side readers for attnlab HTML pages, written independently of src/report: find the JSON data block the
// way an HTML parser would (up to the first "</script", any case), and decode base64 / f24 by hand.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace attnlab::probe {

inline std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// What an HTML parser sees as the JSON block: from the opening tag to the first "</script" (any case).
inline std::string data_block(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"attnlab-data\">";
  size_t a = page.find(open);
  EXPECT_NE(a, std::string::npos) << "no data block";
  if (a == std::string::npos) return "";
  a += open.size();
  size_t b = lower(page).find("</script", a);
  return page.substr(a, b - a);
}

inline std::vector<uint8_t> base64_decode(const std::string& s) {  // plain table lookup, '=' skipped
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (v < 0) continue;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t(acc >> bits));
    }
  }
  return out;
}

// f24: the top 3 bytes of an f32 bit pattern, most significant first.
inline std::vector<float> f24_decode(const std::string& b64) {
  std::vector<uint8_t> bytes = base64_decode(b64);
  std::vector<float> out(bytes.size() / 3);
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t bits = (uint32_t(bytes[3 * i]) << 24) | (uint32_t(bytes[3 * i + 1]) << 16) | (uint32_t(bytes[3 * i + 2]) << 8);
    std::memcpy(&out[i], &bits, sizeof bits);
  }
  return out;
}

}  // namespace attnlab::probe
