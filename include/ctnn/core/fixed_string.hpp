/// @file fixed_string.hpp
/// A string literal usable as a template argument: parameter and input names.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace ctnn {

/// A compile-time string of N-1 characters plus a terminating zero. Names of
/// parameters, inputs and labels are template arguments of this type, so the
/// same name written twice is the same value and a diagnostic can print it.
template <std::size_t N>
struct fixed_string {
  char chars[N]{};

  constexpr fixed_string() = default;
  constexpr fixed_string(const char (&text)[N]) { std::copy_n(text, N, chars); }

  static constexpr std::size_t size() { return N - 1; }
  constexpr std::string_view view() const { return {chars, N - 1}; }
  constexpr operator std::string_view() const { return view(); }

  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& other) const {
    return view() == other.view();
  }
};

/// Joins names, so that a block function can derive its layers' names from a
/// prefix: `P + ".conv1"`.
template <std::size_t N, std::size_t M>
constexpr fixed_string<N + M - 1> operator+(const fixed_string<N>& a, const fixed_string<M>& b) {
  fixed_string<N + M - 1> out;
  std::copy_n(a.chars, N - 1, out.chars);
  std::copy_n(b.chars, M, out.chars + N - 1);
  return out;
}
template <std::size_t N, std::size_t M>
constexpr fixed_string<N + M - 1> operator+(const fixed_string<N>& a, const char (&b)[M]) {
  return a + fixed_string<M>(b);
}

/// A literal first: `"encoder" + suffix`.
template <std::size_t N, std::size_t M>
constexpr fixed_string<N + M - 1> operator+(const char (&a)[N], const fixed_string<M>& b) {
  return fixed_string<N>(a) + b;
}

/// The name of something anonymous (an activation, an elementwise op).
inline constexpr fixed_string<1> no_name{};

}  // namespace ctnn
