#include "train/trainer.h"

#include <ctime>
#include <filesystem>
#include <iostream>

#include "model/device.h"
#include "train/checkpoint.h"
#include "train/loss.h"
#include "train/metrics.h"
#include "train/model_build.h"
#include "train/optim.h"
#include "train/report.h"
#include "train/snapshot.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

bool every(int64_t step, int64_t k, int64_t last) { return k > 0 && (step % k == 0 || step == last); }

// Creates RUN, refuses a run directory that holds another config, and records the config and command line.
void run_dir_prepare(const TrainConfig& cfg, const std::string& run_dir, const std::string& argv_text) {
  dir_create(run_dir);
  const std::string resolved = train_config_to_toml(cfg), path = run_dir + "/config.resolved.toml";
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    check(file_read_text(path) == resolved,
          run_dir + " already holds a run with a different config (" + path + " differs from this one)",
          "use a fresh --out directory, or the same config and overrides to resume that run");
  } else {
    file_write_atomic(path, resolved);
    fsync_path(path);
  }
  std::string argv_old = std::filesystem::exists(run_dir + "/argv.txt", ec) ? file_read_text(run_dir + "/argv.txt") : "";
  file_write_atomic(run_dir + "/argv.txt", argv_old + argv_text + "\n");
}

struct Resume {
  int64_t step = 0, metrics_bytes = 0, from = -1;
  double cpu_seconds = 0, last_loss = 0;
};

Resume resume_from_checkpoint(const std::string& run_dir, SequenceModel& model, Optimizer& optim, DataStream& data) {
  Resume r;
  Checkpoint ck;
  std::vector<std::string> warnings;
  bool found = checkpoint_latest(run_dir, ck, warnings);
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  if (!found) return r;
  NamedTensors optim_state = checkpoint_load(ck, model);
  try {
    optim.state_load(optim_state, ck.state.at("optim_steps").get<int64_t>());
    data.state_load(ck.state.at("data"));
    r.metrics_bytes = ck.state.at("metrics_bytes").get<int64_t>();
    r.cpu_seconds = ck.state.value("cpu_seconds", 0.0);
    r.last_loss = ck.state.value("last_loss", 0.0);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ck.dir + "/state.json is malformed: " + e.what(), "delete that checkpoint directory to use the previous one");
  }
  r.step = r.from = ck.step;
  if (!warnings.empty()) std::cerr << "resuming from the previous good checkpoint " << ck.dir << "\n";
  return r;
}

void results_write(const std::string& run_dir, const TrainConfig& cfg, const std::vector<EvalResult>& ev,
                   double final_loss, double cpu_seconds) {
  nlohmann::json r = {{"steps", cfg.train.steps}, {"final_train_loss", final_loss}, {"eval", eval_to_json(ev)},
                      {"cpu_seconds", cpu_seconds}, {"seed", cfg.seed}};
  file_write_atomic(run_dir + "/results.json", r.dump(1) + "\n");
  fsync_path(run_dir + "/results.json");
}

}  // namespace

TrainResult train_run(const TrainConfig& cfg, const std::string& run_dir, const TrainOptions& opt) {
  train_config_validate(cfg, "training config");
  run_dir_prepare(cfg, run_dir, opt.argv_text);
  TrainResult result;
  std::error_code ec;
  if (std::filesystem::exists(run_dir + "/results.json", ec)) {
    if (opt.out) *opt.out << "run already finished: " << run_dir << "/results.json (delete it to train again)\n";
    result.already_finished = result.finished = true;
    result.steps_done = cfg.train.steps;
    return result;
  }
  const torch::Dtype dtype = dtype_from_string(cfg.train.dtype);
  const torch::Device device = device_from_string(cfg.train.device);
  SequenceModel model = train_model_build(cfg, dtype);
  model->to(device);
  NamedTensors params;
  for (auto& p : model->named_parameters()) params.emplace_back(p.key(), p.value());
  Optimizer optim(cfg.optim, params);
  DataStream data(cfg.task, cfg.train.batch, static_cast<uint64_t>(cfg.seed));
  Resume rs = resume_from_checkpoint(run_dir, model, optim, data);
  result.resumed_from = rs.from;
  if (opt.out && rs.from >= 0) *opt.out << "resuming " << run_dir << " from step " << rs.from << std::endl;  // flushed: a SIGKILL must not lose it
  MetricsLog log(run_dir + "/metrics.jsonl", rs.metrics_bytes);
  const Probe probe = probe_build(cfg, model->config());
  const int64_t total = cfg.train.steps;
  Progress progress(rs.step, total, opt.quiet);
  const std::clock_t cpu_start = std::clock();
  double last_loss = rs.last_loss;
  model->train();
  torch::AutoGradMode grad_on(true);  // whatever the caller's mode
  for (int64_t step = rs.step; step < total; ++step) {
    TrainBatch batch = data.next();
    auto logits = model->forward({batch.tokens.to(device), {}});
    auto loss = loss_cross_entropy(logits, batch);
    optim.zero_grad();
    loss.backward();
    double grad_norm = optim.clip_grad_norm(cfg.optim.clip);
    double lr = schedule_lr(cfg.schedule, cfg.optim.lr, step, total);
    optim.step(lr);
    const int64_t s = step + 1;
    if (every(s, cfg.train.log_every, total)) {
      last_loss = loss.item<double>();
      double acc = accuracy_count(logits.detach(), batch).token_acc();
      log.write({{"kind", "train"}, {"step", s}, {"loss", last_loss}, {"acc", acc}, {"lr", lr},
                 {"grad_norm", grad_norm}, {"steps_per_s", progress.steps_per_second(s)}});
      progress.update(s, last_loss, acc);
    }
    if (every(s, cfg.train.eval_every, total)) {
      result.final_eval = evaluate(model, cfg);
      log.write({{"kind", "eval"}, {"step", s}, {"results", eval_to_json(result.final_eval)}});
    }
    if (every(s, cfg.train.snapshot_every, total)) snapshot_write(run_dir, s, model, probe);
    if (every(s, cfg.train.checkpoint_every, total)) {
      log.sync();
      double cpu = rs.cpu_seconds + static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
      nlohmann::json state = {{"optim_steps", optim.steps()}, {"data", data.state()},
                              {"metrics_bytes", log.bytes()}, {"cpu_seconds", cpu},
                              {"last_loss", last_loss}};
      checkpoint_write(run_dir, s, model, optim.state(), state);
      checkpoint_prune(run_dir, cfg.train.keep_checkpoints);
      train_report_write(run_dir);
    }
    result.steps_done = s;
    if (s == opt.stop_after && s < total) {
      progress.finish();
      return result;
    }
  }
  progress.finish();
  if (result.final_eval.empty()) result.final_eval = evaluate(model, cfg);  // killed after the last checkpoint
  model_save(run_dir + "/model", model, dtype);
  double cpu = rs.cpu_seconds + static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  results_write(run_dir, cfg, result.final_eval, last_loss, cpu);
  train_report_write(run_dir);
  result.finished = true;
  result.steps_done = total;
  if (opt.out) {
    for (const auto& e : result.final_eval)
      *opt.out << "held-out n=" << e.n << ": exact match " << e.exact << ", token accuracy " << e.token_acc
               << ", loss " << e.loss << " (" << e.count << " examples)\n";
    *opt.out << "model: " << run_dir << "/model/\nmetrics: " << run_dir << "/metrics.jsonl\nreport: " << run_dir
             << "/report.html\n";
  }
  return result;
}

}  // namespace attnlab
