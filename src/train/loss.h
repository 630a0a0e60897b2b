// Masked cross-entropy over per-position logits, and the accuracy counts that go with it.
//   loss = sum_{b,t} mask[b,t] * -log softmax(logits[b,t])[target[b,t]] / sum mask
// A last-position batch (TrainBatch::last_only) scores only logits[:, T-1]; models that read out only the last
// position (RNN readout "last", logits [B, 1, O]) are aligned with the last target.
// Shapes: B batch, T positions, O = d_vocab_out.
#pragma once

#include <torch/torch.h>

#include "train/data.h"

namespace attnlab {

torch::Tensor loss_cross_entropy(const torch::Tensor& logits, const TrainBatch& batch);  // scalar, logits' dtype

struct AccuracyCounts {
  int64_t token_correct = 0;  // scored positions whose argmax equals the target
  int64_t token_total = 0;    // scored positions
  int64_t exact_correct = 0;  // examples with every scored position correct
  int64_t exact_total = 0;    // examples
  double token_acc() const { return token_total ? double(token_correct) / token_total : 0.0; }
  double exact_match() const { return exact_total ? double(exact_correct) / exact_total : 0.0; }
  void add(const AccuracyCounts& o);
};

AccuracyCounts accuracy_count(const torch::Tensor& logits, const TrainBatch& batch);

}  // namespace attnlab
