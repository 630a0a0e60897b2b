// Custom autograd nodes behind the transformer runtime (model/transformer_ops.h): per-entry BLAS gemm for
// attention's many small matrices (SmallBmm), and, for the unhooked forward, a whole attention layer (AttnLayer),
// each x W + b (LinearFn) and the token + position embedding (EmbedPos) as one node each. Every node runs the same
// floating-point operations in the same order as the plain LibTorch expression it replaces (same ATen kernels and
// gemm calls; backward = autograd's own formulas), so results are bit-identical with and without hooks.
// Shapes: B batch, T (L in kernels) seq len, R = d_model, H heads, D = d_head.
#include "model/transformer_ops.h"

#include <dlfcn.h>

#include <cmath>
#include <limits>
#include <type_traits>

namespace attnlab {

namespace {

// ---- batched matmul of many small CPU matrices ----
// ATen's CPU bmm without MKL loops over the batch and dispatches select + select + select + addmm per entry: for
// attention at B·H = 64 entries of 16 × 16 that is ~1200 dispatched ops per training step, most of a tiny
// model's step. Here the same Fortran BLAS gemm that ATen ends in (sgemm_/dgemm_, found in the process because
// LibTorch links it) is called directly per entry, with the operand order and transpose flags ATen uses for
// contiguous row-major operands, and the backward is the same two products. Falls back to torch::matmul when the
// BLAS symbols are absent, off the CPU, or for other dtypes.
using sgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                         const int*, const float*, const int*, const float*, float*, const int*);
using dgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*, const double*, const double*,
                         const int*, const double*, const int*, const double*, double*, const int*);

struct Blas {
  sgemm_t sgemm = reinterpret_cast<sgemm_t>(dlsym(RTLD_DEFAULT, "sgemm_"));
  dgemm_t dgemm = reinterpret_cast<dgemm_t>(dlsym(RTLD_DEFAULT, "dgemm_"));
};

const Blas& blas() {
  static const Blas b;
  return b;
}

bool blas_ok(const torch::Tensor& t) {
  return t.device().is_cpu() && (t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kFloat64) &&
         blas().sgemm != nullptr && blas().dgemm != nullptr;
}

// A batch of row-major matrices indexed by (i, j): entry (i, j) starts at p + i·si + j·sj, its rows ld apart. The
// leading dimension lets gemm read a head's q, k or v straight out of the fused [B, T, 3, H, D] projection (and
// write z into [B, T, H, D]); gemm's arithmetic does not depend on it (only the addresses do).
template <typename T>
struct Mats {
  T* p;
  int64_t si, sj;
  int ld;
  T* at(int64_t i, int64_t j) const { return p + i * si + j * sj; }
};

// c(i, j) = op(x(i, j)) · op(y(i, j)) for i < ni, j < nj; op transposes when tx / ty; m × k times k × n. Row-major
// C = A B is column-major Cᵀ = Bᵀ Aᵀ, so gemm gets (y, x) with m = cols of C, n = rows of C.
template <typename T>
void gemm_batch(int64_t ni, int64_t nj, int m, int n, int k, Mats<const T> x, bool tx, Mats<const T> y, bool ty,
                Mats<T> c) {
  const char ta = tx ? 'T' : 'N', tb = ty ? 'T' : 'N';
  const T one = 1, zero = 0;
  for (int64_t i = 0; i < ni; ++i)
    for (int64_t j = 0; j < nj; ++j) {
      if constexpr (std::is_same_v<T, float>)
        blas().sgemm(&tb, &ta, &n, &m, &k, &one, y.at(i, j), &y.ld, x.at(i, j), &x.ld, &zero, c.at(i, j), &c.ld);
      else
        blas().dgemm(&tb, &ta, &n, &m, &k, &one, y.at(i, j), &y.ld, x.at(i, j), &x.ld, &zero, c.at(i, j), &c.ld);
    }
}

// Contiguous [N, rows, cols] as a batch (N, 1).
template <typename T>
Mats<T> mats(const torch::Tensor& t) {
  return {t.data_ptr<std::remove_const_t<T>>(), t.size(1) * t.size(2), 0, static_cast<int>(t.size(2))};
}

