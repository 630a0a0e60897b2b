// safetensors: round trips through our writer and reader for every dtype (scalars, zero-size tensors,
// metadata), the writer's refusals and atomicity, and a cross-check against an independent writer
// (tests/util/gen_safetensors_fixtures.py: struct + json + numpy). Malformed files: test_safetensors_malformed.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/fs.h"
#include "util/safetensors.h"

namespace attnlab {
namespace {

namespace fs = std::filesystem;
static_assert(std::endian::native == std::endian::little, "the element checks below decode bytes in place");

const Dtype kAllDtypes[] = {Dtype::F64, Dtype::F32, Dtype::F16, Dtype::BF16, Dtype::I64,
                            Dtype::I32, Dtype::I8,  Dtype::U8,  Dtype::BOOL};

// A tensor whose bytes are a fixed pattern (distinct per tensor through `seed`), of the size the shape needs.
TensorData tensor_make(const std::string& name, Dtype dtype, std::vector<int64_t> shape, int seed) {
  size_t numel = 1;
  for (int64_t d : shape) numel *= static_cast<size_t>(d);
  TensorData t{name, dtype, std::move(shape), std::vector<uint8_t>(numel * dtype_size(dtype))};
  for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<uint8_t>(seed * 31 + i * 7 + 1);
  if (dtype == Dtype::BOOL)
    for (uint8_t& b : t.bytes) b &= 1;
  return t;
}

void expect_same(const SafetensorsFile& got, const SafetensorsFile& want) {
  ASSERT_EQ(got.tensors.size(), want.tensors.size());
  for (size_t i = 0; i < want.tensors.size(); ++i) {
    SCOPED_TRACE("tensor " + want.tensors[i].name);
    EXPECT_EQ(got.tensors[i].name, want.tensors[i].name);
    EXPECT_EQ(got.tensors[i].dtype, want.tensors[i].dtype);
    EXPECT_EQ(got.tensors[i].shape, want.tensors[i].shape);
    EXPECT_EQ(got.tensors[i].bytes, want.tensors[i].bytes);
  }
  EXPECT_EQ(got.metadata, want.metadata);
}

SafetensorsFile round_trip(const SafetensorsFile& file) {
  std::vector<uint8_t> bytes = safetensors_serialize(file);
  return safetensors_parse(bytes.data(), bytes.size(), "round_trip");
}

// The Error message a call throws, or "" when it does not throw.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_FALSE(e.hint().empty()) << "every safetensors error carries a HINT: " << e.message();
    return e.message();
  }
  return "";
}

// A scratch directory removed at the end of each test.
class SafetensorsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("attnlab_safetensors_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST(Safetensors, DtypeTable) {
  const size_t sizes[] = {8, 4, 2, 2, 8, 4, 1, 1, 1};
  const char* names[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL"};
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(dtype_size(kAllDtypes[i]), sizes[i]);
    EXPECT_EQ(dtype_name(kAllDtypes[i]), names[i]);
    EXPECT_EQ(dtype_parse(names[i]), kAllDtypes[i]);
  }
  EXPECT_NE(error_of([] { dtype_parse("f32"); }).find("unknown dtype 'f32'"), std::string::npos);
  EXPECT_NE(error_of([] { dtype_parse("F8_E4M3"); }).find("unknown dtype"), std::string::npos);
}

TEST(Safetensors, RoundTripEveryDtypeAndShape) {
  const std::vector<std::vector<int64_t>> shapes = {{2, 3}, {}, {0}, {4, 0, 2}, {1, 1, 1, 5}};
  for (Dtype dtype : kAllDtypes) {
    SafetensorsFile file;
    for (size_t s = 0; s < shapes.size(); ++s)
      file.tensors.push_back(tensor_make(dtype_name(dtype) + ".t" + std::to_string(s), dtype, shapes[s], int(s)));
    SCOPED_TRACE(dtype_name(dtype));
    SafetensorsFile back = round_trip(file);
    expect_same(back, file);
    EXPECT_EQ(back.find(dtype_name(dtype) + ".t1")->bytes.size(), dtype_size(dtype));  // a scalar: one element
    EXPECT_TRUE(back.find(dtype_name(dtype) + ".t2")->bytes.empty());                  // zero-size
  }
}

