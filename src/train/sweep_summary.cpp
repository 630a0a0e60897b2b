// `attnlab sweep summarize DIR`: one row per job (axis values, status, final train loss, held-out accuracy per
// length, CPU seconds) to summary.csv / summary.json, and an HTML heatmap of one metric over two axes.
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "report/html.h"
#include "train/sweep.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

std::string axis_value(const SweepJob& job, const std::string& axis) {
  std::string out;
  for (const auto& key : axis_keys(axis)) {  // zipped axes: values joined by '/', as given on the command line
    std::string v;
    for (const auto& o : job.overrides)
      if (o.rfind(key + "=", 0) == 0) v = o.substr(key.size() + 1);
    out += (out.empty() ? "" : "/") + v;
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string heatmap_html(const nlohmann::json& rows, const SweepSpec& spec, const SummaryOptions& opt,
                         const std::string& x, const std::string& y) {
  std::map<std::pair<std::string, std::string>, std::pair<double, int>> cells;  // (y, x) -> sum, count
  std::vector<std::string> xs, ys;
  for (const auto& ax : spec.axes) {
    if (ax.key == x) xs = ax.values;
    if (ax.key == y) ys = ax.values;
  }
  if (xs.empty()) xs = {""};
  if (ys.empty()) ys = {""};
  for (const auto& r : rows) {
    if (!r.contains("metric") || r["metric"].is_null()) continue;
    auto key = std::make_pair(y.empty() ? "" : r["axes"].value(y, ""), x.empty() ? "" : r["axes"].value(x, ""));
    cells[key].first += r["metric"].get<double>();
    cells[key].second += 1;
  }
  std::string t = "<table><tr><th>" + html_escape(y) + " \\ " + html_escape(x) + "</th>";
  for (const auto& xv : xs) t += "<th>" + html_escape(xv) + "</th>";
  t += "</tr>";
  for (const auto& yv : ys) {
    t += "<tr><th>" + html_escape(yv) + "</th>";
    for (const auto& xv : xs) {
      auto it = cells.find({yv, xv});
      if (it == cells.end()) {
        t += "<td class=\"none\">—</td>";
        continue;
      }
      double v = it->second.first / it->second.second;
      int shade = static_cast<int>(std::lround(255 * (1 - std::clamp(v, 0.0, 1.0))));
      char buf[160];
      std::snprintf(buf, sizeof buf, "<td style=\"background:rgb(%d,%d,255)\">%.3f<small> (%d)</small></td>",
                    shade, 255 - (255 - shade) / 3, v, it->second.second);
      t += buf;
    }
    t += "</tr>";
  }
  t += "</table>";
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" "
         "content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>attnlab sweep summary</title><style>"
         "body{font:14px system-ui,sans-serif;margin:20px}td,th{border:1px solid #ccc;padding:6px 10px;text-align:right}"
         "table{border-collapse:collapse}small{color:#555}</style></head><body><h1>sweep " + html_escape(spec.out) +
         "</h1><p>metric: <b>" + html_escape(opt.metric) + "</b> (mean over the other axes; count in brackets)</p>" + t +
         "<p>rows: summary.csv / summary.json next to this file</p></body></html>\n";
}

}  // namespace

nlohmann::json sweep_summarize(const std::string& dir, const SummaryOptions& opt) {
  SweepSpec spec;
  std::vector<SweepJob> jobs;
  sweep_load(dir, spec, jobs);
  std::set<std::string> axis_keys;
  for (const auto& a : spec.axes) axis_keys.insert(a.key);
  std::string x = opt.x.empty() ? (spec.axes.size() > 0 ? spec.axes[0].key : "") : opt.x;
  std::string y = opt.y.empty() ? (spec.axes.size() > 1 ? spec.axes[1].key : "") : opt.y;
  for (const auto& k : {x, y})
    check(k.empty() || axis_keys.count(k), "'" + k + "' is not an axis of the sweep in " + dir,
          "pick --x / --y among the sweep's -m keys (see " + dir + "/sweep.json)");
  check(opt.metric == "exact" || opt.metric == "token_acc" || opt.metric == "train_loss",
        "unknown metric '" + opt.metric + "'", "use --metric exact, token_acc or train_loss");
  nlohmann::json rows = nlohmann::json::array();
  std::vector<int64_t> lengths;
  for (const auto& job : jobs) {
    nlohmann::json r = {{"job", job.name}, {"axes", nlohmann::json::object()}, {"status", "pending"}};
    for (const auto& a : spec.axes) r["axes"][a.key] = axis_value(job, a.key);
    const std::string run = spec.out + "/" + job.name;
    std::error_code ec;
    if (std::filesystem::exists(run + "/job_status.json", ec)) {
      auto st = nlohmann::json::parse(file_read_text(run + "/job_status.json"), nullptr, false);
      if (!st.is_discarded()) r["status"] = st.value("status", "unknown");
    }
    if (std::filesystem::exists(run + "/results.json", ec)) {
      auto res = nlohmann::json::parse(file_read_text(run + "/results.json"), nullptr, false);
      if (!res.is_discarded()) {
        r["status"] = "done";
        r["train_loss"] = res["final_train_loss"];
        r["cpu_seconds"] = res["cpu_seconds"];
        r["eval"] = res["eval"];
        if (lengths.empty())
          for (const auto& e : res["eval"]) lengths.push_back(e["n"].get<int64_t>());
        const auto& ev = res["eval"];
        if (opt.metric == "train_loss") r["metric"] = r["train_loss"];
        else if (!ev.empty()) {
          int64_t i = opt.length_index < 0 ? static_cast<int64_t>(ev.size()) - 1 : opt.length_index;
          check(i < static_cast<int64_t>(ev.size()), "--length-index " + std::to_string(i) + " is out of range",
                "the runs evaluate " + std::to_string(ev.size()) + " lengths");
          r["metric"] = ev[i][opt.metric];
        }
      }
    }
    rows.push_back(r);
  }
  std::string csv = "job";
  for (const auto& a : spec.axes) csv += "," + csv_field(a.key);
  csv += ",status,train_loss,cpu_seconds";
  for (auto n : lengths) csv += ",exact_n" + std::to_string(n) + ",token_acc_n" + std::to_string(n);
  csv += "\n";
  for (const auto& r : rows) {
    csv += csv_field(r["job"]);
    for (const auto& a : spec.axes) csv += "," + csv_field(r["axes"][a.key].get<std::string>());
    csv += "," + r["status"].get<std::string>();
    csv += "," + (r.contains("train_loss") ? r["train_loss"].dump() : "");
    csv += "," + (r.contains("cpu_seconds") ? r["cpu_seconds"].dump() : "");
    for (size_t i = 0; i < lengths.size(); ++i) {
      bool has = r.contains("eval") && i < r["eval"].size();
      csv += "," + (has ? r["eval"][i]["exact"].dump() : "") + "," + (has ? r["eval"][i]["token_acc"].dump() : "");
    }
    csv += "\n";
  }
  nlohmann::json summary = {{"sweep", spec.out}, {"metric", opt.metric}, {"x", x}, {"y", y}, {"rows", rows}};
  file_write_atomic(spec.out + "/summary.csv", csv);
  file_write_atomic(spec.out + "/summary.json", summary.dump(1) + "\n");
  file_write_atomic(spec.out + "/summary.html", heatmap_html(rows, spec, opt, x, y));
  return summary;
}

}  // namespace attnlab
