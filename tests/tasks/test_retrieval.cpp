// Retrieval, conditional retrieval, k-hop induction and the LLM prompt sets (src/tasks/retrieval.h, khop.h,
// prompts.h). Oracles: an independent resolver over the tokens (a variable -> rhs map followed to a value),
// the generator's own metadata (def_pos) for the step count, a quadratic brute force of the k-hop definition,
// a text parser of the F1 prompts, and the worked examples of the headers, derived by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include <unistd.h>

#include "tasks/khop.h"
#include "tasks/prompts.h"
#include "tasks/retrieval.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {
namespace {

// lhs variable id -> rhs id over all statements; the query followed until a value (< W). -1 on a cycle or
// a missing definition. Also checks that every variable is defined exactly once.
int64_t resolve_by_map(const RetrievalSpec& spec, const std::vector<int64_t>& tok, bool* unique = nullptr) {
  std::map<int64_t, int64_t> def;
  bool once = true;
  const int64_t T = static_cast<int64_t>(tok.size());
  for (int64_t t = 0; t + 2 < T; t += 2) once &= def.emplace(tok[t], tok[t + 1]).second;
  if (unique) *unique = once;
  int64_t x = tok[T - 1];
  for (size_t steps = 0; steps <= def.size() && x >= spec.values; ++steps) x = def.count(x) ? def[x] : -1;
  return x >= 0 && x < spec.values ? x : -1;
}

std::vector<RetrievalSpec> specs() {
  return {{1, 0, 0, 0, 26, 10, true},  {3, 2, 0, 1, 26, 10, true}, {5, 3, 2, 4, 40, 7, true},
          {8, 1, 0, 0, 26, 2, false},  {16, 2, 16, 3, 64, 10, true}, {4, 5, 1, 0, 26, 12, true}};
}

TEST(RetrievalTask, AnswerIsUniqueAndTakesExactlyDSteps) {
  for (const auto& spec : specs()) {
    TaskRng rng(11);
    for (int i = 0; i < 200; ++i) {
      RetrievalInstance r = retrieval_instance(spec, rng);
      const int64_t T = static_cast<int64_t>(r.tokens.size());
      ASSERT_EQ(T, retrieval_seq_len(spec));
      bool unique = false;
      ASSERT_EQ(resolve_by_map(spec, r.tokens, &unique), r.answer) << retrieval_text(spec, r);
      ASSERT_TRUE(unique) << "a variable is defined twice: " << retrieval_text(spec, r);
      int64_t steps = 0, pos = T - 1;  // follow def_pos: query -> lhs of its definition -> its rhs -> ...
      while (true) {
        ASSERT_GE(r.def_pos[pos], 0);
        ASSERT_EQ(r.tokens[r.def_pos[pos]], r.tokens[pos]) << "def_pos points at another variable";
        const int64_t rhs = r.def_pos[pos] + 1;
        ++steps;
        if (r.tokens[rhs] < spec.values) {
          EXPECT_EQ(r.tokens[rhs], r.answer);
          break;
        }
        pos = rhs;
      }
      EXPECT_EQ(steps, spec.depth);
      EXPECT_EQ(r.value_of[T - 1], r.answer);
      EXPECT_EQ(r.chain_of[T - 1], 0);
      for (int64_t t = 0; t + 2 < T; ++t) EXPECT_EQ(r.stmt_of[t], t / 2);
    }
  }
}

TEST(RetrievalTask, DistractorsNeverAlterTheAnswer) {
  for (const auto& spec : specs()) {
    for (uint64_t seed : {1u, 2u, 3u, 99u}) {
      TaskRng rng(seed), rng_plain(seed);
      RetrievalInstance r = retrieval_instance(spec, rng);
      std::vector<int64_t> main_only;  // the same instance with every distractor statement removed
      for (size_t t = 0; t + 2 < r.tokens.size(); ++t)
        if (r.chain_of[t] == 0) main_only.push_back(r.tokens[t]);
      main_only.insert(main_only.end(), r.tokens.end() - 2, r.tokens.end());
      EXPECT_EQ(resolve_by_map(spec, main_only), r.answer);
      RetrievalSpec plain = spec;  // re-generated without distractors under the same seed
      plain.distractor_chains = plain.distractor_assign = 0;
      RetrievalInstance q = retrieval_instance(plain, rng_plain);
      EXPECT_EQ(q.answer, r.answer);
      EXPECT_EQ(q.tokens.back(), r.tokens.back()) << "the same query variable";
    }
  }
}

TEST(RetrievalTask, CurriculumTargetsAreThePrefixDeterminedValues) {
  // worked example of retrieval.h: "B A  A 9  C B  ?  C" (A=10, B=11, C=12, ?=36)
  RetrievalSpec ex{3, 0, 0, 0, 26, 10, true};
  EXPECT_EQ(retrieval_targets(ex, {11, 10, 10, 9, 12, 11, 36, 12}),
            (std::vector<int64_t>{-1, -1, -1, -1, -1, 9, -1, 9}));
  for (const auto& spec : specs()) {
    TaskRng rng(5);
    for (int i = 0; i < 100; ++i) {
      RetrievalInstance r = retrieval_instance(spec, rng);
      auto tgt = retrieval_targets(spec, r.tokens);
      const int64_t T = static_cast<int64_t>(r.tokens.size());
      ASSERT_EQ(static_cast<int64_t>(tgt.size()), T);
      EXPECT_EQ(tgt[T - 1], r.answer);
      for (int64_t t = 0; t < T - 1; ++t) {
        // determined by the prefix: every definition on the way to the value ends (rhs) at or before t
        int64_t expect = -1;
        if (t % 2 == 1 && r.tokens[t] >= spec.values) {
          bool complete = true;
          for (int64_t p = r.def_pos[t]; complete; p = r.def_pos[p + 1]) {
            complete = p + 1 <= t;
            if (r.tokens[p + 1] < spec.values) break;
          }
          if (complete) expect = r.value_of[t];
        }
        EXPECT_EQ(tgt[t], expect) << "position " << t << " of " << retrieval_text(spec, r);
      }
    }
  }
  EXPECT_EQ(retrieval_targets(ex, {11, 10, 10, 9, 12, 11, 36, 12}, false),
            (std::vector<int64_t>{9, 9, 9, -1, 9, 9, -1, 9}));
  for (const auto& spec : specs()) {  // whole-input targets: the generator's value_of at every variable position
    TaskRng rng(6);
    for (int i = 0; i < 50; ++i) {
      RetrievalInstance r = retrieval_instance(spec, rng);
      auto all = retrieval_targets(spec, r.tokens, false);
      for (size_t t = 0; t < r.tokens.size(); ++t)
        EXPECT_EQ(all[t], r.tokens[t] >= spec.values && r.def_pos[t] >= 0 ? r.value_of[t] : -1) << t;
    }
  }
  EXPECT_THROW(retrieval_targets(ex, {11, 10, 10, 9, 12, 11, 36}), Error);
  EXPECT_THROW(retrieval_targets(ex, {11, 10, 10, 9, 12, 11, 12, 12}), Error);
}

TEST(RetrievalTask, VocabTextSameSeedSameBytesAndBadSpecs) {
  RetrievalSpec spec{3, 1, 2, 0, 26, 10, false};
  auto vocab = retrieval_vocab(spec);
  ASSERT_EQ(vocab.size(), 37u);
  EXPECT_EQ(vocab[4], "4");
  EXPECT_EQ(vocab[12], "C");
  EXPECT_EQ(vocab[36], "?");
  TaskRng rng(3);
  RetrievalInstance r = retrieval_instance(spec, rng);  // unshuffled: main chain first, then the distractor
  EXPECT_LT(r.tokens[1], 10);
  EXPECT_EQ(r.tokens[3], r.tokens[0]);
  EXPECT_EQ(r.tokens[5], r.tokens[2]);
  EXPECT_EQ(r.tokens[11], r.tokens[4]);
  EXPECT_TRUE(std::regex_match(retrieval_text(spec, r), std::regex("([A-Z]=[A-Z0-9], ){4}[A-Z]=[A-Z0-9]\\. [A-Z]\\?")))
      << retrieval_text(spec, r);
  EXPECT_EQ(task_batch_bytes(retrieval_sample(spec, 50, 7)), task_batch_bytes(retrieval_sample(spec, 50, 7)));
  EXPECT_NE(task_batch_bytes(retrieval_sample(spec, 50, 7)), task_batch_bytes(retrieval_sample(spec, 50, 8)));
  EXPECT_EQ(retrieval_vocab({3, 0, 0, 0, 30, 11, true})[11], "x0");
  auto bad = [](RetrievalSpec s, const std::string& field) {
    try {
      retrieval_validate(s);
      ADD_FAILURE() << "no error for " << field;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(field), std::string::npos) << e.message();
      EXPECT_FALSE(e.hint().empty());
    }
  };
  bad({0, 0, 0, 0, 26, 10, true}, "depth");
  bad({3, -1, 0, 0, 26, 10, true}, "distractor_chains");
  bad({3, 1, -2, 0, 26, 10, true}, "distractor_len");
  bad({3, 1, 0, -1, 26, 10, true}, "distractor_assign");
  bad({3, 1, 0, 0, 26, 1, true}, "values");
  bad({8, 3, 0, 0, 26, 10, true}, "variables K = 26 but the instance has 32 statements");
  EXPECT_THROW(retrieval_sample(spec, 0, 1), Error);
}

