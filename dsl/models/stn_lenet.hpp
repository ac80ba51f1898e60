/// @file stn_lenet.hpp
/// LeNet behind a spatial transformer (Jaderberg et al. 2015): a small
/// localization network looks at the image and gives a 2×3 affine matrix
/// theta; affine_grid and bilinear_sampler read the image through it; LeNet
/// (lenet.hpp, the same layers and names) classifies what comes out.
///
///   localization: [1, 28, 28] → loc_conv1 [8, 24, 24] → pool → ReLU [8, 12, 12]
///   → loc_conv2 [10, 8, 8] → pool → ReLU [10, 4, 4] → flatten [160]
///   → loc_fc1 [32] + ReLU → loc_fc2 [6] + identity = theta
///   transformer:  affine_grid<28, 28>(theta) [28, 28, 2]
///   → bilinear_sampler(image, grid) [1, 28, 28] → LeNet → [10]
///
/// loc_fc2 starts with zero weights and zero bias, and the constant identity
/// (1, 0, 0, 0, 1, 0) is added to its output: the same as a bias initialized
/// to the identity, so training starts from the untransformed image and the
/// gradient reaches the localization network through loc_fc2's weights.
///
/// Parameters: loc_conv1 8·25 + 8 = 208; loc_conv2 10·8·25 + 10 = 2,010;
/// loc_fc1 160·32 + 32 = 5,152; loc_fc2 32·6 + 6 = 198; localization 7,568;
/// with LeNet's 431,080, 438,648.
#pragma once

#include <ctnn/ctnn.hpp>
#include <models/lenet.hpp>

namespace ctnn::models::stn_lenet {

inline constexpr auto image = lenet::image;
inline constexpr auto identity_theta = ctnn::constant<"identity_theta", ctnn::shape<6>, 1, 0, 0, 0, 1, 0>;
inline constexpr auto localization = ctnn::relu(ctnn::max_pool<2>(ctnn::conv2d<"loc_conv2", 10, 5>(
    ctnn::relu(ctnn::max_pool<2>(ctnn::conv2d<"loc_conv1", 8, 5>(image))))));
inline constexpr auto theta = ctnn::add(
    ctnn::dense<"loc_fc2", 6, ctnn::init::zeros, ctnn::bias_init<ctnn::init::zeros>>(
        ctnn::relu(ctnn::dense<"loc_fc1", 32>(ctnn::flatten(localization)))),
    identity_theta);
/// The image as LeNet sees it: read through theta.
inline constexpr auto transformed = ctnn::bilinear_sampler(image, ctnn::affine_grid<28, 28>(theta));
inline constexpr auto logits = lenet::logits_of(ctnn::ref<transformed>);
/// Outputs: 0 the logits, 1 the transformed image, 2 theta.
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 10>),
                                       ctnn::outputs(logits, ctnn::ref<transformed>, ctnn::ref<theta>)));

static_assert(std::is_same_v<decltype(localization)::out_shape, ctnn::shape<10, 4, 4>>);
static_assert(std::is_same_v<decltype(transformed)::out_shape, ctnn::shape<1, 28, 28>>);
static_assert(network::param_count == 438'648);

}  // namespace ctnn::models::stn_lenet
