/// @file variable.hpp
/// A trainable tensor used directly as a value: `variable<"x", shape<2>>`.
/// The same for every sample of a batch; its gradient sums over the batch.
/// It lets a worked example differentiate with respect to its "inputs", and
/// a model hold a learned embedding or bias of any shape.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/kernels/gemm.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// A rank-2 variable [in, out] has the fans of a dense weight (fan_in = in,
/// fan_out = out); any other shape has fan_in = fan_out = its size.
template <fixed_string Name, class Shape, class Init = init::zeros>
struct variable_op {
  static_assert(is_shape_v<Shape>, "ctnn::variable: the second argument must be a ctnn::shape<...>");
  static_assert(is_initializer_v<Init>, "ctnn::variable: the third argument must be a ctnn::init:: scheme");
  static constexpr auto name = Name;
  template <class... None>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "variable";
    using out_shape = Shape;
    static constexpr std::size_t fan_in = Shape::rank == 2 ? Shape::dims[0] : Shape::size;
    static constexpr std::size_t fan_out = Shape::rank == 2 ? Shape::dims[1] : Shape::size;
    // Viewed as [rows, units], the units being the last dimension.
    static constexpr std::size_t rows = Shape::rank == 0 ? 1 : Shape::size / Shape::dims[Shape::rank - 1];
    static_assert(init_fits<Name, Init, rows>);
    static constexpr std::array<param_decl, 1> params{
        param_decl{Name.view(), info_of<Shape>(), Init::value, fan_in, fan_out}};

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t i = 0; i < Shape::size; ++i) a.out[b * Shape::size + i] = a.param[0][i];
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_param(Mode, 0))
        kernels::column_sums<B, Shape::size, grad_mode::adds_to_param(Mode, 0)>(a.dout, a.dparam[0]);
    }
  };
};

/// `variable<"x", shape<2>>` starts at zero; `variable<"w", shape<64, 10>,
/// init::xavier_uniform>` with any `init::` scheme.
template <fixed_string Name, class Shape, class Init = init::zeros>
inline constexpr node<variable_op<Name, Shape, Init>> variable{};

}  // namespace ctnn
