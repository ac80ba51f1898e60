// Preprocessing: statistics fitted on the training set only and applied to
// any set; the symmetric eigen solvers; PCA and whitening on data whose
// covariance is known in closed form.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

#include <ctnn/data/preprocess.hpp>
#include <ctnn/io/idx.hpp>

using Catch::Detail::Approx;
namespace data = ctnn::data;

namespace {

// Deterministic across standard libraries: raw mt19937_64 bits only.
struct rng {
  std::mt19937_64 gen;
  explicit rng(std::uint64_t seed) : gen(seed * 0x9e3779b97f4a7c15ull + 1) {}
  double uniform(double lo = 0, double hi = 1) { return lo + (hi - lo) * double(gen() >> 11) * 0x1.0p-53; }
  double normal() {  // Box-Muller
    const double u = 1.0 - uniform(), v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * 3.14159265358979323846 * v);
  }
};

struct moments {
  std::vector<double> mean, var;
};

// Per-column mean and population variance, straight from the definition.
template <class T>
moments column_moments(const std::vector<T>& x, std::size_t n, std::size_t d) {
  moments m{std::vector<double>(d, 0.0), std::vector<double>(d, 0.0)};
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) m.mean[j] += double(x[i * d + j]) / double(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const double c = double(x[i * d + j]) - m.mean[j];
      m.var[j] += c * c / double(n);
    }
  return m;
}

// Covariance (divided by n) of x [n×d].
template <class T>
std::vector<double> covariance(const std::vector<T>& x, std::size_t n, std::size_t d) {
  const moments m = column_moments(x, n, d);
  std::vector<double> c(d * d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t a = 0; a < d; ++a)
      for (std::size_t b = 0; b < d; ++b)
        c[a * d + b] += (double(x[i * d + a]) - m.mean[a]) * (double(x[i * d + b]) - m.mean[b]) / double(n);
  return c;
}

double max_abs(const std::vector<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

// The Householder reflection I − 2uuᵀ/uᵀu: symmetric and orthogonal, so its
// columns (= rows) are an orthonormal basis known in closed form.
std::vector<double> reflection(const std::vector<double>& u) {
  const std::size_t n = u.size();
  double uu = 0;
  for (double v : u) uu += v * v;
  std::vector<double> h(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) h[i * n + j] = (i == j ? 1.0 : 0.0) - 2.0 * u[i] * u[j] / uu;
  return h;
}

struct eigen_errors {
  double residual = 0;     // max |A·v − λ·v| / max(1, max|A|)
  double orthonormal = 0;  // max |V·Vᵀ − I|
  bool descending = true;
};

eigen_errors check_eigen(const std::vector<double>& a, std::size_t n, const data::symmetric_eigen& e) {
  eigen_errors r;
  const double scale = std::max(1.0, max_abs(a));
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = e.vector(i);
    for (std::size_t k = 0; k < n; ++k) {
      double s = 0;
      for (std::size_t j = 0; j < n; ++j) s += a[k * n + j] * v[j];
      r.residual = std::max(r.residual, std::abs(s - e.values[i] * v[k]) / scale);
    }
    if (i > 0 && e.values[i] > e.values[i - 1]) r.descending = false;
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < n; ++k) s += e.vectors[i * n + k] * e.vectors[j * n + k];
      r.orthonormal = std::max(r.orthonormal, std::abs(s - (i == j ? 1.0 : 0.0)));
    }
  return r;
}

