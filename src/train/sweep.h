// Sweeps: a grid of `key=v1,v2,...` axes over one training config, expanded into one run directory per job
// (DIR/<key=value_...>/) and run by an existing engine: a local process pool (--jobs K), Open MPI (rank 0 hands
// out job indices on request, workers run them; sweep_mpi.cpp) or a Slurm job array (an sbatch script whose
// task i runs `attnlab sweep run-job DIR i`). Each job is a child `attnlab train` process, so a crash fails one
// job, never the sweep; a job whose results.json exists is skipped, an interrupted one resumes from its
// checkpoint. `sweep summarize` collects results.json files into CSV, JSON and an HTML heatmap.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnlab {

struct SweepAxis {
  std::string key;                  // a training-config key, e.g. model.d_model; or zipped keys "k1,k2" whose
                                    // values "a/b" set k1=a and k2=b together (e.g. model.type,model.d_hidden)
  std::vector<std::string> values;  // override values in TOML syntax (bare words allowed for strings)
};

struct SweepJob {
  int64_t index = 0;
  std::string name;                    // run directory name under the sweep directory
  std::vector<std::string> overrides;  // base overrides, then one key=value per axis
};

struct SweepSpec {
  std::string config;                      // absolute path of the TOML config
  std::vector<std::string> base_overrides; // key=value applied to every job
  std::vector<SweepAxis> axes;
  std::string out;                         // sweep directory (absolute)
  int threads_per_job = 1;
};

enum class JobOutcome { Done, Skipped, Failed };

struct SweepTally {
  int64_t done = 0, skipped = 0, failed = 0;
  std::vector<std::string> failed_names;
};

std::vector<SweepAxis> sweep_axes_parse(const std::vector<std::string>& args);  // "key=v1,v2"; Error naming the bad one
std::vector<std::string> axis_keys(const std::string& key);                      // "k1,k2" -> {k1, k2}
std::vector<std::string> axis_overrides(const std::string& key, const std::string& value);  // key=value per key
std::vector<SweepJob> sweep_expand(const SweepSpec& spec);                      // cartesian product, first axis slowest
// Checks every job's config (all errors at once), then (write) writes DIR/sweep.json and DIR/commands.txt.
void sweep_prepare(const SweepSpec& spec, const std::vector<SweepJob>& jobs, bool write = true);
// Reads DIR/sweep.json back (for run-job, summarize and re-runs).
void sweep_load(const std::string& dir, SweepSpec& spec, std::vector<SweepJob>& jobs);

std::string self_exe();  // this program's path (/proc/self/exe)
bool sweep_job_finished(const SweepSpec& spec, const SweepJob& job);
// Runs one job as a child process (stdout+stderr to RUN/train.log), records RUN/job_status.json. Blocking.
JobOutcome sweep_job_run(const SweepSpec& spec, const SweepJob& job, bool quiet);
void sweep_tally(SweepTally& t, const SweepJob& job, JobOutcome o);

SweepTally sweep_run_local(const SweepSpec& spec, const std::vector<SweepJob>& jobs, int parallel, bool quiet);
// Under mpirun: rank 0 hands out jobs, others run them. Returns the tally on rank 0 (empty elsewhere) and
// whether this process is rank 0. Error when attnlab was built without MPI.
SweepTally sweep_run_mpi(const SweepSpec& spec, const std::vector<SweepJob>& jobs, bool quiet, bool& is_root);
// Writes DIR/sweep.sbatch (job array, one task per job) and returns its path.
std::string sweep_slurm_script(const SweepSpec& spec, const std::vector<SweepJob>& jobs, int max_parallel);

// DIR/summary.csv, DIR/summary.json, DIR/summary.html (heatmap of `metric` over axes x and y, averaged over the
// other axes). metric: "exact" / "token_acc" (at eval length index `length_index`) or "train_loss".
struct SummaryOptions {
  std::string x, y;            // axis keys; empty: the first two axes
  std::string metric = "exact";
  int64_t length_index = -1;   // which eval length; -1 = the last (longest usually)
};
nlohmann::json sweep_summarize(const std::string& dir, const SummaryOptions& opt);

}  // namespace attnlab
