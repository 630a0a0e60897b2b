// RASP interpreter benchmark: evaluation time of standard-library programs on random inputs of length
// N = 64, 256, 1024, 4096 (one core), and the whole standard library at N = 1024 (goal: < 1 s in total).
// The graph is built once per program; the figure is the median over repeats of evaluate() alone.
// Run: cmake -S . -B build -DATTNLAB_BENCH=ON && cmake --build build --target rasp_bench && build/bench/rasp_bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "rasp/eval.h"
#include "rasp/interp.h"

namespace {

using namespace attnlab::rasp;

struct Case {
  const char* name;     // what is measured
  const char* program;  // RASP text; the s-op 'out' is evaluated
  const char* alphabet; // input tokens are drawn uniformly from these characters
};

const Case kCases[] = {
    {"sort", "load \"lib/sort\"; out = sort(tokens, tokens);", "abcdefgh"},
    {"histogram", "load \"lib/histogram\"; out = histogram(tokens);", "abcdefgh"},
    {"sort_by_most_freq", "load \"lib/sort_freq\"; out = sort_by_most_freq(tokens);", "abcdefgh"},
    {"dyck2", "load \"lib/dyck\"; out = dyck2_ptf(tokens);", "()[]"},
};

const Case kLibrary[] = {
    {"make_length", "load \"lib/length\"; out = make_length();", "abcd"},
    {"length_bos", "load \"lib/length\"; out = length_bos();", "abcd"},
    {"reverse", "load \"lib/reverse\"; out = reverse(tokens);", "abcd"},
    {"histogram", "load \"lib/histogram\"; out = histogram(tokens);", "abcd"},
    {"double_histogram", "load \"lib/double_hist\"; out = double_histogram(tokens);", "abcd"},
    {"sort", "load \"lib/sort\"; out = sort(tokens, tokens);", "abcd"},
    {"sort_by_most_freq", "load \"lib/sort_freq\"; out = sort_by_most_freq(tokens);", "abcd"},
    {"shift_by", "load \"lib/shift\"; out = shift_by(2, tokens, \"_\");", "abcd"},
    {"detect_pattern", "load \"lib/pattern\"; out = detect_pattern(tokens, \"abc\");", "abcd"},
    {"count", "load \"lib/count\"; out = count(tokens, \"a\");", "abcd"},
    {"frac_prevs", "load \"lib/frac_prevs\"; out = frac_prevs(tokens == \"a\");", "abcd"},
    {"pair_balance", "load \"lib/dyck\"; out = pair_balance(tokens, \"(\", \")\");", "()"},
    {"dyck1_ptf", "load \"lib/dyck\"; out = dyck1_ptf(tokens);", "()"},
    {"dyck2_ptf", "load \"lib/dyck\"; out = dyck2_ptf(tokens);", "()[]"},
    {"dyck3_ptf", "load \"lib/dyck\"; out = dyck3_ptf(tokens);", "()[]{}"},
    {"shuffle_dyck2_ptf", "load \"lib/shuffle_dyck\"; out = shuffle_dyck2_ptf(tokens);", "()[]"},
    {"count_less_freq", "load \"lib/count_less_freq\"; out = count_less_freq(tokens, 3);", "abcdefghijklmnopqrstuvwxyz"},
    {"nary_sum_all", "load \"lib/nary\"; out = sum_all([indices, length, indices * 2]);", "abcd"},
};

std::vector<Atom> input_random(const char* alphabet, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string a = alphabet;
  std::uniform_int_distribution<size_t> pick(0, a.size() - 1);
  std::vector<Atom> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::string(1, a[pick(rng)]));
  return out;
}

// Median seconds of evaluate() over enough repeats to fill ~0.3 s (at least 3).
double time_eval(const Node* out, const std::vector<Atom>& input) {
  std::vector<double> times;
  double total = 0;
  while (times.size() < 3 || (total < 0.3 && times.size() < 200)) {
    auto t0 = std::chrono::steady_clock::now();
    Evaluation ev = evaluate({out}, input);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    times.push_back(s);
    total += s;
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

const Node* program_build(Interpreter& in, const char* program) {
  in.run_source(program, "bench.rasp");
  return in.lookup("out")->node;
}

}  // namespace

int main() {
  std::printf("## per-program evaluation time (ms, median)\n%-20s", "program");
  const size_t sizes[] = {64, 256, 1024, 4096};
  for (size_t n : sizes) std::printf(" %10s", ("N=" + std::to_string(n)).c_str());
  std::printf("\n");
  for (const Case& c : kCases) {
    Interpreter in;
    const Node* out = program_build(in, c.program);
    std::printf("%-20s", c.name);
    for (size_t n : sizes) std::printf(" %10.3f", 1e3 * time_eval(out, input_random(c.alphabet, n, 1234)));
    std::printf("\n");
  }
  std::printf("\n## whole standard library at N=1024 (ms, median each)\n");
  double total = 0;
  for (const Case& c : kLibrary) {
    Interpreter in;
    const Node* out = program_build(in, c.program);
    double s = time_eval(out, input_random(c.alphabet, 1024, 99));
    total += s;
    std::printf("%-20s %10.3f\n", c.name, 1e3 * s);
  }
  std::printf("%-20s %10.3f  (goal: < 1000)\n", "TOTAL", 1e3 * total);
  return 0;
}
