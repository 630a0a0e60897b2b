#include "train/report.h"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "constructions/head_roles.h"
#include "gp/plot.h"
#include "model/weights.h"
#include "report/html.h"
#include "train/config.h"
#include "train/snapshot.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

double round4(double x) { return std::round(x * 1e4) / 1e4; }

// Report JS: line charts on canvases and an attention heatmap with layer/head selectors and a step slider.
const char* kReportJs = R"JS(
(function () {
  const D = JSON.parse(document.getElementById('attnlab-data').textContent);
  const root = document.getElementById('attnlab-root');
  function el(t, c, x) { const e = document.createElement(t); if (c) e.className = c; if (x != null) e.textContent = x; return e; }
  root.appendChild(el('h1', null, D.title));
  const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
  function chart(title, series, ylog) {
    const box = el('div', 'tr-chart'); box.appendChild(el('h2', null, title));
    const cv = el('canvas'); cv.width = 560; cv.height = 260; box.appendChild(cv);
    const leg = el('div', 'tr-legend'); box.appendChild(leg); root.appendChild(box);
    const ctx = cv.getContext('2d'); let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    const f = ylog ? (v) => Math.log10(Math.max(v, 1e-8)) : (v) => v;
    series.forEach((s) => s.x.forEach((x, i) => { const y = f(s.y[i]); x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }));
    if (!isFinite(x0)) { box.appendChild(el('p', null, 'no data yet')); return; }
    if (x1 === x0) x1 = x0 + 1; if (y1 === y0) { y1 += 0.5; y0 -= 0.5; }
    const L = 60, R = 10, T = 10, B = 30, W = cv.width - L - R, H = cv.height - T - B;
    const px = (x) => L + (x - x0) / (x1 - x0) * W, py = (y) => T + (1 - (y - y0) / (y1 - y0)) * H;
    ctx.strokeStyle = '#999'; ctx.strokeRect(L, T, W, H); ctx.fillStyle = '#333'; ctx.font = '11px sans-serif';
    for (let k = 0; k <= 4; k++) {
      const y = y0 + (y1 - y0) * k / 4; ctx.fillText((ylog ? Math.pow(10, y) : y).toPrecision(3), 4, py(y) + 4);
      const x = x0 + (x1 - x0) * k / 4; ctx.fillText(String(Math.round(x)), px(x) - 10, T + H + 16);
    }
    ctx.fillText('step', L + W / 2, T + H + 28);
    series.forEach((s, j) => {
      ctx.strokeStyle = COLORS[j % COLORS.length]; ctx.beginPath();
      s.x.forEach((x, i) => { const X = px(x), Y = py(f(s.y[i])); if (i) ctx.lineTo(X, Y); else ctx.moveTo(X, Y); });
      ctx.stroke(); const sw = el('span', null, '\u25A0 ' + s.name + '  '); sw.style.color = COLORS[j % COLORS.length]; leg.appendChild(sw);
    });
  }
  const tr = D.train;
  chart('training loss (log scale)', [{ name: 'train loss', x: tr.step, y: tr.loss }], true);
  const accSeries = [{ name: 'train acc', x: tr.step, y: tr.acc }];
  (D.eval_lengths || []).forEach((n, j) => {
    accSeries.push({ name: 'held-out exact n=' + n, x: D.eval.map((e) => e.step), y: D.eval.map((e) => e.results[j].exact) });
  });
  chart('accuracy', accSeries, false);
  const steps = [];  // retrieval: held-out accuracy per number of definitions a position's value takes (by_steps)
  (D.eval_lengths || []).forEach((n, j) => {
    const ev = D.eval.filter((e) => e.results[j] && e.results[j].by_steps);
    if (ev.length) ev[0].results[j].by_steps.forEach((_, d) => steps.push({
      name: 'n=' + n + ', ' + (d + 1) + (d ? ' definitions' : ' definition'), x: ev.map((e) => e.step),
      y: ev.map((e) => e.results[j].by_steps[d]) }));
  });
  if (steps.length) chart('held-out accuracy by definitions to follow (the curriculum depths)', steps, false);
  const S = D.snapshots;
  if (!S || !S.steps.length) { root.appendChild(el('p', null, 'no attention snapshots (an RNN, or snapshots off)')); }
  else {
    const box = el('div', 'tr-attn'); box.appendChild(el('h2', null, 'attention of probe example 0 over training'));
    const ctl = el('div', 'tr-ctl'); box.appendChild(ctl);
    const layerSel = el('select'), headSel = el('select'), slider = el('input'), lab = el('span');
    S.layers.forEach((L, i) => layerSel.appendChild(new Option('layer ' + i, i)));
    slider.type = 'range'; slider.min = 0; slider.max = S.steps.length - 1; slider.value = S.steps.length - 1;
    ctl.append('layer ', layerSel, ' head ', headSel, ' step ', slider, lab);
    const cv = el('canvas'); box.appendChild(cv); const tip = el('div', 'tr-tip'); box.appendChild(tip); root.appendChild(box);
    function heads() { headSel.replaceChildren(); for (let h = 0; h < S.layers[+layerSel.value].heads; h++) headSel.appendChild(new Option('head ' + h, h)); }
    function draw() {
      const L = S.layers[+layerSel.value], h = +headSel.value || 0, s = +slider.value, T = S.tokens.length;
      lab.textContent = ' ' + S.steps[s];
      const cell = Math.max(6, Math.min(24, Math.floor(480 / T))), M = 60;
      cv.width = M + cell * T; cv.height = M + cell * T; const ctx = cv.getContext('2d');
      ctx.clearRect(0, 0, cv.width, cv.height); ctx.font = '10px monospace'; ctx.fillStyle = '#333';
      const vals = L.data[s][h];
      for (let d = 0; d < T; d++) for (let k = 0; k < T; k++) {
        const v = vals[d * T + k]; const c = Math.round(255 * (1 - v));
        ctx.fillStyle = 'rgb(' + c + ',' + c + ',255)'; ctx.fillRect(M + k * cell, M + d * cell, cell, cell);
      }
      ctx.fillStyle = '#333';
      for (let i = 0; i < T; i++) {
        ctx.fillText(S.tokens[i], 2, M + i * cell + cell * 0.8);
        ctx.save(); ctx.translate(M + i * cell + cell * 0.8, M - 4); ctx.rotate(-Math.PI / 2); ctx.fillText(S.tokens[i], 0, 0); ctx.restore();
      }
      cv.onmousemove = (e) => {
        const r = cv.getBoundingClientRect(), k = Math.floor((e.clientX - r.left - M) / cell), d = Math.floor((e.clientY - r.top - M) / cell);
        tip.textContent = (d >= 0 && k >= 0 && d < T && k < T) ? 'query ' + d + ' (' + S.tokens[d] + ') \u2192 key ' + k + ' (' + S.tokens[k] + '): ' + vals[d * T + k].toFixed(4) : '';
      };
    }
    layerSel.onchange = () => { heads(); draw(); }; headSel.onchange = draw; slider.oninput = draw;
    heads(); draw();
  }
  const cfg = el('details'); cfg.appendChild(el('summary', null, 'resolved config')); cfg.appendChild(el('pre', null, D.config)); root.appendChild(cfg);
})();
)JS";