std::vector<double> random_symmetric(std::size_t n, std::uint64_t seed) {
  rng g(seed);
  std::vector<double> a(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = g.uniform(-1, 1);
  return a;
}

// Samples x_i = μ + Σ_c a_ic·q_c whose covariance is exactly Σ_c s_c²·q_c·q_cᵀ:
// for each component c two samples, μ ± s_c·√d·q_c (2d samples in all).
std::vector<double> known_covariance_samples(const std::vector<double>& q, const std::vector<double>& s,
                                             const std::vector<double>& mu) {
  const std::size_t d = mu.size();
  std::vector<double> x;
  for (std::size_t c = 0; c < d; ++c)
    for (double sign : {1.0, -1.0})
      for (std::size_t j = 0; j < d; ++j) x.push_back(mu[j] + sign * s[c] * std::sqrt(double(d)) * q[c * d + j]);
  return x;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// standardizer

TEST_CASE("standardizer: exact per-feature mean and std of a hand-made matrix", "[data][preprocess]") {
  // Columns: mean 4 and variance 5; constant 2; mean 8 and variance 5.
  const std::vector<double> x{1, 2, 5,  //
                              3, 2, 7,  //
                              5, 2, 9,  //
                              7, 2, 11};
  const auto s = data::standardizer::fit(x.data(), 4, 3);
  REQUIRE(s.features() == 3);
  CHECK(s.mean()[0] == 4.0);
  CHECK(s.mean()[1] == 2.0);
  CHECK(s.mean()[2] == 8.0);
  CHECK(s.stddev()[0] == std::sqrt(5.0));
  CHECK(s.stddev()[1] == 0.0);
  CHECK(s.stddev()[2] == std::sqrt(5.0));
  CHECK(s.scale()[1] == 1.0);  // a constant feature is centred, not divided by 0

  std::vector<double> y = x;
  s.apply(y.data(), 4);
  const double r5 = 1.0 / std::sqrt(5.0);
  const std::vector<double> want{-3 * r5, 0, -3 * r5, -1 * r5, 0, -1 * r5, 1 * r5, 0, 1 * r5, 3 * r5, 0, 3 * r5};
  for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(want[i]).margin(1e-15));

  s.invert(y.data(), 4);
  for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(x[i]).margin(1e-14));
}

TEST_CASE("standardizer: global and per-channel statistics, mean subtraction only", "[data][preprocess]") {
  // 2 examples of 2 channels × 2 features.
  const std::vector<double> x{1, 3, 10, 30,  //
                              5, 7, 50, 70};
  SECTION("global: one mean and one std for everything") {
    const auto s = data::standardizer::fit(x.data(), 2, 4, {.over = data::scope::global});
    const double mean = (1 + 3 + 10 + 30 + 5 + 7 + 50 + 70) / 8.0;
    double var = 0;
    for (double v : x) var += (v - mean) * (v - mean) / 8.0;
    for (std::size_t j = 0; j < 4; ++j) {
      CHECK(s.mean()[j] == Approx(mean).epsilon(1e-15));
      CHECK(s.stddev()[j] == Approx(std::sqrt(var)).epsilon(1e-15));
    }
  }
  SECTION("per channel: [channels, d / channels]") {
    const auto s = data::standardizer::fit(x.data(), 2, 4, {.over = data::scope::per_channel, .channels = 2});
    CHECK(s.mean()[0] == 4.0);  // (1 + 3 + 5 + 7) / 4
    CHECK(s.mean()[1] == 4.0);
    CHECK(s.mean()[2] == 40.0);  // (10 + 30 + 50 + 70) / 4
    CHECK(s.mean()[3] == 40.0);
    CHECK(s.stddev()[0] == std::sqrt(5.0));    // (9 + 1 + 1 + 9) / 4
    CHECK(s.stddev()[2] == std::sqrt(500.0));  // (900 + 100 + 100 + 900) / 4
  }
  SECTION("mean subtraction only: X -= np.mean(X) and X -= np.mean(X, axis=0)") {
    const auto g = data::standardizer::fit_mean(x.data(), 2, 4, data::scope::global);
    std::vector<double> y = x;
    g.apply(y.data(), 2);
    const double mean = 176.0 / 8.0;
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == x[i] - mean);

    const auto f = data::standardizer::fit_mean(x.data(), 2, 4);
    y = x;
    f.apply(y.data(), 2);
    const std::vector<double> want{-2, -2, -20, -20, 2, 2, 20, 20};
    CHECK(y == want);
  }
  SECTION("bad arguments") {
    CHECK_THROWS_AS(data::standardizer::fit(x.data(), 0, 4), std::invalid_argument);
    CHECK_THROWS_AS(data::standardizer::fit(x.data(), 2, 4, {.over = data::scope::per_channel, .channels = 3}),
                    std::invalid_argument);
  }
}

