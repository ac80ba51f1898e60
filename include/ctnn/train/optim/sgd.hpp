/// @file sgd.hpp
/// Stochastic gradient descent with momentum, as one pass over the flat
/// parameter, gradient and velocity buffers.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "ctnn/train/optim/common.hpp"

namespace ctnn::optim {

/// v ← momentum·v − lr·(g + weight_decay·w);  w ← w + v   (seeds eq. 16.2).
/// momentum = 0 is plain SGD, w ← w − lr·(g + weight_decay·w) (eq. 16.1).
/// Weight decay is coupled: the gradient of ½·weight_decay·‖w‖² is added to
/// the loss gradient. One state buffer: the velocity v.
struct sgd {
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 0.0;

  static constexpr std::size_t state_buffers = 1;
  static constexpr bool update_shares_team = true;  // one parallel_fused_pass
  /// What a trainer checkpoint calls each buffer ("optimizer/fc1.weight/velocity").
  static constexpr std::array<std::string_view, state_buffers> state_names{"velocity"};

  template <std::size_t N, class T>
  void update(T* w, const T* g, T* v) const {
    const T mu = T(momentum), eta = T(lr), wd = T(weight_decay);
    detail::parallel_fused_pass<N, T>([&]<class X>(std::size_t i) {
      const X wi = detail::load<X>(w + i);
      const X vi = X(mu) * detail::load<X>(v + i) - X(eta) * detail::fma(X(wd), wi, detail::load<X>(g + i));
      detail::store(v + i, vi);
      detail::store(w + i, wi + vi);
    });
  }
};

}  // namespace ctnn::optim
