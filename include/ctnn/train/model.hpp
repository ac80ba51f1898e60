/// @file model.hpp
/// A network's parameters and workspaces for batch size B, and the generated
/// forward and backward passes. Everything is allocated in the constructor;
/// forward, backward and predict make no heap allocation.
#pragma once

#include <algorithm>
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

#include "ctnn/core/aligned_buffer.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/tensor_view.hpp"
#include "ctnn/graph/feed.hpp"
#include "ctnn/graph/dense_chain.hpp"
#include "ctnn/graph/feed_check.hpp"
#include "ctnn/graph/network.hpp"
#include "ctnn/kernels/finite.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/parameter_layout.hpp"
#include "ctnn/kernels/step_team.hpp"
#include "ctnn/train/initialize.hpp"
#include "ctnn/train/non_finite.hpp"

namespace ctnn {

/// The batch size, as a type: `trainer<Net, batch<64>>`.
template <std::size_t B>
struct batch {
  static_assert(B > 0, "ctnn::batch: the batch size must be positive");
  static constexpr std::size_t size = B;
};

/// `ctnn::model<...> m(ctnn::uninitialized)`: parameters and state left at
/// zero instead of drawn, for values loaded right after.
struct uninitialized_t {
  explicit uninitialized_t() = default;
};
inline constexpr uninitialized_t uninitialized{};

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
// The distinct parameter names of a network, for the diagnostic that lists them.
template <class Graph>
inline constexpr auto param_name_table = [] {
  constexpr std::size_t cap = [] {
    std::size_t n = 0;
    for (std::size_t i = 0; i < Graph::node_count; ++i) n += Graph::infos[i].param_count;
    return n;
  }();
  std::array<std::string_view, cap + 1> names{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < Graph::node_count; ++i)
    for (std::size_t j = 0; j < Graph::infos[i].param_count; ++j) {
      const std::string_view name = Graph::infos[i].params[j].name;
      if (std::find(names.begin(), names.begin() + n, name) == names.begin() + n) names[n++] = name;
    }
  return std::pair{names, n};
}();

template <class Graph, class Seq = std::make_index_sequence<param_name_table<Graph>.second>>
struct param_names_of;
template <class Graph, std::size_t... K>
struct param_names_of<Graph, std::index_sequence<K...>> {
  using type =
      diagnostic::names<fixed_from<param_name_table<Graph>.first[K].size()>(param_name_table<Graph>.first[K])...>;
};

template <class Graph, fixed_string Name>
constexpr param_location checked_param() {
  constexpr param_location where = find_param<Graph>(Name.view());
  if constexpr (!where.found) static_assert(diagnostic::check<diagnostic::no_parameter_named<Name, typename param_names_of<Graph>::type>>);
  return where;
}

// Column Column of `at`: where plan G keeps each node's gradient (none: not computed).
template <const auto& G, std::size_t Column, class A>
constexpr void record_gradient_offsets(A& at) {
  for (std::size_t i = 0; i < at.size(); ++i) at[i][Column] = G.needs_grad[i] ? G.grad_offset[i] : none;
}

template <class Graph, fixed_string Name>
struct param_lookup {
  static constexpr param_location where = checked_param<Graph, Name>();
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
  std::size_t last_backward_ = none;  // 0: backward(); K + 1: backward_from<K>; none: neither yet
  bool watched_alone_ = false;        // in forward_backward_then's one-region pass, on this thread alone
  aligned_buffer<T> zero_grad_;       // what input_grad returns for an input the last pass did not reach
  std::size_t team_temp_copies_ = 0;
  aligned_buffer<T> team_temp_;  // team_temp_copies_ copies of B · team_temp_elems (backward_args::team_temp)

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
  T* temp() { return grad_ws() + B * grad_elems; }

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

  template <bool Training, std::size_t Bn, std::size_t Output, std::size_t I>
  void forward_node(T* base, T* scratch_base) {
    constexpr const node_info& info = P.nodes[I];
    constexpr bool is_leaf = info.role == node_role::input || info.role == node_role::label;
    if constexpr (!is_leaf && (Training || P.in_inference[I]) && detail::nodes_read<Graph, Output>[I]) {
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
      using spec = typename Graph::template node_at<I>::spec;
      // Only a training pass of a one-region graph runs on a team.
      if constexpr (!Training || !pass_is_one_region || team_use_of<spec, Bn> == team_use::shares ||
                    team_use_of<spec, Bn> == team_use::joins)
        spec::template forward<Bn>(a);
      else
        kernels::on_one_thread([&] { spec::template forward<Bn>(a); });
    }
  }

