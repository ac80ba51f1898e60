/// @file trainer.hpp
/// A model plus its optimizer state: `step()` is forward, backward and update.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "ctnn/train/model.hpp"
#include "ctnn/train/sgd.hpp"

namespace ctnn {

template <class Graph, class Batch, class Optimizer = optim::sgd, class T = float>
class trainer {
 public:
  using model_type = ::ctnn::model<Graph, Batch::size, T>;

  explicit trainer(Optimizer opt = {}, std::uint64_t seed = 0)
      : model_(seed), optimizer_(opt), velocity_(Graph::param_buffer_size) {}

  /// One training step on a batch: one pointer per leaf (inputs, then labels,
  /// in the network's leaf order). Returns the batch loss. Throws
  /// std::runtime_error, leaving the parameters untouched, if it is not finite.
  template <class... D>
  T step(const D*... data) {
    const T loss = model_.forward_backward(data...);
    if (!std::isfinite(loss))
      throw std::runtime_error("ctnn::trainer::step: the loss is not finite; parameters left unchanged "
                               "(lower the learning rate or check the inputs for NaN)");
    optimizer_.template update<Graph::param_buffer_size>(model_.parameters().data(), model_.gradients().data(),
                                                         velocity_.data());
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
  aligned_buffer<T> velocity_;
};

}  // namespace ctnn
