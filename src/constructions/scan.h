// Scaling scans of the log-size separation constructions (Bhattamishra et al. 2024, arXiv 2406.09347): for each
// N build the construction, record its width (d_model, from the smallest certified code), γ, softmax scale and
// precision, verify it in f32 and f64, and put the communication-complexity lower bounds for the other
// architectures (tasks/separation_bounds.h) beside it; then fit width = slope·log2 N + intercept (least squares)
// so "width O(log N)" is a measured slope with its R². Tasks: index-lookup (N = string length), equality and
// disjointness (N = length of x and y), nearest-neighbour (N = number of labelled points k).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "constructions/index_lookup.h"
#include "tasks/separation_bounds.h"

namespace attnlab {

struct ScanOptions {
  std::string task;               // index-lookup | equality | disjointness | nearest-neighbour
  std::vector<int64_t> ns;        // the N values, increasing (scan_range_parse)
  double gamma = 0.5;             // target code coherence, in (0, 1)
  std::string code = "random";    // random | reed-solomon
  uint64_t seed = 0;
  int64_t precision = 32;         // p (bits) of the lower bounds
  int64_t alphabet = 16;          // index lookup |Σ|
  int64_t strings = 2;            // index lookup: random strings per N ...
  int64_t queries = 256;          // ... x at most this many query positions (all positions when N <= queries)
  int64_t count = 32;             // equality, disjointness, nearest neighbour: sampled examples per N
  int64_t verify_max = 0;         // N above this are built but not verified; 0: the task's default
  int64_t nn_d = 16, nn_classes = 8;  // nearest neighbour: dimension and number of labels
  double nn_margin = 0.05;            // nearest neighbour: promised margin δ
};

struct ScanRow {
  int64_t n = 0;
  int64_t width = 0;              // d_model
  int64_t code_dim = 0;           // k of the position code
  int64_t parameters = 0;
  double gamma = 0, scale = 0;    // certified coherence; softmax scale λ (layer 1 for two-layer models)
  int precision_bits = 0;
  bool verified = false;
  std::vector<VerifyResult> results;  // f32, f64 (empty when N > verify_max)
  std::vector<BoundRow> bounds;       // lower bounds at this N for the other architectures
  double seconds = 0;                 // build + verify
};

struct LinearFit {
  double slope = 0, intercept = 0, r2 = 0;  // y ≈ slope·x + intercept; R² = 1 - SS_res / SS_tot
};

struct ScanResult {
  ScanOptions opt;
  std::vector<ScanRow> rows;
  LinearFit fit;                  // width against log2 N
  nlohmann::json to_json() const;
};

// "A..B" (A, 2A, 4A, ... up to B), "A..B:F" (factor F >= 2), or "A,B,C" (strictly increasing). Error otherwise.
std::vector<int64_t> scan_range_parse(const std::string& text);
// The task's default --N range and verification limit.
std::string scan_default_range(const std::string& task);
int64_t scan_default_verify_max(const std::string& task);
// Least squares; needs >= 2 points with distinct x (Error otherwise). R² = 1 when y is constant and fitted exactly.
LinearFit linear_fit(const std::vector<double>& x, const std::vector<double>& y);
// Validates everything first (task, range, parameters), then one row per N; on_row is called after each.
ScanResult scan_run(const ScanOptions& opt, const std::function<void(const ScanRow&)>& on_row = {});

}  // namespace attnlab
