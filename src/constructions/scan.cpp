// Scaling scans (scan.h): validation of the whole request first, then one build (+ verification) per N, then the
// least-squares fit of width against log2 N. Each row frees its model before the next one is built, so the peak
// memory is that of the largest N alone.
#include "constructions/scan.h"

#include <chrono>
#include <cmath>

#include "constructions/nearest_neighbour.h"
#include "constructions/string_pair.h"
#include "util/error.h"

namespace attnlab {

namespace {

constexpr int64_t kPairNnMaxN = 65536;  // equality/disjointness/nearest neighbour certify every code pair

bool is_pair_task(const std::string& t) { return t == "equality" || t == "disjointness"; }

int64_t parse_count(const std::string& text, const std::string& whole) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  check(used == text.size() && !text.empty(), "scan: bad --N range '" + whole + "' ('" + text + "' is not an integer)",
        "write A..B (A, 2A, 4A, ... up to B), A..B:F (factor F) or a list A,B,C, e.g. --N 16..4096");
  return v;
}

void scan_validate(const ScanOptions& o) {
  const auto& t = o.task;
  check(t == "index-lookup" || is_pair_task(t) || t == "nearest-neighbour", "scan: unknown task '" + t + "'",
        "use index-lookup, equality, disjointness or nearest-neighbour");
  check(o.ns.size() >= 2, "scan: " + std::to_string(o.ns.size()) + " value(s) of N (a fit needs at least 2)",
        "pass a range such as --N 16..4096");
  check(o.gamma > 0 && o.gamma < 1, "scan: gamma = " + std::to_string(o.gamma) + " (must be in (0, 1))",
        "pass --gamma between 0 and 1 exclusive, e.g. 0.5");
  check(o.code == "random" || o.code == "reed-solomon", "unknown code '" + o.code + "'",
        "use --code random or --code reed-solomon");
  check(o.precision >= 1, "scan: precision " + std::to_string(o.precision) + " bits (must be >= 1)",
        "pass --precision 1 or more");
  check(o.strings >= 1 && o.queries >= 1 && o.count >= 1, "scan: --strings, --queries and --count must be >= 1",
        "pass positive verification sizes");
  for (int64_t n : o.ns) {
    if (t == "index-lookup") index_lookup_validate({n, o.alphabet});
    if (is_pair_task(t)) string_pair_validate(n);
    if (t == "nearest-neighbour") nearest_neighbour_validate({n, o.nn_d, o.nn_classes, o.nn_margin});
    check(t == "index-lookup" || n <= kPairNnMaxN, "scan: N = " + std::to_string(n) + " for " + t + " (at most " +
          std::to_string(kPairNnMaxN) + ": the code is certified over all pairs)", "lower the top of --N");
  }
}

ScanRow scan_row(const ScanOptions& o, int64_t n, bool verify) {
  ScanRow row;
  row.n = n;
  nlohmann::json report;
  if (o.task == "index-lookup") {
    IndexLookupOptions io;
    io.n = n, io.alphabet = o.alphabet, io.gamma = o.gamma, io.code = o.code, io.seed = o.seed;
    IndexLookupBuild b = index_lookup_build(io);
    row.scale = b.scale, report = b.report();
    if (verify) row.results = index_lookup_verify(b, io, o.strings, o.seed + 1, o.queries);
  } else if (is_pair_task(o.task)) {
    StringPairOptions so;
    so.task = o.task == "equality" ? PairTask::Equality : PairTask::Disjointness;
    so.n = n, so.gamma = o.gamma, so.code = o.code, so.seed = o.seed;
    StringPairBuild b = string_pair_build(so);
    row.scale = b.scale, report = b.report();
    if (verify) row.results = string_pair_verify(b, so, o.count, o.seed + 1);
  } else {
    NearestNeighbourOptions no;
    no.spec = {n, o.nn_d, o.nn_classes, o.nn_margin};
    no.gamma = o.gamma, no.code = o.code, no.seed = o.seed;
    NearestNeighbourBuild b = nearest_neighbour_build(no);
    row.scale = b.scale1, report = b.report();
    if (verify) row.results = nearest_neighbour_verify(b, no, o.count, o.seed + 1);
  }
  row.width = report["d_model"].get<int64_t>();
  row.code_dim = report["code_dim"].get<int64_t>();
  row.gamma = report["gamma"].get<double>();
  row.precision_bits = report["precision_bits"].get<int>();
  row.parameters = report["parameters"].get<int64_t>();
  row.verified = verify;
  row.bounds = separation_bounds({o.task, n, o.task == "index-lookup" ? o.alphabet : 2, o.precision, 1});
  return row;
}

nlohmann::json row_json(const ScanRow& r) {
  nlohmann::json j = {{"N", r.n}, {"width", r.width}, {"code_dim", r.code_dim}, {"gamma", r.gamma},
                      {"scale", r.scale}, {"precision_bits", r.precision_bits}, {"parameters", r.parameters},
                      {"verified", r.verified}, {"seconds", r.seconds}};
  nlohmann::json results = nlohmann::json::array(), bounds = nlohmann::json::array();
  for (const auto& v : r.results) {
    results.push_back(v.to_json());
    j["accuracy_" + v.dtype] = v.checked ? static_cast<double>(v.correct) / static_cast<double>(v.checked) : 0.0;
  }
  for (const auto& b : r.bounds)
    bounds.push_back({{"model", b.model}, {"measure", b.measure}, {"value", b.value}, {"formula", b.formula}});
  j["results"] = results;
  j["bounds"] = bounds;
  return j;
}

}  // namespace

