/// @file tensor_view.hpp
/// `tensor_view<T, Rank>`: a non-owning, row-major view of `Rank`-dimensional
/// data held elsewhere (a model's parameter or gradient buffer). It is what
/// `model::param<"name">()` and `model::grad<"name">()` return.
///
/// Minimal definition: a pointer and a shape of `Rank` extents; the element at
/// (i0, ..., iR-1) is `data()[((i0 * d1 + i1) * d2 + i2) ...]`.
///
/// Laws:
/// - `size()` is the product of `shape()`; `end() - begin() == size()`.
/// - `v(i, j) == v[i * shape()[1] + j]` (rank 2; likewise for any rank), and
///   iteration visits the elements in that order.
/// - Copying a view copies the pointer, not the elements (like std::span).
///   Assigning to a view (from a view, a range or a nested initializer list)
///   writes the elements in place and never changes what the view refers to;
///   the sizes must match or std::invalid_argument is thrown before anything
///   is written.
/// - A const view, or a view of `const T`, only reads.
///
/// It is a contiguous, sized, borrowed range: std algorithms, range-for and
/// `std::span<T>` / `std::span<const T>` (implicitly) take it. xtensor
/// expressions over it come from <ctnn/xtensor.hpp> (`ctnn::as_xtensor`),
/// which is not part of <ctnn/ctnn.hpp>.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace ctnn {

namespace detail {

/// `std::initializer_list` nested `Rank` deep: {{a, b}, {c, d}} for rank 2.
template <class T, std::size_t Rank>
struct nested_list {
  using type = std::initializer_list<typename nested_list<T, Rank - 1>::type>;
};
template <class T>
struct nested_list<T, 0> {  // a rank-0 view takes no list
  using type = T;
};
template <class T>
struct nested_list<T, 1> {
  using type = std::initializer_list<T>;
};

}  // namespace detail

template <class T, std::size_t Rank>
class tensor_view {
 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using pointer = T*;
  using const_pointer = const T*;
  using reference = T&;
  using const_reference = const T&;
  using iterator = T*;
  using const_iterator = const T*;
  using shape_type = std::array<std::size_t, Rank>;
  static constexpr std::size_t rank = Rank;

  constexpr tensor_view() = default;
  constexpr tensor_view(T* data, const shape_type& shape) noexcept : data_(data), shape_(shape) {}
  /// A view of T converts to a view of const T.
  template <class U>
    requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>)
  constexpr tensor_view(const tensor_view<U, Rank>& v) noexcept : data_(v.data()), shape_(v.shape()) {}
  constexpr tensor_view(const tensor_view&) = default;

  /// Writes the elements of `other` (row-major) into this view's.
  tensor_view& operator=(const tensor_view& other)
    requires(!std::is_const_v<T>)
  {
    return assign_range(other);
  }
  /// Writes the elements of any sized range, in its order, into this view's.
  template <class R>
    requires(!std::is_const_v<T> && !std::is_same_v<std::remove_cvref_t<R>, tensor_view> &&
             std::ranges::sized_range<R> && std::is_convertible_v<std::ranges::range_reference_t<R>, value_type>)
  tensor_view& operator=(R&& values) {
    return assign_range(values);
  }
  /// Writes nested initializer lists: `w = {{1, 2, 3}, {4, 5, 6}}` for shape {2, 3}.
  tensor_view& operator=(typename detail::nested_list<value_type, Rank>::type values)
    requires(!std::is_const_v<T> && Rank >= 1)
  {
    check_list<0>(values);
    T* out = data_;
    write_list<0>(values, out);
    return *this;
  }

  /// Sets every element to `value`.
  void fill(const value_type& value)
    requires(!std::is_const_v<T>)
  {
    for (T* p = data_; p != data_ + size(); ++p) *p = value;
  }

  /// The element at (i0, ..., iRank-1), row-major. Indices are not checked.
  template <class... I>
    requires(sizeof...(I) == Rank && (std::is_convertible_v<I, std::size_t> && ...))
  constexpr T& operator()(I... i) noexcept {
    return data_[offset(std::size_t(i)...)];
  }
  template <class... I>
    requires(sizeof...(I) == Rank && (std::is_convertible_v<I, std::size_t> && ...))
  constexpr const T& operator()(I... i) const noexcept {
    return data_[offset(std::size_t(i)...)];
  }
  /// The element at flat (row-major) position `i`.
  constexpr T& operator[](std::size_t i) noexcept { return data_[i]; }
  constexpr const T& operator[](std::size_t i) const noexcept { return data_[i]; }

  constexpr T* data() noexcept { return data_; }
  constexpr const T* data() const noexcept { return data_; }
  constexpr const shape_type& shape() const noexcept { return shape_; }
  constexpr std::size_t shape(std::size_t axis) const noexcept { return shape_[axis]; }
  constexpr std::size_t size() const noexcept {
    std::size_t n = 1;
    for (std::size_t d : shape_) n *= d;
    return n;
  }
  constexpr bool empty() const noexcept { return size() == 0; }

  constexpr T* begin() noexcept { return data_; }
  constexpr T* end() noexcept { return data_ + size(); }
  constexpr const T* begin() const noexcept { return data_; }
  constexpr const T* end() const noexcept { return data_ + size(); }

  /// The elements as a flat span.
  constexpr std::span<T> span() noexcept { return {data_, size()}; }
  constexpr std::span<const T> span() const noexcept { return {data_, size()}; }

 private:
  T* data_ = nullptr;
  shape_type shape_{};

  template <class... I>
  constexpr std::size_t offset(I... i) const noexcept {
    std::size_t k = 0, axis = 0;
    ((k = k * shape_[axis++] + i), ...);
    return k;
  }

  static std::string shape_text(const shape_type& s) {
    std::string t = "{";
    for (std::size_t i = 0; i < Rank; ++i) t += (i ? ", " : "") + std::to_string(s[i]);
    return t + "}";
  }

  template <class R>
  tensor_view& assign_range(const R& values) {
    const auto n = std::size_t(std::ranges::size(values));
    if (n != size())
      throw std::invalid_argument("ctnn::tensor_view: cannot assign " + std::to_string(n) +
                                  " values to a view of shape " + shape_text(shape_) + " (" +
                                  std::to_string(size()) + " elements)");
    T* out = data_;
    for (auto&& v : values) *out++ = static_cast<value_type>(v);
    return *this;
  }

  // Every list at depth `Axis` must hold shape_[Axis] items.
  template <std::size_t Axis, class L>
  void check_list(const L& list) const {
    if (list.size() != shape_[Axis])
      throw std::invalid_argument("ctnn::tensor_view: cannot assign a nested list with " +
                                  std::to_string(list.size()) + " items on axis " + std::to_string(Axis) +
                                  " to a view of shape " + shape_text(shape_) + " (it needs " +
                                  std::to_string(shape_[Axis]) + ")");
    if constexpr (Axis + 1 < Rank)
      for (const auto& inner : list) check_list<Axis + 1>(inner);
  }
  template <std::size_t Axis, class L>
  static void write_list(const L& list, T*& out) {
    for (const auto& item : list) {
      if constexpr (Axis + 1 < Rank) write_list<Axis + 1>(item, out);
      else *out++ = item;
    }
  }
};

}  // namespace ctnn

/// A view refers to elements it does not own: a span may outlive it.
template <class T, std::size_t Rank>
inline constexpr bool std::ranges::enable_borrowed_range<ctnn::tensor_view<T, Rank>> = true;
