/// @file averaging.hpp
/// Parameter averaging: an exponential moving average of the trainable
/// parameters, kept beside them and used at test time (seed 003, "Average
/// parameter vector": `params_test = 0.995*params_test + 0.005*params` after
/// every update, "This can give you a small boost").
///
///   shadow ← d·shadow + (1 − d)·w     after each update, d in [0, 1)
///
/// The shadow starts as a copy of the parameters when averaging is switched
/// on (no bias correction). Only the trainable buffer is averaged; batch
/// norm's running statistics are already averages and are used as they are.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "ctnn/core/aligned_buffer.hpp"
#include "ctnn/train/optim/common.hpp"

namespace ctnn {

template <class T>
class parameter_average {
 public:
  parameter_average() = default;

  /// Starts (or restarts) the average at `w`. Allocates the shadow on first
  /// use or when the size changes; never otherwise.
  void reset(std::span<const T> w) {
    if (shadow_.size() != w.size()) shadow_ = aligned_buffer<T>(w.size());
    std::copy(w.begin(), w.end(), shadow_.data());
  }

  /// True once reset() has given it a shadow.
  bool active() const { return shadow_.size() != 0; }

  /// shadow ← d·shadow + (1 − d)·w over N values (64-byte aligned). No
  /// allocation.
  template <std::size_t N>
  void update(const T* w, T decay) {
    T* s = shadow_.data();
    const T one_minus = T(1) - decay;
    optim::detail::fused_pass<N, T>([&]<class X>(std::size_t i) {
      optim::detail::store(s + i, optim::detail::fma(X(decay), optim::detail::load<X>(s + i),
                                                     X(one_minus) * optim::detail::load<X>(w + i)));
    });
  }

  /// Exchanges the shadow with `w` element by element (no allocation): call
  /// twice to get back where you were.
  void swap_with(std::span<T> w) {
    if (w.size() != shadow_.size())
      throw std::logic_error("ctnn::parameter_average: no average of this size (is averaging on?)");
    std::swap_ranges(w.begin(), w.end(), shadow_.data());
  }

  std::span<const T> values() const { return shadow_.span(); }
  std::span<T> values() { return shadow_.span(); }

 private:
  aligned_buffer<T> shadow_;
};

}  // namespace ctnn
