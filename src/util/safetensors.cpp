// safetensors reader and writer, to the format's spec (github.com/huggingface/safetensors, "Format"):
//   [u64 little-endian N][N bytes of UTF-8 JSON header, space-padded][data section]
// The reader trusts nothing: every rule below is one check, and each failure is an Error
// "<origin>: tensor '<name>': <rule>" with a HINT. Entry rules are all collected before failing. No byte outside
// [data, data + size) is ever read; sizes are checked for overflow before they are used.
// (~450 lines, past the usual 400: the writer refuses exactly what the reader refuses, so both stay in one file.)
#include "util/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "util/error.h"
#include "util/fs.h"

namespace attnlab {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr const char* kMetadataKey = "__metadata__";
constexpr int kMaxJsonDepth = 8;  // the format needs 3: header object > entry object > shape array
constexpr size_t kMaxListedProblems = 20;
constexpr uint64_t kMaxBytes = std::numeric_limits<int64_t>::max();
constexpr const char* kCorruptHint =
    "the file is corrupt or was written by a non-conforming writer; re-export it "
    "(e.g. safetensors.torch.save_file, or attnlab's own writer)";

struct DtypeInfo {
  Dtype dtype;
  const char* name;
  size_t size;  // bytes per element
};
constexpr DtypeInfo kDtypes[] = {{Dtype::F64, "F64", 8},   {Dtype::F32, "F32", 4}, {Dtype::F16, "F16", 2},
                                 {Dtype::BF16, "BF16", 2}, {Dtype::I64, "I64", 8}, {Dtype::I32, "I32", 4},
                                 {Dtype::I8, "I8", 1},     {Dtype::U8, "U8", 1},   {Dtype::BOOL, "BOOL", 1}};

const DtypeInfo* dtype_find(const std::string& name) {
  for (const DtypeInfo& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeInfo& dtype_info(Dtype dtype) {
  for (const DtypeInfo& d : kDtypes)
    if (d.dtype == dtype) return d;
  throw Error("invalid Dtype value " + std::to_string(static_cast<int>(dtype)), "this is a bug in attnlab");
}

std::string dtype_list() {
  std::string out;
  for (const DtypeInfo& d : kDtypes) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

// One violated rule: `what` is "tensor 'x': rule" (without the origin). Internal; never escapes this file.
struct Problem {
  std::string what;
  std::string hint;
};
using Problems = std::vector<Problem>;

// Throws one Error listing every problem (at most kMaxListedProblems of them), or returns when there are none.
void problems_throw(const std::string& origin, const Problems& problems) {
  if (problems.empty()) return;
  if (problems.size() == 1) throw Error(origin + ": " + problems[0].what, problems[0].hint);
  std::string message = origin + ": " + std::to_string(problems.size()) + " problems:";
  for (size_t i = 0; i < problems.size() && i < kMaxListedProblems; ++i) message += "\n  " + problems[i].what;
  if (problems.size() > kMaxListedProblems)
    message += "\n  ... and " + std::to_string(problems.size() - kMaxListedProblems) + " more";
  throw Error(message, problems[0].hint);
}

// An untrusted string as shown in messages: quoted, control bytes escaped, cut at 80 bytes on a character boundary.
std::string show(const std::string& s) {
  size_t n = std::min<size_t>(s.size(), 80);
  while (n < s.size() && n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  std::string out = "'";
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<uint8_t>(s[i]);
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += (c < 0x20 || c == 0x7F) ? std::string(buf) : std::string(1, s[i]);
  }
  return out + (n < s.size() ? "...'" : "'");
}

// A JSON value as shown in messages: its kind and its text, cut at 40 bytes.
std::string brief(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 40) + "...";
  return std::string(v.type_name()) + " " + text;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size() && i < 16; ++i) {
    if (i) out += ',';
    out += std::to_string(shape[i]);
  }
  out += shape.size() > 16 ? ",...]" : "]";
  return out;
}

std::string offsets_str(uint64_t begin, uint64_t end) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "[%llu, %llu]", static_cast<unsigned long long>(begin),
                static_cast<unsigned long long>(end));
  return buf;
}

// Bytes that `shape` x `dtype` occupies; false when a dimension is negative or the product of the nonzero
// dimensions x dtype size passes 2^63-1 (zeros do not excuse that: strides of such a shape still overflow).
bool shape_bytes(const std::vector<int64_t>& shape, Dtype dtype, uint64_t* bytes) {
  uint64_t product = dtype_size(dtype);
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0) return false;
    empty = empty || d == 0;
    if (d > 0 && (__builtin_mul_overflow(product, static_cast<uint64_t>(d), &product) || product > kMaxBytes))
      return false;
  }
  *bytes = empty ? 0 : product;
  return true;
}

