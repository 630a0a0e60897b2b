// The universal attention simulator at the RASP level: U's input layout, the direct f64 reference, random
// layers, the C++ builders that mirror lib/matrix.rasp, and U's evaluation by the interpreter.
#include "constructions/universal.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "rasp/eval.h"
#include "rasp/interp.h"
#include "util/error.h"

namespace attnlab {

namespace {

constexpr int64_t kMaxLength = 20000;  // the interpreter's longest input (rasp::EvalOptions::max_len)

void check_dim(int64_t v, const char* name, int64_t hi) {
  if (v < 1 || v > hi)
    throw Error("attention shape: " + std::string(name) + " = " + std::to_string(v) + " is out of range [1, " +
                    std::to_string(hi) + "]",
                "give --n, --d, --dk, --heads as positive integers (n, d, dk <= 256, heads <= 64)");
}

}  // namespace

void attention_shape_validate(const AttentionShape& s) {
  check_dim(s.n, "n", 256);
  check_dim(s.d, "d", 256);
  check_dim(s.dk, "dk", 256);
  check_dim(s.h, "heads", 64);
  UniversalLayout l = universal_layout(s);
  if (l.length > kMaxLength)
    throw Error("attention shape (n " + std::to_string(s.n) + ", d " + std::to_string(s.d) + ", dk " +
                    std::to_string(s.dk) + ", heads " + std::to_string(s.h) + ") needs an input of " +
                    std::to_string(l.length) + " positions; the interpreter takes at most " +
                    std::to_string(kMaxLength),
                "U's input holds 3*d*h*dk (+ h*dk*d) weights and n*d inputs: choose smaller shapes");
}

UniversalLayout universal_layout(const AttentionShape& s) {
  UniversalLayout l;
  int64_t w = s.d * s.h * s.dk;
  l.wq = 0;
  l.wk = w;
  l.wv = 2 * w;
  l.wo = 3 * w;
  l.x = 3 * w + (s.h > 1 ? w : 0);
  l.inputs = l.x + s.n * s.d;
  l.length = std::max({l.inputs, s.n * s.n, s.n * s.h * s.dk, s.n * s.d});
  return l;
}

int64_t attention_out_width(const AttentionShape& s) { return s.h == 1 ? s.dk : s.d; }

int64_t attention_param_count(const AttentionShape& s) {
  return 3 * s.d * s.h * s.dk + (s.h > 1 ? s.h * s.dk * s.d : 0);
}

void attention_layer_validate(const AttentionShape& s, const AttentionWeights& w, const std::vector<double>& X) {
  attention_shape_validate(s);
  auto need = [](const std::vector<double>& m, int64_t size, const char* name) {
    if (static_cast<int64_t>(m.size()) != size)
      throw Error(std::string(name) + " has " + std::to_string(m.size()) + " entries, the shape needs " +
                      std::to_string(size),
                  "W_Q, W_K, W_V are d x h*dk, W_O is h*dk x d (only with more than one head), X is n x d");
    for (size_t i = 0; i < m.size(); ++i)
      if (!std::isfinite(m[i]))
        throw Error(std::string(name) + "[" + std::to_string(i) + "] is not a finite number", "");
  };
  int64_t w_size = s.d * s.h * s.dk;
  need(w.W_Q, w_size, "W_Q");
  need(w.W_K, w_size, "W_K");
  need(w.W_V, w_size, "W_V");
  need(w.W_O, s.h > 1 ? w_size : 0, "W_O");
  need(X, s.n * s.d, "X");
}

std::vector<double> universal_input(const AttentionShape& s, const AttentionWeights& w, const std::vector<double>& X) {
  attention_layer_validate(s, w, X);
  UniversalLayout l = universal_layout(s);
  std::vector<double> in(l.length, 0.0);
  std::copy(w.W_Q.begin(), w.W_Q.end(), in.begin() + l.wq);
  std::copy(w.W_K.begin(), w.W_K.end(), in.begin() + l.wk);
  std::copy(w.W_V.begin(), w.W_V.end(), in.begin() + l.wv);
  std::copy(w.W_O.begin(), w.W_O.end(), in.begin() + l.wo);
  std::copy(X.begin(), X.end(), in.begin() + l.x);
  return in;
}

std::vector<double> attention_direct(const AttentionShape& s, const AttentionWeights& w, const std::vector<double>& X) {
  attention_layer_validate(s, w, X);
  const int64_t n = s.n, d = s.d, dk = s.dk, hk = s.h * s.dk;
  auto proj = [&](const std::vector<double>& W, int64_t i, int64_t c) {  // (X W)[i][c]
    double acc = 0;
    for (int64_t a = 0; a < d; ++a) acc += X[i * d + a] * W[a * hk + c];
    return acc;
  };
  std::vector<double> heads(n * hk, 0.0);  // [n, h*dk] concatenated head outputs
  for (int64_t g = 0; g < s.h; ++g) {
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> score(n);
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t c = 0; c < dk; ++c) acc += proj(w.W_Q, i, g * dk + c) * proj(w.W_K, j, g * dk + c);
        score[j] = acc / std::sqrt(static_cast<double>(dk));
      }
      double mx = *std::max_element(score.begin(), score.end()), total = 0;
      for (double& v : score) total += (v = std::exp(v - mx));
      for (int64_t c = 0; c < dk; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < n; ++j) acc += score[j] / total * proj(w.W_V, j, g * dk + c);
        heads[i * hk + g * dk + c] = acc;
      }
    }
  }
  if (s.h == 1) return heads;
  std::vector<double> out(n * d, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t e = 0; e < d; ++e)
      for (int64_t c = 0; c < hk; ++c) out[i * d + e] += heads[i * hk + c] * w.W_O[c * d + e];
  return out;
}

