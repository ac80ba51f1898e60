/// @file init_experiment.hpp
/// The initialization experiment of seeds 000 and 004 ("Let's look at some
/// activation statistics"): ten layers of 500 units, no biases, on unit
/// Gaussian input, every layer an output so its activations can be read
/// after one forward. One network type per (activation, initializer).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/activation_stats.hpp>

namespace ctnn::models::init_experiment {

inline constexpr std::size_t width = 500;
inline constexpr std::size_t depth = 10;

inline constexpr auto x = ctnn::input<"x", ctnn::shape<width>>;

/// H = act(X·W), as the seeds' code (no bias).
template <class Act, class Init, fixed_string Name, class X>
constexpr auto layer(X in) {
  return Act{}(ctnn::dense<Name, width, ctnn::no_bias, Init>(in));
}

template <class Act, class Init>
struct deep_net {
  template <fixed_string Name, class X>
  static constexpr auto layer(X in) {
    return init_experiment::layer<Act, Init, Name>(in);
  }
  static constexpr auto h1 = layer<"h1">(x);
  static constexpr auto h2 = layer<"h2">(ctnn::ref<h1>);
  static constexpr auto h3 = layer<"h3">(ctnn::ref<h2>);
  static constexpr auto h4 = layer<"h4">(ctnn::ref<h3>);
  static constexpr auto h5 = layer<"h5">(ctnn::ref<h4>);
  static constexpr auto h6 = layer<"h6">(ctnn::ref<h5>);
  static constexpr auto h7 = layer<"h7">(ctnn::ref<h6>);
  static constexpr auto h8 = layer<"h8">(ctnn::ref<h7>);
  static constexpr auto h9 = layer<"h9">(ctnn::ref<h8>);
  static constexpr auto h10 = layer<"h10">(ctnn::ref<h9>);
  using network = decltype(ctnn::network(ctnn::outputs(ctnn::ref<h1>, ctnn::ref<h2>, ctnn::ref<h3>, ctnn::ref<h4>,
                                                       ctnn::ref<h5>, ctnn::ref<h6>, ctnn::ref<h7>, ctnn::ref<h8>,
                                                       ctnn::ref<h9>, ctnn::ref<h10>)));
  static_assert(network::param_count == depth * width * width);
};

// The five runs. The seeds' "Xavier" is `randn(fan_in, fan_out) / sqrt(fan_in)`,
// variance 1/fan_in (LeCun's); Glorot's 2/(fan_in + fan_out) is the same for
// 500 → 500, so init::xavier_normal reproduces it exactly in distribution.
using tanh_small = deep_net<decltype(ctnn::tanh), ctnn::init::gaussian<0.01>>::network;  // 0.01 * randn
using tanh_unit = deep_net<decltype(ctnn::tanh), ctnn::init::gaussian<1.0>>::network;    // 1.0 * randn
using tanh_xavier = deep_net<decltype(ctnn::tanh), ctnn::init::xavier_normal>::network;  // randn / sqrt(fan_in)
using relu_xavier = deep_net<decltype(ctnn::relu), ctnn::init::xavier_normal>::network;
using relu_he = deep_net<decltype(ctnn::relu), ctnn::init::he_normal>::network;          // randn / sqrt(fan_in / 2)

struct run_result {
  std::string_view name;         // short, for the CSV
  std::string_view description;  // for the table
  bool saturating;               // tanh (bounded at ±1), not ReLU
  activation_stats input;
  std::array<activation_stats, depth> layers;
};

/// B unit-Gaussian samples of `width` features (the seeds' np.random.randn(1000, 500)).
inline std::vector<float> unit_gaussian_input(std::size_t batch, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<float> d(batch * width);
  for (float& v : d) v = float(dist(gen));
  return d;
}

/// One forward of `Net` over `data` (B × width values) with weights from `seed`.
template <class Net, std::size_t B>
std::array<activation_stats, depth> layer_statistics(std::span<const float> data, std::uint64_t seed) {
  const auto m = std::make_unique<ctnn::model<Net, B>>(seed);
  m->forward(ctnn::feed<"x">(data));
  return ctnn::output_statistics(*m);
}

/// All five runs on one input batch; the weights of every run come from
/// `seed` (the Gaussian ones share their draws, scaled).
template <std::size_t B>
std::array<run_result, 5> run_all(const std::vector<float>& data, std::uint64_t seed) {
  const activation_stats in = ctnn::statistics_of(std::span<const float>(data));
  return {{
      {"tanh_gaussian_0.01", "tanh, W ~ N(0, 0.01^2)", true, in, layer_statistics<tanh_small, B>(data, seed)},
      {"tanh_gaussian_1", "tanh, W ~ N(0, 1)", true, in, layer_statistics<tanh_unit, B>(data, seed)},
      {"tanh_xavier", "tanh, Xavier N(0, 2/(fan_in+fan_out))", true, in, layer_statistics<tanh_xavier, B>(data, seed)},
      {"relu_xavier", "ReLU, Xavier N(0, 2/(fan_in+fan_out))", false, in, layer_statistics<relu_xavier, B>(data, seed)},
      {"relu_he", "ReLU, He N(0, 2/fan_in)", false, in, layer_statistics<relu_he, B>(data, seed)},
  }};
}

}  // namespace ctnn::models::init_experiment
