/// @file trainer.hpp
/// A model plus its optimizer state: `step()` is forward, backward and update.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "ctnn/train/model.hpp"
#include "ctnn/train/optim/sgd.hpp"

namespace ctnn {

template <class Graph, class Batch, class Optimizer = optim::sgd, class T = float>
class trainer {
  static_assert(optim::optimizer<Optimizer, T>,
                "ctnn::trainer: the optimizer needs `static constexpr std::size_t state_buffers` (0 to 2) and "
                "`update<N>(T* w, const T* g, T* state)` (see ctnn/train/optim/common.hpp)");

 public:
  using model_type = ::ctnn::model<Graph, Batch::size, T>;

  explicit trainer(Optimizer opt = {}, std::uint64_t seed = 0)
      : model_(seed), optimizer_(opt), state_(optim::state_size<Optimizer, T>(Graph::param_buffer_size)) {}

  /// One training step on a batch: one pointer per leaf (inputs, then labels,
  /// in the network's leaf order). Returns the batch loss. Throws
  /// std::runtime_error, leaving the parameters untouched, if it is not finite.
  template <class... D>
  T step(const D*... data) {
    model_.advance_noise();  // fresh dropout masks for every step
    const T loss = model_.forward_backward(data...);
    if (!std::isfinite(loss))
      throw std::runtime_error("ctnn::trainer::step: the loss is not finite; parameters left unchanged "
                               "(lower the learning rate or check the inputs for NaN)");
    optimizer_.template update<Graph::param_buffer_size>(model_.parameters().data(), model_.gradients().data(),
                                                         state_.data());
    return loss;
  }

  template <std::size_t K = 0, class... D>
  std::span<const T> predict(const D*... inputs) { return model_.template predict<K>(inputs...); }
  template <std::size_t K = 0, class... D>
  std::span<const T> predict_one(const D*... inputs) { return model_.template predict_one<K>(inputs...); }

  model_type& model() { return model_; }
  Optimizer& optimizer() { return optimizer_; }

 private:
  model_type model_;
  Optimizer optimizer_;
  aligned_buffer<T> state_;  // Optimizer::state_buffers flat buffers, allocated once
};

}  // namespace ctnn
