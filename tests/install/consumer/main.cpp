// Builds against an installed ctnn: the headers must be found and the usage
// requirements (C++20, zlib, OpenMP) must reach us through ctnn::ctnn alone.
#if __has_include(<ctnn/ctnn.hpp>)
#include <ctnn/ctnn.hpp>
#elif __has_include(<ctnn/io/idx.hpp>)
#include <ctnn/io/idx.hpp>
#endif

#include <omp.h>
#include <zlib.h>

static_assert(__cplusplus >= 202002L, "ctnn::ctnn must require C++20");

int main() {
  // Touch both libraries so a missing link dependency fails here.
  return (zlibVersion() != nullptr && omp_get_max_threads() >= 1) ? 0 : 1;
}
