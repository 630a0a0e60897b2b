// Residual layout: one labelled subspace per source, ordered by the stage that writes it (BOS flag first,
// then embeddings, then layer by layer), no padding; and the model's sizes (heads, d_head, d_mlp per layer).
// Subspaces are not reused after their last reader (see docs/compiler.md "Residual layout").
#pragma once

#include "compiler/ir.h"

namespace attnlab::compiler {
void layout_residual(Plan& plan);
// MLP units a layer needs: the shared "one" unit plus two per threshold of each of its blocks.
int layout_mlp_units(const Plan& plan, int layer);
}  // namespace attnlab::compiler
