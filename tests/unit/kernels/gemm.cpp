// The GEMM kernels against a plain double-precision reference: every form
// (A·B with and without the bias+relu epilogue, A·Bᵀ, Aᵀ·B) × write or
// accumulate × sizes given statically (fixed<N>) or at run time × awkward
// shapes (1 row, tails of every width, K deeper than one packed panel),
// in float and double, on one thread and split over several.
//
// Built twice by tests/CMakeLists.txt: with the configured instruction set
// (AVX-512 here) and with -march=x86-64-v3 (AVX2), so both paths are checked.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <ctnn/kernels/gemm.hpp>
#include <ctnn/kernels/simd.hpp>

namespace {

namespace k = ctnn::kernels;
using k::fixed;

enum class form { nn, nn_relu, nt, tn };

const char* form_name(form f) {
  switch (f) {
    case form::nn: return "A*B";
    case form::nn_relu: return "relu(A*B+bias)";
    case form::nt: return "A*B^T";
    default: return "A^T*B";
  }
}

// bias + relu, the shape of ctnn's dense epilogue: vector and scalar calls.
template <class T>
struct bias_relu {
  const T* bias;
  template <class V>
  V operator()(V x, std::size_t col) const {
    if constexpr (std::is_floating_point_v<V>) {
      x += bias[col];
      return x > V(0) ? x : V(0);
    } else {
      x += V::load_unaligned(bias + col);
      return xsimd::max(x, V(T(0)));
    }
  }
};

template <class T>
constexpr double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;

int threads_available() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}
void set_threads(int n) {
#if defined(_OPENMP)
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

// Runs one product and returns the largest error relative to the scale
// Σ|a·b| + |c_old| + |bias| of each element (the bound rounding obeys).
template <class T, form F, bool Acc, class SM, class SN, class SK>
double max_error(SM sm, SN sn, SK sk, std::mt19937& g) {
  const std::size_t m = std::size_t(sm), n = std::size_t(sn), kk = std::size_t(sk);
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  // A stored m×k (k×m for Aᵀ·B), B stored k×n (n×k for A·Bᵀ), with one guard
  // element past each end to catch stray writes.
  std::vector<T> A(m * kk + 1), B(kk * n + 1), C(m * n + 2), bias(n);
  for (auto& x : A) x = T(d(g));
  for (auto& x : B) x = T(d(g));
  for (auto& x : C) x = T(d(g));
  for (auto& x : bias) x = T(d(g));
  const T guard_lo = C[0], guard_hi = C[m * n + 1];
  const std::vector<T> C0(C);
  T* c = C.data() + 1;
  auto a_at = [&](std::size_t i, std::size_t q) { return double(F == form::tn ? A[q * m + i] : A[i * kk + q]); };
  auto b_at = [&](std::size_t q, std::size_t j) { return double(F == form::nt ? B[j * kk + q] : B[q * n + j]); };

  if constexpr (F == form::nn) k::gemm_nn<Acc>(sm, sn, sk, A.data(), B.data(), c);
  else if constexpr (F == form::nn_relu) k::gemm_nn<Acc>(sm, sn, sk, A.data(), B.data(), c, bias_relu<T>{bias.data()});
  else if constexpr (F == form::nt) k::gemm_nt<Acc>(sm, sn, sk, A.data(), B.data(), c);
  else k::gemm_tn<Acc>(sm, sn, sk, A.data(), B.data(), c);

  double worst = (C[0] == guard_lo && C[m * n + 1] == guard_hi) ? 0.0 : 1e300;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0, scale = 0;
      for (std::size_t q = 0; q < kk; ++q) {
        s += a_at(i, q) * b_at(q, j);
        scale += std::abs(a_at(i, q) * b_at(q, j));
      }
      if constexpr (F == form::nn_relu) {
        s = std::max(0.0, s + double(bias[j]));
        scale += std::abs(double(bias[j]));
      }
      const double old = double(C0[1 + i * n + j]);
      if constexpr (Acc) {
        s += old;
        scale += std::abs(old);
      }
      const double err = std::abs(double(c[i * n + j]) - s) / std::max(scale, 1e-30);
      worst = std::max(worst, std::isfinite(err) ? err : 1e300);
    }
  return worst;
}