TEST_CASE("standardizer: the standardized training set has mean 0 and std 1 per feature", "[data][preprocess]") {
  constexpr std::size_t n = 500, d = 20;
  rng g(3);
  std::vector<double> x(n * d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) x[i * d + j] = 10.0 * double(j) - 50 + (0.1 + double(j)) * g.normal();
  std::vector<float> xf(x.begin(), x.end());

  const auto s = data::standardizer::fit(x.data(), n, d);
  s.apply(x.data(), n);
  const moments m = column_moments(x, n, d);
  for (std::size_t j = 0; j < d; ++j) {
    CHECK(m.mean[j] == Approx(0.0).margin(1e-6));
    CHECK(std::sqrt(m.var[j]) == Approx(1.0).margin(1e-6));
  }

  const auto sf = data::standardizer::fit(xf.data(), n, d);
  sf.apply(xf.data(), n);
  const moments mf = column_moments(xf, n, d);
  for (std::size_t j = 0; j < d; ++j) {
    CHECK(mf.mean[j] == Approx(0.0).margin(1e-6));
    CHECK(std::sqrt(mf.var[j]) == Approx(1.0).margin(1e-6));
  }
}

TEST_CASE("standardizer: another set gets the training statistics, not its own", "[data][preprocess]") {
  constexpr std::size_t n = 200, d = 4;
  rng g(11);
  std::vector<double> train(n * d), test(n * d);
  for (std::size_t i = 0; i < n * d; ++i) train[i] = 2.0 + 3.0 * g.normal();
  // The test set is shifted by +6 and scaled by 2 relative to the training set.
  for (std::size_t i = 0; i < n * d; ++i) test[i] = 8.0 + 6.0 * g.normal();

  const auto s = data::standardizer::fit(train.data(), n, d);
  const std::vector<double> mean(s.mean().begin(), s.mean().end()), sd(s.stddev().begin(), s.stddev().end());
  std::vector<double> out(n * d);
  s.apply(test.data(), n, out.data());
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j)
      CHECK(out[i * d + j] == Approx((test[i * d + j] - mean[j]) / sd[j]).epsilon(1e-14).margin(1e-14));
  // The test set is not standardized: its mean is about +2 training stds, its std about 2.
  const moments m = column_moments(out, n, d);
  for (std::size_t j = 0; j < d; ++j) {
    CHECK(std::abs(m.mean[j] - 2.0) < 0.5);
    CHECK(std::abs(std::sqrt(m.var[j]) - 2.0) < 0.5);
  }
  // Applying did not refit: the statistics are unchanged.
  CHECK(std::equal(mean.begin(), mean.end(), s.mean().begin()));
  CHECK(std::equal(sd.begin(), sd.end(), s.stddev().begin()));
  // A value unseen in a constant training feature stays at its distance from the mean.
  const std::vector<double> flat{0.0, 0.0, 0.0};
  const auto c = data::standardizer::fit(flat.data(), 3, 1);
  double v = 0.75;
  c.apply(&v, 1);
  CHECK(v == 0.75);
}

