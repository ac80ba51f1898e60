/// @file symmetric_eigen.hpp
/// Eigenvalues and eigenvectors of a real symmetric matrix, in double, for
/// PCA (ctnn/data/preprocess.hpp). Two independent solvers:
///
///   eigen_symmetric(a, n)         Householder reduction to tridiagonal form,
///                                 then implicit symmetric QR steps with the
///                                 Wilkinson shift. O(n³); 784×784 in about a
///                                 second. The one PCA uses.
///   eigen_symmetric_jacobi(a, n)  cyclic Jacobi rotations. Slower (several
///                                 sweeps of O(n³)), very accurate; a
///                                 reference for tests and small matrices.
///
/// Both read all of `a` (n×n, row-major) and use (A + Aᵀ)/2, so a covariance
/// that is symmetric only up to rounding is fine. Both return the eigenvalues
/// in descending order, each eigenvector as a row of unit length, with the
/// sign chosen so that its entry of largest magnitude (the first such) is
/// positive: the result is reproducible and comparable between solvers
/// (up to the order of equal eigenvalues and the basis of their space).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctnn::data {

/// A = Σ_i values[i] · v_i v_iᵀ, with v_i the i-th row of `vectors`.
struct symmetric_eigen {
  std::size_t n = 0;
  std::vector<double> values;   // n, descending
  std::vector<double> vectors;  // n×n, row-major: row i is the eigenvector of values[i]

  std::span<const double> vector(std::size_t i) const { return {vectors.data() + i * n, n}; }
};

namespace detail::eigen {

/// (A + Aᵀ)/2 as a new n×n row-major matrix; rejects NaN and infinity.
inline std::vector<double> symmetrized(const double* a, std::size_t n, const char* who) {
  std::vector<double> s(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double v = 0.5 * (a[i * n + j] + a[j * n + i]);
      if (!std::isfinite(v))
        throw std::invalid_argument(std::string(who) + ": the matrix has a non-finite entry at (" +
                                    std::to_string(i) + ", " + std::to_string(j) + ")");
      s[i * n + j] = v;
    }
  return s;
}

/// Sorts descending (stable: equal values keep their order), permuting the
/// rows of z alike, and fixes each row's sign.
inline symmetric_eigen finish(std::size_t n, const std::vector<double>& d, const std::vector<double>& z) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return d[a] > d[b]; });
  symmetric_eigen r;
  r.n = n;
  r.values.resize(n);
  r.vectors.resize(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    r.values[i] = d[order[i]];
    const double* src = z.data() + order[i] * n;
    std::size_t big = 0;
    for (std::size_t j = 1; j < n; ++j)
      if (std::abs(src[j]) > std::abs(src[big])) big = j;
    const double sign = src[big] < 0 ? -1.0 : 1.0;
    for (std::size_t j = 0; j < n; ++j) r.vectors[i * n + j] = sign * src[j];
  }
  return r;
}

/// (x, y) ← (c·x − s·y, s·x + c·y) for two rows of length n.
inline void rotate_rows(double* x, double* y, std::size_t n, double c, double s) {
  for (std::size_t j = 0; j < n; ++j) {
    const double xj = x[j], yj = y[j];
    x[j] = c * xj - s * yj;
    y[j] = s * xj + c * yj;
  }
}

