// Layer scheduling (see schedule.cpp): fills Source::stage for every block and plan.n_layers.
#pragma once

#include "compiler/ir.h"

namespace attnlab::compiler {
void schedule_blocks(Plan& plan);
}  // namespace attnlab::compiler
