// `attnlab gp sectors`: the S_L isotypic structure of a kernel that need not be permutation invariant (causal
// masks, decayed positions, last-token readouts; src/gp/sectors.h, docs/gp.md). Per irrep λ: the sector's
// dimension d_λ·#SSYT, its trace and share of tr T, its leakage, the top eigenvalues of T compressed to it;
// overall the symmetry defect; and the irrep weights of T's top eigenvectors. Writes sectors.json + .svg.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/gp_args.h"
#include "gp/plot.h"
#include "gp/sectors.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

using nlohmann::json;
using namespace gp;
using namespace gp_args;

struct SectorArgs {
  std::string spec = "embed(pos=decay,ell=1) | attn(tied) | relu | meanpool";
  int vocab = 2, length = 8;
  std::string probs;  // token probabilities "0.7,0.3" (default uniform)
  int top = 10;       // leading eigenvectors of T to analyse
  std::string out = "gp_out";
  uint64_t seed = 0;
  int mc_replicas = 8;
};

void check_args(const SectorArgs& a) {
  check_vocab_length(a.vocab, a.length);
  check(std::pow((double)a.vocab, (double)a.length) <= (double)kSectorsMaxSequences,
        "sectors: V^L = " + std::to_string(a.vocab) + "^" + std::to_string(a.length) + " exceeds " +
            std::to_string(kSectorsMaxSequences) + " sequences (T is a dense V^L x V^L matrix, fully diagonalised)",
        "use V^L <= 4096: V = 2 up to L = 12, V = 3 up to L = 7, V = 4 up to L = 6, V = 8 up to L = 4");
  check(a.top >= 0, "--top " + std::to_string(a.top) + " is negative", "use --top 0 to skip the eigenvectors");
  check(a.mc_replicas >= 2, "--mc-replicas must be >= 2", "e.g. --mc-replicas 8");
}

json sectors_json(const Sectors& s, const SectorArgs& a) {
  json secs = json::array(), top = json::array();
  for (const auto& st : s.sectors)
    secs.push_back({{"lambda", st.lambda}, {"name", partition_name(st.lambda)}, {"irrep_dim", st.irrep_dim},
                    {"multiplicity", st.multiplicity}, {"dim", st.rank}, {"trace", st.trace}, {"share", st.share},
                    {"leakage", st.leakage}, {"eigenvalues", st.eigenvalues}});
  for (const auto& m : s.top)
    top.push_back({{"eigenvalue", m.eigenvalue}, {"weights", m.weights}, {"dominant", m.dominant},
                   {"dominant_name", partition_name(s.sectors[m.dominant].lambda)}});
  return {{"spec", a.spec}, {"vocab", s.vocab}, {"length", s.length}, {"token_probs", s.token_probs},
          {"sectors", secs}, {"trace", s.trace}, {"expected_diag", s.expected_diag}, {"norm", s.norm},
          {"defect", s.defect}, {"top", top},
          {"seconds", {{"kernel", s.seconds_kernel}, {"basis", s.seconds_basis}, {"sectors", s.seconds_sectors},
                       {"eigh", s.seconds_eigh}, {"total", s.seconds}}}};
}

void print_tables(const Sectors& s) {
  std::printf("%-16s %6s %13s %10s %10s  %s\n", "irrep", "dim", "sector trace", "share", "leakage",
              "top eigenvalues of T_lambda");
  for (const auto& st : s.sectors) {
    std::printf("%-16s %6ld %13.6e %10.3e %10.3e ", partition_name(st.lambda).c_str(), (long)st.rank, st.trace, st.share,
                st.leakage);
    for (size_t i = 0; i < st.eigenvalues.size() && i < 4; ++i) std::printf(" %.4e", st.eigenvalues[i]);
    std::printf("%s\n", st.eigenvalues.size() > 4 ? " ..." : "");
  }
  std::printf("trace %.12g   E K(x,x) %.12g   defect %.6e   %.2f s\n", s.trace, s.expected_diag, s.defect, s.seconds);
  if (s.top.empty()) return;
  std::printf("%4s %14s %-16s %10s\n", "i", "eigenvalue", "dominant irrep", "weight");
  for (size_t i = 0; i < s.top.size(); ++i) {
    const auto& m = s.top[i];
    std::printf("%4zu %14.6e %-16s %10.6f\n", i + 1, m.eigenvalue, partition_name(s.sectors[m.dominant].lambda).c_str(),
                m.weights[m.dominant]);
  }
}

void gp_sectors(const SectorArgs& a) {
  cli_runtime_init();
  check_args(a);
  auto spec = kernel_spec_parse(a.spec);
  auto probs = token_probs(a.probs, a.vocab);
  dir_create(a.out);
  GramOptions opt;
  opt.vocab = a.vocab;
  opt.seed = a.seed;
  opt.mc_replicas = a.mc_replicas;
  progress("sectors: V = " + std::to_string(a.vocab) + ", L = " + std::to_string(a.length) + ", spec '" + a.spec + "'");
  auto s = kernel_sectors(spec, a.vocab, a.length, probs, opt, a.top, progress);
  print_tables(s);
  PlotSeries share{"sector trace share"}, leak{"leakage"};
  share.markers_only = leak.markers_only = true;
  std::string names;
  for (size_t i = 0; i < s.sectors.size(); ++i) {
    share.x.push_back(i + 1), share.y.push_back(s.sectors[i].share);
    leak.x.push_back(i + 1), leak.y.push_back(s.sectors[i].leakage);
    names += (i ? " " : "") + std::to_string(i + 1) + "=" + partition_name(s.sectors[i].lambda);
  }
  write_text(a.out + "/sectors.json", sectors_json(s, a).dump(1), "sectors");
  write_text(a.out + "/sectors.svg",
             plot_svg({"S_L sectors, V=" + std::to_string(a.vocab) + " L=" + std::to_string(a.length) + ": " + a.spec,
                       "irrep (" + names + ")", "share of tr T / leakage", false, true, {share, leak}}),
             "plot");
}

}  // namespace

void cmd_gp_sectors_register(CLI::App* gp) {
  static SectorArgs a;
  auto* sub = gp->add_subcommand("sectors", "S_L isotypic sectors of any kernel (causal, decayed positions, last)");
  sub->add_option("--spec", a.spec, "architecture, e.g. 'embed(pos=decay,ell=1) | attn(tied,causal) | relu | last'")
      ->capture_default_str();
  sub->add_option("-V,--vocab", a.vocab, "vocabulary size V")->capture_default_str();
  sub->add_option("-L,--length", a.length, "sequence length L (V^L <= 4096)")->capture_default_str();
  sub->add_option("--probs", a.probs, "token probabilities p_1,...,p_V (default uniform)");
  sub->add_option("--top", a.top, "leading eigenvectors of T to analyse (0: skip the eigendecomposition)")
      ->capture_default_str();
  sub->add_option("-o,--out", a.out, "output directory")->capture_default_str();
  sub->add_option("--seed", a.seed, "random seed (Monte Carlo specs)")->capture_default_str();
  sub->add_option("--mc-replicas", a.mc_replicas, "Monte Carlo replicas (attn(sqrt) specs)")->capture_default_str();
  sub->callback([] { gp_sectors(a); });
}

}  // namespace attnlab
