/// @file model.hpp
/// A runtime graph compiled for a batch size: the order, the gradient plan
/// and every buffer decided once in the constructor, and forward, backward
/// and predict running as a runtime framework runs them, one virtual call
/// per op, over pre-resolved pointers, making no heap allocation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/core/aligned_buffer.hpp"
#include "ctnn/graph/feed.hpp"
#include "ctnn/runtime/graph.hpp"
#include "ctnn/runtime/plan.hpp"
#include "ctnn/train/initialize.hpp"

namespace ctnn::runtime {

class model {
  // One planned execution: training (batch B, with backward), predict
  // (batch B) or predict_one (batch 1). Each keeps the contexts of its steps
  // with every pointer filled in except those to the caller's inputs, which
  // `patches` lists and binding overwrites.
  struct fwd_step {
    const op* f;
    forward_ctx c;
  };
  struct bwd_step {
    const op* f;
    backward_ctx c;
  };
  struct patch {
    std::size_t step, slot;
    bool backward;
  };
  struct pass {
    std::size_t batch = 0;
    std::vector<fwd_step> forward;
    std::vector<bwd_step> backward;
    std::vector<std::vector<patch>> patches;  // per leaf slot
    std::vector<float*> label_dst;            // per leaf slot: where its labels go (none for inputs)
    std::vector<char> reads;                  // per leaf slot: whether this pass reads it
    std::vector<char> fed;                    // per leaf slot, during a call: whether a feed named it
    std::vector<float*> value;                // per node
    std::vector<aligned_buffer<float>> memory;

    float* allocate(std::size_t n) { return memory.emplace_back(n).data(); }
  };
  // A backward pass from one output with the caller's upstream gradient
  // (backward_from): its own gradient plan and buffers over the training
  // pass's values and scratch. Each step takes its bound inputs from the
  // training forward step of its node (forward_step) when it runs.
  struct vjp_pass {
    std::vector<bwd_step> backward;
    std::vector<std::size_t> forward_step;
    std::vector<float*> grad_of;         // per node
    std::vector<std::size_t> unreached;  // parameter tensors the output does not depend on: zeroed
    std::vector<aligned_buffer<float>> memory;
    std::string error;                   // why this output has no backward pass, if it has none
  };
  static constexpr std::size_t no_backward = std::size_t(-1);

 public:
  /// Sorts and plans `g` for batches of `batch` (std::invalid_argument for a
  /// cycle, a gradient an op cannot give, ...) and initializes the parameters
  /// as ctnn::model<Net, B> does for the same seed.
  model(graph g, std::size_t batch, std::uint64_t seed = 0) : g_(std::move(g)), s_(make_schedule(g_)), batch_(batch) {
    if (batch == 0) throw std::invalid_argument("ctnn::runtime::model: the batch size must be positive");
    for (const param_spec& p : g_.params()) {
      const std::size_t n = padded(size_of(p.shape));
      params_.emplace_back(n);
      grads_.emplace_back(n);
    }
    build_training();
    for (std::size_t k = 0; k < g_.outputs().size(); ++k) build_vjp(k);
    build_inference(infer_, batch_);
    build_inference(infer1_, 1);
    initialize(seed);
  }

  model(model&&) noexcept = default;
  model& operator=(model&&) noexcept = default;

  /// Each parameter drawn as its declaration says, from a generator seeded
  /// with `seed` and the parameter's name: ctnn::model's rule, same code.
  void initialize(std::uint64_t seed) {
    for (std::size_t t = 0; t < params_.size(); ++t) {
      const param_spec& d = g_.params()[t];
      shape_info shape{d.shape.size(), {}};
      for (std::size_t k = 0; k < d.shape.size() && k < shape.dims.size(); ++k) shape.dims[k] = d.shape[k];
      initialize_parameter(params_[t].data(), param_decl{d.name, shape, d.init, d.fan_in, d.fan_out}, seed);
    }
  }

