// `attnlab retrieval prompts|score|sample|emergence` — the retrieval problem (Musat 2024, arXiv 2411.12118):
// LLM prompt sets in five formulations with gold answers (src/tasks/prompts.h), the scorer for answers of any
// external model per D and format, instances of the three task generators printed as text with their answers
// and curriculum targets (src/tasks/retrieval.h, khop.h), and the order in which a training run's attention
// heads take their roles (constructions/head_roles.h), per run and across runs. docs/retrieval.md.
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "constructions/head_roles.h"
#include "gp/plot.h"
#include "tasks/khop.h"
#include "tasks/prompts.h"
#include "tasks/retrieval.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

struct PromptArgs {
  std::string depths = "1..4", formats = "F1..F5", out;
  PromptSetSpec spec;
};

void prompts_command(PromptArgs& a) {
  a.spec.depths = prompt_parse_depths(a.depths);
  a.spec.formats = prompt_parse_formats(a.formats);
  auto prompts = prompts_generate(a.spec);
  file_write_atomic(a.out, prompts_to_jsonl(prompts));
  std::string fs;
  for (const auto& f : a.spec.formats) fs += (fs.empty() ? "" : ",") + f;
  std::printf("wrote %zu prompts (D = %s, formats %s, %lld each, seed %llu) to %s\n", prompts.size(),
              a.depths.c_str(), fs.c_str(), static_cast<long long>(a.spec.count),
              static_cast<unsigned long long>(a.spec.seed), a.out.c_str());
}

struct ScoreArgs {
  std::string prompts, answers, json;
};

void score_command(const ScoreArgs& a) {
  PromptScore s = prompts_score(prompts_read(a.prompts), a.answers);
  std::printf("accuracy per D (rows) and format (columns): %s\n", a.answers.c_str());
  std::cout << prompt_score_table(s);
  if (!s.missing_ids.empty()) {
    std::cout << "missing:";
    for (size_t i = 0; i < s.missing_ids.size() && i < 10; ++i) std::cout << " " << s.missing_ids[i];
    std::cout << (s.missing_ids.size() > 10 ? " ..." : "") << "\n";
  }
  if (a.json.empty()) return;
  file_write_atomic(a.json, prompt_score_json(s).dump(2) + "\n");
  std::cout << "scores: " << a.json << "\n";
}

struct SampleArgs {
  std::string task = "retrieval", format, encoding = "pairs";
  int64_t depth = 3, count = 5, length = 24, alphabet = 4;
  uint64_t seed = 0;
  bool no_shuffle = false;
  RetrievalSpec r;
  ConditionalSpec c;
};

// "tokens" with unscored positions as "."
std::string targets_text(const std::vector<int64_t>& y, const std::vector<std::string>& vocab_out) {
  std::string out;
  for (size_t t = 0; t < y.size(); ++t) out += (t ? " " : "") + (y[t] < 0 ? std::string(".") : vocab_out.at(y[t]));
  return out;
}

std::string ids_text(const std::vector<int64_t>& ids) {
  std::string out;
  for (size_t t = 0; t < ids.size(); ++t) out += (t ? " " : "") + std::to_string(ids[t]);
  return out;
}

