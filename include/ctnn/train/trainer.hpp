/// @file trainer.hpp
/// A model plus its optimizer state: `step()` is forward, backward and update.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/kernels/finite.hpp"
#include "ctnn/train/averaging.hpp"
#include "ctnn/train/lr_multipliers.hpp"
#include "ctnn/train/model.hpp"
#include "ctnn/train/non_finite.hpp"
#include "ctnn/train/optim/sgd.hpp"
#include "ctnn/train/options.hpp"

namespace ctnn {

namespace detail {
struct trainer_checkpoint_access;  // ctnn/train/trainer_checkpoint.hpp restores the private state
}  // namespace detail

template <class Graph, class Batch, class Optimizer = optim::sgd, class T = float>
class trainer {
  friend struct detail::trainer_checkpoint_access;

  static_assert(optim::optimizer<Optimizer, T>,
                "ctnn::trainer: the optimizer needs `static constexpr std::size_t state_buffers` (0 to 2) and "
                "`update<N>(T* w, const T* g, T* state)` (see ctnn/train/optim/common.hpp)");

 public:
  using model_type = ::ctnn::model<Graph, Batch::size, T>;

  /// `options`: regularization, clipping, max-norm and averaging (see
  /// ctnn/train/options.hpp); all off by default.
  explicit trainer(Optimizer opt = {}, std::uint64_t seed = 0, const training_options& options = {})
      : model_(seed),
        optimizer_(opt),
        state_(optim::state_size<Optimizer, T>(Graph::param_buffer_size)),
        running_before_(model_.state().size()) {
    set_options(options);
  }

  /// One training step on a batch, fed by name in any order:
  /// `step(feed<"image">(x), feed<"class">(y))`, every input and label once
  /// (ctnn/graph/feed.hpp). Returns the batch loss. If the loss or any
  /// gradient is not finite, throws ctnn::non_finite_error (a
  /// std::runtime_error) naming where the first NaN or infinity appeared, and
  /// leaves the parameters, the optimizer's state and the running statistics
  /// as they were. The gradients are checked as well as the loss because a
  /// NaN can vanish on the way to the loss (ReLU maps it to 0) and still
  /// reach a weight's gradient (dW = xᵀδ).
  template <class... F>
  T step(const F&... feeds) {
    model_.advance_noise();  // fresh dropout masks for every step
    const std::span<T> running = model_.state();
    std::copy(running.begin(), running.end(), running_before_.data());  // batch statistics update them
    T* w = model_.parameters().data();
    T* g = model_.gradients().data();
    // The check and, with no option that changes the gradients or the
    // parameters, the update: on a team, in the region of the passes.
    const bool update_in_pass = optim::update_shares_team<Optimizer> && plain_update();
    bool finite = false;
    const T loss = model_.forward_backward_then(
        [&](const T& l) {
          const bool ok = model_.gradients_finite_in_pass() && std::isfinite(l);
          if (ok && update_in_pass) optimizer_.template update<Graph::param_buffer_size>(w, g, state_.data());
          if (kernels::leads_team()) finite = ok;
        },
        feeds...);
    if (!finite) reject(loss, feeds...);
    if (update_in_pass) {
      grad_norm_ = T(-1);
      ++steps_;
      return loss;
    }
    apply_regularization_options<Graph>(options_, w, g);
    const bool multiplied = multipliers_.active();
    if (multiplied) multipliers_.before_update(w, g);
    grad_norm_ = apply_clipping_options<Graph>(options_, g);
    optimizer_.template update<Graph::param_buffer_size>(w, g, state_.data());
    if (multiplied) multipliers_.after_update(w);
    apply_parameter_options<Graph>(options_, w);
    if (multiplied && options_.max_norm > 0.0f) multipliers_.restore_frozen(w);
    if (options_.ema_decay > 0.0f) average_.template update<Graph::param_buffer_size>(w, T(options_.ema_decay));
    ++steps_;
    return loss;
  }

  /// Sets the training options (validated: std::invalid_argument). Turning
  /// averaging on allocates its shadow here, once, starting from the current
  /// parameters; step() never allocates.
  void set_options(const training_options& options) {
    validate(options);
    if (options.ema_decay > 0.0f && !average_.active()) average_.reset(model_.parameters());
    options_ = options;
  }
  const training_options& options() const { return options_; }

  /// Transfer learning (ctnn/train/lr_multipliers.hpp): the update of the
  /// named tensors (a full name, "fc1.weight", or a layer, "fc1") is scaled
  /// by m, i.e. they train with lr·m; m = 0 freezes them bit for bit.
  /// Throws std::invalid_argument for an unknown name (listing the trainable
  /// tensors) or a negative or non-finite m. Allocates here, never in step().
  void set_lr_multiplier(std::string_view name, double m) { multipliers_.set(name, m); }
  void freeze(std::string_view name) { multipliers_.freeze(name); }
  void freeze(const std::vector<std::string>& names) { freeze_all(names); }
  void freeze(std::initializer_list<std::string_view> names) { freeze_all(names); }
  void unfreeze(std::string_view name) { multipliers_.set(name, 1.0f); }
  /// Every multiplier back to 1: nothing frozen.
  void reset_lr_multipliers() { multipliers_.reset(); }
  /// The multiplier of a trainable tensor (full name).
  double lr_multiplier(std::string_view name) const { return multipliers_.multiplier(name); }
  /// The full names of the frozen tensors.
  std::vector<std::string> frozen_parameters() const { return multipliers_.frozen(); }

