// Start-up settings: thread counts reach torch and OpenMP, bad values are errors, and the BLAS that LibTorch
// loaded is the OpenMP OpenBLAS that scripts/install-deps selects (the reference BLAS is ~15x slower).
#include <gtest/gtest.h>

#include <cstdlib>

#include "model/device.h"
#include "util/error.h"
#include "util/runtime.h"

using namespace attnlab;

TEST(Runtime, ThreadCountReachesTorchAndOpenMp) {
  int n = runtime_threads_set(1);
  torch_threads_set(n);
  EXPECT_EQ(torch::get_num_threads(), 1);
  EXPECT_STREQ(std::getenv("OMP_NUM_THREADS"), "1");
  int all = runtime_threads_set(0);
  EXPECT_EQ(all, runtime_cores());
  torch_threads_set(all);
  EXPECT_EQ(torch::get_num_threads(), all);
  EXPECT_THROW(runtime_threads_set(-1), Error);
}

TEST(Runtime, FastBlasIsLoaded) {
  torch::mm(torch::ones({2, 2}), torch::ones({2, 2}));  // make sure LibTorch's BLAS is mapped
  std::string path = runtime_blas_path();
  ASSERT_FALSE(path.empty()) << "no libblas.so loaded";
  EXPECT_FALSE(runtime_blas_is_reference()) << "reference BLAS loaded: " << path
                                            << " — run scripts/install-deps (selects libopenblas0-openmp)";
}

TEST(Runtime, DtypeAndDeviceStrings) {
  EXPECT_EQ(dtype_from_string("f32"), torch::kFloat32);
  EXPECT_EQ(dtype_from_string("f64"), torch::kFloat64);
  EXPECT_THROW(dtype_from_string("f16"), Error);
  EXPECT_EQ(device_from_string("cpu").type(), torch::kCPU);
  EXPECT_THROW(device_from_string("tpu"), Error);
  if (!torch::cuda::is_available()) EXPECT_THROW(device_from_string("cuda"), Error);
}
