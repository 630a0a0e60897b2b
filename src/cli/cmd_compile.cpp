// `attnlab compile FILE.rasp --name SOP --vocab "a b c" --max-len N -o DIR [--causal] [--verify K] [--report]`
// — compiles a RASP s-op into a model directory (DIR, plus DIR/hard with average-hard attention), optionally
// verifies it against the interpreter and prints the per-layer report. See docs/compiler.md.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "compiler/compile.h"
#include "compiler/verify.h"
#include "model/device.h"
#include "rasp/interp.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

struct CompileArgs {
  std::string file, name, vocab, out, dtype = "f64";
  int max_len = 16;
  bool causal = false, report = false;
  int verify = -1;  // random inputs per length; -1 = no verification
  uint64_t seed = 1;
  size_t exhaustive = 100000;
};

std::vector<std::string> vocab_split(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

nlohmann::json verify_json(const compiler::VerifyResult& r) {
  return {{"inputs", r.inputs}, {"outside_domain", r.outside_domain}, {"positions", r.positions},
          {"mismatches", r.mismatches}, {"max_abs_error", r.max_abs_error},
          {"exhaustive_lengths", r.exhaustive_lengths}, {"first_input", r.first_input},
          {"first_mismatch", r.first_mismatch}, {"seconds", r.seconds}};
}

void compile_run(const CompileArgs& a) {
  cli_runtime_init();
  check(a.verify >= -1, "--verify " + std::to_string(a.verify) + " is negative", "give the random inputs per length, e.g. --verify 100");
  auto dtype = dtype_from_string(a.dtype);
  rasp::Interpreter in;
  in.run_file(a.file);
  const rasp::Node* target = rasp::interp_sop_pick(in, a.name, a.file);
  std::string name = a.name.empty() ? rasp::interp_sop_name(in, target) : a.name;
  compiler::CompileOptions opt;
  opt.vocab = vocab_split(a.vocab);
  opt.max_len = a.max_len;
  opt.causal = a.causal;
  auto t0 = std::chrono::steady_clock::now();
  auto plan = compiler::compile_program(target, name, opt);
  nlohmann::json prov = {{"command", "attnlab compile"}, {"file", a.file}, {"name", name}, {"vocab", opt.vocab},
                         {"max_len", opt.max_len}, {"causal", opt.causal}, {"version", ATTNLAB_VERSION}};
  compiler::compiled_write(*plan, a.out, file_read_text(a.file), prov);
  double compile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();  // + writing
  std::printf("compiled %s in %.3f s: %d layers, %d heads (most per layer), d_model %d, d_head %d, d_mlp %d, "
              "%lld parameters\n",
              name.c_str(), compile_s, plan->n_layers, plan->n_heads, plan->d_model, plan->d_head, plan->d_mlp,
              static_cast<long long>(compiler::compiled_parameter_count(*plan)));
  std::printf("wrote %s (softmax attention) and %s/hard (hard attention)\n", a.out.c_str(), a.out.c_str());
  for (const auto& w : plan->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (a.report) {
    std::cout << compiler::compile_report_text(*plan);
    std::vector<std::string> example;
    for (int i = 0; i < std::min(opt.max_len, 8); ++i) example.push_back(opt.vocab[static_cast<size_t>(i) % opt.vocab.size()]);
    compiler::compiled_report_html(*plan, a.out + "/report.html", example);
    std::printf("wrote %s/report.html (residual stream and attention on \"", a.out.c_str());
    for (const auto& t : example) std::printf("%s", t.c_str());
    std::printf("\")\n");
  }
  if (a.verify < 0) return;
  nlohmann::json vj;
  int64_t bad = 0;
  std::string diagnosis, first_input;
  for (auto kind : {AttentionKind::Softmax, AttentionKind::Hard}) {
    std::string label = kind == AttentionKind::Softmax ? "softmax" : "hard";
    compiler::VerifyOptions vo;
    vo.samples = a.verify;
    vo.seed = a.seed;
    vo.exhaustive_limit = a.exhaustive;
    vo.num_tol = dtype == torch::kFloat64 ? 1e-9 : 1e-4;
    vo.progress = !cli_globals().quiet;
    auto model = compiler::compiled_model(*plan, kind, dtype);
    auto r = compiler::compiled_verify(*plan, model, vo);
    vj[label] = verify_json(r);
    std::printf("verify (%s attention, %s): %lld inputs (%lld outside the program's domain), %lld positions, "
                "%lld mismatching inputs, max |error| %.3g, %.2f s\n",
                label.c_str(), a.dtype.c_str(), static_cast<long long>(r.inputs), static_cast<long long>(r.outside_domain),
                static_cast<long long>(r.positions), static_cast<long long>(r.mismatches), r.max_abs_error, r.seconds);
    if (!r.exhaustive_lengths.empty())
      std::printf("  every input checked at lengths 1..%d\n", r.exhaustive_lengths.back());
    if (r.mismatches > 0 && bad == 0) {
      diagnosis = r.first_mismatch;
      first_input = r.first_input;
    }
    bad += r.mismatches;
  }
  file_write_atomic(a.out + "/verify.json", vj.dump(2) + "\n");
  std::printf("wrote %s/verify.json\n", a.out.c_str());
  check(bad == 0, "the compiled model disagrees with the interpreter on input \"" + first_input + "\": " + diagnosis,
        "this is a compiler bug; please report it with the program, --vocab and --max-len");
}

}  // namespace

void demo_compile(const std::string& out) {
  std::printf("\n== RASP compiler: sort(tokens, tokens) -> a transformer, verified against the interpreter ==\n");
  rasp::Interpreter in;
  in.run_source("load \"sort\";\nsorted = sort(tokens, tokens);\n", "demo_sort.rasp");
  compiler::CompileOptions opt;
  opt.vocab = {"a", "b", "c", "d"};
  opt.max_len = 8;
  auto plan = compiler::compile_program(in.lookup("sorted")->node, "sorted", opt);
  std::string dir = out + "/compiled_sort";
  compiler::compiled_write(*plan, dir, "load \"sort\";\nsorted = sort(tokens, tokens);\n", {{"command", "attnlab demo"}});
  compiler::compiled_report_html(*plan, dir + "/report.html", {"d", "b", "c", "a", "b"});
  std::printf("compiled: %d layers, %d heads (most per layer), d_model %d, d_mlp %d, %lld parameters\n", plan->n_layers,
              plan->n_heads, plan->d_model, plan->d_mlp, static_cast<long long>(compiler::compiled_parameter_count(*plan)));
  compiler::VerifyOptions vo;
  vo.samples = 20;
  vo.exhaustive_limit = 300;
  auto r = compiler::compiled_verify(*plan, compiler::compiled_model(*plan, AttentionKind::Softmax), vo);
  std::printf("verified on %lld inputs (all of lengths 1..%d, 20 random of each longer length): %lld mismatches, "
              "max |logit - indicator| %.2g\n",
              static_cast<long long>(r.inputs), r.exhaustive_lengths.empty() ? 0 : r.exhaustive_lengths.back(),
              static_cast<long long>(r.mismatches), r.max_abs_error);
  check(r.mismatches == 0, "the demo's compiled sort disagrees with the interpreter: " + r.first_mismatch,
        "this is a compiler bug; please report it");
  std::printf("model: %s   report: %s/report.html   try: attnlab model run %s --input dbcab\n", dir.c_str(),
              dir.c_str(), dir.c_str());
}

void cmd_compile_register(CLI::App& app) {
  static CompileArgs a;
  auto* c = app.add_subcommand("compile", "compile a RASP s-op into a transformer model directory");
  c->add_option("FILE", a.file, "RASP program (.rasp)")->required();
  c->add_option("--name", a.name, "the s-op to compile (default: the last one the file assigns)");
  c->add_option("--vocab", a.vocab, "input tokens, space-separated, e.g. \"a b c d\"")->required();
  c->add_option("--max-len", a.max_len, "longest input (the model gets max_len + 1 positions with BOS)")
      ->capture_default_str();
  c->add_option("-o,--out", a.out, "output model directory")->required();
  c->add_flag("--causal", a.causal, "causal attention (refuses programs that look at later positions)");
  c->add_option("--verify", a.verify, "verify against the interpreter: K random inputs per length, and every "
                                      "input of the lengths with <= --exhaustive-limit inputs");
  c->add_option("--exhaustive-limit", a.exhaustive, "enumerate every input of a length up to this many")
      ->capture_default_str();
  c->add_option("--seed", a.seed, "seed of the random verification inputs")->capture_default_str();
  c->add_option("--dtype", a.dtype, "verification precision: f64 (tolerance 1e-9) or f32 (1e-4)")->capture_default_str();
  c->add_flag("--report", a.report, "print the per-layer report (heads, MLPs, residual layout)");
  c->callback([] { compile_run(a); });
}

}  // namespace attnlab
