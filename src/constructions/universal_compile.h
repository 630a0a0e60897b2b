// The compiler's real-valued mode: a RASP program over real inputs (tokens_float) of one fixed length L,
// compiled to a transformer with bilinear (GLU-family) feed-forward layers and softmax attention.
// Supported subset (every other construct is collected into one Error with the reason):
//   positional s-ops and selectors (functions of indices/length/constants only): computed at compile time and
//     written by the positional embedding (W_pos) when a block reads them;
//   real s-ops as linear functionals of residual dimensions: sums, differences, scaling by constants (free:
//     folded into the readers' weights); products of two real s-ops, or of a real and a positional s-op
//     (`x if cond else 0.0`) -> one bilinear unit each;
//   aggregate(select(k, q, ==), x) with positional k, q (every query must select at least one key) -> one
//     head scoring -(k_j - q_i)^2 (as 2 k_j q_i - k_j^2), scaled so that unselected keys weigh < e^-50;
//   aggregate(softmax_select(keys, queries, scale, mask), x) with real keys/queries and a key-only positional
//     mask select(m, c, ==) -> one real softmax head: scores scale * <k_j, q_i> + mask_bonus * [m_j == c];
//   aggregates over the same selector at the same sub-layer share one head (one value component each).
// ReLU mode (opt.relu): value sets are propagated from the input grid, and each product a*b becomes
// ((a+b)^2 - (a-b)^2)/4 with ReLU interpolants of t^2 exact on the finite sets of a+b and a-b; a product with a
// 0/1 positional gate uses relu(x + B g - B) - relu(-x + B g - B) for B above |x|'s bound.
// Exactness: positional parts and products are exact up to f64 rounding; a gather leaks < L e^-50 of the
// other keys; a softmax head is exact while |scale * <k_j, q_i>| < mask_bonus - 50 (default bonus 1000).
// Shapes: L = input length (n_ctx), R = d_model, H = heads per layer, D = d_head, M = bilinear units per layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"
#include "rasp/graph.h"

namespace attnlab {

struct RealCompileOptions {
  int64_t length = 0;          // L: the one input length the model takes
  double gather_margin = 50;   // score gap (nats) between a gather's selected and unselected keys
  double mask_bonus = 1000;    // score added to a softmax head's masked-in keys
  bool plan_only = false;      // sizes only: no weights are allocated (for cost scans of large shapes)
  bool relu = false;           // ReLU feed-forward layers only: products exact when inputs lie on `grid`
  std::vector<double> grid;    // the input values (ReLU mode): value sets are propagated from them
};

struct RealCompiled {
  ModelConfig config;                     // the shapes (also when plan_only)
  SequenceModel model;                    // f64, numeric input (d_in_num = 1), numeric output (1); null if plan_only
  std::vector<std::string> residual_labels;
  int64_t gathers = 0, soft_heads = 0, bilinear_units = 0, positional_dims = 0;
  std::vector<int64_t> heads_per_layer, units_per_layer;  // [n_layers]
  int64_t parameters = 0;                 // every tensor of the config, zeros included
};

// Compiles `target`; Error listing every unsupported node (with its label and the reason).
RealCompiled compile_real(const rasp::Node* target, const RealCompileOptions& opt);

}  // namespace attnlab

namespace attnlab {

struct AttentionShape;

// U in the real-valued mode: lib/matrix.rasp's attention_rows for shape s, compiled for input length
// universal_layout(s).length. Its weights depend on s only.
std::string universal_rows_source(const AttentionShape& s);
RealCompiled universal_compile_bilinear(const AttentionShape& s, bool plan_only = false);
// U with ReLU feed-forward layers only (lib/matrix.rasp's attention_rows_grid), exact when every weight and
// input entry lies on `grid`.
std::string universal_grid_source(const AttentionShape& s);
RealCompiled universal_compile_grid(const AttentionShape& s, const std::vector<double>& grid, bool plan_only = false);
// Runs a compiled U (f64) on U's input sequence; returns the first n * out_width outputs.
std::vector<double> universal_model_run(const SequenceModel& model, const AttentionShape& s,
                                        const std::vector<double>& input);
std::vector<std::vector<double>> universal_model_run_batch(const SequenceModel& model, const AttentionShape& s,
                                                           const std::vector<std::vector<double>>& inputs);

}  // namespace attnlab
