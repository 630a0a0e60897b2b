// The one precompiled header through which LibTorch enters the build (~20 s and ~1.2 GB per TU otherwise).
#pragma once
#include <torch/torch.h>
