/// @file preprocess.hpp
/// Data preprocessing (seed 003, ch. 1; seed 004, "Data Preprocessing"): mean
/// subtraction, normalization, PCA and whitening of a data matrix X [n×d],
/// one example per row.
///
/// Every transform is a small value type made by a static `fit` on the
/// TRAINING data only; its statistics are then frozen and the same numbers
/// are applied to the training, validation and test sets. Fitting allocates
/// (and computes in double); `apply`, `project`, `whiten` and `reconstruct`
/// write to the caller's memory and allocate nothing.
///
///   auto norm = ctnn::data::standardizer::fit(train.images.data(), train.count, train.features);
///   norm.apply(train.images.data(), train.count);   // in place
///   norm.apply(test.images.data(), test.count);     // the training mean and std
///
///   auto p = ctnn::data::pca::fit(train.images.data(), train.count, train.features, 100);
///   std::vector<float> z(train.count * p.components()), zt(test.count * p.components());
///   p.project(train.images.data(), train.count, z.data());   // n × 100
///   p.whiten(test.images.data(), test.count, zt.data());     // n × 100, about unit variance
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/data/symmetric_eigen.hpp"
#include "ctnn/kernels/gemm.hpp"

namespace ctnn::data {

/// Which samples of X [n×d] a statistic is pooled over.
enum class scope {
  per_feature,  // one value per column: `X -= np.mean(X, axis=0)` (the mean image)
  per_channel,  // features are [channels, d / channels]: one value per channel (VGGNet)
  global,       // one value for all of X: `X -= np.mean(X)`
};

namespace detail::prep {

inline void check_fit_args(const void* x, std::size_t n, std::size_t d, const char* who) {
  if (n == 0 || d == 0)
    throw std::invalid_argument(std::string(who) + ": fit needs at least one example and one feature, got n = " +
                                std::to_string(n) + ", d = " + std::to_string(d));
  if (x == nullptr) throw std::invalid_argument(std::string(who) + ": fit was given a null data pointer");
}

/// Feature j belongs to group group_of(j): d groups (per feature), `channels`
/// groups of d / channels consecutive features, or one group.
struct grouping {
  std::size_t groups = 1, group_size = 1;  // per_feature: d groups of 1 (strided); else contiguous runs
  bool strided = false;

  static grouping make(scope s, std::size_t d, std::size_t channels, const char* who) {
    switch (s) {
      case scope::per_feature: return {d, 1, true};
      case scope::per_channel:
        if (channels == 0 || d % channels != 0)
          throw std::invalid_argument(std::string(who) + ": per_channel statistics need the " + std::to_string(d) +
                                      " features to split into channels, got channels = " +
                                      std::to_string(channels));
        return {channels, d / channels, false};
      case scope::global: return {1, d, false};
    }
    throw std::invalid_argument(std::string(who) + ": unknown scope");
  }
  std::size_t group_of(std::size_t j) const { return strided ? j : j / group_size; }
};

/// Per-group mean and population variance (divided by the count) of X,
/// two passes in double.
template <class T>
void group_moments(const T* x, std::size_t n, std::size_t d, const grouping& g, std::vector<double>& mean,
                   std::vector<double>& var) {
  static_assert(std::is_arithmetic_v<T>, "ctnn::data: the data must be arithmetic");
  std::vector<double> acc(d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) acc[j] += double(x[i * d + j]);
  mean.assign(g.groups, 0.0);
  for (std::size_t j = 0; j < d; ++j) mean[g.group_of(j)] += acc[j];
  const double count = double(n) * double(d / g.groups);
  for (double& m : mean) m /= count;
  std::fill(acc.begin(), acc.end(), 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const double c = double(x[i * d + j]) - mean[g.group_of(j)];
      acc[j] += c * c;
    }
  var.assign(g.groups, 0.0);
  for (std::size_t j = 0; j < d; ++j) var[g.group_of(j)] += acc[j];
  for (double& v : var) v /= count;
}

/// out[i·d + j] = (in[i·d + j] − shift[j]) · scale[j], in double, rounded once.
template <class T>
void shift_scale(const T* in, std::size_t n, T* out, const std::vector<double>& shift,
                 const std::vector<double>& scale) {
  static_assert(std::is_floating_point_v<T>, "ctnn::data: apply needs floating-point data");
  const std::size_t d = shift.size();
  const double* sh = shift.data();
  const double* sc = scale.data();
  for (std::size_t i = 0; i < n; ++i) {
    const T* a = in + i * d;
    T* b = out + i * d;
    for (std::size_t j = 0; j < d; ++j) b[j] = T((double(a[j]) - sh[j]) * sc[j]);
  }
}

/// out = in / scale + shift (the inverse of shift_scale for non-zero scales).
template <class T>
void unshift_scale(const T* in, std::size_t n, T* out, const std::vector<double>& shift,
                   const std::vector<double>& scale) {
  static_assert(std::is_floating_point_v<T>, "ctnn::data: invert needs floating-point data");
  const std::size_t d = shift.size();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j)
      out[i * d + j] = T(double(in[i * d + j]) / scale[j] + shift[j]);
}

}  // namespace detail::prep

