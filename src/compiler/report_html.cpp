// report.html of a compiled model: the text report, the residual stream over an example input after every
// sub-layer (a heatmap: rows = positions, columns = residual dimensions labelled with residual_labels), and
// every head's attention pattern. Plain HTML and CSS (no script, no network): it opens anywhere, forever.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "compiler/compile.h"
#include "model/hooks.h"
#include "report/html.h"
#include "util/fs.h"

namespace attnlab::compiler {

namespace {

std::string cell_color(double v, double scale) {
  double a = scale > 0 ? std::min(1.0, std::fabs(v) / scale) : 0.0;
  std::ostringstream o;
  o.precision(3);
  o << (v >= 0 ? "rgba(37,99,235," : "rgba(220,38,38,") << a << ")";
  return o.str();
}

// rows × cols heatmap; each cell's exact value in its title (hover).
std::string heat_table(const torch::Tensor& m, const std::vector<std::string>& row_labels,
                       const std::vector<std::string>& col_labels) {
  auto a = m.accessor<double, 2>();
  double scale = m.abs().max().item<double>();
  std::ostringstream o;
  o << "<table class=heat><tr><th></th>";
  for (const auto& c : col_labels) o << "<th class=v><span>" << html_escape(c) << "</span></th>";
  o << "</tr>";
  for (int64_t r = 0; r < m.size(0); ++r) {
    o << "<tr><th>" << html_escape(row_labels[static_cast<size_t>(r)]) << "</th>";
    for (int64_t c = 0; c < m.size(1); ++c)
      o << "<td style=\"background:" << cell_color(a[r][c], scale) << "\" title=\""
        << html_escape(col_labels[static_cast<size_t>(c)]) << " = " << a[r][c] << "\"></td>";
    o << "</tr>";
  }
  o << "</table>";
  return o.str();
}

}  // namespace

void compiled_report_html(const Plan& p, const std::string& path, const std::vector<std::string>& example) {
  auto model = compiled_model(p, AttentionKind::Softmax);
  std::vector<int64_t> ids{0};
  std::vector<std::string> rows{p.opt.bos};
  for (const auto& t : example) {
    ids.push_back(std::find(p.opt.vocab.begin(), p.opt.vocab.end(), t) - p.opt.vocab.begin() + 1);
    rows.push_back(t);
  }
  ModelInput in;
  in.tokens = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  Hooks hooks;
  hooks.cache_add("*hook_resid_*");
  hooks.cache_add("*hook_pattern");
  hooks.cache_add("hook_embed");
  hooks.cache_add("hook_pos_embed");
  torch::NoGradGuard no_grad;
  model->forward(in, &hooks);
  std::ostringstream o;
  o << "<!doctype html><html><head><meta charset=utf-8><meta http-equiv=\"Content-Security-Policy\" "
       "content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>attnlab compile: "
    << html_escape(p.target_name) << "</title><style>body{font:13px system-ui,sans-serif;margin:1.5em}"
       "table.heat{border-collapse:collapse}table.heat td{width:11px;height:14px;border:1px solid #eee}"
       "table.heat th{font-weight:normal;font-size:11px;text-align:right;padding-right:4px}"
       "th.v{height:9em;vertical-align:bottom}th.v span{writing-mode:vertical-rl;transform:rotate(180deg)}"
       "pre{background:#f6f6f6;padding:1em;overflow:auto}.heads{display:flex;flex-wrap:wrap;gap:2em}</style>"
       "</head><body><h1>"
    << html_escape(p.target_name) << "</h1><p>example input: <b>";
  for (const auto& t : example) o << html_escape(t) << " ";
  o << "</b> (position 0 is BOS). Blue = positive, red = negative; hover a cell for its value.</p><pre>"
    << html_escape(compile_report_text(p)) << "</pre>";
  auto resid = [&](const std::string& name) { return hooks.cached(name).select(0, 0).to(torch::kFloat64).contiguous(); };
  o << "<h2>Residual stream</h2>";
  if (p.n_layers == 0) {
    o << "<h3>embedding</h3>" << heat_table(resid("hook_embed") + resid("hook_pos_embed"), rows, p.residual_labels);
  }
  for (int l = 0; l < p.n_layers; ++l) {
    std::string b = "blocks." + std::to_string(l) + ".";
    if (l == 0) o << "<h3>embedding</h3>" << heat_table(resid(b + "hook_resid_pre"), rows, p.residual_labels);
    if (p.d_mlp > 0) o << "<h3>after layer " << l << " attention</h3>" << heat_table(resid(b + "hook_resid_mid"), rows, p.residual_labels);
    o << "<h3>after layer " << l << (p.d_mlp > 0 ? " MLP" : " attention") << "</h3>"
      << heat_table(resid(b + "hook_resid_post"), rows, p.residual_labels);
  }
  o << "<h2>Attention patterns</h2><p>rows = queries, columns = keys.</p>";
  for (int l = 0; l < p.n_layers; ++l) {
    auto pat = resid("blocks." + std::to_string(l) + ".attn.hook_pattern");  // [H, T, T]
    o << "<h3>layer " << l << "</h3><div class=heads>";
    int h = 0;
    for (const HeadGroup& g : p.groups) {
      if ((p.sources[static_cast<size_t>(g.source)].stage - 1) / 2 != l) continue;
      for (const Head& head : g.heads) {
        o << "<div><b>head " << h << "</b>: " << html_escape(head.what) << "<br><small>" << html_escape(head.selector)
          << "</small>" << heat_table(pat[h].contiguous(), rows, rows) << "</div>";
        ++h;
      }
    }
    o << "</div>";
  }
  o << "</body></html>\n";
  file_write_atomic(path, o.str());
}

}  // namespace attnlab::compiler
