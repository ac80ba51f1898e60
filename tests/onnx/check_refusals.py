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

# (case, nodes, constants, inputs, outputs, text the message must hold)
CASES = [
    ("asymmetric_pads", [node("Conv", ["x", "w"], ["y"], "c", pads=[1, 0, 1, 0])], W33, IMAGE, Y,
     "only the same padding on every side"),
    ("same_pads_one_sided", [node("Conv", ["x", "w"], ["y"], "c", auto_pad="SAME_UPPER", strides=[2, 2])], W33, IMAGE,
     Y, "pads one side more than the other"),
    ("grouped_conv", [node("Conv", ["x", "w"], ["y"], "c", group=3)], {"w": np.zeros((3, 1, 3, 3))}, IMAGE, Y,
     "only group = 1"),
    ("rectangular_kernel", [node("Conv", ["x", "w"], ["y"], "c")], {"w": np.zeros((4, 3, 3, 1))}, IMAGE, Y,
     "only square windows"),
    ("reshape", [node("Reshape", ["x", "s"], ["y"], "r")], {"s": np.array([1, -1])}, IMAGE, Y,
     "operator Reshape is not supported"),
    ("softmax_of_image", [node("Softmax", ["x"], ["y"], "sm")], {}, IMAGE, Y, "flat per-sample vector"),
    ("softmax_first_axis", [node("Softmax", ["x"], ["y"], "sm", axis=0)], {}, FLAT, Y, "only the last axis"),
    ("conv_after_global_pool",
     [node("GlobalAveragePool", ["x"], ["g"], "gap"), node("Conv", ["g", "w"], ["y"], "c2")],
     {"w": np.zeros((2, 3, 1, 1))}, IMAGE, Y, "held by ctnn as [3] after global pooling"),
    ("avg_pool_padding_excluded", [node("AveragePool", ["x"], ["y"], "ap", kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
     {}, IMAGE, Y, "count_include_pad = 1"),
    ("max_pool_indices", [node("MaxPool", ["x"], ["y", "i"], "mp", kernel_shape=[2, 2])], {}, IMAGE,
     Y + [helper.make_tensor_value_info("i", TensorProto.INT64, None)], "only the first output"),
    ("add_of_two_tensors", [node("Add", ["x", "x"], ["y"], "sum")], {}, FLAT, Y, "only as the bias of a MatMul"),
    ("gemm_transA", [node("Gemm", ["x", "w"], ["y"], "fc", transA=1)], {"w": np.zeros((4, 3))}, FLAT, Y,
     "only transA = 0"),
    ("gemm_broadcast_0", [node("Gemm", ["x", "w", "b"], ["y"], "fc")], {"w": np.zeros((4, 3)), "b": np.zeros(3)},
     FLAT, Y, "only broadcast = 1"),
    ("gemm_weight_computed", [node("Gemm", ["x", "x"], ["y"], "fc")], {}, FLAT, Y, "must be a constant"),
    ("flatten_axis_2", [node("Flatten", ["x"], ["y"], "fl", axis=2)], {}, IMAGE, Y, "only axis=1"),
    ("leaky_slope_above_one", [node("LeakyRelu", ["x"], ["y"], "lr", alpha=2.0)], {}, FLAT, Y, "slope in (0, 1)"),
    ("batch_norm_training", [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn", training_mode=1)],
     {k: np.ones(3) for k in "sbmv"}, IMAGE, Y, "training_mode = 1"),
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
        opsets = [helper.make_opsetid("", OPSETS.get(case, 15))] + [helper.make_opsetid(n.domain, 1) for n in nodes if n.domain]
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