TEST_CASE("min_max_scaler: the training range maps onto [-1, 1]", "[data][preprocess]") {
  const std::vector<double> x{0, 5, 2,  //
                              4, 5, 6,  //
                              2, 5, 10};
  const auto s = data::min_max_scaler::fit(x.data(), 3, 3);
  CHECK(s.min()[0] == 0.0);
  CHECK(s.max()[2] == 10.0);
  std::vector<double> y = x;
  s.apply(y.data(), 3);
  const std::vector<double> want{-1, 0, -1, 1, 0, 0, 0, 0, 1};
  for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(want[i]).margin(1e-15));
  // Another set: the same map, not clamped.
  const std::vector<double> t{8, 6, 18};
  std::vector<double> u(3);
  s.apply(t.data(), 1, u.data());
  CHECK(u[0] == Approx(3.0));
  CHECK(u[1] == Approx(1.0));
  CHECK(u[2] == Approx(3.0));
  CHECK_THROWS_AS(data::min_max_scaler::fit(x.data(), 3, 3, 1.0, 1.0), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------
// eigen solvers

TEST_CASE("eigen_symmetric: random symmetric matrices, A·v = λ·v and orthonormal vectors", "[data][eigen]") {
  for (std::size_t n : {1, 2, 3, 4, 10, 37, 100}) {
    CAPTURE(n);
    const auto a = random_symmetric(n, 100 + n);
    const auto e = data::eigen_symmetric(a.data(), n);
    const auto err = check_eigen(a, n, e);
    CHECK(err.residual < 1e-10);
    CHECK(err.orthonormal < 1e-10);
    CHECK(err.descending);
    // The Jacobi solver, an independent method, finds the same eigenvalues.
    const auto j = data::eigen_symmetric_jacobi(a.data(), n);
    const auto errj = check_eigen(a, n, j);
    CHECK(errj.residual < 1e-10);
    CHECK(errj.orthonormal < 1e-10);
    for (std::size_t i = 0; i < n; ++i) CHECK(e.values[i] == Approx(j.values[i]).margin(1e-10));
    // The trace is the sum of the eigenvalues.
    double tr = 0, sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      tr += a[i * n + i];
      sum += e.values[i];
    }
    CHECK(sum == Approx(tr).margin(1e-10));
  }
}

TEST_CASE("eigen_symmetric: a known spectrum with repeated and negative eigenvalues", "[data][eigen]") {
  // A = H·diag(λ)·H with H a reflection: the eigenvalues are λ and, for a
  // simple eigenvalue, the eigenvector is ± the matching column of H.
  const std::vector<double> lambda{3, -2, 5, 1, -2, 0, 3, -7};
  const std::size_t n = lambda.size();
  const auto h = reflection({1, -2, 3, 0.5, 4, -1, 2, 0.25});
  std::vector<double> a(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t k = 0; k < n; ++k) a[i * n + j] += h[i * n + k] * lambda[k] * h[j * n + k];
  std::vector<double> sorted = lambda;
  std::sort(sorted.rbegin(), sorted.rend());
  for (const auto& e : {data::eigen_symmetric(a.data(), n), data::eigen_symmetric_jacobi(a.data(), n)}) {
    for (std::size_t i = 0; i < n; ++i) CHECK(e.values[i] == Approx(sorted[i]).margin(1e-12));
    const auto err = check_eigen(a, n, e);
    CHECK(err.residual < 1e-12);
    CHECK(err.orthonormal < 1e-12);
    // Simple eigenvalues 5, 1, 0, −7: column k of H, up to sign.
    for (std::size_t k : {2u, 3u, 5u, 7u}) {
      const std::size_t i = std::size_t(std::find(sorted.begin(), sorted.end(), lambda[k]) - sorted.begin());
      double dot = 0;
      for (std::size_t j = 0; j < n; ++j) dot += e.vectors[i * n + j] * h[j * n + k];
      CHECK(std::abs(dot) == Approx(1.0).margin(1e-12));
    }
  }
}

