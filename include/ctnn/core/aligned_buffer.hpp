/// @file aligned_buffer.hpp
/// One zero-initialized, 64-byte-aligned heap block, allocated once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <span>

namespace ctnn {

template <class T>
class aligned_buffer {
  struct release {
    void operator()(T* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::unique_ptr<T[], release> data_;
  std::size_t size_ = 0;

 public:
  aligned_buffer() = default;
  explicit aligned_buffer(std::size_t n)
      : data_(n ? static_cast<T*>(::operator new[](n * sizeof(T), std::align_val_t{64})) : nullptr), size_(n) {
    std::fill_n(data_.get(), n, T(0));
  }
  aligned_buffer(const aligned_buffer& other) : aligned_buffer(other.size_) {
    std::copy_n(other.data(), size_, data());
  }
  aligned_buffer& operator=(const aligned_buffer& other) {
    if (this != &other) {
      aligned_buffer copy(other);
      std::swap(data_, copy.data_);
      std::swap(size_, copy.size_);
    }
    return *this;
  }
  aligned_buffer(aligned_buffer&&) noexcept = default;
  aligned_buffer& operator=(aligned_buffer&&) noexcept = default;

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  std::span<T> span() { return {data(), size_}; }
  std::span<const T> span() const { return {data(), size_}; }
};

}  // namespace ctnn
