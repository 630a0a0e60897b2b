// The generic page writer (report/html.h) and the f24 packing (report/pack.h): the page is self-contained, the
// data block survives any string (HTML-parser rules emulated below), and packed floats round-trip within
// the stated 2^-16 relative error, checked against a decoder written here independently of pack.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>

#include <unistd.h>

#include "page_probe.h"
#include "report/html.h"
#include "report/pack.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {
namespace {

using probe::data_block;
using probe::lower;

TEST(Html, PageIsSelfContained) {
  std::string page = html_page("t", {{"x", 1}}, "attention");
  for (const char* bad : {"http://", "https://", "<link", " src=", "url(", "@import", "//cdn", "fetch(", "XMLHttpRequest"})
    EXPECT_EQ(lower(page).find(lower(bad)), std::string::npos) << "page contains " << bad;
  // The inlined assets are really there (a build without them would still produce a page).
  EXPECT_GT(web_viewer_js().size(), 5000u);
  EXPECT_GT(web_viewer_css().size(), 1000u);
  EXPECT_NE(page.find(web_viewer_js()), std::string::npos);
  EXPECT_NE(page.find(web_viewer_css()), std::string::npos);
  EXPECT_NE(page.find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(page.find("data-view=\"attention\""), std::string::npos);
  // Token text must never go through innerHTML/outerHTML/insertAdjacentHTML/document.write.
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"})
    EXPECT_EQ(web_viewer_js().find(sink), std::string_view::npos) << "viewer.js uses " << sink;
}

TEST(Html, DataBlockCannotBeClosedByStrings) {
  nlohmann::json data = {{"tokens", {"</script>", "</SCRIPT >", "<!--<script>", "a</b>c", "<\\/", "\xff\xfe"}},
                         {"n", 3}};
  std::string page = html_page("t", data, "attention");
  std::string block = data_block(page);
  nlohmann::json back = nlohmann::json::parse(block);  // the parser stops where a browser would
  EXPECT_EQ(back["tokens"][0], "</script>");
  EXPECT_EQ(back["tokens"][1], "</SCRIPT >");
  EXPECT_EQ(back["tokens"][2], "<!--<script>");
  EXPECT_EQ(back["tokens"][3], "a</b>c");
  EXPECT_EQ(back["tokens"][4], "<\\/");
  EXPECT_EQ(back["tokens"][5], "\xEF\xBF\xBD\xEF\xBF\xBD");  // invalid UTF-8 -> U+FFFD, not an exception
  EXPECT_EQ(back["n"], 3);
  EXPECT_EQ(block.find("<!--"), std::string::npos);  // would switch the parser into script-escaped states
  EXPECT_EQ(probe::count(lower(page), "</script"), 2u);  // only the data block's and the viewer's own end tags
}

TEST(Html, EscapesTitleAndRejectsBadViewNames) {
  std::string page = html_page("<img src=x onerror=alert(1)> & \"q\"", nlohmann::json::object(), "attention");
  EXPECT_NE(page.find("<title>&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;</title>"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  for (const char* bad : {"", "Attention", "a\" onload=\"x", "a b", "../x"}) {
    try {
      html_page("t", nlohmann::json::object(), bad);
      ADD_FAILURE() << "accepted view name '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("bad view name"), std::string::npos) << e.message();
      EXPECT_FALSE(e.hint().empty());
    }
  }
}

TEST(Html, WriteIsTheSamePageOnDisk) {
  auto dir = std::filesystem::temp_directory_path() / ("attnlab_html_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "page.html").string();
  nlohmann::json data = {{"k", "v"}};
  html_write(path, "title", data, "attention");
  EXPECT_EQ(file_read_text(path), html_page("title", data, "attention"));
  EXPECT_THROW(html_write((dir / "missing" / "p.html").string(), "t", data, "attention"), Error);
  std::filesystem::remove_all(dir);
}

TEST(HtmlPack, Base64MatchesRfc4648Vectors) {
  auto enc = [](const std::string& s) { return base64_encode(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "Zg==");
  EXPECT_EQ(enc("fo"), "Zm8=");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foob"), "Zm9vYg==");
  EXPECT_EQ(enc("fooba"), "Zm9vYmE=");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
  const uint8_t high[] = {0xff, 0xfe, 0xfd};
  EXPECT_EQ(base64_encode(high, 3), "//79");
}

// Error budget: round-to-nearest on 15 stored mantissa bits -> relative error <= 2^-16.
TEST(HtmlPack, F24RoundTripsWithinTwoToMinusSixteen) {
  std::mt19937 rng(7);
  std::vector<float> values = {0.0f, -0.0f, 1.0f, 0.5f, 1e-30f, 3e-39f /*subnormal*/, -2.75f, 65504.0f,
                               std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN()};
  std::uniform_real_distribution<float> u(-12.0f, 3.0f);
  for (int i = 0; i < 5000; ++i) values.push_back((i % 2 ? -1.0f : 1.0f) * std::pow(10.0f, u(rng)));
  std::string b64 = pack_f24_base64(values.data(), values.size());
  ASSERT_EQ(b64.size(), 4 * values.size());
  std::vector<float> decoded = probe::f24_decode(b64);
  ASSERT_EQ(decoded.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    float v = values[i], back = decoded[i];
    if (std::isnan(v)) { EXPECT_TRUE(std::isnan(back)); continue; }
    if (std::isinf(v) || v == 0.0f) { EXPECT_EQ(back, v); EXPECT_EQ(std::signbit(back), std::signbit(v)); continue; }
    if (std::fpclassify(v) == FP_SUBNORMAL) {  // fixed spacing: half of the dropped byte's 256 denormal steps
      EXPECT_LE(std::fabs(back - v), 128 * std::numeric_limits<float>::denorm_min());
      continue;
    }
    EXPECT_LE(std::fabs(back - v), std::ldexp(std::fabs(v), -16)) << "value " << v << " came back as " << back;
  }
  float nan_low_payload;  // a NaN whose payload lives only in the dropped byte must not turn into inf
  uint32_t nb = 0x7F800001u;
  std::memcpy(&nan_low_payload, &nb, sizeof nb);
  uint32_t kept = f24_bits(nan_low_payload) << 8;
  float back;
  std::memcpy(&back, &kept, sizeof back);
  EXPECT_TRUE(std::isnan(back));
}

}  // namespace
}  // namespace attnlab
