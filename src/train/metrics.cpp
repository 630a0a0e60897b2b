#include "train/metrics.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "train/checkpoint.h"
#include "util/error.h"

namespace attnlab {

MetricsLog::MetricsLog(const std::string& path, int64_t keep_bytes) : path_(path) {
  std::error_code ec;
  if (keep_bytes > 0 && std::filesystem::exists(path, ec)) {
    auto size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
    check(!ec && size >= keep_bytes, path + " is shorter (" + std::to_string(size) + " bytes) than the checkpoint "
          "recorded (" + std::to_string(keep_bytes) + ")", "the run directory was edited; use a fresh --out directory");
    std::filesystem::resize_file(path, static_cast<uintmax_t>(keep_bytes), ec);
    check(!ec, "cannot truncate " + path + ": " + ec.message(), "check permissions of the run directory");
  } else {
    keep_bytes = 0;
  }
  f_ = std::fopen(path.c_str(), keep_bytes > 0 ? "ab" : "wb");
  if (!f_) throw Error("cannot open " + path + ": " + std::strerror(errno), "check permissions of the run directory");
  bytes_ = keep_bytes;
}

MetricsLog::~MetricsLog() {
  if (f_) std::fclose(f_);
}

void MetricsLog::write(const nlohmann::json& record) {
  std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0)
    throw Error("cannot write " + path_ + ": " + std::strerror(errno), "check free disk space");
  bytes_ += static_cast<int64_t>(line.size());
}

void MetricsLog::sync() { ::fsync(fileno(f_)); }

Progress::Progress(int64_t first_step, int64_t total, bool quiet)
    : first_(first_step), total_(total), quiet_(quiet), tty_(::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {}

double Progress::steps_per_second(int64_t step) const {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return secs > 0 ? static_cast<double>(step - first_) / secs : 0.0;
}

void Progress::update(int64_t step, double loss, double acc) {
  if (quiet_) return;
  double rate = steps_per_second(step);
  double eta = rate > 0 ? static_cast<double>(total_ - step) / rate : 0.0;
  char buf[200];
  std::snprintf(buf, sizeof buf, "step %lld/%lld  loss %.4f  acc %.3f  %.1f steps/s  ETA %dm%02ds",
                static_cast<long long>(step), static_cast<long long>(total_), loss, acc, rate,
                static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
  std::fprintf(stderr, tty_ ? "\r%s\033[K" : "%s\n", buf);
  std::fflush(stderr);
  printed_ = true;
}

void Progress::finish() {
  if (!quiet_ && tty_ && printed_) std::fprintf(stderr, "\n");
}

}  // namespace attnlab
