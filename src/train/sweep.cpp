// Sweep grid expansion, job bookkeeping, the local process pool and the Slurm array script.
#include "train/sweep.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "train/config.h"
#include "util/error.h"
#include "util/fs.h"

extern char** environ;

namespace attnlab {

namespace fs = std::filesystem;

static std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

std::vector<SweepAxis> sweep_axes_parse(const std::vector<std::string>& args) {
  std::vector<SweepAxis> axes;
  auto keys = train_config_keys();
  for (const auto& a : args) {
    size_t eq = a.find('=');
    check(eq != std::string::npos && eq > 0 && eq + 1 < a.size(), "sweep axis '" + a + "' is not key=v1,v2,...",
          "write e.g. -m model.d_model=16,32,64 task.n=20,50 seed=0,1");
    SweepAxis ax{a.substr(0, eq), {}};
    for (const auto& k : axis_keys(ax.key))
      check(std::find(keys.begin(), keys.end(), k) != keys.end(), "sweep axis '" + a + "': unknown key '" + k + "'",
            "sweep over config keys such as model.d_model, task.n, seed (docs/training.md lists them)");
    for (const auto& axis : axes)
      check(axis.key != ax.key, "sweep axis key '" + ax.key + "' is given twice", "give each key once, with all its values");
    std::string rest = a.substr(eq + 1), cur;
    int depth = 0;  // commas inside [..] belong to a list value
    for (char c : rest + ",") {
      if (c == '[') ++depth;
      if (c == ']') --depth;
      if (c == ',' && depth == 0) {
        check(!cur.empty(), "sweep axis '" + a + "' has an empty value", "remove the extra comma");
        ax.values.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    for (const auto& v : ax.values)
      check(split(v, '/').size() == axis_keys(ax.key).size(), "sweep axis '" + a + "': value '" + v + "' does not give one "
            "value per key", "a zipped axis k1,k2=a/b,c/d gives k1 and k2 together: one '/'-separated value per key");
    axes.push_back(ax);
  }
  return axes;
}

std::vector<std::string> axis_keys(const std::string& key) { return split(key, ','); }

std::vector<std::string> axis_overrides(const std::string& key, const std::string& value) {
  auto keys = axis_keys(key);
  if (keys.size() == 1) return {key + "=" + value};
  auto values = split(value, '/');
  std::vector<std::string> out;
  for (size_t i = 0; i < keys.size(); ++i) out.push_back(keys[i] + "=" + values.at(i));
  return out;
}

namespace {

std::string name_part(const std::string& key, const std::string& value) {
  std::string s = key + "=" + value;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == '-' || c == ',')) c = '-';
  return s;
}

}  // namespace

std::vector<SweepJob> sweep_expand(const SweepSpec& spec) {
  std::vector<SweepJob> jobs(1);
  jobs[0].overrides = spec.base_overrides;
  for (const auto& ax : spec.axes) {
    std::vector<SweepJob> next;
    for (const auto& j : jobs)
      for (const auto& v : ax.values) {
        SweepJob k = j;
        for (const auto& o : axis_overrides(ax.key, v)) k.overrides.push_back(o);
        k.name += (k.name.empty() ? "" : "_") + name_part(ax.key, v);
        next.push_back(k);
      }
    jobs = next;
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].index = static_cast<int64_t>(i);
    if (jobs[i].name.empty()) jobs[i].name = "run";
  }
  return jobs;
}

static std::vector<std::string> job_argv(const SweepSpec& spec, const SweepJob& job) {
  std::vector<std::string> argv = {self_exe(), "--threads", std::to_string(spec.threads_per_job), "--quiet", "train",
                                   spec.config};
  argv.insert(argv.end(), job.overrides.begin(), job.overrides.end());
  argv.insert(argv.end(), {"--out", spec.out + "/" + job.name});
  return argv;
}

void sweep_prepare(const SweepSpec& spec, const std::vector<SweepJob>& jobs, bool write) {
  std::vector<std::string> problems;
  for (const auto& j : jobs) {
    try {
      train_config_read(spec.config, j.overrides);
    } catch (const Error& e) {
      problems.push_back("job " + j.name + ": " + e.message());
    }
  }
  if (!problems.empty()) {
    std::string msg = "the sweep has invalid jobs:";
    for (const auto& p : problems) msg += "\n  - " + p;
    throw Error(msg, "fix the config or the -m values (each job is the config plus its key=value overrides)");
  }
  if (!write) return;
  dir_create(spec.out);
  nlohmann::json j = {{"config", spec.config}, {"base_overrides", spec.base_overrides},
                      {"threads_per_job", spec.threads_per_job}, {"axes", nlohmann::json::array()},
                      {"jobs", nlohmann::json::array()}};
  for (const auto& ax : spec.axes) j["axes"].push_back({{"key", ax.key}, {"values", ax.values}});
  std::string commands;
  for (const auto& job : jobs) {
    j["jobs"].push_back({{"index", job.index}, {"name", job.name}, {"overrides", job.overrides}});
    for (const auto& a : job_argv(spec, job)) commands += "'" + a + "' ";
    commands += "\n";
  }
  std::error_code ec;
  if (fs::exists(spec.out + "/sweep.json", ec)) {
    auto old = nlohmann::json::parse(file_read_text(spec.out + "/sweep.json"), nullptr, false);
    check(!old.is_discarded() && old["jobs"] == j["jobs"] && old["config"] == j["config"],
          spec.out + " already holds a different sweep (its sweep.json has other jobs or another config)",
          "use a fresh --out directory, or the same config and -m axes to continue that sweep");
  }
  file_write_atomic(spec.out + "/sweep.json", j.dump(1) + "\n");
  file_write_atomic(spec.out + "/commands.txt", commands);
}

