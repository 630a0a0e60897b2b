// Issue 5, the universal attention simulator U. RASP level: lib/matrix.rasp's transpose, matmul and
// softmax_rows against direct loops on rectangular shapes; U (as .rasp text and as C++ builders) against
// attention computed directly in f64, error budget 1e-12 * max|output| (the interpreter's f64 rounding over
// sums of at most max(d, n, h*dk) products, plus exp and one division); shape errors. Compiled level
// (real-valued mode, bilinear feed-forward + softmax heads): error <= 1e-9 absolute against direct attention
// (gathers leak < L e^-50, the rest is f64 rounding), weight files independent of the simulated layer, and
// every unsupported construct reported.
#include <gtest/gtest.h>

#include <cmath>

#include "constructions/universal.h"
#include "constructions/universal_compile.h"
#include "model/model.h"
#include "util/fs.h"
#include "rasp/eval.h"
#include "rasp/interp.h"
#include "util/error.h"

namespace attnlab {
namespace {

using rasp::Interpreter;

// Runs `expr` (an s-op expression over tokens_float, with lib/matrix.rasp loaded) on `input`.
std::vector<double> run_matrix_expr(const std::string& expr, const std::vector<double>& input) {
  Interpreter in;
  in.run_source("load \"matrix\";\nout = " + expr + ";\n", "t.rasp");
  const rasp::Node* out = rasp::interp_sop_pick(in, "out", "t.rasp");
  std::vector<rasp::Atom> atoms(input.begin(), input.end());
  rasp::Evaluation ev = rasp::evaluate({out}, atoms);
  std::vector<double> v;
  for (const rasp::Atom& a : ev.at(out))
    v.push_back(rasp::atom_is_int(a) ? static_cast<double>(std::get<int64_t>(a)) : std::get<double>(a));
  return v;
}

std::vector<double> random_vec(TaskRng& rng, size_t n) {
  std::vector<double> v(n);
  for (double& x : v) x = rng_normal(rng);
  return v;
}

TEST(Universal, TransposeAndMatmulOnRectangularShapes) {
  TaskRng rng(7);
  for (auto [r, m, c] : {std::tuple{2, 3, 4}, {3, 1, 5}, {1, 4, 1}, {4, 2, 3}}) {
    // A (r x m) at offset 0, B (m x c) right after it, zero padding so every result fits.
    std::vector<double> a = random_vec(rng, r * m), bm = random_vec(rng, m * c), in = a;
    in.insert(in.end(), bm.begin(), bm.end());
    in.resize(std::max<size_t>(in.size(), std::max(r * c, m * r)), 0.0);
    std::string rs = std::to_string(r), ms = std::to_string(m), cs = std::to_string(c);
    std::vector<double> t = run_matrix_expr("transpose(tokens_float, 0, " + ms + ", " + rs + ", " + ms + ")", in);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < r; ++j) EXPECT_EQ(t[i * r + j], a[j * m + i]) << r << "x" << m << " at " << i << "," << j;
    for (size_t p = m * r; p < t.size(); ++p) EXPECT_EQ(t[p], 0.0) << "past the matrix at " << p;
    std::vector<double> prod = run_matrix_expr("matmul(tokens_float, 0, " + ms + ", tokens_float, " +
                                                   std::to_string(r * m) + ", " + cs + ", " + rs + ", " + ms +
                                                   ", " + cs + ")",
                                               in);
    for (int i = 0; i < r; ++i)
      for (int j = 0; j < c; ++j) {
        double want = 0;
        for (int k = 0; k < m; ++k) want += a[i * m + k] * bm[k * c + j];
        EXPECT_NEAR(prod[i * c + j], want, 1e-13) << r << "x" << m << "x" << c << " at " << i << "," << j;
      }
  }
}

TEST(Universal, WorkedExampleOfTheLibraryHeader) {
  std::vector<double> in = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(run_matrix_expr("transpose(tokens_float, 0, 3, 2, 3)", in), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(run_matrix_expr("matmul(tokens_float, 0, 3, transpose(tokens_float, 0, 3, 2, 3), 0, 2, 2, 3, 2)", in),
            (std::vector<double>{14, 32, 32, 77, 0, 0}));
}

TEST(Universal, SoftmaxRowsSubtractsTheRowMaximum) {
  // Row 1 holds large values: without the max subtraction exp overflows (an error in RASP).
  std::vector<double> in = {1, 2, 3, 700, 710, 705, 0.5, 0.5, 0.5};
  std::vector<double> p = run_matrix_expr("softmax_rows(tokens_float, 3, 3)", in);
  for (int i = 0; i < 3; ++i) {
    double mx = std::max({in[3 * i], in[3 * i + 1], in[3 * i + 2]}), total = 0;
    for (int j = 0; j < 3; ++j) total += std::exp(in[3 * i + j] - mx);
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(p[3 * i + j], std::exp(in[3 * i + j] - mx) / total, 1e-15);
  }
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

TEST(Universal, RaspLevelMatchesDirectAttention) {
  TaskRng rng(11);
  for (AttentionShape s : {AttentionShape{3, 2, 2, 1}, {5, 3, 2, 2}, {4, 4, 4, 1}, {6, 2, 3, 3}, {16, 16, 4, 4}}) {
    Interpreter in;
    in.run_source(universal_rasp_source(s), "U.rasp");
    const rasp::Node* u = rasp::interp_sop_pick(in, "U", "U.rasp");
    for (int trial = 0; trial < 2; ++trial) {
      AttentionWeights w = attention_random_layer(s, rng);
      std::vector<double> X = attention_random_input(s, rng);
      std::vector<double> want = attention_direct(s, w, X);
      std::vector<double> got = universal_eval(u, s, universal_input(s, w, X));
      ASSERT_EQ(got.size(), want.size());
      double err = 0;
      for (size_t p = 0; p < want.size(); ++p) err = std::max(err, std::fabs(got[p] - want[p]));
      EXPECT_LE(err, 1e-12 * max_abs(want)) << "n " << s.n << " d " << s.d << " dk " << s.dk << " h " << s.h;
    }
  }
}

TEST(Universal, BuildersAndRaspTextComputeTheSameBits) {
  TaskRng rng(3);
  AttentionShape s{4, 3, 2, 2};
  AttentionWeights w = attention_random_layer(s, rng);
  std::vector<double> input = universal_input(s, w, attention_random_input(s, rng));
  Interpreter in;
  in.run_source(universal_rasp_source(s), "U.rasp");
  std::vector<double> from_text = universal_eval(rasp::interp_sop_pick(in, "U", "U.rasp"), s, input);
  rasp::Builder b;
  std::vector<double> from_builders = universal_eval(universal_build(b, s).node, s, input);
  EXPECT_EQ(from_text, from_builders);
}

// The elementwise maps: .rasp text and C++ builders agree, and match std::exp / max(x, 0) / 2.5 x.
TEST(Universal, ElementwiseMapsTextAndBuilders) {
  std::vector<double> in = {-1.5, 0.0, 2.25, -0.5, 3.0, 1.0};
  std::vector<double> e = run_matrix_expr("exp_map(tokens_float, 2, 2)", in);
  std::vector<double> r = run_matrix_expr("relu(tokens_float)", in);
  std::vector<double> sc = run_matrix_expr("scale(tokens_float, 2.5)", in);
  for (size_t p = 0; p < in.size(); ++p) {
    EXPECT_EQ(e[p], p < 4 ? std::exp(in[p]) : 0.0) << p;
    EXPECT_EQ(r[p], std::max(in[p], 0.0)) << p;
    EXPECT_EQ(sc[p], 2.5 * in[p]) << p;
  }
  rasp::Builder b;
  rasp::SOp x = b.tokens(rasp::TokenType::Float);
  std::vector<rasp::Atom> atoms(in.begin(), in.end());
  rasp::SOp be = matrix::exp_map(b, x, 2, 2), br = matrix::relu(b, x), bs = matrix::scale(b, x, 2.5);
  rasp::Evaluation ev = rasp::evaluate({be.node, br.node, bs.node}, atoms);
  for (size_t p = 0; p < in.size(); ++p) {
    EXPECT_EQ(rasp::atom_to_double(ev.at(be.node)[p]), e[p]);
    EXPECT_EQ(rasp::atom_to_double(ev.at(br.node)[p]), r[p]);
    EXPECT_EQ(rasp::atom_to_double(ev.at(bs.node)[p]), sc[p]);
  }
}

TEST(Universal, BadShapesAreErrors) {
  EXPECT_THROW(attention_shape_validate({0, 4, 4, 1}), Error);
  EXPECT_THROW(attention_shape_validate({4, -1, 4, 1}), Error);
  EXPECT_THROW(attention_shape_validate({4, 4, 4, 0}), Error);
  EXPECT_THROW(attention_shape_validate({200, 200, 16, 4}), Error);  // input longer than the interpreter takes
  AttentionShape s{2, 2, 2, 1};
  TaskRng rng(1);
  AttentionWeights w = attention_random_layer(s, rng);
  std::vector<double> X = attention_random_input(s, rng);
  AttentionWeights with_wo = w;
  with_wo.W_O.assign(4, 1.0);  // one head has no W_O
  EXPECT_THROW(universal_input(s, with_wo, X), Error);
  std::vector<double> short_x(3, 0.0);
  EXPECT_THROW(universal_input(s, w, short_x), Error);
  X[1] = std::nan("");
  EXPECT_THROW(attention_direct(s, w, X), Error);
}

TEST(Universal, RowsProgramMatchesDirectAttentionAtRaspLevel) {
  TaskRng rng(5);
  for (AttentionShape s : {AttentionShape{3, 2, 2, 1}, {5, 3, 2, 2}, {16, 16, 4, 4}}) {
    Interpreter in;
    in.run_source(universal_rows_source(s), "U_rows.rasp");
    const rasp::Node* u = rasp::interp_sop_pick(in, "U", "U_rows.rasp");
    AttentionWeights w = attention_random_layer(s, rng);
    std::vector<double> X = attention_random_input(s, rng);
    std::vector<double> want = attention_direct(s, w, X);
    std::vector<double> got = universal_eval(u, s, universal_input(s, w, X));
    double err = 0;
    for (size_t p = 0; p < want.size(); ++p) err = std::max(err, std::fabs(got[p] - want[p]));
    EXPECT_LE(err, 1e-12 * max_abs(want)) << "n " << s.n << " d " << s.d << " dk " << s.dk << " h " << s.h;
  }
}

TEST(Universal, CompiledBilinearMatchesDirectAttention) {
  TaskRng rng(17);
  for (AttentionShape s : {AttentionShape{3, 2, 2, 1}, {4, 3, 2, 2}, {8, 4, 4, 2}, {5, 2, 1, 3}}) {
    RealCompiled c = universal_compile_bilinear(s);
    EXPECT_EQ(c.config.act_fn, MlpKind::Bilinear);
    EXPECT_EQ(c.soft_heads, s.h) << "one real softmax head per simulated head";
    for (int trial = 0; trial < 3; ++trial) {
      AttentionWeights w = attention_random_layer(s, rng);
      std::vector<double> X = attention_random_input(s, rng);
      std::vector<double> want = attention_direct(s, w, X);
      std::vector<double> got = universal_model_run(c.model, s, universal_input(s, w, X));
      double err = 0;
      for (size_t p = 0; p < want.size(); ++p) err = std::max(err, std::fabs(got[p] - want[p]));
      EXPECT_LE(err, 1e-9) << "n " << s.n << " d " << s.d << " dk " << s.dk << " h " << s.h;
    }
  }
}

// Data-agnostic: U is compiled from the shapes alone; two saved copies are byte-identical, and the same file
// reproduces two different attention layers.
TEST(Universal, CompiledWeightsDependOnlyOnTheShapes) {
  AttentionShape s{4, 3, 2, 2};
  std::string d1 = testing::TempDir() + "/attnlab_u1", d2 = testing::TempDir() + "/attnlab_u2";
  model_save(d1, universal_compile_bilinear(s).model);
  model_save(d2, universal_compile_bilinear(s).model);
  EXPECT_EQ(file_read_text(d1 + "/model.safetensors"), file_read_text(d2 + "/model.safetensors"));
  SequenceModel loaded = model_load(d1);
  TaskRng rng(23);
  for (int layer = 0; layer < 2; ++layer) {
    AttentionWeights w = attention_random_layer(s, rng);
    std::vector<double> X = attention_random_input(s, rng);
    std::vector<double> want = attention_direct(s, w, X), got = universal_model_run(loaded, s, universal_input(s, w, X));
    for (size_t p = 0; p < want.size(); ++p) EXPECT_NEAR(got[p], want[p], 1e-9);
  }
}

// ReLU mode: U with ReLU feed-forward layers only is exact (1e-11, f64 rounding through the interpolants) on
// every input whose entries lie on the grid {-1, -1/2, 0, 1/2, 1}: all 5^5 = 3125 of them for n 2, d 1, dk 1.
TEST(Universal, GridModeIsExactOnEveryGridInput) {
  const std::vector<double> grid = {-1, -0.5, 0, 0.5, 1};
  AttentionShape s{2, 1, 1, 1};
  RealCompiled c = universal_compile_grid(s, grid);
  EXPECT_EQ(c.config.act_fn, MlpKind::Relu);
  std::vector<std::vector<double>> inputs, want;
  for (int code = 0; code < 3125; ++code) {
    std::vector<double> e(5);
    for (int k = 0, x = code; k < 5; ++k, x /= 5) e[k] = grid[x % 5];
    AttentionWeights w{{e[0]}, {e[1]}, {e[2]}, {}};
    std::vector<double> X = {e[3], e[4]};
    inputs.push_back(universal_input(s, w, X));
    want.push_back(attention_direct(s, w, X));
  }
  std::vector<std::vector<double>> got = universal_model_run_batch(c.model, s, inputs);
  double err = 0;
  for (size_t i = 0; i < inputs.size(); ++i)
    for (size_t p = 0; p < want[i].size(); ++p) err = std::max(err, std::fabs(got[i][p] - want[i][p]));
  EXPECT_LE(err, 1e-11);
  // off the grid a product is interpolated, not computed: the ReLU model is then wrong, as it should say
  AttentionWeights off{{0.3}, {0.7}, {0.25}, {}};
  std::vector<double> X = {0.6, -0.35}, direct = attention_direct(s, off, X);
  std::vector<double> wrong = universal_model_run(c.model, s, universal_input(s, off, X));
  EXPECT_GT(std::fabs(wrong[0] - direct[0]), 1e-6);
}

TEST(Universal, RealCompilerListsEveryUnsupportedConstruct) {
  Interpreter in;
  in.run_source("a = exp(tokens_float);\n"
                "b = aggregate(select(tokens_float, tokens_float, <), tokens_float);\n"
                "c = tokens_float / tokens_float;\n"
                "out = a + b + c;\n",
                "bad.rasp");
  RealCompileOptions opt;
  opt.length = 4;
  try {
    compile_real(rasp::interp_sop_pick(in, "out", "bad.rasp"), opt);
    ADD_FAILURE() << "compiled an unsupported program";
  } catch (const Error& e) {
    std::string m = e.message();
    EXPECT_NE(m.find("3 construct"), std::string::npos) << m;
    EXPECT_NE(m.find("'exp'"), std::string::npos) << m;
    EXPECT_NE(m.find("compares real values"), std::string::npos) << m;
    EXPECT_NE(m.find("division"), std::string::npos) << m;
  }
  // A gather whose target is out of range for some query has no default in real mode.
  Interpreter in2;
  in2.run_source("out = aggregate(select(indices, indices + 1, ==), tokens_float);", "gap.rasp");
  EXPECT_THROW(compile_real(rasp::interp_sop_pick(in2, "out", "gap.rasp"), opt), Error);
}

}  // namespace
}  // namespace attnlab