// out[i] = op(x[i]) · op(y[i]) for x, y [N, ., .]; op transposes when tx / ty.
torch::Tensor bmm_raw(const torch::Tensor& x, bool tx, const torch::Tensor& y, bool ty) {
  torch::Tensor xc = x.contiguous(), yc = y.contiguous();
  const int64_t m = tx ? xc.size(2) : xc.size(1), n = ty ? yc.size(1) : yc.size(2), k = tx ? xc.size(1) : xc.size(2);
  torch::Tensor out = torch::empty({xc.size(0), m, n}, xc.options());
  if (out.numel() == 0) return out;
  auto run = [&](auto tag) {
    using T = decltype(tag);
    gemm_batch<T>(xc.size(0), 1, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), mats<const T>(xc), tx,
                  mats<const T>(yc), ty, mats<T>(out));
  };
  if (xc.scalar_type() == torch::kFloat32) run(float{});
  else run(double{});
  return out;
}

class SmallBmm : public torch::autograd::Function<SmallBmm> {
 public:
  // a [N, m, k], b [N, k, n] -> [N, m, n]
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return bmm_raw(a, false, b, false);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor& g = grad[0];
    return {bmm_raw(g, false, saved[1], true), bmm_raw(saved[0], true, g, false)};  // dC Bᵀ, Aᵀ dC
  }
};

// a [..., m, k] · b [..., k, n] with the same leading dims (no broadcasting).
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  const bool fast = blas_ok(a) && b.device().is_cpu() && a.scalar_type() == b.scalar_type() && a.dim() >= 3 &&
                    a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2) && a.dim() == b.dim();
  if (!fast) return torch::matmul(a, b);
  std::vector<int64_t> lead(a.sizes().begin(), a.sizes().end() - 2);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  auto out = SmallBmm::apply(a.reshape({-1, m, k}), b.reshape({-1, k, n}));
  lead.push_back(m);
  lead.push_back(n);
  return out.view(lead);
}

// ---- mm / addmm backward as autograd computes it (FunctionsManual's mm_mat1_backward / mm_mat2_backward) ----
bool col_major(const torch::Tensor& t) { return t.stride(0) == 1 && t.stride(1) == t.size(0); }
torch::Tensor mm_mat1_grad(const torch::Tensor& g, const torch::Tensor& mat1, const torch::Tensor& mat2) {
  return col_major(mat1) ? mat2.mm(g.t()).t() : g.mm(mat2.t());
}
torch::Tensor mm_mat2_grad(const torch::Tensor& g, const torch::Tensor& mat1, const torch::Tensor& mat2) {
  return col_major(mat2) ? g.t().mm(mat1).t() : mat1.t().mm(g);
}

// ---- y = x W + b as one autograd node ----
// torch::matmul(x, W).add_(b) for contiguous x [..., K] is reshape + mm + view + add_ with four backward nodes.
// This runs the same mm and add_, and in backward what autograd runs for them: the mm gradients above and
// at::sum_to for the bias, so results are bit-identical.
class LinearFn : public torch::autograd::Function<LinearFn> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    auto x2 = x.reshape({-1, x.size(-1)});  // [N, K]
    std::vector<int64_t> sizes = x.sizes().vec();
    sizes.back() = w.size(1);
    auto y = x2.mm(w).view(sizes);
    y.add_(b);
    ctx->save_for_backward({x2, w});
    ctx->saved_data["x_sizes"] = x.sizes().vec();
    ctx->saved_data["b_sizes"] = b.sizes().vec();
    return y;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &x2 = saved[0], &w = saved[1];
    auto g2 = grad[0].reshape({x2.size(0), w.size(1)});
    torch::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) dx = mm_mat1_grad(g2, x2, w).reshape(ctx->saved_data["x_sizes"].toIntVector());
    if (ctx->needs_input_grad(1)) dw = mm_mat2_grad(g2, x2, w);
    if (ctx->needs_input_grad(2)) db = at::sum_to(grad[0], ctx->saved_data["b_sizes"].toIntVector());
    return {dx, dw, db};
  }
};

// torch::matmul(x, w).add_(b), as one autograd node when x is contiguous (the same values either way).
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  if (x.dim() >= 2 && x.is_contiguous() && w.dim() == 2 && b.dim() == 1) return LinearFn::apply(x, w, b);
  return torch::matmul(x, w).add_(b);
}

