/// @file graph.hpp
/// The runtime graph builder: a list of op objects and the edges between
/// them, built by value at run time (`g.dense("fc1", 256, x)`), with shapes
/// checked as each node is added, as a runtime framework checks them.
/// Nothing here runs anything: ctnn::runtime::model sorts, plans and executes.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/runtime/activation.hpp"
#include "ctnn/runtime/concat.hpp"
#include "ctnn/runtime/conv2d.hpp"
#include "ctnn/runtime/dense.hpp"
#include "ctnn/runtime/elementwise.hpp"
#include "ctnn/runtime/embedding.hpp"
#include "ctnn/runtime/flatten.hpp"
#include "ctnn/runtime/io.hpp"
#include "ctnn/runtime/loss.hpp"
#include "ctnn/runtime/op.hpp"
#include "ctnn/runtime/pool.hpp"
#include "ctnn/runtime/recurrent.hpp"
#include "ctnn/runtime/window.hpp"

namespace ctnn::runtime {

class graph {
 public:
  /// One node: its op (shared and immutable, so copies of a graph are cheap)
  /// and the nodes feeding its inputs.
  struct node {
    std::shared_ptr<const op> f;
    std::array<node_id, max_inputs> in{};
    std::array<std::size_t, max_params> param{};  // index into params()
  };

  // --- leaves --------------------------------------------------------------------
  /// A named per-sample input. Declaring the same name again with the same
  /// shape gives the same node (as on the static side); with another shape,
  /// std::invalid_argument. With `requires_grad`, backward also computes its
  /// gradient (model::input_grad), as ctnn::input<..., requires_grad>.
  node_id input(std::string name, dims shape, bool requires_grad = false) {
    if (auto id = find_leaf(name, node_role::input, shape)) {
      if (static_cast<const input_op&>(*nodes_[id->index].f).requires_grad() != requires_grad)
        throw std::invalid_argument("ctnn::runtime: input '" + name +
                                    "' is declared twice, with and without requires_grad");
      return *id;
    }
    return emplace<input_op>({}, std::move(name), std::move(shape), requires_grad);
  }
  /// A named class index in [0, classes), fed with the inputs; with
  /// `steps`, one per step of a sequence ([steps]).
  node_id label(std::string name, std::size_t classes, std::size_t steps = 0) {
    if (auto id = find_leaf(name, node_role::label, steps == 0 ? dims{} : dims{steps}, classes)) return *id;
    return emplace<label_op>({}, std::move(name), classes, steps);
  }