/// Householder reduction A = Q·T·Qᵀ. On return d (n) and e (n − 1) hold the
/// diagonal and subdiagonal of T, and `a` holds Qᵀ (row i is column i of Q).
///
/// Step k reflects x = A[k+1.., k] onto α·e₁ with H = I − β·v·vᵀ, v = x − α·e₁,
/// α = −sign(x₀)·‖x‖ (no cancellation in v₀), β = 2 / vᵀv = 1 / (‖x‖(‖x‖ + |x₀|)).
/// The trailing block B becomes H·B·H = B − v·wᵀ − w·vᵀ with p = β·B·v and
/// w = p − (β/2)(vᵀp)·v. Q = H₀·H₁···H_{n−3}, so Qᵀ = H_{n−3}···H₀ is built
/// by multiplying I on the right by H_{n−3}, ..., H₀ (each H is symmetric);
/// Qᵀ·H_k only changes the rows and columns after k, one dot product and one
/// axpy per row.
inline void tridiagonalize(std::vector<double>& a, std::size_t n, std::vector<double>& d, std::vector<double>& e) {
  d.assign(n, 0.0);
  e.assign(n > 0 ? n - 1 : 0, 0.0);
  std::vector<double> beta(n, 0.0), p(n, 0.0);
  for (std::size_t k = 0; k + 2 < n; ++k) {
    d[k] = a[k * n + k];
    const std::size_t m = n - k - 1;  // length of x
    double* v = a.data() + k * n + k + 1;  // row k past the diagonal = x by symmetry; becomes v
    double scale = 0;
    for (std::size_t i = 0; i < m; ++i) scale = std::max(scale, std::abs(v[i]));
    double tail = 0;  // Σ_{i>0} x_i², scaled
    if (scale > 0)
      for (std::size_t i = 1; i < m; ++i) tail += (v[i] / scale) * (v[i] / scale);
    if (tail == 0) {  // x is already a multiple of e₁: H = I
      e[k] = v[0];
      beta[k] = 0;
      continue;
    }
    const double x0 = v[0] / scale;
    const double norm = std::sqrt(x0 * x0 + tail) * scale;
    const double alpha = v[0] >= 0 ? -norm : norm;
    e[k] = alpha;
    beta[k] = 1.0 / (norm * (norm + std::abs(v[0])));
    v[0] -= alpha;
    // p = β·B·v over the trailing block (rows k+1.., columns k+1..), K = (β/2)·vᵀp.
    double vp = 0;
    for (std::size_t i = 0; i < m; ++i) {
      const double* row = a.data() + (k + 1 + i) * n + k + 1;
      double s = 0;
      for (std::size_t j = 0; j < m; ++j) s += row[j] * v[j];
      p[i] = beta[k] * s;
      vp += v[i] * p[i];
    }
    const double K = 0.5 * beta[k] * vp;
    for (std::size_t i = 0; i < m; ++i) p[i] -= K * v[i];  // p is now w
    for (std::size_t i = 0; i < m; ++i) {
      double* row = a.data() + (k + 1 + i) * n + k + 1;
      const double vi = v[i], wi = p[i];
      for (std::size_t j = 0; j < m; ++j) row[j] -= vi * p[j] + wi * v[j];
    }
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2];
    e[n - 2] = a[(n - 1) * n + n - 2];
  }
  if (n >= 1) d[n - 1] = a[(n - 1) * n + n - 1];

  // Qᵀ, from the reflectors v_k left in row k (columns k+1..) of a.
  std::vector<double> q(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) q[i * n + i] = 1.0;
  for (std::size_t kk = n >= 3 ? n - 2 : 0; kk-- > 0;) {
    if (beta[kk] == 0) continue;
    const std::size_t lo = kk + 1;
    const double* v = a.data() + kk * n + lo;
    for (std::size_t i = lo; i < n; ++i) {
      double* row = q.data() + i * n + lo;
      double s = 0;
      for (std::size_t j = 0; j < n - lo; ++j) s += row[j] * v[j];
      s *= beta[kk];
      if (s != 0)
        for (std::size_t j = 0; j < n - lo; ++j) row[j] -= s * v[j];
    }
  }
  a.swap(q);
}

/// Diagonalizes the symmetric tridiagonal T (diagonal d, subdiagonal e) by
/// implicit QR steps, rotating the rows of zt (n×n) along. On entry
/// A = Q·T·Qᵀ and zt = Qᵀ; on return d holds the eigenvalues and row i of zt
/// the eigenvector of d[i].
///
/// The active block [l, m] is the trailing unreduced part (e[l..m−1] ≠ 0).
/// One step chases a bulge from l to m with Givens rotations P in planes
/// (k, k+1): P acts on rows as (r_k, r_{k+1}) ← (c·r_k − s·r_{k+1}, s·r_k + c·r_{k+1})
/// and T ← P·T·Pᵀ. The first rotation is the one that would start the QR
/// factorization of T − μI (it zeroes the second entry of (d_l − μ, e_l));
/// each later one zeroes the bulge at (k+1, k−1) against e_{k−1}. The shift
/// μ is the eigenvalue of the trailing 2×2 block nearer to d_m (Wilkinson),
/// which makes e_{m−1} → 0 fast (cubically, in the limit). Because
/// A = Q·T·Qᵀ = (Q·Pᵀ)·(P·T·Pᵀ)·(Q·Pᵀ)ᵀ, the eigenvector matrix Q gets Pᵀ on
/// its right, which is the same row rotation applied to zt = Qᵀ.
inline void tridiagonal_qr(std::vector<double>& d, std::vector<double>& e, std::vector<double>& zt, std::size_t n) {
  constexpr double eps = std::numeric_limits<double>::epsilon();
  constexpr double tiny = std::numeric_limits<double>::min();
  auto negligible = [&](std::size_t i) {
    return std::abs(e[i]) <= eps * (std::abs(d[i]) + std::abs(d[i + 1])) || std::abs(e[i]) <= tiny;
  };
  std::size_t m = n > 0 ? n - 1 : 0;
  std::size_t steps = 0;
  const std::size_t max_steps = 60 * std::max<std::size_t>(n, 1);
  while (m > 0) {
    if (negligible(m - 1)) {
      e[m - 1] = 0;
      --m;
      continue;
    }
    std::size_t l = m - 1;
    while (l > 0 && !negligible(l - 1)) --l;
    if (l > 0) e[l - 1] = 0;
    if (++steps > max_steps)
      throw std::runtime_error("ctnn::data::eigen_symmetric: the QR iteration did not converge");

    // Wilkinson shift from [d_{m−1} e; e d_m]: μ = d_m − e²/(δ + sign(δ)·√(δ² + e²)), δ = (d_{m−1} − d_m)/2.
    const double em = e[m - 1];
    const double delta = 0.5 * (d[m - 1] - d[m]);
    const double denom = delta + std::copysign(std::hypot(delta, em), delta);
    const double mu = d[m] - em * (em / denom);

    double x = d[l] - mu, z = e[l], bulge = 0;
    for (std::size_t k = l; k < m; ++k) {
      if (k > l) {
        x = e[k - 1];
        z = bulge;
      }
      const double r = std::hypot(x, z);
      double c = 1, s = 0;
      if (r != 0) {
        c = x / r;
        s = -z / r;
      }
      if (k > l) e[k - 1] = r;
      const double a = d[k], b = d[k + 1], ek = e[k];
      const double cc = c * c, ss = s * s, cs = c * s;
      d[k] = cc * a - 2 * cs * ek + ss * b;
      d[k + 1] = ss * a + 2 * cs * ek + cc * b;
      e[k] = cs * (a - b) + (cc - ss) * ek;
      if (k + 1 < m) {
        bulge = -s * e[k + 1];
        e[k + 1] *= c;
      }
      rotate_rows(zt.data() + k * n, zt.data() + (k + 1) * n, n, c, s);
    }
  }
}

}  // namespace detail::eigen

