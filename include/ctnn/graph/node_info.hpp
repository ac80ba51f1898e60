/// @file node_info.hpp
/// A node's facts as plain values: what the constexpr planner works on.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctnn/core/shape.hpp"
#include "ctnn/core/type_list.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

inline constexpr std::size_t max_inputs = 4;
inline constexpr std::size_t max_params = 4;

struct node_info {
  std::string_view kind;
  std::string_view name;
  node_role role = node_role::compute;
  shape_info out{};
  std::size_t arity = 0;
  std::array<std::size_t, max_inputs> input{};
  std::size_t param_count = 0;
  std::array<param_decl, max_params> params{};
  std::array<std::uint64_t, max_params> param_key{};  // name_key of each parameter's name
  std::size_t scratch = 0;  // floats per sample
  std::size_t temp = 0;     // floats per sample
  double flops = 0;         // per sample, forward
  bool batch_sum = false;   // as a loss root: summed over the batch, not averaged
  bool input_gradient = false;  // an input whose gradient is kept for the caller
};

/// FNV-1a of a name: the planner sorts parameters by this key and compares
/// characters only when two keys are equal.
constexpr std::uint64_t name_key(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : s) h = (h ^ std::uint64_t(static_cast<unsigned char>(c))) * 1099511628211ull;
  return h;
}

namespace detail {

// One constant per op type (evaluated once, not inside the network's plan).
template <class Spec>
inline constexpr auto param_keys = [] {
  std::array<std::uint64_t, max_params> k{};
  for (std::size_t j = 0; j < Spec::params.size() && j < max_params; ++j) k[j] = name_key(Spec::params[j].name);
  return k;
}();

template <class N, class Index>
constexpr node_info make_node_info() {
  using spec = typename N::spec;
  node_info i;
  i.kind = spec::kind;
  i.name = N::op::name.view();
  i.role = spec::role;
  i.out = info_of<typename N::out_shape>();
  i.arity = N::inputs::size;
  static_assert(N::inputs::size <= max_inputs, "ctnn: an op takes at most four inputs");
  [&]<class... C>(type_list<C...>) {
    std::size_t k = 0;
    ((i.input[k++] = Index::template of<C>), ...);
  }(typename N::inputs{});
  static_assert(spec::params.size() <= max_params, "ctnn: an op owns at most four parameters");
  i.param_count = spec::params.size();
  for (std::size_t j = 0; j < spec::params.size(); ++j) i.params[j] = spec::params[j];
  i.param_key = param_keys<spec>;
  i.scratch = spec::scratch_size;
  i.temp = spec::temp_size;
  i.flops = spec::flops;
  i.batch_sum = spec::batch_sum;
  i.input_gradient = spec::input_gradient;
  return i;
}

}  // namespace detail
}  // namespace ctnn