  /// Forward over a batch: every input and label by name, in any order, as
  /// ctnn::model takes them (`feed<"image">(x)`; inputs as float, read in
  /// place; labels as any arithmetic type). The names are checked here, at
  /// run time: std::invalid_argument for an unknown, repeated or missing
  /// name or a wrong length. Returns the sum over the loss roots of the
  /// batch mean (or sum, for a root declared with reduce::batch_sum).
  template <class... F>
  float forward(const F&... feeds) {
    bind(train_, "ctnn::runtime::model::forward", feeds...);
    for (const fwd_step& st : train_.forward) st.f->forward(st.c);
    float mean_part = 0, sum_part = 0;  // roots averaged over the batch, and those summed
    for (node_id r : g_.losses()) {
      float root = 0;
      for (std::size_t b = 0; b < batch_; ++b) root += train_.value[r.index][b];
      (g_.at(r).batch_sum() ? sum_part : mean_part) += root;
    }
    return mean_part / float(batch_) + sum_part;
  }

  /// Backward after forward: every planned gradient, parameters' included.
  void backward() {
    for (node_id r : g_.losses())
      if (s_.needs_grad[r.index]) std::fill_n(grad_of_[r.index], batch_, g_.at(r).batch_sum() ? 1.0f : 1.0f / float(batch_));
    for (const bwd_step& st : train_.backward) st.f->backward(st.c);
    last_backward_ = 0;
  }

  /// A backward pass from output k after forward(), with the caller's
  /// upstream gradient dL/d(output), batch × size values, in place of the
  /// losses: a vector-Jacobian product, as ctnn::model::backward_from. Fills
  /// the parameter gradients (zero for parameters the output does not depend
  /// on) and the gradients of inputs declared with requires_grad.
  /// std::invalid_argument for a wrong length.
  void backward_from(std::size_t k, std::span<const float> upstream) {
    if (k >= g_.outputs().size())
      throw std::out_of_range("ctnn::runtime::model::backward_from: output " + std::to_string(k) + " of " +
                              std::to_string(g_.outputs().size()));
    vjp_pass& v = vjp_[k];
    if (!v.error.empty()) throw std::invalid_argument(v.error);
    const std::size_t id = g_.outputs()[k].index, n = batch_ * g_.at_node(id).f->size();
    if (upstream.size() != n)
      throw std::invalid_argument("ctnn::runtime::model::backward_from: the upstream gradient of output " +
                                  std::to_string(k) + " holds " + std::to_string(upstream.size()) +
                                  " values; a batch needs " + std::to_string(n));
    for (std::size_t t : v.unreached) std::fill(grads_[t].data(), grads_[t].data() + grads_[t].size(), 0.0f);
    if (v.grad_of[id] != nullptr) std::copy(upstream.begin(), upstream.end(), v.grad_of[id]);
    for (std::size_t q = 0; q < v.backward.size(); ++q) {
      bwd_step& st = v.backward[q];
      st.c.in = train_.forward[v.forward_step[q]].c.in;
      st.f->backward(st.c);
    }
    last_backward_ = k + 1;
  }
  /// The same for the output of that name: its node's name, or its kind for
  /// an unnamed node (std::invalid_argument unless exactly one matches).
  void backward_from(std::string_view output, std::span<const float> upstream) {
    backward_from(output_index(output, "ctnn::runtime::model::backward_from"), upstream);
  }

  /// The gradient with respect to input `name` (declared with requires_grad)
  /// after the last backward() or backward_from(): batch × size values, zero
  /// where that pass does not reach the input. std::invalid_argument for
  /// another name.
  std::span<const float> input_grad(std::string_view name) const {
    for (std::size_t l : s_.leaves) {
      const auto* in = dynamic_cast<const input_op*>(g_.at_node(l).f.get());
      if (in == nullptr || in->name() != name) continue;
      if (!in->requires_grad()) break;
      const float* p = last_backward_ == no_backward ? nullptr
                       : last_backward_ == 0         ? grad_of_[l]
                                                     : vjp_[last_backward_ - 1].grad_of[l];
      return {p != nullptr ? p : zero_grad_.data(), batch_ * in->size()};
    }
    throw std::invalid_argument("ctnn::runtime::model::input_grad: '" + std::string(name) +
                                "' is not an input declared with requires_grad");
  }

  template <class... F>
  float forward_backward(const F&... feeds) {
    const float loss = forward(feeds...);
    backward();
    return loss;
  }

