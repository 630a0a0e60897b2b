// Standalone HTML pages: one self-contained file per result, readable offline forever. The page is
//   <style>web/viewer.css</style>  <div id="attnlab-root" data-view=VIEW>
//   <script type="application/json" id="attnlab-data">DATA</script>  <script>web/viewer.js</script>
// and viewer.js mounts the named view ("attention", later "training", "residual", ...) on DATA. Nothing is
// fetched at view time: no URLs, and a Content-Security-Policy that forbids network access.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace attnlab {

// web/viewer.js and web/viewer.css, inlined at build time by cmake/inline_web.cmake (generated TU).
std::string_view web_viewer_js();
std::string_view web_viewer_css();

// Text for HTML element content or a double-quoted attribute: & < > " ' become entities.
std::string html_escape(std::string_view text);

// data as compact JSON that is safe inside <script type="application/json">: "</" is written "<\/" and "<!--"
// as "\u003c!--", so no string in it (a token "</script>", say) can end the block. Still valid JSON.
// Invalid UTF-8 in strings (byte-level tokens) is replaced by U+FFFD rather than failing.
std::string html_json_block(const nlohmann::json& data);

// The whole document. view: which JS view to mount, [a-z0-9_-]+ (Error otherwise).
std::string html_page(const std::string& title, const nlohmann::json& data, const std::string& view);

// html_page written to path through file_write_atomic (Error if the directory is missing or not writable).
void html_write(const std::string& path, const std::string& title, const nlohmann::json& data,
                const std::string& view);

}  // namespace attnlab
