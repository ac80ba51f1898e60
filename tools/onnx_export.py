#!/usr/bin/python3
"""Turns an exported ctnn network (the JSON that ctnn::export_onnx writes, and
the .npz of parameters beside it) into an ONNX model, checked by
onnx.checker.check_model with shape inference.

    onnx_export.py model.json -o model.onnx

The JSON lists the graph's inputs and outputs (per-sample shapes; the batch
dimension becomes the symbolic "batch"), its nodes with their attributes and
its initializers: each a tensor of the .npz with its axes reordered as the
JSON says (a dense layer's [in, out] weight becomes Gemm's [out, in]), or a
literal value. Tensors become float32: a float model's values exactly.
Exit codes: 1 a usage error or a file that cannot be read, 2 a description
that does not make a valid ONNX model, 3 no onnx module.
"""

import argparse
import json
import os
import sys

import numpy as np

try:
    import onnx
    from onnx import checker, helper, numpy_helper
except ImportError:  # pragma: no cover - reported, not handled
    sys.stderr.write("onnx_export: the onnx Python package is missing (Debian: apt-get install python3-onnx)\n")
    sys.exit(3)


class Invalid(Exception):
    """A description that does not give a valid model; the message is shown as it is."""


def attribute(node_name, a):
    kind, value = a["type"], a["value"]
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)  # stored as float32 by ONNX
    if kind == "ints":
        return [int(v) for v in value]
    raise Invalid("onnx_export: node '%s': attribute '%s' has the unknown type '%s'" % (node_name, a["name"], kind))


def initializer(t, arrays, npz_path):
    shape = tuple(t["shape"])
    if "array" in t:
        if t["array"] not in arrays:
            raise Invalid("onnx_export: initializer '%s': %s has no array '%s'" % (t["name"], npz_path, t["array"]))
        a = arrays[t["array"]]
        if a.dtype not in (np.float32, np.float64):
            raise Invalid("onnx_export: array '%s' of %s is %s, not float" % (t["array"], npz_path, a.dtype))
        if t["permutation"]:
            a = np.transpose(a, t["permutation"])
    else:
        a = np.array(t["values"], dtype=np.float64).reshape(shape)
    if a.shape != shape:
        raise Invalid("onnx_export: initializer '%s' has shape %s in the file, %s in the description"
                      % (t["name"], list(a.shape), list(shape)))
    # np.array, not np.ascontiguousarray: that makes a scalar (Dropout's ratio) 1-D.
    return numpy_helper.from_array(np.array(a, dtype=np.float32, order="C"), t["name"])


def value_info(v):
    return helper.make_tensor_value_info(v["name"], onnx.TensorProto.FLOAT, ["batch"] + [int(d) for d in v["shape"]])


def build(desc, arrays, npz_path):
    if desc.get("format") != "ctnn-onnx-export" or desc.get("version") != 1:
        raise Invalid("onnx_export: not a ctnn export description (format ctnn-onnx-export, version 1)")
    nodes = []
    for n in desc["nodes"]:
        attrs = {a["name"]: attribute(n["name"], a) for a in n["attributes"]}
        nodes.append(helper.make_node(n["op_type"], n["inputs"], n["outputs"], name=n["name"], **attrs))
    graph = helper.make_graph(
        nodes, desc["name"], [value_info(v) for v in desc["inputs"]], [value_info(v) for v in desc["outputs"]],
        initializer=[initializer(t, arrays, npz_path) for t in desc["initializers"]])
    model = helper.make_model(graph, producer_name="ctnn", opset_imports=[helper.make_opsetid("", desc["opset"])])
    try:
        checker.check_model(model, full_check=True)
    except Exception as e:  # onnx's ValidationError and shape inference errors
        raise Invalid("onnx_export: the model is not valid ONNX: %s" % e)
    return model


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors exit with 1: exit code 2 means an invalid description."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(1, "%s: error: %s\n" % (self.prog, message))


def main(argv=None):
    parser = ArgumentParser(description="Write a network exported by ctnn::export_onnx as an ONNX model.")
    parser.add_argument("description", help="the .json file ctnn::export_onnx wrote (its .npz beside it)")
    parser.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    args = parser.parse_args(argv)
    try:
        with open(args.description, encoding="utf-8") as f:
            desc = json.load(f)
        npz_path = os.path.join(os.path.dirname(args.description), desc["parameters"])
        with np.load(npz_path) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write("onnx_export: cannot read %s: %s\n" % (args.description, e))
        return 1
    try:
        model = build(desc, arrays, npz_path)
    except Invalid as e:
        sys.stderr.write(str(e) + "\n")
        return 2
    except (KeyError, TypeError, ValueError) as e:  # a field missing or of the wrong kind
        sys.stderr.write("onnx_export: %s is not a valid description: %r\n" % (args.description, e))
        return 2
    onnx.save(model, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