  /// Inference over a batch: the first output, B × size. One pass computes
  /// every output, so it takes, by name, exactly the inputs the outputs
  /// together depend on.
  template <class... F>
  std::span<const float> predict(const F&... feeds) {
    run_inference(infer_, "ctnn::runtime::model::predict", feeds...);
    return prediction(0);
  }
  /// Inference for one sample.
  template <class... F>
  std::span<const float> predict_one(const F&... feeds) {
    run_inference(infer1_, "ctnn::runtime::model::predict_one", feeds...);
    return prediction_one(0);
  }
  /// Output k of the last predict() / predict_one().
  std::span<const float> prediction(std::size_t k) const { return output_of(infer_, k); }
  std::span<const float> prediction_one(std::size_t k) const { return output_of(infer1_, k); }

  /// The value of a node after the last training forward, B × size.
  std::span<const float> value(node_id id) const {
    const op& f = g_.at(id);
    if (f.role() == node_role::input || train_.value[id.index] == nullptr)
      throw std::invalid_argument("ctnn::runtime::model::value: " + f.label() + " has no value of its own");
    return {train_.value[id.index], batch_ * f.size()};
  }

  /// A parameter, or its gradient after backward, by name (std::out_of_range
  /// naming it if there is none).
  std::span<float> param(std::string_view name) { return params_[index_of(name)].span().first(size_at(name)); }
  std::span<float> grad(std::string_view name) { return grads_[index_of(name)].span().first(size_at(name)); }

  /// Parameter tensor t (of graph().params()), padded to whole vectors with
  /// zeros that stay zero: what an optimizer loops over.
  std::size_t param_tensors() const { return params_.size(); }
  std::span<float> param_at(std::size_t t) { return params_[t].span(); }
  std::span<float> grad_at(std::size_t t) { return grads_[t].span(); }
  std::string_view param_name(std::size_t t) const { return g_.params()[t].name; }

  /// Trainable scalars, tied parameters counted once.
  std::size_t param_count() const {
    std::size_t n = 0;
    for (const param_spec& p : g_.params()) n += size_of(p.shape);
    return n;
  }

  /// Copies every parameter, by name, from anything with
  /// `std::span<float> param_span(std::string_view)` (a ctnn::model), or
  /// back into it.
  template <class M>
  void copy_parameters_from(M& other) {
    for (const param_spec& p : g_.params()) {
      const auto src = other.param_span(p.name);
      auto dst = param(p.name);
      if (src.size() != dst.size()) size_mismatch(p, src.size());
      std::copy(src.begin(), src.end(), dst.begin());
    }
  }
  template <class M>
  void copy_parameters_to(M& other) {
    for (const param_spec& p : g_.params()) {
      auto dst = other.param_span(p.name);
      const auto src = param(p.name);
      if (src.size() != dst.size()) size_mismatch(p, dst.size());
      std::copy(src.begin(), src.end(), dst.begin());
    }
  }

  const graph& source() const { return g_; }
  const schedule& plan() const { return s_; }
  std::size_t batch_size() const { return batch_; }
  /// The names of the leaves (inputs and labels) the feeds may name.
  std::vector<std::string> leaf_names() const {
    std::vector<std::string> names;
    for (std::size_t l : s_.leaves) names.push_back(g_.at_node(l).f->name());
    return names;
  }
  /// Floats of activation, gradient and scratch memory planned for training,
  /// predict and predict_one (parameters and their gradients not counted).
  std::size_t workspace_floats() const {
    std::size_t n = 0;
    for (const pass* p : {&train_, &infer_, &infer1_})
      for (const auto& m : p->memory) n += m.size();
    return n;
  }

 private:
  graph g_;
  schedule s_;
  std::size_t batch_;
  std::vector<aligned_buffer<float>> params_, grads_;  // one tensor each, like a framework's
  pass train_, infer_, infer1_;
  std::vector<float*> grad_of_;  // per node: its output gradient in training
  std::vector<vjp_pass> vjp_;    // per output
  std::vector<float*> train_scratch_;
  std::vector<std::size_t> train_step_;  // per node: its step in train_.forward
  float* train_temp_ = nullptr;
  aligned_buffer<float> zero_grad_{0};      // input_grad of an input the last pass did not reach
  std::size_t last_backward_ = no_backward;  // 0: backward(); k + 1: backward_from(k)

  static std::size_t padded(std::size_t n) {
    constexpr std::size_t a = 64 / sizeof(float);
    return (n + a - 1) / a * a;
  }