TEST(Safetensors, RoundTripMixedWithMetadata) {
  SafetensorsFile file;
  int seed = 0;
  for (Dtype dtype : kAllDtypes)
    file.tensors.push_back(tensor_make("blocks.0." + dtype_name(dtype), dtype, {3, 2}, ++seed));
  file.metadata = {
      {"format", "pt"}, {"config", "{\"d_model\": 64}"}, {"unicode", "h\xc3\xa9llo \xe2\x9c\x93"}, {"", ""}};
  expect_same(round_trip(file), file);
  ASSERT_NE(file.find("blocks.0.I32"), nullptr);
  EXPECT_EQ(file.find("blocks.0.I32")->dtype, Dtype::I32);
  EXPECT_EQ(file.find("blocks.0.nope"), nullptr);
}

TEST(Safetensors, EmptyFileRoundTrips) {
  SafetensorsFile file;
  std::vector<uint8_t> bytes = safetensors_serialize(file);
  EXPECT_EQ(bytes.size(), 16u);  // 8-byte length + "{}" padded to 8
  expect_same(safetensors_parse(bytes.data(), bytes.size(), "empty"), file);
}

// The header length is a multiple of 8 for every name length (so data starts 8-byte aligned), the padding is
// spaces, and the header is plain JSON with offsets in the order the tensors were given.
TEST(Safetensors, HeaderPaddedToMultipleOfEight) {
  for (size_t len = 1; len <= 24; ++len) {
    SafetensorsFile file;
    file.tensors.push_back(tensor_make(std::string(len, 'x'), Dtype::F32, {3}, 1));
    file.tensors.push_back(tensor_make("b", Dtype::I8, {5}, 2));
    std::vector<uint8_t> bytes = safetensors_serialize(file);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    SCOPED_TRACE("name length " + std::to_string(len));
    ASSERT_EQ(n % 8, 0u);
    ASSERT_EQ(bytes.size(), 8 + n + 12 + 5);
    std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
    size_t json_end = header.find_last_not_of(' ') + 1;
    EXPECT_LT(n - json_end, 8u);
    auto j = nlohmann::json::parse(header);
    EXPECT_EQ(j["b"]["data_offsets"], nlohmann::json::array({12, 17}));
    EXPECT_EQ(j[std::string(len, 'x')]["shape"], nlohmann::json::array({3}));
  }
}

TEST(Safetensors, WriterRefusesBadFiles) {
  SafetensorsFile dup;
  dup.tensors = {tensor_make("w", Dtype::F32, {2}, 1), tensor_make("w", Dtype::F32, {2}, 2)};
  EXPECT_NE(error_of([&] { safetensors_serialize(dup); }).find("tensor 'w': duplicate tensor name"), std::string::npos);

  SafetensorsFile short_bytes;
  short_bytes.tensors = {tensor_make("w", Dtype::F32, {2}, 1)};
  short_bytes.tensors[0].bytes.pop_back();
  EXPECT_NE(
      error_of([&] { safetensors_serialize(short_bytes); }).find("tensor 'w': has 7 bytes but shape [2] x F32 needs 8"),
      std::string::npos);

  SafetensorsFile names;
  names.tensors = {tensor_make("", Dtype::U8, {1}, 1), tensor_make("__metadata__", Dtype::U8, {1}, 2),
                   tensor_make("neg", Dtype::U8, {1}, 3)};
  names.tensors[2].shape = {-1};
  std::string msg = error_of([&] { safetensors_serialize(names); });
  EXPECT_NE(msg.find("3 problems"), std::string::npos) << msg;  // all collected, not just the first
  EXPECT_NE(msg.find("empty tensor name"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tensor '__metadata__': the name is reserved"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tensor 'neg': shape [-1] has a negative dimension"), std::string::npos) << msg;

  SafetensorsFile bad_utf8;
  bad_utf8.tensors = {tensor_make("a\xff", Dtype::U8, {1}, 1)};
  EXPECT_NE(error_of([&] { safetensors_serialize(bad_utf8); }).find("not valid UTF-8"), std::string::npos);
}

TEST_F(SafetensorsFiles, WriteReadThroughDisk) {
  SafetensorsFile file;
  file.tensors = {tensor_make("embed.W_E", Dtype::F32, {5, 4}, 1), tensor_make("step", Dtype::I64, {}, 2)};
  file.metadata = {{"format", "pt"}};
  safetensors_write(path("model.safetensors"), file);
  expect_same(safetensors_read(path("model.safetensors")), file);
  EXPECT_NE(error_of([&] { safetensors_read(path("absent.safetensors")); }).find("no such file"), std::string::npos);
}

