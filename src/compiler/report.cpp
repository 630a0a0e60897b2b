// The compile report: per layer, the heads (what each reads and writes, its selector) and the MLP blocks
// (hidden units, what they tabulate), then the residual layout and the sizes. Text for the terminal,
// JSON (compile.json) for tools.
#include <map>
#include <set>
#include <sstream>

#include "compiler/compile.h"
#include "compiler/layout.h"

namespace attnlab::compiler {

namespace {

std::string reads_of(const Plan& p, const std::vector<const Affine*>& fs) {
  std::set<std::string> names;
  for (const Affine* a : fs)
    for (const Term& t : a->terms) {
      const Source& s = p.sources[static_cast<size_t>(t.source)];
      if (s.kind != SourceKind::Bos) names.insert(s.name);
    }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(BOS only)" : out;
}

std::string sublayer(int stage) {
  return "layer " + std::to_string((stage + 1) / 2 - 1) + (stage % 2 ? " attn" : " mlp");
}

}  // namespace

nlohmann::json compile_summary(const Plan& p) {
  nlohmann::json j;
  j["program"] = p.target_name;
  j["max_len"] = p.opt.max_len;
  j["vocab"] = p.opt.vocab;
  j["causal"] = p.opt.causal;
  j["n_layers"] = p.n_layers;
  j["n_heads"] = p.n_heads;
  j["d_model"] = p.d_model;
  j["d_head"] = p.d_head;
  j["d_mlp"] = p.d_mlp;
  j["parameters"] = compiled_parameter_count(p);
  j["softmax_sharpness"] = p.lambda;
  j["output"] = p.numeric_output ? "numeric" : "categorical";
  if (!p.numeric_output) j["vocab_out"] = p.out_vocab;
  j["residual_labels"] = p.residual_labels;
  j["d_model_without_reuse"] = p.d_model_unshared;
  nlohmann::json layers = nlohmann::json::array();
  for (int l = 0; l < p.n_layers; ++l) {
    nlohmann::json heads = nlohmann::json::array(), mlps = nlohmann::json::array();
    for (const HeadGroup& g : p.groups) {
      const Source& s = p.sources[static_cast<size_t>(g.source)];
      if ((s.stage - 1) / 2 != l) continue;
      for (const Head& h : g.heads) {
        std::vector<const Affine*> qk, v;
        for (const auto& a : h.q) qk.push_back(&a);
        for (const auto& a : h.k) qk.push_back(&a);
        for (const auto& a : h.v) v.push_back(&a);
        heads.push_back({{"what", h.what}, {"selector", h.selector}, {"qk_reads", reads_of(p, qk)},
                         {"v_reads", reads_of(p, v)}, {"writes", s.name}, {"qk_features", h.q.size()},
                         {"v_features", h.v.size()}});
      }
    }
    for (const MlpBlock& m : p.mlps) {
      const Source& s = p.sources[static_cast<size_t>(m.source)];
      if (s.stage != 2 * l + 2) continue;
      mlps.push_back({{"what", m.what}, {"reads", reads_of(p, {&m.u})}, {"writes", s.name},
                      {"units", 2 * m.thresholds.size()}, {"width", s.width()}});
    }
    nlohmann::json erased = nlohmann::json::array();
    for (const Erasure& e : p.erasures) {
      if (e.stage != 2 * l + 2) continue;
      const Source& s = p.sources[static_cast<size_t>(e.source)];
      erased.push_back({{"source", s.name}, {"dims", {s.offset, s.offset + s.width() - 1}}, {"units", e.units}});
    }
    layers.push_back({{"layer", l}, {"heads", heads}, {"mlps", mlps}, {"erasures", erased},
                      {"mlp_units", layout_mlp_units(p, l)}});
  }
  j["layers"] = layers;
  j["warnings"] = p.warnings;
  return j;
}

std::string compile_report_text(const Plan& p) {
  std::ostringstream o;
  nlohmann::json j = compile_summary(p);
  o << "program " << p.target_name << ": " << p.n_layers << " layer" << (p.n_layers == 1 ? "" : "s") << ", "
    << p.n_heads << " head" << (p.n_heads == 1 ? "" : "s") << " per layer (most), d_model " << p.d_model
    << ", d_head " << p.d_head << ", d_mlp " << p.d_mlp << ", " << j["parameters"].get<int64_t>() << " parameters\n";
  o << "output: " << (p.numeric_output ? "numeric" : "categorical (" + std::to_string(p.out_vocab.size()) + " values)")
    << ", max_len " << p.opt.max_len << (p.opt.causal ? ", causal" : "") << ", softmax sharpness " << p.lambda << "\n";
  for (const auto& layer : j["layers"]) {
    o << "layer " << layer["layer"].get<int>() << ":\n";
    for (const auto& h : layer["heads"])
      o << "  head  " << h["what"].get<std::string>() << "\n        q·k reads " << h["qk_reads"].get<std::string>()
        << " (" << h["qk_features"].get<size_t>() << " features); v reads " << h["v_reads"].get<std::string>()
        << "; writes " << h["writes"].get<std::string>() << "\n        selects " << h["selector"].get<std::string>() << "\n";
    for (const auto& m : layer["mlps"])
      o << "  mlp   " << m["what"].get<std::string>() << ": reads " << m["reads"].get<std::string>() << "; "
        << m["units"].get<size_t>() << " units -> " << m["writes"].get<std::string>() << " (" << m["width"].get<int>()
        << " dims)\n";
    for (const auto& e : layer["erasures"])
      o << "  erase " << e["source"].get<std::string>() << "[" << e["dims"][0].get<int>() << ".." << e["dims"][1].get<int>()
        << "] for reuse: " << e["units"].get<int>() << " units\n";
    if (layer["heads"].empty() && layer["mlps"].empty()) o << "  (empty)\n";
  }
  o << "residual layout (" << p.d_model << " dims; " << p.d_model_unshared << " without reuse):\n";
  std::map<int, std::vector<const Source*>> by_stage;
  for (const Source& s : p.sources) by_stage[s.stage].push_back(&s);
  for (const auto& [stage, list] : by_stage) {
    o << "  " << (stage == 0 ? std::string("embedding") : sublayer(stage)) << ":";
    for (const Source* s : list)
      o << " " << (s->kind == SourceKind::Bos ? "bos" : s->name) << "[" << s->offset << ".."
        << s->offset + s->width() - 1 << "]";
    o << "\n";
  }
  for (const auto& w : p.warnings) o << "warning: " << w << "\n";
  return o.str();
}

}  // namespace attnlab::compiler
