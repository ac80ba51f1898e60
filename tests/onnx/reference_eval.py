"""A float64 NumPy evaluator of the ONNX operators the importer test uses,
written from the ONNX operator specification, for onnx versions without
onnx.reference (before 1.13). Independent of the importer: it reads the
graph's NCHW tensors and attributes as ONNX defines them."""

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _out_size(w, k, s, p_begin, p_end, ceil):
    n = w + p_begin + p_end - k
    out = (-(-n // s) if ceil else n // s) + 1
    if ceil and (out - 1) * s >= w + p_begin:
        out -= 1  # a window may not start in the trailing padding
    return out


def _windows(x, a, pad_value):
    """x [N, C, H, W] -> the windows [N, C, Ho, Wo, kh, kw] and a mask of real positions."""
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    ceil = a.get("ceil_mode", 0)
    n, c, h, w = x.shape
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    ho = _out_size(h, eh, sh, pt, pb, ceil)
    wo = _out_size(w, ew, sw, pl, pr, ceil)
    # Pad enough for overhanging ceil-mode windows; padded positions are masked out.
    big_h = (ho - 1) * sh + eh
    big_w = (wo - 1) * sw + ew
    xp = np.full((n, c, pt + max(big_h - pt, h + pb), pl + max(big_w - pl, w + pr)), pad_value)
    real = np.zeros(xp.shape[2:], dtype=bool)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    real[pt:pt + h, pl:pl + w] = True
    inside = np.zeros(xp.shape[2:], dtype=bool)  # the explicitly padded input
    inside[:pt + h + pb, :pl + w + pr] = True
    win = np.empty((n, c, ho, wo, kh, kw))
    mask = np.empty((ho, wo, kh, kw), dtype=bool)
    pad_mask = np.empty((ho, wo, kh, kw), dtype=bool)
    for i in range(ho):
        for j in range(wo):
            rows = i * sh + dh * np.arange(kh)
            cols = j * sw + dw * np.arange(kw)
            win[:, :, i, j] = xp[:, :, rows[:, None], cols[None, :]]
            mask[i, j] = real[rows[:, None], cols[None, :]]
            pad_mask[i, j] = inside[rows[:, None], cols[None, :]]
    return win, mask, pad_mask


def _conv(x, w, b, a):
    g = a.get("group", 1)
    a = dict(a, kernel_shape=list(w.shape[2:]))
    win, _, _ = _windows(x, a, 0.0)
    cg, mg = x.shape[1] // g, w.shape[0] // g
    # Group k: output channels [k·M/G, (k+1)·M/G) read input channels [k·C/G, (k+1)·C/G).
    y = np.concatenate([np.einsum("ncijkl,mckl->nmij", win[:, k * cg:(k + 1) * cg], w[k * mg:(k + 1) * mg])
                        for k in range(g)], axis=1)
    if b is not None:
        y += b[None, :, None, None]
    return y


def _max_pool(x, a):
    win, mask, _ = _windows(x, a, -np.inf)
    return np.where(mask, win, -np.inf).max(axis=(4, 5))


def _average_pool(x, a):
    win, mask, pad_mask = _windows(x, a, 0.0)
    counted = pad_mask if a.get("count_include_pad", 0) else mask
    return np.where(mask, win, 0.0).sum(axis=(4, 5)) / counted.sum(axis=(2, 3))


def _conv_transpose(x, w, b, a):
    """Each input pixel scatters its filter, scaled, S apart; then the padding is cut off."""
    g = a.get("group", 1)
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    oh_pad, ow_pad = a.get("output_padding", [0, 0])
    n, c, h, wd = x.shape
    mg, kh, kw = w.shape[1:]
    cg = c // g
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oh_pad
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + ow_pad
    y = np.zeros((n, mg * g, full_h, full_w))
    for ci in range(c):
        k = ci // cg
        for i in range(h):
            for j in range(wd):
                for u in range(kh):
                    for v in range(kw):
                        y[:, k * mg:(k + 1) * mg, i * sh + u * dh, j * sw + v * dw] += (
                            x[:, ci, i, j][:, None] * w[ci, :, u, v][None, :])
    y = y[:, :, pt:full_h - pb, pl:full_w - pr]
    if b is not None:
        y += b[None, :, None, None]
    return y


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _recurrent(op, x, a):
    """ONNX's RNN, GRU and LSTM (default activations, layout 0): Y [T, dirs, N, H], Y_h [dirs, N, H]."""
    xs, w, r = x[0], x[1], x[2]
    hidden = a["hidden_size"]
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    dirs = w.shape[0]
    b = x[3] if len(x) > 3 and x[3] is not None else np.zeros((dirs, 2 * gates * hidden))
    steps, n = xs.shape[:2]
    y = np.zeros((steps, dirs, n, hidden))
    y_h = np.zeros((dirs, n, hidden))
    for d in range(dirs):
        wb, rb = b[d, :gates * hidden], b[d, gates * hidden:]
        h = x[5][d] if len(x) > 5 and x[5] is not None else np.zeros((n, hidden))
        c = x[6][d] if len(x) > 6 and x[6] is not None else np.zeros((n, hidden))
        order = range(steps) if d == 0 else range(steps - 1, -1, -1)
        for t in order:
            xw = xs[t] @ w[d].T + wb  # [N, G·H], gate blocks in ONNX's order
            hr = h @ r[d].T + rb
            blk = lambda m, k: m[:, k * hidden:(k + 1) * hidden]  # noqa: E731
            if op == "RNN":
                h = np.tanh(xw + hr)
            elif op == "LSTM":  # i, o, f, c
                i, o, f = (_sigmoid(blk(xw, k) + blk(hr, k)) for k in range(3))
                c = f * c + i * np.tanh(blk(xw, 3) + blk(hr, 3))
                h = o * np.tanh(c)
            else:  # GRU: z, r, h with linear_before_reset = 1
                if not a.get("linear_before_reset", 0):
                    raise NotImplementedError("GRU with linear_before_reset = 0")
                z, rr = (_sigmoid(blk(xw, k) + blk(hr, k)) for k in range(2))
                hh = np.tanh(blk(xw, 2) + rr * blk(hr, 2))
                h = (1 - z) * hh + z * h
            y[t, d] = h
        y_h[d] = h
    return y, y_h


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _node(node, v):
    a = _attrs(node)
    x = [v[i] if i else None for i in node.input]
    op = node.op_type
    if op == "Gemm":
        A = x[0].T if a.get("transA", 0) else x[0]
        B = x[1].T if a.get("transB", 0) else x[1]
        y = a.get("alpha", 1.0) * A @ B
        return y + a.get("beta", 1.0) * x[2] if len(x) > 2 and x[2] is not None else y
    if op == "MatMul":
        return x[0] @ x[1]
    if op == "Add":
        return x[0] + x[1]
    if op == "Sub":
        return x[0] - x[1]
    if op == "Mul":
        return x[0] * x[1]
    if op == "Div":
        return x[0] / x[1]
    if op == "Sum":
        return sum(x)
    if op == "Neg":
        return -x[0]
    if op == "Exp":
        return np.exp(x[0])
    if op == "Log":
        return np.log(x[0])
    if op == "Concat":
        return np.concatenate(x, axis=a["axis"])
    if op == "Reshape":
        shape = [x[0].shape[i] if d == 0 else d for i, d in enumerate(x[1].astype(np.int64))]
        return x[0].reshape(shape)
    if op == "Squeeze":
        return np.squeeze(x[0], axis=tuple(int(k) for k in x[1]))
    if op == "Unsqueeze":
        return np.expand_dims(x[0], axis=tuple(int(k) for k in x[1]))
    if op == "Shape":
        return np.array(x[0].shape, dtype=np.int64)
    if op == "Gather":
        return np.take(x[0], x[1].astype(np.int64), axis=a.get("axis", 0))
    if op == "Cast":
        return x[0].astype(np.int64) if a["to"] != TensorProto.FLOAT and a["to"] != TensorProto.DOUBLE else x[0]
    if op == "Pad":
        pads = [int(p) for p in (a["pads"] if "pads" in a else x[1])]
        fill = a.get("value", 0.0) if "pads" in a else (float(x[2]) if len(x) > 2 and x[2] is not None else 0.0)
        rank = x[0].ndim
        return np.pad(x[0], [(pads[k], pads[rank + k]) for k in range(rank)], constant_values=fill)
    if op == "Expand":
        return x[0] * np.ones(tuple(int(d) for d in x[1]))
    if op == "Transpose":
        return np.transpose(x[0], a.get("perm"))
    if op == "ConvTranspose":
        return _conv_transpose(x[0], x[1], x[2] if len(x) > 2 else None, a)
    if op == "LayerNormalization":
        axis = a.get("axis", -1) % x[0].ndim
        axes = tuple(range(axis, x[0].ndim))
        mean = x[0].mean(axis=axes, keepdims=True)
        var = ((x[0] - mean) ** 2).mean(axis=axes, keepdims=True)
        y = (x[0] - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * x[1]
        return y + x[2] if len(x) > 2 and x[2] is not None else y
    if op in ("RNN", "GRU", "LSTM"):
        return _recurrent(op, x, a)
    if op == "Relu":
        return np.maximum(x[0], 0)
    if op == "LeakyRelu":
        return np.where(x[0] >= 0, x[0], a.get("alpha", 0.01) * x[0])
    if op == "Elu":
        return np.where(x[0] > 0, x[0], a.get("alpha", 1.0) * np.expm1(np.minimum(x[0], 0)))
    if op == "Sigmoid":
        return 1 / (1 + np.exp(-x[0]))
    if op == "Tanh":
        return np.tanh(x[0])
    if op in ("Dropout", "Identity"):
        return x[0]
    if op == "Softmax":
        return _softmax(x[0], a.get("axis", -1))
    if op == "LogSoftmax":
        return np.log(_softmax(x[0], a.get("axis", -1)))
    if op == "Flatten":
        axis = a.get("axis", 1)
        return x[0].reshape(int(np.prod(x[0].shape[:axis])), -1)
    if op == "Conv":
        return _conv(x[0], x[1], x[2] if len(x) > 2 else None, a)
    if op == "MaxPool":
        return _max_pool(x[0], a)
    if op == "AveragePool":
        return _average_pool(x[0], a)
    if op == "GlobalAveragePool":
        return x[0].mean(axis=(2, 3), keepdims=True)
    if op == "BatchNormalization":
        shape = (1, -1) + (1,) * (x[0].ndim - 2)
        scale, bias, mean, var = (t.reshape(shape) for t in x[1:5])
        return (x[0] - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * scale + bias
    raise NotImplementedError(op)


def run(model, feeds):
    """The graph's outputs for the given inputs, every tensor in float64."""
    g = model.graph
    v = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in g.initializer}
    v.update({k: np.asarray(x, dtype=np.float64) for k, x in feeds.items()})
    for node in g.node:
        out = _node(node, v)
        for name, value in zip(node.output, out if isinstance(out, tuple) else (out,)):
            if name:
                v[name] = value
    return [v[o.name] for o in g.output]
