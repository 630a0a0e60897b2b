// The model a training config describes: a runtime ModelConfig (model/config.h) whose vocabularies and n_ctx
// come from the task (covering the longest evaluation length), and its seeded initialisation:
//   transformer: matrices ~ N(0, init_std^2), biases 0, LayerNorm weights 1 (GPT-2 style);
//   RNNs: every tensor ~ U(-1/sqrt(Hd), 1/sqrt(Hd)) (torch.nn.LSTM/GRU/RNN's default), embeddings ~ N(0, 1).
#pragma once

#include <torch/torch.h>

#include "model/model.h"
#include "train/config.h"

namespace attnlab {

ModelConfig train_model_config(const TrainConfig& cfg);
// model_create + the initialisation above from seed_mix(cfg.seed, ...); deterministic for a seed.
SequenceModel train_model_build(const TrainConfig& cfg, torch::Dtype dtype);

}  // namespace attnlab
