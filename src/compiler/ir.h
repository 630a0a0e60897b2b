// The compiler's intermediate representation: what the stages in compile.cpp build and hand on.
//   Source  — a block of residual dimensions written once (embedding, one attention head group, one MLP).
//   Affine  — a linear functional over source components plus a constant; everything a head or an MLP reads
//             from the residual stream (a one-hot indicator, a numerical value, an MLP's input code) is one.
//   Leaf    — a value the program can be evaluated from: tokens, indices, an aggregate's output, a width or
//             length head's raw output, or an MLP's result. Every s-op is a function of finitely many leaves.
//   HeadGroup / MlpBlock — the blocks; each writes one Source and reads the sources in its Affines.
// Stages: 0 = embedding, 2L-1 = attention of layer L, 2L = MLP of layer L (L counts from 1).
// Shapes: N = max_len (RASP positions), the model has n_ctx = N + 1 positions (position 0 = BOS).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rasp/graph.h"

namespace attnlab::compiler {

using rasp::Atom;
using rasp::Node;

struct Term {
  int source = 0;   // Source id
  int comp = 0;     // component within the source
  double coef = 0;
};

// value = Σ coef · resid[source.comp] + c
struct Affine {
  std::vector<Term> terms;
  double c = 0;
  static Affine constant(double v) { Affine a; a.c = v; return a; }
  static Affine unit(int source, int comp) { Affine a; a.terms.push_back({source, comp, 1.0}); return a; }
  void add(const Affine& o, double scale);  // this += scale · o (terms merged)
};

enum class SourceKind { Bos, Tokens, IndicesCat, IndicesNum, Positional, Head, Mlp };

struct Source {
  int id = 0;
  SourceKind kind = SourceKind::Bos;
  std::string name;                  // what it holds, e.g. "reverse", "width(before)#1", "tokens"
  std::vector<std::string> labels;   // [width] residual label per component ("reverse:a", "frac:mean")
  std::vector<double> bos;           // [width] its content at the BOS position (static by construction)
  int block = -1;                    // producing HeadGroup / MlpBlock index (-1 = embedding)
  int stage = 0;                     // when it is written (schedule.cpp)
  int offset = -1;                   // first residual dimension (layout.cpp)
  std::vector<std::vector<double>> pos_rows;  // embedding sources: [n_ctx][width] W_pos rows (row 0 = BOS)
  std::vector<int> vocab_comp;       // Tokens: [V] component of each vocabulary token
  int width() const { return static_cast<int>(labels.size()); }
};

// Per-length value sets: values[n] = every value at inputs of length n (n = 1..N; [0] unused), sorted by
// rasp::AtomKeyLess without duplicates; all = their union.
struct ValueSet {
  std::vector<std::vector<Atom>> per_len;  // [N + 1]
  std::vector<Atom> all;
};

enum class LeafKind { Tokens, Indices, Positional, Aggregate, Width, Length, Mlp, Constant };

struct Leaf {
  int id = 0;
  LeafKind kind = LeafKind::Tokens;
  const Node* node = nullptr;          // the s-op whose value it is (null for width/length raw outputs)
  std::string name;
  ValueSet values;
  // How the residual stream holds it. A leaf offers any of these:
  std::map<Atom, Affine, rasp::AtomKeyLess> ind;  // categorical: indicator of each value (1 or 0)
  std::optional<Affine> num;           // numerical: the value itself
  Affine code;                          // injective code of the value (what an MLP reads)
  std::map<Atom, double, rasp::AtomKeyLess> code_of;  // value -> code
};

// One attention head: scores = λ·Σ_f q_f·k_f; selected keys score 0, the BOS key `bos_level`, others <= -1.
struct Head {
  std::vector<Affine> q, k;            // [F] query / key features (k evaluated at the BOS key is fixed below)
  std::vector<double> k_bos;           // [F] what each key feature must be at the BOS position
  std::vector<Affine> v;               // [Fv] value features
  std::vector<double> v_bos;           // [Fv] value features at the BOS key
  std::vector<std::pair<int, double>> out;  // [Fv] (component of the group's source, coefficient)
  std::string what;                    // "aggregate reverse", "selector_width before #1", ...
  std::string selector;                // the monomial it implements, printed
};

struct HeadGroup {
  std::vector<Head> heads;
  int source = -1;
};

// An MLP that tabulates F(leaf values) along the code u = Σ β_i code_i (injective on reachable tuples,
// neighbouring codes >= 1 apart): F(u) = F(u_0) + Σ_t ΔF_t · ramp(u - a_t), ramp = clamp(2x, 0, 1).
struct MlpBlock {
  Affine u;                             // the code read from the residual stream
  double u_bos = 0;                     // u at the BOS position (to gate every unit off there)
  std::vector<double> base;             // [width] F at the smallest code (written through the "one" unit)
  std::vector<double> thresholds;       // [T] a_t
  std::vector<std::vector<double>> deltas;  // [T][width] ΔF_t in output components
  int source = -1;
  std::string what;
  std::vector<int> inputs;              // leaf ids
};

// A subspace erased after its last reader so that a later source can reuse its dimensions. MLP units at
// `stage` (an even stage: the MLP sub-layer at or after the last read) write -x into each dimension:
// relu(x) - relu(-x) (two units), or relu(x) alone (one unit) where the embedding makes x >= 0 exactly.
// The units are not gated at BOS, so the dimensions hold exactly 0 at every position afterwards.
struct Erasure {
  int source = 0;
  int stage = 0;        // the MLP sub-layer that erases it
  bool nonneg = false;  // one unit per dimension instead of two
  int units = 0;        // MLP units it takes (width or 2·width)
};

struct CompileOptions {
  std::vector<std::string> vocab;      // input tokens as the user types them
  int max_len = 16;                    // N: longest input (the model has N + 1 positions with BOS)
  bool causal = false;                 // causal attention (refused for programs that look ahead)
  std::string bos = "<bos>";
  size_t max_table = 2'000'000;        // largest tuple table one MLP may enumerate
  bool reuse = true;                   // reuse the residual subspaces of dead values (layout.cpp)
};

// The whole compilation state, filled stage by stage.
struct Plan {
  CompileOptions opt;
  const Node* target = nullptr;
  std::string target_name;
  std::vector<Source> sources;
  std::vector<std::unique_ptr<Leaf>> leaves;
  std::vector<HeadGroup> groups;
  std::vector<MlpBlock> mlps;
  std::map<const Node*, ValueSet> values;       // every reachable s-op's value sets
  std::map<const Node*, int> node_leaf;         // s-ops that are leaves themselves (tokens, aggregates)
  bool numeric_output = false;
  std::vector<std::string> out_vocab;           // categorical output values as strings
  std::vector<Atom> out_values;
  std::vector<Affine> out_ind;                  // categorical: [V_out] indicators; numeric: [1] the value
  double lambda = 0;                            // softmax sharpness (query scale)
  int n_layers = 0, d_model = 0, n_heads = 0, d_head = 0, d_mlp = 0;
  struct BlockRef {
    bool head = false;  // HeadGroup (else MlpBlock)
    int index = 0;
  };
  std::vector<BlockRef> order;                  // blocks in creation order (topological)
  std::vector<std::string> residual_labels;
  std::vector<Erasure> erasures;                // subspaces erased for reuse (layout.cpp)
  int d_model_unshared = 0;                     // d_model without reuse (one subspace per source), reported
  std::vector<std::string> warnings;

  int source_add(SourceKind kind, const std::string& name, std::vector<std::string> labels,
                 std::vector<double> bos = {});
  Leaf& leaf_add(LeafKind kind, const Node* node, const std::string& name);
  int resid_index(const Term& t) const { return sources[t.source].offset + t.comp; }
  double bos_value(const Affine& a) const;  // the functional evaluated at the BOS position
};

int stage_first_attn_after(int ready);  // first odd stage > ready
int stage_first_mlp_after(int ready);   // first even stage > ready

}  // namespace attnlab::compiler