const char* kReportCss =
    "body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222}h1{font-size:20px}h2{font-size:15px}"
    ".tr-chart,.tr-attn{display:inline-block;vertical-align:top;margin:0 24px 24px 0}"
    ".tr-legend{font-size:12px}.tr-tip{font:12px monospace;min-height:16px}pre{font-size:12px}";

nlohmann::json snapshots_data(const std::string& run_dir) {
  auto files = snapshot_list(run_dir);
  nlohmann::json s = {{"steps", nlohmann::json::array()}, {"layers", nlohmann::json::array()}, {"tokens", nullptr}};
  if (files.empty()) return s;
  const size_t max_snapshots = 60;  // evenly subsampled beyond this, the last one always kept
  std::vector<size_t> pick;
  for (size_t i = 0; i < std::min(files.size(), max_snapshots); ++i)
    pick.push_back(files.size() <= max_snapshots ? i : i * (files.size() - 1) / (max_snapshots - 1));
  for (size_t fi : pick) {
    auto sf = safetensors_read(files[fi].second);
    if (s["tokens"].is_null()) s["tokens"] = nlohmann::json::parse(sf.metadata.at("tokens")).at(0);
    s["steps"].push_back(files[fi].first);
    size_t l = 0;
    for (const auto& td : sf.tensors) {
      torch::Tensor t = tensor_from_data(td).to(torch::kFloat64);  // [P, H, T, T]
      const int64_t H = t.size(1);
      if (s["layers"].size() <= l) s["layers"].push_back({{"heads", H}, {"data", nlohmann::json::array()}});
      nlohmann::json heads = nlohmann::json::array();
      for (int64_t h = 0; h < H; ++h) {
        auto flat = t[0][h].contiguous().view({-1});
        std::vector<double> v(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
        for (auto& x : v) x = std::round(x * 1e3) / 1e3;
        heads.push_back(v);
      }
      s["layers"][l++]["data"].push_back(heads);
    }
  }
  return s;
}

}  // namespace