void sample_command(SampleArgs& a) {
  check(a.count >= 1 && a.count <= 10000, "--count " + std::to_string(a.count) + " (must be 1..10000)",
        "print between 1 and 10000 instances");
  if (!a.format.empty()) {  // the LLM formulation instead of the token format
    PromptSetSpec ps;
    ps.depths = {a.depth};
    ps.formats = prompt_parse_formats(a.format);
    ps.count = a.count;
    ps.seed = a.seed;
    ps.chains = a.r.distractor_chains;
    ps.chain_len = a.r.distractor_len;
    ps.assign = a.r.distractor_assign;
    for (const auto& p : prompts_generate(ps)) std::cout << "--- " << p.id << "\n" << p.prompt << "\ngold: " << p.gold << "\n";
    return;
  }
  TaskRng rng(a.seed);
  if (a.task == "retrieval") {
    a.r.depth = a.depth;
    a.r.shuffle = !a.no_shuffle;
    check(a.encoding == "pairs" || a.encoding == "fused", "--encoding '" + a.encoding + "'",
          "--encoding is pairs (a statement = two tokens) or fused (one token \"lhs=rhs\")");
    a.r.fused = a.encoding == "fused";
    const auto vocab = retrieval_vocab(a.r), out = retrieval_vocab_out(a.r);
    for (int64_t i = 0; i < a.count; ++i) {
      RetrievalInstance inst = retrieval_instance(a.r, rng);
      std::cout << "#" << i << "  " << retrieval_text(a.r, inst) << "   answer: " << out[inst.answer] << "\n"
                << "  ids:        " << ids_text(inst.tokens) << "\n"
                << "  curriculum: " << targets_text(retrieval_targets(a.r, inst.tokens, false), out) << "\n"
                << "  prefix:     " << targets_text(retrieval_targets(a.r, inst.tokens, true), out) << "\n";
    }
  } else if (a.task == "conditional") {
    a.c.depth = a.depth;
    a.c.shuffle = !a.no_shuffle;
    const auto out = conditional_vocab_out(a.c);
    for (int64_t i = 0; i < a.count; ++i) {
      ConditionalInstance inst = conditional_instance(a.c, rng);
      std::cout << "#" << i << "  " << conditional_text(a.c, inst.tokens) << "   answer: " << out[inst.answer] << "\n"
                << "  ids:        " << ids_text(inst.tokens) << "\n"
                << "  curriculum: " << targets_text(conditional_targets(a.c, inst.tokens, false), out) << "\n"
                << "  prefix:     " << targets_text(conditional_targets(a.c, inst.tokens, true), out) << "\n";
    }
  } else if (a.task == "khop") {
    KhopSpec k{a.depth, a.length, a.alphabet, 0, false};
    const auto out = khop_vocab_out(k);
    TaskBatch b = khop_sample(k, a.count, a.seed);
    for (int64_t i = 0; i < a.count; ++i) {
      const auto& tok = b.examples[i].tokens;
      std::cout << "#" << i << "  " << khop_text(k, tok) << "\n"
                << "  targets:    " << targets_text(khop_targets(k, tok), out) << "\n";
    }
  } else {
    throw Error("unknown task '" + a.task + "'", "--task is one of retrieval | conditional | khop");
  }
}

struct EmergenceArgs {
  std::vector<std::string> runs;
  std::string out;
  HeadRoleOptions opt;
};

void emergence_print(const RunEmergence& run) {
  std::printf("run %s  (seed %lld, D = %lld, %zu snapshots, steps %lld..%lld)\n", run.run_dir.c_str(),
              static_cast<long long>(run.seed), static_cast<long long>(run.spec.depth), run.history.size(),
              static_cast<long long>(run.history.front().first), static_cast<long long>(run.history.back().first));
  std::printf("  %-5s %-4s %-16s %7s  %s\n", "layer", "head", "final role", "score", "emerged at step");
  const auto& last = run.history.back().second;
  for (const auto& e : run.emergence) {
    double score = 0;
    for (const auto& r : last)
      if (r.layer == e.layer && r.head == e.head) score = r.score;
    std::printf("  %-5d %-4d %-16s %7.3f  %s\n", e.layer, e.head, e.role.c_str(), score,
                e.step < 0 ? "never" : std::to_string(e.step).c_str());
  }
  std::printf("  order: %s\n", head_roles_order_text(run).c_str());
  if (run.accuracy_step.empty()) {
    std::printf("  answer accuracy: no eval entries in metrics.jsonl\n");
    return;
  }
  std::printf("  answer accuracy >= %.2f first at:", run.accuracy_level);
  for (const auto& [D, step] : run.accuracy_step)
    std::printf(" D=%lld %s", static_cast<long long>(D), step < 0 ? "never" : ("step " + std::to_string(step)).c_str());
  std::printf("\n");
  if (run.steps_accuracy_step.empty()) return;
  std::printf("  held-out positions taking d definitions (D = %lld) >= %.2f first at:",
              static_cast<long long>(run.spec.depth), run.accuracy_level);
  for (const auto& [d, step] : run.steps_accuracy_step)
    std::printf(" d=%lld %s", static_cast<long long>(d), step < 0 ? "never" : ("step " + std::to_string(step)).c_str());
  std::printf("\n");
}

