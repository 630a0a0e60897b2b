// Shared vocabulary of the task generators (src/tasks/): one example = tokens + optional real-valued inputs +
// a target class; a batch = examples of one task; a seeded, platform-independent RNG (std::mt19937_64 with our
// own integer/real/normal mappings, so the same seed gives the same bytes with every standard library).
// Shapes: T = sequence length, I = real-valued input width per position.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace attnlab {

struct TaskExample {
  std::vector<int64_t> tokens;   // [T] input token ids
  std::vector<double> numbers;   // [T * I] real-valued inputs, row-major; empty when I = 0
  int64_t target = 0;            // id in the task's output vocabulary
};

struct TaskBatch {
  std::vector<TaskExample> examples;
  int num_width = 0;                      // I
  std::vector<std::string> vocab;         // input tokens, in id order
  std::vector<std::string> vocab_out;     // output tokens, in id order
};

using TaskRng = std::mt19937_64;

uint64_t rng_below(TaskRng& rng, uint64_t n);  // uniform in [0, n) by rejection; n >= 1
double rng_unit(TaskRng& rng);                 // uniform in [0, 1), 53 random bits
double rng_normal(TaskRng& rng);               // N(0, 1), Box-Muller

// Fraction of examples whose prediction equals the target; Error when the sizes differ or the batch is empty.
double exact_match(const std::vector<int64_t>& predicted, const TaskBatch& batch);

// Token text -> id within a vocabulary; Error naming the token when it is absent.
int64_t vocab_id(const std::vector<std::string>& vocab, const std::string& token);

// Bytes of every example (tokens, numbers, target), for "same seed, same bytes" checks.
std::string task_batch_bytes(const TaskBatch& batch);

}  // namespace attnlab