// ---------------------------------------------------------------------------------------
// Mean subtraction and division by the standard deviation

struct standardize_options {
  scope over = scope::per_feature;  // what the mean and the std are pooled over
  std::size_t channels = 1;         // per_channel: each example is [channels, d / channels]
  bool divide_by_std = true;        // false: mean subtraction only
  /// A standard deviation at most eps (a constant feature, such as MNIST's
  /// always-black border pixels) is not divided by: the feature is only
  /// centred, so an unusual value in another set is not blown up by 1/eps.
  /// Nearly constant features are divided: Fashion-MNIST's corner pixel has
  /// a training std of 3.6e-4, so a test value of 1 there becomes about
  /// 2750; raise eps (say to 0.01) to leave such pixels unscaled.
  double eps = 1e-8;
};

/// x' = (x − mean) / std with statistics from the training set. The std is
/// the population one (divided by n, as np.std). Per-feature, per-channel or
/// global, with or without the division.
class standardizer {
 public:
  standardizer() = default;

  template <class T>
  static standardizer fit(const T* x, std::size_t n, std::size_t d, standardize_options o = {}) {
    constexpr const char* who = "ctnn::data::standardizer";
    detail::prep::check_fit_args(x, n, d, who);
    if (!(o.eps >= 0)) throw std::invalid_argument("ctnn::data::standardizer: eps must be >= 0");
    const auto g = detail::prep::grouping::make(o.over, d, o.channels, who);
    std::vector<double> gm, gv;
    detail::prep::group_moments(x, n, d, g, gm, gv);
    standardizer s;
    s.mean_.resize(d);
    s.std_.resize(d);
    s.scale_.resize(d);
    for (std::size_t j = 0; j < d; ++j) {
      const std::size_t k = g.group_of(j);
      s.mean_[j] = gm[k];
      s.std_[j] = std::sqrt(gv[k]);
      s.scale_[j] = o.divide_by_std && s.std_[j] > o.eps ? 1.0 / s.std_[j] : 1.0;
    }
    return s;
  }

  /// Mean subtraction only: standardizer::fit with divide_by_std = false.
  template <class T>
  static standardizer fit_mean(const T* x, std::size_t n, std::size_t d, scope over = scope::per_feature,
                               std::size_t channels = 1) {
    return fit(x, n, d, {.over = over, .channels = channels, .divide_by_std = false});
  }

  /// x ← (x − mean) · scale for n examples of features() values, in place.
  template <class T>
  void apply(T* x, std::size_t n) const {
    detail::prep::shift_scale(x, n, x, mean_, scale_);
  }
  /// out ← (in − mean) · scale; out may be in.
  template <class T>
  void apply(const T* in, std::size_t n, T* out) const {
    detail::prep::shift_scale(in, n, out, mean_, scale_);
  }
  /// The inverse: x ← x / scale + mean (to look at a standardized image).
  template <class T>
  void invert(T* x, std::size_t n) const {
    detail::prep::unshift_scale(x, n, x, mean_, scale_);
  }

  std::size_t features() const { return mean_.size(); }
  /// Per feature (a pooled statistic is repeated for each of its features).
  std::span<const double> mean() const { return mean_; }
  std::span<const double> stddev() const { return std_; }
  /// What apply multiplies by: 1/std, or 1 (no division, or std ≤ eps).
  std::span<const double> scale() const { return scale_; }

 private:
  std::vector<double> mean_, std_, scale_;
};

// ---------------------------------------------------------------------------------------
// Min-max normalization

/// Maps each feature's training range [min, max] linearly onto [lo, hi]
/// (the seeds' second form of normalization, with [−1, 1]). A feature that
/// is constant in the training set maps to (lo + hi)/2. Other sets may fall
/// outside [lo, hi]: nothing is clamped.
class min_max_scaler {
 public:
  min_max_scaler() = default;