TEST_CASE("eigen_symmetric: special matrices", "[data][eigen]") {
  SECTION("zero and identity") {
    const std::vector<double> z(16, 0.0);
    const auto ez = data::eigen_symmetric(z.data(), 4);
    for (double v : ez.values) CHECK(v == 0.0);
    CHECK(check_eigen(z, 4, ez).orthonormal < 1e-15);
    std::vector<double> id(25, 0.0);
    for (std::size_t i = 0; i < 5; ++i) id[i * 5 + i] = 1;
    const auto ei = data::eigen_symmetric(id.data(), 5);
    for (double v : ei.values) CHECK(v == 1.0);
    CHECK(check_eigen(id, 5, ei).orthonormal < 1e-15);
  }
  SECTION("diagonal: sorted, unit vectors with a positive sign") {
    const std::vector<double> a{2, 0, 0, 0, -1, 0, 0, 0, 7};
    const auto e = data::eigen_symmetric(a.data(), 3);
    CHECK(e.values == std::vector<double>{7, 2, -1});
    CHECK(e.vectors == std::vector<double>{0, 0, 1, 1, 0, 0, 0, 1, 0});
  }
  SECTION("2×2 in closed form") {
    const std::vector<double> a{2, 1, 1, 2};  // eigenvalues 3 and 1, vectors (1, 1)/√2 and (1, −1)/√2
    const auto e = data::eigen_symmetric(a.data(), 2);
    CHECK(e.values[0] == Approx(3.0).margin(1e-15));
    CHECK(e.values[1] == Approx(1.0).margin(1e-15));
    CHECK(e.vectors[0] == Approx(std::sqrt(0.5)).margin(1e-15));
    CHECK(e.vectors[1] == Approx(std::sqrt(0.5)).margin(1e-15));
    CHECK(std::abs(e.vectors[2]) == Approx(std::sqrt(0.5)).margin(1e-15));
    CHECK(e.vectors[2] == Approx(-e.vectors[3]).margin(1e-15));
  }
  SECTION("Wilkinson's W21+: nearly equal eigenvalue pairs") {
    constexpr std::size_t n = 21;
    std::vector<double> a(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      a[i * n + i] = std::abs(double(i) - 10.0);
      if (i + 1 < n) a[i * n + i + 1] = a[(i + 1) * n + i] = 1.0;
    }
    const auto e = data::eigen_symmetric(a.data(), n);
    const auto err = check_eigen(a, n, e);
    CHECK(err.residual < 1e-13);
    CHECK(err.orthonormal < 1e-13);
    CHECK(e.values[0] == Approx(10.746194182903393).epsilon(1e-14));  // the classic largest pair
    CHECK(e.values[1] == Approx(10.746194182903322).epsilon(1e-14));
    const auto j = data::eigen_symmetric_jacobi(a.data(), n);
    for (std::size_t i = 0; i < n; ++i) CHECK(e.values[i] == Approx(j.values[i]).margin(1e-13));
  }
  SECTION("graded: entries from 1e-8 to 1e8") {
    constexpr std::size_t n = 12;
    std::vector<double> a(n * n);
    rng g(5);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j)
        a[i * n + j] = a[j * n + i] = g.uniform(-1, 1) * std::pow(10.0, -8.0 + 16.0 * double(i + j) / double(2 * n - 2));
    const auto e = data::eigen_symmetric(a.data(), n);
    const auto err = check_eigen(a, n, e);
    CHECK(err.residual < 1e-10);  // relative to max|A| = 1e8
    CHECK(err.orthonormal < 1e-10);
  }
  SECTION("non-finite input is rejected") {
    std::vector<double> a{1, 0, 0, std::nan("")};
    CHECK_THROWS_AS(data::eigen_symmetric(a.data(), 2), std::invalid_argument);
    CHECK_THROWS_AS(data::eigen_symmetric_jacobi(a.data(), 2), std::invalid_argument);
  }
}

