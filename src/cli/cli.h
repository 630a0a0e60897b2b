// The attnlab CLI: one register function per command group (cmd_<group>.cpp). Each adds its subcommands to
// the app; actions run after parsing, after cli_runtime_init(). Errors are attnlab::Error (message + HINT).
#pragma once

#include <CLI/CLI.hpp>

namespace attnlab {

struct CliGlobals {
  int threads = 0;      // --threads; 0 = all cores
  bool quiet = false;   // --quiet: no progress output on stderr
};
CliGlobals& cli_globals();

// Sets thread counts (torch + OpenMP/OpenBLAS) and warns when the reference BLAS is loaded.
void cli_runtime_init();

void cmd_model_register(CLI::App& app);
void cmd_rasp_register(CLI::App& app);
void cmd_demo_register(CLI::App& app);
void cmd_gp_register(CLI::App& app);  // `gp kernel|spectrum|learning-curve` (NNGP kernels, S_L spectra)
void cmd_gp_sectors_register(CLI::App* gp);  // `gp sectors` (cmd_gp_sectors.cpp; called by cmd_gp_register)
void cmd_gp_trained_register(CLI::App* gp);  // `gp train-check` (cmd_gp_trained.cpp; called by cmd_gp_register)
void cmd_construct_register(CLI::App& app);  // `construct ...` and `bounds`
void cmd_compile_register(CLI::App& app);    // `compile FILE.rasp ...` (src/compiler/)
void cmd_train_register(CLI::App& app);  // `train` and `sweep` (src/train/, docs/training.md)
void cmd_retrieval_register(CLI::App& app);  // `retrieval prompts|score|...` (src/tasks/retrieval.h, docs/retrieval.md)
void cmd_universal_register(CLI::App& app);  // `simulate-attention` (src/constructions/universal.h, docs/universal.md)

}  // namespace attnlab
