// Benchmark for src/gp (issue 7 item 10): the tied-softmax NNGP kernel of N sequences at L = 64 and a GP solve,
// with achieved GFLOP/s against the machine's GEMM rate measured side by side (LibTorch float64 matmul).
// Usage: gp_bench [N_kernel=500] [N_solve=4000] [L=64] [N_deep=N_kernel]. V = 8, iid positions (F = V + L).
// Flop counts, each the flops the code executes:
//   materialised path (GramOptions::factored = false): the pairwise products, 2 L×L×L GEMMs = 4L³ per pair
//     computed (the upper block triangle of the symmetric Gram), plus 2VL² per pair for the one-hot embedding;
//   default path, `embed | attn(tied) | meanpool`: 4L²F per sequence (U Uᵀ and A U) + 2N²F for the Gram;
//   two-layer spec, default path: 2L²F (the factor product) + 4L³ (the second attention) per pair computed;
//   Cholesky N³/3, triangular solves 2N² per right-hand side (two per rhs).
// Each figure is given per wall second and per CPU second of this process (CLOCK_PROCESS_CPUTIME_ID): on a shared
// machine the scheduler takes the pinned core away from time to time, and the CPU-time rate removes that.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <functional>

#include "gp/inference.h"
#include "gp/kernels.h"
#include "util/runtime.h"

using namespace attnlab;
using namespace attnlab::gp;