  std::size_t index_of(std::string_view name) const {
    for (std::size_t t = 0; t < g_.params().size(); ++t)
      if (g_.params()[t].name == name) return t;
    throw std::out_of_range("ctnn::runtime::model: no parameter named '" + std::string(name) + "'");
  }
  std::size_t size_at(std::string_view name) const { return size_of(g_.params()[index_of(name)].shape); }

  [[noreturn]] static void size_mismatch(const param_spec& p, std::size_t other) {
    throw std::invalid_argument("ctnn::runtime::model: parameter '" + p.name + "' " + to_string(p.shape) + " has " +
                                std::to_string(size_of(p.shape)) + " values, the other model's " +
                                std::to_string(other));
  }
  std::string leaf_list() const {
    std::string names;
    for (std::size_t l : s_.leaves) names += (names.empty() ? "\"" : ", \"") + g_.at_node(l).f->name() + "\"";
    return names;
  }

  // The contexts of a node's forward and backward; inputs read in place stay
  // null until bound.
  forward_ctx forward_of(const pass& p, std::size_t i) {
    const graph::node& nd = g_.at_node(i);
    forward_ctx c;
    c.batch = p.batch;
    for (std::size_t k = 0; k < nd.f->arity(); ++k) c.in[k] = p.value[nd.in[k].index];
    c.out = p.value[i];
    for (std::size_t j = 0; j < nd.f->params().size(); ++j) c.param[j] = params_[nd.param[j]].data();
    return c;
  }

  void add_patches(pass& p, std::size_t i, std::size_t step, bool backward) {
    const graph::node& nd = g_.at_node(i);
    for (std::size_t k = 0; k < nd.f->arity(); ++k)
      for (std::size_t s = 0; s < s_.leaves.size(); ++s)
        if (s_.leaves[s] == nd.in[k].index) {
          p.patches[s].push_back({step, k, backward});
          p.reads[s] = 1;
        }
  }

  void start(pass& p, std::size_t batch) {
    p.batch = batch;
    p.value.assign(g_.size(), nullptr);
    p.patches.assign(s_.leaves.size(), {});
    p.label_dst.assign(s_.leaves.size(), nullptr);
    p.reads.assign(s_.leaves.size(), 0);
    p.fed.assign(s_.leaves.size(), 0);
  }

  // Training keeps every value and scratch for backward, one tensor each;
  // gradients share a pool by liveness (each lives from its first write to
  // its own node's backward).
  void build_training() {
    pass& p = train_;
    start(p, batch_);
    std::size_t temp = 0;
    std::vector<float*> scratch(g_.size(), nullptr);
    for (std::size_t i : s_.order) {
      const op& f = *g_.at_node(i).f;
      if (f.role() != node_role::input) p.value[i] = p.allocate(batch_ * f.size());
      if (f.scratch_size() > 0) scratch[i] = p.allocate(batch_ * f.scratch_size());
      temp = std::max(temp, f.temp_size());
    }
    float* temp_buf = temp > 0 ? p.allocate(batch_ * temp) : nullptr;

    const std::size_t n = s_.order.size();
    grad_of_ = pool_gradients(s_.needs_grad, s_.is_loss_root, p.memory);
    std::size_t largest_input = 0;
    for (std::size_t l : s_.leaves)
      if (g_.at_node(l).f->role() == node_role::input) largest_input = std::max(largest_input, g_.at_node(l).f->size());
    zero_grad_ = aligned_buffer<float>(batch_ * largest_input);

    train_step_.assign(g_.size(), no_backward);
    for (std::size_t i : s_.order) {
      const graph::node& nd = g_.at_node(i);
      if (nd.f->arity() == 0) continue;
      forward_ctx c = forward_of(p, i);
      c.scratch = scratch[i];
      add_patches(p, i, p.forward.size(), false);
      train_step_[i] = p.forward.size();
      p.forward.push_back({nd.f.get(), c});
    }
    train_scratch_ = scratch;
    train_temp_ = temp_buf;
    for (std::size_t q = n; q-- > 0;) {
      const std::size_t i = s_.order[q];
      const graph::node& nd = g_.at_node(i);
      if (!s_.needs_grad[i] || nd.f->arity() == 0) continue;
      const backward_ctx c = backward_of(i, s_.mode[i], grad_of_);
      add_patches(p, i, p.backward.size(), true);
      p.backward.push_back({nd.f.get(), c});
    }
    for (std::size_t s = 0; s < s_.leaves.size(); ++s)
      if (g_.at_node(s_.leaves[s]).f->role() == node_role::label) p.label_dst[s] = p.value[s_.leaves[s]];
    p.reads.assign(s_.leaves.size(), 1);  // training takes every input and label
  }