// lives(Y) by maps: fact, else class -> rule -> relation -> person, repeated.
int64_t conditional_resolve(const ConditionalSpec& spec, const std::vector<std::string>& vocab,
                            const std::vector<int64_t>& tok) {
  std::map<std::pair<std::string, std::string>, std::string> facts;  // (subject, verb) -> object
  for (size_t t = 0; t + 2 < tok.size() - 2; t += 3) facts[{vocab[tok[t]], vocab[tok[t + 1]]}] = vocab[tok[t + 2]];
  std::string who = vocab[tok.back()];
  for (int guard = 0; guard < 10000; ++guard) {
    if (facts.count({who, "lives"})) return vocab_id(vocab, facts[{who, "lives"}]);
    if (!facts.count({who, "is"})) return -1;
    who = facts[{who, facts[{facts[{who, "is"}], "with"}]}];
  }
  return -1;
}

TEST(ConditionalRetrieval, AnswerFollowsTheRulesAndWorkedExample) {
  for (ConditionalSpec spec : {ConditionalSpec{}, ConditionalSpec{1, 1, 2, 2, 26, 2, false},
                               ConditionalSpec{6, 3, 4, 3, 30, 9, true}}) {
    auto vocab = conditional_vocab(spec);
    TaskRng rng(4);
    for (int i = 0; i < 200; ++i) {
      ConditionalInstance c = conditional_instance(spec, rng);
      ASSERT_EQ(static_cast<int64_t>(c.tokens.size()), conditional_seq_len(spec));
      EXPECT_EQ(conditional_resolve(spec, vocab, c.tokens), c.answer);
      EXPECT_EQ(conditional_targets(spec, c.tokens).back(), c.answer);
      EXPECT_EQ(static_cast<int64_t>(c.chain.size()), spec.depth + 1);
      std::set<int64_t> rule_relations;  // "class with relation": distinct while classes <= relations
      for (size_t t = 1; t + 2 < c.tokens.size(); t += 3)
        if (vocab[c.tokens[t]] == "with") rule_relations.insert(c.tokens[t + 1]);
      EXPECT_EQ(static_cast<int64_t>(rule_relations.size()), std::min(spec.classes, spec.relations));
    }
    EXPECT_EQ(task_batch_bytes(conditional_sample(spec, 20, 1)), task_batch_bytes(conditional_sample(spec, 20, 1)));
  }
  // retrieval.h: "A lives p2  C lives p0  B is elf  B father A  B mother C  wizard with mother  elf with father ? B"
  ConditionalSpec ex{1, 1, 2, 2, 26, 4, false};
  auto v = conditional_vocab(ex);
  std::vector<int64_t> tok;
  for (const char* w : {"A", "lives", "p2", "C", "lives", "p0", "B", "is", "elf", "B", "father", "A", "B", "mother",
                        "C", "wizard", "with", "mother", "elf", "with", "father", "?", "B"})
    tok.push_back(vocab_id(v, w));
  auto tgt = conditional_targets(ex, tok);
  EXPECT_EQ(tgt.back(), 2);
  EXPECT_EQ(tgt[11], 2) << "A (object of 'B father A') lives in p2 by then";
  EXPECT_EQ(tgt[0], -1) << "A's fact is not complete at its own subject";
  EXPECT_EQ(tgt[9], -1) << "B's rule comes later";
  auto all = conditional_targets(ex, tok, false);
  EXPECT_EQ(all[9], 2);
  EXPECT_EQ(all[0], 2);
  EXPECT_EQ(all[3], 0) << "C lives in p0";
  EXPECT_EQ(conditional_text(ex, tok),
            "A lives in p2. C lives in p0. B is an elf. B's father is A. B's mother is C. Wizards live with their "
            "mothers. Elves live with their fathers. Where does B live?");
  EXPECT_THROW(conditional_validate({0, 1, 2, 2, 26, 4, true}), Error);
  EXPECT_THROW(conditional_validate({3, 1, 7, 2, 26, 4, true}), Error);
  EXPECT_THROW(conditional_validate({3, 1, 2, 1, 26, 4, true}), Error);
  EXPECT_THROW(conditional_validate({30, 1, 2, 2, 26, 4, true}), Error);
  EXPECT_THROW(conditional_validate({3, 0, 2, 2, 26, 4, true}), Error);
}

