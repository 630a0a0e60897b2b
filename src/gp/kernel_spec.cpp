// Text form of the kernel architecture specs (see kernel_spec.h): items split on top-level '|', each
// `name` or `name(arg, key=value, ...)`; res(...) nests a chain.
#include "gp/kernel_spec.h"

#include <cctype>
#include <cstdlib>
#include <functional>

#include "util/error.h"

namespace attnlab::gp {

namespace {

const char* kItems = "embed(...), dense(...), relu, erf, attn(...), res(...), meanpool, last";

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\n"), b = s.find_last_not_of(" \t\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Splits on `sep` outside parentheses.
std::vector<std::string> split_top(const std::string& s, char sep, const std::string& whole) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) throw Error("spec '" + whole + "': unbalanced ')'", "check the parentheses");
    if (c == sep && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (depth != 0) throw Error("spec '" + whole + "': unbalanced '('", "check the parentheses");
  out.push_back(trim(cur));
  return out;
}

double parse_number(const std::string& key, const std::string& v, const std::string& item) {
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0')
    throw Error("spec item '" + item + "': " + key + "='" + v + "' is not a number", "write e.g. " + key + "=0.5");
  return x;
}

void embed_arg(LayerSpec& l, const std::string& key, const std::string& val, const std::string& item) {
  if (key == "onehot") l.tokens = TokenEmbed::OneHot;
  else if (key == "random") l.tokens = TokenEmbed::Random;
  else if (key == "pos" && val == "none") l.pos = PosKind::None;
  else if (key == "pos" && val == "iid") l.pos = PosKind::Iid;
  else if (key == "pos" && val == "decay") l.pos = PosKind::Decay;
  else if (key == "pos") throw Error("spec item '" + item + "': unknown pos='" + val + "'", "pos is none, iid or decay");
  else if (key == "se") l.sigma_e2 = parse_number(key, val, item);
  else if (key == "sp") l.sigma_p2 = parse_number(key, val, item);
  else if (key == "ell") l.decay_length = parse_number(key, val, item);
  else if (key == "dim") l.random_dim = (int)parse_number(key, val, item);
  else if (key == "seed") l.seed = (uint64_t)parse_number(key, val, item);
  else throw Error("spec item '" + item + "': unknown argument '" + key + "'",
                   "embed takes onehot|random, pos=none|iid|decay, se=, sp=, ell=, dim=, seed=");
}

void attn_arg(LayerSpec& l, const std::string& key, const std::string& val, const std::string& item) {
  if (key == "softmax" || key == "tied") l.kind = LayerKind::AttnTied;
  else if (key == "identity") l.kind = LayerKind::AttnIdentity;
  else if (key == "sqrt") l.kind = LayerKind::AttnSqrt;
  else if (key == "causal") l.causal = true;
  else if (key == "qk") l.sigma_qk2 = parse_number(key, val, item);
  else if (key == "v") l.sigma_w2 = parse_number(key, val, item);
  else if (key == "b") l.sigma_b2 = parse_number(key, val, item);
  else if (key == "M") l.mc_samples = (int)parse_number(key, val, item);
  else throw Error("spec item '" + item + "': unknown argument '" + key + "'",
                   "attn takes softmax|tied (1/d, Q=K), identity, sqrt (1/sqrt(d), Monte Carlo), causal, qk=, v=, b=, M=");
}

std::vector<LayerSpec> parse_chain(const std::string& text, const std::string& whole);

LayerSpec parse_item(const std::string& item, const std::string& whole) {
  size_t open = item.find('(');
  std::string name = trim(item.substr(0, open));
  std::string args;
  if (open != std::string::npos) {
    if (item.back() != ')') throw Error("spec item '" + item + "': text after ')'", "write name(args)");
    args = item.substr(open + 1, item.size() - open - 2);
  }
  LayerSpec l;
  if (name == "res") {
    l.kind = LayerKind::Residual;
    l.inner = parse_chain(args, whole);
    return l;
  }
  std::function<void(LayerSpec&, const std::string&, const std::string&, const std::string&)> on_arg;
  if (name == "embed") { l.kind = LayerKind::Embed; on_arg = embed_arg; }
  else if (name == "attn") { l.kind = LayerKind::AttnTied; on_arg = attn_arg; }
  else if (name == "dense") {
    l.kind = LayerKind::Dense;
    on_arg = [](LayerSpec& s, const std::string& k, const std::string& v, const std::string& it) {
      if (k == "w") s.sigma_w2 = parse_number(k, v, it);
      else if (k == "b") s.sigma_b2 = parse_number(k, v, it);
      else throw Error("spec item '" + it + "': unknown argument '" + k + "'", "dense takes w= and b=");
    };
  } else if (name == "relu") l.kind = LayerKind::Relu;
  else if (name == "erf") l.kind = LayerKind::Erf;
  else if (name == "meanpool") l.kind = LayerKind::MeanPool;
  else if (name == "last") l.kind = LayerKind::LastToken;
  else throw Error("spec: unknown layer '" + name + "' in '" + whole + "'", std::string("the layers are ") + kItems);
  if (!args.empty() && !on_arg) throw Error("spec item '" + item + "': " + name + " takes no arguments", "write " + name);
  if (!args.empty())
    for (const auto& a : split_top(args, ',', whole)) {
      size_t eq = a.find('=');
      on_arg(l, trim(a.substr(0, eq)), eq == std::string::npos ? "" : trim(a.substr(eq + 1)), item);
    }
  return l;
}

std::vector<LayerSpec> parse_chain(const std::string& text, const std::string& whole) {
  std::vector<LayerSpec> out;
  for (const auto& item : split_top(text, '|', whole)) {
    if (item.empty()) throw Error("spec '" + whole + "': an empty item", "items are separated by single '|'");
    out.push_back(parse_item(item, whole));
  }
  return out;
}

bool any_layer(const std::vector<LayerSpec>& ls, const std::function<bool(const LayerSpec&)>& f) {
  for (const auto& l : ls)
    if (f(l) || any_layer(l.inner, f)) return true;
  return false;
}

}  // namespace

