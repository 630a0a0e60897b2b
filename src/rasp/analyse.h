// How big a transformer a RASP program needs. Each node gets a stage in the sequence of sub-layers
// attn 1, mlp 1, attn 2, mlp 2, ... (stage 2L-1 = attention of layer L, 2L = its MLP, 0 = the input):
//   aggregate:      the first attention sub-layer after all its inputs (the selector's keys/queries, values);
//   selector_width: that attention sub-layer plus the MLP right after it (its output is ready at the MLP);
//   map:            an MLP sub-layer after its inputs; a chain of maps shares one MLP (any function of
//                   finitely many values is one MLP), so only attention starts a new one;
//   select / and / or / not: computed inside the attention that uses them (the stage of their inputs).
// Attention depth = the longest chain of aggregate/selector_width; layers = ceil(max stage / 2).
#pragma once

#include <string>
#include <vector>

#include "rasp/graph.h"

namespace attnlab::rasp {

struct Analysis {
  struct Entry {
    const Node* node;
    int stage;  // 0 = input/constant, 2L-1 = attention of layer L, 2L = MLP of layer L
  };
  std::vector<Entry> nodes;            // every reachable node, operands first
  int layers = 0;                      // transformer layers (attention + MLP pairs)
  int attn_layers = 0;                 // layers whose attention has at least one head
  int mlp_layers = 0;                  // layers whose MLP does some work
  std::vector<int> heads_per_layer;    // [layers] aggregates + selector_widths per layer
  std::vector<int> mlps_per_layer;     // [layers] map chains + selector_width MLPs per layer
  int max_heads() const;
};

Analysis analyse(const Node* target);

// "layer 2 attn", "layer 1 mlp", "input".
std::string stage_name(int stage);

// The human-readable report: totals, then one line per layer, then one line per named s-op.
std::string analysis_text(const Analysis& a, const std::string& target_name);

}  // namespace attnlab::rasp
