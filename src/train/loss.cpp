#include "train/loss.h"

#include "util/error.h"

namespace attnlab {

namespace {

// logits [B, T', O] and the targets/mask that line up with them ([B, T'] each).
struct Aligned {
  torch::Tensor logits, targets, mask;
};

Aligned align(const torch::Tensor& logits, const TrainBatch& b) {
  const int64_t T = b.targets.size(1);
  check(logits.dim() == 3 && logits.size(0) == b.targets.size(0), "internal: logits " + c10::str(logits.sizes()) +
        " do not match the batch " + c10::str(b.targets.sizes()), "report this as a bug");
  if (logits.size(1) == 1 || b.last_only) {
    check(b.last_only, "this model reads out only the last position but the task scores every position",
          "set model.readout = \"per_position\"");
    return {logits.narrow(1, logits.size(1) - 1, 1), b.targets.narrow(1, T - 1, 1), b.mask.narrow(1, T - 1, 1)};
  }
  return {logits, b.targets, b.mask};
}

// The loss below as one autograd node, for CPU f32 / f64 logits: log_softmax, gather, the mask product, two sums,
// neg and div are seven ops and as many backward nodes, as costly as a layer of a tiny model. This runs the same
// arithmetic: ATen's _log_softmax and sum / mean on equal tensors, the picked · mask products and -S / M in the
// logits' type, and in backward exactly the values autograd's chain produces (-(g / M) · mask, or -g / N, added
// into zeros at the targets) fed to _log_softmax_backward_data, so loss and gradients are bit-identical.
class CrossEntropy : public torch::autograd::Function<CrossEntropy> {
 public:
  // x [N, O] logits, targets [N] int64, mask [N] (unused when last_only) -> scalar
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& targets, const torch::Tensor& mask, bool last_only) {
    const int64_t N = x.size(0), O = x.size(1);
    auto logp = at::_log_softmax(x, 1, false);  // contiguous [N, O]
    auto tgt = targets.contiguous();
    auto picked = torch::empty({N}, x.options());
    torch::Tensor loss, maskv;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "loss_cross_entropy", [&] {
      const scalar_t* lp = logp.data_ptr<scalar_t>();
      const int64_t* t = tgt.data_ptr<int64_t>();
      scalar_t* pk = picked.data_ptr<scalar_t>();
      for (int64_t i = 0; i < N; ++i) {
        if (t[i] < 0 || t[i] >= O)
          throw Error("internal: target " + std::to_string(t[i]) + " is outside the " + std::to_string(O) +
                      " output classes", "report this as a bug");
        pk[i] = lp[i * O + t[i]];
      }
      if (last_only) {
        loss = picked.mean().neg_();
        return;
      }
      maskv = mask.to(x.scalar_type()).contiguous();
      const scalar_t* mk = maskv.data_ptr<scalar_t>();
      for (int64_t i = 0; i < N; ++i) pk[i] *= mk[i];
      const scalar_t S = picked.sum().item<scalar_t>(), M = maskv.sum().item<scalar_t>();
      loss = torch::empty({}, x.options());
      loss.data_ptr<scalar_t>()[0] = -S / M;
      ctx->saved_data["mask_sum"] = static_cast<double>(M);
    });
    ctx->save_for_backward({logp, tgt, last_only ? tgt : maskv});
    ctx->saved_data["last_only"] = last_only;
    return loss;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &logp = saved[0], &tgt = saved[1], &maskv = saved[2];
    const int64_t N = logp.size(0), O = logp.size(1);
    const bool last_only = ctx->saved_data["last_only"].toBool();
    auto g = torch::zeros({N, O}, logp.options());  // d loss / d log_softmax
    AT_DISPATCH_FLOATING_TYPES(logp.scalar_type(), "loss_cross_entropy_backward", [&] {
      const scalar_t go = grad[0].to(logp.scalar_type()).item<scalar_t>();
      const int64_t* t = tgt.data_ptr<int64_t>();
      scalar_t* gp = g.data_ptr<scalar_t>();
      const scalar_t zero = 0;
      if (last_only) {
        const scalar_t v = -go / static_cast<scalar_t>(N);  // neg, then mean's grad / N
        for (int64_t i = 0; i < N; ++i) gp[i * O + t[i]] = zero + v;  // gather's backward adds into zeros
        return;
      }
      const scalar_t gm = -(go / static_cast<scalar_t>(ctx->saved_data["mask_sum"].toDouble()));  // div, neg
      const scalar_t* mk = maskv.data_ptr<scalar_t>();
      for (int64_t i = 0; i < N; ++i) gp[i * O + t[i]] = zero + gm * mk[i];  // · mask, then into zeros
    });
    return {at::_log_softmax_backward_data(g, logp, 1, logp.scalar_type()), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor loss_cross_entropy(const torch::Tensor& logits, const TrainBatch& batch) {
  Aligned a = align(logits, batch);
  const int64_t O = a.logits.size(2);
  if (logits.device().is_cpu() && (logits.scalar_type() == torch::kFloat32 || logits.scalar_type() == torch::kFloat64))
    return CrossEntropy::apply(a.logits.reshape({-1, O}), a.targets.reshape({-1}), a.mask.reshape({-1}),
                               batch.last_only);
  auto logp = torch::log_softmax(a.logits.reshape({-1, O}), 1);               // [B*T', O]
  auto picked = logp.gather(1, a.targets.reshape({-1, 1}).to(logits.device())).squeeze(1);  // [B*T']
  auto mask = a.mask.reshape({-1}).to(logits.device(), logits.scalar_type());
  if (batch.last_only) return -picked.mean();  // every example scores exactly one position
  return -(picked * mask).sum() / mask.sum();
}

void AccuracyCounts::add(const AccuracyCounts& o) {
  token_correct += o.token_correct;
  token_total += o.token_total;
  exact_correct += o.exact_correct;
  exact_total += o.exact_total;
}

AccuracyCounts accuracy_count(const torch::Tensor& logits, const TrainBatch& batch) {
  Aligned a = align(logits, batch);
  auto pred = a.logits.argmax(2).cpu();                 // [B, T']
  auto scored = a.mask.cpu() > 0.5;                     // [B, T']
  auto right = (pred == a.targets.cpu()) & scored;
  AccuracyCounts c;
  c.token_correct = right.sum().item<int64_t>();
  c.token_total = scored.sum().item<int64_t>();
  auto wrong_any = (scored & ~right).any(1);             // [B]
  c.exact_total = pred.size(0);
  c.exact_correct = c.exact_total - wrong_any.sum().item<int64_t>();
  return c;
}

}  // namespace attnlab