std::string emergence_svg(const std::vector<RunEmergence>& runs, double threshold) {
  gp::PlotSpec plot;
  plot.title = "head role score over training (emergence: first snapshot >= " + std::to_string(threshold).substr(0, 4) + ")";
  plot.xlabel = "step";
  plot.ylabel = "score of the head's final role";
  double x0 = static_cast<double>(runs.front().history.front().first), x1 = x0;
  for (const auto& run : runs) {
    std::vector<std::string> role_of;
    auto timeline = head_roles_timeline(run, &role_of);
    std::vector<double> steps;
    for (const auto& [step, roles] : run.history) steps.push_back(static_cast<double>(step));
    x0 = std::min(x0, steps.front()), x1 = std::max(x1, steps.back());
    for (size_t i = 0; i < timeline.size(); ++i) {
      const auto& e = run.emergence[i];
      plot.series.push_back({"s" + std::to_string(run.seed) + " L" + std::to_string(e.layer) + "H" +
                                 std::to_string(e.head) + " " + role_of[i] + (e.step < 0 ? " (never)" : ""),
                             steps, timeline[i], {}, false});
    }
  }
  plot.series.push_back({"threshold", {x0, x1}, {threshold, threshold}, {}, false});
  return gp::plot_svg(plot);
}

void emergence_command(const EmergenceArgs& a) {
  std::vector<RunEmergence> runs;
  for (const auto& dir : a.runs) runs.push_back(head_roles_run(dir, a.opt));  // all read before anything printed
  for (const auto& run : runs) emergence_print(run);
  auto j = head_roles_runs_json(runs, a.opt.threshold);
  std::printf("summary over %zu run(s): emergence order by (layer, role) %s\n", runs.size(),
              runs.size() < 2 ? "(one run: nothing to compare)"
                              : j["same_order"].get<bool>() ? "is the same in every run" : "differs between runs");
  for (const auto& run : runs) std::printf("  seed %lld: %s\n", static_cast<long long>(run.seed), head_roles_order_text(run).c_str());
  std::printf("stages (first head per layer to reach its role) %s\n",
              runs.size() < 2 ? "(one run: nothing to compare)"
                              : j["same_layer_order"].get<bool>()       ? "are in the same order in every run"
                              : j["consistent_layer_order"].get<bool>() ? "differ in number, never in order (no "
                                                                          "two runs order a pair of layers oppositely)"
                                                                        : "differ between runs (in order)");
  for (const auto& run : runs)
    std::printf("  seed %lld: %s\n", static_cast<long long>(run.seed), head_roles_layer_order_text(run).c_str());
  if (a.out.empty()) return;
  dir_create(a.out);
  file_write_atomic(a.out + "/emergence.json", j.dump(2) + "\n");
  file_write_atomic(a.out + "/emergence.svg", emergence_svg(runs, a.opt.threshold));
  std::printf("wrote %s/emergence.json and %s/emergence.svg\n", a.out.c_str(), a.out.c_str());
}

}  // namespace

