// `attnlab demo --out DIR` — the main job of `make demo`: every subsystem shows its part once, end to end,
// and prints where its files are. Part 1 (foundation): build a previous-token transformer in code, save it
// as a model directory, run it, and write its attention view. Part 2: a RASP program. Part 3: the separation
// constructions. Part 4: infinite-width kernels.
#include <iostream>

#include "cli/cli.h"
#include "cli/model_common.h"
#include "constructions/dyck_rnn.h"
#include "constructions/index_lookup.h"
#include "constructions/previous_token.h"
#include "constructions/string_pair.h"
#include "rasp/eval.h"
#include "rasp/interp.h"
#include "util/fs.h"

namespace attnlab {

void demo_gp(const std::string& out);  // src/cli/cmd_gp.cpp: S_L spectrum + learning curve
void demo_compile(const std::string& out);  // src/cli/cmd_compile.cpp: compile + verify sort.rasp
void demo_train(const std::string& out);  // src/cli/cmd_train.cpp: a short training run + report.html
void demo_universal(const std::string& out);  // src/cli/cmd_universal.cpp: U checked against attention
void demo_retrieval(const std::string& out);  // src/cli/cmd_construct.cpp: the log-depth retrieval construction
void demo_train_retrieval(const std::string& out);  // src/cli/cmd_train.cpp: a short retrieval run + head roles

namespace {

void demo_previous_token(const std::string& out) {
  std::string dir = out + "/previous_token";
  std::cout << "== 1. a hand-built transformer: the previous-token head ==\n";
  SequenceModel built = previous_token_build({});
  model_save(dir, built);
  std::cout << "saved model directory: " << dir << "/ (config.json, model.safetensors)\n";

  SequenceModel model = model_load(dir, torch::kFloat64);  // what a user would do: load from disk
  const std::string text = "a b c d e f g h a b";
  CliInput in = cli_input_parse(model->config(), text, "", torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto outputs = outputs_decode(model->config(), model->forward(in.input));
  std::cout << "input : " << text << "\noutput:";
  for (const auto& o : outputs) std::cout << " " << o;
  std::cout << "   (each position outputs the token before it)\n";
  std::string html = dir + "/report.html";
  attention_view_write(html, attention_view_build(model, in, "previous-token head"));
  std::cout << "attention view: " << html << "\n";
}

// Part 2 (RASP): the Dyck-2 prefix classifier from the standard library, run by the interpreter.
void demo_rasp() {
  std::cout << "\n== 2. RASP: Dyck-2 prefix labels (T balanced, P completable, F failed) ==\n";
  std::string path = std::string(ATTNLAB_SOURCE_DIR) + "/examples/dyck2.rasp";
  rasp::Interpreter interp;
  interp.run_file(path);
  const std::string input = "([])(]";
  auto ev = rasp::evaluate({interp.last_sop()}, rasp::input_parse(input));
  std::cout << "program: " << path << "\ninput  :";
  for (char c : input) std::cout << " " << c;
  std::cout << "\nlabels :";
  for (const auto& a : ev.at(interp.last_sop())) std::cout << " " << rasp::atom_str(a);
  std::cout << "\n(try: ./build/attnlab rasp run examples/dyck2.rasp --input \"" << input << "\", or attnlab rasp repl)\n";
}

// Part 3 (separations, Bhattamishra et al. 2024): a log-width index-lookup transformer, a constant-size Dyck
// RNN and a two-layer equality transformer, each built, saved and verified in f32 and f64.
void demo_separations(const std::string& out) {
  std::cout << "\n== 3. separations: transformers vs RNNs (arXiv 2406.09347) ==\n";
  IndexLookupOptions il;
  il.n = 256;
  il.alphabet = 8;
  IndexLookupBuild ib = index_lookup_build(il);
  model_save(out + "/index_lookup", ib.model);
  for (auto& r : index_lookup_verify(ib, il, 4, 1))
    std::cout << "index lookup N=256: width " << ib.model->config().d_model << ", " << r.dtype << " " << r.correct
              << "/" << r.checked << " correct (" << r.mode << ")\n";
  std::cout << "saved model directory: " << out << "/index_lookup/\n";
  DyckRnnBuild db = dyck_rnn_build({2, 2});
  model_save(out + "/dyck_rnn", db.model);
  for (auto& r : dyck_rnn_verify(db, {2, 2}, 8, 1000, 8, 1))
    std::cout << "Dyck-(2,2) RNN: hidden " << db.model->config().d_hidden << ", " << r.dtype << " wrong prefixes: "
              << r.exhaustive_wrong + r.random_wrong << " (all strings of length 8, 8 of length 1000)\n";
  std::cout << "saved model directory: " << out << "/dyck_rnn/\n";
  StringPairOptions eq;
  eq.n = 32;
  StringPairBuild eb = string_pair_build(eq);
  model_save(out + "/equality", eb.model);
  for (auto& r : string_pair_verify(eb, eq, 128, 1))
    std::cout << "equality N=32 (2 layers): width " << eb.model->config().d_model << ", " << r.dtype << " "
              << r.correct << "/" << r.checked << " correct\n";
  std::cout << "saved model directory: " << out << "/equality/\n";
}

}  // namespace

void cmd_demo_register(CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "build, run and view example models; prints where everything is");
  static std::string out = "demo_out";
  demo->add_option("-o,--out", out, "output directory")->capture_default_str();
  demo->callback([] {
    cli_runtime_init();
    dir_create(out);
    demo_previous_token(out);
    demo_rasp();
    demo_compile(out);
    demo_universal(out);
    demo_separations(out);
    demo_retrieval(out);
    demo_gp(out);
    demo_train(out);
    demo_train_retrieval(out);
    std::cout << "\ndemo finished: everything is under " << out << "/\n";
  });
}

}  // namespace attnlab