  /// ½·l2·‖w‖² + l1·‖w‖₁ of the current parameters under the options: step()
  /// returns the data loss only; the objective is the sum of the two.
  T regularization_loss() const { return ::ctnn::regularization_loss<Graph>(options_, model_.parameters().data()); }
  /// The global gradient norm of the last step before norm clipping (with
  /// clip_norm on; otherwise −1).
  T gradient_norm() const { return grad_norm_; }

  /// Runs f() with the averaged parameters in the model (swapped in and out
  /// element by element: no allocation), e.g. around predict(). Throws
  /// std::logic_error if averaging was never switched on.
  template <class F>
  decltype(auto) with_averaged_parameters(F&& f) {
    if (!average_.active())
      throw std::logic_error("ctnn::trainer::with_averaged_parameters: averaging is off (set ema_decay)");
    struct swap_back {
      parameter_average<T>& a;
      std::span<T> w;
      ~swap_back() { a.swap_with(w); }
    };
    average_.swap_with(model_.parameters());
    swap_back guard{average_, model_.parameters()};
    return std::forward<F>(f)();
  }
  /// Copies the averaged parameters, and the running statistics, into `m`.
  void copy_averaged_into(model_type& m) {
    if (!average_.active())
      throw std::logic_error("ctnn::trainer::copy_averaged_into: averaging is off (set ema_decay)");
    std::copy(average_.values().begin(), average_.values().end(), m.parameters().begin());
    std::copy(model_.state().begin(), model_.state().end(), m.state().begin());
  }
  /// Restarts the average from the current parameters.
  void reset_average() { average_.reset(model_.parameters()); }
  /// The averaged parameters (empty while averaging is off).
  std::span<const T> averaged_parameters() const { return average_.values(); }

  /// The model's predict and predict_one: an output by index or name, its inputs by name.
  template <std::size_t K = 0, class... F>
  std::span<const T> predict(const F&... feeds) { return model_.template predict<K>(feeds...); }
  template <fixed_string Name, class... F>
  std::span<const T> predict(const F&... feeds) { return model_.template predict<Name>(feeds...); }
  template <std::size_t K = 0, class... F>
  std::span<const T> predict_one(const F&... feeds) { return model_.template predict_one<K>(feeds...); }
  template <fixed_string Name, class... F>
  std::span<const T> predict_one(const F&... feeds) { return model_.template predict_one<Name>(feeds...); }

  model_type& model() { return model_; }
  Optimizer& optimizer() { return optimizer_; }

  /// The updates made so far (a rejected step does not count): where a
  /// learning-rate schedule is, `lr_at(steps())`, also after resuming from a
  /// trainer checkpoint.
  std::size_t steps() const { return steps_; }
  /// The optimizer's state buffers, Optimizer::state_buffers of them, buffer k
  /// at k·optim::state_stride<T>(N) (ctnn/train/optim/common.hpp).
  std::span<const T> optimizer_state() const { return state_.span(); }

 private:
  // No option acts on the gradients or the parameters around the update.
  bool plain_update() const {
    const training_options& o = options_;
    return o.l1 == 0.0 && o.l2 == 0.0 && o.clip_value == 0.0 && o.clip_norm == 0.0 && o.max_norm == 0.0 &&
           o.ema_decay == 0.0 && !multipliers_.active();
  }

  // The error path of step(): finds the first non-finite value (repeating the
  // pass), restores the running statistics, and throws.
  template <class... F>
  [[noreturn]] void reject(T loss, const F&... feeds) {
    // Restored before the search too: it checks the state first, and the
    // failed pass may already have put a NaN into a running statistic.
    const auto restore = [&] {
      std::copy(running_before_.data(), running_before_.data() + running_before_.size(), model_.state().begin());
    };
    restore();
    const non_finite_origin origin = model_.locate_non_finite(feeds...);
    restore();
    std::string message = "ctnn::trainer::step: the ";
    message += std::isfinite(loss) ? "loss is finite but a gradient is not" : "loss is not finite";
    message += "; parameters, optimizer state and running statistics left unchanged. First non-finite value: ";
    message += origin.found() ? origin.to_string() : "none when the pass was repeated";
    if (origin.where == non_finite_origin::place::input) message += " (check the data)";
    else if (origin.where != non_finite_origin::place::parameter) message += " (lower the learning rate, clip the gradients, or check the data)";
    throw non_finite_error(message, origin);
  }

  template <class Names>
  void freeze_all(const Names& names) {
    lr_multipliers<Graph, T> next = multipliers_;  // all or nothing: an unknown name changes nothing
    for (const auto& n : names) next.freeze(n);
    multipliers_ = std::move(next);
  }

  model_type model_;
  Optimizer optimizer_;
  aligned_buffer<T> state_;  // Optimizer::state_buffers flat buffers, allocated once
  aligned_buffer<T> running_before_;  // the running statistics before the step, restored if it is rejected
  training_options options_{};
  lr_multipliers<Graph, T> multipliers_;  // per-tensor multipliers and frozen tensors
  parameter_average<T> average_;  // allocated once, when averaging is switched on
  T grad_norm_ = T(-1);
  std::size_t steps_ = 0;
};

}  // namespace ctnn