template <class T, form F, bool Acc, class SM, class SN, class SK>
void check(SM m, SN n, SK kk, std::mt19937& g) {
  INFO(form_name(F) << (Acc ? " +=" : " =") << " m=" << std::size_t(m) << " n=" << std::size_t(n)
                    << " k=" << std::size_t(kk) << (k::is_static_extent_v<SM> ? " (static)" : " (dynamic)")
                    << " threads=" << threads_available() << " simd=" << k::simd_name());
  CHECK(max_error<T, F, Acc>(m, n, kk, g) <= tolerance<T>);
}

template <class T, class SM, class SN, class SK>
void check_all_forms(SM m, SN n, SK kk, std::mt19937& g) {
  check<T, form::nn, false>(m, n, kk, g);
  check<T, form::nn, true>(m, n, kk, g);
  check<T, form::nn_relu, false>(m, n, kk, g);
  check<T, form::nn_relu, true>(m, n, kk, g);
  check<T, form::nt, false>(m, n, kk, g);
  check<T, form::nt, true>(m, n, kk, g);
  check<T, form::tn, false>(m, n, kk, g);
  check<T, form::tn, true>(m, n, kk, g);
}

// Dynamic sizes: a grid of awkward shapes. K = 1100 is deeper than one
// packed panel for both instruction sets (several k blocks).
const std::vector<std::size_t> Ms{1, 3, 7, 10, 16, 17, 64, 100};
const std::vector<std::size_t> Ns{1, 3, 10, 15, 16, 17, 33, 64, 257};
const std::vector<std::size_t> Ks{1, 7, 16, 33, 100, 257};

template <class T>
void dynamic_sweep() {
  std::mt19937 g(42);
  for (std::size_t m : Ms)
    for (std::size_t n : Ns)
      for (std::size_t kk : Ks) check_all_forms<T>(m, n, kk, g);
  for (auto [m, n] : {std::pair<std::size_t, std::size_t>{1, 33}, {17, 40}, {64, 10}, {33, 100}})
    check_all_forms<T>(m, n, std::size_t(1100), g);
  // Empty products: nothing to do, nothing written.
  check_all_forms<T>(std::size_t(0), std::size_t(5), std::size_t(3), g);
  check_all_forms<T>(std::size_t(5), std::size_t(4), std::size_t(0), g);
}

// Static sizes: each triple is its own instantiation, as a layer would be.
template <std::size_t M, std::size_t N, std::size_t K>
using shape3 = std::tuple<fixed<M>, fixed<N>, fixed<K>>;
// (Few: each costs compile time. Together they meet every static pruning:
// one row, rows < and > one tile with tails, N below one vector, between
// vectors and above a panel, K of 1 and deeper than a packed panel.)
using static_shapes = std::tuple<shape3<1, 10, 128>, shape3<1, 257, 33>, shape3<7, 33, 100>, shape3<17, 100, 1>,
                                 shape3<64, 10, 128>, shape3<100, 257, 15>, shape3<33, 64, 1100>,
                                 // one row, one tile over all columns; one column (a dot product)
                                 shape3<1, 64, 16>, shape3<1, 200, 20>, shape3<1, 1, 64>, shape3<1, 1, 7>>;

template <class T>
void static_sweep() {
  std::mt19937 g(7);
  std::apply([&](auto... s) { (check_all_forms<T>(std::get<0>(s), std::get<1>(s), std::get<2>(s), g), ...); },
             static_shapes{});
}

template <class T>
void on_threads(void (*sweep)()) {
  const int saved = threads_available();
  for (int t : {1, 3}) {
    set_threads(t);
    sweep();
  }
  set_threads(saved);
}

}  // namespace

TEST_CASE("the kernels are built for the instruction set the build asked for", "[kernels]") {
  INFO("simd: " << k::simd_name());
#if defined(CTNN_SIMD_NAME)
  const std::string isa = CTNN_SIMD_NAME;
  if (isa == "avx512") CHECK(k::lanes<float> == 16);
  if (isa == "avx2") CHECK(k::lanes<float> == 8);
#endif
  CHECK(k::lanes<double> * 2 == k::lanes<float>);
}

TEST_CASE("gemm, dynamic sizes, float", "[kernels][gemm]") { on_threads<float>(dynamic_sweep<float>); }
TEST_CASE("gemm, dynamic sizes, double", "[kernels][gemm]") { on_threads<double>(dynamic_sweep<double>); }
TEST_CASE("gemm, static sizes, float", "[kernels][gemm]") { on_threads<float>(static_sweep<float>); }
TEST_CASE("gemm, static sizes, double", "[kernels][gemm]") { on_threads<double>(static_sweep<double>); }

