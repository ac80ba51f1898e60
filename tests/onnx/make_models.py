#!/usr/bin/python3
"""Writes the small ONNX models of the importer test, each with an input batch
and the outputs ONNX's semantics give for it.

    make_models.py OUTPUT_DIR

For each model NAME: NAME.onnx and NAME.npz (input: the batch, float32;
expected_K: output K, float64). The expected outputs come from
onnx.reference.ReferenceEvaluator where the installed onnx has it, and
otherwise from reference_eval.py, a float64 NumPy evaluator of the operators
used here (embedding_net's input is token ids, as floats). Two more models hold an operator, and an attribute, that the
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

    def const_int(self, name, values):
        self.inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
        return name

    def node(self, op, inputs, name, **attrs):
        out = name + "_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def node_outputs(self, op, inputs, name, k, **attrs):
        """A node of several outputs of which output k is returned (and the others left unnamed)."""
        outs = [""] * k + [name + "_out"]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs[k]

    def model(self, graph_name, inputs, outputs, opset=OPSET):
        graph = helper.make_graph(self.nodes, graph_name, inputs, outputs, self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_models.py")
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


def elementwise_net(rng):
    """A depthwise-grouped Conv; Add, Mul, Sub of per-channel and scalar
    constants (one given first); Relu, Neg, Exp, Div and Sum of computed
    tensors; a strided ConvTranspose with output_padding and a grouped one;
    Sub from a constant of the whole shape; Concat of channels; Reshape to a
    flat vector; MatMul by a transposed constant, Add; Unsqueeze and Squeeze."""
    b = Builder(rng)
    h = b.node("Conv", ["x", b.weight("dw.w", [6, 1, 3, 3]), b.weight("dw.b", [6], 0.1)], "depthwise",
               kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=3)
    h = b.node("Add", [h, b.weight("shift", [6, 1, 1])], "shift")
    h = b.node("Mul", [b.weight("gain", [1, 6, 1, 1]), h], "gain")
    s = b.node("Sub", [h, b.const("quarter", 0.25)], "minus_quarter")
    e = b.node("Exp", [b.node("Neg", [b.node("Relu", [s], "relu")], "neg")], "exp")
    d = b.node("Div", [e, b.node("Sigmoid", [s], "sig")], "ratio")
    t = b.node("ConvTranspose", [d, b.weight("up.w", [6, 2, 3, 3]), b.weight("up.b", [2], 0.1)], "up",
               strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    t2 = b.node("ConvTranspose", [d, b.weight("up2.w", [6, 1, 2, 2])], "up_grouped", strides=[2, 2], group=2)
    u = b.node("Sub", [b.weight("offset", [2, 8, 8]), t], "offset")
    c = b.node("Concat", [t, u, t2], "cat", axis=1)
    c = b.node("Sum", [c, b.node("Mul", [c, c], "square"), b.node("Tanh", [c], "tanh")], "total")
    f = b.node("Reshape", [c, b.const_int("flat_shape", [0, -1])], "flat")
    w = b.node("Transpose", [b.weight("fc.w", [5, 384])], "fc_weight_t", perm=[1, 0])
    y = b.node("Add", [b.node("MatMul", [f, w], "fc"), b.weight("fc.b", [5], 0.1)], "fc_bias")
    y = b.node("Unsqueeze", [y, b.const_int("axis2", [2])], "unsqueeze")
    y = b.node("Squeeze", [y, b.const_int("axis2b", [2])], "squeeze")
    return b.model("elementwise_net", [tensor("x", ["N", 3, 4, 4])], [tensor(y, ["N", 5])]), [3, 4, 4]


def sequence_net(rng):
    """A batch-first sequence through a bidirectional LSTM, a GRU
    (linear_before_reset) and an RNN of which only Y_h is read, with the
    Transpose, Reshape and Squeeze nodes PyTorch's exporter writes around
    them; LayerNormalization; every bias nonzero."""
    b = Builder(rng)
    t, d = 5, 4
    x = b.node("Transpose", ["seq"], "to_time_major", perm=[1, 0, 2])
    y = b.node_outputs("LSTM", [x, b.weight("lstm.W", [2, 12, d]), b.weight("lstm.R", [2, 12, 3]),
                                b.weight("lstm.B", [2, 24], 0.3)], "lstm", 0,
                       hidden_size=3, direction="bidirectional")
    y = b.node("Transpose", [y], "lstm_steps", perm=[0, 2, 1, 3])
    y = b.node("Reshape", [y, b.const_int("join", [0, 0, -1])], "lstm_joined")
    g = b.node_outputs("GRU", [y, b.weight("gru.W", [1, 12, 6]), b.weight("gru.R", [1, 12, 4]),
                               b.weight("gru.B", [1, 24], 0.3)], "gru", 0, hidden_size=4, linear_before_reset=1)
    g = b.node("Squeeze", [g, b.const_int("dir_axis", [1])], "gru_steps")
    r = b.node_outputs("RNN", [g, b.weight("rnn.W", [1, 3, 4]), b.weight("rnn.R", [1, 3, 3]),
                               b.weight("rnn.B", [1, 6], 0.3)], "rnn", 1, hidden_size=3)
    r = b.node("Squeeze", [r, b.const_int("dir_axis2", [0])], "rnn_last")
    g = b.node("Transpose", [g], "batch_first", perm=[1, 0, 2])
    n = b.node("LayerNormalization", [g, b.const("ln.scale", 1 + 0.2 * rng.standard_normal(4)),
                                      b.const("ln.bias", 0.2 * rng.standard_normal(4))], "norm", axis=-1)
    return (b.model("sequence_net", [tensor("seq", ["N", t, d])], [tensor(n, ["N", t, 4]), tensor(r, ["N", 3])],
                    opset=17), [t, d])


def exported_lstm(rng):
    """An LSTM as PyTorch's exporter writes nn.LSTM(batch_first=True) with a
    fixed batch: the zero initial states computed from the input's shape
    (Shape, Gather, Unsqueeze, Concat, Expand), Y_h read by a Gather of its
    one direction, then Gemm."""
    b = Builder(rng)
    x = b.node("Transpose", ["rows"], "to_time_major", perm=[1, 0, 2])
    n = b.node("Gather", [b.node("Shape", [x], "shape"), b.const_int("one", 1)], "batch_size", axis=0)
    n = b.node("Unsqueeze", [n, b.const_int("axis0", [0])], "batch_dim")
    dims = b.node("Concat", [b.const_int("dirs", [1]), n, b.const_int("hidden", [5])], "state_shape", axis=0)
    h0 = b.node("Expand", [b.const("zero", np.zeros(1)), dims], "h0")
    c0 = b.node("Expand", [b.const("zero_c", np.zeros(1)), dims], "c0")
    b.nodes.append(helper.make_node("LSTM", [x, b.weight("W", [1, 20, 4]), b.weight("R", [1, 20, 5]),
                                             b.weight("B", [1, 40], 0.3), "", h0, c0],
                                    ["lstm_y", "lstm_h", "lstm_c"], name="lstm", hidden_size=5))
    h = b.node("Gather", ["lstm_h", b.const_int("zero_index", 0)], "last", axis=0)
    y = b.node("Gemm", [h, b.weight("fc.w", [3, 5]), b.weight("fc.b", [3], 0.1)], "fc", transB=1)
    return b.model("exported_lstm", [tensor("rows", [BATCH, 6, 4])], [tensor(y, [BATCH, 3])]), [6, 4]


def padded_net(rng):
    """Pad nodes folded into the windows after them: zeros before a Conv, -inf
    before a MaxPool, zeros before an AveragePool that does not count its own
    padding, and PyTorch's Pad of nothing before an AveragePool."""
    b = Builder(rng)
    h = b.node("Pad", ["image", b.const_int("pad1", [0, 0, 1, 1, 0, 0, 1, 1])], "pad_conv")
    h = b.node("Conv", [h, b.weight("c.w", [4, 2, 3, 3]), b.weight("c.b", [4], 0.1)], "conv", kernel_shape=[3, 3])
    h = b.node("Pad", [h, b.const_int("pad2", [0, 0, 1, 1, 0, 0, 1, 1]), b.const("neg_inf", np.float32(-np.inf))],
               "pad_max")
    h = b.node("MaxPool", [h], "max_pool", kernel_shape=[3, 3], strides=[2, 2])
    h = b.node("Pad", [h, b.const_int("pad3", [0, 0, 1, 1, 0, 0, 1, 1])], "pad_avg")
    h = b.node("AveragePool", [h], "avg_pool", kernel_shape=[3, 3], strides=[1, 1])
    h = b.node("Pad", [h, b.const_int("pad4", [0] * 8)], "pad_nothing")
    y = b.node("AveragePool", [h], "avg_all", kernel_shape=[5, 5])
    return b.model("padded_net", [tensor("image", ["N", 2, 9, 9])], [tensor(y, ["N", 4, 1, 1])]), [2, 9, 9]


