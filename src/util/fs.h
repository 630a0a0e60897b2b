// File helpers with attnlab errors: whole-file reads, atomic writes (temp file + rename, so an existing
// file is never left half-written), and directory creation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab {

std::vector<uint8_t> file_read_bytes(const std::string& path);  // Error if missing/unreadable/a directory
std::string file_read_text(const std::string& path);
void file_write_atomic(const std::string& path, const void* data, size_t size);
void file_write_atomic(const std::string& path, const std::string& text);
void dir_create(const std::string& path);  // mkdir -p; Error if it exists as a file or cannot be made

}  // namespace attnlab