// Offset of the first byte that is not well-formed UTF-8 (Unicode table 3-7: no overlongs, no surrogates,
// nothing past U+10FFFF), or npos when all of [s, s + n) is.
size_t utf8_invalid_at(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      lo = c == 0xE0 ? 0xA0 : 0x80;  // E0 80..9F would be overlong
      hi = c == 0xED ? 0x9F : 0xBF;  // ED A0..BF would be a surrogate
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      lo = c == 0xF0 ? 0x90 : 0x80;  // F0 80..8F would be overlong
      hi = c == 0xF4 ? 0x8F : 0xBF;  // F4 90.. would pass U+10FFFF
    } else {
      return i;  // a stray continuation byte, C0/C1 (overlong), or F5..FF
    }
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if ((s[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string::npos;
}

// ---------------------------------------------------------------- reader

// Parses the header bytes into a JSON object. nlohmann silently keeps the last of duplicate keys, so a parser
// callback keeps one key set per open object and stops at the first repeat; it also caps the nesting depth.
json header_parse(const uint8_t* p, size_t n, const std::string& origin) {
  size_t bad = utf8_invalid_at(p, n);
  if (bad != std::string::npos) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", p[bad]);
    throw Error(origin + ": header is not valid UTF-8 (byte " + byte + " at header offset " + std::to_string(bad) + ")",
                kCorruptHint);
  }
  std::vector<std::set<std::string>> open_objects;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth)
      throw Error(origin + ": header nests deeper than " + std::to_string(kMaxJsonDepth) + " levels", kCorruptHint);
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == json::parse_event_t::object_end) open_objects.pop_back();
    if (event == json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (open_objects.size() == 1)
        throw Error(origin + ": duplicate tensor name " + show(key) + " in the header",
                    "each tensor name may appear once; the file's writer is broken, re-export it");
      throw Error(origin + ": duplicate key " + show(key) + " inside a header entry", kCorruptHint);
    }
    return true;
  };
  json header;
  try {
    header = json::parse(p, p + n, callback);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e999
    throw Error(origin + ": header is not valid JSON: " + e.what(), kCorruptHint);
  }
  if (!header.is_object())
    throw Error(origin + ": header must be a JSON object {name: entry, ...}, got " + brief(header), kCorruptHint);
  return header;
}

// One header entry, checked against the data section but not yet against the other entries.
struct Entry {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // data_offsets, relative to the data section
};

// A JSON number as a non-negative integer that fits int64, or a Problem naming `what` (e.g. "shape[2]").
uint64_t index_read(const json& v, const std::string& what) {
  if (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0)
    throw Problem{what + " = " + std::to_string(v.get<int64_t>()) + " is negative", kCorruptHint};
  if (!v.is_number_integer()) throw Problem{what + " must be a non-negative integer, got " + brief(v), kCorruptHint};
  uint64_t x = v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(v.get<int64_t>());
  if (x > kMaxBytes) throw Problem{what + " = " + std::to_string(x) + " exceeds 2^63-1", kCorruptHint};
  return x;
}

void entry_keys_check(const json& v) {
  if (!v.is_object())
    throw Problem{"entry must be an object {\"dtype\", \"shape\", \"data_offsets\"}, got " + brief(v), kCorruptHint};
  for (const auto& item : v.items())
    if (item.key() != "dtype" && item.key() != "shape" && item.key() != "data_offsets")
      throw Problem{"unexpected key " + show(item.key()) + " (an entry has exactly dtype, shape, data_offsets)",
                    kCorruptHint};
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) throw Problem{std::string("missing key '") + key + "'", kCorruptHint};
}