  // The backward pass from output k: the gradient phases with that output as
  // the only root, gradients pooled by liveness as in training.
  void build_vjp(std::size_t k) {
    vjp_pass& v = vjp_.emplace_back();
    const std::size_t n = g_.size(), steps = s_.order.size(), out = g_.outputs()[k].index;
    std::vector<char> root(n, 0), needs(n, 0), scratch(n, 0), param_written(g_.params().size(), 0);
    std::vector<unsigned> mode(n, 0);
    root[out] = 1;
    const detail::graph_view view{g_, s_.order};
    ctnn::detail::mark_gradients(view, root, needs, scratch);
    const ctnn::detail::gradient_gap gap = ctnn::detail::assign_grad_modes(view, root, needs, mode, scratch, param_written);
    if (gap.found()) {
      const auto& nd = g_.at_node(gap.node);
      v.error = "ctnn::runtime::model::backward_from: " + nd.f->label() + " cannot give its input " +
                std::to_string(gap.input) + " (" + g_.at_node(nd.in[gap.input].index).f->label() +
                "), which output " + std::to_string(k) + " depends on, a gradient";
      return;
    }
    for (std::size_t t = 0; t < param_written.size(); ++t)
      if (!param_written[t]) v.unreached.push_back(t);
    v.grad_of = pool_gradients(needs, root, v.memory);
    for (std::size_t q = steps; q-- > 0;) {
      const std::size_t i = s_.order[q];
      const graph::node& nd = g_.at_node(i);
      if (!needs[i] || nd.f->arity() == 0) continue;
      v.forward_step.push_back(train_step_[i]);
      v.backward.push_back({nd.f.get(), backward_of(i, mode[i], v.grad_of)});
    }
  }

  // The gradient buffers of a backward pass that computes the gradients of
  // `needs`, seeded at `root`: each lives from its first write to its own
  // node's backward step (an input's, the caller's, past the pass), and
  // they share tensors by liveness, allocated into `memory`.
  std::vector<float*> pool_gradients(const std::vector<char>& needs, const std::vector<char>& root,
                                     std::vector<aligned_buffer<float>>& memory) const {
    const std::size_t steps = s_.order.size();
    auto back_step = [&](std::size_t i) { return 1 + (steps - 1 - s_.position[i]); };  // 0: the seeding
    std::vector<live_range> live(g_.size());
    for (std::size_t i : s_.order) {
      if (!needs[i]) continue;
      std::size_t first = root[i] ? 0 : back_step(i);
      for (std::size_t c : s_.order)
        if (needs[c])
          for (std::size_t k = 0; k < g_.at_node(c).f->arity(); ++k)
            if (g_.at_node(c).in[k].index == i) first = std::min(first, back_step(c));
      const bool kept = g_.at_node(i).f->role() == node_role::input;
      live[i] = {first, kept ? steps + 1 : back_step(i), batch_ * g_.at_node(i).f->size()};
    }
    const pool_plan pool = plan_pool(live);
    std::vector<float*> slot, grad_of(g_.size(), nullptr);
    for (std::size_t cap : pool.capacity) slot.push_back(memory.emplace_back(cap).data());
    for (std::size_t i = 0; i < g_.size(); ++i)
      if (pool.slot[i] != unplanned) grad_of[i] = slot[pool.slot[i]];
    return grad_of;
  }

