"""A float64 NumPy evaluator of the ONNX operators the importer test uses,
written from the ONNX operator specification, for onnx versions without
onnx.reference (before 1.13). Independent of the importer: it reads the
graph's NCHW tensors and attributes as ONNX defines them."""

import numpy as np
from onnx import helper, numpy_helper


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
    if a.get("group", 1) != 1:
        raise NotImplementedError("grouped Conv")
    a = dict(a, kernel_shape=list(w.shape[2:]))
    win, _, _ = _windows(x, a, 0.0)
    y = np.einsum("ncijkl,mckl->nmij", win, w)
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
        v[node.output[0]] = _node(node, v)
    return [v[o.name] for o in g.output]
