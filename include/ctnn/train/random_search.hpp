/// @file random_search.hpp
/// Random hyper-parameter search (seed 003: "NEVER do grid (iterative)
/// search of parameters, do random search"; "it is better to optimize
/// parameters in log space because reg and learning rate work
/// multiplicatively": `reg = 10**uniform(-5, 5)`).
///
/// Each trial draws every dimension independently: log-uniformly (uniform in
/// log(value) between log(low) and log(high)) or uniformly, then runs the
/// caller's objective and keeps its score. The draws are counter-based: value
/// d of trial i depends only on (seed, i, d), so a search is reproducible on
/// every platform, and running more trials does not change the first ones.
/// The result flags a best value that lies at the border of its range (the
/// outer 10% of it, in the dimension's own scale): seed 003, "Careful with
/// best values on border": the best may lie outside, so widen that range.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ctnn {

enum class search_scale { log, linear };

struct search_dimension {
  std::string name;
  double low = 0, high = 0;
  search_scale scale = search_scale::log;
};

/// One trial's values, by dimension name.
class hyper_sample {
 public:
  hyper_sample(const std::vector<search_dimension>* dims, std::vector<double> values)
      : dims_(dims), values_(std::move(values)) {}
  /// The value of the named dimension; std::invalid_argument if unknown.
  double operator[](std::string_view name) const {
    for (std::size_t d = 0; d < dims_->size(); ++d)
      if ((*dims_)[d].name == name) return values_[d];
    throw std::invalid_argument("ctnn::random_search: no dimension named '" + std::string(name) + "'");
  }
  const std::vector<double>& values() const { return values_; }

 private:
  const std::vector<search_dimension>* dims_;
  std::vector<double> values_;
};

struct search_trial {
  std::vector<double> values;  // in the order of the dimensions
  double score = std::numeric_limits<double>::quiet_NaN();
  std::string error;  // what the objective threw (std::runtime_error), if it did
};

struct random_search_options {
  std::size_t trials = 20;
  std::uint64_t seed = 1;
  bool maximize = true;  // a validation accuracy; false for a loss
};

struct random_search_result {
  std::vector<search_dimension> dimensions;
  std::vector<search_trial> trials;  // in the order they ran
  std::size_t best = 0;              // index into trials (its score is NaN if every trial failed)
  std::vector<std::string> best_on_border;  // dimensions whose best value lies in the outer 10% of the range

  const search_trial& best_trial() const { return trials.at(best); }
  /// The best trial's value of the named dimension.
  double best_value(std::string_view name) const {
    for (std::size_t d = 0; d < dimensions.size(); ++d)
      if (dimensions[d].name == name) return best_trial().values[d];
    throw std::invalid_argument("ctnn::random_search: no dimension named '" + std::string(name) + "'");
  }
};

namespace detail {
inline std::uint64_t search_mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
// The position of v in the dimension's range, in [0, 1], in its own scale.
inline double search_position(const search_dimension& d, double v) {
  if (d.high == d.low) return 0.5;
  if (d.scale == search_scale::log) return std::log(v / d.low) / std::log(d.high / d.low);
  return (v - d.low) / (d.high - d.low);
}
}  // namespace detail

/// Throws std::invalid_argument naming a dimension with low > high, a
/// non-finite bound, or a log range that does not lie above 0.
inline void validate(const std::vector<search_dimension>& dims) {
  for (const search_dimension& d : dims) {
    if (!std::isfinite(d.low) || !std::isfinite(d.high) || d.low > d.high)
      throw std::invalid_argument("ctnn::random_search: '" + d.name + "' needs finite low <= high");
    if (d.scale == search_scale::log && !(d.low > 0))
      throw std::invalid_argument("ctnn::random_search: '" + d.name + "' is searched in log space and needs low > 0");
  }
}

/// Trial `trial`'s value of dimension `d` for `seed`: uniform in [0, 1) from
/// 53 random bits, mapped to the range in the dimension's scale.
inline double search_value(const search_dimension& dim, std::uint64_t seed, std::size_t trial, std::size_t d) {
  const std::uint64_t bits = detail::search_mix(seed ^ detail::search_mix(std::uint64_t(trial) * 0x100000001b3ull + d));
  const double u = double(bits >> 11) * 0x1.0p-53;
  if (dim.scale == search_scale::log) return std::exp(std::log(dim.low) + u * (std::log(dim.high) - std::log(dim.low)));
  return dim.low + u * (dim.high - dim.low);
}

/// Runs `objective(const hyper_sample&) -> double` for `o.trials` draws and
/// keeps the best score (a non-finite score, or a std::runtime_error thrown
/// by the objective, e.g. a diverged run, never wins).
template <class Objective>
random_search_result random_search(std::vector<search_dimension> dims, Objective&& objective,
                                   const random_search_options& o = {}) {
  validate(dims);
  random_search_result r;
  r.dimensions = std::move(dims);
  double best_score = 0;
  bool any = false;
  for (std::size_t i = 0; i < o.trials; ++i) {
    std::vector<double> values(r.dimensions.size());
    for (std::size_t d = 0; d < values.size(); ++d) values[d] = search_value(r.dimensions[d], o.seed, i, d);
    search_trial t{values, std::numeric_limits<double>::quiet_NaN(), {}};
    try {
      t.score = double(objective(hyper_sample(&r.dimensions, values)));
    } catch (const std::runtime_error& e) {
      t.error = e.what();
    }
    if (std::isfinite(t.score) && (!any || (o.maximize ? t.score > best_score : t.score < best_score))) {
      any = true;
      best_score = t.score;
      r.best = i;
    }
    r.trials.push_back(std::move(t));
  }
  if (any)
    for (std::size_t d = 0; d < r.dimensions.size(); ++d) {
      const double p = detail::search_position(r.dimensions[d], r.trials[r.best].values[d]);
      if (r.dimensions[d].high > r.dimensions[d].low && (p < 0.1 || p > 0.9))
        r.best_on_border.push_back(r.dimensions[d].name);
    }
  return r;
}

}  // namespace ctnn