// The definition of khop.h, quadratically: scan back for the previous occurrence at every hop.
std::vector<int64_t> khop_brute(const std::vector<int64_t>& x, int64_t k) {
  std::vector<int64_t> out(x.size(), -1);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t p = static_cast<int64_t>(i);
    for (int64_t h = 0; h < k && p >= 0; ++h) {
      int64_t j = p - 1;
      while (j >= 0 && x[j] != x[p]) --j;
      p = j >= 0 ? j + 1 : -1;
    }
    if (p >= 0) out[i] = x[p];
  }
  return out;
}

TEST(KhopTask, TargetsMatchBruteForceAndWorkedExample) {
  KhopSpec ex{2, 7, 3, 0, false};
  EXPECT_EQ(khop_targets(ex, {4, 0, 1, 2, 0, 1, 0, 2}), (std::vector<int64_t>{-1, -1, -1, -1, -1, -1, 2, 1}));
  EXPECT_EQ(khop_text(ex, {4, 0, 1, 2, 0, 1, 0, 2}), "k2 | a b c a b a c");
  for (KhopSpec spec : {KhopSpec{1, 20, 3, 0, false}, KhopSpec{4, 64, 4, 0, true}, KhopSpec{16, 100, 2, 0, true},
                        KhopSpec{3, 50, 30, 8, false}}) {
    TaskBatch b = khop_sample(spec, 400, 9);
    std::map<int64_t, int> ks;
    for (const auto& e : b.examples) {
      ASSERT_EQ(static_cast<int64_t>(e.tokens.size()), spec.length + 1);
      const int64_t k = e.tokens[0] - spec.alphabet + 1;
      ks[k]++;
      ASSERT_TRUE(k >= 1 && k <= spec.k);
      std::vector<int64_t> x(e.tokens.begin() + 1, e.tokens.end());
      for (size_t i = 1; i < x.size(); ++i) ASSERT_NE(x[i], x[i - 1]) << "immediate repeat";
      auto brute = khop_brute(x, k);
      brute.insert(brute.begin(), -1);
      EXPECT_EQ(khop_targets(spec, e.tokens), brute);
      EXPECT_EQ(e.target, brute.back());
    }
    EXPECT_EQ(static_cast<int64_t>(ks.size()), spec.mix ? spec.k : 1) << "mix draws every k";
  }
  KhopSpec last{6, 24, 3, 0, false};
  for (const auto& e : khop_sample(last, 50, 2, true).examples) EXPECT_GE(e.target, 0);
  EXPECT_EQ(task_batch_bytes(khop_sample(last, 30, 5)), task_batch_bytes(khop_sample(last, 30, 5)));
  EXPECT_EQ(khop_vocab({3, 8, 2, 5, false}).size(), 7u);
  EXPECT_THROW(khop_validate({0, 8, 3, 0, false}), Error);
  EXPECT_THROW(khop_validate({2, 1, 3, 0, false}), Error);
  EXPECT_THROW(khop_validate({2, 8, 1, 0, false}), Error);
  EXPECT_THROW(khop_validate({4, 8, 3, 2, false}), Error);
  EXPECT_THROW(khop_targets(ex, {0, 0, 1, 2, 0, 1, 0, 2}), Error);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("attnlab_prompts_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// F1 parsed back from its text: "X = Y, ...  What is the value of Q?" resolved by a map.
std::string f1_resolve(const std::string& prompt) {
  std::map<std::string, std::string> def;
  std::smatch m;
  std::string body = prompt.substr(0, prompt.find(". What"));
  std::regex stmt("(\\w+) = (\\w+)");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), stmt); it != std::sregex_iterator(); ++it)
    def[(*it)[1]] = (*it)[2];
  std::regex_search(prompt, m, std::regex("value of (\\w+)\\?"));
  std::string x = m[1];
  while (def.count(x)) x = def[x];
  return x;
}