// A team splits a product over row blocks or column panels, never over k:
// each element is summed in the same order on any team size. The MLP's fc1
// products, each large enough to split (the forward and the weight gradient
// over columns, the input gradient over column panels of A·Bᵀ).
TEST_CASE("gemm: the same bits on one thread and on a team", "[kernels][gemm][threads]") {
  constexpr std::size_t M = 64, N = 256, K = 784;
  std::mt19937 g(11);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> X(M * K), W(K * N), G(M * N), bias(N);
  for (auto* v : {&X, &W, &G, &bias})
    for (auto& x : *v) x = d(g);
  const auto products = [&] {
    std::vector<float> y(M * N), dw(K * N), dx(M * K), halves(M * N), partial(M * N);
    k::gemm_nn<M, N, K>(X.data(), W.data(), y.data(), bias_relu<float>{bias.data()});
    k::gemm_tn<K, N, M>(X.data(), G.data(), dw.data());
    k::gemm_nt<M, K, N>(G.data(), W.data(), dx.data());
    k::gemm_nn_depth_halves<M, N, K>(X.data(), W.data(), halves.data(), partial.data(), bias_relu<float>{bias.data()});
    return std::tuple{y, dw, dx, halves};
  };
  const int saved = threads_available();
  set_threads(1);
  const auto one = products();
  for (int t : {2, 3}) {
    INFO("threads " << t);
    set_threads(t);
    const auto team = products();
    CHECK(std::get<0>(team) == std::get<0>(one));
    CHECK(std::get<1>(team) == std::get<1>(one));
    CHECK(std::get<2>(team) == std::get<2>(one));
    CHECK(std::get<3>(team) == std::get<3>(one));
  }
  set_threads(saved);
}

// The depth as two fixed halves: split where the weight gradient's row
// halves meet, within rounding of the exact product, its epilogue applied
// once, on every column (a tail past the last whole vector included).
TEST_CASE("gemm_nn_depth_halves: the product, split at the weight gradient's row halves", "[kernels][gemm][threads]") {
  STATIC_REQUIRE(k::depth_half<float>(784) == 392);  // 98 row blocks of 8 (AVX-512) or 196 of 4 (AVX2)
  STATIC_REQUIRE(k::depth_half<float>(800) == 400);
  constexpr std::size_t M = 20, N = 100, K = 301;
  std::mt19937 g(5);
  std::uniform_real_distribution<double> d(-1, 1);
  std::vector<double> A(M * K), B(K * N), bias(N);
  for (auto* v : {&A, &B, &bias})
    for (auto& x : *v) x = d(g);
  const int saved = threads_available();
  for (int t : {1, 2}) {
    set_threads(t);
    std::vector<double> C(M * N, 7.0), partial(M * N, 7.0);  // both overwritten
    k::gemm_nn_depth_halves<M, N, K>(A.data(), B.data(), C.data(), partial.data(), bias_relu<double>{bias.data()});
    double worst = 0;
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < N; ++j) {
        double s = bias[j], scale = std::abs(bias[j]);
        for (std::size_t q = 0; q < K; ++q) {
          s += A[i * K + q] * B[q * N + j];
          scale += std::abs(A[i * K + q] * B[q * N + j]);
        }
        worst = std::max(worst, std::abs(C[i * N + j] - std::max(0.0, s)) / scale);
      }
    INFO("threads " << t);
    CHECK(worst <= tolerance<double>);
  }
  set_threads(saved);
}

TEST_CASE("gemm, the template-argument spelling of the static graph", "[kernels][gemm]") {
  std::mt19937 g(3);
  std::uniform_real_distribution<float> d(-1, 1);
  constexpr std::size_t M = 5, N = 19, K = 9;
  std::vector<float> A(M * K), B(K * N), Bt(N * K), At(K * M), bias(N), C1(M * N), C2(M * N);
  for (auto* v : {&A, &B, &Bt, &At, &bias})
    for (auto& x : *v) x = d(g);
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t q = 0; q < K; ++q) At[q * M + i] = A[i * K + q];
  for (std::size_t q = 0; q < K; ++q)
    for (std::size_t j = 0; j < N; ++j) Bt[j * K + q] = B[q * N + j];

  k::gemm_nn<M, N, K>(A.data(), B.data(), C1.data(), bias_relu<float>{bias.data()});
  k::gemm_nn<false>(M, N, K, A.data(), B.data(), C2.data(), bias_relu<float>{bias.data()});
  CHECK(C1 == C2);
  k::gemm_nn<M, N, K, true>(A.data(), B.data(), C1.data());
  k::gemm_nn<true>(fixed<M>{}, N, fixed<K>{}, A.data(), B.data(), C2.data());
  CHECK(C1 == C2);
  // The three forms agree on the same product.
  std::vector<float> C3(M * N), C4(M * N);
  k::gemm_nn<M, N, K>(A.data(), B.data(), C1.data());
  k::gemm_nt<M, N, K>(A.data(), Bt.data(), C3.data());
  k::gemm_tn<M, N, K>(At.data(), B.data(), C4.data());
  for (std::size_t i = 0; i < M * N; ++i) {
    CHECK(C3[i] == Approx(C1[i]).epsilon(1e-5).margin(1e-6));
    CHECK(C4[i] == Approx(C1[i]).epsilon(1e-5).margin(1e-6));
  }
}