  // Node i's backward context over the training pass's values, scratch and
  // temp, with grad_mode bits `mode` and the gradients of `grad_of`. Inputs
  // read in place are bound when a call runs.
  backward_ctx backward_of(std::size_t i, unsigned mode, const std::vector<float*>& grad_of) {
    const graph::node& nd = g_.at_node(i);
    const forward_ctx fc = forward_of(train_, i);
    backward_ctx c;
    c.batch = batch_;
    c.mode = mode;
    c.in = fc.in;
    c.out = fc.out;
    c.dout = grad_of[i];
    for (std::size_t k = 0; k < nd.f->arity(); ++k)
      if (c.input(k)) c.din[k] = grad_of[nd.in[k].index];
    for (std::size_t j = 0; j < nd.f->params().size(); ++j) {
      c.param[j] = fc.param[j];
      c.dparam[j] = grads_[nd.param[j]].data();
    }
    c.scratch = train_scratch_[i];
    c.temp = train_temp_;
    return c;
  }

  // The output predict and backward_from mean by `name`: its node's name, or
  // its kind for an unnamed node.
  std::size_t output_index(std::string_view name, const char* call) const {
    std::size_t found = 0, at = 0;
    for (std::size_t k = 0; k < g_.outputs().size(); ++k) {
      const op& f = g_.at(g_.outputs()[k]);
      if ((f.name().empty() ? f.kind() : f.name()) == name) ++found, at = k;
    }
    if (found != 1)
      throw std::invalid_argument(std::string(call) + ": " + (found == 0 ? "no" : "more than one") +
                                  " output is named \"" + std::string(name) + "\"");
    return at;
  }

  // Inference runs only what the outputs need; values (and scratch) share a
  // pool, each freed after its last consumer; outputs live to the end.
  void build_inference(pass& p, std::size_t batch) {
    start(p, batch);
    const std::size_t n = g_.size(), end = s_.order.size();
    std::vector<char> used(n, 0);
    for (std::size_t i = 0; i < n; ++i) used[i] = s_.is_output[i];
    for (std::size_t q = s_.order.size(); q-- > 0;)
      if (used[s_.order[q]]) {
        const graph::node& nd = g_.at_node(s_.order[q]);
        for (std::size_t k = 0; k < nd.f->arity(); ++k) used[nd.in[k].index] = 1;
      }
    std::vector<live_range> live(2 * n);
    for (std::size_t i : s_.order) {
      if (!used[i]) continue;
      const graph::node& nd = g_.at_node(i);
      const std::size_t at = s_.position[i];
      for (std::size_t k = 0; k < nd.f->arity(); ++k) {
        live_range& r = live[nd.in[k].index];
        r.last = std::max(r.last, at);
      }
      if (nd.f->role() == node_role::input) continue;
      live_range& r = live[i];
      r.first = nd.f->arity() == 0 ? 0 : at;  // labels are written when bound
      r.last = s_.is_output[i] ? end : std::max(r.last, at);
      r.size = batch * nd.f->size();
      live[n + i] = {at, at, batch * nd.f->scratch_size()};
    }
    const pool_plan pool = plan_pool(live);
    std::vector<float*> slot;
    for (std::size_t cap : pool.capacity) slot.push_back(p.allocate(cap));
    std::vector<float*> scratch(n, nullptr);
    for (std::size_t i = 0; i < n; ++i) {
      if (pool.slot[i] != unplanned) p.value[i] = slot[pool.slot[i]];
      if (pool.slot[n + i] != unplanned) scratch[i] = slot[pool.slot[n + i]];
    }
    for (std::size_t i : s_.order) {
      const graph::node& nd = g_.at_node(i);
      if (!used[i] || nd.f->arity() == 0) continue;
      forward_ctx c = forward_of(p, i);
      c.scratch = scratch[i];
      add_patches(p, i, p.forward.size(), false);
      p.forward.push_back({nd.f.get(), c});
    }
    for (std::size_t s = 0; s < s_.leaves.size(); ++s)
      if (g_.at_node(s_.leaves[s]).f->role() == node_role::label && used[s_.leaves[s]]) {
        p.label_dst[s] = p.value[s_.leaves[s]];
        p.reads[s] = 1;
      }
  }

  template <class D>
  void bind_leaf(pass& p, std::size_t s, const D* data) {
    if (float* dst = p.label_dst[s]) {
      bind_label(p.batch, s, data, dst);
      return;
    }
    if constexpr (std::is_same_v<std::remove_cv_t<D>, float>) {
      for (const patch& q : p.patches[s]) {
        if (q.backward) p.backward[q.step].c.in[q.slot] = data;
        else p.forward[q.step].c.in[q.slot] = data;
      }
    } else {
      if (!p.patches[s].empty())
        throw std::invalid_argument("ctnn::runtime::model: input '" + g_.at_node(s_.leaves[s]).f->name() +
                                    "' is read in place and must be fed as float");
    }
  }