namespace {

double draw(TaskRng& rng, const std::vector<double>& grid, double scale) {
  if (!grid.empty()) return grid[rng_below(rng, grid.size())];
  return rng_normal(rng) * scale;
}

std::vector<double> draw_matrix(TaskRng& rng, int64_t size, const std::vector<double>& grid, double scale) {
  std::vector<double> m(size);
  for (double& v : m) v = draw(rng, grid, scale);
  return m;
}

}  // namespace

AttentionWeights attention_random_layer(const AttentionShape& s, TaskRng& rng, const std::vector<double>& grid) {
  attention_shape_validate(s);
  AttentionWeights w;
  int64_t size = s.d * s.h * s.dk;
  double in_scale = 1.0 / std::sqrt(static_cast<double>(s.d));
  w.W_Q = draw_matrix(rng, size, grid, in_scale);
  w.W_K = draw_matrix(rng, size, grid, in_scale);
  w.W_V = draw_matrix(rng, size, grid, in_scale);
  if (s.h > 1) w.W_O = draw_matrix(rng, size, grid, 1.0 / std::sqrt(static_cast<double>(s.h * s.dk)));
  return w;
}

std::vector<double> attention_random_input(const AttentionShape& s, TaskRng& rng, const std::vector<double>& grid) {
  attention_shape_validate(s);
  return draw_matrix(rng, s.n * s.d, grid, 1.0);
}

std::string universal_rasp_source(const AttentionShape& s) {
  attention_shape_validate(s);
  std::ostringstream os;
  os << "# The universal attention simulator U for n = " << s.n << ", d = " << s.d << ", dk = " << s.dk
     << ", heads = " << s.h << " (docs/universal.md).\n"
     << "load \"matrix\";\n"
     << "U = attention(tokens_float, " << s.n << ", " << s.d << ", " << s.dk << ", " << s.h << ");\n";
  return os.str();
}

