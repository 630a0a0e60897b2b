// The run's metrics log (metrics.jsonl: one JSON object per line, appended and flushed as they happen) and the
// terminal progress line (step, loss, accuracy, steps/s, ETA) on stderr. On resume the log is cut back to the
// length it had at the checkpoint, so it reads as if the run had never been interrupted.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace attnlab {

class MetricsLog {
 public:
  // Opens path for appending after truncating it to `keep_bytes` (0 = start empty).
  MetricsLog(const std::string& path, int64_t keep_bytes);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  void write(const nlohmann::json& record);  // one line, flushed
  int64_t bytes() const { return bytes_; }   // length of the file so far
  void sync();                               // fsync (at checkpoints)

 private:
  std::string path_;
  FILE* f_ = nullptr;
  int64_t bytes_ = 0;
};

class Progress {
 public:
  Progress(int64_t first_step, int64_t total, bool quiet);
  // Prints "step S/N  loss L  acc A  X steps/s  ETA" (refreshing one line on a terminal).
  void update(int64_t step, double loss, double acc);
  void finish();
  double steps_per_second(int64_t step) const;

 private:
  int64_t first_, total_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_;
  bool printed_ = false;
};

}  // namespace attnlab