  // --- layers ----------------------------------------------------------------------
  /// x·W + b with W "<name>.weight" [in, out], b "<name>.bias" [out]. Two
  /// dense layers of one name share their parameters (tied weights).
  node_id dense(std::string name, std::size_t out, node_id x, bool bias = true,
                initializer weight_init = init::he_normal::value, initializer bias_init = init::zeros::value) {
    return emplace<dense_op>({x}, std::move(name), out, bias, weight_init, bias_init);
  }
  /// Convolution of an image [C, H, W] with `out` filters of size
  /// `filter`×`filter`: weight "<name>.weight" [out, C/groups, F, F], bias
  /// "<name>.bias" [out]; output [out, Ho, Wo] with Ho = (H − F' + 2P)/S + 1,
  /// F' = D·(F − 1) + 1, which must be whole (else std::invalid_argument
  /// naming the layer and giving W, F, P, S). No activation: add its node.
  node_id conv2d(std::string name, std::size_t out, std::size_t filter, node_id x, conv_options opt = {},
                 bool bias = true, initializer weight_init = init::he_normal::value,
                 initializer bias_init = init::zeros::value) {
    return emplace<conv2d_op>({x}, std::move(name), out, filter, opt, bias, weight_init, bias_init);
  }
  /// `window`×`window` max pooling; the stride defaults to the window.
  node_id max_pool(node_id x, std::size_t window, pool_options opt = {}) {
    return emplace<pool_op>({x}, pool_kind::max, window, opt);
  }
  /// `window`×`window` average pooling (padded zeros count); the stride defaults to the window.
  node_id avg_pool(node_id x, std::size_t window, pool_options opt = {}) {
    return emplace<pool_op>({x}, pool_kind::average, window, opt);
  }
  /// Token ids [T] → [T, width], rows of "<name>.weight" [vocabulary,
  /// width]; an id outside the table throws ctnn::token_error in forward.
  node_id embedding(std::string name, std::size_t vocabulary, std::size_t width, node_id ids,
                    initializer weight_init = init::gaussian<1.0>::value) {
    return emplace<embedding_op>({ids}, std::move(name), vocabulary, width, weight_init);
  }
  /// Recurrent layers over a sequence x [T, D], PyTorch's weights and gate
  /// order (ctnn/runtime/recurrent.hpp): every step's h [T, H] (or with
  /// final_state the last one, [H]); with h0 (and c0) from a given state.
  node_id rnn(std::string name, std::size_t hidden, node_id x, recurrent_options o = {}) {
    return recurrent<kernels::recurrent::tanh_cell>(std::move(name), hidden, {x}, o);
  }
  node_id rnn(std::string name, std::size_t hidden, node_id x, node_id h0, recurrent_options o = {}) {
    return recurrent<kernels::recurrent::tanh_cell>(std::move(name), hidden, {x, h0}, o);
  }
  node_id gru(std::string name, std::size_t hidden, node_id x, recurrent_options o = {}) {
    return recurrent<kernels::recurrent::gru_cell>(std::move(name), hidden, {x}, o);
  }
  node_id gru(std::string name, std::size_t hidden, node_id x, node_id h0, recurrent_options o = {}) {
    return recurrent<kernels::recurrent::gru_cell>(std::move(name), hidden, {x, h0}, o);
  }
  node_id lstm(std::string name, std::size_t hidden, node_id x, recurrent_options o = {}) {
    return recurrent<kernels::recurrent::lstm_cell>(std::move(name), hidden, {x}, o);
  }
  node_id lstm(std::string name, std::size_t hidden, node_id x, node_id h0, node_id c0, recurrent_options o = {}) {
    return recurrent<kernels::recurrent::lstm_cell>(std::move(name), hidden, {x, h0, c0}, o);
  }
  /// Any cell, inputs x then the initial states, with the initializers.
  template <class Cell>
  node_id recurrent(std::string name, std::size_t hidden, std::span<const node_id> in, recurrent_options o = {},
                    initializer weight_init = init::uniform_fan_in::value,
                    initializer bias_init = init::uniform_fan_in::value) {
    return emplace_inputs<recurrent_op<Cell>>(in, std::move(name), hidden, o, weight_init, bias_init);
  }
  template <class Cell>
  node_id recurrent(std::string name, std::size_t hidden, std::initializer_list<node_id> in,
                    recurrent_options o = {}) {
    return recurrent<Cell>(std::move(name), hidden, std::span<const node_id>(in.begin(), in.size()), o);
  }
  /// [C, H, W] → [C], each channel's mean.
  node_id global_avg_pool(node_id x) { return emplace<global_avg_pool_op>({x}); }
  /// Any shape → [size], in memory order.
  node_id flatten(node_id x) { return emplace<flatten_op>({x}); }
  /// Two to four values joined along their first axis.
  node_id concat(std::initializer_list<node_id> xs) { return emplace<concat_op>(xs); }
  node_id concat(std::span<const node_id> xs) { return emplace_inputs<concat_op>(xs); }
  node_id identity(node_id x) { return emplace<pointwise_op<act::identity>>({x}, act::identity::name); }
  node_id relu(node_id x) { return emplace<pointwise_op<act::relu>>({x}, act::relu::name); }
  node_id tanh(node_id x) { return emplace<pointwise_op<act::tanh>>({x}, act::tanh::name); }
  node_id sigmoid(node_id x) { return emplace<pointwise_op<act::sigmoid>>({x}, act::sigmoid::name); }
  node_id leaky_relu(node_id x, float slope) {
    if (!(slope > 0.0f && slope < 1.0f))
      throw std::invalid_argument("ctnn::runtime: leaky_relu's slope must lie in (0, 1), got " +
                                  std::to_string(slope));
    return emplace<pointwise_op<leaky_relu_fn>>({x}, "leaky_relu", leaky_relu_fn{slope});
  }
  node_id softmax(node_id x) { return emplace<softmax_op>({x}); }
  node_id add(node_id a, node_id b) { return emplace<binary_op<ctnn::detail::add_rule>>({a, b}); }
  node_id subtract(node_id a, node_id b) { return emplace<binary_op<ctnn::detail::subtract_rule>>({a, b}); }
  node_id multiply(node_id a, node_id b) { return emplace<binary_op<ctnn::detail::multiply_rule>>({a, b}); }
  node_id scale(node_id x, float factor) { return emplace<scale_op>({x}, factor); }

