#include "train/snapshot.h"

#include <algorithm>
#include <filesystem>

#include "model/hooks.h"
#include "model/weights.h"
#include "train/evaluate.h"
#include "util/fs.h"

namespace attnlab {

Probe probe_build(const TrainConfig& cfg, const ModelConfig& model_cfg) {
  Probe p;
  TaskBatch ex = eval_examples(cfg, cfg.task.n, cfg.train.probe_size);
  std::vector<int64_t> index;
  for (int64_t i = 0; i < cfg.train.probe_size; ++i) index.push_back(i);
  p.batch = batch_from_examples(cfg.task, ex, index, cfg.task.n);
  for (const auto& e : ex.examples) {
    std::vector<std::string> toks;
    for (auto id : e.tokens) toks.push_back(model_cfg.vocab.at(id));
    p.tokens.push_back(toks);
  }
  return p;
}

bool snapshot_write(const std::string& run_dir, int64_t step, const SequenceModel& model, const Probe& probe) {
  if (!model->config().is_transformer()) return false;
  torch::NoGradGuard no_grad;
  Hooks hooks;
  hooks.cache_add("blocks.*.attn.hook_pattern");
  model->forward({probe.batch.tokens.to(model->parameters().front().device()), {}}, &hooks);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& [name, t] : hooks.cache()) tensors.emplace_back(name, t.to(torch::kFloat32).cpu());
  dir_create(run_dir + "/snapshots");
  char name[40];
  std::snprintf(name, sizeof name, "/snapshots/step_%08lld.safetensors", static_cast<long long>(step));
  tensors_write(run_dir + name, tensors,
                {{"step", std::to_string(step)}, {"tokens", nlohmann::json(probe.tokens).dump()}});
  return true;
}

std::vector<std::pair<int64_t, std::string>> snapshot_list(const std::string& run_dir) {
  namespace fs = std::filesystem;
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run_dir + "/snapshots", ec)) {
    std::string f = e.path().filename().string();
    if (f.size() != 25 || f.rfind("step_", 0) != 0 || f.substr(13) != ".safetensors") continue;
    if (f.find_first_not_of("0123456789", 5) != 13) continue;
    out.emplace_back(std::stoll(f.substr(5, 8)), e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace attnlab
