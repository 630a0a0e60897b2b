// `attnlab demo --out DIR` — the main job of `make demo`: every subsystem shows its part once, end to end,
// and prints where its files are. Part 1 (foundation): build a previous-token transformer in code, save it
// as a model directory, run it, and write its attention view.
#include <iostream>

#include "cli/cli.h"
#include "cli/model_common.h"
#include "constructions/previous_token.h"
#include "util/fs.h"

namespace attnlab {

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

}  // namespace

void cmd_demo_register(CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "build, run and view example models; prints where everything is");
  static std::string out = "demo_out";
  demo->add_option("-o,--out", out, "output directory")->capture_default_str();
  demo->callback([] {
    cli_runtime_init();
    dir_create(out);
    demo_previous_token(out);
    std::cout << "\ndemo finished: everything is under " << out << "/\n";
  });
}

}  // namespace attnlab
