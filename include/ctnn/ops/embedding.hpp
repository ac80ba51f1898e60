/// @file embedding.hpp
/// A lookup table from token ids to vectors: `embedding<"emb", V, E>(ids)`
/// turns ids [T] (class indices stored as floats, as labels are) into
/// [T, E], row ids[t] of the weight "<name>.weight" [V, E] at each step
/// (PyTorch's nn.Embedding, initialized as it is from N(0, 1)). Backward
/// adds each step's output gradient into the row it read; only those rows
/// receive anything.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/affine_params.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// An id that is not an integer in [0, vocabulary): the message names the
/// layer, the sample, the step and the value.
class token_error : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

template <fixed_string Name, std::size_t Vocabulary, std::size_t Width, class WeightInit = init::gaussian<1.0>>
struct embedding_op {
  static_assert(Vocabulary > 0 && Width > 0, "ctnn::embedding: a table needs at least one row and one column");
  static constexpr auto name = Name;
  static constexpr auto weight_name = Name + ".weight";

  template <class Ids>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::embedding_ids_not_a_sequence<Name, Ids>>);
    static constexpr std::string_view kind = "embedding";
    static constexpr std::size_t steps = Ids::size;
    using out_shape = shape<steps, Width>;
    static constexpr std::array<param_decl, 1> params{
        param_decl{weight_name.view(), info_of<shape<Vocabulary, Width>>(), WeightInit::value, Vocabulary, Width}};

    template <class T>
    static std::size_t row(T id, std::size_t at) {
      if (!(id >= T(0) && id < T(Vocabulary)) || id != std::floor(id))
        throw token_error("ctnn::embedding '" + std::string(Name.view()) + "': id " + std::to_string(double(id)) +
                          " at position " + std::to_string(at) + " (sample " + std::to_string(at / steps) +
                          ", step " + std::to_string(at % steps) + ") is not a row of its " +
                          std::to_string(Vocabulary) + "-row table");
      return std::size_t(id);
    }

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t k = 0; k < B * steps; ++k)
        std::copy_n(a.param[0] + row(a.in[0][k], k) * Width, Width, a.out + k * Width);
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_param(Mode, 0)) {
        if constexpr (!grad_mode::adds_to_param(Mode, 0)) std::fill_n(a.dparam[0], Vocabulary * Width, T(0));
        for (std::size_t k = 0; k < B * steps; ++k)
          kernels::map_add<Width>(a.dparam[0] + std::size_t(a.in[0][k]) * Width, [](auto d) { return d; },
                                  a.dout + k * Width);
      }
      // Ids are indices: nothing flows back to them.
      if constexpr (grad_mode::wants_input(Mode, 0) && !grad_mode::adds_to_input(Mode, 0))
        std::fill_n(a.din[0], B * steps, T(0));
    }
  };
};

template <fixed_string Name, std::size_t Vocabulary, std::size_t Width, class... Options>
struct embedding_fn {
  template <graph_value X>
  constexpr auto operator()(const X& ids) const {
    // Checked here, so that the error points at the line that wrote the layer.
    static_assert((diagnostic::check_unless<!std::is_void_v<typename detail::weight_init_of<Options>::type> &&
                                                sizeof...(Options) == 1,
                                            diagnostic::embedding_option_not_recognized<Name, Options>> && ...));
    using weight_init =
        typename detail::first_non_void<init::gaussian<1.0>, typename detail::weight_init_of<Options>::type...>::type;
    return make_node<embedding_op<Name, Vocabulary, Width, weight_init>>(ids);
  }
};

/// `embedding<"emb", 96, 32>(ids)`: ids [T] → [T, 32]; an `init::` scheme
/// may follow the width.
template <fixed_string Name, std::size_t Vocabulary, std::size_t Width, class... Options>
inline constexpr embedding_fn<Name, Vocabulary, Width, Options...> embedding{};

}  // namespace ctnn