std::vector<int64_t> scan_range_parse(const std::string& text) {
  std::vector<int64_t> ns;
  const auto dots = text.find("..");
  if (dots == std::string::npos) {
    size_t start = 0;
    while (start <= text.size()) {
      const size_t comma = std::min(text.find(',', start), text.size());
      ns.push_back(parse_count(text.substr(start, comma - start), text));
      start = comma + 1;
    }
  } else {
    const auto colon = text.find(':', dots);
    const int64_t a = parse_count(text.substr(0, dots), text);
    const int64_t b = parse_count(text.substr(dots + 2, colon == std::string::npos ? std::string::npos : colon - dots - 2), text);
    const int64_t f = colon == std::string::npos ? 2 : parse_count(text.substr(colon + 1), text);
    check(a >= 1 && b >= a && f >= 2, "scan: bad --N range '" + text + "' (need 1 <= A <= B and factor >= 2)",
          "write A..B or A..B:F with 1 <= A <= B, e.g. --N 16..4096");
    for (int64_t v = a; v <= b; v *= f) {
      ns.push_back(v);
      if (v > b / f) break;
    }
  }
  for (size_t i = 0; i < ns.size(); ++i)
    check(ns[i] >= 1 && (i == 0 || ns[i] > ns[i - 1]), "scan: bad --N range '" + text +
          "' (values must be >= 1 and increasing)", "write increasing values, e.g. --N 16,64,256");
  check(ns.size() <= 64, "scan: --N '" + text + "' has " + std::to_string(ns.size()) + " values (at most 64)",
        "use a larger factor, e.g. A..B:4");
  return ns;
}

std::string scan_default_range(const std::string& task) {
  return task == "index-lookup" ? "16..1048576" : "16..16384";
}

int64_t scan_default_verify_max(const std::string& task) {
  return task == "index-lookup" ? (int64_t{1} << 26) : 1024;
}

LinearFit linear_fit(const std::vector<double>& x, const std::vector<double>& y) {
  check(x.size() == y.size() && x.size() >= 2, "fit: needs at least 2 points", "scan at least 2 values of N");
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i] / n, my += y[i] / n;
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my), syy += (y[i] - my) * (y[i] - my);
  check(sxx > 0, "fit: all x are equal", "scan at least 2 distinct values of N");
  LinearFit f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  double ss_res = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double r = y[i] - (f.slope * x[i] + f.intercept);
    ss_res += r * r;
  }
  f.r2 = syy > 0 ? 1.0 - ss_res / syy : 1.0;
  return f;
}

ScanResult scan_run(const ScanOptions& opt, const std::function<void(const ScanRow&)>& on_row) {
  scan_validate(opt);
  ScanResult res;
  res.opt = opt;
  const int64_t verify_max = opt.verify_max > 0 ? opt.verify_max : scan_default_verify_max(opt.task);
  std::vector<double> x, y;
  for (int64_t n : opt.ns) {
    const auto t0 = std::chrono::steady_clock::now();
    ScanRow row = scan_row(opt, n, n <= verify_max);
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    x.push_back(std::log2(static_cast<double>(n)));
    y.push_back(static_cast<double>(row.width));
    res.rows.push_back(row);
    if (on_row) on_row(res.rows.back());
  }
  res.fit = linear_fit(x, y);
  return res;
}

nlohmann::json ScanResult::to_json() const {
  nlohmann::json rows_j = nlohmann::json::array();
  for (const auto& r : rows) rows_j.push_back(row_json(r));
  nlohmann::json options = {{"gamma", opt.gamma}, {"code", opt.code}, {"seed", opt.seed},
                            {"precision", opt.precision}, {"verify_max", opt.verify_max}};
  if (opt.task == "index-lookup") {
    options["alphabet"] = opt.alphabet, options["strings"] = opt.strings, options["queries"] = opt.queries;
  } else {
    options["count"] = opt.count;
  }
  if (opt.task == "nearest-neighbour")
    options["d"] = opt.nn_d, options["classes"] = opt.nn_classes, options["margin"] = opt.nn_margin;
  return {{"task", opt.task}, {"paper", "Bhattamishra et al. 2024, arXiv 2406.09347"}, {"options", options},
          {"rows", rows_j},
          {"fit", {{"x", "log2 N"}, {"y", "width (d_model)"}, {"slope", fit.slope}, {"intercept", fit.intercept},
                   {"r2", fit.r2}}}};
}

}  // namespace attnlab
