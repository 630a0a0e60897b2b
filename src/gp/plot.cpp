// SVG line plots (see plot.h): 640×420, axes with 5 ticks, a legend, one colour per series.
#include "gp/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "util/error.h"

namespace attnlab::gp {

namespace {

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"};

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return o;
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double map(double v, double p0, double p1) const {
    double t = log ? (std::log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo);
    return p0 + t * (p1 - p0);
  }
  double tick(int i) const {
    double t = lo + (hi - lo) * i / 4.0;
    return log ? std::pow(10.0, t) : t;
  }
};

Axis axis_fit(const PlotSpec& p, bool is_x, bool log) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& s : p.series)
    for (size_t i = 0; i < s.y.size(); ++i) {
      double v = is_x ? s.x[i] : s.y[i];
      double e = (!is_x && !s.err.empty()) ? s.err[i] : 0.0;
      for (double w : {v - e, v + e})
        if (std::isfinite(w) && (!log || w > 0)) { lo = std::min(lo, w); hi = std::max(hi, w); }
    }
  if (!std::isfinite(lo)) lo = log ? 1 : 0, hi = log ? 10 : 1;
  Axis a;
  a.log = log;
  a.lo = log ? std::log10(lo) : lo;
  a.hi = log ? std::log10(hi) : hi;
  if (a.hi - a.lo < 1e-12) a.hi = a.lo + 1;
  double pad = 0.04 * (a.hi - a.lo);
  a.lo -= pad;
  a.hi += pad;
  return a;
}

}  // namespace

std::string plot_svg(const PlotSpec& p) {
  const double W = 640, H = 420, L = 70, R = 170, T = 40, B = 55;
  Axis ax = axis_fit(p, true, p.log_x), ay = axis_fit(p, false, p.log_y);
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"420\" font-family=\"sans-serif\" "
                  "font-size=\"12\">\n<rect width=\"640\" height=\"420\" fill=\"white\"/>\n";
  s += "<text x=\"" + fmt(W / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" + esc(p.title) + "</text>\n";
  s += "<rect x=\"" + fmt(L) + "\" y=\"" + fmt(T) + "\" width=\"" + fmt(W - L - R) + "\" height=\"" + fmt(H - T - B) +
       "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    double px = ax.map(ax.tick(i), L, W - R), py = ay.map(ay.tick(i), H - B, T);
    s += "<text x=\"" + fmt(px) + "\" y=\"" + fmt(H - B + 16) + "\" text-anchor=\"middle\">" + fmt(ax.tick(i)) + "</text>\n";
    s += "<text x=\"" + fmt(L - 6) + "\" y=\"" + fmt(py + 4) + "\" text-anchor=\"end\">" + fmt(ay.tick(i)) + "</text>\n";
  }
  s += "<text x=\"" + fmt((L + W - R) / 2) + "\" y=\"" + fmt(H - 14) + "\" text-anchor=\"middle\">" + esc(p.xlabel) + "</text>\n";
  s += "<text transform=\"translate(16," + fmt((T + H - B) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       esc(p.ylabel) + "</text>\n";
  for (size_t k = 0; k < p.series.size(); ++k) {
    const auto& se = p.series[k];
    std::string c = kColors[k % 7], path;
    for (size_t i = 0; i < se.y.size(); ++i) {
      if ((p.log_x && se.x[i] <= 0) || (p.log_y && se.y[i] <= 0) || !std::isfinite(se.y[i])) continue;
      double px = ax.map(se.x[i], L, W - R), py = ay.map(se.y[i], H - B, T);
      path += (path.empty() ? "M" : " L") + fmt(px) + "," + fmt(py);
      s += "<circle cx=\"" + fmt(px) + "\" cy=\"" + fmt(py) + "\" r=\"3\" fill=\"" + c + "\"/>\n";
      if (!se.err.empty() && se.err[i] > 0) {
        double lo = se.y[i] - se.err[i], hi = se.y[i] + se.err[i];
        double plo = (p.log_y && lo <= 0) ? H - B : ay.map(lo, H - B, T);
        s += "<line x1=\"" + fmt(px) + "\" x2=\"" + fmt(px) + "\" y1=\"" + fmt(plo) + "\" y2=\"" +
             fmt(ay.map(hi, H - B, T)) + "\" stroke=\"" + c + "\"/>\n";
      }
    }
    if (!se.markers_only && !path.empty())
      s += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + c + "\" stroke-width=\"1.5\"/>\n";
    double ly = T + 14 + 18 * k;
    s += "<rect x=\"" + fmt(W - R + 12) + "\" y=\"" + fmt(ly - 9) + "\" width=\"10\" height=\"10\" fill=\"" + c + "\"/>\n";
    s += "<text x=\"" + fmt(W - R + 28) + "\" y=\"" + fmt(ly) + "\">" + esc(se.label) + "</text>\n";
  }
  return s + "</svg>\n";
}

}  // namespace attnlab::gp
