// Library programs against independent C++ oracles: Dyck-k prefix labels against a stack machine on every
// bracket string up to length 6, shuffle-Dyck against per-type counters, sort against std::stable_sort and
// histogram against counting on seeded random inputs. Exact agreement is required.
#include <algorithm>
#include <map>
#include <random>

#include "rasp_test_util.h"

namespace attnlab::rasp::test {

// T / P / F for every prefix of s under proper nesting of the pairs opens[t] / closes[t].
static std::vector<std::string> dyck_oracle(const std::string& s, const std::string& opens, const std::string& closes) {
  std::vector<std::string> out;
  std::string stack;
  bool failed = false;
  for (char c : s) {
    size_t o = opens.find(c), k = closes.find(c);
    if (o != std::string::npos) stack.push_back(c);
    else if (k != std::string::npos) {
      if (stack.empty() || stack.back() != opens[k]) failed = true;
      else stack.pop_back();
    }
    out.push_back(failed ? "F" : stack.empty() ? "T" : "P");
  }
  return out;
}

static std::vector<std::string> shuffle_oracle(const std::string& s, const std::string& opens, const std::string& closes) {
  std::vector<std::string> out;
  std::vector<int> bal(opens.size(), 0);
  bool failed = false;
  for (char c : s) {
    size_t o = opens.find(c), k = closes.find(c);
    if (o != std::string::npos) bal[o]++;
    if (k != std::string::npos && --bal[k] < 0) failed = true;
    bool zero = std::all_of(bal.begin(), bal.end(), [](int b) { return b == 0; });
    out.push_back(failed ? "F" : zero ? "T" : "P");
  }
  return out;
}

static std::string oracle_show(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
  return s + "]";
}

static void all_strings(const std::string& alphabet, size_t max_len, std::vector<std::string>& out, std::string cur = "") {
  if (!cur.empty()) out.push_back(cur);
  if (cur.size() == max_len) return;
  for (char c : alphabet) all_strings(alphabet, max_len, out, cur + c);
}

TEST(RaspOracle, DyckAndShuffleDyckOnEveryShortString) {
  Interpreter in;
  in.run_source("load \"lib/dyck\"; load \"lib/shuffle_dyck\";\n"
                "d1 = dyck1_ptf(tokens); d2 = dyck2_ptf(tokens); s2 = shuffle_dyck2_ptf(tokens);", "t.rasp");
  const Node* d1 = in.lookup("d1")->node;
  const Node* d2 = in.lookup("d2")->node;
  const Node* s2 = in.lookup("s2")->node;
  std::vector<std::string> inputs;
  all_strings("()[]", 6, inputs);
  for (const std::string& s : inputs) {
    Evaluation ev = evaluate({d1, d2, s2}, input_parse(s));
    ASSERT_EQ(show(ev.at(d2)), oracle_show(dyck_oracle(s, "([", ")]"))) << "dyck2 on " << s;
    ASSERT_EQ(show(ev.at(s2)), oracle_show(shuffle_oracle(s, "([", ")]"))) << "shuffle-dyck2 on " << s;
    if (s.find_first_of("[]") == std::string::npos)
      ASSERT_EQ(show(ev.at(d1)), oracle_show(dyck_oracle(s, "(", ")"))) << "dyck1 on " << s;
  }
  EXPECT_EQ(inputs.size(), 5460u);  // 4 + 16 + ... + 4096
}

TEST(RaspOracle, SortAndHistogramOnRandomInputs) {
  Interpreter in;
  in.run_source("load \"lib/sort\"; load \"lib/histogram\"; load \"lib/sort_freq\";\n"
                "s = sort(tokens, tokens); h = histogram(tokens); f = sort_by_most_freq(tokens);", "t.rasp");
  const Node* s = in.lookup("s")->node;
  const Node* h = in.lookup("h")->node;
  const Node* f = in.lookup("f")->node;
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    size_t n = 1 + rng() % 40;
    std::string text;
    for (size_t i = 0; i < n; ++i) text += static_cast<char>('a' + rng() % 5);
    Evaluation ev = evaluate({s, h, f}, input_parse(text));
    std::string sorted = text;
    std::stable_sort(sorted.begin(), sorted.end());
    std::map<char, int> count;
    for (char c : text) count[c]++;
    std::vector<std::pair<int, size_t>> by_freq;  // (-count, position): a stable order by count
    for (size_t i = 0; i < n; ++i) by_freq.push_back({-count[text[i]], i});
    std::stable_sort(by_freq.begin(), by_freq.end());
    Column want_s, want_h, want_f;
    for (size_t i = 0; i < n; ++i) {
      want_s.push_back(std::string(1, sorted[i]));
      want_h.push_back(static_cast<int64_t>(count[text[i]]));
      want_f.push_back(std::string(1, text[by_freq[i].second]));
    }
    ASSERT_EQ(show(ev.at(s)), show(want_s)) << text;
    ASSERT_EQ(show(ev.at(h)), show(want_h)) << text;
    ASSERT_EQ(show(ev.at(f)), show(want_f)) << text;
  }
}

}  // namespace attnlab::rasp::test
