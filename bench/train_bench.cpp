// Training throughput of src/train (steps/s) — issue 8's benchmark: one AdamW step = forward, per-position
// masked cross-entropy, backward, clip-free AdamW update (lr 1e-3), on a fixed random batch, in f32.
// Models: "d64"  2-layer transformer, d_model 64, 4 heads, d_mlp 256, LN, learned positions, vocab 64, B 64 x T 64
//         "tiny" 1-layer transformer, d_model 32, 2 heads, d_mlp 128, LN, vocab 16, B 32 x T 16
//         "lstm" LSTM, embedding 64, hidden 64, vocab 64, per-position readout, B 64 x T 64
// Usage: train_bench --model d64|tiny|lstm --threads N --dir DIR [--iters K]
//   Saves the initial weights and the batch to DIR (bench/train_peer.py trains the same model from them),
//   times K steps after 5 warm-up steps, prints one JSON line (steps/s, final loss, peak RSS).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "model/device.h"
#include "model/model.h"
#include "model/weights.h"
#include "train/loss.h"
#include "train/optim.h"
#include "util/runtime.h"

using namespace attnlab;

static ModelConfig bench_config(const std::string& which) {
  ModelConfig c;
  c.normalization = NormKind::LN;
  if (which == "lstm") {
    c.model_type = ModelType::Lstm;
    c.d_model = c.d_hidden = 64;
    c.d_vocab = c.d_vocab_out = 64;
    c.readout = Readout::PerPosition;
    return c;
  }
  const bool tiny = which == "tiny";
  c.n_layers = tiny ? 1 : 2;
  c.d_model = tiny ? 32 : 64;
  c.n_heads = tiny ? 2 : 4;
  c.d_head = 16;
  c.d_mlp = 4 * c.d_model;
  c.d_vocab = c.d_vocab_out = tiny ? 16 : 64;
  c.n_ctx = tiny ? 16 : 64;
  return c;
}

int main(int argc, char** argv) {
  runtime_malloc_tune();
  int threads = 1, iters = 100;
  std::string which = "d64", dir = "/tmp/attnlab_train_bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--iters")) iters = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--model")) which = argv[i + 1];
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  torch_threads_set(runtime_threads_set(threads));
  ModelConfig c = bench_config(which);
  const int64_t B = which == "tiny" ? 32 : 64, T = which == "tiny" ? 16 : 64;
  auto model = model_create(c, torch::kFloat64);
  model_init_random(model, 1, 0.1);
  model_save(dir, model, torch::kFloat32);
  model = model_load(dir, torch::kFloat32);
  auto gen = at::detail::createCPUGenerator(2);
  TrainBatch batch;
  batch.tokens = at::randint(0, c.d_vocab, {B, T}, gen, torch::kInt64);
  batch.targets = at::randint(0, c.d_vocab_out, {B, T}, gen, torch::kInt64);
  batch.mask = torch::ones({B, T}, torch::kFloat64);
  batch.last_only = false;
  tensors_write(dir + "/batch.safetensors", {{"tokens", batch.tokens}, {"targets", batch.targets}});
  NamedTensors params;
  for (auto& p : model->named_parameters()) params.emplace_back(p.key(), p.value());
  OptimConfig oc;  // AdamW, lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay
  Optimizer opt(oc, params);
  auto step = [&] {
    auto loss = loss_cross_entropy(model->forward({batch.tokens, {}}), batch);
    opt.zero_grad();
    loss.backward();
    opt.step(1e-3);
    return loss;
  };
  for (int i = 0; i < 5; ++i) step();
  auto t0 = std::chrono::steady_clock::now();
  double loss = 0;
  for (int i = 0; i < iters; ++i) loss = step().item<double>();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("{\"impl\": \"attnlab\", \"model\": \"%s\", \"threads\": %d, \"iters\": %d, \"steps_per_s\": %.2f, "
              "\"ms_per_step\": %.3f, \"final_loss\": %.6f, \"peak_rss_mb\": %.1f}\n",
              which.c_str(), threads, iters, iters / secs, 1e3 * secs / iters, loss, ru.ru_maxrss / 1024.0);
  return 0;
}