/// Eigen-decomposition of the symmetric n×n matrix `a` (row-major, read as
/// (A + Aᵀ)/2) by Householder tridiagonalization and implicit QR with the
/// Wilkinson shift. Throws std::invalid_argument for a non-finite entry and
/// std::runtime_error if the iteration does not converge (it always does for
/// finite input, in practice within 2-3 steps per eigenvalue).
inline symmetric_eigen eigen_symmetric(const double* a, std::size_t n) {
  std::vector<double> w = detail::eigen::symmetrized(a, n, "ctnn::data::eigen_symmetric");
  std::vector<double> d, e;
  detail::eigen::tridiagonalize(w, n, d, e);  // w becomes Qᵀ
  detail::eigen::tridiagonal_qr(d, e, w, n);
  return detail::eigen::finish(n, d, w);
}

/// The same by cyclic Jacobi rotations (Golub & Van Loan's sym.schur2 for
/// each pair p < q in row order): τ = (a_qq − a_pp)/(2a_pq),
/// t = sign(τ)/(|τ| + √(1 + τ²)), c = 1/√(1 + t²), s = t·c, A ← JᵀAJ, V ← VJ.
/// Sweeps until the off-diagonal Frobenius norm is at most ε·‖A‖_F (at most
/// `max_sweeps`, else std::runtime_error).
inline symmetric_eigen eigen_symmetric_jacobi(const double* a, std::size_t n, std::size_t max_sweeps = 60) {
  std::vector<double> w = detail::eigen::symmetrized(a, n, "ctnn::data::eigen_symmetric_jacobi");
  std::vector<double> vt(n * n, 0.0);  // row i = column i of V
  for (std::size_t i = 0; i < n; ++i) vt[i * n + i] = 1.0;
  double norm2 = 0;
  for (double x : w) norm2 += x * x;
  const double target = std::numeric_limits<double>::epsilon() * std::numeric_limits<double>::epsilon() * norm2;
  for (std::size_t sweep = 0;; ++sweep) {
    double off = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (i != j) off += w[i * n + j] * w[i * n + j];
    if (off <= target) break;
    if (sweep == max_sweeps)
      throw std::runtime_error("ctnn::data::eigen_symmetric_jacobi: no convergence after " +
                               std::to_string(max_sweeps) + " sweeps");
    for (std::size_t p = 0; p + 1 < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) {
        const double apq = w[p * n + q];
        if (apq == 0) continue;
        const double app = w[p * n + p], aqq = w[q * n + q];
        const double tau = (aqq - app) / (2 * apq);
        const double t = (tau >= 0 ? 1.0 : -1.0) / (std::abs(tau) + std::sqrt(1 + tau * tau));
        const double c = 1 / std::sqrt(1 + t * t), s = t * c;
        // Rows p and q of JᵀA (off the 2×2 block); by symmetry they are also
        // columns p and q of JᵀAJ.
        double* rp = w.data() + p * n;
        double* rq = w.data() + q * n;
        for (std::size_t k = 0; k < n; ++k) {
          if (k == p || k == q) continue;
          const double xp = rp[k], xq = rq[k];
          rp[k] = c * xp - s * xq;
          rq[k] = s * xp + c * xq;
          w[k * n + p] = rp[k];
          w[k * n + q] = rq[k];
        }
        rp[p] = app - t * apq;
        rq[q] = aqq + t * apq;
        rp[q] = rq[p] = 0;
        detail::eigen::rotate_rows(vt.data() + p * n, vt.data() + q * n, n, c, s);
      }
  }
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = w[i * n + i];
  return detail::eigen::finish(n, d, vt);
}

}  // namespace ctnn::data