TEST_CASE("column_sums and map, static and dynamic sizes", "[kernels]") {
  std::mt19937 g(11);
  std::uniform_real_distribution<double> d(-1, 1);
  for (std::size_t rows : {1, 3, 64})
    for (std::size_t n : {1, 7, 10, 16, 17, 33, 64, 100, 257}) {
      std::vector<double> A(rows * n), out(n), acc(n), ref(n, 0.0);
      for (auto& x : A) x = d(g);
      for (auto& x : acc) x = d(g);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < n; ++j) ref[j] += A[r * n + j];
      std::vector<double> acc0 = acc;
      k::column_sums(rows, n, A.data(), out.data());
      k::column_sums<true>(rows, n, A.data(), acc.data());
      for (std::size_t j = 0; j < n; ++j) {
        CHECK(out[j] == Approx(ref[j]).epsilon(1e-12));
        CHECK(acc[j] == Approx(ref[j] + acc0[j]).epsilon(1e-12));
      }
      std::vector<float> x(n), y(n), z(n, 1.0f);
      for (auto& v : x) v = float(d(g));
      k::map(n, y.data(), [](auto v) { return v * decltype(v)(2.0f); }, x.data());
      k::map_into<true>(n, z.data(), [](auto a, auto b) { return a + b; }, x.data(), y.data());
      for (std::size_t j = 0; j < n; ++j) {
        CHECK(y[j] == 2.0f * x[j]);
        CHECK(z[j] == Approx(1.0f + 3.0f * x[j]).margin(1e-6));
      }
    }
  // Columns summed in pieces (a team's product columns) give the bits of one
  // call: each column is summed alike in whatever range it falls.
  constexpr std::size_t L = ctnn::kernels::lanes<double>;
  for (std::size_t n : {10, 96, 100, 257})
    for (std::size_t cut_vectors : {1, 3, 4, 8}) {
      std::vector<double> A(64 * n), whole(n), pieces(n, 7.0), acc_whole(n, 1.5), acc_pieces(n, 1.5);
      for (auto& x : A) x = d(g);
      const std::size_t cut = std::min(n, cut_vectors * L);
      k::column_sums(std::size_t(64), n, A.data(), whole.data());
      k::column_sums(std::size_t(64), n, A.data(), pieces.data(), 0, cut);
      k::column_sums(std::size_t(64), n, A.data(), pieces.data(), cut, n);
      k::column_sums<true>(std::size_t(64), n, A.data(), acc_whole.data());
      k::column_sums<true>(std::size_t(64), n, A.data(), acc_pieces.data(), cut, n);
      k::column_sums<true>(std::size_t(64), n, A.data(), acc_pieces.data(), 0, cut);
      CHECK(std::memcmp(whole.data(), pieces.data(), n * sizeof(double)) == 0);
      CHECK(std::memcmp(acc_whole.data(), acc_pieces.data(), n * sizeof(double)) == 0);
    }
  std::vector<float> A(64 * 10), out(10), ref(10, 0.0f);
  for (std::size_t i = 0; i < A.size(); ++i) A[i] = float(i % 7);
  for (std::size_t r = 0; r < 64; ++r)
    for (std::size_t j = 0; j < 10; ++j) ref[j] += A[r * 10 + j];
  k::column_sums<64, 10>(A.data(), out.data());
  CHECK(out == ref);
  std::vector<float> y(640);
  k::map<640>(y.data(), [](auto v) { return v + decltype(v)(1.0f); }, A.data());
  CHECK(y[639] == A[639] + 1.0f);
}