// ---- a whole softmax attention layer, x [B, T, R] -> attn_out [B, T, R], as one autograd node ----
// With hooks, AttentionImpl::forward spells the layer out: packing W_Q/W_K/W_V, addmm, unbind, permutes, two
// SmallBmm, an in-place scale and causal mask, softmax, a permute back and the W_O addmm: ~35 autograd nodes
// and six copies. Without hooks the same arithmetic runs here: the same packing, addmm and ATen scale / mask /
// _softmax calls, the same gemm calls as SmallBmm (operands, sizes, transpose flags) with q and v read and z
// written in place through the leading dimension (only kᵀ is copied, as SmallBmm's operand); and in backward the
// formulas autograd applies to each of those ops, in the same order, so outputs and gradients are bit-identical.

// kt [B, H, D, T] <-> the k slot of qkv [B, T, 3, H, D]: to_kt copies k into kt, otherwise kt into the k slot.
template <typename T>
void k_transpose(T* qkv, T* kt, int64_t B, int64_t L, int64_t H, int64_t D, bool to_kt) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t d = 0; d < D; ++d) {
        T* row = kt + ((b * H + h) * D + d) * L;
        T* col = qkv + b * L * 3 * H * D + H * D + h * D + d;  // k[b, 0, h, d]; t steps by 3·H·D
        for (int64_t t = 0; t < L; ++t) {
          if (to_kt) row[t] = col[t * 3 * H * D];
          else col[t * 3 * H * D] = row[t];
        }
      }
}

torch::Tensor causal_mask(int64_t L, const torch::Device& device) {
  return torch::ones({L, L}, torch::dtype(torch::kBool).device(device)).triu(1);
}

// W_Q, W_K, W_V [H, R, D] and b_Q, b_K, b_V [H, D] -> the fused projection [R, 3·H·D] and its bias [3·H·D].
std::pair<torch::Tensor, torch::Tensor> qkv_pack(const torch::Tensor& W_Q, const torch::Tensor& W_K,
                                                 const torch::Tensor& W_V, const torch::Tensor& b_Q,
                                                 const torch::Tensor& b_K, const torch::Tensor& b_V) {
  const int64_t H = W_Q.size(0), R = W_Q.size(1), D = W_Q.size(2);
  return {torch::cat({W_Q, W_K, W_V}, 0).permute({1, 0, 2}).reshape({R, 3 * H * D}),
          torch::cat({b_Q, b_K, b_V}, 0).reshape({3 * H * D})};
}

