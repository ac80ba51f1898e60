// Counts every heap allocation of a test executable (every form of operator
// new, see replace_operator_new.hpp): include it in exactly one file of a
// test that proves some code path makes no heap allocation.
#pragma once

#include <atomic>
#include <cstddef>

#include "replace_operator_new.hpp"

namespace ctnn_test {
inline std::atomic<long> allocations{0};

void* allocate(std::size_t n, std::size_t alignment) noexcept {
  ++allocations;
  return system_allocate(n, alignment);
}
}  // namespace ctnn_test
