// `attnlab train CONFIG.toml [key.sub=value ...] --out RUN_DIR` (src/train/, docs/training.md) and the
// `attnlab sweep` group (cmd_sweep.cpp). A rerun with the same config and run directory resumes the run.
#include <filesystem>
#include <iostream>

#include "cli/cli.h"
#include "constructions/head_roles.h"
#include "train/config.h"
#include "train/trainer.h"
#include "util/error.h"

namespace attnlab {

void cmd_sweep_register(CLI::App& app);  // src/cli/cmd_sweep.cpp

namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string out;
};

void train_command(const TrainArgs& a) {
  TrainConfig cfg = train_config_read(a.config, a.overrides);
  cli_runtime_init();
  std::string argv_text = "attnlab train " + a.config;
  for (const auto& o : a.overrides) argv_text += " " + o;
  argv_text += " --out " + a.out;
  TrainOptions opt;
  opt.quiet = cli_globals().quiet;
  opt.argv_text = argv_text;
  opt.out = &std::cout;
  train_run(cfg, a.out, opt);
}

}  // namespace

// Part 5 of `attnlab demo`: a one-layer transformer learns index lookup (N = 8, |Σ| = 4) in a few seconds.
// Trains `toml` from scratch in `dir` (the demo always starts over), printing progress to stdout.
void demo_train_run(const std::string& dir, const std::string& toml, const std::string& label) {
  std::filesystem::remove_all(dir);
  TrainOptions opt;
  opt.quiet = cli_globals().quiet;
  opt.argv_text = label;
  opt.out = &std::cout;
  train_run(train_config_parse(toml, "demo"), dir, opt);
}

void demo_train(const std::string& out) {
  std::cout << "\n== 5. training: a one-layer transformer learns index lookup (N = 8) ==\n";
  demo_train_run(
      out + "/train_index_lookup",
      "seed = 0\n[task]\nname = \"index_lookup\"\nn = 8\nalphabet = 4\n[model]\nd_model = 32\n"
      "[optim]\nlr = 0.005\n[schedule]\nwarmup = 20\n[train]\nsteps = 400\nbatch = 64\nlog_every = 100\n"
      "eval_every = 200\ncheckpoint_every = 200\nsnapshot_every = 25\n[eval]\nlengths = [8]\nsize = 512\n",
      "attnlab demo (part 5)");
  std::cout << "(the same from a config file: ./build/attnlab train examples/experiments/index_lookup_reduced.toml "
               "--out runs/il)\n";
}

// `make demo`'s retrieval part: a short curriculum run (D = 2, 3 layers) with attention snapshots, then the
// head roles over its snapshots (the same as `attnlab retrieval emergence DIR`).
void demo_train_retrieval(const std::string& out) {
  std::cout << "\n== training on retrieval (docs/retrieval.md): D = 2, 3 layers, implicit curriculum ==\n";
  const std::string dir = out + "/train_retrieval";
  demo_train_run(
      dir,
      "seed = 5\n[task]\nname = \"retrieval\"\nn = 2\nchains = 1\nvariables = 8\nvalues = 4\n"
      "supervision = \"curriculum\"\n[model]\nn_layers = 3\nd_model = 32\nn_heads = 2\ninit_std = 0.1\n"
      "[optim]\nlr = 3e-3\n[schedule]\nwarmup = 50\n[train]\nsteps = 1500\nbatch = 64\nlog_every = 250\n"
      "eval_every = 500\ncheckpoint_every = 1500\nsnapshot_every = 250\n[eval]\nsize = 500\n",
      "attnlab demo (retrieval training)");
  RunEmergence run = head_roles_run(dir, HeadRoleOptions{});
  std::cout << "heads in the order their roles emerged: " << head_roles_order_text(run) << "\n"
            << "(the full table and timeline: ./build/attnlab retrieval emergence " << dir << " -o " << dir
            << "/emergence)\n";
}

void cmd_train_register(CLI::App& app) {
  static TrainArgs a;
  auto* train = app.add_subcommand("train", "train a transformer or RNN on a task; resumable (docs/training.md)");
  train->add_option("config", a.config, "TOML config file (examples/experiments/*.toml)")->required();
  train->add_option("overrides", a.overrides, "key.sub=value overrides, e.g. model.d_model=64 optim.lr=3e-3");
  train->add_option("--out", a.out, "run directory (rerun the same command to resume)")->required();
  train->callback([] { train_command(a); });
  cmd_sweep_register(app);
}

}  // namespace attnlab
