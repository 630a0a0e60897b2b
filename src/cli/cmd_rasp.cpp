// `attnlab rasp ...` — placeholder registration until the RASP toolchain lands (issue 3).
#include "cli/cli.h"

namespace attnlab {

void cmd_rasp_register(CLI::App& app) { (void)app; }

}  // namespace attnlab