void sweep_load(const std::string& dir, SweepSpec& spec, std::vector<SweepJob>& jobs) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(file_read_text(dir + "/sweep.json"));
    spec.config = j.at("config").get<std::string>();
    spec.base_overrides = j.at("base_overrides").get<std::vector<std::string>>();
    spec.threads_per_job = j.at("threads_per_job").get<int>();
    spec.out = fs::absolute(dir).lexically_normal().string();
    spec.axes.clear();
    for (const auto& a : j.at("axes")) spec.axes.push_back({a.at("key"), a.at("values")});
    jobs.clear();
    for (const auto& k : j.at("jobs")) jobs.push_back({k.at("index"), k.at("name"), k.at("overrides")});
  } catch (const nlohmann::json::exception& e) {
    throw Error(dir + "/sweep.json is malformed: " + e.what(), "re-create the sweep with `attnlab sweep CONFIG -m ...`");
  }
}

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  check(!ec, "cannot find this program's path (/proc/self/exe): " + ec.message(), "run attnlab on Linux");
  return p.string();
}

bool sweep_job_finished(const SweepSpec& spec, const SweepJob& job) {
  std::error_code ec;
  return fs::exists(spec.out + "/" + job.name + "/results.json", ec);
}

namespace {

pid_t job_spawn(const SweepSpec& spec, const SweepJob& job) {
  const std::string run = spec.out + "/" + job.name;
  dir_create(run);
  std::vector<std::string> args = job_argv(spec, job);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string log = run + "/train.log";
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  check(rc == 0, "cannot start job " + job.name + ": " + std::strerror(rc), "check that " + args[0] + " is executable");
  return pid;
}

JobOutcome job_record(const SweepSpec& spec, const SweepJob& job, int status, double seconds, bool quiet) {
  const std::string run = spec.out + "/" + job.name;
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && sweep_job_finished(spec, job);
  std::string how = WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                  : WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status)) : "status " + std::to_string(status);
  nlohmann::json st = {{"status", ok ? "done" : "failed"}, {"how", how}, {"seconds", seconds}};
  file_write_atomic(run + "/job_status.json", st.dump() + "\n");
  if (!quiet || !ok)
    std::cout << "job " << job.index << " " << job.name << ": " << (ok ? "done" : "FAILED (" + how + ", see " + run + "/train.log)")
              << " in " << static_cast<int64_t>(seconds * 10) / 10.0 << " s\n" << std::flush;
  return ok ? JobOutcome::Done : JobOutcome::Failed;
}

}  // namespace

JobOutcome sweep_job_run(const SweepSpec& spec, const SweepJob& job, bool quiet) {
  if (sweep_job_finished(spec, job)) return JobOutcome::Skipped;
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = job_spawn(spec, job);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return job_record(spec, job, status, secs, quiet);
}

void sweep_tally(SweepTally& t, const SweepJob& job, JobOutcome o) {
  if (o == JobOutcome::Done) ++t.done;
  if (o == JobOutcome::Skipped) ++t.skipped;
  if (o == JobOutcome::Failed) {
    ++t.failed;
    t.failed_names.push_back(job.name);
  }
}

SweepTally sweep_run_local(const SweepSpec& spec, const std::vector<SweepJob>& jobs, int parallel, bool quiet) {
  SweepTally tally;
  std::map<pid_t, std::pair<const SweepJob*, std::chrono::steady_clock::time_point>> running;
  size_t next = 0;
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && static_cast<int>(running.size()) < parallel) {
      const SweepJob& job = jobs[next++];
      if (sweep_job_finished(spec, job)) {
        sweep_tally(tally, job, JobOutcome::Skipped);
        continue;
      }
      running[job_spawn(spec, job)] = {&job, std::chrono::steady_clock::now()};
    }
    if (running.empty()) break;
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("waiting for sweep jobs failed: ") + std::strerror(errno), "report this as a bug");
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.second).count();
    sweep_tally(tally, *it->second.first, job_record(spec, *it->second.first, status, secs, quiet));
    running.erase(it);
  }
  return tally;
}

std::string sweep_slurm_script(const SweepSpec& spec, const std::vector<SweepJob>& jobs, int max_parallel) {
  std::string path = spec.out + "/sweep.sbatch";
  std::string s = "#!/bin/bash\n# attnlab sweep as a Slurm job array: task i runs job i of sweep.json.\n";
  s += "# Submit: sbatch " + path + "   (finished jobs are skipped; interrupted ones resume)\n";
  s += "#SBATCH --job-name=attnlab-sweep\n";
  s += "#SBATCH --array=0-" + std::to_string(jobs.size() - 1) +
       (max_parallel > 0 ? "%" + std::to_string(max_parallel) : "") + "\n";
  s += "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=" + std::to_string(spec.threads_per_job) + "\n";
  s += "#SBATCH --output=" + spec.out + "/slurm-%A_%a.out\n";
  s += "set -euo pipefail\n";
  s += "exec '" + self_exe() + "' --threads " + std::to_string(spec.threads_per_job) + " sweep run-job '" + spec.out +
       "' \"$SLURM_ARRAY_TASK_ID\"\n";
  file_write_atomic(path, s);
  fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  return path;
}

}  // namespace attnlab
