/// @file options.hpp
/// The trainer's training options: regularization, gradient clipping, the
/// max-norm constraint and parameter averaging, and the passes that apply
/// them around the optimizer's update. In step():
///   forward + backward
///   → L2 / L1 on the gradients of the regularized parameters
///   → frozen gradients zeroed, tensors with a learning-rate multiplier saved
///     (ctnn/train/lr_multipliers.hpp)
///   → clipping by value, then by global norm (all trainable gradients)
///   → the optimizer's update
///   → the multipliers applied to the update (frozen tensors restored)
///   → max-norm on the regularized weight matrices (frozen tensors restored)
///   → the parameter average.
/// Every value 0 means off; with all off, step() is the optimizer's update alone.
/// The values are double and become the trainer's scalar type where used, as
/// the optimizers' hyperparameters do (ctnn/train/optim/common.hpp).
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "ctnn/train/clipping.hpp"
#include "ctnn/train/regularization.hpp"

namespace ctnn {

struct training_options {
  double l2 = 0.0;              // g += l2·w on regularized parameters (loss ½·l2·‖w‖²)
  double l1 = 0.0;              // g += l1·sign(w) (loss l1·‖w‖₁); both: elastic net
  bool regularize_all = false;  // also biases and batch norm's γ, β (every trainable parameter)
  double clip_value = 0.0;      // clamp every gradient to [−clip_value, clip_value]
  double clip_norm = 0.0;       // scale the gradients to global norm clip_norm if above it
  double max_norm = 0.0;        // clamp each unit's incoming weight vector to this L2 norm
  double ema_decay = 0.0;       // parameter average: shadow ← d·shadow + (1 − d)·w, in [0, 1)
};

/// Throws std::invalid_argument naming the field if a value is negative or
/// not a number, or ema_decay is not below 1.
inline void validate(const training_options& o) {
  auto check = [](double v, const char* name) {
    if (!(v >= 0.0) || !std::isfinite(v))
      throw std::invalid_argument(std::string("ctnn::training_options: ") + name +
                                  " must be a finite value >= 0 (0 turns it off)");
  };
  check(o.l2, "l2");
  check(o.l1, "l1");
  check(o.clip_value, "clip_value");
  check(o.clip_norm, "clip_norm");
  check(o.max_norm, "max_norm");
  check(o.ema_decay, "ema_decay");
  if (!(o.ema_decay < 1.0))
    throw std::invalid_argument("ctnn::training_options: ema_decay must be below 1 (0 turns averaging off)");
}

/// L2 / L1 on the gradients of the regularized parameters (w the flat
/// parameters, g the flat gradients).
template <class Graph, class T>
void apply_regularization_options(const training_options& o, const T* w, T* g) {
  if (o.regularize_all) add_regularization_gradient<Graph, true>(w, g, T(o.l2), T(o.l1));
  else add_regularization_gradient<Graph, false>(w, g, T(o.l2), T(o.l1));
}

/// Clipping by value, then by global norm, over the whole gradient buffer.
/// Returns the global gradient norm before norm clipping when clip_norm is
/// on, else −1.
template <class Graph, class T>
T apply_clipping_options(const training_options& o, T* g) {
  constexpr std::size_t N = Graph::param_buffer_size;
  if (o.clip_value > 0.0) clip_gradients_by_value<N>(g, T(o.clip_value));
  if (o.clip_norm > 0.0) return clip_gradients_by_norm<N>(g, T(o.clip_norm));
  return T(-1);
}

/// Regularization, then clipping, on the flat gradient buffer g (w the flat
/// parameters). Returns the global gradient norm before norm clipping when
/// clip_norm is on, else −1.
template <class Graph, class T>
T apply_gradient_options(const training_options& o, const T* w, T* g) {
  apply_regularization_options<Graph>(o, w, g);
  return apply_clipping_options<Graph>(o, g);
}

/// The constraints after the update: max-norm.
template <class Graph, class T>
void apply_parameter_options(const training_options& o, T* w) {
  if (o.max_norm <= 0.0) return;
  if (o.regularize_all) apply_max_norm<Graph, true>(w, T(o.max_norm));
  else apply_max_norm<Graph, false>(w, T(o.max_norm));
}

/// ½·l2·‖w‖² + l1·‖w‖₁ over the parameters the options regularize.
template <class Graph, class T>
T regularization_loss(const training_options& o, const T* w) {
  return o.regularize_all ? regularization_loss<Graph, true>(w, T(o.l2), T(o.l1))
                          : regularization_loss<Graph, false>(w, T(o.l2), T(o.l1));
}

}  // namespace ctnn