TEST(RetrievalPrompts, ExportScoreRoundTrip) {
  PromptSetSpec spec;
  spec.depths = prompt_parse_depths("1..3,5");
  spec.formats = prompt_parse_formats("F1..F5");
  spec.count = 12;
  spec.seed = 4;
  auto prompts = prompts_generate(spec);
  ASSERT_EQ(prompts.size(), 4u * 5u * 12u);
  EXPECT_EQ(prompts_to_jsonl(prompts), prompts_to_jsonl(prompts_generate(spec))) << "same seed, same bytes";
  for (const auto& p : prompts) {
    if (p.format == "F1") {
      EXPECT_EQ(f1_resolve(p.prompt), p.gold) << p.prompt;
    }
    if (p.format == "F4") {
      ASSERT_EQ(p.options.size(), 4u);
      EXPECT_TRUE(p.gold == "A" || p.gold == "B" || p.gold == "C" || p.gold == "D");
      EXPECT_NE(p.prompt.find(p.gold + ") " + p.options[p.gold[0] - 'A']), std::string::npos);
    }
    if (p.format == "F5") {
      EXPECT_NE(p.prompt.find("Where does"), std::string::npos);
    }
  }
  const std::string pf = temp_path("p.jsonl"), gold = temp_path("gold.jsonl"), shuf = temp_path("shuf.jsonl");
  file_write_atomic(pf, prompts_to_jsonl(prompts));
  auto back = prompts_read(pf);
  ASSERT_EQ(back.size(), prompts.size());
  EXPECT_EQ(prompts_to_jsonl(back), prompts_to_jsonl(prompts));
  std::string g, s;
  for (size_t i = 0; i < back.size(); ++i) {
    g += nlohmann::json{{"id", back[i].id}, {"answer", " " + back[i].gold + ". "}}.dump() + "\n";
    if (i % 3 != 0)  // a third left out; the rest take the next prompt's gold
      s += nlohmann::json{{"id", back[i].id}, {"answer", back[(i + 1) % back.size()].gold}}.dump() + "\n";
  }
  file_write_atomic(gold, g);
  file_write_atomic(shuf, s);
  PromptScore all = prompts_score(back, gold);
  EXPECT_EQ(all.all.correct, all.all.total);
  EXPECT_EQ(all.by_depth.size(), 4u);
  EXPECT_EQ(all.by_format.at("F4").total, 48);
  PromptScore sh = prompts_score(back, shuf);
  EXPECT_LT(sh.all.accuracy(), 0.6);
  EXPECT_EQ(sh.all.missing, 80);
  EXPECT_EQ(sh.missing_ids.front(), back[0].id);
  EXPECT_EQ(prompt_score_json(sh)["overall"]["total"], 240);
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    file_write_atomic(shuf, text);
    try {
      prompts_score(back, shuf);
      ADD_FAILURE() << "no error for " << text;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
      EXPECT_FALSE(e.hint().empty());
    }
  };
  expect_error("{\"id\":\"F1-D1-0000\",\"answer\":\"3\"}\n{\"id\": oops\n", ":2: malformed JSON");
  expect_error("{\"id\":\"F9-D1-0000\",\"answer\":\"3\"}\n", ":1: unknown id 'F9-D1-0000'");
  expect_error("{\"answer\":\"3\"}\n", ":1: missing field \"id\"");
  expect_error("{\"id\":\"F1-D1-0000\",\"answer\":\"3\"}\n{\"id\":\"F1-D1-0000\",\"answer\":\"3\"}\n", ":2: second answer");
  for (const auto& f : {pf, gold, shuf}) std::filesystem::remove(f);
  EXPECT_EQ(answer_normalise("  The   Answer.. "), "the answer");
}