// ---- the C++ builders (one function per matrix.rasp function, same arithmetic, same graph shape) ----
namespace matrix {

using rasp::Cmp;
using rasp::SOp;

SOp gather(rasp::Builder& b, SOp vals, SOp pos) {
  return b.numerical(b.aggregate(b.select(b.indices(), pos, Cmp::Eq), vals, int64_t{0}));
}

namespace {
SOp row_of(rasp::Builder& b, int64_t rows, int64_t cols) {
  SOp idx = b.indices();
  return b.if_else(idx < rows * cols, (idx - idx % cols) / cols, b.constant(int64_t{-1}));
}
SOp col_of(rasp::Builder& b, int64_t rows, int64_t cols) {
  SOp idx = b.indices();
  return b.if_else(idx < rows * cols, idx % cols, b.constant(int64_t{-1}));
}
SOp or_minus_one(rasp::Builder& b, SOp row, SOp pos) {
  return b.if_else(row >= int64_t{0}, pos, b.constant(int64_t{-1}));
}
}  // namespace

SOp transpose(rasp::Builder& b, SOp vals, int64_t off, int64_t stride, int64_t r, int64_t c) {
  SOp i = row_of(b, c, r), j = col_of(b, c, r);
  return gather(b, vals, or_minus_one(b, i, off + j * stride + i));
}

SOp matmul(rasp::Builder& b, SOp a, int64_t a_off, int64_t a_stride, SOp bm, int64_t b_off, int64_t b_stride,
           int64_t r, int64_t m, int64_t c) {
  SOp i = row_of(b, r, c), j = col_of(b, r, c);
  SOp acc = b.constant(0.0);
  for (int64_t k = 0; k < m; ++k) {
    SOp ak = gather(b, a, or_minus_one(b, i, a_off + i * a_stride + k));
    SOp bk = gather(b, bm, or_minus_one(b, i, b_off + k * b_stride + j));
    acc = acc + ak * bk;
  }
  return acc;
}

SOp softmax_rows(rasp::Builder& b, SOp x, int64_t r, int64_t c) {
  SOp row = row_of(b, r, c);
  SOp key_row = b.if_else(row >= int64_t{0}, row, int64_t{-1} - b.indices());
  rasp::Sel same_row = b.select(key_row, key_row, Cmp::Eq);
  rasp::Sel greater = b.select(x, x, Cmp::Gt) & same_row;
  SOp is_max = b.selector_width(greater) == int64_t{0};
  SOp mx = b.numerical(b.aggregate(same_row & b.select(is_max, true, Cmp::Eq), x, int64_t{0}));
  SOp e = b.map(x - mx, "exp(x)");
  SOp total = b.numerical(b.aggregate(same_row, e, int64_t{0})) * c;
  return b.if_else(row >= int64_t{0}, e / total, b.constant(0.0));
}

SOp scale(rasp::Builder& b, SOp x, double s) { return x * s; }

SOp relu(rasp::Builder& b, SOp x) { return b.if_else(x > int64_t{0}, x, b.constant(0.0)); }

SOp exp_map(rasp::Builder& b, SOp x, int64_t rows, int64_t cols) {
  return b.if_else(b.indices() < rows * cols, b.map(x, "exp(x)"), b.constant(0.0));
}

}  // namespace matrix

rasp::SOp universal_build(rasp::Builder& b, const AttentionShape& s) {
  attention_shape_validate(s);
  UniversalLayout l = universal_layout(s);
  const int64_t n = s.n, d = s.d, dk = s.dk, hk = s.h * s.dk;
  rasp::SOp vals = b.tokens(rasp::TokenType::Float);
  auto head = [&](int64_t g) {
    rasp::SOp q = matrix::matmul(b, vals, l.x, d, vals, l.wq + g * dk, hk, n, d, dk);
    rasp::SOp k = matrix::matmul(b, vals, l.x, d, vals, l.wk + g * dk, hk, n, d, dk);
    rasp::SOp v = matrix::matmul(b, vals, l.x, d, vals, l.wv + g * dk, hk, n, d, dk);
    rasp::SOp kt = matrix::transpose(b, k, 0, dk, n, dk);
    rasp::SOp scores = matrix::matmul(b, q, 0, dk, kt, 0, n, n, dk, n) * (1.0 / std::sqrt(static_cast<double>(dk)));
    return matrix::matmul(b, matrix::softmax_rows(b, scores, n, n), 0, n, v, 0, dk, n, n, dk);
  };
  if (s.h == 1) return b.named(head(0), "U");
  rasp::SOp out = b.constant(0.0);
  for (int64_t g = 0; g < s.h; ++g) out = out + matrix::matmul(b, head(g), 0, dk, vals, l.wo + g * dk * d, d, n, dk, d);
  return b.named(out, "U");
}

std::vector<double> universal_eval(const rasp::Node* u, const AttentionShape& s, const std::vector<double>& input) {
  std::vector<rasp::Atom> atoms(input.begin(), input.end());
  rasp::Evaluation ev = rasp::evaluate({u}, atoms);
  const rasp::Column& col = ev.at(u);
  int64_t size = s.n * attention_out_width(s);
  std::vector<double> out(size);
  for (int64_t p = 0; p < size; ++p) {
    const rasp::Atom& a = col[p];
    if (rasp::atom_is_int(a)) out[p] = static_cast<double>(std::get<int64_t>(a));
    else if (std::holds_alternative<double>(a)) out[p] = std::get<double>(a);
    else throw Error("U's output at position " + std::to_string(p) + " is not a number", "");
  }
  return out;
}

}  // namespace attnlab