VOCABULARY = 7


def embedding_net(rng):
    """nn.Embedding as PyTorch exports it for float ids: Cast to int64, Gather
    rows of the table; a Gemm of the flattened rows."""
    b = Builder(rng)
    ids = b.node("Cast", ["ids"], "to_int", to=TensorProto.INT64)
    e = b.node("Gather", [b.weight("emb.weight", [VOCABULARY, 4], 1.0), ids], "/emb/Gather", axis=0)
    h = b.node("Flatten", [e], "flatten", axis=1)
    y = b.node("Gemm", [h, b.weight("fc.w", [3, 20]), b.weight("fc.b", [3], 0.1)], "fc", transB=1)
    return (b.model("embedding_net", [tensor("ids", ["N", 5])], [tensor(e, ["N", 5, 4]), tensor(y, ["N", 3])]),
            [5])


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
    for seed, make in enumerate((mlp_gemm, mlp_matmul, conv_net, bn_net, unsupported_op, unsupported_attr,
                                  elementwise_net, sequence_net, exported_lstm, padded_net, embedding_net)):
        rng = np.random.default_rng(1000 + seed)
        model, sample_shape = make(rng)
        name = make.__name__
        onnx.save(model, os.path.join(out_dir, name + ".onnx"))
        if name.startswith("unsupported"):
            continue
        if name == "embedding_net":  # token ids, as floats
            x = rng.integers(0, VOCABULARY, [BATCH] + sample_shape).astype(np.float32)
        else:
            x = rng.standard_normal([BATCH] + sample_shape).astype(np.float32)
        outs, how = expected_outputs(model, x)
        arrays = {"input": x}
        arrays.update({"expected_%d" % k: o for k, o in enumerate(outs)})
        np.savez(os.path.join(out_dir, name + ".npz"), **arrays)
        print("make_models: %s: %d output(s) by %s" % (name, len(outs), how))


if __name__ == "__main__":
    main()