TEST(RetrievalPrompts, ListParsingAndBadSpecs) {
  EXPECT_EQ(prompt_parse_depths("1..8").size(), 8u);
  EXPECT_EQ(prompt_parse_depths("5,2,2..3"), (std::vector<int64_t>{2, 3, 5}));
  EXPECT_EQ(prompt_parse_formats("F1,f3"), (std::vector<std::string>{"F1", "F3"}));
  EXPECT_EQ(prompt_parse_formats("F2..F4").size(), 3u);
  for (const char* bad : {"0..3", "3..1", "a", "1..", "", "1,,2", "65", "-1"}) EXPECT_THROW(prompt_parse_depths(bad), Error);
  for (const char* bad : {"F6", "F3..F1", "", "F1,", "G1"}) EXPECT_THROW(prompt_parse_formats(bad), Error);
  PromptSetSpec spec;
  spec.count = 0;
  EXPECT_THROW(prompts_generate(spec), Error);
  spec.count = 1;
  spec.depths = {12};
  spec.chains = 3;  // 12 + 36 + 2 statements > 26 letters: names x0.., still valid
  EXPECT_EQ(prompts_generate(spec).size(), 5u);
}

// retrieval_metadata rebuilds the generator's metadata from the tokens: exactly (chain numbers included) when
// unshuffled, and up to a renumbering of the distractor chains (main chain 0 kept) when shuffled.
TEST(RetrievalTask, MetadataFromTokensMatchesTheGenerator) {
  const std::vector<RetrievalSpec> specs = {{1, 1, 0, 0, 8, 4, true},  {2, 1, 0, 0, 8, 4, true},
                                            {5, 2, 3, 2, 26, 10, true}, {4, 3, 1, 3, 30, 12, false},
                                            {3, 2, 0, 1, 26, 10, false}, {7, 0, 0, 0, 7, 2, true}};
  for (const auto& spec : specs) {
    TaskRng rng(11 + spec.depth);
    const auto vocab = retrieval_vocab(spec);
    for (int i = 0; i < 50; ++i) {
      RetrievalInstance g = retrieval_instance(spec, rng);
      std::vector<std::string> text;
      for (int64_t id : g.tokens) text.push_back(vocab[id]);
      for (const RetrievalInstance& m : {retrieval_metadata(spec, g.tokens), retrieval_metadata(spec, text)}) {
        EXPECT_EQ(m.tokens, g.tokens);
        EXPECT_EQ(m.answer, g.answer);
        EXPECT_EQ(m.stmt_of, g.stmt_of);
        EXPECT_EQ(m.depth_of, g.depth_of);
        EXPECT_EQ(m.def_pos, g.def_pos);
        EXPECT_EQ(m.value_of, g.value_of);
        if (!spec.shuffle) {
          EXPECT_EQ(m.chain_of, g.chain_of);
        }
        std::map<int64_t, int64_t> rename;  // generator chain -> rebuilt chain: must be a bijection fixing 0
        std::set<int64_t> image;
        for (size_t t = 0; t < g.chain_of.size(); ++t) {
          auto [it, added] = rename.emplace(g.chain_of[t], m.chain_of[t]);
          EXPECT_EQ(it->second, m.chain_of[t]) << "position " << t;
          if (added) {
            EXPECT_TRUE(image.insert(m.chain_of[t]).second) << "two chains merged at position " << t;
          }
        }
        EXPECT_EQ(rename.at(0), 0);
      }
    }
  }
}