KernelSpec kernel_spec_parse(const std::string& text) {
  KernelSpec spec;
  spec.text = text;
  spec.layers = parse_chain(text, text);
  const auto& ls = spec.layers;
  check(ls.front().kind == LayerKind::Embed, "spec '" + text + "' does not start with embed(...)",
        "start with e.g. embed(pos=iid)");
  bool readout = ls.back().kind == LayerKind::MeanPool || ls.back().kind == LayerKind::LastToken;
  check(readout, "spec '" + text + "' does not end with a readout", "end with meanpool or last");
  for (size_t i = 1; i + 1 < ls.size(); ++i) {
    auto k = ls[i].kind;
    check(k != LayerKind::Embed && k != LayerKind::MeanPool && k != LayerKind::LastToken,
          "spec '" + text + "': item " + std::to_string(i + 1) + " (embed or a readout) is in the middle",
          "embed comes first and one readout last");
  }
  bool bad_inner = any_layer(ls[0].inner, [](const LayerSpec&) { return true; });
  for (const auto& l : ls)
    bad_inner = bad_inner || any_layer(l.inner, [](const LayerSpec& x) {
                  return x.kind == LayerKind::Embed || x.kind == LayerKind::MeanPool || x.kind == LayerKind::LastToken;
                });
  check(!bad_inner, "spec '" + text + "': res(...) holds an embed or a readout", "res(...) wraps hidden layers only");
  return spec;
}

bool KernelSpec::has_monte_carlo() const {
  return any_layer(layers, [](const LayerSpec& l) { return l.kind == LayerKind::AttnSqrt; });
}

namespace {

// Attention layers in the order the covariance passes through them (residual branches inlined).
void attention_layers(const std::vector<LayerSpec>& ls, std::vector<const LayerSpec*>& out) {
  for (const auto& l : ls) {
    if (l.kind == LayerKind::Residual) attention_layers(l.inner, out);
    if (l.kind == LayerKind::AttnIdentity || l.kind == LayerKind::AttnTied || l.kind == LayerKind::AttnSqrt)
      out.push_back(&l);
  }
}

}  // namespace

// Every layer but attention acts position-wise (equivariant under any simultaneous permutation); attention
// without a mask is equivariant too. A causal mask breaks equivariance of every query row but the last, which
// sees all keys: the (L−1, L−1) entry stays S_{L−1}-invariant if no later layer mixes positions.
SymmetryGroup KernelSpec::symmetry() const {
  if (layers.empty() || layers[0].pos == PosKind::Decay) return SymmetryGroup::None;
  std::vector<const LayerSpec*> attn;
  attention_layers(layers, attn);
  bool causal_before_last = false;
  for (size_t i = 0; i + 1 < attn.size(); ++i) causal_before_last = causal_before_last || attn[i]->causal;
  bool causal_last = !attn.empty() && attn.back()->causal;
  bool last_readout = layers.back().kind == LayerKind::LastToken;
  if (causal_before_last || (causal_last && !last_readout)) return SymmetryGroup::None;
  return last_readout ? SymmetryGroup::AllButLast : SymmetryGroup::Full;
}

bool KernelSpec::permutation_symmetric() const { return symmetry() == SymmetryGroup::Full; }

std::string symmetry_group_name(SymmetryGroup g) {
  return g == SymmetryGroup::Full ? "S_L" : g == SymmetryGroup::AllButLast ? "S_{L-1}" : "none";
}

}  // namespace attnlab::gp
