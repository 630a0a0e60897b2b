// safetensors reader on untrusted input: each file in tests/util/data/malformed/ (written by
// gen_safetensors_fixtures.py) breaks one rule and must be refused with an Error naming the path, the tensor and
// that rule; plus in-test edge cases the spec allows (listing order, zero-size tensors, non-ASCII names) and
// byte-level UTF-8 checks.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "util/error.h"
#include "util/fs.h"
#include "util/safetensors.h"

namespace attnlab {
namespace {

namespace fs = std::filesystem;

const std::string kMalformedDir = std::string(ATTNLAB_TEST_DATA) + "/util/data/malformed";

struct MalformedCase {
  const char* file;  // in kMalformedDir, without ".safetensors"
  const char* rule;  // must appear in the Error message
};

// The golden table: one row per file in kMalformedDir.
const MalformedCase kMalformed[] = {
    {"empty_file", "file is 0 bytes, shorter than the 8-byte header length"},
    {"truncated_prefix", "file is 4 bytes, shorter than the 8-byte header length"},
    {"header_cut_short", "header length 56 runs past the end of the file (12 bytes follow the length)"},
    {"huge_header_length", "header length 200000000 exceeds the cap of 100000000 bytes"},
    {"header_length_past_file", "header length 1000 runs past the end of the file (8 bytes follow the length)"},
    {"zero_header_length", "header is not valid JSON"},
    {"not_json", "header is not valid JSON"},
    {"json_not_object", "header must be a JSON object {name: entry, ...}, got array [1,2]"},
    {"bad_utf8_byte", "header is not valid UTF-8 (byte 0xff at header offset 3)"},
    {"bad_utf8_overlong", "header is not valid UTF-8 (byte 0xc0 at header offset 3)"},
    {"bad_utf8_surrogate", "header is not valid UTF-8 (byte 0xed at header offset 3)"},
    {"bad_utf8_truncated_sequence", "header is not valid UTF-8 (byte 0xe2 at header offset 3)"},
    {"number_overflow", "header is not valid JSON: [json.exception.out_of_range.406] number overflow"},
    {"deep_nesting", "header nests deeper than 8 levels"},
    {"entry_not_object", "tensor 'a': entry must be an object {\"dtype\", \"shape\", \"data_offsets\"}, got array"},
    {"unknown_dtype", "tensor 'a': unknown dtype 'U16' (supported: F64, F32, F16, BF16, I64, I32, I8, U8, BOOL)"},
    {"dtype_not_string", "tensor 'a': 'dtype' must be a string, got number 4"},
    {"negative_shape", "tensor 'a': shape[0] = -2 is negative"},
    {"float_shape", "tensor 'a': shape[0] must be a non-negative integer, got number 2.5"},
    {"string_shape", "tensor 'a': 'shape' must be an array of integers, got string \"2\""},
    {"shape_past_int64", "tensor 'a': shape[0] = 18446744073709551615 exceeds 2^63-1"},
    {"shape_product_overflow", "tensor 'a': shape [4294967296,4294967296] x F32 overflows"},
    {"missing_key", "tensor 'a': missing key 'data_offsets'"},
    {"extra_key", "tensor 'a': unexpected key 'offsets'"},
    {"offsets_wrong_arity", "tensor 'a': 'data_offsets' must be [begin, end], got array [0]"},
    {"negative_offset", "tensor 'a': data_offsets[0] = -8 is negative"},
    {"begin_after_end", "tensor 'a': data_offsets [8, 0] have begin > end"},
    {"offsets_out_of_bounds", "tensor 'a': data_offsets [0, 8] run out of bounds: the data section has 4 bytes"},
    {"wrong_byte_count", "tensor 'w': data_offsets [0, 95] give 95 bytes but shape [2,3,4] x F32 needs 96"},
    {"overlapping_offsets", "tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]"},
    {"zero_size_inside_other", "tensor 'z': data_offsets [4, 4] overlap tensor 'a' [0, 8]"},
    {"gap_between_tensors", "tensor 'b': data_offsets [12, 20] leave a gap: data bytes [8, 12) belong to no tensor"},
    {"gap_at_start", "tensor 'a': data_offsets [4, 12] leave a gap: data bytes [0, 4) belong to no tensor"},
    {"trailing_bytes", "trailing bytes: the data section has 12 bytes but the tensors cover only 8"},
    {"duplicate_names", "duplicate tensor name 'a' in the header"},
    {"duplicate_entry_key", "duplicate key 'dtype' inside a header entry"},
    {"empty_name", "tensor '': empty tensor name"},
    {"metadata_not_object", "'__metadata__' must be an object of string -> string, got string \"pt\""},
    {"metadata_value_not_string", "'__metadata__' value for key 'epoch' must be a string, got number 3"},
    {"two_bad_entries", "2 problems:\n  tensor 'a': shape[0] = -1 is negative\n  tensor 'b': unknown dtype 'X9'"},
};

// The Error a parse throws (message and hint), or {"", ""} when it parses.
std::pair<std::string, std::string> parse_error(const std::vector<uint8_t>& bytes, const std::string& origin) {
  try {
    safetensors_parse(bytes.data(), bytes.size(), origin);
  } catch (const Error& e) {
    return {e.message(), e.hint()};
  }
  return {"", ""};
}

// [u64 LE header length][header][data_size zero bytes]; no padding, which the format does not require.
std::vector<uint8_t> file_bytes(const std::string& header, size_t data_size) {
  std::vector<uint8_t> out(8 + header.size() + data_size, 0);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(uint64_t(header.size()) >> (8 * i));
  std::copy(header.begin(), header.end(), out.begin() + 8);
  return out;
}

// One header entry as JSON text: "name":{"dtype":..,"shape":..,"data_offsets":[begin,end]}
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, int begin, int end) {
  std::string out = "\"";
  out += name;
  out += "\":{\"dtype\":\"";
  out += dtype;
  out += "\",\"shape\":";
  out += shape;
  out += ",\"data_offsets\":[";
  out += std::to_string(begin);
  out += ',';
  out += std::to_string(end);
  out += "]}";
  return out;
}

// {entry,entry,...}
std::string header_of(const std::vector<std::string>& entries) {
  std::string out = "{";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) out += ',';
    out += entries[i];
  }
  out += '}';
  return out;
}