nlohmann::json train_report_data(const std::string& run_dir) {
  nlohmann::json d;
  d["title"] = "attnlab training run: " + run_dir;
  d["config"] = file_read_text(run_dir + "/config.resolved.toml");
  nlohmann::json train = {{"step", nlohmann::json::array()}, {"loss", nlohmann::json::array()},
                          {"acc", nlohmann::json::array()}, {"lr", nlohmann::json::array()}};
  nlohmann::json evals = nlohmann::json::array();
  std::istringstream lines(file_read_text(run_dir + "/metrics.jsonl"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.contains("kind")) continue;
    if (r["kind"] == "train") {
      train["step"].push_back(r["step"]);
      train["loss"].push_back(round4(r["loss"].get<double>()));
      train["acc"].push_back(round4(r["acc"].get<double>()));
      train["lr"].push_back(r["lr"]);
    } else if (r["kind"] == "eval") {
      evals.push_back({{"step", r["step"]}, {"results", r["results"]}});
      d["eval_lengths"] = nlohmann::json::array();
      for (const auto& e : r["results"]) d["eval_lengths"].push_back(e["n"]);
    }
  }
  d["train"] = train;
  d["eval"] = evals;
  d["snapshots"] = snapshots_data(run_dir);
  return d;
}

namespace {

// The first <tag ...>...</tag> element of an HTML text ("" when absent).
std::string html_element(const std::string& page, const std::string& tag) {
  size_t a = page.find("<" + tag), b = page.find("</" + tag + ">", a == std::string::npos ? 0 : a);
  return a == std::string::npos || b == std::string::npos ? "" : page.substr(a, b + tag.size() + 3 - a);
}

// Retrieval runs (docs/retrieval.md): the emergence of head roles over the snapshots (a timeline SVG and the
// order) and, once the final model is saved, the hop chain of one probe through it. Static sections below the
// curves; a run whose snapshots cannot be classified yet says why instead of failing the training.
std::string retrieval_sections(const std::string& run_dir) {
  std::string task;
  try {
    task = train_config_read(run_dir + "/config.resolved.toml").task.name;
  } catch (const Error&) {
    return "";  // the curves do not need the config; the report must never fail the training
  }
  if (task != "retrieval") return "";
  std::string out = "<section id=\"retrieval\" style=\"margin:1em\"><h2>Emergence of head roles</h2>\n";
  try {
    RunEmergence run = head_roles_run(run_dir, HeadRoleOptions{});
    std::vector<std::string> role_of;
    std::vector<std::vector<double>> timeline = head_roles_timeline(run, &role_of);
    gp::PlotSpec plot;
    plot.title = "role score of each head over training (attnlab retrieval emergence)";
    plot.xlabel = "step";
    plot.ylabel = "score of the head's final role";
    for (size_t i = 0; i < timeline.size() && i < run.emergence.size(); ++i) {
      gp::PlotSeries series;
      series.label = "L" + std::to_string(run.emergence[i].layer) + "H" + std::to_string(run.emergence[i].head) + " " +
                     role_of[i];
      for (size_t k = 0; k < run.history.size() && k < timeline[i].size(); ++k) {
        series.x.push_back(static_cast<double>(run.history[k].first));
        series.y.push_back(timeline[i][k]);
      }
      plot.series.push_back(series);
    }
    out += gp::plot_svg(plot) + "\n<p>Order of emergence: " + html_escape(head_roles_order_text(run)) + "</p>\n";
    if (std::filesystem::exists(run_dir + "/model/config.json") && !run.history.empty()) {
      SequenceModel model = model_load(run_dir + "/model");
      RetrievalInstance probe = head_roles_probes(run.spec, HeadRoleOptions{})[0];
      std::string page = hop_view_html(hop_trace(model, run.spec, probe), run.history.back().second, "hop chain");
      out += "<h2>Hop chain of one probe through the final model</h2>\n" + html_element(page, "svg") + "\n" +
             html_element(page, "table") + "\n";
    }
  } catch (const Error& e) {
    out += "<p>(head roles not available: " + html_escape(e.message()) + ")</p>\n";
  }
  return out + "</section>\n";
}

}  // namespace

void train_report_write(const std::string& run_dir) {
  nlohmann::json data = train_report_data(run_dir);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:\">\n";
  out += "<title>" + html_escape(data["title"].get<std::string>()) + "</title>\n<style>";
  out += kReportCss;
  out += "</style>\n</head>\n<body>\n<div id=\"attnlab-root\"><noscript>This page needs JavaScript.</noscript></div>\n";
  out += retrieval_sections(run_dir);
  out += "<script type=\"application/json\" id=\"attnlab-data\">" + html_json_block(data) + "</script>\n";
  out += "<script>" + std::string(kReportJs) + "</script>\n</body>\n</html>\n";
  file_write_atomic(run_dir + "/report.html", out);
}

}  // namespace attnlab
