/// @file nesterov.hpp
/// Nesterov momentum (Nesterov accelerated gradient), as one pass over the
/// flat parameter, gradient and velocity buffers.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "ctnn/train/optim/common.hpp"

namespace ctnn::optim {

/// The seeds (eq. 16.3) take the gradient at the look-ahead point x + μ·v:
///   v ← μ·v − lr·∇L(x + μ·v);  x ← x + v.
/// Rewritten in the variable the network actually holds, x̃ = x + μ·v (so the
/// gradient the trainer computes at the parameters *is* the look-ahead one):
///   v_prev ← v;  v ← μ·v − lr·(g + weight_decay·x̃);  x̃ ← x̃ − μ·v_prev + (1 + μ)·v.
/// The same trajectory, one gradient per step. Weight decay is coupled (added
/// to g, evaluated at the parameters held). One state buffer: v.
///
/// A type of its own rather than a flag on sgd: the choice is made at compile
/// time and sgd's fields stay as they were.
struct nesterov {
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
      const X v_prev = detail::load<X>(v + i);
      const X vi = X(mu) * v_prev - X(eta) * detail::fma(X(wd), wi, detail::load<X>(g + i));
      detail::store(v + i, vi);
      detail::store(w + i, detail::fma(X(T(1) + mu), vi, wi - X(mu) * v_prev));
    });
  }
};

}  // namespace ctnn::optim
