// attnlab CLI entry: runtime set-up, command registration, and the one place errors become exit codes.
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "model/device.h"
#include "util/error.h"
#include "util/runtime.h"

namespace attnlab {

CliGlobals& cli_globals() {
  static CliGlobals g;
  return g;
}

void cli_runtime_init() {
  int n = runtime_threads_set(cli_globals().threads);
  torch_threads_set(n);
  if (runtime_blas_is_reference())
    std::cerr << "warning: the reference BLAS (" << runtime_blas_path()
              << ") is loaded; matmuls run ~15x slower\nHINT: run scripts/install-deps "
                 "(installs libopenblas0-openmp and selects it)\n";
}

}  // namespace attnlab

int main(int argc, char** argv) {
  using namespace attnlab;
  runtime_malloc_tune();
  CLI::App app{"attnlab — what transformers and recurrent networks can compute, simulate and learn"};
  app.set_version_flag("--version", std::string("attnlab ") + ATTNLAB_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--threads", cli_globals().threads, "threads for torch and OpenBLAS (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("-q,--quiet", cli_globals().quiet, "no progress output");
  cmd_model_register(app);
  cmd_rasp_register(app);
  cmd_demo_register(app);
  cmd_construct_register(app);
  cmd_gp_register(app);
  cmd_compile_register(app);
  cmd_train_register(app);
  cmd_retrieval_register(app);
  cmd_universal_register(app);
  try {
    // An unknown command gets a clear message (CLI11 would only say that a subcommand is required).
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--threads") ++i;
      if (arg.empty() || arg[0] == '-') continue;
      std::string known;
      bool found = false;
      for (const auto* sub : app.get_subcommands({})) {
        known += " " + sub->get_name();
        found = found || sub->get_name() == arg;
      }
      if (!found) {
        throw Error("unknown command '" + arg + "'", "the commands are:" + known + " (see --help)");
      }
      break;
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\nHINT: run '" << argv[0] << " --help' (or '<command> --help')\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << e.format() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "error: internal tensor error: " << e.what_without_backtrace()
              << "\nHINT: this is a bug in attnlab or an input it failed to validate; please report it\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\nHINT: this is a bug in attnlab or an unvalidated input; please report it\n";
    return 3;
  }
  return 0;
}
