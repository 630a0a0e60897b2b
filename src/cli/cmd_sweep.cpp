// `attnlab sweep CONFIG -m key=v1,v2 ... --out DIR [--jobs K] [--launcher local|mpi|slurm]`,
// `attnlab sweep summarize DIR` and `attnlab sweep run-job DIR INDEX` (one job; what Slurm array tasks run).
#include <filesystem>
#include <iostream>

#include "cli/cli.h"
#include "train/sweep.h"
#include "util/error.h"

namespace attnlab {

namespace {

struct SweepArgs {
  std::string config, out, launcher = "local", dir;
  std::vector<std::string> axes, overrides;
  int jobs = 1, threads_per_job = 1, max_parallel = 0;
  int64_t index = -1;
  SummaryOptions summary;
};

std::string absolute(const std::string& p) { return std::filesystem::absolute(p).lexically_normal().string(); }

int finish(const SweepTally& t, const std::string& out) {
  std::cout << "sweep " << out << ": " << t.done << " done, " << t.skipped << " skipped (finished before), " << t.failed
            << " failed\n";
  if (t.failed == 0) return 0;
  std::string names;
  for (const auto& n : t.failed_names) names += " " + n;
  throw Error(std::to_string(t.failed) + " sweep job(s) failed:" + names,
              "see each job's train.log in " + out + "; rerun the same sweep command to retry them");
}

void sweep_command(const SweepArgs& a) {
  check(!a.config.empty(), "sweep needs a CONFIG file (or the summarize / run-job subcommand)",
        "attnlab sweep CONFIG.toml -m model.d_model=16,32 --out DIR");
  check(!a.out.empty(), "sweep needs --out DIR", "name the directory that will hold one run directory per job");
  check(!a.axes.empty(), "sweep needs at least one -m key=v1,v2,... axis", "e.g. -m model.d_model=16,32 seed=0,1");
  SweepSpec spec;
  spec.config = absolute(a.config);
  spec.base_overrides = a.overrides;
  spec.axes = sweep_axes_parse(a.axes);
  spec.out = absolute(a.out);
  spec.threads_per_job = a.threads_per_job;
  auto jobs = sweep_expand(spec);
  bool quiet = cli_globals().quiet;
  if (a.launcher == "mpi") {
    bool root = true;
    sweep_prepare(spec, jobs, /*write=*/false);  // every rank validates; rank 0 writes sweep.json after MPI_Init
    SweepTally t = sweep_run_mpi(spec, jobs, quiet, root);
    if (root) finish(t, spec.out);
    return;
  }
  sweep_prepare(spec, jobs);
  std::cout << "sweep " << spec.out << ": " << jobs.size() << " jobs (" << spec.out << "/sweep.json)\n" << std::flush;
  if (a.launcher == "slurm") {
    std::string script = sweep_slurm_script(spec, jobs, a.max_parallel);
    std::cout << "wrote " << script << "\nsubmit it with: sbatch " << script << "\n";
    return;
  }
  finish(sweep_run_local(spec, jobs, a.jobs, quiet), spec.out);
}

}  // namespace

void cmd_sweep_register(CLI::App& app) {
  static SweepArgs a;
  auto* sweep = app.add_subcommand("sweep", "run a grid of training jobs (local pool, Open MPI or Slurm); resumable");
  sweep->add_option("config", a.config, "TOML training config");
  sweep->add_option("-m,--multirun", a.axes, "axes: key=v1,v2,... (one run directory per combination)");
  sweep->add_option("--set", a.overrides, "key=value applied to every job");
  sweep->add_option("--out", a.out, "sweep directory");
  sweep->add_option("--jobs", a.jobs, "local launcher: jobs at once")->check(CLI::PositiveNumber);
  sweep->add_option("--threads-per-job", a.threads_per_job, "threads of each job")->check(CLI::PositiveNumber);
  sweep->add_option("--launcher", a.launcher, "local | mpi (under mpirun) | slurm (writes an sbatch array script)")
      ->check(CLI::IsMember({"local", "mpi", "slurm"}));
  sweep->add_option("--max-parallel", a.max_parallel, "slurm: array tasks at once (%N); 0 = no limit");
  sweep->callback([sweep] {
    if (sweep->get_subcommands().empty()) sweep_command(a);
  });

  auto* sum = sweep->add_subcommand("summarize", "collect a sweep's results: summary.csv, summary.json, summary.html");
  sum->add_option("dir", a.dir, "sweep directory")->required();
  sum->add_option("--x", a.summary.x, "heatmap column axis (default: the first -m key)");
  sum->add_option("--y", a.summary.y, "heatmap row axis (default: the second -m key)");
  sum->add_option("--metric", a.summary.metric, "exact | token_acc | train_loss");
  sum->add_option("--length-index", a.summary.length_index, "which eval length (default: the last)");
  sum->callback([] {
    auto s = sweep_summarize(a.dir, a.summary);
    std::cout << "summary of " << s["rows"].size() << " jobs: " << a.dir << "/summary.csv, " << a.dir
              << "/summary.json, " << a.dir << "/summary.html\n";
  });

  auto* one = sweep->add_subcommand("run-job", "run job INDEX of a prepared sweep (what Slurm array tasks call)");
  one->add_option("dir", a.dir, "sweep directory")->required();
  one->add_option("index", a.index, "job index (0-based)")->required();
  one->callback([] {
    SweepSpec spec;
    std::vector<SweepJob> jobs;
    sweep_load(a.dir, spec, jobs);
    check(a.index >= 0 && a.index < static_cast<int64_t>(jobs.size()),
          "job index " + std::to_string(a.index) + " is out of range", "the sweep has " + std::to_string(jobs.size()) + " jobs");
    SweepTally t;
    sweep_tally(t, jobs[a.index], sweep_job_run(spec, jobs[a.index], cli_globals().quiet));
    finish(t, spec.out);
  });
}

}  // namespace attnlab