class AttnLayer : public torch::autograd::Function<AttnLayer> {
 public:
  // x [B, T, R]; W_Q, W_K, W_V [H, R, D]; b_Q, b_K, b_V [H, D]; W_O [H, D, R]; b_O [R]; scale = 1 / attn_scale.
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& W_Q,
                               const torch::Tensor& W_K, const torch::Tensor& W_V, const torch::Tensor& b_Q,
                               const torch::Tensor& b_K, const torch::Tensor& b_V, const torch::Tensor& W_O,
                               const torch::Tensor& b_O, double scale, bool causal) {
    const int64_t B = x.size(0), L = x.size(1), R = x.size(2), H = W_Q.size(0), D = W_Q.size(2);
    auto [w_qkv, b_qkv] = qkv_pack(W_Q, W_K, W_V, b_Q, b_K, b_V);
    auto x2 = x.reshape({B * L, R});
    auto qkv = torch::addmm(b_qkv, x2, w_qkv);  // [B*T, 3*H*D] = [B, T, 3, H, D]
    auto kt = torch::empty({B, H, D, L}, x.options());
    auto scores = torch::empty({B, H, L, L}, x.options());
    auto z = torch::empty({B * L, H * D}, x.options());  // [B, T, H, D]
    torch::Tensor pat;
    auto run = [&](auto tag) {
      using T = decltype(tag);
      T* p = qkv.data_ptr<T>();
      const int ld = static_cast<int>(3 * H * D), l = static_cast<int>(L), d = static_cast<int>(D);
      k_transpose<T>(p, kt.data_ptr<T>(), B, L, H, D, true);
      Mats<const T> q{p, L * 3 * H * D, D, ld}, v{p + 2 * H * D, L * 3 * H * D, D, ld};
      gemm_batch<T>(B, H, l, l, d, q, false, {kt.data_ptr<T>(), H * D * L, D * L, l}, false,
                    {scores.data_ptr<T>(), H * L * L, L * L, l});  // q kᵀ
      scores.mul_(scale);
      if (causal) scores.masked_fill_(causal_mask(L, x.device()), -std::numeric_limits<double>::infinity());
      pat = at::_softmax(scores, -1, false);
      gemm_batch<T>(B, H, l, d, l, {pat.data_ptr<T>(), H * L * L, L * L, l}, false, v, false,
                    {z.data_ptr<T>(), L * H * D, D, static_cast<int>(H * D)});  // pattern · v
    };
    if (x.scalar_type() == torch::kFloat32) run(float{});
    else run(double{});
    auto w_o = W_O.reshape({H * D, R});
    auto out = torch::addmm(b_O, z, w_o).view({B, L, R});
    ctx->save_for_backward({x2, w_qkv, qkv, kt, pat, z, w_o});
    ctx->saved_data["shape"] = std::vector<int64_t>{B, L, R, H, D};
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["causal"] = causal;
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &x2 = saved[0], &w_qkv = saved[1], &qkv = saved[2], &kt = saved[3], &pat = saved[4];
    const torch::Tensor &z = saved[5], &w_o = saved[6];
    const auto shape = ctx->saved_data["shape"].toIntVector();
    const int64_t B = shape[0], L = shape[1], R = shape[2], H = shape[3], D = shape[4];
    torch::autograd::tensor_list out(11);
    // the W_O addmm: its bias, W_O (through the reshape), z
    auto g = grad[0].reshape({B * L, R});
    out[8] = at::sum_to(g, torch::IntArrayRef{R});
    out[7] = mm_mat2_grad(g, z, w_o).reshape({H, D, R});
    auto dz = mm_mat1_grad(g, z, w_o).contiguous();  // [B, T, H, D]
    // attention: dv, dpattern, softmax, mask, scale, dq, dkᵀ
    auto dqkv = torch::empty_like(qkv);
    auto dpat = torch::empty({B, H, L, L}, qkv.options());
    auto dkt = torch::empty({B, H, D, L}, qkv.options());
    auto run = [&](auto tag) {
      using T = decltype(tag);
      const T* p = qkv.data_ptr<T>();
      T* dp = dqkv.data_ptr<T>();
      const int ld = static_cast<int>(3 * H * D), l = static_cast<int>(L), d = static_cast<int>(D);
      const int64_t sb = L * 3 * H * D;
      Mats<const T> gz{dz.data_ptr<T>(), L * H * D, D, static_cast<int>(H * D)};
      Mats<const T> pm{pat.data_ptr<T>(), H * L * L, L * L, l};
      gemm_batch<T>(B, H, l, l, d, gz, false, {p + 2 * H * D, sb, D, ld}, true,
                    {dpat.data_ptr<T>(), H * L * L, L * L, l});  // dpattern = dz vᵀ
      gemm_batch<T>(B, H, l, d, l, pm, true, gz, false, {dp + 2 * H * D, sb, D, ld});  // dv = patternᵀ dz
      auto dscores = at::_softmax_backward_data(dpat, pat, -1, qkv.scalar_type());
      if (ctx->saved_data["causal"].toBool()) dscores.masked_fill_(causal_mask(L, qkv.device()), 0);
      dscores.mul_(ctx->saved_data["scale"].toDouble());
      Mats<const T> ds{dscores.data_ptr<T>(), H * L * L, L * L, l};
      gemm_batch<T>(B, H, l, d, l, ds, false, {kt.data_ptr<T>(), H * D * L, D * L, l}, true,
                    {dp, sb, D, ld});  // dq = dscores k
      gemm_batch<T>(B, H, d, l, l, {p, sb, D, ld}, true, ds, false,
                    {dkt.data_ptr<T>(), H * D * L, D * L, l});  // dkᵀ = qᵀ dscores
      k_transpose<T>(dp, dkt.data_ptr<T>(), B, L, H, D, false);
    };
    if (qkv.scalar_type() == torch::kFloat32) run(float{});
    else run(double{});
    // the QKV addmm: its bias and packed weight (unpacked as cat / permute backward do), then x
    auto b3 = at::sum_to(dqkv, torch::IntArrayRef{3 * H * D}).reshape({3 * H, D});
    auto w3 = mm_mat2_grad(dqkv, x2, w_qkv).reshape({R, 3 * H, D}).permute({1, 0, 2});  // [3H, R, D]
    for (int64_t i = 0; i < 3; ++i) {
      out[1 + i] = w3.narrow(0, i * H, H);
      out[4 + i] = b3.narrow(0, i * H, H);
    }
    if (ctx->needs_input_grad(0)) out[0] = mm_mat1_grad(dqkv, x2, w_qkv).reshape({B, L, R});
    return out;
  }
};

