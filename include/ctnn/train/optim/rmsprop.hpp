/// @file rmsprop.hpp
/// RMSProp (Tieleman & Hinton 2012), as one pass over the flat parameter,
/// gradient and cache buffers.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "ctnn/train/optim/common.hpp"

namespace ctnn::optim {

/// g' = g + weight_decay·w;  c ← ρ·c + (1 − ρ)·g'²;  w ← w − lr·g' / (√c + eps),
/// with ρ = decay_rate. As the seeds (eq. 16.5), eps = 1e-7 outside the root;
/// the seeds leave ρ open, the default 0.99 is cs231n's. Weight decay is
/// coupled. One state buffer: the cache c. eps must be positive.
struct rmsprop {
  double lr = 1e-3;
  double decay_rate = 0.99;
  double eps = 1e-7;
  double weight_decay = 0.0;

  static constexpr std::size_t state_buffers = 1;
  static constexpr bool update_shares_team = true;  // one parallel_fused_pass
  /// What a trainer checkpoint calls each buffer ("optimizer/fc1.weight/cache").
  static constexpr std::array<std::string_view, state_buffers> state_names{"cache"};

  template <std::size_t N, class T>
  void update(T* w, const T* g, T* cache) const {
    const T eta = T(lr), rho = T(decay_rate), e = T(eps), wd = T(weight_decay);
    const T one_minus_rho = T(1) - rho;
    detail::parallel_fused_pass<N, T>([&]<class X>(std::size_t i) {
      const X wi = detail::load<X>(w + i);
      const X gi = detail::fma(X(wd), wi, detail::load<X>(g + i));
      const X ci = detail::fma(X(rho), detail::load<X>(cache + i), X(one_minus_rho) * gi * gi);
      detail::store(cache + i, ci);
      detail::store(w + i, wi - X(eta) * gi / (detail::sqrt(ci) + X(e)));
    });
  }
};

}  // namespace ctnn::optim