namespace {

struct Seconds {
  double wall = 1e300, cpu = 1e300;  // best of the repeats
};

double cpu_now() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

Seconds seconds_of(const std::function<void()>& f, int repeats) {
  Seconds best;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_now();
    f();
    best.cpu = std::min(best.cpu, cpu_now() - c0);
    best.wall = std::min(best.wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

void report(const char* what, double flops, const Seconds& t, const Seconds& gemm_t, double gemm_flops) {
  double w = flops / t.wall / 1e9, c = flops / t.cpu / 1e9;
  double gw = gemm_flops / gemm_t.wall / 1e9, gc = gemm_flops / gemm_t.cpu / 1e9;
  std::printf("  %s: %.2f GFLOP/s = %.0f%% of GEMM per wall s; %.2f GFLOP/s = %.0f%% per CPU s\n", what, w,
              100 * w / gw, c, 100 * c / gc);
}

double pairs_computed(int64_t n, int64_t side) {  // pairs in the upper block triangle of a symmetric n × n Gram
  double total = 0;
  for (int64_t i0 = 0; i0 < n; i0 += side)
    for (int64_t j0 = i0; j0 < n; j0 += side) total += (double)std::min(side, n - i0) * std::min(side, n - j0);
  return total;
}

Seconds time_kernel(const std::string& text, const torch::Tensor& x, const GramOptions& g, torch::Tensor& k) {
  auto spec = kernel_spec_parse(text);
  return seconds_of([&] { k = kernel_gram(spec, x, x, g).k; }, 1);
}

}  // namespace

int main(int argc, char** argv) {
  runtime_malloc_tune();
  int threads = runtime_threads_set(0);
  torch::set_num_threads(threads);
  int64_t n_kernel = argc > 1 ? std::atoll(argv[1]) : 500, n_solve = argc > 2 ? std::atoll(argv[2]) : 4000;
  int64_t L = argc > 3 ? std::atoll(argv[3]) : 64, n_deep = argc > 4 ? std::atoll(argv[4]) : n_kernel;
  const int64_t V = 8, F = V + L;
  torch::NoGradGuard no_grad;
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  std::printf("threads %d\n", threads);

  auto a = torch::randn({2048, 2048}, opts), b = torch::randn({2048, 2048}, opts);
  const double gemm_flops = 2.0 * 2048 * 2048 * 2048;
  Seconds t_gemm = seconds_of([&] { torch::matmul(a, b); }, 3);
  std::printf("peer: GEMM 2048^3 float64: %.2f GFLOP/s per wall s, %.2f per CPU s\n", gemm_flops / t_gemm.wall / 1e9,
              gemm_flops / t_gemm.cpu / 1e9);
  auto p64 = torch::randn({4096, L}, opts), q64 = torch::randn({L, 4096}, opts);
  Seconds t_k = seconds_of([&] { torch::matmul(p64, q64); }, 5);
  std::printf("peer: GEMM [4096 x %ld] x [%ld x 4096] float64 (inner dimension L, as in the pairwise products): "
              "%.2f GFLOP/s per wall s\n", (long)L, (long)L, 2.0 * 4096 * 4096 * L / t_k.wall / 1e9);
  auto sa = torch::randn({8192, L, L}, opts), sb = torch::randn({8192, L, L}, opts);
  Seconds t_b = seconds_of([&] { torch::matmul(sa, sb); }, 3);
  std::printf("peer: batched GEMM 8192 x %ld^3 float64: %.2f GFLOP/s per wall s\n", (long)L,
              2.0 * 8192 * L * L * L / t_b.wall / 1e9);

  auto gen = at::detail::createCPUGenerator(1);
  auto x = at::randint(V, {n_kernel, L}, gen, torch::TensorOptions().dtype(torch::kInt64));
  GramOptions g;
  g.vocab = V;
  g.block = 64;
  const std::string tied = "embed(pos=iid) | attn(tied) | meanpool";
  const double L3 = (double)L * L * L;
  torch::Tensor k_fast, k_ref, k_deep;

  g.factored = false;
  Seconds t_ref = time_kernel(tied, x, g, k_ref);
  double pairs = pairs_computed(n_kernel, gram_block_side(g, L)), pf = pairs * 4 * L3;
  std::printf("kernel '%s', N = %ld, L = %ld, materialised path (factored = false), blocks of %ld: %.2f s wall, "
              "%.2f s CPU; %.4g pairs computed\n", tied.c_str(), (long)n_kernel, (long)L,
              (long)gram_block_side(g, L), t_ref.wall, t_ref.cpu, pairs);
  report("pairwise L x L products (4L^3 per pair)", pf, t_ref, t_gemm, gemm_flops);
  report("all executed (+ 2VL^2 per pair for the embedding)", pf + pairs * 2.0 * V * L * L, t_ref, t_gemm, gemm_flops);
  torch::Tensor k_embed;
  Seconds t_embed = time_kernel("embed(pos=iid) | meanpool", x, g, k_embed);
  Seconds t_attn{t_ref.wall - t_embed.wall, t_ref.cpu - t_embed.cpu};
  std::printf("  the attention layer alone (minus 'embed(pos=iid) | meanpool' on the same blocks, %.2f s): "
              "%.2f s wall\n", t_embed.wall, t_attn.wall);
  report("pairwise L x L products in the attention layer", pf, t_attn, t_gemm, gemm_flops);

  g.factored = true;
  Seconds t_fast = time_kernel(tied, x, g, k_fast);
  std::printf("kernel, same spec, default path (factored): %.4f s wall, %.4f s CPU = %.0fx faster than the "
              "materialised path; max relative difference %.2e\n", t_fast.wall, t_fast.cpu, t_ref.wall / t_fast.wall,
              ((k_fast - k_ref).abs().max() / k_ref.abs().max()).item<double>());
  report("executed (4L^2 F per sequence + 2 N^2 F)", n_kernel * 4.0 * L * L * F + 2.0 * n_kernel * n_kernel * F,
         t_fast, t_gemm, gemm_flops);

  auto xd = x.narrow(0, 0, std::min(n_deep, n_kernel));
  const std::string deep = "embed(pos=iid) | attn(tied) | relu | attn(tied) | relu | meanpool";
  Seconds t_deep = time_kernel(deep, xd, g, k_deep);
  double dpairs = pairs_computed(xd.size(0), gram_block_side(g, L));
  std::printf("kernel '%s', N = %ld, default path: %.2f s wall, %.2f s CPU\n", deep.c_str(), (long)xd.size(0),
              t_deep.wall, t_deep.cpu);
  report("pairwise L x L products of the 2nd attention", dpairs * 4 * L3, t_deep, t_gemm, gemm_flops);
  report("+ the factor product (2L^2 F per pair)", dpairs * (4 * L3 + 2.0 * L * L * F), t_deep, t_gemm, gemm_flops);

  Seconds t_gemm2 = seconds_of([&] { torch::matmul(a, b); }, 3);
  std::printf("peer again after the kernels: GEMM 2048^3: %.2f GFLOP/s per wall s, %.2f per CPU s\n",
              gemm_flops / t_gemm2.wall / 1e9, gemm_flops / t_gemm2.cpu / 1e9);
  if (n_solve <= 0) return 0;
  auto f = torch::randn({n_solve, 64}, opts);
  auto kk = torch::matmul(f, f.t()) / 64.0 + 0.1 * torch::eye(n_solve, opts);
  auto y = torch::randn({n_solve}, opts);
  auto kx = kk.narrow(0, 0, 100);
  Seconds t_s = seconds_of([&] { gp_posterior(kk, kx, kx.diagonal(), y, 1e-6); }, 1);
  double sflops = (double)n_solve * n_solve * n_solve / 3 + 2.0 * n_solve * n_solve * 101 * 2;
  std::printf("GP solve: N = %ld (101 right-hand sides): %.2f s wall\n", (long)n_solve, t_s.wall);
  report("Cholesky + solves", sflops, t_s, t_gemm, gemm_flops);
  return 0;
}
