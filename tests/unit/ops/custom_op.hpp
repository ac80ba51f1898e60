// An op written outside the library, in one header, to the op contract
// (ctnn/core/op.hpp; docs/design.md, "Adding an op"): y = s·x², elementwise,
// with one trainable scalar s ("<name>.scale", starting at 1). Nothing in
// ctnn knows it; make_node checks it and the planner, the model and the
// gradient check use it like any built-in op.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include <ctnn/ctnn.hpp>

namespace custom {

template <ctnn::fixed_string Name>
struct scaled_square_op {
  static constexpr auto name = Name;
  static constexpr auto scale_name = Name + ".scale";

  template <class In>
  struct spec : ctnn::spec_defaults {
    static constexpr std::string_view kind = "scaled_square";
    using out_shape = In;
    static constexpr std::size_t n = In::size;
    static constexpr std::array<ctnn::param_decl, 1> params{
        ctnn::param_decl{scale_name.view(), ctnn::info_of<ctnn::shape<1>>(), ctnn::init::ones::value, 1, 1,
                         /*trainable=*/true, /*regularize=*/false}};
    static constexpr double flops = 2.0 * n;

    // y = s·x²
    template <std::size_t B, class T>
    static void forward(const ctnn::forward_args<T>& a) {
      const T s = a.param[0][0];
      for (std::size_t i = 0; i < B * n; ++i) a.out[i] = s * a.in[0][i] * a.in[0][i];
    }

    // dx = dy·2s·x, ds = Σ dy·x² over the batch: each written or added as Mode says.
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const ctnn::backward_args<T>& a) {
      namespace gm = ctnn::grad_mode;
      const T s = a.param[0][0];
      if constexpr (gm::wants_input(Mode, 0))
        for (std::size_t i = 0; i < B * n; ++i) {
          const T g = a.dout[i] * T(2) * s * a.in[0][i];
          a.din[0][i] = gm::adds_to_input(Mode, 0) ? a.din[0][i] + g : g;
        }
      if constexpr (gm::wants_param(Mode, 0)) {
        T ds = 0;
        for (std::size_t i = 0; i < B * n; ++i) ds += a.dout[i] * a.in[0][i] * a.in[0][i];
        a.dparam[0][0] = gm::adds_to_param(Mode, 0) ? a.dparam[0][0] + ds : ds;
      }
    }
  };
};

template <ctnn::fixed_string Name>
struct scaled_square_fn {
  template <ctnn::graph_value X>
  constexpr auto operator()(const X& x) const {
    return ctnn::make_node<scaled_square_op<Name>>(x);
  }
};

/// `custom::scaled_square<"sq">(x)`: s·x² with a trainable s.
template <ctnn::fixed_string Name>
inline constexpr scaled_square_fn<Name> scaled_square{};

}  // namespace custom
