#!/usr/bin/python3
"""Models that tools/onnx_import.py must refuse, one per rule: each must end
the tool with exit code 2, a message naming the node and its op type and
saying why, and no header written.

    check_refusals.py TOOL WORK_DIR
"""

import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tensor(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def node(op, inputs, outputs, name, **attrs):
    return helper.make_node(op, inputs, outputs, name=name, **attrs)


IMAGE = [tensor("x", ["N", 3, 8, 8])]
FLAT = [tensor("x", ["N", 4])]
Y = [tensor("y", None)]
W33 = {"w": np.zeros((4, 3, 3, 3))}
SEQ = [tensor("x", ["N", 5, 4])]  # a batch-first sequence [N, T, D]
TIME_MAJOR = node("Transpose", ["x"], ["xt"], "to_time_major", perm=[1, 0, 2])

# (case, nodes, constants, inputs, outputs, text the message must hold)
CASES = [
    ("asymmetric_pads", [node("Conv", ["x", "w"], ["y"], "c", pads=[1, 0, 1, 0])], W33, IMAGE, Y,
     "only the same padding on every side"),
    ("same_pads_one_sided", [node("Conv", ["x", "w"], ["y"], "c", auto_pad="SAME_UPPER", strides=[2, 2])], W33, IMAGE,
     Y, "pads one side more than the other"),
    ("conv_groups_do_not_divide", [node("Conv", ["x", "w"], ["y"], "c", group=2)], {"w": np.zeros((4, 1, 3, 3))},
     IMAGE, Y, "group = 2 does not divide 3 input channels"),
    ("rectangular_kernel", [node("Conv", ["x", "w"], ["y"], "c")], {"w": np.zeros((4, 3, 3, 1))}, IMAGE, Y,
     "only square windows"),
    ("reshape_of_the_batch", [node("Reshape", ["x", "s"], ["y"], "r")], {"s": np.array([1, -1])}, IMAGE, Y,
     "does not keep the batch on axis 0"),
    ("reshape_regroups", [node("Reshape", ["x", "s"], ["y"], "r")], {"s": np.array([0, 6, 32])}, IMAGE, Y,
     "cannot regroup a sample [3, 8, 8] into [6, 32]"),
    ("squeeze_without_axes", [node("Squeeze", ["x"], ["y"], "sq")], {}, IMAGE, Y, "the axes are required"),
    ("transpose_of_a_sample", [node("Transpose", ["x"], ["y"], "t", perm=[0, 1, 3, 2])], {}, IMAGE, Y,
     "reorders the axes of a sample"),
    ("concat_of_rows", [node("Concat", ["x", "x"], ["y"], "cat", axis=2)], {}, IMAGE, Y,
     "along the first axis of a sample (ONNX axis 1) only"),
    ("softmax_of_image", [node("Softmax", ["x"], ["y"], "sm")], {}, IMAGE, Y, "flat per-sample vector"),
    ("softmax_first_axis", [node("Softmax", ["x"], ["y"], "sm", axis=0)], {}, FLAT, Y, "only the last axis"),
    ("conv_after_global_pool",
     [node("GlobalAveragePool", ["x"], ["g"], "gap"), node("Conv", ["g", "w"], ["y"], "c2")],
     {"w": np.zeros((2, 3, 1, 1))}, IMAGE, Y, "held by ctnn as [3] after global pooling"),
    ("avg_pool_padding_excluded", [node("AveragePool", ["x"], ["y"], "ap", kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
     {}, IMAGE, Y, "count_include_pad = 1"),
    ("max_pool_indices", [node("MaxPool", ["x"], ["y", "i"], "mp", kernel_shape=[2, 2])], {}, IMAGE,
     Y + [helper.make_tensor_value_info("i", TensorProto.INT64, None)], "only the first output"),
    ("add_not_per_channel", [node("Add", ["x", "c"], ["y"], "sum")], {"c": np.ones(8)}, IMAGE, Y,
     "does not broadcast onto [batch] + [3, 8, 8]"),
    ("div_by_broadcast_constant", [node("Div", ["x", "c"], ["y"], "div")], {"c": np.ones(4)}, SEQ, Y,
     "ctnn has no broadcast divide"),
    ("conv_transpose_output_shape", [node("ConvTranspose", ["x", "w"], ["y"], "up", output_shape=[9, 9])],
     {"w": np.zeros((3, 2, 3, 3))}, IMAGE, Y, "output_shape [9, 9] differs"),
    ("layer_norm_epsilon", [node("LayerNormalization", ["x", "g"], ["y"], "ln", epsilon=1e-3)], {"g": np.ones(4)},
     FLAT, Y, "epsilon must be 1e-5"),
    ("layer_norm_first_axis", [node("LayerNormalization", ["x", "g"], ["y"], "ln", axis=1)], {"g": np.ones(4)},
     SEQ, Y, "only the last axis"),
    ("lstm_clip", [TIME_MAJOR, node("LSTM", ["xt", "w", "r"], ["y"], "lstm", hidden_size=2, clip=3.0)],
     {"w": np.zeros((1, 8, 4)), "r": np.zeros((1, 8, 2))}, SEQ, Y, "attribute 'clip' is not supported"),
    ("lstm_peepholes", [TIME_MAJOR, node("LSTM", ["xt", "w", "r", "", "", "", "", "p"], ["y"], "lstm", hidden_size=2)],
     {"w": np.zeros((1, 8, 4)), "r": np.zeros((1, 8, 2)), "p": np.zeros((1, 6))}, SEQ, Y, "peepholes"),
    ("gru_reset_before", [TIME_MAJOR, node("GRU", ["xt", "w", "r"], ["y"], "gru", hidden_size=2)],
     {"w": np.zeros((1, 6, 4)), "r": np.zeros((1, 6, 2))}, SEQ, Y, "linear_before_reset must be 1"),
    ("rnn_activation", [TIME_MAJOR, node("RNN", ["xt", "w", "r"], ["y"], "rnn", hidden_size=2,
                                        activations=["Relu"])],
     {"w": np.zeros((1, 2, 4)), "r": np.zeros((1, 2, 2))}, SEQ, Y, "activations ['Relu'] are not supported"),
    ("rnn_sequence_lens", [TIME_MAJOR, node("RNN", ["xt", "w", "r", "", "lens"], ["y"], "rnn", hidden_size=2)],
     {"w": np.zeros((1, 2, 4)), "r": np.zeros((1, 2, 2)), "lens": np.array([3, 3, 3])}, SEQ, Y,
     "sequence_lens is not supported"),
    ("shape_of_symbolic_batch", [node("Shape", ["x"], ["y"], "shape")], {}, FLAT,
     [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
     "is not known when importing (a symbolic batch size)"),
    ("expand_of_computed", [node("Expand", ["x", "s"], ["y"], "ex")], {"s": np.array([1, 4])}, FLAT, Y,
     "only an Expand of a constant"),
    ("gather_of_features", [node("Gather", ["x", "i"], ["y"], "g", axis=1)], {"i": np.array(0)}, FLAT, Y,
     "an axis of size 1"),
    ("rnn_batch_first_input", [node("RNN", ["x", "w", "r"], ["y"], "rnn", hidden_size=2)],
     {"w": np.zeros((1, 2, 4)), "r": np.zeros((1, 2, 2))}, SEQ, Y,
     "holds the batch first; ONNX's RNN reads it time-major [T, N, D]"),
    ("gemm_transA", [node("Gemm", ["x", "w"], ["y"], "fc", transA=1)], {"w": np.zeros((4, 3))}, FLAT, Y,
     "only transA = 0"),
    ("gemm_broadcast_0", [node("Gemm", ["x", "w", "b"], ["y"], "fc")], {"w": np.zeros((4, 3)), "b": np.zeros(3)},
     FLAT, Y, "only broadcast = 1"),
    ("gemm_weight_computed", [node("Gemm", ["x", "x"], ["y"], "fc")], {}, FLAT, Y, "must be a constant"),
    ("flatten_axis_2", [node("Flatten", ["x"], ["y"], "fl", axis=2)], {}, IMAGE, Y, "only axis=1"),
    ("leaky_slope_above_one", [node("LeakyRelu", ["x"], ["y"], "lr", alpha=2.0)], {}, FLAT, Y, "slope in (0, 1)"),
    ("batch_norm_training", [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn", training_mode=1)],
     {k: np.ones(3) for k in "sbmv"}, IMAGE, Y, "training_mode = 1"),
    ("pad_before_relu", [node("Pad", ["x", "p"], ["xp"], "pad"), node("Relu", ["xp"], ["y"], "r")],
     {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1])}, IMAGE, Y, "folds only into the Conv, MaxPool or AveragePool"),
    ("pad_zeros_before_max_pool",
     [node("Pad", ["x", "p"], ["xp"], "pad"), node("MaxPool", ["xp"], ["y"], "mp", kernel_shape=[3, 3])],
     {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1])}, IMAGE, Y, "with 0.0, which is not the -inf a max pooling pads with"),
    ("pad_reflect", [node("Pad", ["x", "p"], ["y"], "pad", mode="reflect")],
     {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1])}, IMAGE, Y, "mode reflect is not supported"),
    ("pad_of_channels", [node("Pad", ["x", "p"], ["y"], "pad")], {"p": np.array([0, 1, 0, 0, 0, 1, 0, 0])}, IMAGE, Y,
     "only padding (not cropping) the two spatial axes"),
    ("cast_ids_into_relu", [node("Cast", ["x"], ["i"], "cast", to=TensorProto.INT64), node("Relu", ["i"], ["y"], "r")],
     {}, FLAT, Y, "reads integer ids only in a Gather from a constant table"),
    ("cast_ids_gather_columns",
     [node("Cast", ["x"], ["i"], "cast", to=TensorProto.INT64), node("Gather", ["t", "i"], ["y"], "g", axis=1)],
     {"t": np.zeros((4, 6))}, FLAT, Y, "from the rows (axis 0) of a [rows, width] table"),
    ("custom_domain", [helper.make_node("Relu", ["x"], ["y"], name="r", domain="com.example")], {}, FLAT, Y,
     "operator com.example.Relu is not supported"),
]

