// Attention snapshots: every K steps the probe batch (the first train.probe_size held-out examples at the
// training length) runs through the model with blocks.*.attn.hook_pattern cached, and the patterns go to
// RUN/snapshots/step_<8 digits>.safetensors: one F32 tensor "blocks.{l}.attn.hook_pattern" [P, H, T, T] per
// layer, metadata {"step", "tokens" (JSON list of the probe's token strings per example)}. RNNs have none.
#pragma once

#include <string>
#include <vector>

#include "model/model.h"
#include "train/config.h"
#include "train/data.h"

namespace attnlab {

struct Probe {
  TrainBatch batch;                               // [P, T]
  std::vector<std::vector<std::string>> tokens;   // [P][T]
};

Probe probe_build(const TrainConfig& cfg, const ModelConfig& model_cfg);
// Writes the snapshot for `step`; false (and nothing written) when the model has no attention.
bool snapshot_write(const std::string& run_dir, int64_t step, const SequenceModel& model, const Probe& probe);
// Snapshot files of a run, oldest first, as (step, path).
std::vector<std::pair<int64_t, std::string>> snapshot_list(const std::string& run_dir);

}  // namespace attnlab