TEST(RetrievalTask, MetadataOfMalformedTokensIsAnErrorNamingThePosition) {
  const RetrievalSpec spec{2, 1, 0, 0, 8, 4, false};  // W = 4 values (ids 0..3), K = 8 variables (4..11), ? = 12
  // "A 1  B A  C 2  D C  ?  B": valid, D = 2 (B = A = 1)
  const std::vector<int64_t> ok = {4, 1, 5, 4, 6, 2, 7, 6, 12, 5};
  EXPECT_EQ(retrieval_metadata(spec, ok).answer, 1);
  auto expect_error = [&](std::vector<int64_t> tok, const std::string& needle) {
    try {
      retrieval_metadata(spec, tok);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
      EXPECT_FALSE(e.hint().empty());
    }
  };
  expect_error({4, 1, 5, 4, 6, 2, 7, 6, 12}, "9 tokens, expected T = 10");
  expect_error({4, 1, 4, 5, 6, 2, 7, 6, 12, 5}, "defined twice (positions 0 and 2)");
  expect_error({4, 1, 5, 9, 6, 2, 7, 6, 12, 5}, "the rhs variable at position 3 is never defined");
  expect_error({4, 1, 5, 4, 6, 4, 7, 6, 12, 5}, "is the rhs of two statements (positions 3 and 5)");
  expect_error({4, 5, 5, 4, 6, 2, 7, 6, 12, 7}, "cycle");
  expect_error({4, 1, 5, 4, 6, 2, 7, 6, 5, 12}, "not \"? variable\"");
  expect_error({4, 1, 5, 4, 6, 2, 7, 5, 12, 7}, "the query's chain has 3 statements, the spec has D = 2");
  expect_error({4, 1, 5, 4, 6, 2, 7, 6, 12, 4}, "must be the top of its chain");
  expect_error({1, 1, 5, 4, 6, 2, 7, 6, 12, 5}, "position 0 (a statement's lhs) holds id 1");
  expect_error({4, 12, 5, 4, 6, 2, 7, 6, 12, 5}, "position 1 (a statement's rhs) holds id 12");
  try {
    retrieval_metadata(spec, std::vector<std::string>{"A", "1", "B", "A", "C", "2", "D", "Z", "?", "B"});
    ADD_FAILURE() << "no error for an unknown token string";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("token 'Z' at position 7 is not in the vocabulary"), std::string::npos) << e.message();
  }
}

