#include "train/optim.h"

#include <cmath>

#include "util/error.h"

namespace attnlab {

Optimizer::Optimizer(const OptimConfig& cfg, NamedTensors params) : cfg_(cfg), params_(std::move(params)) {
  for (auto& [name, p] : params_) {
    m_.push_back(torch::zeros_like(p));
    if (cfg_.name == "adamw") v_.push_back(torch::zeros_like(p));
  }
}

void Optimizer::zero_grad() {
  for (auto& [name, p] : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

double Optimizer::clip_grad_norm(double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (auto& [name, p] : params_)
    if (p.grad().defined()) norms.push_back(p.grad().norm().to(torch::kFloat64));
  if (norms.empty()) return 0.0;
  double total = torch::stack(norms).norm().item<double>();
  if (max_norm > 0 && total > max_norm) {
    double scale = max_norm / (total + 1e-6);
    for (auto& [name, p] : params_)
      if (p.grad().defined()) p.mutable_grad().mul_(scale);
  }
  return total;
}

void Optimizer::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const bool adam = cfg_.name == "adamw";
  const double bc1 = 1.0 - std::pow(cfg_.beta1, static_cast<double>(steps_));
  const double bc2 = 1.0 - std::pow(cfg_.beta2, static_cast<double>(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i].second;
    if (!p.grad().defined()) continue;
    torch::Tensor g = p.grad();
    const bool decay = cfg_.weight_decay > 0 && p.dim() >= 2;
    if (adam) {
      if (decay) p.mul_(1.0 - lr * cfg_.weight_decay);
      m_[i].mul_(cfg_.beta1).add_(g, 1.0 - cfg_.beta1);
      v_[i].mul_(cfg_.beta2).addcmul_(g, g, 1.0 - cfg_.beta2);
      auto denom = (v_[i].sqrt() / std::sqrt(bc2)).add_(cfg_.eps);
      p.addcdiv_(m_[i], denom, -lr / bc1);
    } else {
      if (decay) g = g.add(p, cfg_.weight_decay);
      if (cfg_.momentum > 0) {
        if (steps_ == 1) m_[i].copy_(g);
        else m_[i].mul_(cfg_.momentum).add_(g);
        g = m_[i];
      }
      p.add_(g, -lr);
    }
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
