// GoogleTest entry for the LibTorch suite (model, constructions, ...): same start-up as the CLI.
#include <gtest/gtest.h>

#include "model/device.h"
#include "util/runtime.h"

int main(int argc, char** argv) {
  attnlab::runtime_malloc_tune();
  attnlab::torch_threads_set(attnlab::runtime_threads_set(0));
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
