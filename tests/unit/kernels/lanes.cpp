// broadcast_lane<K>: every lane of the result is lane K of the input, for
// every K, in float and double, on the instruction set the build targets
// (this file is also built for AVX2 beside an AVX-512 build).
#include <catch2/catch.hpp>

#include <cstddef>
#include <utility>

#include <ctnn/kernels/simd.hpp>

namespace {

namespace k = ctnn::kernels;

template <class T, std::size_t... K>
void check_every_lane(std::index_sequence<K...>) {
  constexpr std::size_t L = k::lanes<T>;
  alignas(64) T in[L], out[L];
  for (std::size_t i = 0; i < L; ++i) in[i] = T(1.5) * T(i) - T(7);  // distinct values
  const k::vec<T> v = k::vec<T>::load_aligned(in);
  const auto check = [&](std::size_t lane, k::vec<T> b) {
    b.store_aligned(out);
    for (std::size_t i = 0; i < L; ++i) {
      INFO("lane " << lane << " into lane " << i << " of " << L);
      CHECK(out[i] == in[lane]);
    }
  };
  (check(K, k::broadcast_lane<K, T>(v)), ...);
}

}  // namespace

TEST_CASE("broadcast_lane copies lane K into every lane", "[kernels][lanes]") {
  check_every_lane<float>(std::make_index_sequence<k::lanes<float>>{});
  check_every_lane<double>(std::make_index_sequence<k::lanes<double>>{});
}