  // --- losses ----------------------------------------------------------------------
  // `r`: the reductions, as the static losses' options give them
  // (ctnn/ops/loss_options.hpp), e.g. {.sample = sample_reduction::mean}.
  node_id softmax_cross_entropy(node_id scores, node_id label, loss_reduction r = {}) {
    return label_loss<loss_rule::softmax_cross_entropy>(scores, label, r);
  }
  /// ½‖y − t‖² per sample (‖y − t‖² with `.halved = false`).
  node_id squared_error(node_id prediction, node_id target, loss_reduction r = {}) {
    return target_loss<loss_rule::squared_error>(prediction, target, r);
  }
  /// Any rule of ctnn/ops/loss.hpp: label rules (negative_log_likelihood,
  /// margin<1>, ...) and target rules (l1, hinge, ...).
  template <class Rule>
  node_id label_loss(node_id scores, node_id label, loss_reduction r = {}) {
    return emplace<label_loss_op<Rule>>({scores, label}, r);
  }
  template <class Rule>
  node_id target_loss(node_id prediction, node_id target, loss_reduction r = {}) {
    return emplace<target_loss_op<Rule>>({prediction, target}, r);
  }

  // --- roots -------------------------------------------------------------------------
  /// A loss root: the model's loss is the sum over them of the batch mean
  /// (or sum: the root op's batch_sum()).
  void loss(node_id l) {
    const op& f = at(l);
    if (f.size() != 1)
      throw std::invalid_argument("ctnn::runtime: a loss root must give one value per sample, but " + f.label() +
                                  " gives " + to_string(f.shape()));
    losses_.push_back(l);
  }
  /// A value predict() returns (the first one declared) or prediction(k) gives.
  void output(node_id y) {
    (void)at(y);
    outputs_.push_back(y);
  }

