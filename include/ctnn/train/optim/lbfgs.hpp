/// @file lbfgs.hpp
/// L-BFGS for full-batch problems: a driver that owns the whole minimization
/// (not a per-step update). The model's batch size B is the whole data set.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

namespace ctnn::optim {

struct lbfgs_result {
  std::size_t iterations = 0;   ///< accepted steps
  std::size_t evaluations = 0;  ///< forward_backward calls
  double loss = 0;              ///< at the final parameters
  double gradient_max = 0;      ///< max |g_i| at the final parameters
  bool converged = false;       ///< gradient_max <= tolerance
};

/// Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989): the search
/// direction is −H·g, H the inverse-Hessian estimate from the last `history`
/// pairs (s = Δw, y = Δg) by the two-loop recursion, scaled by
/// γ = sᵀy / yᵀy; the step is found by backtracking from 1 until the Armijo
/// condition f(w + a·d) ≤ f(w) + armijo·a·gᵀd holds. Near the minimum the
/// decrease falls below the rounding of the loss itself; there a step is also
/// taken if f(w + a·d) ≤ f(w) + 1e-10·|f(w)| and the slope along d at the
/// trial point is at most (1 − 2·armijo)·|gᵀd| (Hager & Zhang's approximate
/// Wolfe condition: the Armijo condition of a quadratic, read from the
/// gradient, which stays accurate). The first step, and any step after the
/// history is dropped, is steepest descent scaled to min(1, 1/‖g‖). A pair
/// with sᵀy ≤ ε·yᵀy is not stored (H would lose positive definiteness).
///
/// Stops when max |g_i| ≤ tolerance (converged), after max_iterations steps,
/// or when even a steepest-descent step cannot decrease the loss (the loss is
/// at its floor in floating point). The model is left at the last accepted
/// parameters, with their gradients. Deterministic networks only: with dropout or
/// any noise the curvature pairs are wrong (as the seeds warn).
///
///   ctnn::model<Net, /*B = whole data set*/ 200, double> m;
///   auto r = ctnn::optim::lbfgs{.history = 10, .max_iterations = 100, .tolerance = 1e-6}
///                .minimize(m, ctnn::feed<"x">(x), ctnn::feed<"target">(t));
///
/// Allocates 2·history + 5 vectors of the parameter count (in double) per
/// call; the evaluations themselves allocate nothing.
struct lbfgs {
  std::size_t history = 10;
  std::size_t max_iterations = 100;
  double tolerance = 1e-6;
  double armijo = 1e-4;          ///< sufficient-decrease constant c1
  double backtrack = 0.5;        ///< step shrink factor in (0, 1)
  std::size_t max_line_search = 50;

