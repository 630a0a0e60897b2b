// Benchmark for the separation constructions (issue 6, bench/RESULTS.md "Separations"): the stages of
// `attnlab construct index-lookup --verify` timed separately — random-code search and certification, model
// build, verification in f32 and f64 — at N = 16384 (every pair certified, all positions of 4 strings) and at a
// large N (256 certified rows sampled, 2 strings), with the peak RSS (getrusage) after each stage, and the
// machine's f32 GEMM rate measured side by side (the certification is one 16384 x k x 16384 GEMM).
// Usage: separations_bench [N=16384] [big_N=1000000] [alphabet=16] [strings=4]; big_N = 0 skips the large run.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "constructions/codes.h"
#include "constructions/index_lookup.h"
#include "util/runtime.h"

using namespace attnlab;

namespace {

double seconds_of(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double peak_rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB on Linux
}

double gemm_gflops() {  // f32 [1024 x 160] x [160 x 8192], the certification's block shape
  auto a = torch::randn({1024, 160}), b = torch::randn({8192, 160});
  torch::matmul(a, b.t());
  double best = 1e300;
  for (int r = 0; r < 5; ++r) best = std::min(best, seconds_of([&] { torch::matmul(a, b.t()).sum().item<float>(); }));
  return 2.0 * 1024 * 160 * 8192 / best / 1e9;
}

void run(int64_t n, int64_t alphabet, int64_t strings, int64_t queries) {
  IndexLookupOptions opt;
  opt.n = n, opt.alphabet = alphabet;
  NearOrthogonalCode code;
  const double t_code = seconds_of([&] { code = code_build(opt.code, n, opt.gamma, opt.seed, opt.certify_max); });
  std::printf("N = %lld, |S| = %lld: code search + certification %.2f s (k = %lld, gamma = %.4f, %lld certified "
              "rows), peak RSS %.2f GiB\n", static_cast<long long>(n), static_cast<long long>(alphabet), t_code,
              static_cast<long long>(code.k), code.gamma, static_cast<long long>(code.certified_rows.size(0)),
              peak_rss_gib());
  code = NearOrthogonalCode{};
  IndexLookupBuild b;
  const double t_build = seconds_of([&] { b = index_lookup_build(opt); });  // includes the code search again
  std::printf("  build (code + model) %.2f s: d_model %d, lambda %.3f, %d bits, peak RSS %.2f GiB\n", t_build,
              b.model->config().d_model, b.scale, b.precision_bits, peak_rss_gib());
  std::vector<VerifyResult> rs;
  const double t_verify = seconds_of([&] { rs = index_lookup_verify(b, opt, strings, opt.seed + 1, queries); });
  for (const auto& r : rs)
    std::printf("  verify %s (%s): %lld/%lld correct, min margin %.4f, %.2f s\n", r.dtype.c_str(), r.mode.c_str(),
                static_cast<long long>(r.correct), static_cast<long long>(r.checked), r.min_margin, r.seconds);
  std::printf("  verify total %.2f s; build + verify %.2f s; peak RSS %.2f GiB\n", t_verify, t_build + t_verify,
              peak_rss_gib());
}

}  // namespace

int main(int argc, char** argv) {
  runtime_malloc_tune();
  const int threads = runtime_threads_set(0);
  torch::set_num_threads(threads);
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 16384, big = argc > 2 ? std::atoll(argv[2]) : 1000000;
  const int64_t alphabet = argc > 3 ? std::atoll(argv[3]) : 16, strings = argc > 4 ? std::atoll(argv[4]) : 4;
  torch::NoGradGuard no_grad;
  std::printf("threads %d, f32 GEMM %.1f GFLOP/s ([1024 x 160] x [160 x 8192])\n", threads, gemm_gflops());
  run(n, alphabet, strings, 16384);
  if (big > 0) run(big, alphabet, 2, 256);
  return 0;
}
