// Permutation-symmetry statistics of text windows (see text_symmetry.h).
#include "gp/text_symmetry.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>
#include <unordered_map>

#include <torch/torch.h>

#include "util/error.h"

namespace attnlab::gp {

namespace {

// C [L, L] from windows [W, L] of token ids.
torch::Tensor position_cov(const torch::Tensor& windows, int vocab) {
  auto oh = torch::one_hot(windows, vocab).to(torch::kFloat64);  // [W, L, V]
  double w = (double)windows.size(0);
  auto joint = torch::einsum("alv,amv->lm", {oh, oh}) / w;       // Σ_v P(x_μ = v, x_ν = v)
  auto marg = oh.mean(0);                                       // [L, V]
  return joint - torch::matmul(marg, marg.t());
}

double symmetry_defect(const torch::Tensor& c) {
  int64_t L = c.size(0);
  auto eye = torch::eye(L, torch::kFloat64);
  double a = c.diagonal().mean().item<double>();
  double b = L > 1 ? ((c.sum() - c.diagonal().sum()) / (double)(L * (L - 1))).item<double>() : 0.0;
  auto sym = a * eye + b * (1 - eye);
  return ((c - sym).norm() / c.norm()).item<double>();
}

}  // namespace

std::vector<int> text_tokenize(const std::string& text, int vocab) {
  check(vocab >= 2, "text_tokenize: vocab must be >= 2", "use --vocab >= 2");
  std::vector<std::string> words;
  std::string cur;
  for (char ch : text) {
    unsigned char c = (unsigned char)ch;
    if (std::isalpha(c)) {
      cur += (char)std::tolower(c);
    } else if (std::isdigit(c)) {
      cur.clear();  // letters run into digits: a verse/line reference such as "Ge1:1", not a word
    } else if (c != '\'' && !cur.empty()) {
      words.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(cur);
  std::unordered_map<std::string, int64_t> count;
  for (const auto& w : words) ++count[w];
  std::vector<std::pair<int64_t, std::string>> order;
  for (const auto& [w, n] : count) order.push_back({-n, w});
  std::sort(order.begin(), order.end());
  std::unordered_map<std::string, int> id;
  for (int i = 0; i < (int)order.size() && i < vocab - 1; ++i) id[order[i].second] = i;
  std::vector<int> out;
  out.reserve(words.size());
  for (const auto& w : words) {
    auto it = id.find(w);
    out.push_back(it == id.end() ? vocab - 1 : it->second);
  }
  return out;
}

std::vector<int> synthetic_text(const std::string& kind, int64_t n, int vocab, int length, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> zipf(vocab);
  for (int v = 0; v < vocab; ++v) zipf[v] = 1.0 / (v + 1);
  std::discrete_distribution<int> unigram(zipf.begin(), zipf.end());
  std::vector<int> out(n);
  if (kind == "iid") {
    for (auto& t : out) t = unigram(rng);
  } else if (kind == "exchangeable") {
    std::vector<std::discrete_distribution<int>> topics;
    for (int k = 0; k < 8; ++k) {
      std::vector<double> w(vocab);
      for (int v = 0; v < vocab; ++v) w[v] = zipf[(v + 7 * k) % vocab];
      topics.emplace_back(w.begin(), w.end());
    }
    std::uniform_int_distribution<int> pick(0, 7);
    for (int64_t i = 0; i < n; i += length) {
      auto& topic = topics[pick(rng)];
      for (int64_t j = i; j < std::min(n, i + length); ++j) out[j] = topic(rng);
    }
  } else if (kind == "markov") {
    std::uniform_real_distribution<double> u(0, 1);
    out[0] = unigram(rng);
    for (int64_t i = 1; i < n; ++i) out[i] = u(rng) < 0.5 ? out[i - 1] : unigram(rng);
  } else {
    throw Error("unknown synthetic text '" + kind + "'", "use iid, exchangeable or markov");
  }
  return out;
}

TextSymmetry text_symmetry(const std::vector<int>& tokens, int vocab, int length, uint64_t seed) {
  int64_t w = (int64_t)tokens.size() / length;
  check(length >= 2 && w >= 2, "text_symmetry: " + std::to_string(tokens.size()) + " tokens make fewer than 2 windows of " +
                                   std::to_string(length), "use a longer corpus or a shorter --L");
  std::vector<int64_t> ids(tokens.begin(), tokens.begin() + w * length);
  auto windows = torch::tensor(ids, torch::kInt64).view({w, length});
  TextSymmetry r{w, length, vocab};
  auto c = position_cov(windows, vocab);
  r.defect = symmetry_defect(c);
  r.diag_mean = c.diagonal().mean().item<double>();
  auto gen = at::detail::createCPUGenerator(seed);
  auto keys = at::rand({w, length}, gen, torch::TensorOptions().dtype(torch::kFloat64));
  auto shuffled = windows.gather(1, std::get<1>(keys.sort(1)));
  r.defect_shuffled = symmetry_defect(position_cov(shuffled, vocab));
  auto [ev, vec] = torch::linalg::eigh(c, "L");
  for (int i = 0; i < std::min(4, length); ++i) {
    int64_t j = length - 1 - i;
    r.top_eigenvalues.push_back(ev[j].item<double>());
    r.trivial_weights.push_back(vec.select(1, j).sum().pow(2).item<double>() / length);
  }
  for (int d = 1; d < length; ++d) r.offdiag_by_distance.push_back(c.diagonal(d).mean().item<double>());
  return r;
}

}  // namespace attnlab::gp
