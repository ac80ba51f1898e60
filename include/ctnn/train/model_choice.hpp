/// @file model_choice.hpp
/// One of several compiled networks, chosen by name when the program starts
/// (a command-line flag, a configuration file):
///
///   using choice = ctnn::model_choice<ctnn::batch<1>, float,
///                                     ctnn::choice<"mlp", mlp::network>,
///                                     ctnn::choice<"lenet", lenet::network>>;
///   choice m(argv[1]);                       // throws for a name not listed
///   m.visit([&](auto& model) { ctnn::load_checkpoint(path, model); });
///   m.predict(image, scores);                // caller's storage, no allocation
///
/// It holds a std::variant of the ctnn::model types, and only the chosen one
/// is constructed. Each call dispatches once, at its start (one std::visit),
/// into that model's own generated forward pass: inside the pass there is no
/// virtual call and no branch on the choice.
///
/// What the handle exposes must mean the same for every network, so it is
/// checked at compile time: each network has exactly one input, of the same
/// shape as the first network's (the input names may differ), and its first
/// output has the same number of values per sample.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/graph/feed.hpp"
#include "ctnn/graph/network.hpp"
#include "ctnn/train/model.hpp"

namespace ctnn {

/// A network and the name a model_choice knows it by.
template <fixed_string Name, class Graph>
struct choice {
  static constexpr auto name = Name;
  using graph_type = Graph;
};

namespace detail {
// What a model_choice reads of one network: its input and its first output.
template <class Graph>
struct choice_interface {
  static constexpr std::size_t input_count = [] {
    std::size_t n = 0;
    for (std::size_t i = 0; i < Graph::node_count; ++i) n += Graph::infos[i].role == node_role::input;
    return n;
  }();
  static constexpr std::size_t input_id = [] {
    for (std::size_t i = 0; i < Graph::node_count; ++i)
      if (Graph::infos[i].role == node_role::input) return i;
    return std::size_t{0};
  }();
  static constexpr auto input_name = Graph::template node_at<input_id>::op::name;
  using input_shape = typename Graph::template node_at<input_id>::out_shape;
  static constexpr std::size_t output_size =
      Graph::output_count == 0 ? 0 : Graph::infos[Graph::output_ids[0]].out.size();
};

template <class First, class C>
constexpr bool choice_fits() {
  using first = choice_interface<typename First::graph_type>;
  using mine = choice_interface<typename C::graph_type>;
  static_assert(diagnostic::check_unless<mine::input_count == 1,
                                         diagnostic::model_choice_input_count<C::name, mine::input_count>>);
  if constexpr (mine::input_count == 1) {
    static_assert(diagnostic::check_unless<std::is_same_v<typename mine::input_shape, typename first::input_shape>,
                                           diagnostic::model_choice_input_shape_differs<
                                               C::name, typename mine::input_shape, First::name,
                                               typename first::input_shape>>);
    static_assert(diagnostic::check_unless<mine::output_size == first::output_size,
                                           diagnostic::model_choice_output_size_differs<
                                               C::name, mine::output_size, First::name, first::output_size>>);
  }
  return true;  // a mismatch is reported by its diagnostic, not by the caller's static_assert
}
}  // namespace detail

/// One of the networks `Choices...` (each a ctnn::choice<name, network>) as a
/// ctnn::model<network, B, T>, picked by name at run time.
template <class Batch, class T, class First, class... Rest>
class model_choice {
  static_assert((detail::choice_fits<First, First>() && ... && detail::choice_fits<First, Rest>()));

 public:
  using value_type = T;
  using variant_type = std::variant<model<typename First::graph_type, Batch::size, T>,
                                    model<typename Rest::graph_type, Batch::size, T>...>;
  static constexpr std::size_t batch_size = Batch::size;
  /// Values per sample of the input, and of the first output.
  static constexpr std::size_t input_size = detail::choice_interface<typename First::graph_type>::input_shape::size;
  static constexpr std::size_t output_size = detail::choice_interface<typename First::graph_type>::output_size;
  /// The names, in the order of the template arguments.
  static constexpr std::array<std::string_view, 1 + sizeof...(Rest)> names{First::name.view(), Rest::name.view()...};

  /// Constructs the network called `name` (parameters initialized from
  /// `seed`, as ctnn::model does); throws std::invalid_argument naming it
  /// and listing the names there are.
  explicit model_choice(std::string_view name, std::uint64_t seed = 0) : models_(make(index_of(name), seed)) {}

  /// The chosen network's name.
  std::string_view name() const { return names[models_.index()]; }
  /// Its position among the template arguments.
  std::size_t index() const { return models_.index(); }

  /// Calls f with the chosen ctnn::model (load its parameters, read its summary).
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), models_);
  }
  template <class F>
  decltype(auto) visit(F&& f) const {
    return std::visit(std::forward<F>(f), models_);
  }

  /// Inference over a batch: `input` holds batch_size × input_size values,
  /// `output` receives batch_size × output_size (the first output). No heap
  /// allocation; lengths that differ throw std::invalid_argument.
  void predict(std::span<const T> input, std::span<T> output) { run<batch_size>(input, output); }
  /// Inference for one sample: input_size values in, output_size out.
  void predict_one(std::span<const T> input, std::span<T> output) { run<1>(input, output); }

 private:
  variant_type models_;

  static std::size_t index_of(std::string_view name) {
    const auto at = std::find(names.begin(), names.end(), name);
    if (at != names.end()) return std::size_t(at - names.begin());
    std::string known;
    for (std::string_view n : names) known += (known.empty() ? "'" : ", '") + std::string(n) + "'";
    throw std::invalid_argument("ctnn::model_choice: no network named '" + std::string(name) +
                                "'; the choices are " + known);
  }

  // The variant built in place with alternative k (returned as a prvalue: a
  // model is never copied or moved).
  static variant_type make(std::size_t k, std::uint64_t seed) {
    return [&]<std::size_t... K>(std::index_sequence<K...>) {
      using maker = variant_type (*)(std::uint64_t);
      constexpr maker makers[] = {+[](std::uint64_t s) { return variant_type(std::in_place_index<K>, s); }...};
      return makers[k](seed);
    }(std::make_index_sequence<1 + sizeof...(Rest)>{});
  }

  template <std::size_t Bn>
  void run(std::span<const T> input, std::span<T> output) {
    if (input.size() != Bn * input_size || output.size() != Bn * output_size)
      throw std::invalid_argument("ctnn::model_choice::predict" + std::string(Bn == 1 ? "_one" : "") + " ('" +
                                  std::string(name()) + "'): give " + std::to_string(Bn * input_size) +
                                  " input values and room for " + std::to_string(Bn * output_size) +
                                  " outputs, not " + std::to_string(input.size()) + " and " +
                                  std::to_string(output.size()));
    std::visit(
        [&]<class M>(M& m) {
          constexpr auto input_name = detail::choice_interface<typename M::graph_type>::input_name;
          const T* x = input.data();
          std::span<const T> y;
          if constexpr (Bn == 1) y = m.template predict_one<0>(feed<input_name>(x));
          else y = m.template predict<0>(feed<input_name>(x));
          std::copy(y.begin(), y.end(), output.begin());
        },
        models_);
  }
};

}  // namespace ctnn
