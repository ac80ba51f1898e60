/// @file vgg16.hpp
/// VGG16, configuration D of Simonyan and Zisserman (2014), as Caffe's
/// VGG_ILSVRC_16_layers and seed 003's table: thirteen 3×3 convolutions
/// (padding 1, ReLU) in five stages of 64, 128, 256, 512 and 512 channels,
/// each stage ending in a 2×2 max pool, then fc6 4096 + ReLU + dropout 0.5,
/// fc7 4096 + ReLU + dropout 0.5, fc8 1000.
///
///   [3, 224, 224] → [64, 224, 224] → pool1 [64, 112, 112] → [128, 112, 112]
///   → pool2 [128, 56, 56] → [256, 56, 56] → pool3 [256, 28, 28] → [512, 28, 28]
///   → pool4 [512, 14, 14] → [512, 14, 14] → pool5 [512, 7, 7] → fc6 → fc7 → fc8
///
/// Parameters: 138,344,128 weights (the seed's table, whose first FC row is
/// 7·7·512·4096 = 102,760,448) and 13,416 biases: 138,357,544.
///
/// `vgg16_at<Side>` is the same network on [3, Side, Side] images (Side a
/// multiple of 32; fc6 then takes 512·(Side/32)² inputs): the tests train
/// it at a reduced size: at 224 a batch-1 test needs 2.4 GB and over 20 s,
/// most of it drawing the 138 million initial weights.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include <ctnn/ctnn.hpp>

namespace ctnn::models::vgg16 {

/// A 3×3 convolution with padding 1 and ReLU: every convolution of VGG.
template <fixed_string Name, std::size_t C, class X>
constexpr auto conv3(X x) {
  return ctnn::relu(ctnn::conv2d<Name, C, 3, ctnn::padding<1>>(x));
}

template <std::size_t Side>
struct vgg16_at {
  static_assert(Side % 32 == 0, "ctnn::models::vgg16: five 2×2 pools need a side divisible by 32");
  static constexpr auto image = ctnn::input<"data", ctnn::shape<3, Side, Side>>;
  static constexpr auto pool1 = ctnn::max_pool<2>(conv3<"conv1_2", 64>(conv3<"conv1_1", 64>(image)));
  static constexpr auto pool2 = ctnn::max_pool<2>(conv3<"conv2_2", 128>(conv3<"conv2_1", 128>(pool1)));
  static constexpr auto pool3 =
      ctnn::max_pool<2>(conv3<"conv3_3", 256>(conv3<"conv3_2", 256>(conv3<"conv3_1", 256>(pool2))));
  static constexpr auto pool4 =
      ctnn::max_pool<2>(conv3<"conv4_3", 512>(conv3<"conv4_2", 512>(conv3<"conv4_1", 512>(pool3))));
  static constexpr auto pool5 =
      ctnn::max_pool<2>(conv3<"conv5_3", 512>(conv3<"conv5_2", 512>(conv3<"conv5_1", 512>(pool4))));
  static constexpr auto fc7 = ctnn::dropout<0.5>(ctnn::relu(ctnn::dense<"fc7", 4096>(
      ctnn::dropout<0.5>(ctnn::relu(ctnn::dense<"fc6", 4096>(ctnn::flatten(pool5)))))));
  static constexpr auto logits = ctnn::dense<"fc8", 1000>(fc7);
  using network =
      decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"label", 1000>), ctnn::outputs(logits)));
};

using network = vgg16_at<224>::network;

static_assert(std::is_same_v<decltype(vgg16_at<224>::pool5)::out_shape, ctnn::shape<512, 7, 7>>);
static_assert(std::is_same_v<decltype(vgg16_at<224>::logits)::out_shape, ctnn::shape<1000>>);
static_assert(network::param_count == 138'357'544);

/// One row of seed 003's memory table: a layer's output values per image
/// and its weights (biases not counted, as in the seed).
struct table_row {
  std::string_view kind, name;
  ctnn::shape_info out{};
  std::size_t values = 0, weights = 0;
};

/// The rows of seed 003's table, read off the network's nodes: the input,
/// every convolution, pool and fully connected layer (a fused ReLU is part
/// of its layer's row; flatten, dropout, the label and the loss have none).
template <class Net>
constexpr auto activation_table() {
  constexpr auto keep = [](std::string_view k) {
    return k == "input" || k.starts_with("conv2d") || k.starts_with("max_pool") || k.starts_with("dense");
  };
  constexpr std::size_t n = [&] {
    std::size_t c = 0;
    for (std::size_t i = 0; i < Net::node_count; ++i) c += keep(Net::plan.nodes[i].kind);
    return c;
  }();
  std::array<table_row, n> rows{};
  std::size_t r = 0;
  for (std::size_t i = 0; i < Net::node_count; ++i) {
    const auto& node = Net::plan.nodes[i];
    if (!keep(node.kind)) continue;
    rows[r++] = {node.kind, node.name, node.out, node.out.size(), node.param_count ? node.params[0].shape.size() : 0};
  }
  return rows;
}

}  // namespace ctnn::models::vgg16