TEST(SafetensorsMalformed, EveryCorpusFileIsRefusedForItsRule) {
  for (const MalformedCase& c : kMalformed) {
    std::string path = kMalformedDir + "/" + c.file + ".safetensors";
    SCOPED_TRACE(path);
    std::string message, hint;
    try {
      safetensors_read(path);
      ADD_FAILURE() << "read without error";
      continue;
    } catch (const Error& e) {
      message = e.message();
      hint = e.hint();
    }
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << "the message starts with the path: " << message;
    EXPECT_NE(message.find(c.rule), std::string::npos) << "expected rule: " << c.rule << "\ngot: " << message;
    EXPECT_FALSE(hint.empty()) << message;
  }
}

TEST(SafetensorsMalformed, TableCoversTheCorpus) {
  std::set<std::string> listed, on_disk;
  for (const MalformedCase& c : kMalformed) listed.insert(std::string(c.file) + ".safetensors");
  for (const auto& f : fs::directory_iterator(kMalformedDir)) on_disk.insert(f.path().filename().string());
  EXPECT_EQ(listed, on_disk) << "add a row to kMalformed for each file gen_safetensors_fixtures.py writes";
}

// Every strict prefix of a valid file is refused (a truncated download must never load).
TEST(SafetensorsMalformed, EveryPrefixOfAValidFileIsRefused) {
  std::vector<uint8_t> whole =
      file_read_bytes(std::string(ATTNLAB_TEST_DATA) + "/util/data/python_written.safetensors");
  ASSERT_EQ(parse_error(whole, "whole").first, "");
  for (size_t n = 0; n < whole.size(); ++n) {
    std::vector<uint8_t> prefix(whole.begin(), whole.begin() + static_cast<long>(n));
    EXPECT_NE(parse_error(prefix, "prefix").first, "") << "prefix of " << n << " bytes parsed";
  }
}

// JSON objects are unordered, so the listing order is free (as in the reference implementation); tensors come
// back in data-offset order. Zero-size tensors may share an offset with their neighbours.
TEST(SafetensorsMalformed, ListingOrderIsFreeAndZeroSizeTensorsShareOffsets) {
  std::string header = header_of({entry("second", "F32", "[2]", 8, 16), entry("first", "I8", "[2,4]", 0, 8),
                                  entry("z_empty", "F64", "[0]", 8, 8), entry("a_empty", "U8", "[3,0]", 0, 0),
                                  entry("tail", "BOOL", "[0,0]", 16, 16)});
  SafetensorsFile file = safetensors_parse(file_bytes(header, 16).data(), 8 + header.size() + 16, "order");
  std::vector<std::string> names;
  for (const TensorData& t : file.tensors) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a_empty", "first", "z_empty", "second", "tail"}));
  EXPECT_EQ(file.find("first")->shape, (std::vector<int64_t>{2, 4}));
}