// A refused write throws before touching the disk: the existing file keeps its bytes and no temporary is left.
TEST_F(SafetensorsFiles, FailedWriteLeavesExistingFileIntact) {
  SafetensorsFile good;
  good.tensors = {tensor_make("w", Dtype::F32, {2, 2}, 1)};
  safetensors_write(path("model.safetensors"), good);
  std::vector<uint8_t> before = file_read_bytes(path("model.safetensors"));

  SafetensorsFile bad;
  bad.tensors = {tensor_make("w", Dtype::F32, {2, 2}, 2), tensor_make("w", Dtype::F32, {1}, 3)};
  std::string msg = error_of([&] { safetensors_write(path("model.safetensors"), bad); });
  EXPECT_EQ(msg.rfind(path("model.safetensors") + ": ", 0), 0u) << "message starts with the path: " << msg;
  EXPECT_EQ(file_read_bytes(path("model.safetensors")), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);

  // An unwritable target (a directory of that name) fails in file_write_atomic, also leaving nothing behind.
  fs::create_directories(dir_ / "taken.safetensors");
  EXPECT_NE(error_of([&] { safetensors_write(path("taken.safetensors"), good); }).find("it is a directory"),
            std::string::npos);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);

  // A good write replaces the file whole.
  SafetensorsFile replacement{{good.tensors[0]}, {{"v", "2"}}};
  safetensors_write(path("model.safetensors"), replacement);
  EXPECT_EQ(safetensors_read(path("model.safetensors")).metadata.at("v"), "2");
}

// ---- cross-check against the independent writer (gen_safetensors_fixtures.py) ----

template <typename T>
std::vector<T> elements(const TensorData& t) {
  std::vector<T> out(t.bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

TEST(Safetensors, ReadsFileFromIndependentWriter) {
  const std::string path = std::string(ATTNLAB_TEST_DATA) + "/util/data/python_written.safetensors";
  SafetensorsFile file = safetensors_read(path);
  std::vector<std::string> names;
  for (const TensorData& t : file.tensors) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"f64", "f32", "f16", "bf16", "i64", "i32", "i8", "u8", "bool", "scalar",
                                             "empty"}));  // data-offset order
  EXPECT_EQ(file.metadata,
            (std::map<std::string, std::string>{{"format", "pt"}, {"note", "h\xc3\xa9llo \xe2\x9c\x93 from numpy"}}));
  auto shape_of = [&](const char* name) { return file.find(name)->shape; };
  EXPECT_EQ(shape_of("f64"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(shape_of("i32"), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(shape_of("scalar"), (std::vector<int64_t>{}));
  EXPECT_EQ(shape_of("empty"), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(elements<double>(*file.find("f64")), (std::vector<double>{0.5, -1.25, 3.0, 1e-300}));
  EXPECT_EQ(elements<float>(*file.find("f32")), (std::vector<float>{-1, -0.5, 0, 0.5, 1, 1.5}));
  // IEEE half 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800; bfloat16 = top half of float32: 1.0 = 0x3F80, -3.5 = 0xC060
  EXPECT_EQ(elements<uint16_t>(*file.find("f16")), (std::vector<uint16_t>{0x3C00, 0xC000, 0x3800}));
  EXPECT_EQ(elements<uint16_t>(*file.find("bf16")), (std::vector<uint16_t>{0x3F80, 0xC060}));
  EXPECT_EQ(elements<int64_t>(*file.find("i64")), (std::vector<int64_t>{-9007199254740993, int64_t(1) << 62}));
  EXPECT_EQ(elements<int32_t>(*file.find("i32")), (std::vector<int32_t>{-7, 123456789}));
  EXPECT_EQ(elements<int8_t>(*file.find("i8")), (std::vector<int8_t>{-128, -1, 0, 127}));
  EXPECT_EQ(elements<uint8_t>(*file.find("u8")), (std::vector<uint8_t>{0, 200, 255}));
  EXPECT_EQ(elements<uint8_t>(*file.find("bool")), (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(elements<float>(*file.find("scalar")), (std::vector<float>{42.0f}));
  EXPECT_TRUE(file.find("empty")->bytes.empty());
  EXPECT_EQ(file.find("bf16")->dtype, Dtype::BF16);
  EXPECT_EQ(file.find("bool")->dtype, Dtype::BOOL);

  // The Python fixture lays its header out as our writer does (compact JSON, metadata first, space padding),
  // so writing back what we read must reproduce the independent writer's file byte for byte.
  EXPECT_EQ(safetensors_serialize(file), file_read_bytes(path));
}

}  // namespace
}  // namespace attnlab
