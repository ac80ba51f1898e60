/// @file concat.hpp
/// Concatenation of two to four values along their first (channel) axis:
/// [C1, H, W] and [C2, H, W] → [C1 + C2, H, W] (flat vectors too). Each
/// sample's output is its inputs' blocks one after the other.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "ctnn/kernels/simd.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

class concat_op final : public op {
  std::array<std::size_t, max_inputs> sizes_{}, offsets_{};

  static dims check(inputs x) {
    if (x.size() < 2 || x.size() > max_inputs)
      fail("concat joins two to four values, got " + std::to_string(x.size()));
    dims out = x[0]->shape();
    if (out.empty()) fail("concat joins along the first axis, but " + x[0]->label() + " gives one value per sample");
    for (std::size_t k = 1; k < x.size(); ++k) {
      const dims& d = x[k]->shape();
      if (d.size() != out.size() || !std::equal(d.begin() + (d.empty() ? 0 : 1), d.end(), out.begin() + 1))
        fail("concat joins values along their first (channel) axis; their other dimensions must agree, but " +
             x[0]->label() + " gives " + to_string(x[0]->shape()) + " and " + x[k]->label() + " gives " +
             to_string(d));
      out[0] += d[0];
    }
    return out;
  }

 public:
  explicit concat_op(inputs x) : op("concat", "", node_role::compute, check(x), x.size()) {
    std::size_t o = 0;
    for (std::size_t k = 0; k < x.size(); ++k) {
      sizes_[k] = x[k]->size();
      offsets_[k] = o;
      o += sizes_[k];
    }
  }

  void forward(const forward_ctx& c) const override {
    const std::size_t n = size();
    for (std::size_t b = 0; b < c.batch; ++b)
      for (std::size_t k = 0; k < arity(); ++k)
        std::copy_n(c.in[k] + b * sizes_[k], sizes_[k], c.out + b * n + offsets_[k]);
  }
  void backward(const backward_ctx& c) const override {
    const std::size_t n = size();
    for (std::size_t k = 0; k < arity(); ++k)
      if (c.input(k))
        with_accumulate(c.add_input(k), [&](auto add) {
          for (std::size_t b = 0; b < c.batch; ++b)
            kernels::map_into<decltype(add)::value>(sizes_[k], c.din[k] + b * sizes_[k], [](auto d) { return d; },
                                                    c.dout + b * n + offsets_[k]);
        });
  }
};

}  // namespace ctnn::runtime