  // Backward of node I under plan G (the loss plan P, or a vjp_plan).
  template <const auto& G, std::size_t I>
  void backward_node() {
    constexpr unsigned mode = G.grad_mask[I];
    constexpr bool is_leaf = G.nodes[I].role == node_role::input || G.nodes[I].role == node_role::label;
    if constexpr (G.needs_grad[I] && !is_leaf) {
      backward_args<T> a;
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((a.in[K] = value_of<true, B, G.nodes[I].input[K]>(values())), ...);
        ((a.din[K] = grad_mode::wants_input(mode, K) ? grad_ws() + B * G.grad_offset[G.nodes[I].input[K]] : nullptr), ...);
      }(std::make_index_sequence<G.nodes[I].arity>{});
      a.out = values() + B * G.value_offset[I];
      a.dout = grad_ws() + B * G.grad_offset[I];
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        ((a.param[J] = param_ptr<I, J>()), ...);
        ((a.dparam[J] = G.nodes[I].params[J].trainable ? grads_.data() + G.param_offset[I][J] : nullptr), ...);
      }(std::make_index_sequence<G.nodes[I].param_count>{});
      a.scratch = scratch() + B * G.scratch_offset[I];
      a.temp = temp();
      if constexpr (team_temp_elems > 0) {
        a.team_temp = team_temp_.data();
        a.team_temp_stride = B * team_temp_elems;
        a.team_temp_copies = team_temp_copies_;
      }
      using spec = typename Graph::template node_at<I>::spec;
      // Only the first node's backward reads nothing but values and the
      // seeds, and writes no slot another thread may still read: a later
      // node's split over the samples waits for the team.
      if constexpr (pass_is_one_region && I != first_backward_node<G>) kernels::end_sample_run();
      if constexpr (!pass_is_one_region || team_use_of<spec, B> == team_use::shares ||
                    team_use_of<spec, B> == team_use::joins)
        spec::template backward<B, mode>(a);
      else
        kernels::on_one_thread([&] { spec::template backward<B, mode>(a); });
    }
  }

  // The batch loss after a training forward: each loss root's sum, or mean, over the batch.
  T training_loss() {
    T loss = 0;
    for (std::size_t r : Graph::loss_ids) {
      T root = 0;
      for (std::size_t b = 0; b < B; ++b) root += values()[B * P.value_offset[r] + b];
      loss += P.nodes[r].batch_sum ? root : root / T(B);
    }
    return loss;
  }
  // Each thread of a step's team seeds its samples, as the loss's
  // backward then reads them.
  void seed_loss_gradients() {
    kernels::on_samples(B, kernels::sample_block<T>, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t r : Graph::loss_ids)
        if (P.needs_grad[r])
          for (std::size_t b = b0; b < b1; ++b) grad_ws()[B * P.grad_offset[r] + b] = loss_seed(r);
    });
  }

  // The node whose backward runs first under plan G.
  template <const auto& G>
  static constexpr std::size_t first_backward_node = [] {
    for (std::size_t i = node_count; i-- > 0;)
      if (G.needs_grad[i] && G.nodes[i].role != node_role::input && G.nodes[i].role != node_role::label) return i;
    return none;
  }();

  // How node I's op runs on a team at batch B; leaves run nothing.
  template <std::size_t I>
  static constexpr team_use node_team_use() {
    if constexpr (P.nodes[I].role == node_role::input || P.nodes[I].role == node_role::label) return team_use::serial;
    else return team_use_of<typename Graph::template node_at<I>::spec, B>;
  }
  // Whether forward_backward runs as one region on a team: no op opens its
  // own, and at least one shares the team (the others run on one thread).
  static constexpr bool pass_is_one_region = []<std::size_t... I>(std::index_sequence<I...>) {
    const team_use uses[] = {team_use::serial, node_team_use<I>()...};
    bool shared = false;
    for (team_use u : uses) {
      if (u == team_use::opens_own) return false;
      shared = shared || u == team_use::shares;
    }
    return shared;
  }(std::make_index_sequence<node_count>{});

  template <const auto& G>
  void run_backward() {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      [[maybe_unused]] int in_order[] = {0, (backward_node<G, node_count - 1 - I>(), 0)...};
    }(std::make_index_sequence<node_count>{});
  }

  // Gradient elements per sample: the loss plan's, or a backward_from plan's if larger.
  static constexpr std::size_t grad_elems = [] {
    std::size_t n = P.grad_elems;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((n = std::max(n, Graph::template vjp_plan<K>.grad_elems)), ...);
    }(std::make_index_sequence<Graph::output_count>{});
    return n;
  }();
  static constexpr std::size_t training_elems = B * (P.value_elems + P.scratch_elems + grad_elems + P.temp_elems);

  template <std::size_t I>
  static constexpr std::size_t node_team_temp() {
    if constexpr (!pass_is_one_region || node_team_use<I>() != team_use::shares) return 0;  // leaves are serial
    else if constexpr (requires { Graph::template node_at<I>::spec::team_temp_size; })
      return Graph::template node_at<I>::spec::team_temp_size;
    else return 0;
  }
 public:
  /// Per sample, the largest team_temp_size of the ops that share a step's
  /// team (only they are given one), rounded up to whole cache lines.
  static constexpr std::size_t team_temp_elems = []<std::size_t... I>(std::index_sequence<I...>) {
    return align_up(std::max({std::size_t(0), node_team_temp<I>()...}));
  }(std::make_index_sequence<node_count>{});
  // Copies for at most this many threads: a larger team takes the ops'
  // shared path, so a many-core machine does not hold one per core.
  static constexpr std::size_t team_temp_copies_max = 16;

 private:
  static std::size_t team_temp_copies_for_now() {
    if constexpr (team_temp_elems == 0) return 0;
    else return std::min(team_temp_copies_max, std::size_t(std::max(1, kernels::team_threads())));
  }

  // Where each input's gradient is after the loss plan (0) or backward_from<K> (K + 1); none: not computed.
  static constexpr auto input_grad_offsets = [] {
    std::array<std::array<std::size_t, Graph::output_count + 1>, node_count> at{};
    detail::record_gradient_offsets<Graph::plan, 0>(at);
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((detail::record_gradient_offsets<Graph::template vjp_plan<K>, K + 1>(at)), ...);
    }(std::make_index_sequence<Graph::output_count>{});
    return at;
  }();

  // Labels are converted to T into their workspace slot; inputs are read in
  // place. A leaf the call does not read is unbound, so a pointer from an
  // earlier call is never read again.
  template <bool Training, std::size_t Bn, std::size_t S, std::size_t K, class... F>
  void bind_leaf(T* base, const F&... feeds) {
    constexpr std::size_t id = Graph::leaf_ids.first[S];
    if constexpr (K == none) {
      if constexpr (P.nodes[id].role == node_role::input) leaf_data_[S] = nullptr;
    } else {
      const auto& f = detail::nth_feed<K>(feeds...);
      detail::check_feed_size(f, Bn, P.nodes[id].out.size(), Training ? "ctnn::model::forward" : "ctnn::model::predict");
      if constexpr (P.nodes[id].role == node_role::input) {
        leaf_data_[S] = f.data;
      } else if constexpr (Training) {
        T* dst = base + Bn * P.value_offset[id];
        constexpr std::size_t n = P.nodes[id].out.size();  // 1, or a sequence label's steps
        constexpr std::size_t classes = Graph::template node_at<id>::op::classes;
        for (std::size_t k = 0; k < Bn * n; ++k) {
          dst[k] = T(f.data[k]);
          // A class index outside [0, classes) would make the loss read past its scores.
          if (!(dst[k] >= T(0) && dst[k] < T(classes)) || dst[k] != T(std::size_t(dst[k])))
            throw std::out_of_range("ctnn::model: label '" + std::string(P.nodes[id].name) + "' of sample " +
                                    std::to_string(k / n) + (n > 1 ? ", step " + std::to_string(k % n) : "") +
                                    " is " + std::to_string(double(f.data[k])) + ", not a class in [0, " +
                                    std::to_string(classes) + ")");
        }
      }
    }
  }

  template <bool Training, std::size_t Bn, std::size_t Output, class... F>
  void bind_feeds(T* base, const F&... feeds) {
    using match = detail::feed_match<Graph, F...>;
    [&]<std::size_t... S>(std::index_sequence<S...>) {
      (bind_leaf<Training, Bn, S, match::feed_of[S]>(base, feeds...), ...);
    }(std::make_index_sequence<Graph::leaf_count>{});
  }

  // Output: none for training (every node), or the index of the output predict computes.
  template <bool Training, std::size_t Bn, std::size_t Output, class... F>
  void run_forward(T* base, T* scratch_base, const F&... feeds) {
    bind_feeds<Training, Bn, Output>(base, feeds...);
    run_nodes<Training, Bn, Output>(base, scratch_base);
  }
  template <bool Training, std::size_t Bn, std::size_t Output>
  void run_nodes(T* base, T* scratch_base) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      // A braced list, not a fold: clang caps folds at 256 operands.
      [[maybe_unused]] int in_order[] = {0, (forward_node<Training, Bn, Output, I>(base, scratch_base), 0)...};
    }(std::make_index_sequence<node_count>{});
  }

  // Whether a call may bind these feeds; if not, the call generates only the
  // CTNN_FEED_* diagnostic that says why (one mistake, one error).
  template <std::size_t Output, std::size_t Bn, class... F>
  static constexpr bool feeds_fit = detail::first_feed_problem<Graph, T, Output, Bn, F...>() == detail::feed_problem::none;
  template <std::size_t Output, std::size_t Bn, class... F>
  static constexpr void reject_feeds() {
    detail::report_feed_problem<Graph, T, Output, Bn, F...>();
  }

 public:
  /// Parameters initialized by name as each declares (by default He-normal
  /// weights, zero biases), each from a generator seeded with `seed` and the
  /// parameter's name, so the result does not depend on the order of the layers.
  explicit model(std::uint64_t seed = 0) : model(uninitialized) { initialize(seed); }

  /// Every parameter and state tensor zero, for a model whose values are
  /// all loaded next (a checkpoint, embedded weights): drawing initial values
  /// that the load overwrites costs most of such a program's start-up.
  explicit model(uninitialized_t)
      : params_(P.params.floats),
        grads_(P.params.floats),
        state_(P.params.state_floats),
        train_(training_elems),
        infer_(Graph::template inference_workspace<B>),
        infer1_(Graph::template inference_workspace<1>),
        zero_grad_(largest_input_gradient()),
        team_temp_copies_(team_temp_copies_for_now()),
        team_temp_(B * team_temp_elems * team_temp_copies_) {}

  /// Sets every parameter and state tensor to its declared initial values
  /// (ctnn/train/initialize.hpp); the same seed gives the same values.
  void initialize(std::uint64_t seed) {
    for (std::size_t i = 0; i < node_count; ++i)
      for (std::size_t j = 0; j < P.nodes[i].param_count; ++j) {
        const param_decl& d = P.nodes[i].params[j];
        initialize_parameter((d.trainable ? params_.data() : state_.data()) + P.param_offset[i][j], d, seed);
      }
  }

  /// Forward over a batch of B: every input and label, by name, in any order:
  /// `forward(feed<"image">(x), feed<"class">(y))` (ctnn/graph/feed.hpp).
  /// Inputs are T and read in place; labels any arithmetic type. Returns the
  /// loss: the sum over the loss roots of the batch mean (or sum).
  template <class... F>
  T forward(const F&... feeds) {
    if constexpr (!feeds_fit<none, B, F...>) {
      reject_feeds<none, B, F...>();
      return T(0);
    } else {
      run_forward<true, B, none>(values(), scratch(), feeds...);
      return training_loss();
    }
  }

  /// Draws new dropout masks for the next forward (the trainer does this every
  /// step; repeated forwards without it see the same masks, as a gradient
  /// check needs).
  void advance_noise() { ++noise_seed_; }
  /// Where the dropout masks are in their sequence (0 at construction, +1 per
  /// advance_noise()): a trainer checkpoint saves it so that a resumed run
  /// draws the masks the uninterrupted one would have.
  std::uint64_t noise_seed() const { return noise_seed_; }
  void set_noise_seed(std::uint64_t s) { noise_seed_ = s; }

  /// Backward after forward: fills the parameter gradients (and those of
  /// the inputs declared with requires_grad).
  void backward() {
    seed_loss_gradients();
    run_backward<Graph::plan>();
    last_backward_ = 0;
  }

  /// A backward pass from output K after forward(), with the caller's
  /// upstream gradient dL/d(output), B × size values, in place of the
  /// losses: a vector-Jacobian product. Fills the parameter gradients
  /// (zero for parameters the output does not depend on) and the gradients
  /// of inputs declared with requires_grad; updates nothing. Throws
  /// std::invalid_argument if `upstream` has the wrong length.
  template <std::size_t K>
  void backward_from(std::span<const T> upstream) {
    static_assert(K < Graph::output_count, "ctnn::model::backward_from: the output index is past the network's outputs");
    constexpr const auto& V = Graph::template vjp_plan<K>;
    constexpr std::size_t id = Graph::output_ids[K];
    constexpr std::size_t n = B * P.nodes[id].out.size();
    if (upstream.size() != n)
      throw std::invalid_argument("ctnn::model::backward_from: the upstream gradient of output " + std::to_string(K) +
                                  " holds " + std::to_string(upstream.size()) + " values; a batch needs " +
                                  std::to_string(n));
    constexpr bool every_param_reached = [] {
      for (std::size_t i = 0; i < node_count; ++i)
        for (std::size_t j = 0; j < V.nodes[i].param_count; ++j)
          if (V.nodes[i].params[j].trainable && !V.needs_grad[i]) return false;
      return true;
    }();
    if constexpr (!every_param_reached) std::fill(grads_.data(), grads_.data() + grads_.size(), T(0));
    if constexpr (V.needs_grad[id]) std::copy(upstream.begin(), upstream.end(), grad_ws() + B * V.grad_offset[id]);
    run_backward<V>();
    last_backward_ = K + 1;
  }
  /// The same, for the output of that name (as predict<"name">).
  template <fixed_string Name>
  void backward_from(std::span<const T> upstream) {
    constexpr std::size_t k = detail::checked_output_index<Graph, Name>();
    if constexpr (k != none) backward_from<k>(upstream);
  }

  /// The gradient with respect to input Name (declared
  /// input<Name, shape, requires_grad>) after the last backward() or
  /// backward_from(): B × size values, zero where that pass does not reach
  /// the input. Valid until the next forward.
  template <fixed_string Name>
  std::span<const T> input_grad() {
    constexpr std::size_t id = [] {
      for (std::size_t l = 0; l < Graph::leaf_count; ++l) {
        const node_info& n = P.nodes[Graph::leaf_ids.first[l]];
        if (n.name == Name.view() && n.input_gradient) return Graph::leaf_ids.first[l];
      }
      return none;
    }();
    if constexpr (id == none) {
      static_assert(diagnostic::check<diagnostic::input_gradient_not_requested<Name>>);
      return {};
    } else {
      constexpr std::size_t n = B * P.nodes[id].out.size();
      const std::size_t at = last_backward_ == none ? none : input_grad_offsets[id][last_backward_];
      if (at == none) return {zero_grad_.data(), n};
      return {grad_ws() + B * at, n};
    }
  }

  // Whether node I's backward watches its weight's gradient (finite_watch);
  // a leaf's spec says no (spec_defaults), and so does a spec that is silent.
  template <std::size_t I>
  static constexpr bool node_watches_weight_gradient() {
    if constexpr (requires { Graph::template node_at<I>::spec::watches_weight_gradient; })
      return Graph::template node_at<I>::spec::watches_weight_gradient;
    else return false;
  }
  static constexpr std::array<bool, node_count> watches_weight_gradient =
      []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<bool, node_count>{node_watches_weight_gradient<I>()...};
      }(std::make_index_sequence<node_count>{});

  /// The flat parameter buffer as a step's team sweeps it (the gradient
  /// check and the update): one stretch per trainable tensor, in order; a
  /// weight by the blocks of rows its gradient Aᵀ·G splits into on a team
  /// (a dense layer's, in a pass that is one region), when it has two blocks
  /// at least (kernels/parameter_layout.hpp).
  static constexpr auto parameter_stretches = [] {
    std::array<kernels::parameter_stretch, node_count * max_params> s{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < node_count; ++i)
      for (std::size_t j = 0; j < P.nodes[i].param_count; ++j) {
        const param_decl& d = P.nodes[i].params[j];
        if (!d.trainable) continue;
        const std::size_t at = P.param_offset[i][j], size = d.shape.size();
        const std::size_t rows = d.shape.rank >= 2 ? d.shape.dims[0] : 0;
        const bool by_rows = rows >= 2 * kernels::gradient_row_block<T>;
        // Watched only where the step's backward writes it: a layer no loss
        // depends on leaves its gradient as it was, and the check must read it.
        const bool watched = j == 0 && watches_weight_gradient[i] && P.needs_grad[i] &&
                             !grad_mode::adds_to_param(P.grad_mask[i], 0);
        s[n++] = {at, at + align_up(size), by_rows ? rows : 0, by_rows ? size / rows : 0, watched};
      }
    // In buffer order, each tensor once (a tied one's uses share its offset):
    // sorted, not searched, so a graph of hundreds of layers stays cheap to compile.
    std::sort(s.begin(), s.begin() + n, [](const auto& a, const auto& b) { return a.begin < b.begin; });
    // A tied tensor's gradient is the sum of its uses': no product writes it whole.
    for (std::size_t k = 0; k + 1 < n; ++k)
      if (s[k].begin == s[k + 1].begin) s[k].watched = s[k + 1].watched = false;
    const std::size_t unique =
        std::size_t(std::unique(s.begin(), s.begin() + n, [](const auto& a, const auto& b) { return a.begin == b.begin; }) -
                    s.begin());
    return std::pair{s, unique};
  }();
  static constexpr kernels::parameter_layout team_parameter_layout{
      std::span(parameter_stretches.first.data(), parameter_stretches.second), P.params.floats,
      kernels::gradient_row_block<T>};

  /// Whether forward_backward runs in one OpenMP region on a team of
  /// threads: no op opens a region of its own (team_use), and one at least
  /// shares the team (a dense layer over more than three rows).
  static constexpr bool one_region_pass = pass_is_one_region;

  /// forward + backward; returns the loss.
  template <class... F>
  T forward_backward(const F&... feeds) {
    return forward_backward_then([](const T&) {}, feeds...);
  }

  /// forward + backward, then next(loss), and returns the loss. On a team
  /// of threads, a graph whose ops all share it (team_use) runs all three in
  /// one OpenMP region: every thread calls next, and the kernels it calls
  /// take their part of the team (the loss, written by thread 0, is visible
  /// to the others after next's first split).
  template <class Next, class... F>
  T forward_backward_then(Next&& next, const F&... feeds) {
    watched_alone_ = false;
    if constexpr (pass_is_one_region && feeds_fit<none, B, F...>) {
      bind_feeds<true, B, none>(values(), feeds...);
      T loss = 0;
      // On one thread every product runs here, so this thread's watch
      // covers every watched gradient (gradients_finite_in_pass).
      const int threads = kernels::team_threads();
      watched_alone_ = threads <= 1;
      kernels::run_on_team(threads, [&] {
        kernels::reset_gradient_watch<T>();
        run_nodes<true, B, none>(values(), scratch());
        // The forward's last splits over the samples go on into the seeds
        // and the loss's backward with no barrier; the loss is summed on
        // thread 0 once every thread's samples are done.
        seed_loss_gradients();
        run_backward<Graph::plan>();
        kernels::on_one_thread([&] { loss = training_loss(); });
        next(std::as_const(loss));
      }, &team_parameter_layout);
      watched_alone_ = false;
      last_backward_ = 0;
      return loss;
    } else {
      const T loss = forward(feeds...);
      backward();
      next(std::as_const(loss));
      return loss;
    }
  }

  /// In forward_backward_then's next: whether every parameter gradient is
  /// finite. In the one-region pass the gradients the products watched as
  /// they stored them (kernels::finite_watch) are not read again: on a team
  /// each thread checks its parts, on one thread the check reads only the
  /// stretches no product watched (the MLP's biases: 394 of 235,146 values).
  bool gradients_finite_in_pass() const {
    if (watched_alone_ && !kernels::active_team())
      return kernels::parts_finite(grads_.data(), team_parameter_layout, 0, 1);
    return kernels::all_finite_on_team(grads_.data(), Graph::param_buffer_size);
  }

  /// Where forward_backward(feeds...) first meets a NaN or an infinity: the
  /// parameters and state, then the leaves as given, then each node's output
  /// in the forward order and each gradient in the backward order, checked
  /// right after the node wrote it (the planner reuses workspace slots, so
  /// they cannot be read afterwards). A diagnostic for a step that went
  /// wrong: it repeats the pass (same dropout masks; batch statistics update
  /// the running ones again, so restore state() if they matter).
  template <class... F>
  non_finite_origin locate_non_finite(const F&... feeds) {
    non_finite_origin o;
    if constexpr (feeds_fit<none, B, F...>) locate_in_pass(o, feeds...);
    else reject_feeds<none, B, F...>();
    return o;
  }

 private:
  template <class... F>
  void locate_in_pass(non_finite_origin& o, const F&... feeds) {
    // Parameters and running statistics, before anything runs.
    for (std::size_t i = 0; i < node_count && !o.found(); ++i)
      for (std::size_t j = 0; j < P.nodes[i].param_count && !o.found(); ++j) {
        const param_decl& d = P.nodes[i].params[j];
        const T* p = (d.trainable ? params_.data() : state_.data()) + P.param_offset[i][j];
        if (const std::size_t k = kernels::first_non_finite(p, d.shape.size()); k < d.shape.size())
          o = at(non_finite_origin::place::parameter, i, d.name, p, k, d.shape.size(), false);
      }
    if (o.found()) return;
    bind_feeds<true, B, none>(values(), feeds...);
    [&]<std::size_t... S>(std::index_sequence<S...>) {
      [[maybe_unused]] int in_order[] = {0, (o.found() ? 0 : (check_leaf<S>(o), 0))...};
    }(std::make_index_sequence<Graph::leaf_count>{});
    if (o.found()) return;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      [[maybe_unused]] int in_order[] = {
          0, (o.found() ? 0 : (forward_node<true, B, none, I>(values(), scratch()), check_output<I>(o), 0))...};
    }(std::make_index_sequence<node_count>{});
    if (o.found()) return;
    for (std::size_t r : Graph::loss_ids)
      if (P.needs_grad[r])
        for (std::size_t b = 0; b < B; ++b) grad_ws()[B * P.grad_offset[r] + b] = loss_seed(r);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      [[maybe_unused]] int in_order[] = {
          0, (o.found() ? 0 : (backward_node<Graph::plan, node_count - 1 - I>(), check_gradients<node_count - 1 - I>(o), 0))...};
    }(std::make_index_sequence<node_count>{});
    return;
  }
 public:


  /// Inference over a batch of B: output K (by index in the network's
  /// outputs(...), default the first) as B × size values. Takes exactly the
  /// inputs that output depends on, by name: `predict(feed<"image">(x))`.
  template <std::size_t K = 0, class... F>
  std::span<const T> predict(const F&... feeds) {
    return infer<K, B>(infer_.data(), feeds...);
  }
  /// The output of that name (a node's name, or the kind of an unnamed one):
  /// `predict<"logits">(feed<"image">(x))`.
  template <fixed_string Name, class... F>
  std::span<const T> predict(const F&... feeds) {
    constexpr std::size_t k = detail::checked_output_index<Graph, Name>();
    if constexpr (k == none) return {};
    else return infer<k, B>(infer_.data(), feeds...);
  }

  /// Inference for one sample.
  template <std::size_t K = 0, class... F>
  std::span<const T> predict_one(const F&... feeds) {
    return infer<K, 1>(infer1_.data(), feeds...);
  }
  template <fixed_string Name, class... F>
  std::span<const T> predict_one(const F&... feeds) {
    constexpr std::size_t k = detail::checked_output_index<Graph, Name>();
    if constexpr (k == none) return {};
    else return infer<k, 1>(infer1_.data(), feeds...);
  }

  /// Value of node `id` after the last training forward, B × size values.
  std::span<const T> value(std::size_t id) {
    return {values() + B * P.value_offset[id], B * P.nodes[id].out.size()};
  }

  /// A parameter, or its gradient, by name, as a tensor_view of its shape
  /// (row-major, writable through a non-const model). <ctnn/xtensor.hpp>
  /// turns it into an xtensor expression.
  template <fixed_string Name>
  auto param() {
    return view_of<Name>(detail::param_lookup<Graph, Name>::where.trainable ? params_.data() : state_.data());
  }
  template <fixed_string Name>
  auto param() const {
    return view_of<Name>(detail::param_lookup<Graph, Name>::where.trainable ? params_.data() : state_.data());
  }
  template <fixed_string Name>
  auto grad() {
    static_assert(detail::param_lookup<Graph, Name>::where.trainable,
                  "ctnn::model::grad: this parameter is not trainable and has no gradient");
    return view_of<Name>(grads_.data());
  }
  template <fixed_string Name>
  auto grad() const {
    static_assert(detail::param_lookup<Graph, Name>::where.trainable,
                  "ctnn::model::grad: this parameter is not trainable and has no gradient");
    return view_of<Name>(grads_.data());
  }

  /// The state the recurrent layer `Name` ended with in the last training
  /// forward pass (step(), forward()): h into `h` and, for an LSTM, c into
  /// `c`, each B × directions × hidden values. Fed back as the layer's h0
  /// and c0 inputs, it carries a stream across chunks while the gradient
  /// stops at the chunk boundary (truncated backpropagation through time).
  template <fixed_string Name>
  void final_state(std::span<T> h, std::span<T> c = {}) {
    constexpr std::size_t id = [] {
      for (std::size_t i = 0; i < node_count; ++i)
        if (P.nodes[i].name == Name.view() &&
            (P.nodes[i].kind == "rnn" || P.nodes[i].kind == "lstm" || P.nodes[i].kind == "gru"))
          return i;
      return none;
    }();
    static_assert(diagnostic::check_unless<id != none, diagnostic::no_recurrent_layer_named<Name>>);
    if constexpr (id != none) {
      using spec = typename Graph::template node_at<id>::spec;
      constexpr std::size_t n = B * spec::state_width;
      if (h.size() != n || (spec::has_cell_state && c.size() != n) || (!spec::has_cell_state && !c.empty()))
        throw std::invalid_argument("ctnn::model::final_state<\"" + std::string(Name.view()) + "\">: give " +
                                    std::to_string(n) + " values for h" +
                                    (spec::has_cell_state ? " and for c" : " and no c (only an LSTM has one)") +
                                    ", not " + std::to_string(h.size()) + " and " + std::to_string(c.size()));
      spec::template final_state<B>(scratch() + B * P.scratch_offset[id], h.data(), c.data());
    }
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
  std::span<const T> state() const { return state_.span(); }

 private:
  static constexpr std::size_t largest_input_gradient() {
    std::size_t n = 0;
    for (std::size_t i = 0; i < node_count; ++i)
      if (P.nodes[i].input_gradient) n = std::max(n, B * P.nodes[i].out.size());
    return n;
  }

  // One sample through output K's dense chain in one kernel
  // (graph/dense_chain.hpp), into the output's inference slot.
  template <std::size_t K>
  void run_dense_chain(T* base) {
    using chain = detail::dense_chain_plan<Graph, K, T>;
    [&]<std::size_t... C>(std::index_sequence<C...>) {
      const T* const weights[] = {param_ptr<chain::ids[C], 0>()...};
      const T* const biases[] = {param_ptr<chain::ids[C], 1>()...};
      constexpr std::size_t input = P.nodes[chain::ids[0]].input[0];
      kernels::dense_chain_forward<
          T, kernels::chain_layer<P.nodes[P.nodes[chain::ids[C]].input[0]].out.size(), P.nodes[chain::ids[C]].out.size(),
                                  typename Graph::template node_at<chain::ids[C]>::op::activation>...>(
          leaf_data_[leaf_slot<input>], weights, biases, base + P.infer_offset[chain::ids[chain::length - 1]]);
    }(std::make_index_sequence<chain::length>{});
  }

  template <std::size_t K, std::size_t Bn, class... F>
  std::span<const T> infer(T* base, const F&... feeds) {
    static_assert(K < Graph::output_count, "ctnn::model::predict: the output index is past the network's outputs");
    if constexpr (!feeds_fit<K, Bn, F...>) {
      reject_feeds<K, Bn, F...>();
      return {};
    } else {
      if constexpr (Bn == 1 && detail::dense_chain_plan<Graph, K, T>::fusable) {
        bind_feeds<false, 1, K>(base, feeds...);
        run_dense_chain<K>(base);
      } else {
        run_forward<false, Bn, K>(base, base, feeds...);
      }
      constexpr std::size_t id = Graph::output_ids[K];
      return {base + Bn * P.infer_offset[id], Bn * P.nodes[id].out.size()};
    }
  }

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
        if (!grad_mode::wants_input(mode, k)) continue;
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

  template <fixed_string Name, class E>
  static auto view_of(E* base) {
    constexpr param_location where = detail::param_lookup<Graph, Name>::where;
    std::array<std::size_t, where.shape.rank> dims{};
    for (std::size_t i = 0; i < where.shape.rank; ++i) dims[i] = where.shape.dims[i];
    return tensor_view<E, where.shape.rank>(base + where.offset, dims);
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
