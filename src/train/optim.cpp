#include "train/optim.h"

#include <cmath>

#include "util/error.h"

namespace attnlab {

namespace {

bool weight_decayed(const torch::Tensor& p) { return p.dim() >= 2; }

}  // namespace

Optimizer::Optimizer(const OptimConfig& cfg, NamedTensors params) : cfg_(cfg), params_(std::move(params)) {
  const bool adam = cfg_.name == "adamw";
  bool flat = !params_.empty();
  for (const auto& [name, p] : params_)
    flat = flat && p.is_leaf() && p.requires_grad() && p.scalar_type() == params_[0].second.scalar_type() &&
           p.device() == params_[0].second.device();
  if (!flat) {
    for (auto& [name, p] : params_) {
      m_.push_back(torch::zeros_like(p));
      if (adam) v_.push_back(torch::zeros_like(p));
    }
    return;
  }
  torch::NoGradGuard no_grad;
  std::vector<size_t> order;  // decayed matrices first, so that weight decay is one slice
  for (int pass = 0; pass < 2; ++pass)
    for (size_t i = 0; i < params_.size(); ++i)
      if (weight_decayed(params_[i].second) == (pass == 0)) order.push_back(i);
  int64_t total = 0;
  for (const auto& [name, p] : params_) total += p.numel();
  const auto opts = params_[0].second.options();
  p_flat_ = torch::empty({total}, opts);
  m_flat_ = torch::zeros({total}, opts);
  if (adam) v_flat_ = torch::zeros({total}, opts);
  m_.resize(params_.size());
  if (adam) v_.resize(params_.size());
  offset_.assign(params_.size(), 0);
  int64_t off = 0;
  for (size_t i : order) {
    torch::Tensor& p = params_[i].second;
    const int64_t n = p.numel();
    torch::Tensor slot = p_flat_.narrow(0, off, n).view(p.sizes());
    slot.copy_(p);
    p.set_data(slot);
    m_[i] = m_flat_.narrow(0, off, n).view(p.sizes());
    if (adam) v_[i] = v_flat_.narrow(0, off, n).view(p.sizes());
    offset_[i] = off;
    off += n;
    if (weight_decayed(p)) n_decay_ = off;
  }
}

bool Optimizer::flat_ready() {
  if (!p_flat_.defined()) return false;
  const size_t elem = p_flat_.element_size();
  auto slot_ptr = [&](const torch::Tensor& flat, size_t i) { return static_cast<char*>(flat.data_ptr()) + offset_[i] * elem; };
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].second.data_ptr() != slot_ptr(p_flat_, i)) {  // reloaded or re-assigned elsewhere
      p_flat_ = grad_flat_ = torch::Tensor();                      // the per-parameter path from now on
      return false;
    }
  for (const auto& [name, p] : params_)
    if (!p.grad().defined()) return false;
  // adopt gradients that are not in their slots yet (the first backward, or grads replaced / set to none)
  torch::NoGradGuard no_grad;
  if (!grad_flat_.defined()) grad_flat_ = torch::zeros_like(p_flat_);
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i].second;
    if (p.grad().data_ptr() == slot_ptr(grad_flat_, i)) continue;
    torch::Tensor slot = grad_flat_.narrow(0, offset_[i], p.numel()).view(p.sizes());
    slot.copy_(p.grad());
    p.mutable_grad() = slot;
  }
  return true;
}

