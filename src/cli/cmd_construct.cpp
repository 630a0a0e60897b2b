// `attnlab construct <name> -o DIR [--verify]` (index-lookup, dyck-rnn, equality, disjointness,
// nearest-neighbour) — the explicit separation constructions of Bhattamishra et al. 2024 (arXiv 2406.09347) as
// model directories (src/constructions/), each with a report of its size, scale and
// the precision it needs, optionally verified in f32 and f64 (DIR/verify.json). `attnlab bounds` prints the
// communication-complexity lower bounds they are set against (src/tasks/separation_bounds.h).
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "constructions/dyck_rnn.h"
#include "constructions/index_lookup.h"
#include "constructions/nearest_neighbour.h"
#include "constructions/string_pair.h"
#include "tasks/separation_bounds.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

void report_print(const nlohmann::json& report) {
  for (auto& [key, value] : report.items()) std::cout << "  " << key << ": " << value.dump() << "\n";
}

void save_and_print(const std::string& dir, const SequenceModel& model, bool save) {
  if (!save) return;
  model_save(dir, model);
  std::cout << "saved model directory: " << dir << "/ (config.json, model.safetensors)\n";
}

void verify_write(const std::string& dir, const nlohmann::json& results) {
  dir_create(dir);
  file_write_atomic(dir + "/verify.json", results.dump(2) + "\n");
  std::cout << "verification: " << dir << "/verify.json\n";
}

// Prints each verification result, writes DIR/verify.json, and fails (what + HINT) on any wrong output.
void verify_finish(const std::string& dir, const nlohmann::json& report, const std::vector<VerifyResult>& runs,
                   const std::string& what, const std::string& hint) {
  nlohmann::json results = nlohmann::json::array();
  int64_t wrong = 0;
  for (const auto& r : runs) {
    std::printf("verify %s (%s): %lld/%lld correct, min margin %.4g, %.2f s\n", r.dtype.c_str(), r.mode.c_str(),
                static_cast<long long>(r.correct), static_cast<long long>(r.checked), r.min_margin, r.seconds);
    wrong += r.checked - r.correct;
    results.push_back(r.to_json());
  }
  verify_write(dir, {{"report", report}, {"results", results}});
  check(wrong == 0, what + ": verification failed: " + std::to_string(wrong) + " wrong outputs", hint);
}

void register_index_lookup(CLI::App& construct) {
  struct Args {
    IndexLookupOptions opt;
    std::string out;
    bool verify = false, no_save = false;
    int64_t strings = 4;
  };
  static Args a;
  auto* c = construct.add_subcommand("index-lookup", "one-layer index-lookup transformer of width O(log N)");
  c->add_option("--N", a.opt.n, "string length N")->required();
  c->add_option("--alphabet", a.opt.alphabet, "alphabet size |S|")->capture_default_str();
  c->add_option("--gamma", a.opt.gamma, "max |<c_i, c_j>| of the position codes, in (0, 1)")->capture_default_str();
  c->add_option("--margin", a.opt.margin, "logit margin the softmax scale is derived for, in (0, 1)")
      ->capture_default_str();
  c->add_option("--code", a.opt.code, "position codes: random | reed-solomon")->capture_default_str();
  c->add_option("--seed", a.opt.seed, "seed of the random code and of the verification strings")
      ->capture_default_str();
  c->add_option("-o,--out", a.out, "output model directory")->required();
  c->add_flag("--verify", a.verify, "check every query (exhaustive for small N) in f32 and f64");
  c->add_option("--strings", a.strings, "random strings checked at every query position")->capture_default_str();
  c->add_flag("--no-save", a.no_save, "do not write the model weights (large N)");
  c->callback([] {
    cli_runtime_init();
    IndexLookupBuild b = index_lookup_build(a.opt);
    std::cout << "index lookup, N = " << a.opt.n << ", |alphabet| = " << a.opt.alphabet << "\n";
    report_print(b.report());
    save_and_print(a.out, b.model, !a.no_save);
    if (!a.verify) return;
    verify_finish(a.out, b.report(), index_lookup_verify(b, a.opt, a.strings, a.opt.seed + 1),
                  "index lookup", "raise --margin or lower --gamma; see verify.json");
  });
}

