// Bounded Dyck-(k, m) recognition (Bhattamishra et al. 2024, arXiv 2406.09347, §5): strings over k bracket
// types whose brackets are balanced and nest at most m deep. A constant-size RNN recognises it
// (constructions/dyck_rnn.h); a one-layer transformer needs size m·H·p = Ω(n) (already for Dyck-(2, 2)).
//
// Vocabulary: k ≤ 4: "(" ")" "[" "]" "{" "}" "<" ">"; larger k: "(i" ")i". Open bracket of type j has id 2j,
// its close 2j+1. Output vocabulary: "no" (0), "yes" (1). The target is membership of the whole string.
// Worked example, k = 2, m = 2, n = 6:  "( [ ] ) ( )"  → ids [0 2 3 1 0 1]  target "yes" (1): balanced, depth 2
//                                        "( [ ( ) ] )"  → depth 3 > m                target "no"  (0)
// Negatives are near misses, one of three kinds in turn: one bracket changed, a balanced string that nests
// exactly one level too deep, and an unbalanced string (one close turned into an open). Every negative is
// checked with dyck_member, so a negative is never a member.
#pragma once

#include <cstdint>

#include "tasks/task.h"

namespace attnlab {

struct DyckSpec {
  int64_t k = 2;  // bracket types (>= 1)
  int64_t m = 2;  // maximal nesting depth (>= 1)
};

void dyck_validate(const DyckSpec& spec);
std::vector<std::string> dyck_vocab(const DyckSpec& spec);
std::vector<std::string> dyck_vocab_out();  // {"no", "yes"}
// Membership in Dyck-(k, m); ids outside 0..2k-1 are never members. The empty string is a member.
bool dyck_member(const DyckSpec& spec, const std::vector<int64_t>& ids);
// Maximal nesting depth reached while reading (ignores mismatches).
int64_t dyck_depth(const std::vector<int64_t>& ids);
// `count` strings of length n (even, >= 2), half members and half near-miss non-members (alternating).
TaskBatch dyck_sample(const DyckSpec& spec, int64_t n, int64_t count, uint64_t seed);
// Every string of length 1..max_len over the 2k brackets, target = membership; Error above `limit` strings.
TaskBatch dyck_enumerate(const DyckSpec& spec, int64_t max_len, int64_t limit = 1 << 24);
// One uniformly-stepped member of length n (even): open with probability 1/2 whenever both moves are legal.
std::vector<int64_t> dyck_sample_member(const DyckSpec& spec, int64_t n, TaskRng& rng);

}  // namespace attnlab
