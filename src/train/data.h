// The training data stream over the task generators (src/tasks/): batches as tensors with per-position
// targets and a mask, drawn either fresh every step or from a fixed training set reshuffled every epoch.
// Everything random comes from one seeded TaskRng whose state, with the epoch position and permutation, is
// the stream's checkpointable state: restoring it reproduces the same batches bit for bit.
// Shapes: B = batch, T = sequence length (index lookup N+1, equality 2N+1, Dyck n, retrieval 2S+2 with S
// statements, conditional 3S+2, khop L+1). Retrieval, conditional and khop batches carry per-position targets
// (task.supervision = "curriculum") computed from the tokens by the task's own *_targets function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tasks/retrieval.h"
#include "tasks/task.h"
#include "train/config.h"

namespace attnlab {

struct TrainBatch {
  torch::Tensor tokens;    // [B, T] int64
  torch::Tensor targets;   // [B, T] int64 output ids (only read where mask = 1)
  torch::Tensor mask;      // [B, T] float64, 1 = scored position
  bool last_only = true;   // the mask selects exactly the last position of every example
  int64_t n = 0;           // task length parameter the batch was drawn at
};

// Error (the task generator's own, naming the spec field) when the task cannot be generated at length n.
void task_spec_validate(const TaskConfig& task, int64_t n);
// The retrieval spec of a task section at D = n (task.chains, chain_len, assignments, variables, values,
// shuffle, encoding, query).
RetrievalSpec task_retrieval_spec(const TaskConfig& task, int64_t n);
// Input / output vocabularies that cover every length up to max_n (index lookup's query tokens grow with N).
std::vector<std::string> task_vocab(const TaskConfig& task, int64_t max_n);
std::vector<std::string> task_vocab_out(const TaskConfig& task);
int64_t task_seq_len(const TaskConfig& task, int64_t n);  // T for length parameter n
// `count` examples at length n from the task generator, seeded.
TaskBatch task_examples(const TaskConfig& task, int64_t n, int64_t count, uint64_t seed);
// Tensors for the examples [begin, begin + count) (index list: which examples, in order).
TrainBatch batch_from_examples(const TaskConfig& task, const TaskBatch& ex, const std::vector<int64_t>& index,
                               int64_t n);

uint64_t seed_mix(uint64_t a, uint64_t b);  // splitmix64-based, platform independent

class DataStream {
 public:
  DataStream(const TaskConfig& task, int64_t batch, uint64_t seed);
  TrainBatch next();
  nlohmann::json state() const;               // rng state, batches drawn, epoch, position, permutation
  void state_load(const nlohmann::json& s);   // Error when it does not fit this stream
  int64_t batches_drawn() const { return drawn_; }

 private:
  TaskConfig task_;
  int64_t batch_;
  TaskRng rng_;
  TaskBatch fixed_;             // the fixed training set (train_size > 0)
  std::vector<int64_t> perm_;   // this epoch's order of fixed_
  int64_t epoch_ = 0, pos_ = 0, drawn_ = 0;
};

}  // namespace attnlab
