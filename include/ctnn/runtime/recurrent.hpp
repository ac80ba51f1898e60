/// @file recurrent.hpp
/// The recurrent layers (tanh RNN, LSTM, GRU) with run-time sizes: one node
/// over a sequence [T, D] whose time loop is the static op's kernel
/// (ctnn/kernels/recurrent.hpp), called with std::size_t T, D and H and the
/// run-time batch. Parameters, gate order, options and the output layout are
/// the static layer's (ctnn/ops/recurrent.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "ctnn/kernels/recurrent.hpp"
#include "ctnn/ops/recurrent.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

/// The static layer's options as values.
struct recurrent_options {
  bool bidirectional = false;  // a second direction from the last step back; outputs concatenated
  bool final_state = false;    // output only h after the last step (both directions')
};

/// Inputs: the sequence [T, D], then optionally h0 (and c0 for the LSTM),
/// each [H] (or [2, H] bidirectional). Parameters "<name>.weight_ih"
/// [G·H, D], "<name>.weight_hh" [G·H, H], "<name>.bias_ih" and
/// "<name>.bias_hh" [G·H], each with a leading 2 when bidirectional. Output
/// [T, dirs·H], or [dirs·H] with final_state.
template <class Cell>
class recurrent_op final : public op {
  using layout = kernels::recurrent::sequence_layout<Cell>;
  std::size_t steps_, in_, hidden_, dirs_, gh_, width_, work_;
  bool final_only_, has_state_;

  static dims output_shape(inputs x, std::size_t hidden, recurrent_options o) {
    const std::size_t width = (o.bidirectional ? 2 : 1) * hidden;
    if (o.final_state || x[0]->shape().size() != 2) return {width};
    return {x[0]->shape()[0], width};
  }
  static dims stacked(std::size_t dirs, dims d) {
    if (dirs == 2) d.insert(d.begin(), 2);
    return d;
  }

 public:
  recurrent_op(inputs x, std::string name, std::size_t hidden, recurrent_options o = {},
               initializer weight_init = init::uniform_fan_in::value,
               initializer bias_init = init::uniform_fan_in::value)
      : op(ctnn::detail::recurrent_kind<Cell>, std::move(name), node_role::compute, output_shape(x, hidden, o),
           x.size()),
        steps_(x[0]->shape().size() == 2 ? x[0]->shape()[0] : 0),
        in_(x[0]->shape().size() == 2 ? x[0]->shape()[1] : 0),
        hidden_(hidden),
        dirs_(o.bidirectional ? 2 : 1),
        gh_(Cell::gates * hidden),
        width_(dirs_ * hidden),
        work_(layout(1, steps_, hidden).size),
        final_only_(o.final_state),
        has_state_(x.size() > 1) {
    const std::string layer = std::string(kind()) + " layer '" + this->name() + "'";
    if (hidden == 0) fail(layer + " needs a hidden size of at least one");
    if (x[0]->shape().size() != 2 || steps_ == 0 || in_ == 0)
      fail(layer + " takes a sequence [steps, features] (a one-feature signal as [steps, 1]), but " +
           x[0]->label() + " gives " + to_string(x[0]->shape()));
    const std::size_t states = Cell::has_cell_state ? 2 : 1;
    if (x.size() != 1 && x.size() != 1 + states)
      fail(layer + " takes its sequence alone (a zero initial state) or with " +
           (Cell::has_cell_state ? "h0 and c0" : "h0") + ", but was given " + std::to_string(x.size() - 1) +
           " initial state(s)");
    for (std::size_t k = 1; k < x.size(); ++k) {
      const dims& s = x[k]->shape();
      if (size_of(s) != width_ || s.empty() || s.size() > 2)
        fail(layer + "'s initial state " + (k == 1 ? "h0" : "c0") + " must be [" + std::to_string(hidden) + "]" +
             (dirs_ == 2 ? " per direction, [2, " + std::to_string(hidden) + "]" : std::string()) + ", but " +
             x[k]->label() + " gives " + to_string(s));
    }
    // PyTorch draws every parameter from U(±1/√H): fan-in H for all four.
    declare({this->name() + ".weight_ih", stacked(dirs_, {gh_, in_}), weight_init, hidden, gh_, true});
    declare({this->name() + ".weight_hh", stacked(dirs_, {gh_, hidden}), weight_init, hidden, gh_, true});
    declare({this->name() + ".bias_ih", stacked(dirs_, {gh_}), bias_init, hidden, gh_, false});
    declare({this->name() + ".bias_hh", stacked(dirs_, {gh_}), bias_init, hidden, gh_, false});
    set_scratch(dirs_ * work_);
    set_temp(kernels::recurrent::backward_layout<Cell>(1, steps_, hidden).size);
  }

  std::size_t steps() const { return steps_; }
  std::size_t hidden() const { return hidden_; }
  std::size_t directions() const { return dirs_; }
  bool final_only() const { return final_only_; }

