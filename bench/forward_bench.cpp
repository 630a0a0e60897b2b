// Forward throughput of the transformer runtime (tokens/s) — issue 2's benchmark model: 2 layers, d_model 64,
// 4 heads (d_head 16), d_mlp 256, LayerNorm, ReLU, learned positions, vocab 64, batch 64 x length 64, f32.
// Usage: forward_bench --threads N --model-dir DIR [--iters K]
//   Builds the model (seed 1), saves it to DIR (so bench/forward_peer.py runs the same weights), then times
//   K forward passes after warm-up under InferenceMode and prints one JSON line.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "model/device.h"
#include "model/model.h"
#include "util/runtime.h"

using namespace attnlab;

int main(int argc, char** argv) {
  runtime_malloc_tune();
  int threads = 1, iters = 200;
  std::string dir = "/tmp/attnlab_bench_forward";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--iters")) iters = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--model-dir")) dir = argv[i + 1];
  }
  torch_threads_set(runtime_threads_set(threads));
  ModelConfig c;
  c.n_layers = 2;
  c.d_model = 64;
  c.n_heads = 4;
  c.d_head = 16;
  c.d_mlp = 256;
  c.d_vocab = c.d_vocab_out = 64;
  c.n_ctx = 64;
  c.normalization = NormKind::LN;
  c.causal = true;
  auto model = model_create(c, torch::kFloat64);
  model_init_random(model, 1, 0.1);
  model_save(dir, model, torch::kFloat32);
  model = model_load(dir, torch::kFloat32);
  auto gen = at::detail::createCPUGenerator(2);
  auto tokens = at::randint(0, 64, {64, 64}, gen, torch::kInt64);
  c10::InferenceMode guard;
  for (int i = 0; i < 20; ++i) model->forward({tokens});
  auto t0 = std::chrono::steady_clock::now();
  double checksum = 0;
  for (int i = 0; i < iters; ++i) checksum += model->forward({tokens}).sum().item<double>();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"impl\": \"attnlab\", \"threads\": %d, \"iters\": %d, \"ms_per_forward\": %.4f, "
              "\"tokens_per_s\": %.0f, \"checksum\": %.6g}\n",
              threads, iters, 1e3 * secs / iters, 64.0 * 64 * iters / secs, checksum / iters);
  return 0;
}
