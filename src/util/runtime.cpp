#include "util/runtime.h"

#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <sched.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>

#include "util/error.h"

namespace attnlab {

void runtime_malloc_tune() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 256 << 20);
}

int runtime_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

int runtime_threads_set(int requested) {
  check(requested >= 0, "--threads must be >= 0 (got " + std::to_string(requested) + ")",
        "use --threads 0 for all cores, or a positive count");
  int n = requested == 0 ? runtime_cores() : requested;
  std::string s = std::to_string(n);
  setenv("OMP_NUM_THREADS", s.c_str(), 1);
  setenv("OPENBLAS_NUM_THREADS", s.c_str(), 1);
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
  return n;
}

namespace {
int find_blas(struct dl_phdr_info* info, size_t, void* data) {
  std::string name = info->dlpi_name ? info->dlpi_name : "";
  if (name.find("libblas.so") != std::string::npos) {
    char buf[PATH_MAX];
    *static_cast<std::string*>(data) = realpath(name.c_str(), buf) ? std::string(buf) : name;
    return 1;
  }
  return 0;
}
}  // namespace

std::string runtime_blas_path() {
  std::string path;
  dl_iterate_phdr(find_blas, &path);
  return path;
}

bool runtime_blas_is_reference() {
  std::string p = runtime_blas_path();
  return !p.empty() && p.find("openblas") == std::string::npos && p.find("mkl") == std::string::npos &&
         p.find("blis") == std::string::npos && p.find("atlas") == std::string::npos;
}

}  // namespace attnlab
