/// @file feed_check.hpp
/// Matching a call's feeds to a network's leaves at compile time: each leaf
/// the call reads fed exactly once, no feed the call does not read, static
/// extents equal to the batch times the leaf's size. Each failure is one
/// CTNN_FEED_* diagnostic naming the leaf and listing the names there are;
/// the first failure stops the call from being generated, so one mistake
/// gives one error.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/graph/feed.hpp"
#include "ctnn/graph/plan.hpp"

namespace ctnn::detail {

/// A compile-time string of known length as a template argument (for
/// diagnostics that list names held as string_views).
template <std::size_t N>
constexpr fixed_string<N + 1> fixed_from(std::string_view s) {
  fixed_string<N + 1> f;
  std::copy_n(s.data(), N, f.chars);
  return f;
}

template <std::size_t K, class First, class... Rest>
constexpr const auto& nth_feed(const First& first, const Rest&... rest) {
  if constexpr (K == 0) return first;
  else return nth_feed<K - 1>(rest...);
}
template <std::size_t K, class First, class... Rest>
struct nth_type : nth_type<K - 1, Rest...> {};
template <class First, class... Rest>
struct nth_type<0, First, Rest...> {
  using type = First;
};

/// The name predict<"..."> matches an output by: its node's name, or its kind
/// for an unnamed node (an activation, a softmax).
template <class Graph>
constexpr std::string_view output_name(std::size_t k) {
  const node_info& n = Graph::infos[Graph::output_ids[k]];
  return n.name.empty() ? n.kind : n.name;
}

template <class Graph, std::size_t K>
inline constexpr auto output_name_v = fixed_from<output_name<Graph>(K).size()>(output_name<Graph>(K));

template <class Graph, class Seq = std::make_index_sequence<Graph::output_count>>
struct output_names_of;
template <class Graph, std::size_t... K>
struct output_names_of<Graph, std::index_sequence<K...>> {
  using type = diagnostic::names<output_name_v<Graph, K>...>;
};
template <class Graph>
using output_names = typename output_names_of<Graph>::type;

template <class Graph, class Seq = std::make_index_sequence<Graph::leaf_count>>
struct leaf_names_of;
template <class Graph, std::size_t... S>
struct leaf_names_of<Graph, std::index_sequence<S...>> {
  using type = diagnostic::names<Graph::template node_at<Graph::leaf_ids.first[S]>::op::name...>;
};
template <class Graph>
using leaf_names = typename leaf_names_of<Graph>::type;

/// The index (in output_ids) of the output predict<Name> asks for; a
/// CTNN_OUTPUT_UNKNOWN diagnostic unless exactly one output has that name.
template <class Graph, fixed_string Name>
inline constexpr std::size_t output_index = [] {
  std::size_t found = 0, at = 0;
  for (std::size_t k = 0; k < Graph::output_count; ++k)
    if (output_name<Graph>(k) == Name.view()) ++found, at = k;
  return found == 1 ? at : none;
}();

template <class Graph, fixed_string Name>
constexpr std::size_t checked_output_index() {
  constexpr std::size_t k = output_index<Graph, Name>;
  if constexpr (k == none) {
    constexpr std::size_t matches = [] {
      std::size_t n = 0;
      for (std::size_t j = 0; j < Graph::output_count; ++j) n += output_name<Graph>(j) == Name.view();
      return n;
    }();
    static_assert(diagnostic::check<diagnostic::output_name_not_unique<Name, matches, output_names<Graph>>>);
  }
  return k;
}

/// The nodes a call runs: every node for training (Output == none), or the
/// nodes output number Output depends on.
template <class Graph, std::size_t Output>
inline constexpr auto nodes_read = [] {
  std::array<bool, Graph::node_count> r{};
  if constexpr (Output == none) {
    r.fill(true);
  } else {
    r[Graph::output_ids[Output]] = true;
    for (std::size_t i = Graph::node_count; i-- > 0;)
      if (r[i])
        for (std::size_t k = 0; k < Graph::infos[i].arity; ++k) r[Graph::infos[i].input[k]] = true;
  }
  return r;
}();

/// Feeds matched to leaf slots by name.
template <class Graph, class... F>
struct feed_match {
  static constexpr std::size_t count = sizeof...(F);
  static constexpr std::array<std::string_view, count> names{F::name.view()...};
  // The leaf slot each feed names (none: no such leaf).
  static constexpr std::array<std::size_t, count> slot_of = [] {
    std::array<std::size_t, count> s{};
    for (std::size_t k = 0; k < count; ++k) {
      s[k] = none;
      for (std::size_t l = 0; l < Graph::leaf_count; ++l)
        if (Graph::infos[Graph::leaf_ids.first[l]].name == names[k]) s[k] = l;
    }
    return s;
  }();
  // The feed of each leaf slot (none: not fed).
  static constexpr std::array<std::size_t, Graph::leaf_count> feed_of = [] {
    std::array<std::size_t, Graph::leaf_count> f{};
    f.fill(none);
    for (std::size_t k = count; k-- > 0;)
      if (slot_of[k] != none) f[slot_of[k]] = k;
    return f;
  }();
  static constexpr std::size_t unknown = [] {
    for (std::size_t k = 0; k < count; ++k)
      if (slot_of[k] == none) return k;
    return none;
  }();
  static constexpr std::size_t duplicate = [] {
    for (std::size_t k = 0; k < count; ++k)
      for (std::size_t j = 0; j < k; ++j)
        if (slot_of[j] == slot_of[k]) return k;
    return none;
  }();
};

template <class Graph, std::size_t Output, class... F>
constexpr std::size_t first_missing_slot() {
  using M = feed_match<Graph, F...>;
  for (std::size_t l = 0; l < Graph::leaf_count; ++l)
    if (nodes_read<Graph, Output>[Graph::leaf_ids.first[l]] && M::feed_of[l] == none) return l;
  return none;
}

template <class Graph, std::size_t Output, class... F>
constexpr std::size_t first_unread_feed() {
  using M = feed_match<Graph, F...>;
  for (std::size_t k = 0; k < M::count; ++k)
    if (!nodes_read<Graph, Output>[Graph::leaf_ids.first[M::slot_of[k]]]) return k;
  return none;
}

template <class Graph, std::size_t Bn, class... F>
constexpr std::size_t first_wrong_extent() {
  using M = feed_match<Graph, F...>;
  constexpr std::array<std::size_t, M::count> extent{F::extent...};
  for (std::size_t k = 0; k < M::count; ++k)
    if (extent[k] != std::dynamic_extent && extent[k] != unchecked_extent &&
        extent[k] != Bn * Graph::infos[Graph::leaf_ids.first[M::slot_of[k]]].out.size())
      return k;
  return none;
}

template <class Graph, class T, class... F>
constexpr std::size_t first_wrong_type() {
  using M = feed_match<Graph, F...>;
  constexpr std::array<bool, M::count> is_t{std::is_same_v<typename F::value_type, T>...};
  constexpr std::array<bool, M::count> arithmetic{std::is_arithmetic_v<typename F::value_type>...};
  for (std::size_t k = 0; k < M::count; ++k) {
    const bool input = Graph::infos[Graph::leaf_ids.first[M::slot_of[k]]].role == node_role::input;
    if (input ? !is_t[k] : !arithmetic[k]) return k;
  }
  return none;
}

/// What is wrong with a call's feeds, in the order the checks run.
enum class feed_problem { none, network, not_a_feed, unknown, duplicate, missing, unread, extent, type };

/// The first problem of a call (training: Output == none; predict of output
/// Output) at batch Bn binding these feeds. A plain value, so that the
/// call's `if constexpr` stays a constant whatever the diagnostic did.
template <class Graph, class T, std::size_t Output, std::size_t Bn, class... F>
constexpr feed_problem first_feed_problem() {
  constexpr const auto& plan = Graph::plan;
  if constexpr (plan.leaf_clash || plan.params.tie_mismatch || plan.params.init_mismatch) {
    return feed_problem::network;  // reported by the network's own checks; nothing more to add
  } else if constexpr (!(is_feed_v<F> && ...)) {
    return feed_problem::not_a_feed;
  } else {
    using M = feed_match<Graph, F...>;
    if (M::unknown != none) return feed_problem::unknown;
    if (M::duplicate != none) return feed_problem::duplicate;
    if (first_missing_slot<Graph, Output, F...>() != none) return feed_problem::missing;
    if (first_unread_feed<Graph, Output, F...>() != none) return feed_problem::unread;
    if (first_wrong_extent<Graph, Bn, F...>() != none) return feed_problem::extent;
    if (first_wrong_type<Graph, T, F...>() != none) return feed_problem::type;
    return feed_problem::none;
  }
}

/// Instantiates the CTNN_FEED_* diagnostic for the first problem.
template <class Graph, class T, std::size_t Output, std::size_t Bn, class... F>
constexpr void report_feed_problem() {
  constexpr feed_problem problem = first_feed_problem<Graph, T, Output, Bn, F...>();
  if constexpr (problem == feed_problem::not_a_feed) {
    constexpr std::size_t position = [] {
      constexpr std::array<bool, sizeof...(F)> fed{is_feed_v<F>...};
      std::size_t k = 0;
      while (fed[k]) ++k;
      return k;
    }();
    static_assert(diagnostic::check<diagnostic::argument_is_not_a_feed<position>>);
  } else if constexpr (problem == feed_problem::unknown) {
    using bad = typename nth_type<feed_match<Graph, F...>::unknown, F...>::type;
    static_assert(diagnostic::check<diagnostic::feed_names_no_leaf<bad::name, leaf_names<Graph>>>);
  } else if constexpr (problem == feed_problem::duplicate) {
    using bad = typename nth_type<feed_match<Graph, F...>::duplicate, F...>::type;
    static_assert(diagnostic::check<diagnostic::leaf_fed_twice<bad::name>>);
  } else if constexpr (problem == feed_problem::missing) {
    constexpr std::size_t l = first_missing_slot<Graph, Output, F...>();
    static_assert(diagnostic::check<diagnostic::leaf_not_fed<
                      Graph::template node_at<Graph::leaf_ids.first[l]>::op::name, diagnostic::names<F::name...>>>);
  } else if constexpr (problem == feed_problem::unread) {
    using bad = typename nth_type<first_unread_feed<Graph, Output, F...>(), F...>::type;
    static_assert(
        diagnostic::check<diagnostic::feed_not_read_by_output<bad::name, output_name_v<Graph, Output>>>);
  } else if constexpr (problem == feed_problem::extent) {
    constexpr std::size_t k = first_wrong_extent<Graph, Bn, F...>();
    using bad = typename nth_type<k, F...>::type;
    constexpr std::size_t leaf = Graph::leaf_ids.first[feed_match<Graph, F...>::slot_of[k]];
    static_assert(diagnostic::check<
                  diagnostic::feed_extent_mismatch<bad::name, bad::extent, Bn, Graph::infos[leaf].out.size()>>);
  } else if constexpr (problem == feed_problem::type) {
    using bad = typename nth_type<first_wrong_type<Graph, T, F...>(), F...>::type;
    static_assert(
        diagnostic::check<diagnostic::input_fed_with_another_scalar_type<bad::name, typename bad::value_type, T>>);
  }
}

/// The run-time half: a feed whose length is known only at run time must
/// hold exactly Bn × the leaf's size values (std::invalid_argument otherwise).
template <class F>
void check_feed_size(const F& f, std::size_t batch, std::size_t per_sample, const char* call) {
  if constexpr (F::extent == std::dynamic_extent) {
    if (f.size != batch * per_sample)
      throw std::invalid_argument(std::string(call) + ": the feed \"" + std::string(F::name.view()) + "\" holds " +
                                  std::to_string(f.size) + " values; a batch of " + std::to_string(batch) +
                                  " needs " + std::to_string(batch) + " x " + std::to_string(per_sample) + " = " +
                                  std::to_string(batch * per_sample));
  }
}

}  // namespace ctnn::detail