  void forward(const forward_ctx& c) const override {
    // A batch of at most three takes the kernel's row-by-row path, as the
    // static layer does for such a batch (a compile-time choice there).
    switch (c.batch) {
      case 1: return forward_batch(kernels::fixed<1>{}, c);
      case 2: return forward_batch(kernels::fixed<2>{}, c);
      case 3: return forward_batch(kernels::fixed<3>{}, c);
      default: return forward_batch(c.batch, c);
    }
  }
  static_assert(kernels::detail::gemm::stream_rows_max == 3, "forward's switch names every row-by-row batch");

  void backward(const backward_ctx& c) const override {
    namespace acc = kernels::recurrent::accumulate;
    constexpr unsigned all_params = acc::dw_ih | acc::dw_hh | acc::db_ih | acc::db_hh;
    unsigned params = 0;
    for (std::size_t j = 0; j < 4; ++j)
      if (c.param_grad(j) && c.add_param(j)) params |= 2u << j;
    // A layer's four tensors are written first together or added to together
    // (a layer used twice by name); any other mix adds to zeroed tensors, so
    // only these instantiations exist.
    if (params != 0 && params != all_params) {
      const std::size_t sizes[4] = {gh_ * in_, gh_ * hidden_, gh_, gh_};
      for (std::size_t j = 0; j < 4; ++j)
        if (c.param_grad(j) && !c.add_param(j)) std::fill_n(c.dparam[j], dirs_ * sizes[j], 0.0f);
      params = all_params;
    }
    for (std::size_t dir = 0; dir < dirs_; ++dir) {
      // The second direction adds to the input gradient the first wrote.
      const bool add_x = dir > 0 || c.add_input(0);
      if (params == 0) {
        if (add_x) backward_direction<acc::dx>(c, dir);
        else backward_direction<0>(c, dir);
      } else {
        if (add_x) backward_direction<all_params | acc::dx>(c, dir);
        else backward_direction<all_params>(c, dir);
      }
    }
  }

 private:
  template <class SB>
  void forward_batch(SB batch, const forward_ctx& c) const {
    const std::size_t B = kernels::extent_value(batch), T = steps_, H = hidden_;
    const std::size_t h_stride = kernels::recurrent::sample_strides(T, H, gh_).h;
    for (std::size_t dir = 0; dir < dirs_; ++dir) {
      float* work = c.scratch + dir * B * work_;
      with_direction(dir, [&]<bool Reverse>() {
        kernels::recurrent::sequence_forward<Cell, Reverse>(
            batch, T, in_, H, c.in[0], c.param[0] + dir * gh_ * in_, c.param[1] + dir * gh_ * H,
            c.param[2] + dir * gh_, c.param[3] + dir * gh_, has_state_ ? c.in[1] + dir * H : nullptr,
            has_state_ && Cell::has_cell_state ? c.in[2] + dir * H : nullptr, width_, work);
        // The states, from the rows the kernel keeps (h_t at row t + 1
        // forward, t reversed), into the output.
        const float* hs = work + layout(B, T, H).h;
        for (std::size_t b = 0; b < B; ++b) {
          const float* hb = hs + b * h_stride;
          if (final_only_) std::copy_n(hb + (Reverse ? 0 : T) * H, H, c.out + b * width_ + dir * H);
          else if (dirs_ == 1) std::copy_n(hb + H, T * H, c.out + b * T * H);
          else
            for (std::size_t t = 0; t < T; ++t)
              std::copy_n(hb + kernels::recurrent::state_row<Reverse>(t) * H, H,
                          c.out + (b * T + t) * width_ + dir * H);
        }
      });
    }
  }

  template <unsigned Acc>
  void backward_direction(const backward_ctx& c, std::size_t dir) const {
    const std::size_t B = c.batch, H = hidden_;
    const float* work = c.scratch + dir * B * work_;
    const kernels::recurrent::output_gradient<float> dy{c.dout + dir * H, final_only_ ? width_ : steps_ * width_,
                                                        width_, final_only_};
    with_direction(dir, [&]<bool Reverse>() {
      kernels::recurrent::sequence_backward<Cell, Reverse, Acc>(
          B, steps_, in_, H, c.in[0], c.param[0] + dir * gh_ * in_, c.param[1] + dir * gh_ * H, work, dy, width_,
          c.temp, c.input(0) ? c.din[0] : nullptr, c.param_grad(0) ? c.dparam[0] + dir * gh_ * in_ : nullptr,
          c.param_grad(1) ? c.dparam[1] + dir * gh_ * H : nullptr, c.param_grad(2) ? c.dparam[2] + dir * gh_ : nullptr,
          c.param_grad(3) ? c.dparam[3] + dir * gh_ : nullptr, has_state_ && c.input(1) ? c.din[1] + dir * H : nullptr,
          has_state_ && Cell::has_cell_state && c.input(2) ? c.din[2] + dir * H : nullptr,
          has_state_ && c.add_input(1), has_state_ && Cell::has_cell_state && c.add_input(2));
    });
  }

  template <class F>
  static void with_direction(std::size_t dir, F&& f) {
    if (dir == 0) f.template operator()<false>();
    else f.template operator()<true>();
  }
};

}  // namespace ctnn::runtime
