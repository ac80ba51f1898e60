/// @file gradient_check.hpp
/// Central-difference gradient checking: the babysitting tool of seeds 000
/// ("derive analytic gradient, check your implementation with numerical
/// gradient") and 002 ("reduce the truncation error by using center
/// difference ... usually use h = 1e-6").
///
///   ctnn::model<Net, 3, double> m;
///   auto report = ctnn::check_gradients(m, 1e-6, ctnn::feed<"x">(x), ctnn::feed<"class">(labels));
///   std::cout << report.to_string();
///   assert(report.max_significant_error() < 1e-6);
///
/// For every trainable parameter tensor (tied parameters once), every element
/// w is set to w + h and to w - h, the loss is recomputed by a forward pass,
/// and the numerical derivative (L(w+h) - L(w-h)) / 2h is compared with the
/// gradient backward() gave, by the relative error |a - n| / max(|a|, |n|).
/// Every forward is a training forward: batch statistics, and the dropout
/// masks of the model's current noise seed (the same in every pass). The
/// parameters and the non-trainable state (running statistics, which each
/// training forward updates) are left exactly as they were. This is a
/// diagnostic: it allocates, and costs two forward passes per checked element;
/// use `max_checks_per_tensor` to sample large tensors.
///
/// The central difference cannot resolve differences below its rounding
/// noise: each loss carries a rounding error of a few ε·|L| (ε = 2^-52), so
/// the difference quotient is uncertain by about ε·|L| / h. That part of
/// |a - n| says nothing about the gradient, and how much of it appears
/// depends on the instruction set (FMA contraction, the order of vector
/// sums). The report's `significant error` therefore subtracts the
/// difference's resolution, `rounding_factor`·ε·|L| / h, before dividing:
///   significant = max(0, |a - n| - resolution) / max(|a|, |n|, floor).
/// A wrong gradient is wrong by a fraction of itself, far above that noise;
/// a right one whose entries are tiny against the loss (1e-4 against a loss
/// of 100) does not fail by chance. Judge a check by max_significant_error();
/// max_relative_error() is the raw ratio, for the CS231n scale.
///
/// A gradient that is zero in theory (a bias followed by batch normalization)
/// comes out as rounding noise, analytic (~1e-16) or numerical (up to about
/// 1e-16 |L| / h), and its relative error is noise over noise: a bias before
/// a batch norm shows ~5e-5 with the default floor. Raise `floor` above the
/// noise (e.g. 1e-8) to compare such tensors by absolute error instead.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/core/shape.hpp"
#include "ctnn/train/model.hpp"

namespace ctnn {

/// How check_gradients perturbs and compares.
struct gradient_check_options {
  static constexpr std::size_t all = std::numeric_limits<std::size_t>::max();
  /// The perturbation h. Seed 002 suggests 1e-6; for losses of order one,
  /// 1e-5 balances truncation (~h^2) and rounding (~1e-16 / h) a bit better.
  double step = 1e-6;
  /// At most this many elements per tensor: a pseudo-random sample seeded by
  /// the tensor's name, the same on every run; `all` checks every element.
  std::size_t max_checks_per_tensor = all;
  /// The denominator's floor: an analytic and a numerical gradient that are
  /// both zero agree (relative error 0) instead of giving 0 / 0.
  double floor = 1e-12;
  /// The resolution of the difference in units of ε·|L| / h: a loss summed
  /// from many terms carries a few ε·|L| of rounding in each of its two
  /// evaluations. 0 judges the raw error.
  double rounding_factor = 16;
};

/// The result for one parameter tensor.
struct gradient_check_entry {
  std::string name;
  shape_info shape{};
  std::size_t elements = 0;           // the tensor's size
  std::size_t checked = 0;            // how many of them were perturbed
  double max_relative_error = 0;      // the worst |a - n| / max(|a|, |n|, floor)
  double max_absolute_error = 0;      // the worst |a - n|
  double max_significant_error = 0;   // the worst max(0, |a - n| - resolution) / max(|a|, |n|, floor)
  std::size_t worst_index = 0;        // flat index of the worst relative error
  double analytic = 0, numerical = 0; // both gradients at worst_index
};

/// Per-tensor results and the verdict scale of the CS231n notes.
struct gradient_report {
  double loss = 0;      // at the unperturbed parameters
  double step = 0;      // the h used
  double resolution = 0;  // rounding_factor·ε·|loss| / h: differences below it are noise
  std::size_t forward_passes = 0;
  std::vector<gradient_check_entry> tensors;