TEST_CASE("eigen_symmetric: the 784×784 covariance of 1000 random images", "[data][eigen][slow]") {
  constexpr std::size_t n = 784, samples = 1000;
  rng g(784);
  std::vector<double> x(samples * n);
  for (auto& v : x) v = g.uniform();
  for (std::size_t i = 0; i < samples; ++i)  // correlated neighbours, like pixels
    for (std::size_t j = 1; j < n; ++j) x[i * n + j] = 0.5 * x[i * n + j] + 0.5 * x[i * n + j - 1];
  std::vector<double> cov(n * n, 0.0);
  ctnn::kernels::gemm_tn(n, n, samples, x.data(), x.data(), cov.data());  // second moments, symmetric
  for (double& c : cov) c /= double(samples);

  const auto t0 = std::chrono::steady_clock::now();
  const auto e = data::eigen_symmetric(cov.data(), n);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("eigen_symmetric, 784×784: %.3f s\n", seconds);
  const auto err = check_eigen(cov, n, e);
  CHECK(err.residual < 1e-10);
  CHECK(err.orthonormal < 1e-10);
  CHECK(err.descending);
  CHECK(seconds < 20.0);
}

// ---------------------------------------------------------------------------------------
// PCA

TEST_CASE("pca: recovers a known covariance's eigenvalues and eigenvectors", "[data][pca]") {
  constexpr std::size_t d = 5;
  const auto q = reflection({2, -1, 0.5, 3, 1});  // rows: the true components
  const std::vector<double> s{3, 2, 1, 0.5, 0.1}, mu{10, -4, 2.5, 0, 7};
  const auto x = known_covariance_samples(q, s, mu);
  const std::size_t n = x.size() / d;

  const auto p = data::pca::fit(x.data(), n, d);
  REQUIRE(p.components() == d);
  for (std::size_t c = 0; c < d; ++c) {
    CAPTURE(c);
    CHECK(p.mean()[c] == Approx(mu[c]).margin(1e-12));
    CHECK(p.eigenvalues()[c] == Approx(s[c] * s[c]).margin(1e-9));
    double dot = 0;
    for (std::size_t j = 0; j < d; ++j) dot += p.component(c)[j] * q[c * d + j];
    CHECK(std::abs(dot) == Approx(1.0).margin(1e-9));
  }
  CHECK(p.total_variance() == Approx(9 + 4 + 1 + 0.25 + 0.01).epsilon(1e-12));

  // Each sample lies along one component: its projection is ±s_c·√d there and 0 elsewhere.
  std::vector<double> z(n * d);
  p.project(x.data(), n, z.data());
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < d; ++c)
      CHECK(std::abs(z[i * d + c]) == Approx(c == i / 2 ? s[c] * std::sqrt(double(d)) : 0.0).margin(1e-9));

  // k = 2: the two largest, and the variance they explain.
  const auto p2 = data::pca::fit(x.data(), n, d, 2);
  CHECK(p2.components() == 2);
  CHECK(p2.explained_variance_ratio() == Approx(13.0 / 14.26).epsilon(1e-12));
  CHECK_THROWS_AS(data::pca::fit(x.data(), n, d, 6), std::invalid_argument);
}