// The fused encoding against the pairs encoding of the same draws, read through the vocabulary strings only:
// statement s is the string "lhs=rhs" of the pairs tokens 2s, 2s + 1, the query "?X"; answers, step counts,
// definitions and both target rows recomputed by a string-level resolver (a lhs -> rhs map over the statements,
// for the prefix targets the map of statements 0..s only).
TEST(RetrievalTask, FusedEncodingIsThePairsInstanceOneTokenPerStatement) {
  // worked example of retrieval.h, K = 26, W = 10: "B=A  A=9  C=B  ?C" -> ids 10+36*1+10, 10+0+9, 10+36*2+11, 10+26*36+2
  RetrievalSpec ex{3, 0, 0, 0, 26, 10, true, true};
  const std::vector<int64_t> ex_ids = {56, 19, 93, 948};
  EXPECT_EQ(retrieval_vocab(ex).at(56), "B=A");
  EXPECT_EQ(retrieval_vocab(ex).at(948), "?C");
  EXPECT_EQ(retrieval_vocab(ex).size(), 10u + 26 * 36 + 26);
  EXPECT_EQ(retrieval_targets(ex, ex_ids), (std::vector<int64_t>{-1, 9, 9, 9}));
  EXPECT_EQ(retrieval_targets(ex, ex_ids, false), (std::vector<int64_t>{9, 9, 9, 9}));
  EXPECT_EQ(retrieval_metadata(ex, ex_ids).def_pos, (std::vector<int64_t>{1, -1, 0, 2}));
  for (RetrievalSpec spec : specs()) {
    RetrievalSpec fused = spec;
    fused.fused = true;
    const auto pv = retrieval_vocab(spec), fv = retrieval_vocab(fused);
    TaskRng rp(21), rf(21);
    for (int i = 0; i < 60; ++i) {
      RetrievalInstance p = retrieval_instance(spec, rp), f = retrieval_instance(fused, rf);
      const int64_t S = (static_cast<int64_t>(p.tokens.size()) - 2) / 2, T = S + 1;
      ASSERT_EQ(static_cast<int64_t>(f.tokens.size()), T);
      ASSERT_EQ(retrieval_seq_len(fused), T);
      ASSERT_TRUE(f.fused);
      std::map<std::string, std::string> def;  // lhs -> rhs
      std::vector<std::pair<std::string, std::string>> st;
      for (int64_t s = 0; s < S; ++s) {
        ASSERT_EQ(fv.at(f.tokens[s]), pv.at(p.tokens[2 * s]) + "=" + pv.at(p.tokens[2 * s + 1]));
        st.emplace_back(pv.at(p.tokens[2 * s]), pv.at(p.tokens[2 * s + 1]));
        def[st.back().first] = st.back().second;
      }
      ASSERT_EQ(fv.at(f.tokens[S]), "?" + pv.at(p.tokens.back()));
      auto resolve = [&](std::string x, const std::map<std::string, std::string>& d, int64_t* steps) {
        int64_t n = 0;
        while (d.count(x) && n <= S) x = d.at(x), ++n;
        if (steps) *steps = n;
        return std::find(pv.begin(), pv.begin() + spec.values, x) - pv.begin();  // == W when not a value
      };
      int64_t steps = 0;
      EXPECT_EQ(resolve(pv.at(p.tokens.back()), def, &steps), f.answer);
      EXPECT_EQ(steps, spec.depth);
      EXPECT_EQ(f.answer, p.answer);
      EXPECT_EQ(f.value_of[S], f.answer);
      auto full = retrieval_targets(fused, f.tokens, false), prefix = retrieval_targets(fused, f.tokens, true);
      std::map<std::string, std::string> seen;
      for (int64_t s = 0; s < S; ++s) {
        const auto& [lhs, rhs] = st[s];
        EXPECT_EQ(full[s], resolve(lhs, def, nullptr)) << s;
        EXPECT_EQ(f.value_of[s], full[s]) << s;
        seen[lhs] = rhs;
        const int64_t v = resolve(lhs, seen, nullptr);
        EXPECT_EQ(prefix[s], v < spec.values ? v : -1) << s;
        if (f.def_pos[s] >= 0) {
          EXPECT_EQ(fv.at(f.tokens[f.def_pos[s]]).substr(0, rhs.size() + 1), rhs + "=") << s;
        } else {
          EXPECT_LT(std::find(pv.begin(), pv.end(), rhs) - pv.begin(), spec.values) << s;
        }
        EXPECT_EQ(f.depth_of[s], p.depth_of[2 * s]);
        EXPECT_EQ(f.chain_of[s], p.chain_of[2 * s]);
      }
      EXPECT_EQ(full[S], f.answer);
      EXPECT_EQ(prefix[S], f.answer);
      RetrievalInstance m = retrieval_metadata(fused, f.tokens);  // metadata from the tokens alone
      EXPECT_EQ(m.def_pos, f.def_pos);
      EXPECT_EQ(m.depth_of, f.depth_of);
      EXPECT_EQ(m.value_of, f.value_of);
      EXPECT_TRUE(m.fused);
      if (!spec.shuffle) {
        EXPECT_EQ(m.chain_of, f.chain_of);
      }
    }
  }
  auto expect_error = [&](const std::vector<int64_t>& tok, const std::string& needle) {
    try {
      retrieval_metadata(ex, tok);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
      EXPECT_FALSE(e.hint().empty());
    }
  };
  expect_error({56, 19, 93}, "3 tokens, expected T = 4");
  expect_error({56, 9, 93, 948}, "position 1 holds id 9, not a statement");
  expect_error({56, 19, 948, 93}, "position 2 holds id 948");
  expect_error({56, 19, 93, 93}, "the last position holds id 93, not a query");
  expect_error({56, 19, 10 + 2 * 36 + 2, 948}, "the query's chain has 1 statements");  // C=2: chain of 1
  EXPECT_THROW(retrieval_targets(ex, {56, 19, 93, 93}), Error);
  RetrievalSpec huge{3, 0, 0, 0, 1100, 10, true, true};
  try {
    retrieval_validate(huge);
    ADD_FAILURE() << "no error for 1100 x 1110 statement tokens";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("statement tokens"), std::string::npos) << e.message();
  }
  huge.fused = false;
  EXPECT_NO_THROW(retrieval_validate(huge));
}

