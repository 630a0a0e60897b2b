// Variable-chain retrieval (Musat 2024, "Mechanism and Emergence of Stacked Attention Heads in Multi-Layer
// Transformers", arXiv 2411.12118): assignments "A = 7, B = A, C = B, ..." with distractors mixed in, then a
// question about the last variable of a chain of D retrieval steps. A transformer needs >= log3(2D) layers.
//
// Token format (the minimal formulation; one statement = two tokens "lhs rhs", read "lhs = rhs"):
//   statements s = 0..S-1 at positions 2s (lhs, always a variable) and 2s+1 (rhs, a variable or a value),
//   then "?" at position 2S and the query variable at 2S+1.  T = 2S + 2.
// Vocabulary ids: the W values first ("0".."9" when W <= 10, else "n0".."n{W-1}"), then the K variables
// ("A".."Z" when K <= 26, else "x0".."x{K-1}"), then "?". Output vocabulary: the W values (same ids).
// Every variable is the lhs of exactly one statement, so every variable has exactly one value.
// The main chain u_1..u_D: (u_1 = c), (u_2 = u_1), ..., (u_D = u_{D-1}); the query is u_D and the answer c.
// Worked example, D = 3, one distractor chain of length 2, W = 10, K = 26, statements unshuffled:
//   "C 4  D C  E D  A 9  B A  ?  E"   -> answer "4"   (E = D = C = 4; the distractor chain is A = 9, B = A)
//   ids: C=12 4=4 D=13 C=12 E=14 D=13 A=10 9=9 B=11 A=10 ?=36 E=14
// With shuffle on, the statements appear in a random order (the chain links are then found by content, not
// by position).
//
// Fused encoding (spec.fused): one token per statement, "lhs=rhs", and one query token "?X"; T = S + 1. The same
// draws as the pairs encoding (same seed, same statements in the same order). Ids: the W values (output ids,
// never inputs), then the statements W + lhs*(W+K) + rho (rho = the rhs's pairs id: a value v, or W + k for
// variable k), then the queries W + K*(W+K) + k. The example above, fused:
//   "C=4  D=C  E=D  A=9  B=A  ?E"   -> answer "4"
// Here a statement can read the statement defining its rhs in one attention layer, so D steps need exactly
// ceil(log3(2D)) layers (Musat's bound; the pairs encoding needs one more layer to move each lhs onto its rhs:
// docs/retrieval.md "Depth").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace attnlab {

enum class Supervision { FinalAnswer, Curriculum };  // curriculum: every variable position is also scored

struct RetrievalSpec {
  int64_t depth = 4;              // D: retrieval steps of the main chain (>= 1)
  int64_t distractor_chains = 2;  // extra chains (each with its own value; values may repeat)
  int64_t distractor_len = 0;     // length of each distractor chain; 0 = D
  int64_t distractor_assign = 0;  // extra single assignments "X = value" (chains of length 1)
  int64_t variables = 26;         // K: variable alphabet size (>= total number of statements)
  int64_t values = 10;            // W: value alphabet size (>= 2)
  bool shuffle = true;            // shuffle the statement order
  bool fused = false;             // fused encoding: one token "lhs=rhs" per statement, the query one token "?X"
  bool query_mixed = false;       // the query asks for the main chain's variable at a uniform depth 1..D (drawn
                                  // after the shuffle) instead of its top: a query curriculum; the answer is the same
};

// One instance with the metadata a verifier, a curriculum loss and a head classifier need.
struct RetrievalInstance {
  std::vector<int64_t> tokens;     // [T] input ids
  int64_t answer = 0;              // output id of the query's value
  std::vector<int64_t> stmt_of;    // [T] statement index of each position, -1 for "?" and the query
  std::vector<int64_t> chain_of;   // [T] chain of the position's variable/value (0 = main chain), -1 for "?"
  std::vector<int64_t> depth_of;   // [T] depth of the statement in its chain (1 = the value assignment)
  std::vector<int64_t> def_pos;    // [T] for a position holding a variable (lhs, rhs or query): the position
                                   //     of the lhs token that defines it; -1 otherwise
  std::vector<int64_t> value_of;   // [T] output id of the resolved value at each variable or value position,
                                   //     -1 at "?"
  // Fused encoding: position s is statement s (stmt_of = s, chain_of/depth_of its statement's), def_pos = the
  // position of the statement defining its rhs variable (-1 for a value rhs), value_of = its lhs's value; the
  // query (T - 1) as above.
  bool fused = false;
};

void retrieval_validate(const RetrievalSpec& spec);  // Error naming the field, with a HINT
std::vector<std::string> retrieval_vocab(const RetrievalSpec& spec);
std::vector<std::string> retrieval_vocab_out(const RetrievalSpec& spec);
int64_t retrieval_seq_len(const RetrievalSpec& spec);  // T = 2S + 2 (fused: S + 1)
RetrievalInstance retrieval_instance(const RetrievalSpec& spec, TaskRng& rng);
// `count` instances as a TaskBatch (target = answer), seeded; same seed, same bytes.
TaskBatch retrieval_sample(const RetrievalSpec& spec, int64_t count, uint64_t seed);
// Human-readable text of an instance: "C=4, D=C, E=D, A=9, B=A. E?".
std::string retrieval_text(const RetrievalSpec& spec, const RetrievalInstance& inst);

