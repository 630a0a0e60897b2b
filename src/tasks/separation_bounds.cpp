#include "tasks/separation_bounds.h"

#include <cmath>
#include <cstdio>

#include "util/error.h"

namespace attnlab {

static std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::vector<BoundRow> separation_bounds(const BoundQuery& q) {
  check(q.n >= 1, "bounds: N = " + std::to_string(q.n) + " (must be >= 1)", "pass --N 1 or more");
  check(q.precision >= 1, "bounds: precision " + std::to_string(q.precision) + " bits (must be >= 1)",
        "pass --precision 1 or more");
  check(q.heads >= 1, "bounds: " + std::to_string(q.heads) + " heads (must be >= 1)", "pass --heads 1 or more");
  const double N = static_cast<double>(q.n), p = static_cast<double>(q.precision), H = static_cast<double>(q.heads);
  std::vector<BoundRow> rows;
  if (q.task == "index-lookup") {
    check(q.alphabet >= 2, "bounds: alphabet size " + std::to_string(q.alphabet) + " (must be >= 2)",
          "pass --alphabet 2 or more");
    double lg = std::log2(static_cast<double>(q.alphabet));
    rows.push_back({"RNN", "hidden size", N * lg / p,
                    "N*log2|S|/p = " + num(N) + "*" + num(lg) + "/" + num(p)});
  } else if (q.task == "equality" || q.task == "disjointness") {
    rows.push_back({"RNN", "hidden size", N / p, "N/p = " + num(N) + "/" + num(p)});
    rows.push_back({"1-layer transformer", "width m", N / (H * p),
                    "m*H*p >= N: N/(H*p) = " + num(N) + "/(" + num(H) + "*" + num(p) + ")"});
  } else if (q.task == "dyck") {
    rows.push_back({"1-layer transformer", "width m", N / (H * p),
                    "Dyck-(2,2), m*H*p >= n: n/(H*p) = " + num(N) + "/(" + num(H) + "*" + num(p) + ")"});
  } else if (q.task == "nearest-neighbour") {
    rows.push_back({"RNN", "hidden size", N / p, "N/p = " + num(N) + "/" + num(p) + " (N labelled points)"});
  } else {
    throw Error("bounds: unknown task '" + q.task + "'",
                "use --task index-lookup, equality, disjointness, dyck or nearest-neighbour");
  }
  return rows;
}

}  // namespace attnlab
