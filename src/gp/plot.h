// Minimal standalone SVG line plots for the gp commands: series of (x, y) points with optional error bars,
// linear or log axes. Plain text output; no LibTorch.
#pragma once

#include <string>
#include <vector>

namespace attnlab::gp {

struct PlotSeries {
  std::string label;
  std::vector<double> x, y;
  std::vector<double> err;   // optional, same size as y (± error bars)
  bool markers_only = false; // points without a connecting line
};

struct PlotSpec {
  std::string title, xlabel, ylabel;
  bool log_x = false, log_y = false;
  std::vector<PlotSeries> series;
};

std::string plot_svg(const PlotSpec& plot);  // a complete <svg> document

}  // namespace attnlab::gp
