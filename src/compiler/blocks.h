// Blocks: turns the program into attention heads and MLPs, on demand from the output backwards.
// Every s-op is a function F of finitely many leaves (tokens, indices, aggregate outputs, width/length head
// outputs, MLP results). A consumer asks for a view of an s-op — categorical (an indicator per value) or
// numerical (its value) — and gets an affine functional of the residual stream, built as cheaply as possible:
//   1. a leaf's own encoding;                       4. F of indices only: a positional feature in W_pos;
//   2. a constant;                                  5. F of one categorical leaf: Σ_v [F(v) = w]·ind_v, free;
//   3. affine arithmetic (+, -, ·const) of views;   6. otherwise one MLP tabulating F over its leaves.
// Attention: aggregate / selector_width / length become head groups (one head per selector monomial, see
// selectors.h), with a BOS key that scores θ (-1/2 for aggregates, 0 for widths) and a BOS query that attends
// only to itself, so every residual dimension holds a statically known value at the BOS position.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <vector>

#include "compiler/ir.h"
#include "compiler/selectors.h"

namespace attnlab::compiler {

struct CatView {
  std::vector<Atom> values;   // [K]
  std::vector<Affine> ind;    // [K] indicator of values[i]
};

// What a head's output is used for: how equal its selected keys' weights must be (scores.cpp).
enum class HeadUse { Count, Mean, Copy };  // selector_width / length, numerical mean, categorical copy

// A selector pair compiled as a numerical score function (scores.cpp).
struct ScorePair {
  std::vector<Affine> q, k;   // [F] query / key features (every key feature is 0 at the BOS key)
  double bos_query_max = 0;   // the largest score this pair gives any key at the BOS query
  std::string how;            // "score ==", "score < (threshold)", ... for reports
};

class BlockBuilder {
 public:
  explicit BlockBuilder(Plan& plan);
  // Builds everything the output needs and the unembedding functionals.
  void build();


  const CatView& cat_view(const Node* n);
  const Affine& num_view(const Node* n);
  Atom eval(const Node* n, const std::map<int, Atom>& assignment);  // F under leaf values
  const std::set<int>& frontier(const Node* n);

 private:
  Plan& p;
  int bos_ = -1, tokens_ = -1, indices_cat_ = -1, indices_num_ = -1;
  std::map<const Node*, CatView> cat_memo_;
  std::map<const Node*, Affine> num_memo_;
  std::map<const Node*, std::set<int>> frontier_memo_;
  std::map<const Node*, std::vector<std::pair<int, int>>> width_terms_;  // selector_width: (coef, leaf)
  std::map<int, Affine> leaf_num_memo_;  // width / length leaves decoded to numbers
  int length_leaf_ = -1;
  std::map<const Node*, int> materialised_;  // s-ops computed by their own MLP to keep a later table small
  // The leaves an MLP for n reads: n's frontier, or — when their combinations exceed kSplitTuples — the
  // operands of n, each materialised by its own MLP first (one more sub-layer, much smaller tables).
  std::set<int> mlp_inputs(const Node* n);
  size_t tuple_count(const std::set<int>& leaves) const;
  // n's leaves, except that a sub-expression with a free affine numerical view (e.g. opens - closes) is one
  // pseudo-leaf read through that functional: a function of a difference tabulates along one number.
  std::set<int> collect_inputs(const Node* n);
  bool cheap_affine(const Node* n);

  int leaf_of(const Node* n);  // leaf-bound s-ops (tokens, indices, aggregate, length head)
  bool leaf_has_ind(Leaf& l);
  void indices_cat_ensure(Leaf& l);
  void indices_num_ensure(Leaf& l);
  int aggregate_build(const Node* n);
  void width_build(const Node* n);
  int length_build();
  Head head_make(const Monomial& m, double bos_level, HeadUse use, const std::string& what);
  // scores.cpp: the pair as a numerical score, or nullopt (then head_make uses the table over views).
  std::optional<ScorePair> score_pair(const Pair& pair, HeadUse use, size_t pairs_in_monomial);
  bool score_pair_total(const Pair& pair);            // some key is selected for every query, at every length
  std::optional<Affine> square_view(const Node* n);    // n² as a free functional (no MLP), or nullopt
  std::map<const Node*, std::optional<Affine>> square_memo_;
  using Fn = std::function<Atom(const std::map<int, Atom>&)>;
  int mlp_build(const std::string& name, const Node* n, const std::set<int>& leaves, const Fn& f, bool categorical);
  int positional_build(const Node* n, bool categorical);
  std::optional<Affine> affine_try(const Node* n);
  void leaf_code_set(Leaf& l);
};

// A numeric value of an atom for numerical views (bools count as 0 / 1); throws on strings.
double atom_number(const Atom& a);

}  // namespace attnlab::compiler
