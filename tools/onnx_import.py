#!/usr/bin/python3
"""Turns an ONNX model into a C++ header: the network as ctnn bindings and the
weights as constant arrays, with a load() that copies them into a model.

    onnx_import.py model.onnx -o model.hpp --namespace NAME [--weights literal|blob|auto]

The weights are literals in the header, or a blob linked into the binary
(tools/ctnn_weights.py, docs/deploy.md).

Only operators that map exactly onto ctnn ops are accepted (docs/onnx.md).
Any other operator, or a supported one with attributes ctnn cannot honour,
stops the tool with exit code 2 and a message naming the node, its op type
and its attributes: a network that computes something else is never written.
Exit code 1: a usage error or a file that cannot be read; 3: no onnx module.
"""

import argparse
import keyword
import math
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctnn_weights  # noqa: E402  (tools/, beside this file)

try:
    import onnx
    from onnx import numpy_helper, shape_inference
except ImportError:  # pragma: no cover - reported, not handled
    sys.stderr.write("onnx_import: the onnx Python package is missing (Debian: apt-get install python3-onnx)\n")
    sys.exit(3)


class Refused(Exception):
    """A model the importer refuses; the message is shown as it is."""


def attribute_text(node):
    parts = []
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        elif isinstance(v, onnx.TensorProto):
            v = "tensor%s" % (list(v.dims),)
        parts.append("%s=%s" % (a.name, v))
    return "{" + ", ".join(parts) + "}"


def refuse(node, why):
    raise Refused(
        "onnx_import: node '%s' (op %s, attributes %s): %s"
        % (node.name or (node.output[0] if node.output else "?"), node.op_type, attribute_text(node), why)
    )


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


CPP_RESERVED = set(
    """alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t class
    compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield decltype
    default delete do double dynamic_cast else enum explicit export extern false float for friend goto if inline int
    long mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public register
    reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch template this
    thread_local throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while xor
    xor_eq network load param_count std ctnn
    abs exp log sqrt tanh max min""".split()
)


def sanitize(text):
    """[A-Za-z0-9_] only, no leading digit, no double or edge underscores."""
    s = re.sub(r"[^A-Za-z0-9_]+", "_", text)
    s = re.sub(r"_+", "_", s).strip("_")
    if not s:
        s = "v"
    if s[0].isdigit():
        s = "v" + s
    return s


class Names:
    """Unique names: a second 'fc' becomes 'fc_2'."""

    def __init__(self, reserved=()):
        self.used = set(reserved)

    def take(self, base):
        name, k = base, 2
        while name in self.used or keyword.iskeyword(name):
            name = "%s_%d" % (base, k)
            k += 1
        self.used.add(name)
        return name


def shape_text(dims):
    return "ctnn::shape<%s>" % ", ".join(str(d) for d in dims)


def float_literal(v):
    """Enough digits to give back the same float (9 significant digits)."""
    if not math.isfinite(v):
        raise Refused("onnx_import: a weight is not finite (%r); ctnn's constants must be numbers" % v)
    s = "%.9g" % v
    if "." not in s and "e" not in s:
        s += ".0"
    return s + "f"


