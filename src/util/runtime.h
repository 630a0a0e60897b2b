// Process start-up shared by every entry point (CLI, tests, benchmarks): glibc allocator tuning,
// explicit thread counts for OpenMP/OpenBLAS, and a check that the fast BLAS is the one loaded.
// Torch's own thread count is set in model/device.h (util stays free of LibTorch).
#pragma once

#include <string>

namespace attnlab {

// mallopt(M_MMAP_THRESHOLD=1<<30, M_TRIM_THRESHOLD=1<<30, M_TOP_PAD=256<<20): measured 20-30% faster and
// much steadier LibTorch training on this machine class. Idempotent.
void runtime_malloc_tune();

// Number of usable cores (sched_getaffinity), at least 1.
int runtime_cores();

// Resolves a --threads value (0 = all cores), exports OMP_NUM_THREADS / OPENBLAS_NUM_THREADS and calls
// openblas_set_num_threads when OpenBLAS is loaded. Throws Error for negative values. Returns the count.
int runtime_threads_set(int requested);

// Path of the loaded libblas, or "" if none is loaded yet.
std::string runtime_blas_path();

// True when the loaded BLAS is the slow reference implementation (Debian's /usr/lib/.../blas/libblas.so.3).
bool runtime_blas_is_reference();

}  // namespace attnlab
