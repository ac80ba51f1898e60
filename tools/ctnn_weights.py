"""Writes a network's weights for a generated ctnn header, in one of two forms:

  literal  each array as `inline constexpr float name[] = {...}` in the header
           (%.9g: each float exactly). Simple, but the compiler parses every
           number: slow and memory-hungry beyond about a megabyte (docs/deploy.md).
  blob     the floats in `<stem>.weights.bin` beside the header, put into the
           binary by the assembler (`.incbin` in `<stem>.weights.S`, which the
           target compiles with its sources: cmake/ctnn_embedded_weights.cmake);
           the header declares each array as an aligned `extern "C" const float`.

Either way the header names each array the same and load(m) copies them in the
same way, so the model's size checks and its trainability do not depend on it.
Used by tools/onnx_import.py and tools/checkpoint_import.py.
"""

import math
import os

import numpy as np

# Up to this many bytes of weights, --weights auto writes literals. Measured
# (docs/deploy.md, "Weights in the binary"): a megabyte of literals costs g++ 12
# about 0.8 s and 95 MB, clang 16 1.4 s and 230 MB, growing linearly (16 MB:
# 16 s and 1 GB with g++), while a blob costs a fraction of a second at any size.
AUTO_LITERAL_MAX_BYTES = 1024 * 1024

# The arrays' alignment in the binary: a cache line, and the widest vector load.
ALIGNMENT = 64


class WeightError(Exception):
    """A weight that cannot be written; the message is shown as it is."""


def float_literal(v):
    """Enough digits to give back the same float (9 significant digits)."""
    if not math.isfinite(v):
        raise WeightError("a weight is not finite (%r); ctnn's constants must be numbers" % v)
    s = "%.9g" % v
    if "." not in s and "e" not in s:
        s += ".0"
    return s + "f"


def choose_mode(mode, weights):
    """'literal' or 'blob'; 'auto' picks by the total size of the weights."""
    if mode != "auto":
        return mode
    total = sum(4 * arr.size for _, _, arr in weights)
    return "literal" if total <= AUTO_LITERAL_MAX_BYTES else "blob"


def blob_paths(header_path):
    """The .bin and .S written beside `header_path` (its name without .hpp/.h)."""
    stem, ext = os.path.splitext(header_path)
    if ext not in (".hpp", ".h", ".hh", ".hxx"):
        stem = header_path
    return stem + ".weights.bin", stem + ".weights.S"


def symbol_prefix(namespace):
    """C symbols are global: each carries the header's namespace."""
    return "ctnn_weights_" + namespace.replace("::", "_") + "_"


def check_finite(weights):
    for _, pname, arr in weights:
        if not np.all(np.isfinite(arr)):
            bad = arr.reshape(-1)[~np.isfinite(arr.reshape(-1))][0]
            raise WeightError("%s holds a weight that is not finite (%r); ctnn's constants must be numbers"
                              % (pname, float(bad)))


def array_lines(weights, mode, namespace, header_path):
    """The header's lines declaring the arrays; for 'blob', also writes the
    .bin and .S files beside `header_path`. `weights`: (C++ name, parameter
    name, float32 array) in load order."""
    check_finite(weights)
    out = []
    if mode == "literal":
        for cpp, pname, arr in weights:
            out.append("// %s %s" % (pname, list(arr.shape)))
            flat = arr.reshape(-1)
            out.append("inline constexpr float %s[] = {" % cpp)
            for i in range(0, flat.size, 8):
                out.append("    " + ", ".join(float_literal(float(v)) for v in flat[i:i + 8]) + ",")
            out.append("};")
        return out
    bin_path, asm_path = blob_paths(header_path)
    prefix = symbol_prefix(namespace)
    bin_name = os.path.basename(bin_path)
    out.append("// The weights are in %s, linked into the binary by %s" % (bin_name, os.path.basename(asm_path)))
    out.append("// (CMake: ctnn_add_embedded_weights(target %s), cmake/ctnn_embedded_weights.cmake)."
               % os.path.basename(header_path))
    for cpp, pname, arr in weights:
        out.append("// %s %s" % (pname, list(arr.shape)))
        out.append('extern "C" alignas(%d) const float %s%s[%d];' % (ALIGNMENT, prefix, cpp, arr.size))
        out.append("inline constexpr const float (&%s)[%d] = %s%s;" % (cpp, arr.size, prefix, cpp))
    write_blob(weights, namespace, bin_path, asm_path, os.path.basename(header_path))
    return out


def write_blob(weights, namespace, bin_path, asm_path, header_name):
    """The floats, little-endian, one array after another; and the assembler
    file that gives each its aligned, sized global symbol in read-only data."""
    prefix = symbol_prefix(namespace)
    bin_name = os.path.basename(bin_path)
    section = ".rodata." + prefix.rstrip("_")
    asm = [
        "/* Generated with %s; do not edit. The weights of %s, read from %s" % (header_name, header_name, bin_name),
        "   by the assembler: add this file to the target's sources, with %s's" % bin_name,
        "   directory on the assembler's include path (ctnn_add_embedded_weights does both). */",
        "#if !defined(__ELF__)",
        "#error \"%s: the embedded weights are written for ELF targets (Linux); use the literal weights\"" % header_name,
        "#endif",
        '  .section %s,"a",@progbits' % section,
    ]
    offset = 0
    with open(bin_path, "wb") as f:
        for cpp, _, arr in weights:
            data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
            f.write(data)
            sym = prefix + cpp
            asm += [
                "  .balign %d" % ALIGNMENT,
                "  .globl %s" % sym,
                "  .type %s, @object" % sym,
                "  .size %s, %d" % (sym, len(data)),
                "%s:" % sym,
                '  .incbin "%s", %d, %d' % (bin_name, offset, len(data)),
            ]
            offset += len(data)
    asm += ['  .section .note.GNU-stack,"",@progbits', ""]
    with open(asm_path, "w") as f:
        f.write("\n".join(asm))
