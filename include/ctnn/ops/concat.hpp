/// @file concat.hpp
/// Concatenation along the first (channel) axis: [C1, H, W] and [C2, H, W]
/// → [C1 + C2, H, W] (an inception module's outputs; flat vectors too). Each
/// sample's output is its inputs' blocks one after the other.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
template <std::size_t C, class S>
struct with_first_dim;
template <std::size_t C, std::size_t D0, std::size_t... Ds>
struct with_first_dim<C, shape<D0, Ds...>> {
  using type = shape<C, Ds...>;
};
}  // namespace detail

struct concat_op {
  static constexpr auto name = no_name;
  template <class In0, class... In>
  struct spec : spec_defaults {
    static_assert(sizeof...(In) >= 1, "ctnn::concat: give two to four tensors");
    static_assert((diagnostic::check<diagnostic::concat_shapes_differ<"concat", In0, In>> && ...));
    static constexpr std::string_view kind = "concat";
    static constexpr std::array<std::size_t, 1 + sizeof...(In)> sizes{In0::size, In::size...};
    static constexpr std::size_t n = (In0::size + ... + In::size);
    using out_shape = typename detail::with_first_dim<n / (In0::rank ? In0::size / In0::dims[0] : 1), In0>::type;
    static constexpr std::size_t offset(std::size_t k) {
      std::size_t o = 0;
      for (std::size_t i = 0; i < k; ++i) o += sizes[i];
      return o;
    }

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t k = 0; k < sizes.size(); ++k)
          std::copy_n(a.in[k] + b * sizes[k], sizes[k], a.out + b * n + offset(k));
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        (backward_one<B, Mode, K, T>(a), ...);
      }(std::make_index_sequence<sizes.size()>{});
    }
    template <std::size_t B, unsigned Mode, std::size_t K, class T>
    static void backward_one(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, K))
        for (std::size_t b = 0; b < B; ++b)
          kernels::map_into<grad_mode::adds_to_input(Mode, K), sizes[K]>(
              a.din[K] + b * sizes[K], [](auto d) { return d; }, a.dout + b * n + offset(K));
    }
  };
};

struct concat_fn {
  template <graph_value... X>
  constexpr auto operator()(const X&... x) const { return make_node<concat_op>(x...); }
};
/// `concat(a, b, ...)`: two to four tensors whose shapes differ only in
/// their first dimension.
inline constexpr concat_fn concat{};

}  // namespace ctnn