void register_dyck_rnn(CLI::App& construct) {
  struct Args {
    DyckSpec spec;
    std::string out;
    bool verify = false;
    int64_t max_len = 12, random_len = 10000, random_count = 8;
    uint64_t seed = 0;
  };
  static Args a;
  auto* c = construct.add_subcommand("dyck-rnn", "constant-size Elman RNN recognising Dyck-(k, m)");
  c->add_option("--k", a.spec.k, "bracket types")->capture_default_str();
  c->add_option("--m", a.spec.m, "maximal nesting depth")->capture_default_str();
  c->add_option("-o,--out", a.out, "output model directory")->required();
  c->add_flag("--verify", a.verify, "every string up to --max-len, and random strings of --random-len");
  c->add_option("--max-len", a.max_len, "exhaustive check length")->capture_default_str();
  c->add_option("--random-len", a.random_len, "length of the random strings")->capture_default_str();
  c->add_option("--random-count", a.random_count, "number of random strings (half members)")->capture_default_str();
  c->add_option("--seed", a.seed, "seed of the random strings")->capture_default_str();
  c->callback([] {
    cli_runtime_init();
    DyckRnnBuild b = dyck_rnn_build(a.spec);
    std::cout << "Dyck-(" << a.spec.k << ", " << a.spec.m << ") RNN\n";
    report_print(b.report());
    save_and_print(a.out, b.model, true);
    if (!a.verify) return;
    nlohmann::json results = nlohmann::json::array();
    int64_t wrong = 0;
    for (auto& r : dyck_rnn_verify(b, a.spec, a.max_len, a.random_len, a.random_count, a.seed)) {
      std::printf("verify %s: all %lld strings of length %lld (and their prefixes): %lld wrong; "
                  "%lld random strings of length %lld: %lld of %lld prefixes wrong; %.2f s\n",
                  r.dtype.c_str(), static_cast<long long>(r.exhaustive_strings),
                  static_cast<long long>(r.exhaustive_len), static_cast<long long>(r.exhaustive_wrong),
                  static_cast<long long>(r.random_strings), static_cast<long long>(r.random_len),
                  static_cast<long long>(r.random_wrong), static_cast<long long>(r.random_prefixes), r.seconds);
      wrong += r.exhaustive_wrong + r.random_wrong;
      results.push_back(r.to_json());
    }
    verify_write(a.out, {{"report", b.report()}, {"results", results}});
    check(wrong == 0, "Dyck RNN: verification failed: " + std::to_string(wrong) + " wrong outputs",
          "this is a bug in the construction; see verify.json");
  });
}

void register_string_pair(CLI::App& construct, PairTask task) {
  struct Args {
    StringPairOptions opt;
    std::string out;
    bool verify = false;
    int64_t count = 256;
  };
  static Args args[2];
  Args& a = args[task == PairTask::Equality ? 0 : 1];
  a.opt.task = task;
  auto* c = construct.add_subcommand(pair_task_name(task), "two-layer " + pair_task_name(task) +
                                     " transformer of width O(log N)");
  c->add_option("--N", a.opt.n, "length of x and y")->required();
  c->add_option("--gamma", a.opt.gamma, "max |<c_i, c_j>| of the position codes, in (0, 1)")->capture_default_str();
  c->add_option("--code", a.opt.code, "position codes: random | reed-solomon")->capture_default_str();
  c->add_option("--seed", a.opt.seed, "seed of the code and of the verification pairs")->capture_default_str();
  c->add_option("-o,--out", a.out, "output model directory")->required();
  c->add_flag("--verify", a.verify, "exhaustive for N <= 6, else --count sampled pairs, in f32 and f64");
  c->add_option("--count", a.count, "sampled pairs (half near misses)")->capture_default_str();
  c->callback([&a] {
    cli_runtime_init();
    StringPairBuild b = string_pair_build(a.opt);
    std::cout << pair_task_name(a.opt.task) << ", N = " << a.opt.n << "\n";
    report_print(b.report());
    save_and_print(a.out, b.model, true);
    if (!a.verify) return;
    verify_finish(a.out, b.report(), string_pair_verify(b, a.opt, a.count, a.opt.seed + 1),
                  pair_task_name(a.opt.task), "lower --gamma; see verify.json");
  });
}

