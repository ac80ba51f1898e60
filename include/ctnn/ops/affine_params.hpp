/// @file affine_params.hpp
/// The options of a layer with a weight and a bias (dense, dense_transposed,
/// conv2d, conv2d_transpose): `no_bias`, the weight's initializer (an
/// `init::` scheme or `weight_init<...>`) and `bias_init<...>`, parsed into
/// one `parameter_options` with its CTNN_DENSE_OPTION check; and the two
/// parameters' declarations.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// Option for a layer with a bias: leave it out.
struct no_bias {};

namespace detail {
// The weight initializer an option names (void: none).
template <class O, bool = is_initializer_v<O>>
struct weight_init_of {
  using type = void;
};
template <class O>
struct weight_init_of<O, true> {
  using type = O;
};
template <class I>
struct weight_init_of<weight_init<I>, false> {
  using type = I;
};
template <class O>
struct bias_init_of {
  using type = void;
};
template <class I>
struct bias_init_of<bias_init<I>> {
  using type = I;
};
template <class Default, class... T>
struct first_non_void {
  using type = Default;
};
template <class Default, class T, class... Rest>
struct first_non_void<Default, T, Rest...> {
  using type = std::conditional_t<std::is_void_v<T>, typename first_non_void<Default, Rest...>::type, T>;
};
template <class O>
inline constexpr bool is_dense_option_v = std::is_same_v<O, no_bias> ||
                                          !std::is_void_v<typename weight_init_of<O>::type> ||
                                          !std::is_void_v<typename bias_init_of<O>::type>;

/// The options a layer with a weight and a bias takes: bias
/// or not, and the two initializers (He-normal and zeros unless given), with
/// at most one of each and no bias_init beside no_bias.
template <fixed_string Name, class... Options>
struct parameter_options {
  static constexpr bool has_bias = !(std::is_same_v<Options, no_bias> || ...);
  static_assert(diagnostic::check<diagnostic::dense_options_conflict<
                    Name, (std::size_t(0) + ... + !std::is_void_v<typename weight_init_of<Options>::type>),
                    (std::size_t(0) + ... + !std::is_void_v<typename bias_init_of<Options>::type>), !has_bias>>);
  using weight_init = typename first_non_void<init::he_normal, typename weight_init_of<Options>::type...>::type;
  using bias_init = typename first_non_void<init::zeros, typename bias_init_of<Options>::type...>::type;
};

/// A layer's parameters: its weight and, if HasBias, a bias of `out` values
/// (trainable, exempt from weight penalties) with the fans given.
template <bool HasBias>
constexpr std::array<param_decl, HasBias ? 2 : 1> weight_and_bias(const param_decl& weight, std::string_view bias_name,
                                                                 std::size_t out, initializer bias_init,
                                                                 std::size_t bias_fan_in, std::size_t bias_fan_out) {
  std::array<param_decl, HasBias ? 2 : 1> p{};
  p[0] = weight;
  if constexpr (HasBias)
    p[1] = {bias_name, shape_info{1, {out}}, bias_init, bias_fan_in, bias_fan_out, true, /*regularize=*/false};
  return p;
}
}  // namespace detail

}  // namespace ctnn
