/// @file sgd.hpp
/// Stochastic gradient descent with momentum, as one pass over the flat
/// parameter, gradient and velocity buffers.
#pragma once

#include <cstddef>

#include "ctnn/kernels/simd.hpp"

namespace ctnn::optim {

/// v ← momentum·v − lr·(g + weight_decay·w);  w ← w + v.
struct sgd {
  float lr = 0.01f;
  float momentum = 0.9f;
  float weight_decay = 0.0f;

  template <std::size_t N, class T>
  void update(T* w, const T* g, T* v) const {
    using V = kernels::vec<T>;
    constexpr std::size_t L = kernels::lanes<T>;
    const T mu = T(momentum), eta = T(lr), wd = T(weight_decay);
    constexpr std::size_t NV = N / L * L;
    for (std::size_t i = 0; i < NV; i += L) {
      const V wi = V::load_aligned(w + i);
      const V vi = V(mu) * V::load_aligned(v + i) - V(eta) * xsimd::fma(V(wd), wi, V::load_aligned(g + i));
      vi.store_aligned(v + i);
      (wi + vi).store_aligned(w + i);
    }
    for (std::size_t i = NV; i < N; ++i) {
      v[i] = mu * v[i] - eta * (g[i] + wd * w[i]);
      w[i] += v[i];
    }
  }
};

}  // namespace ctnn::optim
