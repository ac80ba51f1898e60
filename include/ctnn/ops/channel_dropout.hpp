/// @file channel_dropout.hpp
/// Dropout of whole feature maps: in training each channel of each sample is
/// kept with probability 1 − p and scaled by 1/(1 − p), or zeroed entirely;
/// at inference the input passes unchanged. Neighbouring pixels of one map
/// are strongly correlated, so dropping single pixels (dropout<p>) barely
/// regularizes a convolution; dropping the map does (Tompson et al. 2015,
/// PyTorch's Dropout2d).
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/real.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/dropout.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace diagnostic {
template <class InputShape>
struct channel_dropout_input_is_not_an_image {
  static_assert(InputShape::rank == 3,
                "CTNN_CHANNEL_DROPOUT_INPUT: channel_dropout<p> drops whole channels of a per-sample input of "
                "shape [channels, height, width]; use dropout<p> on other shapes");
};
}  // namespace diagnostic

/// Drops each channel with probability P.
template <real P>
struct channel_dropout_op {
  static_assert(P.value() >= 0 && P.value() < 1, "ctnn::channel_dropout: the drop probability must lie in [0, 1)");
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::channel_dropout_input_is_not_an_image<In>>);
    static constexpr std::string_view kind = "channel_dropout";
    using out_shape = In;
    static constexpr std::size_t C = In::rank == 3 ? In::dims[0] : 1;
    static constexpr std::size_t plane = In::size / C;  // H·W
    static constexpr std::size_t scratch_size = C;       // one scale per channel: 0 or 1/(1 − p)
    static constexpr double flops = double(In::size);

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      if (!a.training) {
        kernels::map<B * In::size>(a.out, [](auto x) { return x; }, a.in[0]);
        return;
      }
      // One draw per sample and channel, from the same counter-based stream
      // as dropout<p> (reproducible per seed, fixed until the noise advances).
      const T keep_scale = T(1.0 / (1.0 - P.value()));
      for (std::size_t i = 0; i < B * C; ++i) {
        const T m = detail::uniform01(a.seed, i) >= float(P.value()) ? keep_scale : T(0);
        a.scratch[i] = m;
        kernels::map<plane>(a.out + i * plane, [m](auto x) { return x * m; }, a.in[0] + i * plane);
      }
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        for (std::size_t i = 0; i < B * C; ++i) {
          const T m = a.scratch[i];
          kernels::map_into<grad_mode::adds_to_input(Mode, 0), plane>(
              a.din[0] + i * plane, [m](auto d) { return d * m; }, a.dout + i * plane);
        }
    }
  };
};

template <real P>
struct channel_dropout_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<channel_dropout_op<P>>(x); }
};
/// `channel_dropout<0.2>(c)` on [C, H, W]: drops a fifth of the channels of
/// each sample in training.
template <real P>
inline constexpr channel_dropout_fn<P> channel_dropout{};

}  // namespace ctnn
