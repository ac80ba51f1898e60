/// @file embedding.hpp
/// The lookup table from token ids to vectors with run-time sizes: ids [T]
/// (class indices stored as floats) → [T, E], row ids[t] of "<name>.weight"
/// [V, E] at each step, as the static embedding (ctnn/ops/embedding.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/embedding.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

class embedding_op final : public op {
  std::size_t steps_, vocabulary_, width_;

 public:
  embedding_op(inputs x, std::string name, std::size_t vocabulary, std::size_t width,
               initializer weight_init = init::gaussian<1.0>::value)
      : op("embedding", std::move(name), node_role::compute,
           {x[0]->shape().size() == 1 ? x[0]->shape()[0] : 0, width}, 1),
        steps_(x[0]->shape().size() == 1 ? x[0]->shape()[0] : 0),
        vocabulary_(vocabulary),
        width_(width) {
    if (x[0]->shape().size() != 1)
      fail("embedding '" + this->name() + "' takes token ids of shape [steps], but " + x[0]->label() + " gives " +
           to_string(x[0]->shape()));
    if (vocabulary == 0 || width == 0)
      fail("embedding '" + this->name() + "' needs a table of at least one row and one column, not " +
           std::to_string(vocabulary) + " × " + std::to_string(width));
    declare({this->name() + ".weight", {vocabulary, width}, weight_init, vocabulary, width, true});
  }

  std::size_t vocabulary() const { return vocabulary_; }

  void forward(const forward_ctx& c) const override {
    for (std::size_t k = 0; k < c.batch * steps_; ++k)
      std::copy_n(c.param[0] + row(c.in[0][k], k) * width_, width_, c.out + k * width_);
  }

  void backward(const backward_ctx& c) const override {
    if (c.param_grad(0)) {
      if (!c.add_param(0)) std::fill_n(c.dparam[0], vocabulary_ * width_, 0.0f);
      for (std::size_t k = 0; k < c.batch * steps_; ++k)
        kernels::map_add(width_, c.dparam[0] + std::size_t(c.in[0][k]) * width_, [](auto d) { return d; },
                         c.dout + k * width_);
    }
    // Ids are indices: nothing flows back to them.
    if (c.input(0) && !c.add_input(0)) std::fill_n(c.din[0], c.batch * steps_, 0.0f);
  }

 private:
  // The static op's check and message: an id that is not a whole number in
  // [0, vocabulary) would read outside the table.
  std::size_t row(float id, std::size_t at) const {
    if (!(id >= 0.0f && id < float(vocabulary_)) || id != std::floor(id))
      throw token_error("ctnn::runtime: embedding '" + name() + "': id " + std::to_string(double(id)) +
                        " at position " + std::to_string(at) + " (sample " + std::to_string(at / steps_) +
                        ", step " + std::to_string(at % steps_) + ") is not a row of its " +
                        std::to_string(vocabulary_) + "-row table");
    return std::size_t(id);
  }
};

}  // namespace ctnn::runtime