  // A label's values (one per sample, or a sequence label's one per step)
  // converted to float, each checked as ctnn::model checks it: a class
  // index outside [0, classes) would make the loss read past its scores.
  template <class D>
  void bind_label(std::size_t batch, std::size_t s, const D* data, float* dst) const {
    const auto& lbl = static_cast<const label_op&>(*g_.at_node(s_.leaves[s]).f);
    const std::size_t n = lbl.size(), classes = lbl.classes();
    for (std::size_t k = 0; k < batch * n; ++k) {
      dst[k] = float(data[k]);
      if (!(dst[k] >= 0.0f && dst[k] < float(classes)) || dst[k] != float(std::size_t(dst[k])))
        throw std::out_of_range("ctnn::runtime::model: label '" + lbl.name() + "' of sample " +
                                std::to_string(k / n) + (lbl.steps() > 0 ? ", step " + std::to_string(k % n) : "") +
                                " is " + std::to_string(double(data[k])) + ", not a class in [0, " +
                                std::to_string(classes) + ")");
    }
  }

  // The leaf slot a feed names; the checks ctnn::model makes at compile time.
  template <class F>
  std::size_t slot_of_feed(const pass& p, const char* call, const F& f, std::vector<char>& fed) const {
    static_assert(is_feed_v<F>, "CTNN_FEED_UNNAMED: a model's calls take their data by name, as "
                                "ctnn::feed<\"name\">(data)");
    const std::string_view name = F::name.view();
    std::size_t s = 0;
    while (s < s_.leaves.size() && g_.at_node(s_.leaves[s]).f->name() != name) ++s;
    if (s == s_.leaves.size())
      throw std::invalid_argument(std::string(call) + ": the feed \"" + std::string(name) +
                                  "\" names no input or label; the graph has " + leaf_list());
    if (fed[s]) throw std::invalid_argument(std::string(call) + ": \"" + std::string(name) + "\" is fed twice");
    if (!p.reads[s])
      throw std::invalid_argument(std::string(call) + ": the outputs do not depend on \"" + std::string(name) +
                                  "\"; feed only what they read");
    fed[s] = 1;
    const std::size_t need = p.batch * g_.at_node(s_.leaves[s]).f->size();
    if (F::extent != unchecked_extent && f.size != need)
      throw std::invalid_argument(std::string(call) + ": the feed \"" + std::string(name) + "\" holds " +
                                  std::to_string(f.size) + " values; a batch of " + std::to_string(p.batch) +
                                  " needs " + std::to_string(need));
    return s;
  }

  // Binds every feed by name; every leaf the pass reads must be fed. All
  // names are checked before anything is bound (p.fed is sized once, so a
  // call allocates nothing).
  template <class... F>
  void bind(pass& p, const char* call, const F&... feeds) {
    std::vector<char>& fed = p.fed;
    std::fill(fed.begin(), fed.end(), 0);
    [[maybe_unused]] const std::size_t slots[] = {slot_of_feed(p, call, feeds, fed)..., std::size_t(0)};
    for (std::size_t s = 0; s < s_.leaves.size(); ++s)
      if (p.reads[s] && !fed[s])
        throw std::invalid_argument(std::string(call) + ": \"" + g_.at_node(s_.leaves[s]).f->name() +
                                    "\" is not fed; the call needs every leaf it reads, by name");
    [[maybe_unused]] std::size_t k = 0;
    (bind_leaf(p, slots[k++], feeds.data), ...);
  }

  template <class... F>
  void run_inference(pass& p, const char* call, const F&... feeds) {
    bind(p, call, feeds...);
    for (const fwd_step& st : p.forward) st.f->forward(st.c);
  }

  std::span<const float> output_of(const pass& p, std::size_t k) const {
    if (k >= g_.outputs().size())
      throw std::out_of_range("ctnn::runtime::model: output " + std::to_string(k) + " of " +
                              std::to_string(g_.outputs().size()));
    const std::size_t id = g_.outputs()[k].index;
    return {p.value[id], p.batch * g_.at_node(id).f->size()};
  }
};

}  // namespace ctnn::runtime
