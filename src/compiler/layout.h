// Residual layout: one labelled subspace per source, placed in the order the sources are written (BOS flag
// first, then embeddings, then layer by layer), reusing the dimensions of sources that are no longer read;
// and the model's sizes (heads, d_head, d_mlp per layer).
// Reuse invariant (docs/compiler.md "Scheduling and layout"): a residual stream only ever ADDS, so a dimension
// is handed to a new source only where an Erasure adds -x to it, x being exactly what the old source left
// there. The erasure runs in the MLP sub-layer at or after the old source's last reader (the MLP reads the
// residual before it writes, so a reader in that same sub-layer still sees x). A source written strictly
// later finds exactly 0 at every position (BOS included); an MLP output written in the erasure's own
// sub-layer adds B - x to x, i.e. B up to one rounding of x (~1e-16 relative, far inside every reader's
// tolerance: 1/4 of a gap for MLPs, argmax for categorical outputs, 1e-9 for numeric ones). Erasures whose
// dimensions no later source takes are dropped; the layout takes reuse within the MLP units each layer leaves
// free, or with every erasure it can use (d_mlp may grow), whichever has fewer parameters (never more than
// without reuse: CompileOptions::reuse = false).
#pragma once

#include "compiler/ir.h"

namespace attnlab::compiler {
void layout_residual(Plan& plan);
// MLP units a layer needs: the shared "one" unit plus two per threshold of each of its blocks, plus the units
// of the erasures it runs.
int layout_mlp_units(const Plan& plan, int layer);
}  // namespace attnlab::compiler
