// GoogleTest entry for the LibTorch-free suite (util, rasp, report).
#include <gtest/gtest.h>

#include "util/runtime.h"

int main(int argc, char** argv) {
  attnlab::runtime_malloc_tune();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