// ---- token + position embedding, W_E[tokens] + W_pos[:T], as one autograd node ----
// The unhooked form of TransformerImpl::forward's first lines (index_select, view, narrow, unsqueeze, expand, add:
// six backward nodes), with the backward autograd runs for them: index_select_backward for W_E; for W_pos the
// expand's sum_to over the batch, the unsqueeze's squeeze and the narrow's slice_backward into zeros.
class EmbedPos : public torch::autograd::Function<EmbedPos> {
 public:
  // W_E [V, R], W_pos [n_ctx, R], tokens [B, T] -> [B, T, R]
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& W_E,
                               const torch::Tensor& W_pos, const torch::Tensor& tokens) {
    const int64_t B = tokens.size(0), L = tokens.size(1), R = W_E.size(1);
    auto index = tokens.reshape({-1});
    auto e = W_E.index_select(0, index).view({B, L, R});
    auto out = e + W_pos.narrow(0, 0, L).unsqueeze(0).expand_as(e);
    ctx->save_for_backward({index});
    ctx->saved_data["shape"] = std::vector<int64_t>{W_E.size(0), W_pos.size(0), B, L, R};
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    const auto s = ctx->saved_data["shape"].toIntVector();
    const int64_t V = s[0], n_ctx = s[1], B = s[2], L = s[3], R = s[4];
    torch::Tensor dW_E, dW_pos;
    if (ctx->needs_input_grad(0))
      dW_E = at::index_select_backward(grad[0].reshape({B * L, R}), {V, R}, 0, ctx->get_saved_variables()[0]);
    if (ctx->needs_input_grad(1))
      dW_pos = at::slice_backward(at::sum_to(grad[0], torch::IntArrayRef{1, L, R}).squeeze(0), {n_ctx, R}, 0, 0, L, 1);
    return {dW_E, dW_pos, torch::Tensor()};
  }
};
}  // namespace

bool ops_blas_ok(const torch::Tensor& t) { return blas_ok(t); }
torch::Tensor ops_batched_matmul(const torch::Tensor& a, const torch::Tensor& b) { return batched_matmul(a, b); }
torch::Tensor ops_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) { return linear(x, w, b); }
torch::Tensor ops_causal_mask(int64_t L, const torch::Device& device) { return causal_mask(L, device); }
std::pair<torch::Tensor, torch::Tensor> ops_qkv_pack(const torch::Tensor& W_Q, const torch::Tensor& W_K,
                                                     const torch::Tensor& W_V, const torch::Tensor& b_Q,
                                                     const torch::Tensor& b_K, const torch::Tensor& b_V) {
  return qkv_pack(W_Q, W_K, W_V, b_Q, b_K, b_V);
}
torch::Tensor ops_attention_layer(const torch::Tensor& x, const torch::Tensor& W_Q, const torch::Tensor& W_K,
                                  const torch::Tensor& W_V, const torch::Tensor& b_Q, const torch::Tensor& b_K,
                                  const torch::Tensor& b_V, const torch::Tensor& W_O, const torch::Tensor& b_O,
                                  double scale, bool causal) {
  return AttnLayer::apply(x, W_Q, W_K, W_V, b_Q, b_K, b_V, W_O, b_O, scale, causal);
}
torch::Tensor ops_embed_pos(const torch::Tensor& W_E, const torch::Tensor& W_pos, const torch::Tensor& tokens) {
  return EmbedPos::apply(W_E, W_pos, tokens);
}

}  // namespace attnlab