  /// The worst relative error over all tensors (NaN if any error is NaN).
  double max_relative_error() const { return worst(&gradient_check_entry::max_relative_error); }

  /// The worst significant error over all tensors (NaN if any is NaN): the
  /// part of the relative error that the central difference can resolve.
  double max_significant_error() const { return worst(&gradient_check_entry::max_significant_error); }

  /// The largest value of one field over the tensors; a NaN wins.
  double worst(double gradient_check_entry::*field) const {
    double w = 0;
    for (const auto& t : tensors) {
      if (std::isnan(t.*field)) return t.*field;
      w = std::max(w, t.*field);
    }
    return w;
  }

  /// The entry of a tensor by name, or null.
  const gradient_check_entry* find(std::string_view name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }

  /// What a relative error means. The seeds ask for the check (000, 002) but
  /// give no scale; seed 003 transcribes much of the CS231n notes but not
  /// their "Gradient checks" section, whose scale this is (neural-networks-3):
  ///   rel > 1e-2         "usually means the gradient is probably wrong"
  ///   1e-2 > rel > 1e-4  "should make you feel uncomfortable"
  ///   1e-4 > rel         "usually okay for objectives with kinks. But if there
  ///                       are no kinks (e.g. use of tanh nonlinearities and
  ///                       softmax), then 1e-4 is too high."
  ///   1e-7 and less      "you should be happy"
  static std::string_view verdict(double rel) {
    if (!(rel == rel) || std::isinf(rel)) return "not finite";
    if (rel > 1e-2) return "probably wrong";
    if (rel > 1e-4) return "uncomfortable";
    if (rel > 1e-7) return "ok with kinks, too high without";
    return "good";
  }

  /// A table: one row per tensor, then the overall verdict.
  std::string to_string() const {
    auto pad = [](std::string s, std::size_t w) {
      if (s.size() < w) s.append(w - s.size(), ' ');
      return s;
    };
    auto num = [](const char* fmt, double v) {
      char buf[64];
      std::snprintf(buf, sizeof buf, fmt, v);
      return std::string(buf);
    };
    std::size_t name_w = 10;
    for (const auto& t : tensors) name_w = std::max(name_w, t.name.size() + 2);
    std::string s = pad("parameter", name_w) + pad("shape", 14) + pad("checked", 14) + pad("max rel err", 13) +
                    pad("max abs err", 13) + pad("worst at", 14) + pad("analytic", 15) + pad("numerical", 15) +
                    "verdict\n";
    for (const auto& t : tensors) {
      s += pad(t.name, name_w) + pad(ctnn::to_string(t.shape), 14) +
           pad(std::to_string(t.checked) + "/" + std::to_string(t.elements), 14) +
           pad(num("%.3e", t.max_relative_error), 13) + pad(num("%.3e", t.max_absolute_error), 13) +
           pad(num("%.3e", t.max_significant_error), 13) + pad(index_string(t.shape, t.worst_index), 14) + pad(num("%+.6e", t.analytic), 15) +
           pad(num("%+.6e", t.numerical), 15) + std::string(verdict(t.max_significant_error)) + "\n";
    }
    s += "loss " + num("%.9g", loss) + ", h = " + num("%g", step) + ", " + std::to_string(forward_passes) +
         " forward passes; resolution " + num("%.1e", resolution) + "; max relative error " +
         num("%.3e", max_relative_error()) + ", significant " + num("%.3e", max_significant_error()) + ": " +
         std::string(verdict(max_significant_error())) + "\n";
    return s;
  }

