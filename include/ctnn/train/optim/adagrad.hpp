/// @file adagrad.hpp
/// AdaGrad (Duchi, Hazan & Singer 2011), as one pass over the flat parameter,
/// gradient and cache buffers.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "ctnn/train/optim/common.hpp"

namespace ctnn::optim {

/// g' = g + weight_decay·w;  c ← c + g'²;  w ← w − lr·g' / (√c + eps).
/// The seeds (eq. 16.4) put eps inside the root, √(c + 1e-7); here it is
/// added to √c, as in cs231n's code and the usual implementations (the seeds'
/// "1^{-7}" is 1e-7). Weight decay is coupled (L2 added to the gradient, so it
/// is scaled by the per-parameter rate too). One state buffer: the cache c.
/// eps must be positive (the zero padding of the flat buffer divides 0 by it).
struct adagrad {
  double lr = 0.01;
  double eps = 1e-7;
  double weight_decay = 0.0;

  static constexpr std::size_t state_buffers = 1;
  static constexpr bool update_shares_team = true;  // one parallel_fused_pass
  /// What a trainer checkpoint calls each buffer ("optimizer/fc1.weight/cache").
  static constexpr std::array<std::string_view, state_buffers> state_names{"cache"};

  template <std::size_t N, class T>
  void update(T* w, const T* g, T* cache) const {
    const T eta = T(lr), e = T(eps), wd = T(weight_decay);
    detail::parallel_fused_pass<N, T>([&]<class X>(std::size_t i) {
      const X wi = detail::load<X>(w + i);
      const X gi = detail::fma(X(wd), wi, detail::load<X>(g + i));
      const X ci = detail::fma(gi, gi, detail::load<X>(cache + i));
      detail::store(cache + i, ci);
      detail::store(w + i, wi - X(eta) * gi / (detail::sqrt(ci) + X(e)));
    });
  }
};

}  // namespace ctnn::optim
