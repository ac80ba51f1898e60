/// @file diagnostics.hpp
/// Every compile-time error ctnn reports. Each is a class template whose name
/// reads as the problem and whose arguments are only names and shapes, so the
/// compiler's "in instantiation of" line says what is wrong where, and the
/// network's own (possibly huge) type never appears in the message.
#pragma once

#include <cstddef>
#include <type_traits>

#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/shape.hpp"

namespace ctnn::diagnostic {

template <fixed_string Layer, class InputShape>
struct dense_input_is_not_flat {
  static_assert(InputShape::rank == 1 || InputShape::rank == 2,
                "CTNN_DENSE_INPUT: a dense layer takes a flat input of shape [features] (or a sequence [steps, "
                "features], one step at a time); apply flatten(...) to the input first");
};

template <fixed_string Loss, class PredictionShape, fixed_string Label, std::size_t LabelClasses>
struct loss_label_mismatch {
  static_assert(PredictionShape::rank == 1 && PredictionShape::size == LabelClasses,
                "CTNN_LOSS_LABEL_MISMATCH: the loss's predictions must be a vector with one score per "
                "class of its label");
};

template <fixed_string Loss, class PredictionShape, class TargetShape>
struct loss_target_mismatch {
  static_assert(std::is_same_v<PredictionShape, TargetShape>,
                "CTNN_LOSS_LABEL_MISMATCH: the loss's predictions and its target have different shapes");
};

template <fixed_string Loss, fixed_string Label>
struct loss_target_is_a_label {
  static_assert(Loss.size() == 0,
                "CTNN_LOSS_TARGET_IS_LABEL: this loss compares its prediction with a target tensor of the same "
                "shape (one 0/1 or -1/+1 value per attribute, a distribution for kl_divergence), not with a class "
                "label; feed the targets as an input, or use softmax_cross_entropy for a class label");
};

template <class MeanShape, class LogVarianceShape>
struct gaussian_kl_shapes_differ {
  static_assert(std::is_same_v<MeanShape, LogVarianceShape>,
                "CTNN_GAUSSIAN_KL_SHAPES: gaussian_kl(mean, log_variance) needs a mean and a log-variance of the "
                "same shape, one of each per latent dimension");
};

template <fixed_string Parameter, class FirstShape, class SecondShape>
struct tied_parameter_shapes_differ {
  static_assert(std::is_same_v<FirstShape, SecondShape>,
                "CTNN_TIED_SHAPE_MISMATCH: layers that share a parameter by name must agree on its "
                "shape; rename one of them or make their shapes agree");
};

template <fixed_string Input, class FirstShape, class SecondShape>
struct input_declared_with_two_shapes {
  static_assert(std::is_same_v<FirstShape, SecondShape>,
                "CTNN_INPUT_REDEFINED: one input name is declared with two different shapes; an input "
                "name must mean one tensor");
};

template <fixed_string Op, class FirstShape, class SecondShape>
struct operand_shapes_differ {
  static_assert(std::is_same_v<FirstShape, SecondShape>,
                "CTNN_SHAPE_MISMATCH: an elementwise op needs operands of the same shape");
};

template <fixed_string Op, class LeftShape, class RightShape>
struct matmul_inner_dimensions_differ {
  static_assert(LeftShape::rank >= 1 && LeftShape::rank <= 2 && RightShape::rank == 2 &&
                    LeftShape::dims[LeftShape::rank - 1] == RightShape::dims[0],
                "CTNN_SHAPE_MISMATCH: matmul needs [M, K] or [K] times [K, N]");
};

template <fixed_string Op, class InputShape, std::size_t Pieces>
struct maxout_pieces_do_not_divide {
  static_assert(InputShape::rank == 1 && InputShape::size % Pieces == 0,
                "CTNN_SHAPE_MISMATCH: maxout needs a flat input whose size is a multiple of its pieces");
};

/// `Member` is the first member of the op contract (ctnn/core/op.hpp) that
/// the op named `Op` ("" if it has no name) does not declare.
template <fixed_string Op, fixed_string Member>
struct op_lacks_member {
  static_assert(Member.size() == 0,
                "CTNN_OP_CONTRACT: an op must declare every member of the op contract (ctnn/core/op.hpp: "
                "name, spec<input shapes...> with kind, out_shape, forward<B, T> and backward<B, Mode, T>; "
                "derive the spec from spec_defaults for the rest); the second argument names the member missing");
};

template <fixed_string Layer, class Option>
struct dense_option_not_recognized {
  static_assert(sizeof(Option) == 0,
                "CTNN_DENSE_OPTION: dense<name, N, options...> takes no_bias, a ctnn::init:: scheme for the "
                "weight (or weight_init<...>) and bias_init<...>");
};

template <fixed_string Layer, std::size_t WeightInits, std::size_t BiasInits, bool NoBias>
struct dense_options_conflict {
  static_assert(WeightInits <= 1 && BiasInits <= 1 && !(NoBias && BiasInits > 0),
                "CTNN_DENSE_OPTION: a dense layer takes at most one weight initializer and one bias_init, "
                "and no bias_init together with no_bias");
};

template <fixed_string Parameter, std::size_t Nonzeros, std::size_t Rows>
struct sparse_init_exceeds_fan_in {
  static_assert(Nonzeros <= Rows,
                "CTNN_INIT_SPARSE: init::sparse<k> gives each unit k nonzero incoming weights and needs k "
                "at most the parameter's rows (a weight's fan-in)");
};

/// Layer: the first layer that uses the parameter.
template <fixed_string Layer>
struct tied_parameter_initializers_differ {
  static_assert(sizeof(decltype(Layer)) == 0,
                "CTNN_TIED_INIT_MISMATCH: layers that share a parameter by name must give it the same "
                "initializer; repeat the same init:: option on every use");
};

/// A sub-graph that is used twice but written out twice (by value) makes the
/// network's type grow exponentially with depth. Bind it once with
/// `inline constexpr auto name = ...;` and use `ctnn::ref<name>` instead.
template <class Op, class OutputShape>
struct subgraph_reused_without_ref {
  static_assert(sizeof(OutputShape) == 0,
                "CTNN_UNBOUND_REUSE: a sub-graph is used more than once but passed by value; bind it "
                "with `inline constexpr auto name = ...;` and refer to it as ctnn::ref<name>");
};

template <fixed_string Layer, class InputShape>
struct conv_input_is_not_an_image {
  static_assert(InputShape::rank == 3,
                "CTNN_CONV_INPUT: convolution and pooling take a per-sample input of shape "
                "[channels, height, width]");
};

/// W: input size along Axis, F: filter extent (with dilation D: D·(F−1)+1),
/// P: zero padding, S: stride.
template <fixed_string Layer, fixed_string Axis, std::size_t W, std::size_t F, std::size_t P, std::size_t S>
struct window_does_not_tile_input {
  static_assert(F <= W + 2 * P && (W + 2 * P - F) % S == 0,
                "CTNN_CONV_GEOMETRY: the output size is (W - F + 2P)/S + 1, so W - F + 2P must be "
                "non-negative and divisible by the stride S; the arguments are <layer, axis, W: input size, "
                "F: filter extent (D(F-1)+1 when dilated), P: zero padding, S: stride>. To round instead, add "
                "ctnn::floor_mode (drop the last partial window, as PyTorch) or, for pooling, ctnn::ceil_mode");
};

template <fixed_string Layer, std::size_t F, std::size_t P>
struct pool_padding_not_below_window {
  static_assert(P < F, "CTNN_CONV_GEOMETRY: a pooling window's padding must be smaller than the window");
};

template <fixed_string Layer, std::size_t InChannels, std::size_t OutChannels, std::size_t Groups>
struct conv_groups_do_not_divide_channels {
  static_assert(Groups > 0 && InChannels % Groups == 0 && OutChannels % Groups == 0,
                "CTNN_CONV_GROUPS: groups<G> must divide both the input and the output channels");
};

template <fixed_string Layer, class Option>
struct conv_option_not_recognized {
  static_assert(sizeof(Option) == 0,
                "CTNN_CONV_OPTION: conv2d<name, C, F, options...> takes stride<S>, padding<P>, dilation<D>, "
                "groups<G>, floor_mode, no_bias, a ctnn::init:: scheme (not sparse) for the weight and "
                "bias_init<...>, each at most once; pooling takes stride<S>, padding<P> and floor_mode or "
                "ceil_mode");
};

template <fixed_string Layer, class Option>
struct conv_transpose_option_not_recognized {
  static_assert(sizeof(Option) == 0,
                "CTNN_CONV_OPTION: conv2d_transpose<name, C, F, options...> takes stride<S>, padding<P>, "
                "dilation<D>, groups<G>, output_padding<A>, no_bias, a ctnn::init:: scheme (not sparse) for the "
                "weight and bias_init<...>, each at most once");
};

/// A transposed convolution's output size along Axis is
/// (H − 1)·S − 2P + F + A with F the dilated extent D·(F−1)+1.
template <fixed_string Layer, fixed_string Axis, std::size_t H, std::size_t F, std::size_t S, std::size_t P,
          std::size_t A>
struct conv_transpose_output_not_positive {
  static_assert((H - 1) * S + F + A > 2 * P,
                "CTNN_CONV_TRANSPOSE_GEOMETRY: the output size (H - 1)S - 2P + F + A must be positive; the "
                "arguments are <layer, axis, H: input size, F: filter extent (D(F-1)+1 when dilated), S: stride, "
                "P: padding, A: output_padding>");
};

/// output_padding picks one of the S input sizes a strided convolution maps
/// to the same output; it must be below the stride or the dilation
/// (PyTorch's rule), or the added rows would receive nothing.
template <fixed_string Layer, std::size_t A, std::size_t S, std::size_t D>
struct conv_transpose_output_padding_too_large {
  static_assert(A < S || A < D,
                "CTNN_CONV_TRANSPOSE_GEOMETRY: output_padding<A> must be smaller than the stride S or the "
                "dilation D; the arguments are <layer, A: output_padding, S: stride, D: dilation>");
};

template <class A, class B>
constexpr bool same_but_first_dim() {
  if constexpr (A::rank != B::rank || A::rank == 0) {
    return false;
  } else {
    for (std::size_t i = 1; i < A::rank; ++i)
      if (A::dims[i] != B::dims[i]) return false;
    return true;
  }
}

template <fixed_string Op, class FirstShape, class OtherShape>
struct concat_shapes_differ {
  static_assert(same_but_first_dim<FirstShape, OtherShape>(),
                "CTNN_SHAPE_MISMATCH: concat joins tensors along their first (channel) axis; their other "
                "dimensions must agree");
};

/// Batch normalization normalizes each feature of a flat [N] input, or each
/// channel of an image [C, H, W] over the batch and all positions.
template <fixed_string Layer, class InputShape>
struct batch_norm_input_is_not_flat_or_image {
  static_assert(InputShape::rank == 1 || InputShape::rank == 3,
                "CTNN_BATCH_NORM_INPUT: batch_norm takes a flat per-sample input [features] or an image "
                "[channels, height, width]; flatten the input or reshape it to an image");
};

/// The names of a network's leaves, or of its outputs or parameters: a
/// diagnostic's last arguments, so that the message lists what exists.
template <fixed_string... Names>
struct names {};

/// Position: the first argument of a model's call that is not a ctnn::feed.
template <std::size_t Position>
struct argument_is_not_a_feed {
  static_assert(Position == std::size_t(-1),
                "CTNN_FEED_UNNAMED: a model's calls take their data by name, as ctnn::feed<\"name\">(data); the "
                "argument is the position of the first argument that is not a feed");
};

/// A call's feeds against the network's leaves (inputs and labels).
template <fixed_string Feed, class Leaves>
struct feed_names_no_leaf {
  static_assert(sizeof(Leaves) == 0,
                "CTNN_FEED_UNKNOWN: a feed names no input or label of the network; the names it has are listed "
                "after the feed's name");
};

template <fixed_string Leaf>
struct leaf_fed_twice {
  static_assert(sizeof(decltype(Leaf)) == 0, "CTNN_FEED_DUPLICATE: one leaf is fed twice in the same call");
};

template <fixed_string Leaf, class Fed>
struct leaf_not_fed {
  static_assert(sizeof(Fed) == 0,
                "CTNN_FEED_MISSING: the call needs this input or label and it is not fed; the names that are "
                "fed are listed after it");
};

/// predict reads only what the requested output depends on.
template <fixed_string Feed, fixed_string Output>
struct feed_not_read_by_output {
  static_assert(sizeof(decltype(Feed)) == 0,
                "CTNN_FEED_NOT_READ: this output does not depend on the fed leaf; feed only what it reads");
};

/// Extent: the feed's static length; Batch × PerSample: what the call needs.
template <fixed_string Leaf, std::size_t Extent, std::size_t Batch, std::size_t PerSample>
struct feed_extent_mismatch {
  static_assert(Extent == Batch * PerSample,
                "CTNN_FEED_EXTENT: a feed's static extent must be the batch size times the leaf's size per "
                "sample; the arguments are <leaf, extent, batch, size per sample>");
};

template <fixed_string Input, class Given, class Expected>
struct input_fed_with_another_scalar_type {
  static_assert(std::is_same_v<Given, Expected>,
                "CTNN_FEED_TYPE: an input is read in place and must be fed with the model's scalar type "
                "(labels may be any arithmetic type)");
};

template <fixed_string Name, std::size_t Matches, class Outputs>
struct output_name_not_unique {
  static_assert(Matches == 1,
                "CTNN_OUTPUT_UNKNOWN: predict<name> must name exactly one of the network's outputs (a node's "
                "name, or its kind for an unnamed one); the outputs are listed after the count of matches");
};

/// An input or label listed in outputs(...): predict computes nodes, and a
/// leaf is no node's result. Position: its index among the outputs.
template <fixed_string Leaf, std::size_t Position>
struct output_is_a_leaf {
  static_assert(sizeof(decltype(Leaf)) == 0,
                "CTNN_OUTPUT_IS_LEAF: an output must be a node the network computes, not one of its inputs or "
                "labels (the caller holds those already); drop it from outputs(...), or output a node that reads "
                "it; the arguments are the leaf's name and its position among the outputs");
};

template <fixed_string Name, class Parameters>
struct no_parameter_named {
  static_assert(sizeof(Parameters) == 0,
                "CTNN_PARAM_UNKNOWN: no parameter of this name in the network; its parameters are listed "
                "after the name");
};

/// model_choice (ctnn/train/model_choice.hpp) feeds every network one input.
template <fixed_string Choice, std::size_t Inputs>
struct model_choice_input_count {
  static_assert(Inputs == 1,
                "CTNN_MODEL_CHOICE: every network of a model_choice takes exactly one input; the arguments are "
                "the choice's name and its number of inputs");
};

template <fixed_string Choice, class InputShape, fixed_string First, class FirstInputShape>
struct model_choice_input_shape_differs {
  static_assert(std::is_same_v<InputShape, FirstInputShape>,
                "CTNN_MODEL_CHOICE: every network of a model_choice takes an input of the first network's shape; "
                "the arguments are <choice, its input shape, first choice, its input shape>");
};

template <fixed_string Choice, std::size_t OutputSize, fixed_string First, std::size_t FirstOutputSize>
struct model_choice_output_size_differs {
  static_assert(OutputSize == FirstOutputSize,
                "CTNN_MODEL_CHOICE: the first output of every network of a model_choice has as many values per "
                "sample as the first network's; the arguments are <choice, its output size, first choice, its "
                "output size>");
};

/// log_softmax normalizes along the last axis; one value per sample has none.
template <fixed_string Op, class InputShape>
struct log_softmax_input_is_a_scalar {
  static_assert(InputShape::rank >= 1,
                "CTNN_SOFTMAX_AXIS: log_softmax normalizes along the input's last axis and needs a tensor, "
                "not one value per sample");
};

/// Loss: the loss's kind ("squared_error"); Option: the argument's type.
template <fixed_string Loss, class Option>
struct loss_option_not_recognized {
  static_assert(sizeof(Option) == 0,
                "CTNN_LOSS_OPTION: a loss takes, after its two arguments, reduce::sample_sum or reduce::sample_mean, "
                "reduce::batch_mean or reduce::batch_sum, no_half (squared_error only), or pytorch::mean or "
                "pytorch::sum on its own");
};

template <fixed_string Loss, class Option>
struct loss_option_does_not_apply {
  static_assert(sizeof(Option) == 0,
                "CTNN_LOSS_OPTION: this option does not apply to this loss: softmax_cross_entropy and "
                "negative_log_likelihood are not sums over a sample's elements and take no sample reduction, "
                "and only squared_error takes no_half");
};

template <fixed_string Loss, std::size_t SampleReductions, std::size_t BatchReductions, std::size_t NoHalves,
          std::size_t Conventions, std::size_t Others>
struct loss_options_conflict {
  static_assert(SampleReductions <= 1 && BatchReductions <= 1 && NoHalves <= 1 && Conventions <= 1 &&
                    (Conventions == 0 || Others == 0),
                "CTNN_LOSS_OPTION: a loss takes at most one sample reduction, one batch reduction and one "
                "no_half, and a pytorch:: convention only on its own; the arguments are <loss, sample "
                "reductions, batch reductions, no_halfs, conventions, other options>");
};

/// Op: the combining op's kind ("add"); First, Second: its operands' batch
/// reductions (ctnn::batch_reduction).
template <fixed_string Op, auto First, auto Second>
struct loss_batch_reductions_differ {
  static_assert(sizeof(decltype(First)) == 0,
                "CTNN_LOSS_REDUCTION_MIXED: an elementwise op combines a loss averaged over the batch with "
                "one summed over it; give both the same reduce::batch_mean or reduce::batch_sum, or pass "
                "them to network(...) as separate roots");
};

/// slice<Begin, End> takes rows [Begin, End) of the input's first axis.
template <std::size_t Begin, std::size_t End, class InputShape>
struct slice_outside_first_axis {
  static_assert(InputShape::rank >= 1 && Begin < End && End <= InputShape::dims[0],
                "CTNN_SLICE_RANGE: slice<Begin, End> takes rows [Begin, End) of the input's first axis and needs "
                "Begin < End <= that axis's size; the arguments are <Begin, End, input shape>");
};

/// chunk<Index, Parts> is one of Parts equal slices of the first axis.
template <std::size_t Index, std::size_t Parts, class InputShape>
struct chunk_does_not_divide_first_axis {
  static_assert(InputShape::rank >= 1 && Parts > 0 && Index < Parts && InputShape::dims[0] % Parts == 0,
                "CTNN_SLICE_RANGE: chunk<Index, Parts> needs Index < Parts and Parts dividing the size of the "
                "input's first axis; the arguments are <Index, Parts, input shape>");
};

template <fixed_string Input, class Option>
struct input_option_not_recognized {
  static_assert(sizeof(Option) == 0,
                "CTNN_INPUT_OPTION: input<name, shape, options...> takes only ctnn::requires_grad");
};

/// input_grad<"x">() reads the gradient of an input declared with requires_grad.
template <fixed_string Input>
struct input_gradient_not_requested {
  static_assert(sizeof(decltype(Input)) == 0,
                "CTNN_INPUT_GRADIENT: input_grad<name> needs an input declared as input<name, shape, "
                "ctnn::requires_grad> (a label has no gradient)");
};

/// A constant gives one value per element of its shape, or one for all.
template <fixed_string Constant, class Shape, std::size_t Values>
struct constant_values_do_not_fill_shape {
  static_assert(Values == 1 || Values == Shape::size,
                "CTNN_CONSTANT_VALUES: constant<name, shape, values...> takes one value per element of the shape "
                "(in memory order) or a single value for every element; the arguments are <name, shape, values "
                "given>");
};

/// A broadcast vector is [C] for an image [C, H, W], else x's trailing dimensions.
template <class X, class V>
constexpr bool broadcast_vector_fits() {
  if constexpr (X::rank == 3) {
    return V::rank == 1 && V::dims[0] == X::dims[0];
  } else {
    if (V::rank == 0 || V::rank > X::rank) return false;
    for (std::size_t i = 0; i < V::rank; ++i)
      if (V::dims[i] != X::dims[X::rank - V::rank + i]) return false;
    return true;
  }
}

template <fixed_string Op, class InputShape, class VectorShape>
struct broadcast_vector_does_not_fit {
  static_assert(broadcast_vector_fits<InputShape, VectorShape>(),
                "CTNN_BROADCAST_SHAPE: the vector must be [C] for an image [C, H, W] (one value per channel) and "
                "otherwise have the input's trailing dimensions ([D] for a [T, D] sequence); the arguments are "
                "<op, input shape, vector shape>");
};

/// Position: the argument of chain(x, ...) after x (1 = the first layer)
/// that cannot take the previous step's output.
template <std::size_t Position, class InputShape>
struct chain_step_is_not_a_layer {
  static_assert(sizeof(InputShape) == 0,
                "CTNN_CHAIN_LAYER: each step of chain(x, steps...) must be callable with the previous step's "
                "output alone (a layer, an activation, flatten); losses and two-input ops go outside the chain");
};

/// A recurrent layer (rnn, lstm, gru) reads a sequence: one feature vector
/// per time step.
template <fixed_string Layer, class InputShape>
struct recurrent_input_is_not_a_sequence {
  static_assert(InputShape::rank == 2,
                "CTNN_RECURRENT_INPUT: a recurrent layer takes a sequence of shape [steps, features]; give a "
                "one-feature signal as [steps, 1]; the arguments are <layer, input shape>");
};

/// An initial state (h0, c0) holds one hidden vector per direction.
template <fixed_string Layer, std::size_t Hidden, std::size_t Directions, class StateShape>
struct recurrent_state_size_differs {
  static_assert(StateShape::size == Hidden * Directions && StateShape::rank >= 1 && StateShape::rank <= 2,
                "CTNN_RECURRENT_STATE: an initial state must hold the layer's hidden size per direction: shape "
                "[hidden], or [2, hidden] for a bidirectional layer; the arguments are <layer, hidden size, "
                "directions, state shape>");
};

/// How many initial states a recurrent layer takes: none, or h0 (and c0
/// for an LSTM).
template <fixed_string Layer, std::size_t Expected, std::size_t Given>
struct recurrent_state_count {
  static_assert(Given == 0 || Given == Expected,
                "CTNN_RECURRENT_STATE: a recurrent layer takes its input sequence alone (zero initial state) or "
                "with its initial state: h0 for rnn and gru, h0 and c0 for lstm; the arguments are <layer, "
                "states it takes, states given>");
};

template <fixed_string Layer, class Option>
struct recurrent_option_not_recognized {
  static_assert(sizeof(Option) == 0,
                "CTNN_RECURRENT_OPTION: a recurrent layer takes the options bidirectional, final_state, an "
                "init:: scheme (or weight_init<...>) and bias_init<...>, each at most once");
};

/// An embedding looks up one row per id of a sequence of ids [T].
template <fixed_string Layer, class IdsShape>
struct embedding_ids_not_a_sequence {
  static_assert(IdsShape::rank == 1,
                "CTNN_EMBEDDING_INPUT: an embedding takes a sequence of token ids of shape [steps] (an input "
                "fed with class indices); the arguments are <layer, ids shape>");
};

template <fixed_string Layer, class Option>
struct embedding_option_not_recognized {
  static_assert(sizeof(Option) == 0,
                "CTNN_EMBEDDING_OPTION: an embedding takes one option, the table's init:: scheme (or "
                "weight_init<...>)");
};

/// model::final_state<name> reads the state a recurrent layer ended with.
template <fixed_string Name>
struct no_recurrent_layer_named {
  static_assert(sizeof(Name) == 0,
                "CTNN_RECURRENT_UNKNOWN: final_state<name> needs the name of a recurrent layer (rnn, lstm or gru) "
                "of the network");
};

/// A loss over a sequence compares the scores of every step with that
/// step's label.
template <fixed_string Loss, class PredictionShape, fixed_string Label, std::size_t LabelSteps>
struct sequence_lengths_differ {
  static_assert(PredictionShape::rank == 2 && PredictionShape::dims[0] == LabelSteps,
                "CTNN_SEQUENCE_LENGTH: a loss against a sequence label needs scores of shape [steps, classes] "
                "with the label's number of steps; the arguments are <loss, scores shape, label, label steps>");
};

/// affine_grid<H, W>(theta) reads one 2×3 affine matrix per sample.
template <std::size_t Height, std::size_t Width, class ThetaShape>
struct affine_theta_is_not_six_values {
  static_assert(ThetaShape::size == 6 && Height > 0 && Width > 0,
                "CTNN_AFFINE_GRID_THETA: affine_grid<H, W>(theta) takes 6 values per sample (a 2x3 affine matrix, "
                "row by row) and a grid of at least 1x1 points; the arguments are <H, W, theta shape>");
};

/// bilinear_sampler(image, grid) reads an image [C, H_in, W_in] at the
/// points of a grid [H, W, 2] of normalized (x, y) coordinates.
template <class ImageShape, class GridShape>
struct sampler_shapes_do_not_fit {
  static_assert(ImageShape::rank == 3 && GridShape::rank == 3 && GridShape::dims[GridShape::rank - 1] == 2,
                "CTNN_SAMPLER_SHAPE: bilinear_sampler(image, grid) takes an image [C, H_in, W_in] and a grid "
                "[H, W, 2] of (x, y) points in [-1, 1]; the arguments are <image shape, grid shape>");
};

/// Forces instantiation of a diagnostic (and so its static_assert).
template <class Diagnostic>
inline constexpr bool check = sizeof(Diagnostic) > 0;

struct no_problem {};

/// Instantiates the diagnostic only when `Fine` is false.
template <bool Fine, class Diagnostic>
inline constexpr bool check_unless = sizeof(std::conditional_t<Fine, no_problem, Diagnostic>) > 0;

}  // namespace ctnn::diagnostic
