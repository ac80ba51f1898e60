// Replaces every form of the global operator new and delete of a test
// executable with one allocation hook, which the including file defines:
//
//   void* ctnn_test::allocate(std::size_t n, std::size_t alignment) noexcept;
//
// (null when it refuses; alignment 0 for the forms without one). Include it
// in exactly one file of the executable. Every form is replaced, the
// std::nothrow ones included: a form left to the runtime would allocate
// through its own allocator and free through this one, which AddressSanitizer
// reports as an alloc-dealloc mismatch.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace ctnn_test {
void* allocate(std::size_t n, std::size_t alignment) noexcept;

/// malloc, or aligned_alloc for an alignment above malloc's.
inline void* system_allocate(std::size_t n, std::size_t alignment) noexcept {
  if (alignment <= alignof(std::max_align_t)) return std::malloc(n ? n : 1);
  return std::aligned_alloc(alignment, (n + alignment - 1) / alignment * alignment);
}
}  // namespace ctnn_test

// noinline: g++ otherwise pairs an inlined operator new with the library's
// operator delete (or malloc with delete) and warns about a mismatch.
[[gnu::noinline]] void* operator new(std::size_t n) {
  if (void* p = ctnn_test::allocate(n, 0)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = ctnn_test::allocate(n, std::size_t(a))) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return ctnn_test::allocate(n, 0);
}
[[gnu::noinline]] void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return ctnn_test::allocate(n, std::size_t(a));
}
[[gnu::noinline]] void* operator new[](std::size_t n) { return operator new(n); }
[[gnu::noinline]] void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
[[gnu::noinline]] void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
[[gnu::noinline]] void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept {
  return operator new(n, a, t);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
