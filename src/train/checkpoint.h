// Crash-safe checkpoints: RUN/checkpoints/step_<8 digits>/ holds a model directory (config.json,
// model.safetensors in the training dtype), optim.safetensors (optimiser moments), state.json (step, data-stream
// RNG and position, metrics-log length) and MANIFEST.json (size + FNV-1a hash of every other file).
// Commit protocol: everything is written into step_<N>.tmp-<pid>/, each file fsync'ed, the manifest written
// last, then the directory is renamed into place and its parent fsync'ed. A checkpoint without a manifest, or
// whose files disagree with it, is corrupt: it is reported and the previous good one is used.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/model.h"
#include "train/optim.h"

namespace attnlab {

struct Checkpoint {
  std::string dir;             // RUN/checkpoints/step_<N>
  int64_t step = 0;            // updates done
  nlohmann::json state;        // state.json
};

void checkpoint_write(const std::string& run_dir, int64_t step, const SequenceModel& model,
                      const NamedTensors& optim_state, const nlohmann::json& state);
// The newest checkpoint that verifies; a corrupt newer one adds a line to `warnings`. found = false if none.
bool checkpoint_latest(const std::string& run_dir, Checkpoint& out, std::vector<std::string>& warnings);
// Checks the manifest against the files; returns "" when good, else what is wrong.
std::string checkpoint_verify(const std::string& dir);
// Loads the model (into `model`, same config required) and returns the optimiser tensors.
NamedTensors checkpoint_load(const Checkpoint& ckpt, SequenceModel& model);
// Keeps the newest `keep` good checkpoints; removes older ones and stale temporary directories.
void checkpoint_prune(const std::string& run_dir, int64_t keep);

// fsync of a file or directory (Error on failure); used for every file a run must not lose.
void fsync_path(const std::string& path);

}  // namespace attnlab