void Optimizer::zero_grad() {
  if (flat_ready()) {
    grad_flat_.zero_();
    return;
  }
  for (auto& [name, p] : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

double Optimizer::clip_grad_norm(double max_norm) {
  torch::NoGradGuard no_grad;
  // per-parameter norms (as before the flat buffers: the same total to the last bit, so runs reproduce)
  const bool flat = flat_ready();
  std::vector<torch::Tensor> norms;
  for (auto& [name, p] : params_)
    if (p.grad().defined()) norms.push_back(p.grad().norm().to(torch::kFloat64));
  if (norms.empty()) return 0.0;
  double total = torch::stack(norms).norm().item<double>();
  if (max_norm > 0 && total > max_norm) {
    double scale = max_norm / (total + 1e-6);
    if (flat) {
      grad_flat_.mul_(scale);
      return total;
    }
    for (auto& [name, p] : params_)
      if (p.grad().defined()) p.mutable_grad().mul_(scale);
  }
  return total;
}

// One update of p with gradient g and moment buffers m, v (the flat buffers or one parameter's views); the
// first n_decay rows of p are weight-decayed (all or none of them for a single parameter).
void Optimizer::update(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v, int64_t n_decay,
                       double lr) {
  const bool adam = cfg_.name == "adamw";
  const bool decay = cfg_.weight_decay > 0 && n_decay > 0;
  if (adam) {
    const double bc1 = 1.0 - std::pow(cfg_.beta1, static_cast<double>(steps_));
    const double bc2 = 1.0 - std::pow(cfg_.beta2, static_cast<double>(steps_));
    if (decay) p.narrow(0, 0, n_decay).mul_(1.0 - lr * cfg_.weight_decay);
    m.mul_(cfg_.beta1).add_(g, 1.0 - cfg_.beta1);
    v.mul_(cfg_.beta2).addcmul_(g, g, 1.0 - cfg_.beta2);
    auto denom = (v.sqrt() / std::sqrt(bc2)).add_(cfg_.eps);
    p.addcdiv_(m, denom, -lr / bc1);
    return;
  }
  torch::Tensor step = g;
  if (decay) {
    step = g.clone();
    step.narrow(0, 0, n_decay).add_(p.narrow(0, 0, n_decay), cfg_.weight_decay);
  }
  if (cfg_.momentum > 0) {
    if (steps_ == 1) m.copy_(step);
    else m.mul_(cfg_.momentum).add_(step);
    step = m;
  }
  p.add_(step, -lr);
}

void Optimizer::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  if (flat_ready()) {
    update(p_flat_, grad_flat_, m_flat_, cfg_.name == "adamw" ? v_flat_ : m_flat_, n_decay_, lr);
    return;
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i].second;
    if (!p.grad().defined()) continue;
    torch::Tensor& v = cfg_.name == "adamw" ? v_[i] : m_[i];
    update(p, p.grad(), m_[i], v, weight_decayed(p) ? p.size(0) : 0, lr);  // narrow(0, 0, size(0)): all of p
  }
}

NamedTensors Optimizer::state() const {
  NamedTensors s;
  const bool adam = cfg_.name == "adamw";
  for (size_t i = 0; i < params_.size(); ++i) {
    s.emplace_back((adam ? "exp_avg." : "momentum.") + params_[i].first, m_[i]);
    if (adam) s.emplace_back("exp_avg_sq." + params_[i].first, v_[i]);
  }
  return s;
}

void Optimizer::state_load(const NamedTensors& state, int64_t steps) {
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  auto expected = this->state();
  std::vector<std::string> problems;
  for (const auto& [name, t] : expected) {
    auto it = by_name.find(name);
    if (it == by_name.end()) problems.push_back("missing optimiser tensor '" + name + "'");
    else if (it->second.sizes() != t.sizes()) problems.push_back("optimiser tensor '" + name + "' has the wrong shape");
  }
  if (!problems.empty()) {
    std::string msg = "optimiser state does not match the model and optimiser of this config:";
    for (const auto& p : problems) msg += "\n  - " + p;
    throw Error(msg, "the checkpoint belongs to another config; use a fresh --out directory");
  }
  torch::NoGradGuard no_grad;
  const bool adam = cfg_.name == "adamw";
  for (size_t i = 0; i < params_.size(); ++i) {
    m_[i].copy_(by_name.at((adam ? "exp_avg." : "momentum.") + params_[i].first));
    if (adam) v_[i].copy_(by_name.at("exp_avg_sq." + params_[i].first));
  }
  steps_ = steps;
}

double schedule_lr(const ScheduleConfig& s, double base_lr, int64_t step, int64_t total) {
  if (step < s.warmup) return base_lr * static_cast<double>(step + 1) / static_cast<double>(s.warmup);
  if (s.decay == "constant") return base_lr;
  const int64_t span = std::max<int64_t>(1, total - 1 - s.warmup);
  const double progress = std::min(1.0, static_cast<double>(step - s.warmup) / static_cast<double>(span));
  const double shape = s.decay == "cosine" ? 0.5 * (1.0 + std::cos(M_PI * progress)) : 1.0 - progress;
  return base_lr * (s.min_lr_ratio + (1.0 - s.min_lr_ratio) * shape);
}

}  // namespace attnlab
