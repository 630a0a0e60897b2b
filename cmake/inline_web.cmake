# Writes OUT = a C++ file defining attnlab::web_viewer_js() / web_viewer_css() from SRC/viewer.{js,css},
# so every HTML file attnlab writes is self-contained (nothing fetched at view time).
file(READ ${SRC}/viewer.js JS)
file(READ ${SRC}/viewer.css CSS)
set(D "ATTNLAB_WEB")  # raw-string delimiters are at most 16 characters
file(WRITE ${OUT}.tmp
"// Generated from web/ by cmake/inline_web.cmake — do not edit.
#include <string_view>
namespace attnlab {
std::string_view web_viewer_js() { static const char s[] = R\"${D}(${JS})${D}\"; return {s, sizeof(s) - 1}; }
std::string_view web_viewer_css() { static const char s[] = R\"${D}(${CSS})${D}\"; return {s, sizeof(s) - 1}; }
}  // namespace attnlab
")
file(RENAME ${OUT}.tmp ${OUT})
