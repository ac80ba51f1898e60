/// @file slice.hpp
/// Rows [Begin, End) of the first axis: a range of a flat vector's features,
/// of an image's channels, of a sequence's steps. Each sample's slice is one
/// contiguous block, so forward is a copy; backward puts the gradient in the
/// block and, when it writes rather than adds, zeros the rest of the input's
/// gradient (no one else writes there first).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
template <std::size_t D0, class S>
struct replace_first_dim;
template <std::size_t D0, std::size_t First, std::size_t... Rest>
struct replace_first_dim<D0, shape<First, Rest...>> {
  using type = shape<D0, Rest...>;
};
template <std::size_t D0>
struct replace_first_dim<D0, shape<>> {  // only reached on a rejected scalar
  using type = shape<D0>;
};
template <class S>
constexpr std::size_t first_dim() {
  if constexpr (S::rank == 0) return 0; else return S::dims[0];
}
}  // namespace detail

template <std::size_t Begin, std::size_t End>
struct slice_op {
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::slice_outside_first_axis<Begin, End, In>>);
    static constexpr std::string_view kind = "slice";
    static constexpr std::size_t n = In::size;
    static constexpr std::size_t row = detail::first_dim<In>() ? n / detail::first_dim<In>() : 1;
    static constexpr std::size_t offset = Begin * row, length = (End - Begin) * row;
    using out_shape = typename detail::replace_first_dim<End - Begin, In>::type;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b) std::copy_n(a.in[0] + b * n + offset, length, a.out + b * length);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0)) {
        constexpr bool accumulate = grad_mode::adds_to_input(Mode, 0);
        for (std::size_t b = 0; b < B; ++b) {
          T* dx = a.din[0] + b * n;
          if constexpr (!accumulate) {
            std::fill_n(dx, offset, T(0));
            std::fill_n(dx + offset + length, n - offset - length, T(0));
          }
          kernels::map_into<accumulate, length>(dx + offset, [](auto d) { return d; }, a.dout + b * length);
        }
      }
    }
  };
};

template <std::size_t Begin, std::size_t End>
struct slice_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<slice_op<Begin, End>>(x); }
};
/// `slice<0, 64>(h)`: the first 64 features of h (or channels, or steps).
template <std::size_t Begin, std::size_t End>
inline constexpr slice_fn<Begin, End> slice{};

template <std::size_t Index, std::size_t Parts>
struct chunk_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const {
    using in = typename resolve_t<X>::out_shape;
    static_assert(diagnostic::check<diagnostic::chunk_does_not_divide_first_axis<Index, Parts, in>>);
    constexpr std::size_t rows = Parts ? detail::first_dim<in>() / Parts : 0;
    return make_node<slice_op<Index * rows, (Index + 1) * rows>>(x);
  }
};
/// `chunk<I, Parts>(x)`: the I-th of Parts equal slices of the first axis,
/// e.g. a VAE's mean and log-variance, chunk<0, 2> and chunk<1, 2>, from one
/// layer, or an LSTM's four gates.
template <std::size_t Index, std::size_t Parts>
inline constexpr chunk_fn<Index, Parts> chunk{};

}  // namespace ctnn