Entry entry_read(const std::string& name, const json& v, uint64_t data_size) {
  if (name.empty()) throw Problem{"empty tensor name", "give every tensor a non-empty name"};
  entry_keys_check(v);
  Entry e;
  e.name = name;
  const json& dtype = v.at("dtype");
  if (!dtype.is_string()) throw Problem{"'dtype' must be a string, got " + brief(dtype), kCorruptHint};
  const DtypeInfo* info = dtype_find(dtype.get_ref<const std::string&>());
  if (!info)
    throw Problem{"unknown dtype " + show(dtype.get_ref<const std::string&>()) + " (supported: " + dtype_list() + ")",
                  "convert the tensor to a supported dtype before saving"};
  e.dtype = info->dtype;
  const json& shape = v.at("shape");
  if (!shape.is_array()) throw Problem{"'shape' must be an array of integers, got " + brief(shape), kCorruptHint};
  for (size_t i = 0; i < shape.size(); ++i)
    e.shape.push_back(static_cast<int64_t>(index_read(shape[i], "shape[" + std::to_string(i) + "]")));
  const json& offsets = v.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2)
    throw Problem{"'data_offsets' must be [begin, end], got " + brief(offsets), kCorruptHint};
  e.begin = index_read(offsets[0], "data_offsets[0]");
  e.end = index_read(offsets[1], "data_offsets[1]");
  std::string at = "data_offsets " + offsets_str(e.begin, e.end);
  if (e.begin > e.end) throw Problem{at + " have begin > end", kCorruptHint};
  if (e.end > data_size)
    throw Problem{at + " run out of bounds: the data section has " + std::to_string(data_size) + " bytes",
                  "the file is truncated or its header is corrupt; re-download or re-export it"};
  uint64_t needed = 0;
  if (!shape_bytes(e.shape, e.dtype, &needed))
    throw Problem{"shape " + shape_str(e.shape) + " x " + info->name +
                      " overflows: its nonzero dimensions need more than 2^63-1 bytes",
                  kCorruptHint};
  if (needed != e.end - e.begin)
    throw Problem{at + " give " + std::to_string(e.end - e.begin) + " bytes but shape " + shape_str(e.shape) + " x " +
                      info->name + " needs " + std::to_string(needed),
                  kCorruptHint};
  return e;
}

void metadata_read(const json& v, std::map<std::string, std::string>* metadata, Problems* problems) {
  if (!v.is_object()) {
    problems->push_back({"'__metadata__' must be an object of string -> string, got " + brief(v), kCorruptHint});
    return;
  }
  for (const auto& item : v.items()) {
    if (item.value().is_string())
      (*metadata)[item.key()] = item.value().get<std::string>();
    else
      problems->push_back(
          {"'__metadata__' value for key " + show(item.key()) + " must be a string, got " + brief(item.value()),
           "store metadata values as strings (e.g. json.dumps the value)"});
  }
}

// Sorted by offset, the entries must tile [0, data_size) exactly: no gap, no overlap, no trailing bytes.
void layout_check(std::vector<Entry>* entries, uint64_t data_size, Problems* problems) {
  std::sort(entries->begin(), entries->end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end != b.end ? a.end < b.end : a.name < b.name;
  });
  uint64_t covered = 0;         // [0, covered) is claimed by the entries so far
  const Entry* last = nullptr;  // the entry that reaches `covered`
  for (const Entry& e : *entries) {
    std::string where = "tensor " + show(e.name) + ": data_offsets " + offsets_str(e.begin, e.end);
    if (e.begin > covered)
      problems->push_back({where + " leave a gap: data bytes [" + std::to_string(covered) + ", " +
                               std::to_string(e.begin) + ") belong to no tensor",
                           kCorruptHint});
    if (e.begin < covered)
      problems->push_back(
          {where + " overlap tensor " + show(last->name) + " " + offsets_str(last->begin, last->end), kCorruptHint});
    if (e.end >= covered) {
      covered = e.end;
      last = &e;
    }
  }
  if (covered < data_size)
    problems->push_back({"trailing bytes: the data section has " + std::to_string(data_size) +
                             " bytes but the tensors cover only " + std::to_string(covered),
                         kCorruptHint});
}

}  // namespace

size_t dtype_size(Dtype dtype) { return dtype_info(dtype).size; }
std::string dtype_name(Dtype dtype) { return dtype_info(dtype).name; }

Dtype dtype_parse(const std::string& name) {
  const DtypeInfo* info = dtype_find(name);
  if (!info) throw Error("unknown dtype " + show(name), "use one of: " + dtype_list());
  return info->dtype;
}