// query_mixed: the query asks for the main chain's variable at a uniform depth; the same draws up to the shuffle
// (so the same statements as without it), the answer unchanged, every depth drawn, metadata from the tokens.
TEST(RetrievalTask, MixedQueryDepthsKeepTheAnswerAndCoverEveryDepth) {
  for (bool fused : {false, true}) {
    RetrievalSpec top{5, 2, 0, 1, 26, 10, true, fused}, mixed = top;
    mixed.query_mixed = true;
    std::map<int64_t, int> seen;
    for (int i = 0; i < 400; ++i) {
      TaskRng ra(17 + i), rb(17 + i);  // one instance per stream: the mixed one draws once more, at the end
      RetrievalInstance a = retrieval_instance(top, ra), b = retrieval_instance(mixed, rb);
      const int64_t T = static_cast<int64_t>(a.tokens.size());
      ASSERT_EQ(b.tokens.size(), a.tokens.size());
      EXPECT_TRUE(std::equal(a.tokens.begin(), a.tokens.end() - 1, b.tokens.begin())) << "same statements";
      EXPECT_EQ(b.answer, a.answer);
      const int64_t d = b.depth_of[T - 1];
      ASSERT_GE(d, 1);
      ASSERT_LE(d, 5);
      ++seen[d];
      // the query's definition is the main-chain statement at depth d: following def_pos from it takes d steps
      int64_t steps = 0, pos = b.def_pos[T - 1];
      for (; pos >= 0 && steps <= 5; ++steps) pos = fused ? b.def_pos[pos] : b.def_pos[pos + 1];
      EXPECT_EQ(steps, d);
      RetrievalInstance m = retrieval_metadata(mixed, b.tokens);
      EXPECT_EQ(m.depth_of, b.depth_of);
      EXPECT_EQ(m.def_pos, b.def_pos);
      EXPECT_EQ(m.answer, b.answer);
      EXPECT_EQ(retrieval_targets(mixed, b.tokens, false).back(), b.answer);
      if (d < 5) {
        EXPECT_THROW(retrieval_metadata(top, b.tokens), Error) << "a query below the top needs query_mixed";
      }
    }
    EXPECT_EQ(seen.size(), 5u);
    for (const auto& [d, n] : seen) EXPECT_GT(n, 50) << "depth " << d << " drawn " << n << " times of 400";
  }
}

}  // namespace
}  // namespace attnlab