  template <class T>
  static min_max_scaler fit(const T* x, std::size_t n, std::size_t d, double lo = -1.0, double hi = 1.0) {
    static_assert(std::is_arithmetic_v<T>, "ctnn::data: the data must be arithmetic");
    detail::prep::check_fit_args(x, n, d, "ctnn::data::min_max_scaler");
    if (!(lo < hi)) throw std::invalid_argument("ctnn::data::min_max_scaler: needs lo < hi");
    min_max_scaler s;
    s.min_.assign(x, x + d);
    s.max_.assign(x, x + d);
    for (std::size_t i = 1; i < n; ++i)
      for (std::size_t j = 0; j < d; ++j) {
        const double v = double(x[i * d + j]);
        s.min_[j] = std::min(s.min_[j], v);
        s.max_[j] = std::max(s.max_[j], v);
      }
    // x' = (x − shift)·scale + lo = (x − (min − lo/scale))·scale.
    s.shift_.resize(d);
    s.scale_.resize(d);
    for (std::size_t j = 0; j < d; ++j) {
      const double range = s.max_[j] - s.min_[j];
      if (range > 0) {
        s.scale_[j] = (hi - lo) / range;
        s.shift_[j] = s.min_[j] - lo / s.scale_[j];
      } else {
        s.scale_[j] = 1.0;
        s.shift_[j] = s.min_[j] - 0.5 * (lo + hi);
      }
    }
    return s;
  }

  template <class T>
  void apply(T* x, std::size_t n) const {
    detail::prep::shift_scale(x, n, x, shift_, scale_);
  }
  template <class T>
  void apply(const T* in, std::size_t n, T* out) const {
    detail::prep::shift_scale(in, n, out, shift_, scale_);
  }

  std::size_t features() const { return min_.size(); }
  std::span<const double> min() const { return min_; }
  std::span<const double> max() const { return max_; }

 private:
  std::vector<double> min_, max_, shift_, scale_;
};

// ---------------------------------------------------------------------------------------
// PCA and whitening

namespace detail::prep {

/// (x − shift[col]) (· scale[col]), applied by the GEMM as it stores each output.
template <class T, bool Scale>
struct shift_scale_epilogue {
  const T* shift;
  const T* scale;
  template <class V>
  V operator()(V x, std::size_t col) const {
    if constexpr (std::is_floating_point_v<V>) {
      x -= shift[col];
      if constexpr (Scale) x *= scale[col];
    } else {
      x -= V::load_unaligned(shift + col);
      if constexpr (Scale) x *= V::load_unaligned(scale + col);
    }
    return x;
  }
};

/// The projection in one scalar type: U [d×k] (column c is component c),
/// shift = mean·U [k], whitening scales [k], and the mean [d].
template <class T>
struct projection {
  std::vector<T> u, shift, scale, mean;
};

}  // namespace detail::prep

/// Principal component analysis of the training data: the eigen-decomposition
/// of the covariance C = Xcᵀ·Xc / n of the mean-centred data (divided by n,
/// as `np.dot(X.T, X) / X.shape[0]` in the cs231n notes that seed 003
/// transcribes), keeping the k components of largest variance.
///
///   project:     z = (x − mean)·U            [n×k]  (decorrelated; dimensionality reduction)
///   whiten:      z = (x − mean)·U / √(λ + eps)      (identity covariance on the training set)
///   reconstruct: x ≈ mean + z·Uᵀ              [n×d]  (from projected z)
///
/// Seed 003 says whitening "divides every dimension by the eigenvalue"; it
/// is the square root of the eigenvalue (cs231n: `Xrot / np.sqrt(S + 1e-5)`),
/// which is what gives unit variance. eps (default 1e-5, cs231n's) keeps
/// directions of (near) zero variance from being amplified into noise.
///
/// Cost of fit: O(n·d²) for the covariance (blocked, through ctnn's GEMM)
/// plus O(d³) for the eigen-decomposition (eigen_symmetric). project and
/// whiten are one GEMM each, computed as x·U − mean·U so that nothing needs a
/// centred copy of x; they take float or double.
class pca {
 public:
  pca() = default;

