/// @file real.hpp
/// A floating-point constant usable as a template argument.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>

namespace ctnn {

/// clang 16 does not accept `double` template parameters, so constants such as
/// a leaky ReLU slope or a loss weight are carried as the bits of a double in a
/// structural class. `leaky_relu<0.01>(x)` converts the literal implicitly and
/// exactly.
struct real {
  std::uint64_t bits;
  constexpr real(double v) : bits(std::bit_cast<std::uint64_t>(v)) {}
  /// An integer literal too (`constant<"c", shape<2>, 1, 0>`): clang does
  /// not convert int to double on the way to a template argument.
  template <std::integral I>
  constexpr real(I v) : real(double(v)) {}
  constexpr double value() const { return std::bit_cast<double>(bits); }
  constexpr operator double() const { return value(); }
};

}  // namespace ctnn
