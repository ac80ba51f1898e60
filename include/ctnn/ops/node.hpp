/// @file node.hpp
/// What every op has in common: a graph node is an empty value whose type
/// records the op and its inputs, and a handle refers to a bound sub-graph.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/op.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/core/type_list.hpp"
#include "ctnn/ops/init.hpp"

namespace ctnn {

/// A parameter an op owns: its name (the key of the parameter table, shared
/// by every op that names it: tied weights) and its shape. A non-trainable
/// one (batch norm's running statistics) lives in a separate state buffer
/// that the optimizer never sees; the op updates it itself in training.
/// `regularize`: whether weight penalties and constraints (L2, L1, max-norm;
/// ctnn/train/regularization.hpp) apply to it: true for weights, false for
/// biases, batch norm's γ and β and running statistics.
/// `init`: how it starts (ctnn/ops/init.hpp), with `fan_in` and `fan_out`
/// for the schemes that scale by them.
struct param_decl {
  std::string_view name;
  shape_info shape;
  initializer init;
  std::size_t fan_in = 1, fan_out = 1;
  bool trainable = true;
  bool regularize = true;
};

/// What the graph gives an op's forward pass: input activations, its output
/// buffer, its parameters and a per-sample scratch area kept for backward.
template <class T>
struct forward_args {
  std::array<const T*, 4> in{};
  T* out = nullptr;
  std::array<T*, 4> param{};  // writable: non-trainable state is updated in training
  T* scratch = nullptr;
  bool training = false;      // batch statistics, dropout masks
  std::uint64_t seed = 0;     // per step and node: dropout's random stream
};

/// What the graph gives an op's backward pass. `din[k]` is null when input k
/// needs no gradient; whether to write or to add into it (fan-out, tied
/// weights) is a compile-time mask, see `grad_mode`.
template <class T>
struct backward_args {
  std::array<const T*, 4> in{};
  const T* out = nullptr;
  const T* dout = nullptr;
  std::array<T*, 4> din{};
  std::array<const T*, 4> param{};
  std::array<T*, 4> dparam{};
  const T* scratch = nullptr;
  T* temp = nullptr;  // temp_size floats per sample, valid during this call only
  // On a step's team, a copy of team_temp_size floats per sample for each
  // thread, `team_temp_stride` apart, valid during this call only: work
  // every thread needs whole (a dense layer's pre-activation gradient, read
  // by both its products) is computed by each into its own copy, so no
  // thread writes lines another one read (on cores on two dies each such
  // line costs about 7 ns to take back).
  T* team_temp = nullptr;
  std::size_t team_temp_stride = 0, team_temp_copies = 0;
  /// Thread t's copy on a team of nt, or null when there are fewer copies
  /// than threads (the team grew after the model was built).
  T* team_temp_of(std::size_t t, std::size_t nt) const {
    return nt <= team_temp_copies ? team_temp + t * team_temp_stride : nullptr;
  }
};

/// Bit layout of the compile-time mask passed to backward: for input k, bit k
/// says "compute its gradient" and bit 4+k "add to it rather than overwrite";
/// for parameter j, bits 8+j and 12+j say the same.
namespace grad_mode {
constexpr unsigned input(std::size_t k) { return 1u << k; }
constexpr unsigned input_accumulate(std::size_t k) { return 1u << (4 + k); }
constexpr unsigned param(std::size_t j) { return 1u << (8 + j); }
constexpr unsigned param_accumulate(std::size_t j) { return 1u << (12 + j); }

/// The same bits read back, for an op's backward: `if constexpr
/// (grad_mode::wants_input(Mode, 0))`, `gemm<..., grad_mode::adds_to_input(Mode, 0)>`.
/// wants_*: compute that gradient at all; adds_to_*: add it to what an
/// earlier backward step wrote there rather than overwrite it.
constexpr bool wants_input(unsigned mode, std::size_t k) { return (mode & input(k)) != 0; }
constexpr bool adds_to_input(unsigned mode, std::size_t k) { return (mode & input_accumulate(k)) != 0; }
constexpr bool wants_param(unsigned mode, std::size_t j) { return (mode & param(j)) != 0; }
constexpr bool adds_to_param(unsigned mode, std::size_t j) { return (mode & param_accumulate(j)) != 0; }
}  // namespace grad_mode

/// The role of a node for the planner and the summary.
enum class node_role { compute, input, label, loss };

namespace detail {
struct node_base {};
}  // namespace detail

/// A handle to a bound sub-graph: `inline constexpr auto b1 = block(...);`
/// then `ref<b1>` wherever b1 is used again. The handle's type is one name
/// long, so a deep DAG of skip connections is never written out as a tree.
template <const auto& Bound>
struct ref_t {
  static constexpr bool is_ref = true;
  using target = std::remove_cvref_t<decltype(Bound)>;
};
template <const auto& Bound>
inline constexpr ref_t<Bound> ref{};

namespace detail {
template <class T, class = void>
struct resolve {
  using type = T;
};
template <class T>
struct resolve<T, std::enable_if_t<T::is_ref>> {
  using type = typename T::target;
};
}  // namespace detail

/// The node a handle stands for (or the node itself).
template <class T>
using resolve_t = typename detail::resolve<std::remove_cvref_t<T>>::type;

template <class T>
inline constexpr bool is_ref_v = requires { requires std::remove_cvref_t<T>::is_ref; };

/// A graph node: Op describes the computation; Inputs are the written-out
/// argument types (nodes or handles).
template <class Op, class... Inputs>
struct node : detail::node_base {
  using op = Op;
  using raw_inputs = detail::type_list<Inputs...>;
  using inputs = detail::type_list<resolve_t<Inputs>...>;
  /// The op applied to its input shapes: output shape, parameters, kernels.
  using spec = typename Op::template spec<typename resolve_t<Inputs>::out_shape...>;
  using out_shape = typename spec::out_shape;
};

/// Anything an op accepts as an input: a node or a handle to one.
template <class T>
concept graph_value = std::is_base_of_v<detail::node_base, resolve_t<T>>;

/// How an op's kernels run in a pass that is one OpenMP region for the whole
/// team (kernels/step_team.hpp).
enum class team_use {
  opens_own,  // its kernels may open a region of their own: the pass is not run as one region
  serial,     // its work is serial: one thread of the team runs it
  shares,     // every kernel it calls takes its part of the team, or runs on one thread of it
  joins,      // as shares when the pass runs as one region, but too small to be the reason for one
};

/// How Spec's op runs on a team at batch B: its `team_use_at<B>`, or
/// opens_own for a spec that does not say (one not derived from spec_defaults).
template <class Spec, std::size_t B>
inline constexpr team_use team_use_of = [] {
  if constexpr (requires { Spec::template team_use_at<B>; }) return team_use(Spec::template team_use_at<B>);
  else return team_use::opens_own;
}();

/// Defaults for an op's spec: no parameters, no scratch, no flops.
struct spec_defaults {
  static constexpr std::size_t scratch_size = 0;  // per sample, kept from forward to backward
  static constexpr std::size_t temp_size = 0;     // per sample, backward only
  static constexpr std::size_t team_temp_size = 0;  // per sample and thread of a team, backward only
  static constexpr std::array<param_decl, 0> params{};
  static constexpr double flops = 0;
  static constexpr node_role role = node_role::compute;
  // A loss root's reduction over the batch: the mean (false) or the sum.
  static constexpr bool batch_sum = false;
  // An input whose gradient backward computes (input<..., requires_grad>).
  static constexpr bool input_gradient = false;
  // At batch B (forward and backward alike).
  template <std::size_t B>
  static constexpr team_use team_use_at = team_use::opens_own;
  // Its backward writes its first parameter's gradient through
  // kernels::finite_watch, unless it adds to it (a tied parameter).
  static constexpr bool watches_weight_gradient = false;
};

namespace detail {
// The op's name for a diagnostic, or "" when it has none.
template <class Op>
consteval auto op_name_or_none() {
  if constexpr (op_contract::has_name<Op>) return Op::name;
  else return no_name;
}
template <class Op, class... In>
struct spec_or_void {
  using type = void;
};
template <class Op, class... In>
  requires op_contract::has_spec<Op, In...>
struct spec_or_void<Op, In...> {
  using type = typename Op::template spec<In...>;
};
template <class S>
struct out_shape_or_scalar {
  using type = shape<>;
};
template <op_contract::has_out_shape S>
struct out_shape_or_scalar<S> {
  using type = typename S::out_shape;
};
// What make_node returns for an op that breaks the contract, after its one
// diagnostic: a complete op with the broken one's output shape (if it has
// one), so that nothing built on it reports further errors.
template <class Out>
struct op_contract_placeholder {
  static constexpr auto name = no_name;
  template <class...>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "(not an op)";
    using out_shape = Out;
    template <std::size_t B, class T>
    static void forward(const forward_args<T>&) {}
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>&) {}
  };
};
}  // namespace detail

/// Makes a node and checks it at the user's call site, so that a diagnostic
/// points at the line that wrote the op: first the op contract
/// (ctnn/core/op.hpp), once per op type and input shapes, then the op's own
/// shape checks, which its spec runs when it is instantiated.
template <class Op, class... Inputs>
constexpr auto make_node(const Inputs&...) {
  constexpr auto missing = op_contract::first_missing_text<Op, typename resolve_t<Inputs>::out_shape...>();
  if constexpr (missing.size() == 0) {
    using result = node<Op, std::remove_cvref_t<Inputs>...>;
    [[maybe_unused]] constexpr std::size_t checked = sizeof(typename result::spec);
    return result{};
  } else {
    static_assert(diagnostic::check<diagnostic::op_lacks_member<detail::op_name_or_none<Op>(), missing>>);
    using spec = typename detail::spec_or_void<Op, typename resolve_t<Inputs>::out_shape...>::type;
    return node<detail::op_contract_placeholder<typename detail::out_shape_or_scalar<spec>::type>,
                std::remove_cvref_t<Inputs>...>{};
  }
}

}  // namespace ctnn