TEST(SafetensorsMalformed, HeaderWhitespaceAndEmptyHeader) {
  EXPECT_EQ(parse_error(file_bytes("  {}        ", 0), "ws").first, "");
  EXPECT_EQ(parse_error(file_bytes("{\"__metadata__\":{}}", 0), "meta").first, "");
  EXPECT_NE(parse_error(file_bytes("{} {}", 0), "two values").first.find("header is not valid JSON"),
            std::string::npos);
  EXPECT_NE(parse_error(file_bytes("{}", 3), "trailing").first.find("trailing bytes"), std::string::npos);
}

// A zero dimension makes a tensor empty but does not excuse the other dimensions overflowing (their strides would).
TEST(SafetensorsMalformed, ZeroDimensionDoesNotHideOverflow) {
  std::string ok = header_of({entry("a", "F64", "[0,576460752303423488]", 0, 0)});  // 2^59 x 0: 0 bytes
  EXPECT_EQ(parse_error(file_bytes(ok, 0), "zero").first, "");
  std::string bad = header_of({entry("a", "F64", "[0,4294967296,4294967296]", 0, 0)});
  EXPECT_NE(
      parse_error(file_bytes(bad, 0), "zero").first.find("tensor 'a': shape [0,4294967296,4294967296] x F64 overflows"),
      std::string::npos);
}

// Well-formed UTF-8 of every length is accepted in names; each ill-formed kind is refused at its offset.
TEST(SafetensorsMalformed, Utf8Validation) {
  for (std::string name : {"\xc3\xa9", "\xe2\x9c\x93", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"}) {
    std::string header = header_of({entry(name, "U8", "[1]", 0, 1)});
    EXPECT_EQ(parse_error(file_bytes(header, 1), "utf8").first, "") << "name bytes of length " << name.size();
  }
  const std::pair<std::string, const char*> bad[] = {
      {"\xf5\x80\x80\x80", "byte 0xf5"},  // lead byte past U+10FFFF
      {"\xf4\x90\x80\x80", "byte 0xf4"},  // U+110000
      {"\xc1\xbf", "byte 0xc1"},          // overlong 2-byte
      {"\xe0\x80\xaf", "byte 0xe0"},      // overlong 3-byte
      {"\xf0\x80\x80\xaf", "byte 0xf0"},  // overlong 4-byte
      {"\xed\xbf\xbf", "byte 0xed"},      // surrogate U+DFFF
      {"\x80", "byte 0x80"},              // lone continuation
      {"\xf0\x9f\x98", "byte 0xf0"},      // sequence cut short by the closing quote
  };
  for (const auto& [name, byte] : bad) {
    std::string header = header_of({entry(name, "U8", "[1]", 0, 1)});
    std::string msg = parse_error(file_bytes(header, 1), "utf8").first;
    EXPECT_NE(msg.find(std::string("not valid UTF-8 (") + byte + " at header offset 2)"), std::string::npos) << msg;
  }
  // A sequence cut by the end of the header itself (no closing quote) is refused, not read past.
  EXPECT_NE(parse_error(file_bytes("{\"\xe2\x9c", 0), "end").first.find("byte 0xe2 at header offset 2"),
            std::string::npos);
}

// Names are untrusted: messages escape control bytes and cut long names, so an error stays one readable line.
TEST(SafetensorsMalformed, NamesInMessagesAreEscapedAndCut) {
  std::string name = "evil\\n" + std::string(300, 'x');  // JSON escape: the decoded name holds a newline
  std::string header = header_of({entry(name, "Q4", "[1]", 0, 1)});
  std::string msg = parse_error(file_bytes(header, 1), "names").first;
  EXPECT_NE(msg.find("tensor 'evil\\x0a"), std::string::npos) << msg;
  EXPECT_NE(msg.find("...': unknown dtype 'Q4'"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_LT(msg.size(), 250u);
}

// Every bad entry is reported, not just the first; the list is capped so the message stays readable.
TEST(SafetensorsMalformed, AllProblemsCollectedAndCapped) {
  std::vector<std::string> entries;
  for (int i = 100; i < 130; ++i)
    entries.push_back(entry(std::string("t").append(std::to_string(i)), "F32", "[-1]", 0, 0));
  std::string header = header_of(entries);
  std::string msg = parse_error(file_bytes(header, 0), "many").first;
  EXPECT_EQ(msg.rfind("many: 30 problems:\n  tensor 't100': shape[0] = -1 is negative", 0), 0u) << msg;
  EXPECT_NE(msg.find("tensor 't119'"), std::string::npos);
  EXPECT_EQ(msg.find("tensor 't120'"), std::string::npos);
  EXPECT_NE(msg.find("... and 10 more"), std::string::npos);
}

}  // namespace
}  // namespace attnlab
