/// @file model.hpp
/// A network's parameters and workspaces for batch size B, and the generated
/// forward and backward passes. Everything is allocated in the constructor;
/// forward, backward and predict make no heap allocation.
#pragma once

#include <array>
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

#include <xtensor/xadapt.hpp>

#include "ctnn/core/aligned_buffer.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/graph/network.hpp"
#include "ctnn/kernels/finite.hpp"
#include "ctnn/train/initialize.hpp"
#include "ctnn/train/non_finite.hpp"

namespace ctnn {

/// The batch size, as a type: `trainer<Net, batch<64>>`.
template <std::size_t B>
struct batch {
  static_assert(B > 0, "ctnn::batch: the batch size must be positive");
  static constexpr std::size_t size = B;
};

/// Where a named parameter lives, found at compile time.
struct param_location {
  bool found = false;
  std::size_t offset = 0;
  shape_info shape{};
  bool trainable = true;  // in the parameter buffer, or else in the state buffer
};

template <class Graph>
constexpr param_location find_param(std::string_view name) {
  for (std::size_t i = 0; i < Graph::node_count; ++i)
    for (std::size_t j = 0; j < Graph::infos[i].param_count; ++j)
      if (Graph::infos[i].params[j].name == name)
        return {true, Graph::plan.param_offset[i][j], Graph::infos[i].params[j].shape,
                Graph::infos[i].params[j].trainable};
  return {};
}

namespace detail {
template <class Graph, fixed_string Name>
struct param_lookup {
  static constexpr param_location where = find_param<Graph>(Name.view());
  static_assert(where.found, "ctnn::model::param: no parameter of this name in the network");
};
}  // namespace detail

template <class Graph, std::size_t B, class T = float>
class model {
  static_assert(std::is_floating_point_v<T>, "ctnn::model: the scalar type must be float or double");

 public:
  using graph_type = Graph;
  using value_type = T;
  static constexpr std::size_t batch_size = B;
  static constexpr std::size_t node_count = Graph::node_count;

 private:
  static constexpr const auto& P = Graph::plan;

  aligned_buffer<T> params_;
  aligned_buffer<T> grads_;
  aligned_buffer<T> state_;    // non-trainable: running statistics
  aligned_buffer<T> train_;    // values | scratch | gradients | temp, batch B
  aligned_buffer<T> infer_;    // inference values, batch B
  aligned_buffer<T> infer1_;   // inference values, batch 1
  std::array<const T*, Graph::leaf_count> leaf_data_{};  // inputs are read in place
  std::uint64_t noise_seed_ = 0;                          // dropout masks: fixed until advance_noise()

  template <std::size_t I, std::size_t J>
  T* param_ptr() {
    constexpr const param_decl& d = P.nodes[I].params[J];
    return (d.trainable ? params_.data() : state_.data()) + P.param_offset[I][J];
  }

  T* values() { return train_.data(); }
  // d(loss)/d(root value of one sample): 1/B for a batch mean, 1 for a sum.
  static constexpr T loss_seed(std::size_t root) { return P.nodes[root].batch_sum ? T(1) : T(1) / T(B); }
  T* scratch() { return values() + B * P.value_elems; }
  T* grad_ws() { return scratch() + B * P.scratch_elems; }
  T* temp() { return grad_ws() + B * P.grad_elems; }

  template <std::size_t I>
  static constexpr std::size_t leaf_slot = [] {
    for (std::size_t s = 0; s < Graph::leaf_count; ++s)
      if (Graph::leaf_ids.first[s] == I) return s;
    return none;
  }();

  // The value of node I: an input read in place, or a workspace slot.
  template <bool Training, std::size_t Bn, std::size_t I>
  const T* value_of(T* base) const {
    if constexpr (P.nodes[I].role == node_role::input) return leaf_data_[leaf_slot<I>];
    else return base + Bn * (Training ? P.value_offset[I] : P.infer_offset[I]);
  }

