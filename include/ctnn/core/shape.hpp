/// @file shape.hpp
/// Compile-time per-sample tensor shapes.
#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace ctnn {

/// The shape of one sample; the batch dimension is never part of it (it is a
/// template argument of the model). `shape<>` is a scalar per sample.
template <std::size_t... Dims>
struct shape {
  static constexpr std::size_t rank = sizeof...(Dims);
  static constexpr std::size_t size = (std::size_t{1} * ... * Dims);
  static constexpr std::array<std::size_t, sizeof...(Dims)> dims{Dims...};

  /// "[1, 28, 28]", for summaries and runtime messages.
  static std::string str() {
    std::string s = "[";
    ((s += std::to_string(Dims) + ", "), ...);
    if constexpr (rank > 0) s.resize(s.size() - 2);
    return s + "]";
  }
};

template <class T>
inline constexpr bool is_shape_v = false;
template <std::size_t... D>
inline constexpr bool is_shape_v<shape<D...>> = true;

/// Up to four dimensions, as plain integers for the constexpr planner.
struct shape_info {
  std::size_t rank = 0;
  std::array<std::size_t, 4> dims{};
  constexpr std::size_t size() const {
    std::size_t n = 1;
    for (std::size_t i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  constexpr bool operator==(const shape_info&) const = default;
};

template <class S>
constexpr shape_info info_of() {
  static_assert(S::rank <= 4, "ctnn::shape: at most four dimensions per sample");
  shape_info s{S::rank, {}};
  for (std::size_t i = 0; i < S::rank; ++i) s.dims[i] = S::dims[i];
  return s;
}

inline std::string to_string(const shape_info& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.rank; ++i) out += (i ? ", " : "") + std::to_string(s.dims[i]);
  return out + "]";
}

}  // namespace ctnn