  /// `model` is a ctnn::model (forward_backward, parameters, gradients);
  /// `feeds` every input and label by name, as for model.forward_backward. Throws
  /// std::runtime_error if the loss at the start is not finite.
  template <class Model, class... F>
  lbfgs_result minimize(Model& model, const F&... feeds) const {
    using T = typename Model::value_type;
    const std::span<T> params = model.parameters();
    const std::span<T> grads = model.gradients();
    const std::size_t n = params.size();
    const std::size_t m = history;

    lbfgs_result r;
    std::vector<double> x(params.begin(), params.end()), g(n), d(n), x_new(n), g_new(n);
    std::vector<double> s(m * n), y(m * n), rho(m), alpha(m);
    std::size_t stored = 0, newest = 0;  // ring buffer: pair k lives at slot (newest − k) mod m

    auto dot = [n](const double* a, const double* b) {
      double sum = 0;
      for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[i];
      return sum;
    };
    auto max_abs = [](const std::vector<double>& v) {
      double largest = 0;
      for (double e : v) largest = std::max(largest, std::abs(e));
      return largest;
    };
    // Evaluates at the parameters held by the model; the gradient goes to `out`.
    auto evaluate = [&](std::vector<double>& out) {
      const double f = double(model.forward_backward(feeds...));
      for (std::size_t i = 0; i < n; ++i) out[i] = double(grads[i]);
      ++r.evaluations;
      return f;
    };
    auto set_params = [&](const std::vector<double>& v) {
      for (std::size_t i = 0; i < n; ++i) params[i] = T(v[i]);
    };

    double f = evaluate(g);
    if (!std::isfinite(f))
      throw std::runtime_error("ctnn::optim::lbfgs: the loss at the starting point is not finite");

    while (true) {
      r.gradient_max = max_abs(g);
      if (r.gradient_max <= tolerance) {
        r.converged = true;
        break;
      }
      if (r.iterations >= max_iterations) break;

      // Two-loop recursion: d = −H·g.
      std::copy(g.begin(), g.end(), d.begin());
      for (std::size_t k = 0; k < stored; ++k) {
        const std::size_t j = (newest + m - k) % m;
        alpha[j] = rho[j] * dot(&s[j * n], d.data());
        for (std::size_t i = 0; i < n; ++i) d[i] -= alpha[j] * y[j * n + i];
      }
      double gamma = 1.0;
      if (stored > 0) {
        const double yy = dot(&y[newest * n], &y[newest * n]);
        gamma = 1.0 / (rho[newest] * yy);  // sᵀy / yᵀy
      } else {
        gamma = std::min(1.0, 1.0 / std::sqrt(dot(g.data(), g.data())));
      }
      for (double& e : d) e *= gamma;
      for (std::size_t k = stored; k-- > 0;) {
        const std::size_t j = (newest + m - k) % m;
        const double beta = rho[j] * dot(&y[j * n], d.data());
        for (std::size_t i = 0; i < n; ++i) d[i] += (alpha[j] - beta) * s[j * n + i];
      }
      for (double& e : d) e = -e;
      double gd = dot(g.data(), d.data());
      if (!(gd < 0)) {  // not a descent direction (rounding): drop the history
        stored = 0;
        gamma = std::min(1.0, 1.0 / std::sqrt(dot(g.data(), g.data())));
        for (std::size_t i = 0; i < n; ++i) d[i] = -gamma * g[i];
        gd = dot(g.data(), d.data());
      }

      // Backtracking (Armijo) line search from a = 1.
      const bool from_history = stored > 0;
      double a = 1.0, f_new = f;
      bool accepted = false;
      for (std::size_t ls = 0; ls < max_line_search && !accepted; ++ls, a *= backtrack) {
        for (std::size_t i = 0; i < n; ++i) params[i] = T(x[i] + a * d[i]);
        f_new = evaluate(g_new);
        // Armijo; or, where the loss no longer resolves the decrease, its
        // approximate form from the slope at the trial point (below).
        accepted = std::isfinite(f_new) &&
                   (f_new <= f + armijo * a * gd ||
                    (f_new <= f + 1e-10 * std::abs(f) && dot(g_new.data(), d.data()) <= (2 * armijo - 1) * gd));
        if (accepted)
          for (std::size_t i = 0; i < n; ++i) x_new[i] = double(params[i]);  // the point evaluated
      }
      if (!accepted) {
        set_params(x);
        if (from_history) {  // drop the history and retry from steepest descent
          stored = 0;
          continue;
        }
        f = evaluate(g);  // leave the model's gradients at the final parameters
        break;
      }

      // Store the pair if its curvature is positive. The slot written is free,
      // or holds the oldest pair, which is then dropped either way.
      if (m > 0) {
        const std::size_t slot = stored == 0 ? 0 : (newest + 1) % m;
        double* sj = &s[slot * n];
        double* yj = &y[slot * n];
        for (std::size_t i = 0; i < n; ++i) {
          sj[i] = x_new[i] - x[i];
          yj[i] = g_new[i] - g[i];
        }
        const double sy = dot(sj, yj), yy = dot(yj, yj);
        if (sy > std::numeric_limits<double>::epsilon() * yy && yy > 0) {
          rho[slot] = 1.0 / sy;
          newest = slot;
          stored = std::min(stored + 1, m);
        } else if (stored == m) {
          --stored;
        }
      }
      x.swap(x_new);
      g.swap(g_new);
      f = f_new;
      ++r.iterations;
    }
    r.loss = f;
    r.gradient_max = max_abs(g);
    return r;
  }
};

}  // namespace ctnn::optim
