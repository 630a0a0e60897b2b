#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "model/weights.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace fs = std::filesystem;

namespace {

std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%08lld", static_cast<long long>(step));
  return buf;
}

uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}

// Committed checkpoint directories, newest first.
std::vector<std::pair<int64_t, std::string>> checkpoint_dirs(const std::string& run_dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  fs::path root = fs::path(run_dir) / "checkpoints";
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() != 13 || name.rfind("step_", 0) != 0 || !e.is_directory()) continue;
    if (name.find_first_not_of("0123456789", 5) != std::string::npos) continue;
    out.emplace_back(std::stoll(name.substr(5)), e.path().string());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

}  // namespace

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error("cannot open " + path + " to flush it: " + std::strerror(errno), "check the run directory");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error("fsync of " + path + " failed: " + std::strerror(errno), "check free disk space");
}

void checkpoint_write(const std::string& run_dir, int64_t step, const SequenceModel& model,
                      const NamedTensors& optim_state, const nlohmann::json& state) {
  const std::string root = run_dir + "/checkpoints";
  dir_create(root);
  const std::string final_dir = root + "/" + step_name(step);
  const std::string tmp = final_dir + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  model_save(tmp, model, model->parameters().front().scalar_type());
  NamedTensors cpu;
  for (const auto& [name, t] : optim_state) cpu.emplace_back(name, t.detach().cpu());
  tensors_write(tmp + "/optim.safetensors", cpu, {{"producer", "attnlab train"}});
  nlohmann::json st = state;
  st["step"] = step;
  file_write_atomic(tmp + "/state.json", st.dump(1) + "\n");
  nlohmann::json manifest = {{"step", step}, {"files", nlohmann::json::object()}};
  for (const char* f : {"config.json", "model.safetensors", "optim.safetensors", "state.json"}) {
    auto bytes = file_read_bytes(tmp + "/" + f);
    manifest["files"][f] = {{"size", bytes.size()}, {"fnv1a", std::to_string(fnv1a(bytes))}};
    fsync_path(tmp + "/" + f);
  }
  file_write_atomic(tmp + "/MANIFEST.json", manifest.dump(1) + "\n");
  fsync_path(tmp + "/MANIFEST.json");
  fsync_path(tmp);
  if (fs::exists(final_dir, ec)) fs::remove_all(final_dir, ec);  // a corrupt one of the same step
  fs::rename(tmp, final_dir, ec);
  if (ec) throw Error("cannot commit checkpoint " + final_dir + ": " + ec.message(), "check the run directory");
  fsync_path(root);
}

std::string checkpoint_verify(const std::string& dir) {
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(file_read_text(dir + "/MANIFEST.json"));
    for (const auto& [name, info] : manifest.at("files").items()) {
      std::error_code ec;
      if (!fs::exists(dir + "/" + name, ec)) return "file " + name + " is missing";
      auto bytes = file_read_bytes(dir + "/" + name);
      if (bytes.size() != info.at("size").get<size_t>())
        return name + " has " + std::to_string(bytes.size()) + " bytes, the manifest says " +
               std::to_string(info.at("size").get<size_t>());
      if (std::to_string(fnv1a(bytes)) != info.at("fnv1a").get<std::string>()) return name + " fails its checksum";
    }
    for (const char* f : {"config.json", "model.safetensors", "optim.safetensors", "state.json"})
      if (!manifest.at("files").contains(f)) return std::string("the manifest does not list ") + f;
  } catch (const Error& e) {
    return "no readable MANIFEST.json (" + e.message() + ")";
  } catch (const nlohmann::json::exception& e) {
    return "MANIFEST.json is malformed (" + std::string(e.what()) + ")";
  }
  return "";
}

bool checkpoint_latest(const std::string& run_dir, Checkpoint& out, std::vector<std::string>& warnings) {
  for (const auto& [step, dir] : checkpoint_dirs(run_dir)) {
    std::string why = checkpoint_verify(dir);
    if (why.empty()) {
      try {
        out.state = nlohmann::json::parse(file_read_text(dir + "/state.json"));
        if (out.state.at("step").get<int64_t>() != step) why = "state.json is for another step";
      } catch (const std::exception& e) {
        why = "state.json is unreadable (" + std::string(e.what()) + ")";
      }
    }
    if (!why.empty()) {
      warnings.push_back("checkpoint " + dir + " is corrupt or partial: " + why + "; skipping it");
      continue;
    }
    out.dir = dir;
    out.step = step;
    return true;
  }
  return false;
}

NamedTensors checkpoint_load(const Checkpoint& ckpt, SequenceModel& model) {
  auto dtype = model->parameters().front().scalar_type();
  SequenceModel saved = model_load(ckpt.dir, dtype, model->parameters().front().device());
  check(config_to_json(saved->config()) == config_to_json(model->config()),
        "checkpoint " + ckpt.dir + " holds a model with another config than this run's",
        "the run directory belongs to another config; use a fresh --out directory");
  torch::NoGradGuard no_grad;
  auto src = saved->named_parameters();
  for (auto& p : model->named_parameters()) p.value().copy_(src[p.key()]);
  NamedTensors state = tensors_read(ckpt.dir + "/optim.safetensors");
  for (auto& [name, t] : state) t = t.to(model->parameters().front().device());
  return state;
}

void checkpoint_prune(const std::string& run_dir, int64_t keep) {
  std::error_code ec;
  int64_t good = 0;
  for (const auto& [step, dir] : checkpoint_dirs(run_dir)) {
    if (good >= keep) fs::remove_all(dir, ec);
    else if (checkpoint_verify(dir).empty()) ++good;
  }
  fs::path root = fs::path(run_dir) / "checkpoints";
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) fs::remove_all(e.path(), ec);
}

}  // namespace attnlab
