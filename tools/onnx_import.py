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
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [x.decode("utf-8", "replace") for x in v]
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
        # Where a tensor holds the batch when not first: a recurrent layer's
        # [T, N, D] sequences. ctnn's values are always batch-first per sample.
        self.batch_axes = {}
        # A Pad's output (ONNX name -> (Pad node, [top, left, bottom, right], fill)),
        # folded into the Conv or pooling that reads it; and the (node, input)
        # pairs that have folded one.
        self.pads = {}
        self.folded_pads = set()
        # A Cast of a computed tensor to integers: token ids, read only by a
        # Gather from a constant table (an embedding). ONNX name -> the Cast node.
        self.id_casts = {}
        self.inputs = []

    # --- helpers ------------------------------------------------------------
    def value(self, node, k, batch_axis=0):
        """Input k as a computed value whose ONNX tensor holds the batch on batch_axis (None: any)."""
        name = node.input[k] if k < len(node.input) else ""
        if not name:
            refuse(node, "input %d is missing" % k)
        if name in self.constants:
            refuse(node, "input %d ('%s') is a constant where ctnn needs a computed tensor" % (k, name))
        if name in self.id_casts:
            refuse(node, "input %d ('%s') is the Cast of '%s' to integers; ctnn reads integer ids only in a Gather "
                   "from a constant table (an embedding)" % (k, name, self.id_casts[name].input[0]))
        if name in self.pads and (id(node), name) not in self.folded_pads:
            refuse(node, "input %d ('%s') is padded by the Pad node '%s', which ctnn folds only into the Conv, "
                   "MaxPool or AveragePool that reads it" % (k, name, self.pads[name][0].name or name))
        if name not in self.values:
            refuse(node, "input %d ('%s') is not produced by any supported node" % (k, name))
        held = self.batch_axes.get(name, 0)
        if batch_axis is not None and held != batch_axis:
            refuse(node, "input %d ('%s') holds the batch on axis %d where this operator needs it on axis %d"
                   % (k, name, held, batch_axis))
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

    def bind(self, node, out_name, expr, shape, layer=None, onnx_shape=None):
        """onnx_shape: the per-sample shape ONNX gives where it groups ctnn's values differently."""
        # A layer's binding is its layer name; any other node's, its whole node name.
        ident = self.idents.take(layer or sanitize(node.name or out_name))
        self.bindings.append(("%s '%s'" % (node.op_type, node.name or out_name), ident, expr, shape))
        self.values[out_name] = Value(ident, shape)
        self.check_against_onnx(node, out_name, onnx_shape or shape)

    def alias(self, node, out_name, value):
        self.values[out_name] = value
        self.check_against_onnx(node, out_name, value.shape, loose=True)

    def check_against_onnx(self, node, out_name, shape, loose=False):
        """The shape ctnn gives must be the one ONNX's shape inference gives (batch dim stripped)."""
        dims = self.onnx_shapes.get(out_name)
        b = self.batch_axes.get(out_name, 0)
        if dims is None or len(dims) <= b:
            return
        onnx_shape = tuple(dims[:b] + dims[b + 1:])
        if any(d is None for d in onnx_shape):
            return
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
            if self.batch_axes.get(o, 0):
                raise Refused("onnx_import: graph output '%s' holds the batch on axis %d; a ctnn network's outputs "
                              "hold it first (transpose it there in the model)" % (o, self.batch_axes[o]))
            if o in self.pads or o in self.id_casts:
                raise Refused("onnx_import: graph output '%s' is a Pad or a Cast to integers, which ctnn folds into "
                              "the node reading it; a ctnn network's outputs must be computed by a node" % o)
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


    # --- elementwise --------------------------------------------------------------
    def operands(self, node):
        """(x, constant or None, constant_first) of a two-input elementwise node,
        or (a, b, None) when both are computed."""
        names = list(node.input)
        if len(names) != 2 or not all(names):
            refuse(node, "two inputs are needed")
        consts = [n in self.constants for n in names]
        if all(consts):
            refuse(node, "both inputs are constants; ctnn computes only what depends on an input")
        if not any(consts):
            return self.value(node, 0), self.value(node, 1), None
        k = 1 if consts[1] else 0
        return self.value(node, 1 - k), self.constants[names[k]].astype(np.float32), k == 0

    def broadcast_constant(self, node, x, c):
        """How constant c meets x per sample: ('full', c as x.shape) or ('vector', v)
        for ctnn's broadcast ops (one value per channel of an image, else x's trailing axes)."""
        rank = len(x.shape) + 1
        if c.ndim > rank:
            refuse(node, "the constant %s has more axes than the input [batch] + %s" % (list(c.shape), list(x.shape)))
        dims = (1,) * (rank - c.ndim) + tuple(c.shape)
        if dims[0] != 1:
            refuse(node, "the constant %s varies along the batch axis" % list(c.shape))
        per_sample = dims[1:]
        given = list(c.shape)
        c = c.reshape(per_sample)
        if per_sample == x.shape:
            return "full", c
        if c.size == 1:
            k = x.shape[0] if len(x.shape) == 3 else x.shape[-1]
            return "vector", np.full(k, c.reshape(()), dtype=np.float32)
        if len(x.shape) == 3:
            if per_sample == (x.shape[0], 1, 1):
                return "vector", c.reshape(-1)
        else:
            trailing = list(per_sample)
            while trailing and trailing[0] == 1:
                trailing.pop(0)
            if tuple(trailing) == x.shape[len(x.shape) - len(trailing):]:
                return "vector", c.reshape(trailing)
        where = "one value per channel [C, 1, 1]" if len(x.shape) == 3 else "the input's trailing axes"
        refuse(node, "the constant %s does not broadcast onto [batch] + %s as ctnn can (the same shape, a scalar, "
               "or %s)" % (given, list(x.shape), where))

    def variable(self, node, array):
        """A ctnn::variable holding a constant operand; its parameter is named like the node."""
        layer = self.layer_name(node)
        cpp = self.idents.take(sanitize(layer + "_value"))
        self.weights.append((cpp, layer, np.ascontiguousarray(array, dtype=np.float32)))
        self.param_count += array.size
        return 'ctnn::variable<"%s", %s>' % (layer, shape_text(array.shape))

    def binary(self, node, a, fn, broadcast_fn):
        """fn: ctnn's same-shape op; broadcast_fn(x, v, constant_first): the
        expression with a per-channel or per-feature constant v, or None."""
        self.only(node, set(), a)
        x, y, constant_first = self.operands(node)
        if constant_first is None:
            if x.shape != y.shape:
                refuse(node, "the inputs' per-sample shapes %s and %s differ; ctnn combines tensors of the same "
                       "shape, or a tensor with a constant" % (list(x.shape), list(y.shape)))
            self.bind(node, node.output[0], "ctnn::%s(%s, %s)" % (fn, self.arg(x), self.arg(y)), x.shape)
            return
        kind, c = self.broadcast_constant(node, x, y)
        if kind == "full":
            var = self.variable(node, c)
            args = (var, self.arg(x)) if constant_first else (self.arg(x), var)
            self.bind(node, node.output[0], "ctnn::%s(%s, %s)" % ((fn,) + args), x.shape)
            return
        expr = broadcast_fn(x, c, constant_first)
        if expr is None:
            refuse(node, "a constant broadcast per channel or feature is supported for Add, Sub and Mul only; "
                   "ctnn has no broadcast divide")
        self.bind(node, node.output[0], expr, x.shape)

    def op_Add(self, node, a):
        # MatMul then Add of a bias vector is taken by op_MatMul as one dense layer.
        self.binary(node, a, "add", lambda x, v, first: "ctnn::broadcast_add(%s, %s)" % (self.arg(x), self.variable(node, v)))

    def op_Sub(self, node, a):
        def sub(x, v, constant_first):
            if constant_first:  # c − x = (−x) + c, both exact
                return "ctnn::broadcast_add(ctnn::scale<-1.0>(%s), %s)" % (self.arg(x), self.variable(node, v))
            return "ctnn::broadcast_add(%s, %s)" % (self.arg(x), self.variable(node, -v))
        self.binary(node, a, "subtract", sub)

    def op_Mul(self, node, a):
        self.binary(node, a, "multiply",
                    lambda x, v, first: "ctnn::broadcast_multiply(%s, %s)" % (self.arg(x), self.variable(node, v)))

    def op_Div(self, node, a):
        self.binary(node, a, "divide", lambda x, v, first: None)

    def op_Sum(self, node, a):
        self.only(node, set(), a)
        xs = [self.value(node, k) for k in range(len(node.input))]
        if any(x.shape != xs[0].shape for x in xs):
            refuse(node, "the inputs' per-sample shapes %s differ; ctnn adds tensors of the same shape"
                   % [list(x.shape) for x in xs])
        if len(xs) == 1:
            self.alias(node, node.output[0], xs[0])
            return
        expr = self.arg(xs[0])
        for x in xs[1:]:
            expr = "ctnn::add(%s, %s)" % (expr, self.arg(x))
        self.bind(node, node.output[0], expr, xs[0].shape)

    def op_Neg(self, node, a):
        self.activation(node, a, lambda x: "ctnn::scale<-1.0>(%s)" % self.arg(x))

    def op_Exp(self, node, a):
        self.activation(node, a, lambda x: "ctnn::exp(%s)" % self.arg(x))

    def op_Log(self, node, a):
        self.activation(node, a, lambda x: "ctnn::log(%s)" % self.arg(x))

    # --- shapes -------------------------------------------------------------------
    def per_sample_axis(self, node, axis, rank, what="axis"):
        """ONNX axis of a rank-`rank` tensor (batch first) as an axis of the sample."""
        if not -rank <= axis < rank:
            refuse(node, "%s %d is out of range for a rank-%d tensor" % (what, axis, rank))
        axis = axis + rank if axis < 0 else axis
        if axis == 0:
            refuse(node, "%s 0 is the batch axis; ctnn keeps the batch as it is" % what)
        return axis - 1

    def op_Concat(self, node, a):
        self.only(node, {"axis"}, a)
        if "axis" not in a:
            refuse(node, "the axis attribute is required")
        if self.all_constant(node):
            self.constants[node.output[0]] = np.concatenate([self.constants[n] for n in node.input], axis=a["axis"])
            return
        xs = [self.value(node, k) for k in range(len(node.input))]
        axis = self.per_sample_axis(node, a["axis"], len(xs[0].shape) + 1)
        if axis != 0:
            refuse(node, "ctnn concatenates along the first axis of a sample (ONNX axis 1) only, not axis %d"
                   % (axis + 1))
        if any(len(x.shape) != len(xs[0].shape) or x.shape[1:] != xs[0].shape[1:] for x in xs):
            refuse(node, "the inputs' per-sample shapes %s differ in more than their first axis"
                   % [list(x.shape) for x in xs])
        if len(xs) == 1:
            self.alias(node, node.output[0], xs[0])
            return
        # ctnn::concat takes two to four tensors; more are concatenated in turn.
        expr = "ctnn::concat(%s)" % ", ".join(self.arg(x) for x in xs[:4])
        for k in range(4, len(xs), 3):
            expr = "ctnn::concat(%s)" % ", ".join([expr] + [self.arg(x) for x in xs[k:k + 3]])
        shape = (sum(x.shape[0] for x in xs),) + tuple(xs[0].shape[1:])
        self.bind(node, node.output[0], expr, shape)

    def regroup(self, node, x, target):
        """x as the per-sample shape target: the same shape, a flat vector, or
        one that differs only by axes of size 1 (kept as ctnn holds it)."""
        if int(np.prod(target, dtype=np.int64)) != int(np.prod(x.shape, dtype=np.int64)):
            refuse(node, "the per-sample shape %s does not hold the %d values of %s"
                   % (list(target), int(np.prod(x.shape)), list(x.shape)))
        out = node.output[0]
        if tuple(target) == x.shape or (len(target) == 1 and len(x.shape) == 1):
            self.alias(node, out, x)
        elif len(target) == 1 and not self.batch_axes.get(out, 0):
            self.bind(node, out, "ctnn::flatten(%s)" % self.arg(x), tuple(target))
        elif self.same_memory(tuple(target), x.shape):
            self.alias(node, out, x)  # ctnn keeps its own shape; the values are the same
        else:
            refuse(node, "ctnn cannot regroup a sample %s into %s; it can flatten a sample or add and drop axes of "
                   "size 1" % (list(x.shape), list(target)))

    def int_list(self, node, k, what):
        name = node.input[k] if k < len(node.input) else ""
        if name not in self.constants:
            refuse(node, "its %s (input %d, '%s') must be a constant" % (what, k, name))
        return [int(v) for v in self.constants[name].reshape(-1)]

    def held_shape(self, node, x):
        """The input's ONNX shape with the batch axis as None (ctnn's shape where ONNX's is unknown)."""
        b = self.batch_axes.get(node.input[0], 0)
        dims = self.onnx_shapes.get(node.input[0])
        if dims is None or len(dims) <= b or None in dims[:b] + dims[b + 1:]:
            dims = list(x.shape[:b]) + [None] + list(x.shape[b:])
        dims = list(dims)
        dims[b] = None
        return dims, b

    def op_Reshape(self, node, a):
        self.only(node, {"allowzero"}, a)
        x = self.value(node, 0, batch_axis=None)
        dims, b = self.held_shape(node, x)
        shape = self.int_list(node, 1, "shape")
        if a.get("allowzero", 0) and 0 in shape:
            refuse(node, "allowzero = 1 with a 0 in the shape makes an empty tensor")
        batch = (self.onnx_shapes.get(node.input[0]) or [None] * (b + 1))[b]
        # The batch axis must stay where it is (0 copies it, -1 infers it, or
        # the graph's fixed batch size), with the axes before it unchanged.
        if len(shape) <= b or not (shape[b] in (0, -1) or (batch is not None and shape[b] == batch)):
            refuse(node, "the new shape %s does not keep the batch on axis %d (0, -1 or the batch size)" % (shape, b))
        if any(d not in (0, dims[i]) for i, d in enumerate(shape[:b])):
            refuse(node, "the new shape %s changes the axes before the batch" % shape)
        if shape[b] == -1 and shape.count(-1) > 1:
            refuse(node, "the new shape %s has two -1 axes" % shape)
        target = []
        for i, d in enumerate(shape):
            if i == b:
                continue
            if d == 0:
                if i >= len(dims):
                    refuse(node, "axis %d copies an axis the input does not have" % i)
                d = dims[i]
            target.append(d)
        size = int(np.prod(x.shape, dtype=np.int64))
        if -1 in target:
            known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
            if known <= 0 or size % known:
                refuse(node, "the new shape %s does not fit a sample %s" % (shape, list(x.shape)))
            target[target.index(-1)] = size // known
        if any(d <= 0 for d in target):
            refuse(node, "the new shape %s is not a shape of positive sizes" % shape)
        if b:
            self.batch_axes[node.output[0]] = b
        self.regroup(node, x, target)

    def axes_of(self, node, a):
        """Squeeze's and Unsqueeze's axes: an attribute before opset 13, an input from then on."""
        if "axes" in a:
            return list(a["axes"])
        if len(node.input) > 1 and node.input[1]:
            return self.int_list(node, 1, "axes")
        refuse(node, "the axes are required (without them the batch axis could be squeezed)")

    def normalized_axes(self, node, axes, rank, b):
        axes = [k + rank if k < 0 else k for k in axes]
        if any(not 0 <= k < rank for k in axes):
            refuse(node, "an axis of %s is out of range for a rank-%d tensor" % (axes, rank))
        if b in axes:
            refuse(node, "axis %d is the batch axis; ctnn keeps the batch as it is" % b)
        if len(set(axes)) != len(axes):
            refuse(node, "an axis is given twice")
        return axes

    def op_Squeeze(self, node, a):
        self.only(node, {"axes"}, a)
        x = self.value(node, 0, batch_axis=None)
        dims, b = self.held_shape(node, x)
        axes = self.normalized_axes(node, self.axes_of(node, a), len(dims), b)
        if any(dims[k] != 1 for k in axes):
            refuse(node, "a squeezed axis of %s has a size other than 1" % ["N" if d is None else d for d in dims])
        kept = [d for k, d in enumerate(dims) if k not in axes]
        if kept.index(None):
            self.batch_axes[node.output[0]] = kept.index(None)
        self.regroup(node, x, [d for d in kept if d is not None])

    def op_Unsqueeze(self, node, a):
        self.only(node, {"axes"}, a)
        if node.input[0] in self.constants:
            c = self.constants[node.input[0]]
            raw = self.axes_of(node, a)
            self.constants[node.output[0]] = np.expand_dims(c, tuple(k + c.ndim + len(raw) if k < 0 else k for k in raw))
            return
        x = self.value(node, 0, batch_axis=None)
        dims, b = self.held_shape(node, x)
        raw = self.axes_of(node, a)
        axes = self.normalized_axes(node, raw, len(dims) + len(raw), -1)
        for k in sorted(axes):
            dims.insert(k, 1)
        if dims.index(None):
            self.batch_axes[node.output[0]] = dims.index(None)
        self.regroup(node, x, [d for d in dims if d is not None])

    def op_Transpose(self, node, a):
        # Only a permutation that moves the batch and keeps the per-sample axes
        # in order: around a recurrent layer, [N, T, D] <-> [T, N, D].
        self.only(node, {"perm"}, a)
        if node.input[0] in self.constants:  # a weight transposed in the graph (PyTorch's Linear before MatMul)
            c = self.constants[node.input[0]]
            self.constants[node.output[0]] = np.transpose(c, a.get("perm"))
            return
        x = self.value(node, 0, batch_axis=None)
        dims, b = self.held_shape(node, x)
        rank = len(dims)
        perm = list(a.get("perm", range(rank - 1, -1, -1)))
        if sorted(perm) != list(range(rank)):
            refuse(node, "perm %s is not a permutation of %d axes" % (perm, rank))
        rest = [p for p in perm if p != b]
        if rest != sorted(rest):
            refuse(node, "perm %s reorders the axes of a sample; ctnn can only move the batch axis" % perm)
        self.batch_axes[node.output[0]] = perm.index(b)
        self.alias(node, node.output[0], x)

    # --- shape arithmetic on constants ----------------------------------------------
    # PyTorch's exporter computes a recurrent layer's zero initial state from
    # the input's shape: Shape, Gather, Unsqueeze, Concat, Expand. With every
    # size known, the importer folds them into constants.
    def all_constant(self, node):
        return all(not n or n in self.constants for n in node.input)

    def op_Shape(self, node, a):
        self.only(node, {"start", "end"}, a)
        dims = self.onnx_shapes.get(node.input[0])
        if node.input[0] in self.constants:
            dims = list(self.constants[node.input[0]].shape)
        if dims is None or None in dims:
            refuse(node, "the shape of '%s' is not known when importing (a symbolic batch size): ctnn compiles "
                   "sizes in" % node.input[0])
        self.constants[node.output[0]] = np.array(dims, dtype=np.int64)[a.get("start", 0):a.get("end", None)]

    def op_Expand(self, node, a):
        self.only(node, set(), a)
        if not self.all_constant(node):
            refuse(node, "only an Expand of a constant to a constant shape is supported")
        c, shape = self.constants[node.input[0]], self.constants[node.input[1]]
        self.constants[node.output[0]] = np.broadcast_to(c, np.broadcast_shapes(c.shape, tuple(shape))).copy()

    def op_Gather(self, node, a):
        self.only(node, {"axis"}, a)
        axis = a.get("axis", 0)
        if self.all_constant(node):
            c = self.constants[node.input[0]]
            self.constants[node.output[0]] = np.take(c, self.constants[node.input[1]], axis=axis)
            return
        if node.input[0] in self.constants and len(node.input) > 1 and node.input[1] in self.id_casts:
            self.embedding(node, axis)
            return
        # A computed tensor: only taking the one index of an axis of size 1
        # (a recurrent layer's single direction of Y_h), which drops that axis.
        x = self.value(node, 0, batch_axis=None)
        dims, b = self.held_shape(node, x)
        axis = axis + len(dims) if axis < 0 else axis
        name = node.input[1] if len(node.input) > 1 else ""
        index = self.constants.get(name)
        if index is None or index.ndim != 0 or axis == b or not 0 <= axis < len(dims) or dims[axis] != 1 \
                or int(index) not in (0, -1):
            refuse(node, "only a constant scalar index into an axis of size 1 of a computed tensor is supported")
        kept = dims[:axis] + dims[axis + 1:]
        if kept.index(None):
            self.batch_axes[node.output[0]] = kept.index(None)
        self.regroup(node, x, [d for d in kept if d is not None])

    # --- token ids: Cast to integers, then Gather from a table ---------------------
    # PyTorch's nn.Embedding of ids given as floats (ctnn's way of feeding them)
    # exports as Cast(to=int64) then Gather(table, ids): ctnn's embedding.
    INTEGER_TYPES = {onnx.TensorProto.INT8, onnx.TensorProto.INT16, onnx.TensorProto.INT32, onnx.TensorProto.INT64,
                     onnx.TensorProto.UINT8, onnx.TensorProto.UINT16, onnx.TensorProto.UINT32,
                     onnx.TensorProto.UINT64}

    def op_Cast(self, node, a):
        self.only(node, {"to"}, a)
        to = a.get("to")
        if self.all_constant(node):
            dtype = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[to]
            self.constants[node.output[0]] = self.constants[node.input[0]].astype(dtype)
            return
        x = self.value(node, 0)
        if to in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE):
            self.alias(node, node.output[0], x)  # ctnn computes in one floating type throughout
            return
        if to not in self.INTEGER_TYPES:
            refuse(node, "a Cast of a computed tensor to %s is not supported" % onnx.TensorProto.DataType.Name(to))
        self.id_casts[node.output[0]] = node

    def embedding(self, node, axis):
        """Gather(table, Cast(ids)) on axis 0 of a [V, E] table: ctnn::embedding. ctnn throws a
        token_error for an id that is not an integer in [0, V), where ONNX would truncate it
        or count a negative one from the end: the same rows for every id both accept."""
        cast = self.id_casts[node.input[1]]
        table = self.constants[node.input[0]].astype(np.float32)
        if axis != 0 or table.ndim != 2:
            refuse(node, "only a Gather of token ids from the rows (axis 0) of a [rows, width] table is supported "
                   "(table %s, axis %d)" % (list(table.shape), axis))
        ids = self.value(cast, 0)
        if len(ids.shape) != 1:
            refuse(node, "ctnn's embedding takes a sequence of ids [T] per sample, not %s" % list(ids.shape))
        layer = self.layer_name(node)
        self.add_param(layer, "weight", table)
        self.bind(node, node.output[0], 'ctnn::embedding<"%s", %d, %d>(%s)' % (layer, table.shape[0], table.shape[1],
                                                                               self.arg(ids)),
                  (ids.shape[0], table.shape[1]), layer)

    # --- transposed convolution, layer norm, recurrent layers ---------------------
    def op_ConvTranspose(self, node, a):
        self.only(node, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", "output_padding",
                         "output_shape"}, a)
        x = self.value(node, 0)
        self.image(node, x, "a 2-D transposed convolution")
        w = self.constant(node, 1, "weight")
        g = a.get("group", 1)
        if w.ndim != 4 or g < 1 or w.shape[0] != x.shape[0] or x.shape[0] % g:
            refuse(node, "the weight %s does not fit %d input channels in %d group(s)" % (list(w.shape), x.shape[0], g))
        kernel = list(a.get("kernel_shape", w.shape[2:]))
        if kernel != list(w.shape[2:]):
            refuse(node, "kernel_shape %s differs from the weight's %s" % (kernel, list(w.shape[2:])))
        if kernel[0] != kernel[1]:
            refuse(node, "only square windows are supported (kernel %dx%d)" % tuple(kernel))
        f = kernel[0]
        pairs = {}
        for key, default in (("strides", [1, 1]), ("dilations", [1, 1]), ("output_padding", [0, 0])):
            v = list(a.get(key, default))
            if len(v) != 2 or v[0] != v[1]:
                refuse(node, "only equal %s along both axes are supported" % key)
            pairs[key] = v[0]
        s, d, extra = pairs["strides"], pairs["dilations"], pairs["output_padding"]
        extent = d * (f - 1) + 1
        auto_pad = a.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        if auto_pad == "NOTSET":
            pads = list(a.get("pads", [0, 0, 0, 0]))
        elif auto_pad == "VALID":
            pads = [0, 0, 0, 0]
        elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            # The output is S times the input; the padding that takes is split evenly or refused.
            pads = []
            for h in x.shape[1:]:
                total = s * (h - 1) + extra + extent - h * s
                if total < 0 or total % 2:
                    refuse(node, "auto_pad %s pads one side more than the other; ctnn pads symmetrically" % auto_pad)
                pads.append(total // 2)
            pads = pads + pads
        else:
            refuse(node, "auto_pad %s is not supported" % auto_pad)
        if len(pads) != 4 or len(set(pads)) != 1:
            refuse(node, "only the same padding on every side is supported (pads %s)" % pads)
        p = pads[0]
        if extra >= max(s, d):
            refuse(node, "output_padding %d must be smaller than the stride or the dilation" % extra)
        outs = [(h - 1) * s - 2 * p + extent + extra for h in x.shape[1:]]
        if min(outs) < 1:
            refuse(node, "the output would be %s, not a positive size" % outs)
        if "output_shape" in a and list(a["output_shape"])[-2:] != outs:
            refuse(node, "output_shape %s differs from the %s that strides, pads and output_padding give"
                   % (list(a["output_shape"]), outs))
        out_channels = w.shape[1] * g
        options = []
        if s != 1:
            options.append("ctnn::stride<%d>" % s)
        if p:
            options.append("ctnn::padding<%d>" % p)
        if d != 1:
            options.append("ctnn::dilation<%d>" % d)
        if g != 1:
            options.append("ctnn::groups<%d>" % g)
        if extra:
            options.append("ctnn::output_padding<%d>" % extra)
        bias = None
        if len(node.input) > 2 and node.input[2]:
            bias = self.constant(node, 2, "bias").reshape(-1)
            if bias.size != out_channels:
                refuse(node, "the bias has %d values for %d output channels" % (bias.size, out_channels))
        else:
            options.append("ctnn::no_bias")
        layer = self.layer_name(node)
        # ONNX's [C, M/group, kH, kW] is ctnn's conv2d_transpose weight [C_in, C_out/G, F, F]: no reordering.
        self.add_param(layer, "weight", w)
        if bias is not None:
            self.add_param(layer, "bias", bias)
        opts = "".join(", " + o for o in options)
        self.bind(node, node.output[0],
                  'ctnn::conv2d_transpose<"%s", %d, %d%s>(%s)' % (layer, out_channels, f, opts, self.arg(x)),
                  (out_channels,) + tuple(outs), layer)

    def op_LayerNormalization(self, node, a):
        self.only(node, {"axis", "epsilon", "stash_type"}, a)
        self.single_output(node)
        x = self.value(node, 0)
        rank = len(x.shape) + 1
        axis = a.get("axis", -1)
        if axis + (rank if axis < 0 else 0) != rank - 1:
            refuse(node, "only the last axis is normalized by ctnn's layer_norm (axis %d of a rank-%d tensor)"
                   % (axis, rank))
        if len(x.shape) not in (1, 2):
            refuse(node, "ctnn's layer_norm takes [D] or [T, D] per sample, not %s" % list(x.shape))
        # ctnn's layer_norm uses PyTorch's ε = 1e-5 (as a float attribute: 1e-5 rounded to float).
        if np.float32(a.get("epsilon", 1e-5)) != np.float32(1e-5):
            refuse(node, "epsilon must be 1e-5 (ctnn's layer_norm's)")
        if a.get("stash_type", 1) != 1:
            refuse(node, "stash_type must be 1 (float statistics)")
        dim = x.shape[-1]
        scale = self.constant(node, 1, "scale").reshape(-1)
        bias = (self.constant(node, 2, "bias").reshape(-1) if len(node.input) > 2 and node.input[2]
                else np.zeros(dim, dtype=np.float32))
        for what, v in (("scale", scale), ("bias", bias)):
            if v.size != dim:
                refuse(node, "the %s has %d values for %d features" % (what, v.size, dim))
        layer = self.layer_name(node)
        self.add_param(layer, "weight", scale)
        self.add_param(layer, "bias", bias)
        self.bind(node, node.output[0], 'ctnn::layer_norm<"%s">(%s)' % (layer, self.arg(x)), x.shape, layer)

    def used(self, name):
        return bool(name) and (name in self.graph_outputs or bool(self.consumers.get(name)))

    def recurrent(self, node, a, kind, gates, gate_order, activations, extra_attrs=()):
        """ONNX's RNN, GRU or LSTM as ctnn's rnn, gru or lstm. gate_order: ONNX's
        gate blocks in ctnn's (PyTorch's) order."""
        self.only(node, {"hidden_size", "direction", "layout", "activations", "activation_alpha",
                         "activation_beta", "clip"} | set(extra_attrs), a)
        for attr in ("clip", "activation_alpha", "activation_beta"):
            if attr in a:
                refuse(node, "attribute '%s' is not supported: ctnn's %s has no %s" % (attr, kind, attr))
        direction = a.get("direction", b"forward")
        direction = direction.decode() if isinstance(direction, bytes) else direction
        if direction not in ("forward", "bidirectional"):
            refuse(node, "direction %s is not supported (forward or bidirectional)" % direction)
        dirs = 2 if direction == "bidirectional" else 1
        if a.get("layout", 0) != 0:
            refuse(node, "layout = 1 is not supported; the sequence must be [T, N, D] (layout 0)")
        given = [v.decode() if isinstance(v, bytes) else v for v in a.get("activations", [])]
        if given and [v.lower() for v in given] != [v.lower() for v in activations * dirs]:
            refuse(node, "activations %s are not supported; ctnn's %s uses %s" % (given, kind, activations * dirs))
        names = list(node.input) + [""] * 8
        if names[4]:
            refuse(node, "sequence_lens is not supported: ctnn runs every sequence for all its steps")
        for k, what in ((5, "initial_h"), (6, "initial_c")):
            if names[k] in self.constants and np.any(self.constants[names[k]]):
                refuse(node, "%s is a constant that is not zero; ctnn starts from zeros or from an initial state "
                       "computed from the inputs" % what)
        # An initial state computed from the inputs ([dirs, N, H], the batch on
        # axis 1) is ctnn's optional h0 (and c0) [H] or [2, H] per sample.
        computed = [k for k in (5, 6) if names[k] and names[k] not in self.constants]
        state_inputs = [5, 6] if kind == "lstm" else [5]
        if computed and computed != state_inputs:
            refuse(node, "ctnn's %s takes %s either all computed from the inputs or all zero" %
                   (kind, " and ".join(("initial_h", "initial_c")[k - 5] for k in state_inputs)))
        if len(node.input) > 7 and names[7]:
            refuse(node, "peepholes (input P) are not supported: ctnn's lstm has none")
        hidden = a.get("hidden_size")
        if node.input[0] in self.values and not self.batch_axes.get(node.input[0], 0):
            refuse(node, "the sequence '%s' holds the batch first; ONNX's %s reads it time-major [T, N, D] "
                   "(a Transpose with perm [1, 0, 2] before it turns a batch-first [N, T, D] one)"
                   % (node.input[0], node.op_type))
        x = self.value(node, 0, batch_axis=1)
        if len(x.shape) != 2:
            refuse(node, "the sequence must be [T, N, D], not %s with the batch on axis 1" % list(x.shape))
        steps, dim = x.shape
        gh = gates * hidden if hidden else None
        w = self.constant(node, 1, "W")
        r = self.constant(node, 2, "R")
        b = self.constant(node, 3, "B") if names[3] else np.zeros((dirs, 2 * w.shape[1]), dtype=np.float32)
        if hidden is None or w.shape != (dirs, gh, dim) or r.shape != (dirs, gh, hidden) or b.shape != (dirs, 2 * gh):
            refuse(node, "W %s, R %s and B %s do not fit hidden_size %s, %d direction(s) and %d input features"
                   % (list(w.shape), list(r.shape), list(b.shape), hidden, dirs, dim))
        outputs = list(node.output) + ["", "", ""]
        if kind == "lstm" and self.used(outputs[2]):
            refuse(node, "the cell state Y_c is used; ctnn's lstm outputs only h")
        if self.used(outputs[0]) and self.used(outputs[1]):
            refuse(node, "both Y and Y_h are used; ctnn's %s outputs every step or the last, not both" % kind)
        final = self.used(outputs[1])

        def reorder(t):  # [dirs, G·H, ...]: ONNX's gate blocks in ctnn's order
            blocks = t.reshape((dirs, gates, hidden) + t.shape[2:])
            return blocks[:, gate_order].reshape(t.shape)

        stacked = (lambda t: t) if dirs == 2 else (lambda t: t[0])
        layer = self.layer_name(node)
        self.add_param(layer, "weight_ih", stacked(reorder(w)))
        self.add_param(layer, "weight_hh", stacked(reorder(r)))
        self.add_param(layer, "bias_ih", stacked(reorder(b[:, :gh])))
        self.add_param(layer, "bias_hh", stacked(reorder(b[:, gh:])))
        options = ("ctnn::bidirectional" if dirs == 2 else "", "ctnn::final_state" if final else "")
        opts = "".join(", " + o for o in options if o)
        states = ""
        for k in computed:
            state = self.value(node, k, batch_axis=1)
            if state.shape != ((dirs, hidden) if dirs == 2 else (hidden,)):
                refuse(node, "its initial state '%s' holds %s per sample, not [%s%d]"
                       % (names[k], list(state.shape), "2, " if dirs == 2 else "", hidden))
            states += ", " + self.arg(state)
        expr = 'ctnn::%s<"%s", %d%s>(%s%s)' % (kind, layer, hidden, opts, self.arg(x), states)
        # ONNX's Y is [T, dirs, N, H] and Y_h [dirs, N, H]; ctnn's sample [T, dirs·H]
        # and [dirs·H] hold the same values in the same order.
        out = outputs[1] if final else outputs[0]
        self.batch_axes[out] = 1 if final else 2
        shape = (dirs * hidden,) if final else (steps, dirs * hidden)
        self.bind(node, out, expr, shape, layer, onnx_shape=((dirs, hidden) if final else (steps, dirs, hidden)))

    def op_RNN(self, node, a):
        self.recurrent(node, a, "rnn", 1, [0], ["Tanh"])

    def op_GRU(self, node, a):
        # ctnn's (PyTorch's) GRU applies the reset gate after the recurrent product.
        if a.get("linear_before_reset", 0) != 1:
            refuse(node, "linear_before_reset must be 1 (ctnn's gru, as PyTorch's, resets after R·h)")
        # ONNX's gates z, r, h are ctnn's r, z, n in the order 1, 0, 2.
        self.recurrent(node, a, "gru", 3, [1, 0, 2], ["Sigmoid", "Tanh"], {"linear_before_reset"})

    def op_LSTM(self, node, a):
        if a.get("input_forget", 0):
            refuse(node, "input_forget = 1 is not supported (ctnn's lstm has separate input and forget gates)")
        # ONNX's gates i, o, f, c are ctnn's i, f, g, o in the order 0, 2, 3, 1.
        self.recurrent(node, a, "lstm", 4, [0, 2, 3, 1], ["Sigmoid", "Tanh", "Tanh"], {"input_forget"})

    # --- Pad, folded into the window that reads it -------------------------------
    # PyTorch exports an average pooling that counts padding as a Pad (of zeros,
    # often of nothing) before an unpadded AveragePool; other exporters pad
    # explicitly before a Conv or MaxPool. Padding the spatial axes with the
    # value the window pads with itself is the same as the window's own pads.
    def op_Pad(self, node, a):
        self.only(node, {"mode", "pads", "value"}, a)
        mode = a.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode != "constant":
            refuse(node, "mode %s is not supported: ctnn's windows pad with a constant" % mode)
        if "pads" in a:  # opset < 11: attributes
            pads, fill = list(a["pads"]), float(a.get("value", 0.0))
        else:
            pads = [int(p) for p in self.int_list(node, 1, "pads")]
            fill = 0.0
            if len(node.input) > 2 and node.input[2]:
                fill = float(self.constant(node, 2, "constant_value").reshape(()))
        x = self.value(node, 0)
        if len(pads) != 2 * (len(x.shape) + 1):
            refuse(node, "pads %s does not have two values per axis of [batch] + %s" % (pads, list(x.shape)))
        if not any(pads):
            self.alias(node, node.output[0], x)
            return
        rank = len(pads) // 2
        if len(x.shape) != 3 or any(pads[k] or pads[rank + k] for k in (0, 1)) or min(pads) < 0:
            refuse(node, "only padding (not cropping) the two spatial axes of a per-sample image [C, H, W] is "
                   "supported; pads %s on %s" % (pads, ["batch"] + list(x.shape)))
        self.pads[node.output[0]] = (node, [pads[2], pads[3], pads[2 + rank], pads[3 + rank]], fill)
        self.values[node.output[0]] = x

    def fold_pad(self, node, a, fills, what):
        """Attributes a with the pads of the Pad node before node added to its own;
        fills: the padding values for which that is the same computation."""
        name = node.input[0] if node.input else ""
        if name not in self.pads:
            return a
        pad, extra, fill = self.pads[name]
        if fill not in fills:
            refuse(node, "its input is padded by the Pad node '%s' with %r, which is not the %s %s pads with; "
                   "folding it would compute something else" % (pad.name or name, fill,
                                                                 " or ".join(repr(f) for f in fills), what))
        auto_pad = a.get("auto_pad", b"NOTSET")
        if (auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad) != "NOTSET":
            refuse(node, "its input is padded by the Pad node '%s'; it cannot be folded into auto_pad %s"
                   % (pad.name or name, auto_pad))
        merged = dict(a)
        merged["pads"] = [p + q for p, q in zip(a.get("pads", [0, 0, 0, 0]), extra)]
        self.folded_pads.add((id(node), name))
        return merged

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
        a = self.fold_pad(node, a, (0.0,), "a convolution")
        x = self.value(node, 0)
        self.image(node, x, "a 2-D convolution")
        w = self.constant(node, 1, "weight")
        g = a.get("group", 1)
        if g < 1 or x.shape[0] % g or (w.ndim == 4 and w.shape[0] % g):
            refuse(node, "group = %d does not divide %d input channels and the weight's %s" % (g, x.shape[0], list(w.shape)))
        if w.ndim != 4 or w.shape[1] * g != x.shape[0]:
            refuse(node, "the weight %s does not fit %d input channels in %d group(s)" % (list(w.shape), x.shape[0], g))
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
        if g != 1:
            options.append("ctnn::groups<%d>" % g)
        bias = None
        if len(node.input) > 2 and node.input[2]:
            bias = self.constant(node, 2, "bias").reshape(-1)
            if bias.size != w.shape[0]:
                refuse(node, "the bias has %d values for %d output channels" % (bias.size, w.shape[0]))
        else:
            options.append("ctnn::no_bias")
        layer = self.layer_name(node)
        # ONNX's [M, C/group, kH, kW] is ctnn's conv2d weight [C_out, C_in/G, F, F]: no reordering.
        self.add_param(layer, "weight", w)
        if bias is not None:
            self.add_param(layer, "bias", bias)
        opts = "".join(", " + o for o in options)
        self.bind(node, node.output[0], 'ctnn::conv2d<"%s", %d, %d%s>(%s)' % (layer, w.shape[0], f, opts, self.arg(x)),
                  (w.shape[0],) + tuple(outs), layer)

    def pool(self, node, a, kind, allowed):
        self.only(node, allowed, a)
        self.single_output(node)
        if kind == "max_pool":
            a = self.fold_pad(node, a, (-np.inf,), "a max pooling")
        elif node.input and node.input[0] in self.pads:
            own = any(a.get("pads", [0])) or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")
            a = self.fold_pad(node, a, (0.0,), "an average pooling")
            # Padded zeros are counted like any input; the pooling's own pads are
            # counted only with count_include_pad, which pool() checks.
            if not own:
                a["count_include_pad"] = 1
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
