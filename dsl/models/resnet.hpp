/// @file resnet.hpp
/// ResNet-18, -34 and -50 (He et al. 2015) in torchvision's layout, for a
/// square RGB input of side `Side` (224 in the paper):
///
///   conv1 7×7/2 p3 (no bias) → bn1 → ReLU → max pool 3×3/2 p1
///   → layer1..layer4, [64, 128, 256, 512] channels (×4 for bottlenecks)
///   → global average pool → fc 1000, softmax cross-entropy.
///
/// A basic block (ResNet-18/34) is relu(bn2(conv2(relu(bn1(conv1(x))))) + s),
/// both convolutions 3×3; a bottleneck (ResNet-50) is 1×1 → 3×3 → 1×1 with
/// the expansion 4 on the last and the stride on the 3×3 (torchvision's
/// "v1.5"). The shortcut s is x itself, or where the shape changes (the first
/// block of a stage) a projection: a 1×1 convolution with the block's stride
/// and no bias, then a batch norm ("downsample.0", "downsample.1"). Stride-2
/// layers round down (`floor_mode`), as PyTorch does: 224 → 112 → 56 → 28 →
/// 14 → 7. Names are torchvision's ("layer2.0.conv1", "layer2.0.bn1", ...).
///
/// Trainable parameters (γ and β counted, running statistics are state):
/// ResNet-18 11,689,512; ResNet-34 21,797,672; ResNet-50 25,557,032, for any
/// input side (the global pool makes them independent of it).
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include <ctnn/ctnn.hpp>