  /// A flat index as "[i, j]" in a row-major shape.
  static std::string index_string(const shape_info& shape, std::size_t flat) {
    if (shape.rank == 0) return "[]";
    std::array<std::size_t, 4> idx{};
    for (std::size_t d = shape.rank; d-- > 0;) {
      idx[d] = flat % shape.dims[d];
      flat /= shape.dims[d];
    }
    std::string s = "[";
    for (std::size_t d = 0; d < shape.rank; ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
    return s + "]";
  }
};

namespace detail {
// A deterministic sample of `count` distinct indices in [0, n), sorted: a
// partial Fisher-Yates shuffle driven by mt19937_64 (whose output, unlike the
// standard distributions', is the same on every platform), seeded by the name.
inline std::vector<std::size_t> gradient_check_sample(std::size_t n, std::size_t count, std::string_view name) {
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  if (count >= n) return idx;
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : name) h = (h ^ std::uint8_t(c)) * 0x100000001b3ull;
  std::mt19937_64 gen(h);
  for (std::size_t k = 0; k < count; ++k) std::swap(idx[k], idx[k + gen() % (n - k)]);
  idx.resize(count);
  std::sort(idx.begin(), idx.end());
  return idx;
}
}  // namespace detail

/// Compares the analytic gradients of every trainable parameter with central
/// differences. `feeds`: every input and label by name, as for
/// model::forward (`ctnn::feed<"x">(x)`). Leaves the
/// parameters and the state as they were, and the gradients and node values
/// as one forward_backward(feeds...) leaves them.
template <class Graph, std::size_t B, class T, class... F>
gradient_report check_gradients(model<Graph, B, T>& m, const gradient_check_options& opt, const F&... feeds) {
  static_assert(std::is_same_v<T, double>,
                "ctnn::check_gradients: a gradient check needs double precision; check a "
                "ctnn::model<Net, B, double> (in float, rounding swamps the differences)");
  constexpr const auto& P = Graph::plan;
  const std::vector<double> state(m.state().begin(), m.state().end());
  gradient_report report;
  report.step = opt.step;
  report.loss = m.forward_backward(feeds...);
  report.forward_passes = 1;
  report.resolution = opt.rounding_factor * std::numeric_limits<double>::epsilon() * std::abs(report.loss) / opt.step;

  const std::span<double> params = m.parameters();
  const std::vector<double> analytic(m.gradients().begin(), m.gradients().end());

  std::vector<std::string_view> seen;
  for (std::size_t i = 0; i < Graph::node_count; ++i)
    for (std::size_t j = 0; j < P.nodes[i].param_count; ++j) {
      const param_decl& d = P.nodes[i].params[j];
      if (!d.trainable) continue;  // state: no gradient
      if (std::find(seen.begin(), seen.end(), d.name) != seen.end()) continue;  // tied: checked once
      seen.push_back(d.name);
      const std::size_t offset = P.param_offset[i][j];

      gradient_check_entry e;
      e.name = std::string(d.name);
      e.shape = d.shape;
      e.elements = d.shape.size();
      const auto indices = detail::gradient_check_sample(e.elements, opt.max_checks_per_tensor, d.name);
      e.checked = indices.size();
      // NaN ranks above everything, so that a NaN is never hidden by a finite error.
      auto rank = [](double r) { return std::isnan(r) ? std::numeric_limits<double>::infinity() : r; };
      bool first = true;
      for (std::size_t k : indices) {
        double& w = params[offset + k];
        const double w0 = w;
        const double up = w0 + opt.step, down = w0 - opt.step;
        w = up;
        const double loss_up = m.forward(feeds...);
        w = down;
        const double loss_down = m.forward(feeds...);
        w = w0;
        report.forward_passes += 2;
        // Divide by the step the loss actually saw: w ± h are rounded.
        const double n = (loss_up - loss_down) / (up - down);
        const double a = analytic[offset + k];
        const double abs_err = std::abs(a - n);
        const double scale = std::max({std::abs(a), std::abs(n), opt.floor});
        const double rel = abs_err / scale;
        // NaN stays NaN: max(0, NaN) would hide it.
        const double significant =
            std::isnan(abs_err) ? abs_err : std::max(0.0, abs_err - report.resolution) / scale;
        if (rank(abs_err) > rank(e.max_absolute_error)) e.max_absolute_error = abs_err;
        if (rank(significant) > rank(e.max_significant_error)) e.max_significant_error = significant;
        if (first || rank(rel) > rank(e.max_relative_error)) {
          e.max_relative_error = rel;
          e.worst_index = k;
          e.analytic = a;
          e.numerical = n;
          first = false;
        }
      }
      report.tensors.push_back(std::move(e));
    }

  // The workspace holds the last perturbed pass; recompute it at the restored
  // parameters, then undo every pass's update of the running statistics.
  m.forward(feeds...);
  ++report.forward_passes;
  std::copy(state.begin(), state.end(), m.state().begin());
  return report;
}

/// `check_gradients(m, h, feeds...)`: every element of every tensor.
template <class Graph, std::size_t B, class T, class... F>
gradient_report check_gradients(model<Graph, B, T>& m, double step, const F&... feeds) {
  gradient_check_options opt;
  opt.step = step;
  return check_gradients(m, opt, feeds...);
}

}  // namespace ctnn
