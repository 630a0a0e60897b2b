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

}  // namespace

torch::Tensor loss_cross_entropy(const torch::Tensor& logits, const TrainBatch& batch) {
  Aligned a = align(logits, batch);
  const int64_t O = a.logits.size(2);
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
