#!/usr/bin/python3
"""Writes the small ONNX models of the importer test, each with an input batch
and the outputs ONNX's semantics give for it.

    make_models.py OUTPUT_DIR

For each model NAME: NAME.onnx and NAME.npz (input: the batch, float32;
expected_K: output K, float64). The expected outputs come from
onnx.reference.ReferenceEvaluator where the installed onnx has it, and
otherwise from reference_eval.py, a float64 NumPy evaluator of the operators
used here. Two more models hold an operator, and an attribute, that the
importer must refuse: unsupported_op.onnx and unsupported_attr.onnx.
Weights and inputs are drawn from a fixed seed.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # the build must leave the source tree as it was
import reference_eval  # noqa: E402

OPSET = 13
BATCH = 3


class Builder:
    """Nodes, initializers and random weights of one graph."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.inits = []

    def weight(self, name, shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        scale = scale if scale is not None else 1.0 / np.sqrt(fan_in)
        a = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        self.inits.append(numpy_helper.from_array(a, name))
        return name

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def node(self, op, inputs, name, **attrs):
        out = name + "_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def model(self, graph_name, inputs, outputs):
        graph = helper.make_graph(self.nodes, graph_name, inputs, outputs, self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="make_models.py")
        onnx.checker.check_model(m)
        return m


def tensor(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def mlp_gemm(rng):
    """Gemm with transB = 1 and 0, a [1, N] bias, ReLU, LeakyReLU, Softmax."""
    b = Builder(rng)
    h = b.node("Gemm", ["input", b.weight("fc1.w", [16, 20]), b.weight("fc1.b", [16], 0.1)], "fc1", transB=1)
    h = b.node("Relu", [h], "relu1")
    h = b.node("Gemm", [h, b.weight("fc2.w", [16, 12]), b.weight("fc2.b", [12], 0.1)], "fc2")
    h = b.node("LeakyRelu", [h], "leaky", alpha=0.1)
    h = b.node("Gemm", [h, b.weight("fc3.w", [5, 12]), b.weight("fc3.b", [1, 5], 0.1)], "fc3", transB=1)
    y = b.node("Softmax", [h], "probs", axis=-1)
    return b.model("mlp_gemm", [tensor("input", ["N", 20])], [tensor(y, ["N", 5])]), [20]


def mlp_matmul(rng):
    """MatMul + Add as dense layers, a MatMul alone, Tanh, Dropout, Sigmoid,
    Elu, LogSoftmax; a value read by two layers; two outputs."""
    b = Builder(rng)
    h = b.node("MatMul", ["x.1", b.weight("W1", [10, 8])], "/layer1/MatMul")
    h = b.node("Add", [h, b.weight("b1", [8], 0.1)], "/layer1/Add")
    h = b.node("Tanh", [h], "/act1/Tanh")
    d = b.node("Dropout", [h], "/drop/Dropout")
    y1 = b.node("MatMul", [d, b.weight("W2", [8, 6])], "/head1/MatMul")
    y1 = b.node("Add", [b.weight("b2", [6], 0.1), y1], "/head1/Add")
    y1 = b.node("Sigmoid", [y1], "/head1/Sigmoid")
    y2 = b.node("MatMul", [d, b.weight("W3", [8, 4])], "/head2/MatMul")
    y2 = b.node("Elu", [y2], "/head2/Elu", alpha=0.5)
    y2 = b.node("LogSoftmax", [y2], "/head2/LogSoftmax", axis=1)
    return (b.model("mlp_matmul", [tensor("x.1", ["batch", 10])], [tensor(y1, ["batch", 6]), tensor(y2, ["batch", 4])]),
            [10])


def conv_net(rng):
    """Conv with padding, MaxPool in ceil mode, a stride-2 Conv whose windows
    do not tile (floor), Flatten, Gemm."""
    b = Builder(rng)
    h = b.node("Conv", ["image", b.weight("c1.w", [4, 1, 3, 3]), b.weight("c1.b", [4], 0.1)], "conv1",
               kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = b.node("Relu", [h], "relu1")
    h = b.node("MaxPool", [h], "pool1", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    h = b.node("Conv", [h, b.weight("c2.w", [6, 4, 2, 2]), b.weight("c2.b", [6], 0.1)], "conv2",
               kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1])
    h = b.node("Relu", [h], "relu2")
    h = b.node("MaxPool", [h], "pool2", kernel_shape=[2, 2], strides=[2, 2])
    h = b.node("Flatten", [h], "flatten", axis=1)
    y = b.node("Gemm", [h, b.weight("fc.w", [10, 24]), b.weight("fc.b", [10], 0.1)], "fc", transB=1)
    return b.model("conv_net", [tensor("image", [1, 1, 12, 12])], [tensor(y, [1, 10])]), [1, 12, 12]


def bn_net(rng):
    """BatchNormalization of feature maps and of a flat layer, AveragePool,
    GlobalAveragePool, a Conv without bias."""
    b = Builder(rng)

    def stats(prefix, c):
        return [b.const(prefix + ".scale", 1 + 0.2 * rng.standard_normal(c)),
                b.const(prefix + ".bias", 0.2 * rng.standard_normal(c)),
                b.const(prefix + ".mean", 0.3 * rng.standard_normal(c)),
                b.const(prefix + ".var", rng.uniform(0.5, 2.0, c))]

    h = b.node("Conv", ["pixels", b.weight("c1.w", [8, 3, 3, 3])], "conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = b.node("BatchNormalization", [h] + stats("bn1", 8), "bn1", epsilon=1e-3)
    h = b.node("Relu", [h], "relu1")
    h = b.node("AveragePool", [h], "avg", kernel_shape=[2, 2], strides=[2, 2])
    h = b.node("Conv", [h, b.weight("c2.w", [8, 8, 3, 3]), b.weight("c2.b", [8], 0.1)], "conv2", kernel_shape=[3, 3])
    h = b.node("Sigmoid", [h], "sig")
    h = b.node("GlobalAveragePool", [h], "gap")
    h = b.node("Flatten", [h], "flat")
    h = b.node("Gemm", [h, b.weight("fc.w", [8, 6]), b.weight("fc.b", [6], 0.1)], "fc")
    h = b.node("BatchNormalization", [h] + stats("bn2", 6), "bn2")
    y = b.node("Tanh", [h], "tanh")
    return b.model("bn_net", [tensor("pixels", ["N", 3, 10, 10])], [tensor(y, ["N", 6])]), [3, 10, 10]


def unsupported_op(rng):
    """Erf has no ctnn op."""
    b = Builder(rng)
    h = b.node("Gemm", ["x", b.weight("w", [4, 3])], "fc")
    y = b.node("Erf", [h], "erf_node")
    return b.model("unsupported_op", [tensor("x", ["N", 4])], [tensor(y, ["N", 3])]), [4]


def unsupported_attr(rng):
    """Gemm with alpha = 0.5: supported op, unsupported attribute."""
    b = Builder(rng)
    y = b.node("Gemm", ["x", b.weight("w", [4, 3])], "scaled_fc", alpha=0.5)
    return b.model("unsupported_attr", [tensor("x", ["N", 4])], [tensor(y, ["N", 3])]), [4]


def expected_outputs(model, x):
    try:
        from onnx.reference import ReferenceEvaluator  # onnx >= 1.13
    except ImportError:
        return reference_eval.run(model, {model.graph.input[0].name: x.astype(np.float64)}), "reference_eval.py"
    outs = ReferenceEvaluator(model).run(None, {model.graph.input[0].name: x})
    return [np.asarray(o, dtype=np.float64) for o in outs], "onnx.reference"


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out_dir, exist_ok=True)
    for seed, make in enumerate((mlp_gemm, mlp_matmul, conv_net, bn_net, unsupported_op, unsupported_attr)):
        rng = np.random.default_rng(1000 + seed)
        model, sample_shape = make(rng)
        name = make.__name__
        onnx.save(model, os.path.join(out_dir, name + ".onnx"))
        if name.startswith("unsupported"):
            continue
        x = rng.standard_normal([BATCH] + sample_shape).astype(np.float32)
        outs, how = expected_outputs(model, x)
        arrays = {"input": x}
        arrays.update({"expected_%d" % k: o for k, o in enumerate(outs)})
        np.savez(os.path.join(out_dir, name + ".npz"), **arrays)
        print("make_models: %s: %d output(s) by %s" % (name, len(outs), how))


if __name__ == "__main__":
    main()