const TensorData* SafetensorsFile::find(const std::string& name) const {
  for (const TensorData& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

SafetensorsFile safetensors_parse(const uint8_t* data, size_t size, const std::string& origin) {
  const char* truncated_hint = "the file is truncated or not a safetensors file; re-download or re-export it";
  if (size < 8)
    throw Error(origin + ": file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length",
                truncated_hint);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > kSafetensorsMaxHeader)
    throw Error(origin + ": header length " + std::to_string(n) + " exceeds the cap of " +
                    std::to_string(kSafetensorsMaxHeader) + " bytes",
                truncated_hint);
  if (n > size - 8)
    throw Error(origin + ": header length " + std::to_string(n) + " runs past the end of the file (" +
                    std::to_string(size - 8) + " bytes follow the length)",
                truncated_hint);
  json header = header_parse(data + 8, n, origin);
  const uint8_t* section = data + 8 + n;
  uint64_t data_size = size - 8 - n;

  SafetensorsFile file;
  Problems problems;
  std::vector<Entry> entries;
  for (const auto& item : header.items()) {
    if (item.key() == kMetadataKey) {
      metadata_read(item.value(), &file.metadata, &problems);
      continue;
    }
    try {
      entries.push_back(entry_read(item.key(), item.value(), data_size));
    } catch (const Problem& p) {
      problems.push_back({"tensor " + show(item.key()) + ": " + p.what, p.hint});
    }
  }
  problems_throw(origin, problems);  // the layout is only meaningful once every entry is well-formed
  layout_check(&entries, data_size, &problems);
  problems_throw(origin, problems);
  for (Entry& e : entries)
    file.tensors.push_back(
        {std::move(e.name), e.dtype, std::move(e.shape), std::vector<uint8_t>(section + e.begin, section + e.end)});
  return file;
}

SafetensorsFile safetensors_read(const std::string& path) {
  std::vector<uint8_t> bytes = file_read_bytes(path);
  return safetensors_parse(bytes.data(), bytes.size(), path);
}

// ---------------------------------------------------------------- writer

namespace {

bool utf8_valid(const std::string& s) {
  return utf8_invalid_at(reinterpret_cast<const uint8_t*>(s.data()), s.size()) == std::string::npos;
}

// Everything the reader would refuse, checked before a byte is written.
void file_check(const SafetensorsFile& file, const std::string& origin) {
  Problems problems;
  std::set<std::string> seen;
  for (const TensorData& t : file.tensors) {
    std::string where = "tensor " + show(t.name) + ": ";
    uint64_t needed = 0;
    if (t.name.empty())
      problems.push_back({where + "empty tensor name", "give every tensor a non-empty name"});
    else if (t.name == kMetadataKey)
      problems.push_back({where + "the name is reserved for metadata", "rename the tensor"});
    else if (!utf8_valid(t.name))
      problems.push_back({where + "name is not valid UTF-8", "rename the tensor"});
    else if (!seen.insert(t.name).second)
      problems.push_back({where + "duplicate tensor name", "give each tensor a unique name"});
    if (!shape_bytes(t.shape, t.dtype, &needed))
      problems.push_back({where + "shape " + shape_str(t.shape) + " has a negative dimension or overflows",
                          "dimensions must be non-negative and the size below 2^63 bytes"});
    else if (needed != t.bytes.size())
      problems.push_back({where + "has " + std::to_string(t.bytes.size()) + " bytes but shape " + shape_str(t.shape) +
                              " x " + dtype_name(t.dtype) + " needs " + std::to_string(needed),
                          "fill `bytes` with numel(shape) * dtype_size(dtype) little-endian bytes"});
  }
  for (const auto& [key, value] : file.metadata)
    if (!utf8_valid(key) || !utf8_valid(value))
      problems.push_back({"metadata key " + show(key) + ": key or value is not valid UTF-8", "store UTF-8 text"});
  problems_throw(origin, problems);
}

std::vector<uint8_t> serialize(const SafetensorsFile& file, const std::string& origin) {
  file_check(file, origin);
  ordered_json header = ordered_json::object();
  if (!file.metadata.empty()) header[kMetadataKey] = file.metadata;
  uint64_t offset = 0;
  for (const TensorData& t : file.tensors) {
    header[t.name] = ordered_json{{"dtype", dtype_name(t.dtype)},
                                  {"shape", t.shape},
                                  {"data_offsets", ordered_json::array({offset, offset + t.bytes.size()})}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data section starts 8-byte aligned
  if (text.size() > kSafetensorsMaxHeader)
    throw Error(origin + ": header would be " + std::to_string(text.size()) + " bytes, over the reader's cap of " +
                    std::to_string(kSafetensorsMaxHeader),
                "split the tensors over several files or shorten the names and metadata");
  std::vector<uint8_t> out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const TensorData& t : file.tensors) out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  return out;
}

}  // namespace

std::vector<uint8_t> safetensors_serialize(const SafetensorsFile& file) {
  return serialize(file, "safetensors writer");
}

void safetensors_write(const std::string& path, const SafetensorsFile& file) {
  std::vector<uint8_t> bytes = serialize(file, path);
  file_write_atomic(path, bytes.data(), bytes.size());
}

}  // namespace attnlab
