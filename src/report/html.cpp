#include "report/html.h"

#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html_json_block(const nlohmann::json& data) {
  std::string json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(json.size() + json.size() / 64);
  for (size_t i = 0; i < json.size(); ++i) {
    // '<' only occurs inside JSON strings, where "\/" and "\u003c" are valid escapes.
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else if (json.compare(i, 4, "<!--") == 0) {
      out += "\\u003c";
    } else {
      out += json[i];
    }
  }
  return out;
}

static bool view_name_ok(const std::string& view) {
  if (view.empty()) return false;
  for (char c : view)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

std::string html_page(const std::string& title, const nlohmann::json& data, const std::string& view) {
  check(view_name_ok(view), "html_page: bad view name '" + view + "'",
        "use the name of a view that web/viewer.js registers, e.g. \"attention\" (letters, digits, _ and -)");
  std::string_view css = web_viewer_css(), js = web_viewer_js();
  std::string json = html_json_block(data);
  std::string out;
  out.reserve(json.size() + css.size() + js.size() + 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Self-contained by construction: the browser refuses any fetch (fonts, scripts, images, connections).
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:\">\n";
  out += "<meta name=\"generator\" content=\"attnlab " ATTNLAB_VERSION "\">\n";
  out += "<title>" + html_escape(title) + "</title>\n<style>\n";
  out += css;
  out += "\n</style>\n</head>\n<body>\n<div id=\"attnlab-root\" data-view=\"" + view + "\">";
  out += "<noscript>This attnlab page needs JavaScript to draw its views.</noscript></div>\n";
  out += "<script type=\"application/json\" id=\"attnlab-data\">";
  out += json;
  out += "</script>\n<script>\n";
  out += js;
  out += "\n</script>\n</body>\n</html>\n";
  return out;
}

void html_write(const std::string& path, const std::string& title, const nlohmann::json& data,
                const std::string& view) {
  file_write_atomic(path, html_page(title, data, view));
}

}  // namespace attnlab
