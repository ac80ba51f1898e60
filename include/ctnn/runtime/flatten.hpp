/// @file flatten.hpp
/// Any per-sample shape → one flat vector, in memory order: the bridge from
/// convolutions to dense layers. A copy, as on the static side.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/kernels/simd.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

class flatten_op final : public op {
 public:
  explicit flatten_op(inputs x) : op("flatten", "", node_role::compute, {x[0]->size()}, 1) {}

  void forward(const forward_ctx& c) const override { std::copy_n(c.in[0], c.batch * size(), c.out); }
  void backward(const backward_ctx& c) const override {
    if (!c.input(0)) return;
    with_accumulate(c.add_input(0), [&](auto add) {
      kernels::map_into<decltype(add)::value>(c.batch * size(), c.din[0], [](auto d) { return d; }, c.dout);
    });
  }
};

}  // namespace ctnn::runtime
