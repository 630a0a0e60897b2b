#include "util/fs.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace attnlab {

namespace fs = std::filesystem;

std::vector<uint8_t> file_read_bytes(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error("no such file: " + path, "check the path (relative paths are taken from the current directory)");
  if (fs::is_directory(path, ec)) throw Error(path + " is a directory, expected a file", "name a file inside it");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path + ": " + std::strerror(errno), "check the file's permissions");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) throw Error("cannot read " + path, "check that it is a regular file");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw Error("cannot read " + path + ": short read", "check that the file is not being written to");
  return bytes;
}

std::string file_read_text(const std::string& path) {
  auto bytes = file_read_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

void file_write_atomic(const std::string& path, const void* data, size_t size) {
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error("cannot write " + path + ": directory " + dir.string() + " does not exist",
                "create the directory first, or choose another output path");
  if (fs::is_directory(target, ec)) throw Error("cannot write " + path + ": it is a directory", "choose a file name");
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error("cannot write " + path + ": " + std::strerror(errno), "check permissions of " + dir.string());
  bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  ok = (std::fflush(f) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("cannot write " + path + ": " + std::strerror(errno), "check free disk space and permissions");
  }
}

void file_write_atomic(const std::string& path, const std::string& text) {
  file_write_atomic(path, text.data(), text.size());
}

void dir_create(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_directory(path, ec))
    throw Error("cannot create directory " + path + ": a file of that name exists", "choose another --out path");
  fs::create_directories(path, ec);
  if (ec) throw Error("cannot create directory " + path + ": " + ec.message(), "check permissions");
}

}  // namespace attnlab
