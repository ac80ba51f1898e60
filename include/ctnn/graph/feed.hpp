/// @file feed.hpp
/// Data for one leaf of a network, by name: `ctnn::feed<"image">(x)`. A call
/// (step, forward, predict) takes its feeds in any order and checks the names
/// against the network's inputs and labels at compile time.
#pragma once

#include <array>
#include <cstddef>
#include <iterator>
#include <span>
#include <type_traits>

#include "ctnn/core/fixed_string.hpp"

namespace ctnn {

/// The extent of a feed made from a bare pointer: no length is known, and
/// the pointer is trusted to hold the call's batch of values.
inline constexpr std::size_t unchecked_extent = std::size_t(-2);

/// One leaf's data for one call. `Extent` is the length as the type knows it:
/// a fixed-extent span or a std::array fixes it (checked at compile time),
/// a container or a dynamic span has `std::dynamic_extent` and `size` is
/// checked when the call binds it, a pointer has `unchecked_extent`.
template <fixed_string Name, class T, std::size_t Extent>
struct feed_t {
  static constexpr auto name = Name;
  static constexpr std::size_t extent = Extent;
  using value_type = T;
  const T* data = nullptr;
  std::size_t size = 0;
};

template <class F>
inline constexpr bool is_feed_v = false;
template <fixed_string Name, class T, std::size_t Extent>
inline constexpr bool is_feed_v<feed_t<Name, T, Extent>> = true;

namespace detail {

template <class C>
concept contiguous_values = requires(const C& c) {
  { std::data(c) } -> std::convertible_to<const void*>;
  { std::size(c) } -> std::convertible_to<std::size_t>;
};

template <fixed_string Name>
struct feed_maker {
  template <class T>
    requires std::is_arithmetic_v<T>
  constexpr feed_t<Name, T, unchecked_extent> operator()(const T* p) const {
    return {p, 0};
  }
  template <class T, std::size_t N>
  constexpr feed_t<Name, std::remove_cv_t<T>, N> operator()(std::span<T, N> s) const {
    return {s.data(), s.size()};
  }
  template <class T, std::size_t N>
  constexpr feed_t<Name, T, N> operator()(const std::array<T, N>& a) const {
    return {a.data(), N};
  }
  template <contiguous_values C>
  constexpr auto operator()(const C& c) const {
    using value = std::remove_cvref_t<decltype(*std::data(c))>;
    return feed_t<Name, value, std::dynamic_extent>{std::data(c), std::size(c)};
  }
};

}  // namespace detail

/// `ctnn::feed<"image">(x)`: x is a pointer, a span, a std::array or any
/// contiguous container (std::vector, an xtensor container).
template <fixed_string Name>
inline constexpr detail::feed_maker<Name> feed{};

}  // namespace ctnn