TEST_CASE("pca: points on a 2-D plane embedded in 5-D", "[data][pca]") {
  constexpr std::size_t d = 5, n = 300;
  const std::vector<double> u{1, 2, 0, -1, 1}, w{1, 0, 1, 1, 0};  // orthogonal: 1 + 0 + 0 − 1 + 0 = 0
  const std::vector<double> mu{0.5, -1, 2, 3, 0};
  rng g(21);
  std::vector<double> x(n * d);
  for (std::size_t i = 0; i < n; ++i) {
    const double a = 3 * g.normal(), b = g.normal();
    for (std::size_t j = 0; j < d; ++j) x[i * d + j] = mu[j] + a * u[j] + b * w[j];
  }
  const auto p = data::pca::fit(x.data(), n, d);
  // Exactly two directions of variance; the rest is rounding.
  for (std::size_t c = 2; c < d; ++c) CHECK(std::abs(p.eigenvalues()[c]) < 1e-12);
  // The first two components span the plane: each is a combination of u and w.
  for (std::size_t c = 0; c < 2; ++c) {
    const auto v = p.component(c);
    double vu = 0, vw = 0, uu = 0, ww = 0;
    for (std::size_t j = 0; j < d; ++j) {
      vu += v[j] * u[j];
      vw += v[j] * w[j];
      uu += u[j] * u[j];
      ww += w[j] * w[j];
    }
    CHECK(vu * vu / uu + vw * vw / ww == Approx(1.0).margin(1e-12));
  }
  // Two components reconstruct the data exactly.
  const auto p2 = data::pca::fit(x.data(), n, d, 2);
  std::vector<double> z(n * 2), back(n * d);
  p2.project(x.data(), n, z.data());
  p2.reconstruct(z.data(), n, back.data());
  for (std::size_t i = 0; i < n * d; ++i) CHECK(back[i] == Approx(x[i]).margin(1e-10));
}

TEST_CASE("pca: whitened training data has identity covariance", "[data][pca]") {
  constexpr std::size_t d = 6, n = 400;
  rng g(8);
  std::vector<double> x(n * d);
  for (std::size_t i = 0; i < n; ++i) {
    double z[d];
    for (auto& v : z) v = g.normal();
    for (std::size_t j = 0; j < d; ++j) {  // a correlated mixture
      double s = 5.0 + double(j);
      for (std::size_t k = 0; k <= j; ++k) s += (1.0 + double(k)) / (1.0 + double(j)) * z[k];
      x[i * d + j] = s;
    }
  }
  const auto p = data::pca::fit(x.data(), n, d, 0, /*whiten_eps=*/0.0);
  std::vector<double> w(n * d);
  p.whiten(x.data(), n, w.data());
  const auto c = covariance(w, n, d);
  const moments m = column_moments(w, n, d);
  for (std::size_t a = 0; a < d; ++a) {
    CHECK(m.mean[a] == Approx(0.0).margin(1e-10));
    for (std::size_t b = 0; b < d; ++b) CHECK(c[a * d + b] == Approx(a == b ? 1.0 : 0.0).margin(1e-8));
  }
  // The projection (without whitening) is decorrelated with variances λ.
  std::vector<double> z(n * d);
  p.project(x.data(), n, z.data());
  const auto cz = covariance(z, n, d);
  for (std::size_t a = 0; a < d; ++a)
    for (std::size_t b = 0; b < d; ++b)
      CHECK(cz[a * d + b] == Approx(a == b ? p.eigenvalues()[a] : 0.0).margin(1e-9));
  // Full-rank reconstruction is the identity.
  std::vector<double> back(n * d);
  p.reconstruct(z.data(), n, back.data());
  for (std::size_t i = 0; i < n * d; ++i) CHECK(back[i] == Approx(x[i]).margin(1e-10));

  // The float path agrees with the double one.
  std::vector<float> xf(x.begin(), x.end()), wf(n * d);
  p.whiten(xf.data(), n, wf.data());
  double worst = 0;
  for (std::size_t i = 0; i < n * d; ++i) worst = std::max(worst, std::abs(double(wf[i]) - w[i]));
  CHECK(worst < 1e-4);

  // With eps, each whitened variance is λ / (λ + eps).
  const auto pe = data::pca::fit(x.data(), n, d, 0, 0.5);
  pe.whiten(x.data(), n, w.data());
  const auto ce = covariance(w, n, d);
  for (std::size_t a = 0; a < d; ++a)
    CHECK(ce[a * d + a] == Approx(pe.eigenvalues()[a] / (pe.eigenvalues()[a] + 0.5)).margin(1e-9));
}

