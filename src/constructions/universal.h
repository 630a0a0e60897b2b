// The universal attention simulator U (Dutta, Ansari, Chakrabarty, Das, "On the Existence of Universal
// Simulators of Attention", arXiv 2506.18739): one program whose input is an attention layer's weights and
// an input X, flattened into one sequence, and whose output is that layer's attention
//   softmax(X W_Q,g (X W_K,g)^T / sqrt(dk)) X W_V,g   per head g, concatenated and times W_O when h > 1.
// U is written in RASP (src/rasp/lib/matrix.rasp, mirrored by the C++ builders below); nothing in it depends
// on the simulated weights or data, only on the shapes. See docs/universal.md for the layer-by-layer story.
// Shapes: n tokens, d model width, dk head width (= value width), h heads. Matrices are row-major.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rasp/builder.h"
#include "tasks/task.h"

namespace attnlab {

struct AttentionShape {
  int64_t n = 4;   // tokens (rows of X)
  int64_t d = 4;   // model width (columns of X)
  int64_t dk = 4;  // query/key/value width per head
  int64_t h = 1;   // heads
};

struct AttentionWeights {
  std::vector<double> W_Q;  // [d, h*dk] head g = columns g*dk .. g*dk+dk-1
  std::vector<double> W_K;  // [d, h*dk]
  std::vector<double> W_V;  // [d, h*dk]
  std::vector<double> W_O;  // [h*dk, d], empty when h == 1
};

// Where each matrix starts in U's input sequence (matrix.rasp's layout_*), and the input length:
// W_Q, W_K, W_V, W_O (h > 1 only), X, then zeros up to max(all of them, n*n, n*h*dk).
struct UniversalLayout {
  int64_t wq = 0, wk = 0, wv = 0, wo = 0, x = 0;  // offsets
  int64_t inputs = 0;                             // positions holding weights or X
  int64_t length = 0;                             // input length L (>= inputs)
};

// Error naming the field (with a HINT) when a shape is < 1, too large for the interpreter (L > 20 000),
// or inconsistent (W_O given with one head, sizes that do not match).
void attention_shape_validate(const AttentionShape& s);
void attention_layer_validate(const AttentionShape& s, const AttentionWeights& w, const std::vector<double>& X);
UniversalLayout universal_layout(const AttentionShape& s);
int64_t attention_out_width(const AttentionShape& s);  // dk when h == 1, else d
int64_t attention_param_count(const AttentionShape& s);  // the simulated layer's own parameters

// U's input: the flattened weights and X, zero-padded to the layout's length.
std::vector<double> universal_input(const AttentionShape& s, const AttentionWeights& w, const std::vector<double>& X);

// The reference: the attention layer computed directly in f64 (plain loops, max-subtracted softmax).
// Returns [n, attention_out_width] row-major.
std::vector<double> attention_direct(const AttentionShape& s, const AttentionWeights& w, const std::vector<double>& X);

// Random layer and input: entries N(0, 1) scaled by 1/sqrt(fan-in) for weights, N(0, 1) for X; or, with a
// grid (e.g. {-1, -0.5, 0, 0.5, 1}), entries drawn uniformly from it.
AttentionWeights attention_random_layer(const AttentionShape& s, TaskRng& rng, const std::vector<double>& grid = {});
std::vector<double> attention_random_input(const AttentionShape& s, TaskRng& rng,
                                           const std::vector<double>& grid = {});

// The RASP source of U for shape s (loads lib/matrix.rasp; the output s-op is named "U").
std::string universal_rasp_source(const AttentionShape& s);

// U built with the C++ builders (the same operations as matrix.rasp, one call per RASP function).
rasp::SOp universal_build(rasp::Builder& b, const AttentionShape& s);

// Matrix operations as C++ builders (matrix.rasp's functions, same arguments).
namespace matrix {
rasp::SOp gather(rasp::Builder& b, rasp::SOp vals, rasp::SOp pos);
rasp::SOp transpose(rasp::Builder& b, rasp::SOp vals, int64_t off, int64_t stride, int64_t r, int64_t c);
rasp::SOp matmul(rasp::Builder& b, rasp::SOp a, int64_t a_off, int64_t a_stride, rasp::SOp bm, int64_t b_off,
                 int64_t b_stride, int64_t r, int64_t m, int64_t c);
rasp::SOp softmax_rows(rasp::Builder& b, rasp::SOp x, int64_t r, int64_t c);
rasp::SOp scale(rasp::Builder& b, rasp::SOp x, double s);
rasp::SOp relu(rasp::Builder& b, rasp::SOp x);
rasp::SOp exp_map(rasp::Builder& b, rasp::SOp x, int64_t rows, int64_t cols);
}  // namespace matrix

// Runs U (as a graph node of an interpreter) on an input sequence; returns the first n*out_width positions.
std::vector<double> universal_eval(const rasp::Node* u, const AttentionShape& s, const std::vector<double>& input);

// Error of U against the direct computation over `trials` random layers and inputs.
struct SimulationError {
  double max_abs = 0;       // max |U - direct| over all trials and entries
  double mean_abs = 0;      // mean |U - direct|
  double max_rel = 0;       // max over trials of max|U - direct| / max|direct|
  int64_t trials = 0;
};

}  // namespace attnlab
