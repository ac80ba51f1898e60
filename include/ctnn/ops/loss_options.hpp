/// @file loss_options.hpp
/// A loss's reductions as options written after its two arguments:
///
///   squared_error(y, t, reduce::sample_mean)   // (1/n)·½Σ(y − t)² per sample
///   softmax_cross_entropy(s, label, reduce::batch_sum)
///   squared_error(y, t, pytorch::mean)         // = torch mse_loss(y, t), reduction='mean'
///
/// and the plain value they parse into (`loss_reduction`), which the runtime
/// twin takes as a constructor argument.
#pragma once

#include <cstddef>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/ops/batch_reduction.hpp"

namespace ctnn {

/// Over a sample's elements (the target losses) or classes (the margin
/// losses): the sum (the default) or the mean, i.e. the sum divided by the
/// element or class count.
enum class sample_reduction : unsigned char { sum, mean };

/// Everything a loss's options decide. The defaults are the loss as written
/// in ctnn/ops/loss.hpp: summed over a sample, ½ in squared_error, averaged
/// over the batch.
struct loss_reduction {
  ctnn::sample_reduction sample = sample_reduction::sum;
  ctnn::batch_reduction batch = batch_reduction::mean;
  bool halved = true;  // squared_error: ½(y − t)² (true) or (y − t)²
  bool steps_mean = false;  // against a sequence label: the mean over its steps (true) or their sum
};

namespace reduce {
struct sample_sum_t {};
struct sample_mean_t {};
struct batch_mean_t {};
struct batch_sum_t {};
/// Σ over a sample's elements (the default).
inline constexpr sample_sum_t sample_sum{};
/// The sample's sum divided by its element count (by the class count for the
/// margin losses, as PyTorch's multi_margin_loss does).
inline constexpr sample_mean_t sample_mean{};
/// The loss root contributes the mean over the batch (the default).
inline constexpr batch_mean_t batch_mean{};
/// The loss root contributes the sum over the batch.
inline constexpr batch_sum_t batch_sum{};
}  // namespace reduce

struct no_half_t {};
/// squared_error without the ½: Σ(y − t)², as PyTorch's mse_loss.
inline constexpr no_half_t no_half{};

/// PyTorch's conventions, each standing for all of a loss's options at once:
/// `pytorch::mean` is reduction='mean' of the PyTorch function with the same
/// formula, `pytorch::sum` is reduction='sum'. For the target losses that is
/// the mean (sum) over every element of the batch; for the cross-entropies of
/// a label the mean (sum) over the batch; multi_margin_loss always divides a
/// sample by its class count and reduces only the batch. Both drop
/// squared_error's ½. The table in docs/guide.md names the functions.
namespace pytorch {
struct mean_t {};
struct sum_t {};
inline constexpr mean_t mean{};
inline constexpr sum_t sum{};
}  // namespace pytorch

namespace detail {
template <class O>
inline constexpr bool is_sample_option_v =
    std::is_same_v<O, reduce::sample_sum_t> || std::is_same_v<O, reduce::sample_mean_t>;
template <class O>
inline constexpr bool is_batch_option_v =
    std::is_same_v<O, reduce::batch_mean_t> || std::is_same_v<O, reduce::batch_sum_t>;
template <class O>
inline constexpr bool is_convention_v = std::is_same_v<O, pytorch::mean_t> || std::is_same_v<O, pytorch::sum_t>;
template <class O>
inline constexpr bool is_loss_option_v =
    is_sample_option_v<O> || is_batch_option_v<O> || is_convention_v<O> || std::is_same_v<O, no_half_t>;

/// What a loss sums over within a sample: nothing (the cross-entropies of a
/// label, where a sample reduction means nothing), its elements (the target
/// losses) or its classes (the margin losses, which PyTorch divides by the
/// class count under either of its reductions).
enum class sample_sum_over { nothing, elements, classes };

/// Parses a loss's options. `Squared`: the loss is squared_error.
/// `Sequence`: against a label with one class per step, where a sample
/// reduction is over the steps (PyTorch's mean is over every step of the
/// batch).
template <fixed_string Loss, sample_sum_over Over, bool Squared, bool Sequence, class... Options>
struct loss_options {
  static constexpr bool sums = Over != sample_sum_over::nothing || Sequence;
  static_assert((diagnostic::check_unless<is_loss_option_v<Options>,
                                          diagnostic::loss_option_not_recognized<Loss, Options>> && ...));
  static_assert((diagnostic::check_unless<(sums || !is_sample_option_v<Options>) &&
                                              (Squared || !std::is_same_v<Options, no_half_t>),
                                          diagnostic::loss_option_does_not_apply<Loss, Options>> && ...));
  static constexpr std::size_t samples = (std::size_t(0) + ... + is_sample_option_v<Options>);
  static constexpr std::size_t batches = (std::size_t(0) + ... + is_batch_option_v<Options>);
  static constexpr std::size_t halves = (std::size_t(0) + ... + std::is_same_v<Options, no_half_t>);
  static constexpr std::size_t conventions = (std::size_t(0) + ... + is_convention_v<Options>);
  static_assert(diagnostic::check<
                diagnostic::loss_options_conflict<Loss, samples, batches, halves, conventions,
                                                  samples + batches + halves>>);

  static constexpr bool pytorch_mean = (std::is_same_v<Options, pytorch::mean_t> || ...);
  static constexpr bool pytorch_sum = (std::is_same_v<Options, pytorch::sum_t> || ...);
  static constexpr loss_reduction value = [] {
    loss_reduction r;
    if (pytorch_mean || pytorch_sum) {
      if (Over == sample_sum_over::elements) r.sample = pytorch_mean ? sample_reduction::mean : sample_reduction::sum;
      if (Over == sample_sum_over::classes) r.sample = sample_reduction::mean;
      r.batch = pytorch_mean ? batch_reduction::mean : batch_reduction::sum;
      r.halved = !Squared;
    }
    if (Sequence) r.steps_mean = pytorch_mean;
    if ((std::is_same_v<Options, reduce::sample_mean_t> || ...)) {
      if (Sequence) r.steps_mean = true;
      else r.sample = sample_reduction::mean;
    }
    if ((std::is_same_v<Options, reduce::batch_sum_t> || ...)) r.batch = batch_reduction::sum;
    if ((std::is_same_v<Options, no_half_t> || ...)) r.halved = false;
    return r;
  }();
};

/// A sample's sum over its elements (or classes) as the options want it, or
/// the upstream gradient of that sum: twice it without squared_error's ½
/// (exact), divided by the count for a sample mean. With the defaults it is
/// `x` itself, bit for bit.
template <class T>
inline T reduce_sample(T x, std::size_t count, const loss_reduction& r) {
  if (!r.halved) x *= T(2);
  if (r.sample == sample_reduction::mean) x /= T(count);
  return x;
}
}  // namespace detail

}  // namespace ctnn