void cmd_retrieval_register(CLI::App& app) {
  auto* r = app.add_subcommand("retrieval", "the retrieval problem: LLM prompt sets, scoring, instances "
                                            "(docs/retrieval.md)");
  r->require_subcommand(1);

  static PromptArgs pa;
  auto* p = r->add_subcommand("prompts", "export LLM prompt sets (F1..F5) with gold answers as JSONL");
  p->add_option("--D", pa.depths, "retrieval steps: 3, 1..8 or 1,3,5")->capture_default_str();
  p->add_option("--format", pa.formats, "formulations: F1..F5, F2 or F1,F3 (prompts.h)")->capture_default_str();
  p->add_option("--count", pa.spec.count, "prompts per D and format")->capture_default_str();
  p->add_option("--seed", pa.spec.seed, "seed; same seed, same file")->capture_default_str();
  p->add_option("--chains", pa.spec.chains, "distractor chains (F5: distractor people)")->capture_default_str();
  p->add_option("--chain-len", pa.spec.chain_len, "distractor chain length; 0 = D")->capture_default_str();
  p->add_option("--assign", pa.spec.assign, "single distractor assignments")->capture_default_str();
  p->add_option("-o,--out", pa.out, "output JSONL file")->required();
  p->callback([] { prompts_command(pa); });

  static ScoreArgs sa;
  auto* s = r->add_subcommand("score", "score an external model's answers per D and format");
  s->add_option("prompts", sa.prompts, "prompts JSONL (from 'retrieval prompts')")->required();
  s->add_option("answers", sa.answers, "answers JSONL: {\"id\": ..., \"answer\": ...} a line")->required();
  s->add_option("--json", sa.json, "also write the scores as JSON here");
  s->callback([] { score_command(sa); });

  static SampleArgs ma;
  auto* m = r->add_subcommand("sample", "print instances as text with their answers and curriculum targets "
                                        "(every variable position; prefix-determined only)");
  m->add_option("--task", ma.task, "retrieval | conditional | khop")->capture_default_str();
  m->add_option("--D,--k", ma.depth, "retrieval steps D (khop: hops k)")->capture_default_str();
  m->add_option("--count", ma.count, "instances")->capture_default_str();
  m->add_option("--seed", ma.seed, "seed")->capture_default_str();
  m->add_option("--format", ma.format, "print the LLM formulation(s) F1..F5 instead of the token format");
  m->add_option("--chains", ma.r.distractor_chains, "retrieval: distractor chains")->capture_default_str();
  m->add_option("--chain-len", ma.r.distractor_len, "retrieval: distractor chain length; 0 = D")->capture_default_str();
  m->add_option("--assign", ma.r.distractor_assign, "retrieval: single distractor assignments")->capture_default_str();
  m->add_option("--variables", ma.r.variables, "retrieval: variables K")->capture_default_str();
  m->add_option("--values", ma.r.values, "retrieval: values W")->capture_default_str();
  m->add_option("--encoding", ma.encoding, "retrieval: pairs | fused (one token per statement)")->capture_default_str();
  m->add_flag("--no-shuffle", ma.no_shuffle, "keep the statements in chain order");
  m->add_option("--distractors", ma.c.distractors, "conditional: distractor people")->capture_default_str();
  m->add_option("--classes", ma.c.classes, "conditional: classes (2..6)")->capture_default_str();
  m->add_option("--relations", ma.c.relations, "conditional: relations (2..6)")->capture_default_str();
  m->add_option("--length", ma.length, "khop: string length L")->capture_default_str();
  m->add_option("--alphabet", ma.alphabet, "khop: alphabet size")->capture_default_str();
  m->callback([] { sample_command(ma); });

  static EmergenceArgs ea;
  auto* e = r->add_subcommand("emergence", "per head of a retrieval training run: final role, score and the "
                                           "snapshot step at which it emerged; the order over runs (seeds)");
  e->add_option("runs", ea.runs, "run directories (attnlab train --out; snapshots on)")->required();
  e->add_option("-o,--out", ea.out, "write OUT/emergence.json and OUT/emergence.svg (timeline)");
  e->add_option("--threshold", ea.opt.threshold, "a role is assigned when its score reaches this")->capture_default_str();
  e->add_option("--min-support", ea.opt.min_support, "probe rows a role needs to be scored")->capture_default_str();
  e->callback([] { emergence_command(ea); });
}

}  // namespace attnlab
