// `attnlab rasp run|analyse|draw|print|repl` — the RASP toolchain on the command line (src/rasp/, no
// LibTorch): run a program on an input, size the transformer it needs, draw its graph, print it back,
// or work interactively.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "rasp/analyse.h"
#include "rasp/eval.h"
#include "rasp/interp.h"
#include "rasp/print.h"
#include "rasp/repl.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

using namespace attnlab::rasp;

struct RaspArgs {
  std::string file, input, name, out;
  bool json = false, causal = false, all = false, chars = false;
  size_t max_len = 20000;
};

const Node* sop_pick(const Interpreter& in, const RaspArgs& a) { return interp_sop_pick(in, a.name, a.file); }

nlohmann::json atom_json(const Atom& a) {
  if (atom_is_bool(a)) return std::get<bool>(a);
  if (atom_is_int(a)) return std::get<int64_t>(a);
  if (atom_is_float(a)) return std::get<double>(a);
  return std::get<std::string>(a);
}

void rasp_run(const RaspArgs& a) {
  Interpreter in;
  in.run_file(a.file);
  const Node* target = sop_pick(in, a);
  std::vector<Atom> input = input_parse(a.input, a.chars);
  std::vector<std::pair<std::string, const Node*>> cols;
  if (a.all) cols = in.sops();
  else cols = {{a.name.empty() ? interp_sop_name(in, target) : a.name, target}};
  std::vector<const Node*> targets;
  for (const auto& c : cols) targets.push_back(c.second);
  EvalOptions opts;
  opts.causal = a.causal;
  opts.max_len = a.max_len;
  Evaluation ev = evaluate(targets, input, opts);
  if (a.json) {
    nlohmann::json j = {{"file", a.file}, {"causal", a.causal}, {"input", nlohmann::json::array()}, {"sops", nlohmann::json::object()}};
    for (const Atom& t : input) j["input"].push_back(atom_json(t));
    for (const auto& [name, node] : cols) {
      nlohmann::json vals = nlohmann::json::array();
      for (const Atom& v : ev.at(node)) vals.push_back(atom_json(v));
      j["sops"][name] = vals;
    }
    std::cout << j.dump() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> table = {{"pos", "token"}};
  for (const auto& c : cols) table[0].push_back(c.first);
  for (size_t i = 0; i < input.size(); ++i) {
    table.push_back({std::to_string(i), atom_str(input[i])});
    for (const auto& c : cols) table.back().push_back(atom_str(ev.at(c.second)[i]));
  }
  std::vector<size_t> width(table[0].size(), 0);
  for (const auto& row : table)
    for (size_t k = 0; k < row.size(); ++k) width[k] = std::max(width[k], row[k].size());
  for (const auto& row : table) {
    std::string line;
    for (size_t k = 0; k < row.size(); ++k) line += row[k] + (k + 1 < row.size() ? std::string(width[k] - row[k].size() + 2, ' ') : "");
    std::cout << line << "\n";
  }
}

void rasp_analyse(const RaspArgs& a) {
  Interpreter in;
  in.run_file(a.file);
  const Node* target = sop_pick(in, a);
  std::cout << analysis_text(analyse(target), a.name.empty() ? interp_sop_name(in, target) : a.name);
}

void rasp_draw(const RaspArgs& a) {
  Interpreter in;
  in.run_file(a.file);
  const Node* target = sop_pick(in, a);
  std::string dot = program_to_dot({target});
  std::string ext = std::filesystem::path(a.out).extension().string();
  check(ext == ".dot" || ext == ".svg", "-o " + a.out + ": the output must end in .dot or .svg",
        "write -o graph.svg (needs Graphviz's 'dot') or -o graph.dot");
  std::filesystem::path parent = std::filesystem::path(a.out).parent_path();
  if (!parent.empty()) dir_create(parent.string());
  if (ext == ".dot") {
    file_write_atomic(a.out, dot);
  } else {
    std::string tmp = a.out + ".tmp.dot";
    file_write_atomic(tmp, dot);
    std::string cmd = "dot -Tsvg '" + tmp + "' -o '" + a.out + "' 2>&1";
    int rc = std::system(cmd.c_str());
    std::filesystem::remove(tmp);
    check(rc == 0, "Graphviz 'dot' failed to render " + a.out + " (exit status " + std::to_string(rc) + ")",
          "install Graphviz (apt-get install graphviz), or write -o graph.dot");
  }
  std::cout << "wrote " << a.out << "\n";
}

void rasp_print(const RaspArgs& a) {
  Interpreter in;
  in.run_file(a.file);
  std::cout << program_to_rasp({sop_pick(in, a)});
}

void add_file(CLI::App* sub, RaspArgs& a) {
  sub->add_option("FILE", a.file, "RASP program (.rasp)")->required();
  sub->add_option("-n,--name", a.name, "the s-op to use (default: the last one the file assigns)");
}

}  // namespace

void cmd_rasp_register(CLI::App& app) {
  static RaspArgs a;
  CLI::App* rasp = app.add_subcommand("rasp", "RASP programs: run, analyse, draw, print, repl");
  rasp->require_subcommand(1);

  CLI::App* run = rasp->add_subcommand("run", "run a RASP program on an input and print an s-op position by position");
  add_file(run, a);
  run->add_option("-i,--input", a.input, "the input: text (one token per character) or a list like [3, 1, 2]; see --chars")->required();
  run->add_flag("--chars", a.chars, "one token per character even when the input looks like a list");
  run->add_flag("--json", a.json, "print JSON: {file, causal, input, sops: {name: values}}");
  run->add_flag("--causal", a.causal, "mask every selector to keys at or before the query");
  run->add_flag("--all", a.all, "print every s-op the file assigns, one column each");
  run->add_option("--max-len", a.max_len, "longest input accepted")->capture_default_str();
  run->callback([] { rasp_run(a); });

  CLI::App* an = rasp->add_subcommand("analyse", "layers, heads and MLPs a transformer needs for an s-op");
  add_file(an, a);
  an->callback([] { rasp_analyse(a); });

  CLI::App* draw = rasp->add_subcommand("draw", "draw an s-op's computation graph (.svg via Graphviz, or .dot)");
  add_file(draw, a);
  draw->add_option("-o,--out", a.out, "output file: .svg or .dot")->required();
  draw->callback([] { rasp_draw(a); });

  CLI::App* print = rasp->add_subcommand("print", "print the program computing an s-op back as RASP text");
  add_file(print, a);
  print->callback([] { rasp_print(a); });

  static std::vector<std::string> repl_files;
  CLI::App* repl = rasp->add_subcommand("repl", "interactive RASP (set example \"hello\" to see values)");
  repl->add_option("FILES", repl_files, "RASP files to load first");
  repl->add_flag("--causal", a.causal, "evaluate examples with the causal mask");
  repl->callback([] { rasp::repl_run(repl_files, a.causal); });
}

}  // namespace attnlab