void register_nearest_neighbour(CLI::App& construct) {
  struct Args {
    NearestNeighbourOptions opt;
    std::string out;
    bool verify = false;
    int64_t count = 256;
  };
  static Args a;
  auto* c = construct.add_subcommand("nearest-neighbour", "two-layer nearest-neighbour transformer of width "
                                     "O(d + log k)");
  c->add_option("--k", a.opt.spec.k, "labelled points")->capture_default_str();
  c->add_option("--d", a.opt.spec.d, "dimension of the points and the query")->capture_default_str();
  c->add_option("--classes", a.opt.spec.classes, "number of labels C")->capture_default_str();
  c->add_option("--margin", a.opt.spec.margin, "promised margin delta of <q, x_nn> over the runner-up, in (0, 1]")
      ->capture_default_str();
  c->add_option("--gamma", a.opt.gamma, "max |<c_i, c_j>| of the layer-1 position codes, in (0, 1)")
      ->capture_default_str();
  c->add_option("--logit-margin", a.opt.logit_margin, "logit margin the query head's scale is derived for")
      ->capture_default_str();
  c->add_option("--code", a.opt.code, "position codes: random | reed-solomon")->capture_default_str();
  c->add_option("--seed", a.opt.seed, "seed of the code and of the verification instances")->capture_default_str();
  c->add_option("-o,--out", a.out, "output model directory")->required();
  c->add_flag("--verify", a.verify, "check --count random instances with margin delta in f32 and f64");
  c->add_option("--count", a.count, "random instances checked")->capture_default_str();
  c->callback([] {
    cli_runtime_init();
    NearestNeighbourBuild b = nearest_neighbour_build(a.opt);
    std::cout << "nearest neighbour, k = " << a.opt.spec.k << ", d = " << a.opt.spec.d << ", classes = "
              << a.opt.spec.classes << ", margin = " << a.opt.spec.margin << "\n";
    report_print(b.report());
    save_and_print(a.out, b.model, true);
    if (!a.verify) return;
    verify_finish(a.out, b.report(), nearest_neighbour_verify(b, a.opt, a.count, a.opt.seed + 1),
                  "nearest neighbour", "lower --gamma or raise --margin; see verify.json");
  });
}

void register_bounds(CLI::App& app) {
  static BoundQuery q;
  auto* c = app.add_subcommand("bounds", "communication-complexity lower bounds (Bhattamishra et al. 2024)");
  c->add_option("--task", q.task, "index-lookup | equality | disjointness | dyck")->required();
  c->add_option("--N", q.n, "input length N (Dyck: string length n)")->capture_default_str();
  c->add_option("--precision", q.precision, "bits per stored number p")->capture_default_str();
  c->add_option("--alphabet", q.alphabet, "alphabet size (index lookup)")->capture_default_str();
  c->add_option("--heads", q.heads, "attention heads H (transformer bounds)")->capture_default_str();
  c->callback([] {
    cli_runtime_init();
    auto rows = separation_bounds(q);
    std::printf("%-22s %-12s %14s  %s\n", "model", "measure", "lower bound", "formula (Omega, constant 1)");
    for (auto& r : rows)
      std::printf("%-22s %-12s %14.6g  %s\n", r.model.c_str(), r.measure.c_str(), r.value, r.formula.c_str());
  });
}

}  // namespace

void cmd_construct_register(CLI::App& app) {
  auto* construct = app.add_subcommand("construct", "explicit separation constructions as model directories");
  construct->require_subcommand(1);
  register_index_lookup(*construct);
  register_dyck_rnn(*construct);
  register_string_pair(*construct, PairTask::Equality);
  register_string_pair(*construct, PairTask::Disjointness);
  register_nearest_neighbour(*construct);
  register_bounds(app);
}

}  // namespace attnlab