def window_out(w, extent, pad, stride, ceil):
    """ONNX's output size of a window (floor unless ceil_mode)."""
    n = w + 2 * pad - extent
    out = (-(-n // stride) if ceil else n // stride) + 1
    # A ceil-mode window that would start in the trailing padding is dropped.
    if ceil and (out - 1) * stride >= w + pad:
        out -= 1
    return out


class Value:
    """A ctnn expression for an ONNX tensor: the C++ binding and its per-sample shape."""

    def __init__(self, ident, shape, is_input=False):
        self.ident = ident
        self.shape = tuple(shape)
        self.is_input = is_input
        self.uses = 0


class Importer:
    def __init__(self, model):
        self.model = model
        g = model.graph
        self.graph = g
        self.opset = 1
        for o in model.opset_import:
            if o.domain in ("", "ai.onnx"):
                self.opset = o.version
        self.constants = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        self.onnx_shapes = {}
        for vi in list(g.value_info) + list(g.output) + list(g.input):
            t = vi.type.tensor_type
            if t.HasField("shape"):
                dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
                self.onnx_shapes[vi.name] = dims
        self.values = {}  # ONNX tensor name -> Value
        self.bindings = []  # (comment, ident, expr, shape)
        self.weights = []  # (C++ array name, ctnn parameter name, numpy array)
        self.param_count = 0
        self.idents = Names(CPP_RESERVED)
        self.layers = Names()
        self.consumers = {}
        for node in g.node:
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(node)
        self.graph_outputs = [o.name for o in g.output]
        self.skip = set()  # nodes already folded into an earlier one (MatMul's Add)
        self.inputs = []

    # --- helpers ------------------------------------------------------------
    def value(self, node, k):
        name = node.input[k] if k < len(node.input) else ""
        if not name:
            refuse(node, "input %d is missing" % k)
        if name in self.constants:
            refuse(node, "input %d ('%s') is a constant where ctnn needs a computed tensor" % (k, name))
        if name not in self.values:
            refuse(node, "input %d ('%s') is not produced by any supported node" % (k, name))
        return self.values[name]

    def constant(self, node, k, what):
        name = node.input[k] if k < len(node.input) else ""
        if name not in self.constants:
            refuse(node, "its %s (input %d, '%s') must be a constant (an initializer or a Constant node)"
                   % (what, k, name))
        return self.constants[name].astype(np.float32)

    def base_name(self, node, out_name=None):
        """The node's name without a trailing op type: PyTorch's '/fc1/Gemm' is 'fc1'."""
        name = node.name or out_name or node.output[0]
        parts = [p for p in name.split("/") if p]
        if len(parts) > 1 and re.fullmatch(re.escape(node.op_type) + r"(_\d+)?", parts[-1]):
            parts = parts[:-1]
        return sanitize("_".join(parts))

    def image(self, node, x, what):
        """Refuses unless x is a per-sample image [C, H, W]."""
        if len(x.shape) == 3:
            return
        held = ""
        dims = self.onnx_shapes.get(node.input[0])
        if dims and tuple(dims[1:]) != x.shape:
            held = " (ONNX's %s, held by ctnn as %s after global pooling)" % (list(dims[1:]), list(x.shape))
        refuse(node, "%s takes a per-sample image [C, H, W], not %s%s" % (what, list(x.shape), held))

    def layer_name(self, node):
        return self.layers.take(self.base_name(node))

    def add_param(self, layer, suffix, array, trainable=True):
        cpp = self.idents.take(sanitize(layer + "_" + suffix))
        self.weights.append((cpp, layer + "." + suffix, np.ascontiguousarray(array, dtype=np.float32)))
        if trainable:
            self.param_count += array.size

    def bind(self, node, out_name, expr, shape, layer=None):
        # A layer's binding is its layer name; any other node's, its whole node name.
        ident = self.idents.take(layer or sanitize(node.name or out_name))
        self.bindings.append(("%s '%s'" % (node.op_type, node.name or out_name), ident, expr, shape))
        self.values[out_name] = Value(ident, shape)
        self.check_against_onnx(node, out_name, shape)

    def alias(self, node, out_name, value):
        self.values[out_name] = value
        self.check_against_onnx(node, out_name, value.shape, loose=True)

    def check_against_onnx(self, node, out_name, shape, loose=False):
        """The shape ctnn gives must be the one ONNX's shape inference gives (batch dim stripped)."""
        dims = self.onnx_shapes.get(out_name)
        if dims is None or len(dims) == 0 or any(d is None for d in dims[1:]):
            return
        onnx_shape = tuple(dims[1:])
        if onnx_shape == tuple(shape):
            return
        # A [C, 1, 1] from global pooling is ctnn's [C]: the same values in memory.
        if loose or self.same_memory(onnx_shape, shape):
            return
        refuse(node, "ONNX gives output '%s' the per-sample shape %s, ctnn would give %s"
               % (out_name, list(onnx_shape), list(shape)))

    @staticmethod
    def same_memory(a, b):
        return [d for d in a if d != 1] == [d for d in b if d != 1]

    # --- operators ------------------------------------------------------------
    def run(self):
        g = self.graph
        for inp in g.input:
            if inp.name in self.constants:
                continue  # older exporters list initializers as inputs too
            t = inp.type.tensor_type
            if t.elem_type != onnx.TensorProto.FLOAT:
                raise Refused("onnx_import: input '%s' has element type %s; only float inputs are supported"
                                   % (inp.name, onnx.TensorProto.DataType.Name(t.elem_type)))
            dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
            if len(dims) < 2 or any(d is None or d <= 0 for d in dims[1:]):
                raise Refused("onnx_import: input '%s' has shape %s; it needs a leading batch dimension and "
                                   "known sizes for the rest" % (inp.name, ["?" if d is None else d for d in dims]))
            name = sanitize(inp.name)
            ident = self.idents.take(name)
            v = Value(ident, dims[1:], is_input=True)
            self.values[inp.name] = v
            self.inputs.append((inp.name, name, ident, tuple(dims[1:])))
            self.layers.used.add(name)  # a layer named like an input would make predict<"name"> ambiguous

        for node in g.node:
            if id(node) in self.skip:
                continue
            handler = getattr(self, "op_" + node.op_type, None)
            if node.domain not in ("", "ai.onnx") or handler is None:
                domain = node.domain + "." if node.domain else ""
                refuse(node, "operator %s%s is not supported" % (domain, node.op_type))
            handler(node, attributes(node))

        for o in self.graph_outputs:
            if o not in self.values:
                raise Refused("onnx_import: graph output '%s' is not computed by the network" % o)
            if self.values[o].is_input:  # ctnn predicts nodes; an input passed through is none
                raise Refused("onnx_import: graph output '%s' is the input '%s' passed through unchanged; "
                              "a ctnn network's outputs must be computed by a node" % (o, self.values[o].ident))

    def only(self, node, allowed, attrs):
        for k in attrs:
            if k not in allowed:
                refuse(node, "attribute '%s' is not supported" % k)

    def single_output(self, node):
        extra = [o for o in node.output[1:] if o]
        if extra:
            refuse(node, "only the first output is supported; %s are used" % extra)

    def op_Constant(self, node, a):
        if "value" not in a:
            refuse(node, "only a Constant with a 'value' tensor is supported")
        self.constants[node.output[0]] = numpy_helper.to_array(a["value"])

    def op_Identity(self, node, a):
        self.alias(node, node.output[0], self.value(node, 0))

    def op_Dropout(self, node, a):
        # Inference: the identity. The ratio (an attribute before opset 12, an
        # input after) does not matter; training_mode must be off.
        self.only(node, {"ratio", "is_test", "seed"}, a)
        if len(node.input) > 2 and node.input[2]:
            if node.input[2] not in self.constants or bool(self.constants[node.input[2]]):
                refuse(node, "training_mode must be a constant false")
        self.single_output(node)
        self.alias(node, node.output[0], self.value(node, 0))

    def activation(self, node, a, expr_of, allowed=()):
        self.only(node, set(allowed), a)
        x = self.value(node, 0)
        self.bind(node, node.output[0], expr_of(x), x.shape)

    def op_Relu(self, node, a):
        self.activation(node, a, lambda x: "ctnn::relu(%s)" % self.arg(x))

    def op_Sigmoid(self, node, a):
        self.activation(node, a, lambda x: "ctnn::sigmoid(%s)" % self.arg(x))

    def op_Tanh(self, node, a):
        self.activation(node, a, lambda x: "ctnn::tanh(%s)" % self.arg(x))

    def op_LeakyRelu(self, node, a):
        alpha = float(np.float32(a.get("alpha", 0.01)))
        if not 0 < alpha < 1:
            refuse(node, "ctnn's leaky_relu needs a slope in (0, 1)")
        self.activation(node, a, lambda x: "ctnn::leaky_relu<%r>(%s)" % (alpha, self.arg(x)), ("alpha",))

    def op_Elu(self, node, a):
        alpha = float(np.float32(a.get("alpha", 1.0)))
        if not alpha > 0:
            refuse(node, "ctnn's elu needs a positive alpha")
        self.activation(node, a, lambda x: "ctnn::elu<%r>(%s)" % (alpha, self.arg(x)), ("alpha",))

    def softmax_axis_is_last(self, node, a, x):
        axis = a.get("axis", -1 if self.opset >= 13 else 1)
        rank = len(x.shape) + 1
        if axis < 0:
            axis += rank
        if axis != rank - 1:
            refuse(node, "only the last axis is supported (axis %d of a rank-%d tensor)" % (axis, rank))
        if self.opset < 13 and rank != 2:
            # Before opset 13 the input is flattened to 2-D at the axis first.
            refuse(node, "before opset 13 only a [batch, N] input is supported")

    def op_Softmax(self, node, a):
        self.only(node, {"axis"}, a)
        x = self.value(node, 0)
        self.softmax_axis_is_last(node, a, x)
        if len(x.shape) != 1:
            refuse(node, "ctnn's softmax takes a flat per-sample vector, not %s" % list(x.shape))
        self.bind(node, node.output[0], "ctnn::softmax(%s)" % self.arg(x), x.shape)

    def op_LogSoftmax(self, node, a):
        self.only(node, {"axis"}, a)
        x = self.value(node, 0)
        self.softmax_axis_is_last(node, a, x)
        if len(x.shape) not in (1, 2):
            refuse(node, "ctnn's log_softmax takes [N] or [T, N] per sample, not %s" % list(x.shape))
        self.bind(node, node.output[0], "ctnn::log_softmax(%s)" % self.arg(x), x.shape)

    def op_Flatten(self, node, a):
        self.only(node, {"axis"}, a)
        x = self.value(node, 0)
        axis = a.get("axis", 1)
        if axis < 0:
            axis += len(x.shape) + 1
        if axis != 1:
            refuse(node, "only axis=1 (keep the batch, flatten the rest) is supported")
        n = int(np.prod(x.shape))
        if len(x.shape) == 1:
            self.alias(node, node.output[0], x)  # already flat
        else:
            self.bind(node, node.output[0], "ctnn::flatten(%s)" % self.arg(x), (n,))

    def op_Gemm(self, node, a):
        self.only(node, {"alpha", "beta", "transA", "transB", "broadcast"}, a)
        if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
            refuse(node, "only alpha = beta = 1 is supported")
        if a.get("transA", 0) != 0:
            refuse(node, "only transA = 0 is supported")
        x = self.value(node, 0)
        if len(x.shape) != 1:
            refuse(node, "the input must be [batch, K], not [batch] + %s" % list(x.shape))
        w = self.constant(node, 1, "B (weight)")
        if w.ndim != 2:
            refuse(node, "B must be 2-D")
        if a.get("transB", 0):
            w = w.T  # ONNX [N, K] -> ctnn's dense weight [K, N]
        if w.shape[0] != x.shape[0]:
            refuse(node, "B has %d rows for an input of %d features" % (w.shape[0], x.shape[0]))
        bias = None
        if len(node.input) > 2 and node.input[2]:
            # Before opset 7, C is broadcast over the batch only with broadcast = 1.
            if self.opset < 7 and not a.get("broadcast", 0):
                refuse(node, "before opset 7 only broadcast = 1 is supported (C broadcast over the batch)")
            bias = self.constant(node, 2, "C (bias)")
            bias = self.dense_bias(node, bias, w.shape[1])
        self.dense(node, node.output[0], x, w, bias)

    def dense_bias(self, node, bias, n):
        if bias.size == n and bias.shape in ((n,), (1, n)):
            return bias.reshape(n)
        if bias.size == 1:
            return np.full(n, bias.reshape(()), dtype=np.float32)
        refuse(node, "the bias has shape %s; only [N], [1, N] or a scalar is supported" % list(bias.shape))

    def dense(self, node, out_name, x, w, bias):
        layer = self.layer_name(node)
        n = w.shape[1]
        options = "" if bias is not None else ", ctnn::no_bias"
        self.add_param(layer, "weight", w)
        if bias is not None:
            self.add_param(layer, "bias", bias)
        self.bind(node, out_name, 'ctnn::dense<"%s", %d%s>(%s)' % (layer, n, options, self.arg(x)),
                  tuple(x.shape[:-1]) + (n,), layer)

    def op_MatMul(self, node, a):
        self.only(node, set(), a)
        x = self.value(node, 0)
        w = self.constant(node, 1, "second operand (weight)")
        if w.ndim != 2:
            refuse(node, "the weight must be 2-D")
        if len(x.shape) not in (1, 2) or x.shape[-1] != w.shape[0]:
            refuse(node, "the input [batch] + %s does not fit a [%d, %d] weight as a dense layer"
                   % (list(x.shape), w.shape[0], w.shape[1]))
        # MatMul then Add of a constant vector is one dense layer with a bias.
        out = node.output[0]
        users = self.consumers.get(out, [])
        bias, out_name = None, out
        if len(users) == 1 and users[0].op_type == "Add" and out not in self.graph_outputs:
            add = users[0]
            other = add.input[1] if add.input[0] == out else add.input[0]
            if other in self.constants and not attributes(add):
                b = self.constants[other].astype(np.float32)
                n = w.shape[1]
                if b.shape in ((n,), (1, n)) or b.size == 1:
                    bias = self.dense_bias(add, b, n)
                    out_name = add.output[0]
                    self.skip.add(id(add))
        self.dense(node, out_name, x, w, bias)

    def op_Add(self, node, a):
        # Reached only when op_MatMul did not take this Add as its bias.
        refuse(node, "Add is supported only as the bias of a MatMul: MatMul(x, W) then Add of a constant [N] "
               "read by nothing else")

    def window_attributes(self, node, a, kernel, w_hw, allow_ceil):
        """(F, stride, pad, dilation, rounding option) of a square, symmetric window."""
        kh, kw = kernel
        if kh != kw:
            refuse(node, "only square windows are supported (kernel %dx%d)" % (kh, kw))
        strides = list(a.get("strides", [1, 1]))
        dil = list(a.get("dilations", [1, 1]))
        pads = list(a.get("pads", [0, 0, 0, 0]))
        auto_pad = a.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        if len(strides) != 2 or strides[0] != strides[1]:
            refuse(node, "only equal strides along both axes are supported")
        if len(dil) != 2 or dil[0] != dil[1]:
            refuse(node, "only equal dilations along both axes are supported")
        s, d = strides[0], dil[0]
        extent = d * (kh - 1) + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            pads = []
            for w in w_hw:
                out = -(-w // s)
                total = max((out - 1) * s + extent - w, 0)
                if total % 2:
                    refuse(node, "auto_pad %s pads one side more than the other; ctnn pads symmetrically" % auto_pad)
                pads.append(total // 2)
            pads = pads + pads
        elif auto_pad == "VALID":
            pads = [0, 0, 0, 0]
        elif auto_pad != "NOTSET":
            refuse(node, "auto_pad %s is not supported" % auto_pad)
        if len(pads) != 4 or len(set(pads)) != 1:
            refuse(node, "only the same padding on every side is supported (pads %s)" % pads)
        p = pads[0]
        ceil = bool(a.get("ceil_mode", 0))
        outs = [window_out(w, extent, p, s, ceil) for w in w_hw]
        tiles = all((w + 2 * p - extent) % s == 0 for w in w_hw)
        rounding = None
        if not tiles:
            if ceil and not allow_ceil:
                refuse(node, "ceil_mode with windows that overhang the input is not supported here")
            rounding = "ctnn::ceil_mode" if ceil else "ctnn::floor_mode"
        return kh, s, p, d, rounding, outs

    def op_Conv(self, node, a):
        self.only(node, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"}, a)
        if a.get("group", 1) != 1:
            refuse(node, "only group = 1 is supported")
        x = self.value(node, 0)
        self.image(node, x, "a 2-D convolution")
        w = self.constant(node, 1, "weight")
        if w.ndim != 4 or w.shape[1] != x.shape[0]:
            refuse(node, "the weight %s does not fit %d input channels" % (list(w.shape), x.shape[0]))
        kernel = list(a.get("kernel_shape", w.shape[2:]))
        if kernel != list(w.shape[2:]):
            refuse(node, "kernel_shape %s differs from the weight's %s" % (kernel, list(w.shape[2:])))
        f, s, p, d, rounding, outs = self.window_attributes(node, a, kernel, x.shape[1:], allow_ceil=False)
        options = []
        if s != 1:
            options.append("ctnn::stride<%d>" % s)
        if p:
            options.append("ctnn::padding<%d>" % p)
        if d != 1:
            options.append("ctnn::dilation<%d>" % d)
        if rounding:
            options.append(rounding)
        bias = None
        if len(node.input) > 2 and node.input[2]:
            bias = self.constant(node, 2, "bias").reshape(-1)
            if bias.size != w.shape[0]:
                refuse(node, "the bias has %d values for %d output channels" % (bias.size, w.shape[0]))
        else:
            options.append("ctnn::no_bias")
        layer = self.layer_name(node)
        # ONNX's [M, C, kH, kW] is ctnn's conv2d weight [C_out, C_in, F, F]: no reordering.
        self.add_param(layer, "weight", w)
        if bias is not None:
            self.add_param(layer, "bias", bias)
        opts = "".join(", " + o for o in options)
        self.bind(node, node.output[0], 'ctnn::conv2d<"%s", %d, %d%s>(%s)' % (layer, w.shape[0], f, opts, self.arg(x)),
                  (w.shape[0],) + tuple(outs), layer)

    def pool(self, node, a, kind, allowed):
        self.only(node, allowed, a)
        self.single_output(node)
        x = self.value(node, 0)
        self.image(node, x, "2-D pooling")
        if "kernel_shape" not in a:
            refuse(node, "kernel_shape is required")
        if list(a.get("dilations", [1, 1])) != [1, 1]:
            refuse(node, "dilated pooling is not supported")
        if a.get("storage_order", 0) != 0:
            refuse(node, "storage_order 1 is not supported")
        f, s, p, _, rounding, outs = self.window_attributes(node, a, list(a["kernel_shape"]), x.shape[1:],
                                                           allow_ceil=(kind == "max_pool"))
        if p >= f:
            refuse(node, "the padding must be smaller than the window")
        if kind == "avg_pool" and p and not a.get("count_include_pad", 0):
            # ctnn divides by F·F, padded zeros included.
            refuse(node, "average pooling with padding needs count_include_pad = 1")
        options = []
        if s != f:
            options.append("ctnn::stride<%d>" % s)
        if p:
            options.append("ctnn::padding<%d>" % p)
        if rounding:
            options.append(rounding)
        opts = "".join(", " + o for o in options)
        self.bind(node, node.output[0], "ctnn::%s<%d%s>(%s)" % (kind, f, opts, self.arg(x)),
                  (x.shape[0],) + tuple(outs))

    def op_MaxPool(self, node, a):
        self.pool(node, a, "max_pool", {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "dilations",
                                        "storage_order"})

    def op_AveragePool(self, node, a):
        self.pool(node, a, "avg_pool", {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode",
                                        "count_include_pad", "dilations"})

    def op_GlobalAveragePool(self, node, a):
        self.only(node, set(), a)
        x = self.value(node, 0)
        self.image(node, x, "global pooling")
        # ONNX gives [C, 1, 1], ctnn [C]: the same values in the same order.
        self.bind(node, node.output[0], "ctnn::global_avg_pool(%s)" % self.arg(x), (x.shape[0],))

    def op_BatchNormalization(self, node, a):
        self.only(node, {"epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs"}, a)
        if a.get("training_mode", 0):
            refuse(node, "training_mode = 1 is not supported: the importer builds an inference network")
        if a.get("spatial", 1) != 1:
            refuse(node, "spatial = 0 is not supported")
        self.single_output(node)
        x = self.value(node, 0)
        c = x.shape[0]
        if len(x.shape) not in (1, 3):
            refuse(node, "ctnn's batch_norm takes [N] or [C, H, W] per sample, not %s" % list(x.shape))
        arrays = []
        for k, what in enumerate(("scale", "B", "mean", "var"), start=1):
            v = self.constant(node, k, what).reshape(-1)
            if v.size != c:
                refuse(node, "%s has %d values for %d channels" % (what, v.size, c))
            arrays.append(v)
        eps = float(np.float32(a.get("epsilon", 1e-5)))
        layer = self.layer_name(node)
        # predict() normalizes by the running statistics: ONNX's inference formula.
        self.add_param(layer, "gamma", arrays[0])
        self.add_param(layer, "beta", arrays[1])
        self.add_param(layer, "running_mean", arrays[2], trainable=False)
        self.add_param(layer, "running_var", arrays[3], trainable=False)
        expr = 'ctnn::batch_norm<"%s", 0.9, %r>(%s)' % (layer, eps, self.arg(x))
        self.bind(node, node.output[0], expr, x.shape, layer)

    # --- output ------------------------------------------------------------------
    def arg(self, value):
        """Marks a use; emit() turns a value read twice into ctnn::ref<>."""
        value.uses += 1
        return "@{%s}" % value.ident

    def emit(self, namespace, source, weights="literal", header_path=None):
        """The header's text. weights: 'literal' (arrays in the header) or 'blob'
        (also writes the .bin and .S beside header_path; tools/ctnn_weights.py)."""
        for o in self.graph_outputs:
            self.values[o].uses += 1
        multi = {v.ident for v in self.values.values() if v.uses > 1 and not v.is_input}

        def resolve(text):
            def handle(m):
                return ("ctnn::ref<%s>" % m.group(1)) if m.group(1) in multi else m.group(1)
            return re.sub(r"@\{(\w+)\}", handle, text)

        out = []
        w = out.append
        w("// Generated by tools/onnx_import.py from %s; do not edit." % source)
        w("// The network of the ONNX graph '%s' as ctnn bindings, its weights as constants," % self.graph.name)
        w("// and load(m), which copies them into a ctnn::model of the network.")
        w("#pragma once")
        w("")
        w("#include <cstddef>")
        w("#include <type_traits>")
        w("")
        w("#include <ctnn/ctnn.hpp>")
        w("")
        w("namespace %s {" % namespace)
        w("")
        w("// Inputs, per sample (the ONNX batch dimension is the model's B).")
        for onnx_name, name, ident, shape in self.inputs:
            w('// ONNX input "%s": fed as ctnn::feed<"%s">' % (onnx_name, name))
            w('inline constexpr auto %s = ctnn::input<"%s", %s>;' % (ident, name, shape_text(shape)))
        w("")
        for comment, ident, expr, shape in self.bindings:
            w("// %s" % comment)
            w("inline constexpr auto %s = %s;" % (ident, resolve(expr)))
            w("static_assert(std::is_same_v<decltype(%s)::out_shape, %s>);" % (ident, shape_text(shape)))
        w("")
        outs = []
        for o in self.graph_outputs:
            v = self.values[o]
            outs.append(("ctnn::ref<%s>" % v.ident) if v.ident in multi else v.ident)
            w('// Output %d: ONNX "%s", %s per sample' % (len(outs) - 1, o, shape_text(v.shape)))
        w("using network = decltype(ctnn::network(ctnn::outputs(%s)));" % ", ".join(outs))
        w("static_assert(network::param_count == %d);" % self.param_count)
        w("")
        try:
            out.extend(ctnn_weights.array_lines(self.weights, weights, namespace, header_path))
        except ctnn_weights.WeightError as e:
            raise Refused("onnx_import: %s" % e)
        w("")
        w("/// Copies the imported weights and running statistics into m (any batch size,")
        w("/// float or double); each name and size is checked at compile time.")
        w("template <std::size_t B, class T>")
        w("void load(ctnn::model<network, B, T>& m) {")
        for cpp, pname, arr in self.weights:
            w('  m.template param<"%s">() = %s;' % (pname, cpp))
        if not self.weights:
            w("  (void)m;")
        w("}")
        w("")
        w("}  // namespace %s" % namespace)
        w("")
        return "\n".join(out)


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors exit with 1: exit code 2 means a refused model."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(1, "%s: error: %s\n" % (self.prog, message))


def main(argv=None):
    parser = ArgumentParser(description="Write an ONNX model as a ctnn network header with its weights.")
    parser.add_argument("model", help="the .onnx file")
    parser.add_argument("-o", "--output", required=True, help="the header to write")
    parser.add_argument("--namespace", required=True, help="the C++ namespace of the network, e.g. mnist")
    parser.add_argument("--weights", choices=("literal", "blob", "auto"), default="literal",
                        help="literal (default): arrays in the header; blob: a .bin and a .S beside it, linked into the"
                             " binary; auto: literal up to %d KB of weights, blob above (docs/deploy.md)"
                             % (ctnn_weights.AUTO_LITERAL_MAX_BYTES // 1024))
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z_]\w*(::[A-Za-z_]\w*)*", args.namespace):
        parser.error("--namespace must be a C++ namespace name")
    try:
        try:
            model = onnx.load(args.model)
        except Exception as e:  # missing, unreadable or not a protobuf model
            sys.stderr.write("onnx_import: cannot read %s: %s\n" % (args.model, e))
            return 1
        try:
            model = shape_inference.infer_shapes(model)
        except Exception as e:  # the importer computes shapes itself; inference only cross-checks
            sys.stderr.write("onnx_import: warning: shape inference failed (%s); shapes are not cross-checked\n" % e)
        imp = Importer(model)
        imp.run()
        mode = ctnn_weights.choose_mode(args.weights, imp.weights)
        text = imp.emit(args.namespace, args.model.replace("\\", "/").split("/")[-1], mode, args.output)
    except Refused as e:
        sys.stderr.write(str(e) + "\n")
        return 2
    with open(args.output, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