// The metadata of an instance rebuilt from its tokens alone (e.g. the probe token strings of a training run's
// attention snapshots): stmt_of, depth_of, def_pos, value_of, answer as retrieval_instance() gives them;
// chain_of: 0 for the query's chain, the other chains numbered 1, 2, ... in the order of their value
// statements ("X = value") in the sequence (= the generator's numbering when shuffle is off; with shuffle on,
// the same partition of positions into chains, possibly renumbered). Error (naming the position and token,
// every problem listed) unless the tokens are an instance of spec: T = retrieval_seq_len(spec), every
// statement "variable variable|value", "? variable" at the end, every variable defined once, no undefined rhs,
// no cycle, no variable used as the rhs of two statements (chains do not branch), the query the top of its
// chain (unless spec.query_mixed: then any variable of it), and that chain D = spec.depth statements long.
RetrievalInstance retrieval_metadata(const RetrievalSpec& spec, const std::vector<int64_t>& tokens);
// The same from token strings (retrieval_vocab(spec) spellings, as in the snapshot "tokens" metadata).
RetrievalInstance retrieval_metadata(const RetrievalSpec& spec, const std::vector<std::string>& tokens);

// Implicit-curriculum targets from the tokens alone (what the trainer sees): [T] the output id of the value of
// the variable at each variable position whose value is determined by the prefix tokens[0..t] (the query, and
// every rhs variable whose chain is complete among the earlier statements), -1 elsewhere (lhs positions: their
// definition is not complete yet; value and "?" positions). The final-answer target is the last entry.
// Worked example (D = 3, shuffled): "B A  A 9  C B  ?  C": t=1 (rhs A) -1, A's definition comes later;
// t=5 (rhs B) 9 (B = A = 9 is complete); t=7 (query C) 9.  Error when the tokens are no instance of spec.
// prefix = false: the whole input determines every value (bidirectional models): every variable position, lhs
// included, gets its variable's value (the example above: 9 9 9 . 9 9 . 9; the value 9 and "?" get none).
// Fused ("B=A  A=9  C=B  ?C"): a statement's target is its lhs's value; prefix = true scores it where its rhs is a
// value or resolved by the earlier statements (. 9 9 9), prefix = false everywhere (9 9 9 9).
std::vector<int64_t> retrieval_targets(const RetrievalSpec& spec, const std::vector<int64_t>& tokens,
                                       bool prefix = true);

// ---- Conditional retrieval: facts and rules ------------------------------------------------------------------
// People (variables), places (values), classes and relations. Statements are three tokens each:
//   "Y lives P"       Y lives in place P                 "Y mother X"   Y's mother is X
//   "Y is wizard"     Y is a wizard                      "wizard with mother"   wizards live with their mothers
// then "? Y" (where does Y live?). T = 3S + 2. Resolution: lives(Y) = P for a fact "Y lives P"; otherwise Y
// has a class c, the rule of c names a relation r, and lives(Y) = lives(r(Y)). Every person has exactly one of
// a residence fact or a class; every class has exactly one rule (all rules are stated; classes get distinct
// relations while classes <= relations, so the class decides which relation to follow).
// The main chain y_0..y_D: "y_0 lives P", and for i = 1..D "y_i is c_i", "y_i r(c_i) y_{i-1}", plus one
// distractor relation "y_i r' z" with r' != r(c_i) to a distractor person z (who lives elsewhere, or not):
// answering needs the rule of y_i's class to pick the right relation, D times. Query y_D, answer P.
// Vocabulary ids: W places ("p0".."p{W-1}"), K people ("A".."Z" when K <= 26, else "x0".."x{K-1}"), the classes
// (wizard elf giant troll dwarf pixie), the relations (mother father teacher friend sister uncle), then
// "lives" "is" "with" "?". Output vocabulary: the W places.
// Worked example, D = 1, 1 distractor person, 2 classes, 2 relations, unshuffled, K = 26, W = 4:
//   "A lives p2  C lives p0  B is elf  B father A  B mother C  wizard with mother  elf with father  ?  B"
//   -> "p2": B is an elf, elves live with their fathers, B's father is A, A lives in p2 (B's mother C is a
//   distractor: following the wizard rule would give p0).
struct ConditionalSpec {
  int64_t depth = 2;        // D: rule applications from the query to the residence fact (>= 1)
  int64_t distractors = 2;  // distractor people, each with a residence fact (>= 1: the wrong relations point there)
  int64_t classes = 2;      // class names used (2..6); each gets one rule
  int64_t relations = 2;    // relation names used (2..6)
  int64_t people = 26;      // K (>= D + 1 + distractors)
  int64_t places = 4;       // W (>= 2)
  bool shuffle = true;      // shuffle the statement order
};

struct ConditionalInstance {
  std::vector<int64_t> tokens;  // [T] input ids
  int64_t answer = 0;           // place id
  std::vector<int64_t> chain;   // [D + 1] people y_0..y_D (input ids); y_D is the query
};

void conditional_validate(const ConditionalSpec& spec);
std::vector<std::string> conditional_vocab(const ConditionalSpec& spec);
std::vector<std::string> conditional_vocab_out(const ConditionalSpec& spec);
int64_t conditional_seq_len(const ConditionalSpec& spec);  // T = 3S + 2
ConditionalInstance conditional_instance(const ConditionalSpec& spec, TaskRng& rng);
TaskBatch conditional_sample(const ConditionalSpec& spec, int64_t count, uint64_t seed);
// "A lives in p2. B's father is A. elves live with their fathers. B is an elf. Where does B live?"
// `places` / `people` (optional) rename the places and people, e.g. city and first names for LLM prompts.
std::string conditional_text(const ConditionalSpec& spec, const std::vector<int64_t>& tokens,
                             const std::vector<std::string>& places = {},
                             const std::vector<std::string>& people = {});
// Curriculum targets as retrieval_targets: at every person position whose residence is determined by the
// complete statements of the prefix, -1 elsewhere; the last entry is the answer.
// prefix = false: every person position gets its residence (all statements count).
std::vector<int64_t> conditional_targets(const ConditionalSpec& spec, const std::vector<int64_t>& tokens,
                                         bool prefix = true);

}  // namespace attnlab
