// Replaces the global operator new and delete of a test executable so that
// every allocation is counted: include it in exactly one file of a test that
// proves some code path makes no heap allocation. Every form is replaced, the
// std::nothrow ones included: a form left to the runtime would allocate
// through its own allocator and free through ours (AddressSanitizer reports
// that as an alloc-dealloc mismatch).
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace ctnn_test {
inline std::atomic<long> allocations{0};
}  // namespace ctnn_test

// noinline: g++ otherwise pairs an inlined operator new with the library's
// operator delete (or malloc with delete) and warns about a mismatch.
[[gnu::noinline]] void* operator new(std::size_t n) {
  ++ctnn_test::allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new(std::size_t n, std::align_val_t a) {
  ++ctnn_test::allocations;
  const std::size_t al = std::size_t(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++ctnn_test::allocations;
  return std::malloc(n ? n : 1);
}
[[gnu::noinline]] void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  ++ctnn_test::allocations;
  const std::size_t al = std::size_t(a);
  return std::aligned_alloc(al, (n + al - 1) / al * al);
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
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