  /// k = 0 keeps all d components.
  template <class T>
  static pca fit(const T* x, std::size_t n, std::size_t d, std::size_t k = 0, double whiten_eps = 1e-5) {
    static_assert(std::is_arithmetic_v<T>, "ctnn::data: the data must be arithmetic");
    detail::prep::check_fit_args(x, n, d, "ctnn::data::pca");
    if (k == 0) k = d;
    if (k > d)
      throw std::invalid_argument("ctnn::data::pca: cannot keep " + std::to_string(k) + " components of " +
                                  std::to_string(d) + " features");
    if (!(whiten_eps >= 0)) throw std::invalid_argument("ctnn::data::pca: whiten_eps must be >= 0");

    pca p;
    p.d_ = d;
    p.k_ = k;
    p.eps_ = whiten_eps;
    p.mean_.assign(d, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < d; ++j) p.mean_[j] += double(x[i * d + j]);
    for (double& m : p.mean_) m /= double(n);

    // C = Σ_blocks Xcᵀ·Xc over blocks of centred rows, then / n.
    std::vector<double> cov(d * d, 0.0);
    constexpr std::size_t block_rows = 1024;
    std::vector<double> xc(std::min(n, block_rows) * d);
    for (std::size_t i0 = 0; i0 < n; i0 += block_rows) {
      const std::size_t rows = std::min(block_rows, n - i0);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < d; ++j) xc[i * d + j] = double(x[(i0 + i) * d + j]) - p.mean_[j];
      kernels::gemm_tn<true>(d, d, rows, xc.data(), xc.data(), cov.data());
    }
    for (double& c : cov) c /= double(n);
    p.total_variance_ = 0;
    for (std::size_t j = 0; j < d; ++j) p.total_variance_ += cov[j * d + j];

    symmetric_eigen e = eigen_symmetric(cov.data(), d);
    p.values_.assign(e.values.begin(), e.values.begin() + std::ptrdiff_t(k));
    p.vectors_.assign(e.vectors.begin(), e.vectors.begin() + std::ptrdiff_t(k * d));
    p.build(p.f_);
    p.build(p.d64_);
    return p;
  }

  std::size_t features() const { return d_; }
  std::size_t components() const { return k_; }
  double whiten_eps() const { return eps_; }
  std::span<const double> mean() const { return mean_; }
  /// The variance along each kept component (the covariance's eigenvalues), descending.
  std::span<const double> eigenvalues() const { return values_; }
  /// Component i (a unit vector of features() values).
  std::span<const double> component(std::size_t i) const { return {vectors_.data() + i * d_, d_}; }
  /// The total variance of the training data (the trace of the covariance).
  double total_variance() const { return total_variance_; }
  /// The fraction of the total variance the kept components hold.
  double explained_variance_ratio() const {
    double s = 0;
    for (double v : values_) s += v;
    return total_variance_ > 0 ? s / total_variance_ : 1.0;
  }

  /// out [n×k] = (in [n×d] − mean)·U.
  template <class T>
  void project(const T* in, std::size_t n, T* out) const {
    const auto& m = mats<T>();
    kernels::gemm_nn(n, k_, d_, in, m.u.data(), out,
                     detail::prep::shift_scale_epilogue<T, false>{m.shift.data(), m.scale.data()});
  }
  /// out [n×k] = (in [n×d] − mean)·U / √(λ + eps) (components with λ + eps ≤ 0 give 0).
  template <class T>
  void whiten(const T* in, std::size_t n, T* out) const {
    const auto& m = mats<T>();
    kernels::gemm_nn(n, k_, d_, in, m.u.data(), out,
                     detail::prep::shift_scale_epilogue<T, true>{m.shift.data(), m.scale.data()});
  }
  /// out [n×d] = mean + z [n×k]·Uᵀ: back from project's output (exact when k = d).
  template <class T>
  void reconstruct(const T* z, std::size_t n, T* out) const {
    const auto& m = mats<T>();
    kernels::gemm_nt(n, d_, k_, z, m.u.data(), out);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < d_; ++j) out[i * d_ + j] += m.mean[j];
  }

 private:
  template <class T>
  const detail::prep::projection<T>& mats() const {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "ctnn::data::pca: project, whiten and reconstruct take float or double");
    if constexpr (std::is_same_v<T, float>) return f_;
    else return d64_;
  }

  template <class T>
  void build(detail::prep::projection<T>& m) const {
    m.u.resize(d_ * k_);
    m.shift.resize(k_);
    m.scale.resize(k_);
    m.mean.resize(d_);
    for (std::size_t j = 0; j < d_; ++j) m.mean[j] = T(mean_[j]);
    for (std::size_t c = 0; c < k_; ++c) {
      double s = 0;
      for (std::size_t j = 0; j < d_; ++j) {
        m.u[j * k_ + c] = T(vectors_[c * d_ + j]);
        s += mean_[j] * vectors_[c * d_ + j];
      }
      m.shift[c] = T(s);
      const double v = values_[c] + eps_;
      m.scale[c] = v > 0 ? T(1.0 / std::sqrt(v)) : T(0);
    }
  }

  std::size_t d_ = 0, k_ = 0;
  double eps_ = 0, total_variance_ = 0;
  std::vector<double> mean_, values_, vectors_;
  detail::prep::projection<float> f_;
  detail::prep::projection<double> d64_;
};

}  // namespace ctnn::data