  /// Any op type: `Op(inputs, args...)` is constructed with the producers of
  /// its inputs, checks their shapes and declares its parameters.
  template <class Op, class... Args>
  node_id emplace(std::initializer_list<node_id> in, Args&&... args) {
    return emplace_inputs<Op>(std::span<const node_id>(in.begin(), in.size()), std::forward<Args>(args)...);
  }
  /// The same with a run-time number of inputs.
  template <class Op, class... Args>
  node_id emplace_inputs(std::span<const node_id> in, Args&&... args) {
    if (in.size() > max_inputs) throw std::invalid_argument("ctnn::runtime: an op takes at most four inputs");
    std::array<const op*, max_inputs> producers{};
    node n;
    std::size_t k = 0;
    for (node_id i : in) {
      producers[k] = &at(i);
      n.in[k++] = i;
    }
    auto f = std::make_shared<const Op>(inputs(producers.data(), in.size()), std::forward<Args>(args)...);
    if (f->params().size() > max_params) throw std::invalid_argument("ctnn::runtime: an op owns at most four parameters");
    // Parameters by name: a name seen before is the same tensor, and must
    // have the same shape.
    for (const param_spec& p : f->params()) {
      std::size_t j = 0;
      while (j < params_.size() && params_[j].name != p.name) ++j;
      if (j < params_.size() && params_[j].shape != p.shape)
        throw std::invalid_argument("ctnn::runtime: parameter '" + p.name + "' is " + to_string(params_[j].shape) +
                                    " in " + at(param_owner_[j]).label() + " but " + to_string(p.shape) + " in " +
                                    f->label() + "; layers that share a parameter by name must agree on its shape");
    }
    const node_id id{nodes_.size()};
    for (std::size_t s = 0; s < f->params().size(); ++s) {
      const param_spec& p = f->params()[s];
      std::size_t j = 0;
      while (j < params_.size() && params_[j].name != p.name) ++j;
      if (j == params_.size()) {
        params_.push_back(p);
        param_owner_.push_back(id);
      }
      n.param[s] = j;
    }
    n.f = std::move(f);
    nodes_.push_back(std::move(n));
    return id;
  }

  /// Graph editing, as runtime frameworks allow: input `slot` of `consumer`
  /// now comes from `producer`, which must have the same shape as before.
  /// This is how a cycle can arise; the model's topological sort rejects it.
  void replace_input(node_id consumer, std::size_t slot, node_id producer) {
    const op& c = at(consumer);
    const op& p = at(producer);
    if (slot >= c.arity())
      throw std::invalid_argument("ctnn::runtime: " + c.label() + " has no input " + std::to_string(slot));
    const op& old = at(nodes_[consumer.index].in[slot]);
    if (p.shape() != old.shape())
      throw std::invalid_argument("ctnn::runtime: input " + std::to_string(slot) + " of " + c.label() + " is " +
                                  to_string(old.shape()) + ", but " + p.label() + " gives " + to_string(p.shape()));
    nodes_[consumer.index].in[slot] = producer;
  }

  // --- what the model reads ----------------------------------------------------------
  std::size_t size() const { return nodes_.size(); }
  const node& at_node(std::size_t i) const { return nodes_[i]; }
  const op& at(node_id id) const {
    if (id.index >= nodes_.size())
      throw std::invalid_argument("ctnn::runtime: node " + std::to_string(id.index) + " is not in this graph (it has " +
                                  std::to_string(nodes_.size()) + " nodes)");
    return *nodes_[id.index].f;
  }
  const std::vector<param_spec>& params() const { return params_; }
  const std::vector<node_id>& losses() const { return losses_; }
  const std::vector<node_id>& outputs() const { return outputs_; }

 private:
  std::vector<node> nodes_;
  std::vector<param_spec> params_;    // distinct by name, in order of first declaration
  std::vector<node_id> param_owner_;  // the node that declared each first
  std::vector<node_id> losses_, outputs_;

  // A leaf declared again: the same node, or an error if it differs.
  std::optional<node_id> find_leaf(const std::string& name, node_role role, const dims& shape,
                                   std::size_t classes = 0) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const op& f = *nodes_[i].f;
      if (f.arity() != 0 || f.name() != name) continue;
      const auto* lbl = dynamic_cast<const label_op*>(&f);
      const bool same = f.role() == role && f.shape() == shape && (lbl == nullptr || lbl->classes() == classes);
      if (!same)
        throw std::invalid_argument("ctnn::runtime: '" + name + "' is declared twice, as " + f.label() + " " +
                                    to_string(f.shape()) + " and as another " +
                                    std::string(role == node_role::input
                                                    ? "input " + to_string(shape)
                                                    : "label of " + std::to_string(classes) + " classes" +
                                                          (shape.empty() ? "" : " per step of " + to_string(shape))) +
                                    "; a leaf name must mean one tensor");
      return node_id{i};
    }
    return std::nullopt;
  }
};

}  // namespace ctnn::runtime
