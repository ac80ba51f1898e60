/// @file dropout.hpp
/// Inverted dropout: in training each value is kept with probability 1 − p
/// and scaled by 1/(1 − p); at inference it passes unchanged, so no rescaling
/// is needed at test time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctnn/core/real.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
/// A counter-based random number: the same (seed, index) always gives the
/// same value, so masks are reproducible per seed and need no generator state.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
/// Uniform in [0, 1) with 24 bits.
constexpr float uniform01(std::uint64_t seed, std::uint64_t index) {
  return float(mix64(seed ^ mix64(index)) >> 40) * (1.0f / 16777216.0f);
}
}  // namespace detail

/// Drops each value with probability P.
template <real P>
struct dropout_op {
  static_assert(P.value() >= 0 && P.value() < 1, "ctnn::dropout: the drop probability must lie in [0, 1)");
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "dropout";
    using out_shape = In;
    static constexpr std::size_t n = In::size;
    static constexpr std::size_t scratch_size = n;  // the mask, scaled: 0 or 1/(1 − p)
    static constexpr double flops = double(n);

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      if (!a.training) {
        kernels::map<B * n>(a.out, [](auto x) { return x; }, a.in[0]);
        return;
      }
      const T keep_scale = T(1.0 / (1.0 - P.value()));
      for (std::size_t i = 0; i < B * n; ++i)
        a.scratch[i] = detail::uniform01(a.seed, i) >= float(P.value()) ? keep_scale : T(0);
      kernels::map<B * n>(a.out, [](auto x, auto m) { return x * m; }, a.in[0],
                          static_cast<const T*>(a.scratch));
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::map_into<grad_mode::adds_to_input(Mode, 0), B * n>(
            a.din[0], [](auto d, auto m) { return d * m; }, a.dout, a.scratch);
    }
  };
};

template <real P>
struct dropout_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<dropout_op<P>>(x); }
};
/// `dropout<0.5>(h)`: drops half of h's values in training.
template <real P>
inline constexpr dropout_fn<P> dropout{};

}  // namespace ctnn