TEST_CASE("pca: another set is centred with the training mean", "[data][pca]") {
  constexpr std::size_t d = 3, n = 50;
  rng g(4);
  std::vector<double> train(n * d), test(n * d);
  for (auto& v : train) v = g.normal();
  for (auto& v : test) v = 4.0 + g.normal();
  const auto p = data::pca::fit(train.data(), n, d);
  std::vector<double> z(n * d);
  p.project(test.data(), n, z.data());
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < d; ++c) {
      double want = 0;
      for (std::size_t j = 0; j < d; ++j) want += (test[i * d + j] - p.mean()[j]) * p.component(c)[j];
      CHECK(z[i * d + c] == Approx(want).margin(1e-12));
    }
}

// ---------------------------------------------------------------------------------------
// Fashion-MNIST, when installed

TEST_CASE("Fashion-MNIST: statistics from the training split, applied to the test split", "[data][fashion]") {
  const auto dir = ctnn::io::fashion_mnist_dir();
  if (!std::filesystem::exists(dir / "train-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST not found in " << dir << ": skipped");
    return;
  }
  auto train = ctnn::io::load_fashion_mnist(dir, ctnn::io::split::train);
  auto test = ctnn::io::load_fashion_mnist(dir, ctnn::io::split::test);
  const std::size_t d = train.features;

  // PCA on the first 10000 training images (the whole set takes a few seconds).
  const std::size_t np = 10000, k = 100;
  const auto t0 = std::chrono::steady_clock::now();
  const auto s = data::standardizer::fit(train.images.data(), train.count, d);
  const auto t1 = std::chrono::steady_clock::now();
  const auto p = data::pca::fit(train.images.data(), np, d, k);
  const auto t2 = std::chrono::steady_clock::now();
  std::printf("Fashion-MNIST: standardizer::fit %zu×%zu %.3f s, pca::fit %zu×%zu (k = %zu) %.3f s, %.1f%% of the variance\n",
              train.count, d, std::chrono::duration<double>(t1 - t0).count(), np, d, k,
              std::chrono::duration<double>(t2 - t1).count(), 100 * p.explained_variance_ratio());

  // Fashion-MNIST's first 100 components hold about 91% of the variance.
  CHECK(p.explained_variance_ratio() > 0.85);
  CHECK(p.explained_variance_ratio() < 0.95);

  std::vector<float> ztr(np * k), zt(test.count * k);
  p.whiten(train.images.data(), np, ztr.data());
  p.whiten(test.images.data(), test.count, zt.data());
  const moments mtr = column_moments(ztr, np, k), mte = column_moments(zt, test.count, k);
  for (std::size_t c = 0; c < k; ++c) {
    const double lambda = p.eigenvalues()[c];
    CHECK(mtr.mean[c] == Approx(0.0).margin(1e-3));
    CHECK(mtr.var[c] == Approx(lambda / (lambda + p.whiten_eps())).margin(1e-3));
  }
  // The test split is close to, not exactly, whitened.
  CHECK(std::abs(mte.var[0] - 1.0) > 1e-6);
  CHECK(std::abs(mte.var[0] - 1.0) < 0.1);

  s.apply(train.images.data(), train.count);
  s.apply(test.images.data(), test.count);
  const moments m = column_moments(train.images, train.count, d);
  const moments mt = column_moments(test.images, test.count, d);
  std::size_t constant = 0, test_off = 0;
  for (std::size_t j = 0; j < d; ++j) {
    CHECK(m.mean[j] == Approx(0.0).margin(1e-6));
    if (s.stddev()[j] > 0) CHECK(std::sqrt(m.var[j]) == Approx(1.0).margin(1e-5));
    else ++constant;
    if (std::abs(mt.mean[j]) > 1e-3) ++test_off;
  }
  std::printf("Fashion-MNIST: %zu constant training pixels; %zu of %zu test pixel means are not 0\n", constant,
              test_off, d);
  CHECK(test_off > d / 2);  // the test split keeps its own offsets from the training statistics
}