  template <bool Training, std::size_t Bn, std::size_t I>
  void forward_node(T* base, T* scratch_base) {
    constexpr const node_info& info = P.nodes[I];
    constexpr bool is_leaf = info.role == node_role::input || info.role == node_role::label;
    if constexpr (!is_leaf && (Training || P.in_inference[I])) {
      forward_args<T> a;
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((a.in[K] = value_of<Training, Bn, P.nodes[I].input[K]>(base)), ...);
      }(std::make_index_sequence<P.nodes[I].arity>{});
      a.out = base + Bn * (Training ? P.value_offset[I] : P.infer_offset[I]);
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        ((a.param[J] = param_ptr<I, J>()), ...);
      }(std::make_index_sequence<P.nodes[I].param_count>{});
      a.scratch = scratch_base + Bn * (Training ? P.scratch_offset[I] : P.infer_scratch_offset[I]);
      a.training = Training;
      a.seed = (noise_seed_ + I) * 0x9e3779b97f4a7c15ull;
      Graph::template node_at<I>::spec::template forward<Bn>(a);
    }
  }

  template <std::size_t I>
  void backward_node() {
    constexpr const node_info& info = P.nodes[I];
    constexpr unsigned mode = P.grad_mask[I];
    (void)info;
    if constexpr (P.needs_grad[I]) {
      backward_args<T> a;
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((a.in[K] = value_of<true, B, P.nodes[I].input[K]>(values())), ...);
        ((a.din[K] = (mode & grad_mode::input(K)) ? grad_ws() + B * P.grad_offset[P.nodes[I].input[K]] : nullptr), ...);
      }(std::make_index_sequence<P.nodes[I].arity>{});
      a.out = values() + B * P.value_offset[I];
      a.dout = grad_ws() + B * P.grad_offset[I];
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        ((a.param[J] = param_ptr<I, J>()), ...);
        ((a.dparam[J] = P.nodes[I].params[J].trainable ? grads_.data() + P.param_offset[I][J] : nullptr), ...);
      }(std::make_index_sequence<P.nodes[I].param_count>{});
      a.scratch = scratch() + B * P.scratch_offset[I];
      a.temp = temp();
      Graph::template node_at<I>::spec::template backward<B, mode>(a);
    }
  }

  // Labels are converted to T into their workspace slot; inputs are not copied.
  template <bool Training, std::size_t Bn, std::size_t S, class D>
  void bind_leaf(T* base, const D* data) {
    constexpr std::size_t id = Graph::leaf_ids.first[S];
    if constexpr (P.nodes[id].role == node_role::input) {
      static_assert(std::is_same_v<std::remove_cv_t<D>, T>,
                    "ctnn::model: an input is read in place and must have the model's scalar type");
      leaf_data_[S] = data;
    } else if constexpr (Training) {
      T* dst = base + Bn * P.value_offset[id];
      for (std::size_t b = 0; b < Bn; ++b) dst[b] = T(data[b]);
    }
  }

  template <bool Training, std::size_t Bn, class... D>
  void run_forward(T* base, T* scratch_base, const D*... data) {
    static_assert(sizeof...(D) == Graph::leaf_count || (!Training && sizeof...(D) <= Graph::leaf_count),
                  "ctnn::model: pass one pointer per input and label, in the network's leaf order");
    [&]<std::size_t... S>(std::index_sequence<S...>) {
      (bind_leaf<Training, Bn, S>(base, data), ...);
    }(std::index_sequence_for<D...>{});
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      // A braced list, not a fold: clang caps folds at 256 operands.
      [[maybe_unused]] int in_order[] = {0, (forward_node<Training, Bn, I>(base, scratch_base), 0)...};
    }(std::make_index_sequence<node_count>{});
  }

 public:
  /// Parameters initialized by name as each declares (by default He-normal
  /// weights, zero biases), each from a generator seeded with `seed` and the
  /// parameter's name, so the result does not depend on the order of the layers.
  explicit model(std::uint64_t seed = 0)
      : params_(P.params.floats),
        grads_(P.params.floats),
        state_(P.params.state_floats),
        train_(Graph::template training_workspace<B>),
        infer_(Graph::template inference_workspace<B>),
        infer1_(Graph::template inference_workspace<1>) {
    initialize(seed);
  }

  /// Sets every parameter and state tensor to its declared initial values
  /// (ctnn/train/initialize.hpp); the same seed gives the same values.
  void initialize(std::uint64_t seed) {
    for (std::size_t i = 0; i < node_count; ++i)
      for (std::size_t j = 0; j < P.nodes[i].param_count; ++j) {
        const param_decl& d = P.nodes[i].params[j];
        initialize_parameter((d.trainable ? params_.data() : state_.data()) + P.param_offset[i][j], d, seed);
      }
  }

  /// Forward over a batch of B: one pointer per leaf (inputs as T, labels as
  /// any arithmetic type). Returns the loss: the sum over loss roots of the
  /// batch mean.
  template <class... D>
  T forward(const D*... data) {
    run_forward<true, B>(values(), scratch(), data...);
    T loss = 0;
    for (std::size_t r : Graph::loss_ids) {
      T root = 0;
      for (std::size_t b = 0; b < B; ++b) root += values()[B * P.value_offset[r] + b];
      loss += P.nodes[r].batch_sum ? root : root / T(B);
    }
    return loss;
  }

  /// Draws new dropout masks for the next forward (the trainer does this every
  /// step; repeated forwards without it see the same masks, as a gradient
  /// check needs).
  void advance_noise() { ++noise_seed_; }

  /// Backward after forward: fills the parameter gradients.
  void backward() {
    for (std::size_t r : Graph::loss_ids)
      if (P.needs_grad[r])
        for (std::size_t b = 0; b < B; ++b) grad_ws()[B * P.grad_offset[r] + b] = loss_seed(r);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      [[maybe_unused]] int in_order[] = {0, (backward_node<node_count - 1 - I>(), 0)...};
    }(std::make_index_sequence<node_count>{});
  }

  /// forward + backward; returns the loss.
  template <class... D>
  T forward_backward(const D*... data) {
    const T loss = forward(data...);
    backward();
    return loss;
  }

  /// Where forward_backward(data...) first meets a NaN or an infinity: the
  /// parameters and state, then the leaves as given, then each node's output
  /// in the forward order and each gradient in the backward order, checked
  /// right after the node wrote it (the planner reuses workspace slots, so
  /// they cannot be read afterwards). A diagnostic for a step that went
  /// wrong: it repeats the pass (same dropout masks; batch statistics update
  /// the running ones again, so restore state() if they matter).
  template <class... D>
  non_finite_origin locate_non_finite(const D*... data) {
    non_finite_origin o;
    // Parameters and running statistics, before anything runs.
    for (std::size_t i = 0; i < node_count && !o.found(); ++i)
      for (std::size_t j = 0; j < P.nodes[i].param_count && !o.found(); ++j) {
        const param_decl& d = P.nodes[i].params[j];
        const T* p = (d.trainable ? params_.data() : state_.data()) + P.param_offset[i][j];
        if (const std::size_t k = kernels::first_non_finite(p, d.shape.size()); k < d.shape.size())
          o = at(non_finite_origin::place::parameter, i, d.name, p, k, d.shape.size(), false);
      }
    if (o.found()) return o;
    [&]<std::size_t... S>(std::index_sequence<S...>) {
      (bind_leaf<true, B, S>(values(), data), ...);
      [[maybe_unused]] int in_order[] = {0, (o.found() ? 0 : (check_leaf<S>(o), 0))...};
    }(std::index_sequence_for<D...>{});
    if (o.found()) return o;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      [[maybe_unused]] int in_order[] = {
          0, (o.found() ? 0 : (forward_node<true, B, I>(values(), scratch()), check_output<I>(o), 0))...};
    }(std::make_index_sequence<node_count>{});
    if (o.found()) return o;
    for (std::size_t r : Graph::loss_ids)
      if (P.needs_grad[r])
        for (std::size_t b = 0; b < B; ++b) grad_ws()[B * P.grad_offset[r] + b] = loss_seed(r);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      [[maybe_unused]] int in_order[] = {
          0, (o.found() ? 0 : (backward_node<node_count - 1 - I>(), check_gradients<node_count - 1 - I>(o), 0))...};
    }(std::make_index_sequence<node_count>{});
    return o;
  }

  /// Inference over a batch of B inputs (labels are not needed). Returns
  /// output K (default the first) as B × size values.
  template <std::size_t K = 0, class... D>
  std::span<const T> predict(const D*... inputs) {
    run_forward<false, B>(infer_.data(), infer_.data(), inputs...);
    constexpr std::size_t id = Graph::output_ids[K];
    return {infer_.data() + B * P.infer_offset[id], B * P.nodes[id].out.size()};
  }

  /// Inference for one sample.
  template <std::size_t K = 0, class... D>
  std::span<const T> predict_one(const D*... inputs) {
    run_forward<false, 1>(infer1_.data(), infer1_.data(), inputs...);
    constexpr std::size_t id = Graph::output_ids[K];
    return {infer1_.data() + P.infer_offset[id], P.nodes[id].out.size()};
  }

  /// Value of node `id` after the last training forward, B × size values.
  std::span<const T> value(std::size_t id) {
    return {values() + B * P.value_offset[id], B * P.nodes[id].out.size()};
  }

  /// A parameter, or its gradient, by name, as an xtensor view of its shape.
  template <fixed_string Name>
  auto param() {
    return view_of<Name>(detail::param_lookup<Graph, Name>::where.trainable ? params_.data() : state_.data());
  }
  template <fixed_string Name>
  auto grad() {
    static_assert(detail::param_lookup<Graph, Name>::where.trainable,
                  "ctnn::model::grad: this parameter is not trainable and has no gradient");
    return view_of<Name>(grads_.data());
  }

  /// The flat buffers (with alignment padding, which always stays zero).
  std::span<T> parameters() { return params_.span(); }
  std::span<T> gradients() { return grads_.span(); }
  std::span<const T> parameters() const { return params_.span(); }

  /// Looks a parameter up by run-time name; throws std::out_of_range naming it.
  std::span<T> param_span(std::string_view name) { return span_of(name, false); }
  std::span<T> grad_span(std::string_view name) { return span_of(name, true); }
  /// The non-trainable state (running statistics).
  std::span<T> state() { return state_.span(); }

 private:
  // The origin record for the first non-finite element of p[0..n) (k is its
  // index); batched values give the sample and the element within it.
  static non_finite_origin at(non_finite_origin::place where, std::size_t node, std::string_view tensor, const T* p,
                              std::size_t k, std::size_t n, bool batched) {
    non_finite_origin o;
    o.where = where;
    o.node = node;
    o.kind = P.nodes[node].kind;
    o.name = P.nodes[node].name;
    o.tensor = tensor;
    o.sample = batched ? k / (n / B) : 0;
    o.element = batched ? k % (n / B) : k;
    o.value = double(p[k]);
    return o;
  }
  template <std::size_t S>
  void check_leaf(non_finite_origin& o) {
    constexpr std::size_t id = Graph::leaf_ids.first[S];
    constexpr std::size_t n = B * P.nodes[id].out.size();
    const T* p = P.nodes[id].role == node_role::input ? leaf_data_[S] : values() + B * P.value_offset[id];
    if (const std::size_t k = kernels::first_non_finite(p, n); k < n)
      o = at(non_finite_origin::place::input, id, P.nodes[id].name, p, k, n, true);
  }
  template <std::size_t I>
  void check_output(non_finite_origin& o) {
    constexpr bool is_leaf = P.nodes[I].role == node_role::input || P.nodes[I].role == node_role::label;
    if constexpr (!is_leaf) {
      constexpr std::size_t n = B * P.nodes[I].out.size();
      const T* p = values() + B * P.value_offset[I];
      if (const std::size_t k = kernels::first_non_finite(p, n); k < n)
        o = at(non_finite_origin::place::output, I, {}, p, k, n, true);
    }
  }
  template <std::size_t I>
  void check_gradients(non_finite_origin& o) {
    constexpr unsigned mode = P.grad_mask[I];
    if constexpr (P.needs_grad[I]) {
      for (std::size_t k = 0; k < P.nodes[I].arity && !o.found(); ++k) {
        if (!(mode & grad_mode::input(k))) continue;
        const std::size_t in = P.nodes[I].input[k], n = B * P.nodes[in].out.size();
        const T* p = grad_ws() + B * P.grad_offset[in];
        if (const std::size_t e = kernels::first_non_finite(p, n); e < n)
          o = at(non_finite_origin::place::input_gradient, I, P.nodes[in].name.empty() ? P.nodes[in].kind : P.nodes[in].name,
                 p, e, n, true);
      }
      for (std::size_t j = 0; j < P.nodes[I].param_count && !o.found(); ++j) {
        const param_decl& d = P.nodes[I].params[j];
        if (!d.trainable) continue;
        const T* p = grads_.data() + P.param_offset[I][j];
        if (const std::size_t e = kernels::first_non_finite(p, d.shape.size()); e < d.shape.size())
          o = at(non_finite_origin::place::param_gradient, I, d.name, p, e, d.shape.size(), false);
      }
    }
  }

  template <fixed_string Name>
  auto view_of(T* base) {
    constexpr param_location where = detail::param_lookup<Graph, Name>::where;
    std::array<std::size_t, where.shape.rank> dims{};
    for (std::size_t i = 0; i < where.shape.rank; ++i) dims[i] = where.shape.dims[i];
    return xt::adapt(base + where.offset, where.shape.size(), xt::no_ownership(), dims);
  }
  std::span<T> span_of(std::string_view name, bool gradient) {
    for (std::size_t i = 0; i < node_count; ++i)
      for (std::size_t j = 0; j < P.nodes[i].param_count; ++j) {
        const param_decl& d = P.nodes[i].params[j];
        if (d.name != name) continue;
        if (gradient && !d.trainable)
          throw std::out_of_range("ctnn::model: '" + std::string(name) + "' is not trainable and has no gradient");
        T* base = gradient ? grads_.data() : d.trainable ? params_.data() : state_.data();
        return {base + P.param_offset[i][j], d.shape.size()};
      }
    throw std::out_of_range("ctnn::model: no parameter named '" + std::string(name) + "'");
  }
};

}  // namespace ctnn
