// Benchmark for src/gp (issue 7 item 10): the tied-softmax NNGP kernel of N sequences at L = 64 and a GP solve,
// with achieved GFLOP/s against the machine's GEMM rate measured side by side (LibTorch float64 matmul).
// Usage: gp_bench [N_kernel=500] [N_solve=4000] [L=64]. Flop counts: kernel = N² pairs × 2 L×L×L products ×
// 2L³ flops (the pairwise products, the part the goal is stated for); Cholesky = N³/3, solve = 2N² per rhs.
#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <cstdlib>

#include "gp/inference.h"
#include "gp/kernels.h"
#include "util/runtime.h"

using namespace attnlab;
using namespace attnlab::gp;

namespace {

double seconds_of(const std::function<void()>& f, int repeats) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  runtime_malloc_tune();
  int threads = runtime_threads_set(0);
  torch::set_num_threads(threads);
  int64_t n_kernel = argc > 1 ? std::atoll(argv[1]) : 500, n_solve = argc > 2 ? std::atoll(argv[2]) : 4000;
  int64_t L = argc > 3 ? std::atoll(argv[3]) : 64;
  torch::NoGradGuard no_grad;
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  std::printf("threads %d\n", threads);

  auto a = torch::randn({2048, 2048}, opts), b = torch::randn({2048, 2048}, opts);
  double t_gemm = seconds_of([&] { torch::matmul(a, b); }, 3);
  double gemm = 2.0 * 2048 * 2048 * 2048 / t_gemm / 1e9;
  std::printf("peer: GEMM 2048^3 float64: %.2f GFLOP/s\n", gemm);
  auto sa = torch::randn({8192, L, L}, opts), sb = torch::randn({8192, L, L}, opts);
  double t_b = seconds_of([&] { torch::matmul(sa, sb); }, 3);
  std::printf("peer: batched GEMM 8192 x %ld^3 float64: %.2f GFLOP/s\n", (long)L, 2.0 * 8192 * L * L * L / t_b / 1e9);

  auto gen = at::detail::createCPUGenerator(1);
  auto x = at::randint(8, {n_kernel, L}, gen, torch::TensorOptions().dtype(torch::kInt64));
  GramOptions g;
  g.vocab = 8;
  g.block = 64;
  auto spec = kernel_spec_parse("embed(pos=iid) | attn(tied) | meanpool");
  torch::Tensor k;
  double t_k = seconds_of([&] { k = kernel_gram(spec, x, x, g).k; }, 1);
  double flops = (double)n_kernel * n_kernel * 2 * 2.0 * L * L * L;
  std::printf("kernel: tied softmax, N = %ld, L = %ld: %.2f s, %.2f GFLOP/s on the pairwise L x L products "
              "(%.0f%% of GEMM)\n", (long)n_kernel, (long)L, t_k, flops / t_k / 1e9, 100 * flops / t_k / 1e9 / gemm);

  auto f = torch::randn({n_solve, 64}, opts);
  auto kk = torch::matmul(f, f.t()) / 64.0 + 0.1 * torch::eye(n_solve, opts);
  auto y = torch::randn({n_solve}, opts);
  auto kx = kk.narrow(0, 0, 100);
  double t_s = seconds_of([&] { gp_posterior(kk, kx, kx.diagonal(), y, 1e-6); }, 1);
  double sflops = (double)n_solve * n_solve * n_solve / 3 + 2.0 * n_solve * n_solve * 101 * 2;
  std::printf("GP solve: N = %ld (101 right-hand sides): %.2f s, %.2f GFLOP/s (%.0f%% of GEMM)\n", (long)n_solve, t_s,
              sflops / t_s / 1e9, 100 * sflops / t_s / 1e9 / gemm);
  return 0;
}
