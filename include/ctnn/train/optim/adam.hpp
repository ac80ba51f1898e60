/// @file adam.hpp
/// Adam (Kingma & Ba 2015), as one pass over the flat parameter, gradient and
/// two moment buffers.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/train/optim/common.hpp"

namespace ctnn::optim {

/// With t the number of updates so far (this one included):
///   g' = g + weight_decay·w
///   m ← β1·m + (1 − β1)·g'          v ← β2·v + (1 − β2)·g'²
///   m̂ = m / (1 − β1^t)              v̂ = v / (1 − β2^t)
///   w ← w − lr·m̂ / (√v̂ + eps)
/// as in the paper (Algorithm 1), with its defaults lr 1e-3, β1 0.9,
/// β2 0.999, eps 1e-8. The seeds (eq. 16.6) differ: they divide the moment
/// recursions themselves by (1 − β^t), so the correction compounds into the
/// stored moments, and they use β2 = 0.995 and eps = 1e-7. We follow the paper:
/// m and v are stored uncorrected; the correction is two scalars per update.
///
/// Weight decay is coupled (L2 added to the gradient before the moments), i.e.
/// Adam with L2, not AdamW's decoupled decay.
///
/// State: two buffers (m, then v) and the step count `t`, kept here; `t` must
/// go back to 0 if the buffers are cleared.
struct adam {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  std::size_t t = 0;

  static constexpr std::size_t state_buffers = 2;
  /// What a trainer checkpoint calls each buffer ("optimizer/fc1.weight/m").
  static constexpr std::array<std::string_view, state_buffers> state_names{"m", "v"};

  static constexpr bool update_shares_team = true;  // one parallel_fused_pass; t is counted once, by thread 0

  template <std::size_t N, class T>
  void update(T* w, const T* g, T* state) {
    // On a step's team every thread calls update on this one object: each
    // reads t before the pass's first barrier, and thread 0 writes it after.
    const std::size_t count = t + 1;
    // The corrections in double from the β's and lr as T holds them (for
    // float T, the floats they were when these fields were float).
    const double b1 = double(T(beta1)), b2 = double(T(beta2));
    // w ← w − (lr / (1 − β1^t))·m / (√v·(1 / √(1 − β2^t)) + eps): the paper's
    // m̂ / (√v̂ + eps), with the corrections folded into two scalars.
    const T step = T(double(T(lr)) / (1.0 - std::pow(b1, double(count))));
    const T root_scale = T(1.0 / std::sqrt(1.0 - std::pow(b2, double(count))));
    const T beta_1 = T(beta1), beta_2 = T(beta2), e = T(eps), wd = T(weight_decay);
    const T one_minus_b1 = T(1) - beta_1, one_minus_b2 = T(1) - beta_2;
    T* m = state;
    T* v = state + state_stride<T>(N);
    detail::parallel_fused_pass<N, T>([&]<class X>(std::size_t i) {
      const X wi = detail::load<X>(w + i);
      const X gi = detail::fma(X(wd), wi, detail::load<X>(g + i));
      const X mi = detail::fma(X(beta_1), detail::load<X>(m + i), X(one_minus_b1) * gi);
      const X vi = detail::fma(X(beta_2), detail::load<X>(v + i), X(one_minus_b2) * gi * gi);
      detail::store(m + i, mi);
      detail::store(v + i, vi);
      detail::store(w + i, wi - X(step) * mi / detail::fma(detail::sqrt(vi), X(root_scale), X(e)));
    });
    if (kernels::leads_team() && !kernels::team_failed()) t = count;  // a pass the team skipped counts nothing
  }
};

}  // namespace ctnn::optim
