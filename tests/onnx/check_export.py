#!/usr/bin/python3
"""Checks the models tools/onnx_export.py wrote for the ONNX export test:
each passes onnx.checker with shape inference, its graph outputs have the
per-sample shapes the JSON lists, and every initializer holds its .npz
tensor in the layout the operator wants: a Gemm's weight (transB = 1) is
the dense layer's [in, out] weight transposed, every other tensor as it is.

    check_export.py DIR NAME...
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference


def check(directory, name):
    model = onnx.load(os.path.join(directory, name + ".onnx"))
    onnx.checker.check_model(model, full_check=True)
    with open(os.path.join(directory, name + ".json"), encoding="utf-8") as f:
        desc = json.load(f)
    arrays = np.load(os.path.join(directory, desc["parameters"]))
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    gemm_weights = {n.input[1] for n in model.graph.node if n.op_type == "Gemm"}
    for n in model.graph.node:
        if n.op_type == "Gemm":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            assert attrs.get("transB") == 1, "%s: %s has transB %s" % (name, n.name, attrs.get("transB"))
    checked = 0
    for t in desc["initializers"]:
        got = inits[t["name"]]
        if "array" not in t:
            assert np.array_equal(got, np.array(t["values"], dtype=np.float32).reshape(t["shape"])), t["name"]
            continue
        original = arrays[t["array"]]
        expected = original.T if t["name"] in gemm_weights else original
        assert got.dtype == np.float32 and got.shape == expected.shape, \
            "%s: %s is %s %s, expected %s" % (name, t["name"], got.dtype, list(got.shape), list(expected.shape))
        assert np.array_equal(got, expected), "%s: %s holds other values" % (name, t["name"])
        checked += 1
    inferred = shape_inference.infer_shapes(model)
    for out, spec in zip(inferred.graph.output, desc["outputs"]):
        dims = [d.dim_value for d in out.type.tensor_type.shape.dim][1:]
        assert dims == spec["shape"], "%s: output %s has %s, expected %s" % (name, out.name, dims, spec["shape"])
    ops = sorted({n.op_type for n in model.graph.node})
    print("%s: valid; %d nodes (%s), %d tensors in their layouts, outputs %s"
          % (name, len(model.graph.node), ", ".join(ops), checked, [o["shape"] for o in desc["outputs"]]))


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: check_export.py DIR NAME...\n")
        return 1
    for name in argv[2:]:
        check(argv[1], name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