namespace ctnn::models::resnet {

/// A block kind: its expansion (output channels per unit of width).
struct basic {
  static constexpr std::size_t expansion = 1;
};
struct bottleneck {
  static constexpr std::size_t expansion = 4;
};

/// A network's layout: the block kind and the number of blocks per stage.
template <class Block, std::size_t L1, std::size_t L2, std::size_t L3, std::size_t L4>
struct layout {
  using block = Block;
  static constexpr std::array<std::size_t, 4> stage_blocks{L1, L2, L3, L4};
  static constexpr std::size_t blocks = L1 + L2 + L3 + L4;
  /// Block I (0-based over the whole network): its stage and index in it.
  static constexpr std::size_t stage_of(std::size_t i) {
    std::size_t s = 0;
    while (i >= stage_blocks[s]) i -= stage_blocks[s++];
    return s;
  }
  static constexpr std::size_t index_of(std::size_t i) {
    for (std::size_t s = 0; i >= stage_blocks[s]; ++s) i -= stage_blocks[s];
    return i;
  }
};
using resnet18_layout = layout<basic, 2, 2, 2, 2>;
using resnet34_layout = layout<basic, 3, 4, 6, 3>;
using resnet50_layout = layout<bottleneck, 3, 4, 6, 3>;

namespace detail {

/// "layer<S+1>.<J>", torchvision's block prefix, built at compile time.
template <std::size_t S, std::size_t J>
consteval auto block_name() {
  static_assert(S < 9 && J < 100, "ctnn::models::resnet: stage below 9 and block below 100");
  constexpr std::size_t n = J < 10 ? 9 : 10;
  fixed_string<n> s;
  const char head[] = "layer?.";
  for (std::size_t i = 0; i < 7; ++i) s.chars[i] = head[i];
  s.chars[5] = char('1' + S);
  if constexpr (J < 10) s.chars[7] = char('0' + J);
  else {
    s.chars[7] = char('0' + J / 10);
    s.chars[8] = char('0' + J % 10);
  }
  s.chars[n - 1] = '\0';
  return s;
}
static_assert(block_name<0, 1>().view() == "layer1.1");
static_assert(block_name<2, 12>().view() == "layer3.12");

/// A convolution without bias (a batch norm follows), rounding down when
/// strided, then its batch norm.
template <fixed_string Conv, fixed_string Bn, std::size_t Out, std::size_t F, std::size_t S, class X>
constexpr auto conv_bn(X x) {
  if constexpr (S == 1) return batch_norm<Bn>(conv2d<Conv, Out, F, padding<F / 2>, no_bias>(x));
  else return batch_norm<Bn>(conv2d<Conv, Out, F, stride<S>, padding<F / 2>, no_bias, floor_mode>(x));
}

/// The shortcut: x, or the projection 1×1/S conv + batch norm.
template <fixed_string P, std::size_t Out, std::size_t S, bool Project, class X>
constexpr auto shortcut(X x) {
  if constexpr (Project) return conv_bn<P + ".downsample.0", P + ".downsample.1", Out, 1, S>(x);
  else return x;
}

template <fixed_string P, std::size_t Width, std::size_t S, bool Project, class X>
constexpr auto block(basic, X x) {
  const auto h = relu(conv_bn<P + ".conv1", P + ".bn1", Width, 3, S>(x));
  return relu(add(conv_bn<P + ".conv2", P + ".bn2", Width, 3, 1>(h), shortcut<P, Width, S, Project>(x)));
}

template <fixed_string P, std::size_t Width, std::size_t S, bool Project, class X>
constexpr auto block(bottleneck, X x) {
  const auto h1 = relu(conv_bn<P + ".conv1", P + ".bn1", Width, 1, 1>(x));
  const auto h2 = relu(conv_bn<P + ".conv2", P + ".bn2", Width, 3, S>(h1));
  return relu(add(conv_bn<P + ".conv3", P + ".bn3", 4 * Width, 1, 1>(h2), shortcut<P, 4 * Width, S, Project>(x)));
}

}  // namespace detail

/// The input, [3, Side, Side].
template <std::size_t Side>
inline constexpr auto image = input<"image", shape<3, Side, Side>>;

/// stage<Side, L, 0> is the stem (conv1, bn1, ReLU, max pool); stage<Side,
/// L, I> for I ≥ 1 is block I − 1 on stage<Side, L, I − 1>, which it reads
/// through a handle: a block's input is used twice (branch and shortcut),
/// and each type stays one block long.
template <std::size_t Side, class L, std::size_t I>
inline constexpr auto stage = [] {
  if constexpr (I == 0) {
    return max_pool<3, stride<2>, padding<1>, floor_mode>(
        relu(detail::conv_bn<"conv1", "bn1", 64, 7, 2>(image<Side>)));
  } else {
    constexpr std::size_t s = L::stage_of(I - 1), j = L::index_of(I - 1);
    constexpr std::size_t width = std::size_t(64) << s;
    constexpr std::size_t stride_v = s > 0 && j == 0 ? 2 : 1;
    constexpr bool project = j == 0 && (s > 0 || L::block::expansion != 1);
    return detail::block<detail::block_name<s, j>(), width, stride_v, project>(typename L::block{},
                                                                               ref<stage<Side, L, I - 1>>);
  }
}();

/// The last block's output: [512·expansion, Side/32, Side/32].
template <std::size_t Side, class L>
inline constexpr auto features = ref<stage<Side, L, L::blocks>>;

/// The class scores, [1000].
template <std::size_t Side, class L>
inline constexpr auto logits = dense<"fc", 1000>(global_avg_pool(features<Side, L>));

template <std::size_t Side, class L>
using network = decltype(ctnn::network(softmax_cross_entropy(ref<logits<Side, L>>, label<"class", 1000>),
                                       outputs(ref<logits<Side, L>>)));

/// `ctnn::models::resnet::resnet18<224>`: the network type for a 224×224 input.
template <std::size_t Side>
using resnet18 = network<Side, resnet18_layout>;
template <std::size_t Side>
using resnet34 = network<Side, resnet34_layout>;
template <std::size_t Side>
using resnet50 = network<Side, resnet50_layout>;

// torchvision's counts, and the shapes at 224.
static_assert(resnet18<224>::param_count == 11'689'512);
static_assert(resnet34<224>::param_count == 21'797'672);
static_assert(resnet50<224>::param_count == 25'557'032);
static_assert(std::is_same_v<decltype(stage<224, resnet18_layout, 0>)::out_shape, shape<64, 56, 56>>);
static_assert(std::is_same_v<decltype(features<224, resnet18_layout>)::target::out_shape, shape<512, 7, 7>>);
static_assert(std::is_same_v<decltype(features<224, resnet34_layout>)::target::out_shape, shape<512, 7, 7>>);
static_assert(std::is_same_v<decltype(features<224, resnet50_layout>)::target::out_shape, shape<2048, 7, 7>>);
static_assert(std::is_same_v<decltype(logits<224, resnet50_layout>)::out_shape, shape<1000>>);

}  // namespace ctnn::models::resnet
