// `attnlab sweep --launcher mpi` under `mpirun -np K`: rank 0 is the dispatcher, ranks 1..K-1 are workers.
// A worker sends {finished job index or -1, outcome}; rank 0 answers with the next unfinished job index, or
// -1 to stop. Jobs run as child processes (sweep_job_run), so a failing job is recorded and the worker carries
// on. With one rank, that rank runs every job itself. Built only with MPI (ATTNLAB_HAVE_MPI; no LibTorch here).
#include "train/sweep.h"

#include <iostream>

#include "util/error.h"

#ifdef ATTNLAB_HAVE_MPI
#include <mpi.h>
#endif

namespace attnlab {

#ifdef ATTNLAB_HAVE_MPI

namespace {

constexpr int kTagRequest = 1, kTagAssign = 2;

SweepTally dispatch(const SweepSpec& spec, const std::vector<SweepJob>& jobs, int size) {
  SweepTally tally;
  size_t next = 0;
  int active = size - 1;
  while (active > 0) {
    long long msg[2];
    MPI_Status st;
    MPI_Recv(msg, 2, MPI_LONG_LONG, MPI_ANY_SOURCE, kTagRequest, MPI_COMM_WORLD, &st);
    if (msg[0] >= 0) sweep_tally(tally, jobs.at(msg[0]), static_cast<JobOutcome>(msg[1]));
    while (next < jobs.size() && sweep_job_finished(spec, jobs[next])) sweep_tally(tally, jobs[next++], JobOutcome::Skipped);
    long long assign = next < jobs.size() ? static_cast<long long>(next++) : -1;
    if (assign < 0) --active;
    MPI_Send(&assign, 1, MPI_LONG_LONG, st.MPI_SOURCE, kTagAssign, MPI_COMM_WORLD);
  }
  return tally;
}

void work(const SweepSpec& spec, const std::vector<SweepJob>& jobs, bool quiet) {
  long long msg[2] = {-1, 0};
  while (true) {
    MPI_Send(msg, 2, MPI_LONG_LONG, 0, kTagRequest, MPI_COMM_WORLD);
    long long index = -1;
    MPI_Recv(&index, 1, MPI_LONG_LONG, 0, kTagAssign, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (index < 0) return;
    msg[0] = index;
    msg[1] = static_cast<long long>(sweep_job_run(spec, jobs.at(index), quiet));
  }
}

}  // namespace

SweepTally sweep_run_mpi(const SweepSpec& spec, const std::vector<SweepJob>& jobs, bool quiet, bool& is_root) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) MPI_Init(nullptr, nullptr);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  is_root = rank == 0;
  SweepTally tally;
  if (size == 1) {
    sweep_prepare(spec, jobs);
    for (const auto& j : jobs) sweep_tally(tally, j, sweep_job_run(spec, j, quiet));
  } else if (rank == 0) {
    sweep_prepare(spec, jobs);
    std::cout << "mpi: rank 0 dispatches " << jobs.size() << " jobs to " << size - 1 << " worker rank(s)\n" << std::flush;
    tally = dispatch(spec, jobs, size);
  } else {
    work(spec, jobs, quiet);
  }
  MPI_Finalize();
  return tally;
}

#else

SweepTally sweep_run_mpi(const SweepSpec&, const std::vector<SweepJob>&, bool, bool&) {
  throw Error("this attnlab was built without MPI, so --launcher mpi is unavailable",
              "install Open MPI (scripts/install-deps: openmpi-bin libopenmpi-dev) and rebuild, or use --launcher local");
}

#endif

}  // namespace attnlab
