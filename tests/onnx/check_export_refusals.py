#!/usr/bin/python3
"""tools/onnx_export.py refuses what does not make a valid model: one
description per rule, each must exit with the code and the message given
(2: an invalid description, 1: a file it cannot read), writing no model.

    check_export_refusals.py TOOL DIR
"""

import copy
import json
import os
import re
import subprocess
import sys

import numpy as np

# A dense layer of 4 inputs and 3 outputs, as ctnn::export_onnx writes it.
VALID = {
    "format": "ctnn-onnx-export", "version": 1, "name": "fc", "opset": 13, "parameters": "fc.npz",
    "inputs": [{"name": "x", "shape": [4]}],
    "outputs": [{"name": "fc", "shape": [3]}],
    "initializers": [
        {"name": "fc.weight", "array": "fc.weight", "permutation": [1, 0], "shape": [3, 4]},
        {"name": "fc.bias", "array": "fc.bias", "permutation": [], "shape": [3]}],
    "nodes": [{"op_type": "Gemm", "name": "fc/Gemm", "inputs": ["x", "fc.weight", "fc.bias"], "outputs": ["fc"],
               "attributes": [{"name": "transB", "type": "int", "value": 1}]}],
}


def changed(edit):
    d = copy.deepcopy(VALID)
    edit(d)
    return d


CASES = [
    ("valid", VALID, 0, ""),
    ("initializer_shape", changed(lambda d: d["initializers"][0].update(permutation=[])), 2,
     r"^onnx_export: initializer 'fc.weight' has shape \[4, 3\] in the file, \[3, 4\] in the description\n$"),
    ("missing_array", changed(lambda d: d["initializers"][1].update(array="fc.b")), 2,
     r"^onnx_export: initializer 'fc.bias': .*fc.npz has no array 'fc.b'\n$"),
    ("invalid_onnx", changed(lambda d: d["nodes"][0].update(attributes=[])), 2,
     r"^onnx_export: the model is not valid ONNX: .*Gemm"),
    ("attribute_type", changed(lambda d: d["nodes"][0]["attributes"][0].update(type="string")), 2,
     r"^onnx_export: node 'fc/Gemm': attribute 'transB' has the unknown type 'string'\n$"),
    ("not_a_description", changed(lambda d: d.update(format="something else")), 2,
     r"^onnx_export: not a ctnn export description"),
    ("no_nodes", changed(lambda d: d.pop("nodes")), 2, r"^onnx_export: .* is not a valid description: KeyError\('nodes'\)"),
    ("no_parameters", changed(lambda d: d.update(parameters="missing.npz")), 1, r"^onnx_export: cannot read .*missing.npz"),
]


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: check_export_refusals.py TOOL DIR\n")
        return 1
    tool, directory = argv[1], argv[2]
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    np.savez(os.path.join(directory, "fc.npz"), **{"fc.weight": rng.random((4, 3), dtype=np.float32),
                                                  "fc.bias": rng.random(3, dtype=np.float32)})
    failed = 0
    for name, desc, code, pattern in CASES:
        path = os.path.join(directory, name + ".json")
        out = os.path.join(directory, name + ".onnx")
        if os.path.exists(out):
            os.remove(out)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(desc, f)
        r = subprocess.run([sys.executable, tool, path, "-o", out], capture_output=True, text=True)
        ok = r.returncode == code and re.search(pattern, r.stderr, re.S) and os.path.exists(out) == (code == 0)
        print("%s %s: exit %d, %s" % ("PASS" if ok else "FAIL", name, r.returncode, r.stderr.strip() or "no message"))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
