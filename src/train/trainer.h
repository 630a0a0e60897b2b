// The training loop: `train_run` is its table of contents. One step = draw a batch from the data stream,
// forward, masked cross-entropy, backward, clip, AdamW/SGD at the scheduled learning rate; at fixed intervals
// it logs (metrics.jsonl + progress line), evaluates on held-out data per length, snapshots the probe batch's
// attention and writes a crash-safe checkpoint. Run again with the same config and run directory, it resumes
// from the newest good checkpoint and continues bit for bit as if never interrupted (same weights, optimiser
// moments, data-stream RNG and position; metrics.jsonl cut back to the checkpoint). docs/training.md.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "train/config.h"
#include "train/evaluate.h"

namespace attnlab {

struct TrainOptions {
  bool quiet = false;          // no progress line (warnings still go to stderr)
  int64_t stop_after = -1;     // tests: return right after this step's checkpointing, unfinished (like a kill)
  std::string argv_text;       // the command line, appended to RUN/argv.txt
  std::ostream* out = nullptr; // where the paths and final results are printed; null = nowhere
};

struct TrainResult {
  int64_t steps_done = 0;
  int64_t resumed_from = -1;       // checkpoint step resumed from, -1 for a fresh start
  bool finished = false;           // reached train.steps (results.json written)
  bool already_finished = false;   // results.json was there before: nothing was run
  std::vector<EvalResult> final_eval;
};

TrainResult train_run(const TrainConfig& cfg, const std::string& run_dir, const TrainOptions& opt = {});

}  // namespace attnlab