# Cases of an older opset (Gemm's broadcast attribute is gone from opset 7 on).
OPSETS = {"gemm_broadcast_0": 6}


def main():
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    failed = []
    for case, nodes, constants, inputs, outputs, text in CASES:
        # Integer constants (a Reshape's shape) stay int64, weights are float.
        inits = [numpy_helper.from_array(v.astype(np.int64 if v.dtype.kind == "i" else np.float32), k)
                 for k, v in constants.items()]
        opsets = [helper.make_opsetid("", OPSETS.get(case, 17))] + [helper.make_opsetid(n.domain, 1) for n in nodes if n.domain]
        model = helper.make_model(helper.make_graph(nodes, case, inputs, outputs, inits), opset_imports=opsets)
        path = os.path.join(work, case + ".onnx")
        header = os.path.join(work, case + ".hpp")
        onnx.save(model, path)
        if os.path.exists(header):
            os.remove(header)
        r = subprocess.run([sys.executable, tool, path, "-o", header, "--namespace", "refused"],
                           capture_output=True, text=True)
        culprit = nodes[-1]
        named = "node '%s' (op %s" % (culprit.name, culprit.op_type)
        ok = r.returncode == 2 and named in r.stderr and text in r.stderr and not os.path.exists(header)
        print("%s %s: exit %d: %s" % ("ok  " if ok else "FAIL", case, r.returncode, r.stderr.strip()))
        if not ok:
            failed.append(case)
    print("%d passed, %d failed" % (len(CASES) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
