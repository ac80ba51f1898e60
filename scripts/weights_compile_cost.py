#!/usr/bin/python3
"""What weights cost the compiler, as literal arrays in a header against a blob
linked in by the assembler (tools/ctnn_weights.py writes both).

    scripts/weights_compile_cost.py [--sizes 1,4,16] [--compilers g++-12,clang++-16] [--out DIR]

For each size (MB of float32 weights, random) and compiler it writes one
header per form and compiles a translation unit that includes it and reads
every array (so none is dropped) with -O2, under /usr/bin/time -v; for the
blob it adds the assembly of the .S. It prints a Markdown table: user + system
seconds and peak resident memory. A literal size that takes longer than
--give-up seconds is not followed by larger ones for that compiler.
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ctnn_weights  # noqa: E402

ARRAY_FLOATS = 1 << 18  # 1 MB per array, as a large layer's weights


def write_case(out_dir, mode, megabytes):
    rng = np.random.default_rng(megabytes)
    weights = [("w%d" % i, "layer%d.weight" % i, rng.standard_normal(ARRAY_FLOATS).astype(np.float32))
               for i in range(megabytes)]
    header = os.path.join(out_dir, "weights_%s_%d.hpp" % (mode, megabytes))
    lines = ["#pragma once", "#include <cstddef>", "namespace model {"]
    lines += ctnn_weights.array_lines(weights, mode, "model", header)
    lines += ["}  // namespace model", ""]
    with open(header, "w") as f:
        f.write("\n".join(lines))
    source = os.path.join(out_dir, "use_%s_%d.cpp" % (mode, megabytes))
    reads = " + ".join("model::%s[i %% %d]" % (cpp, ARRAY_FLOATS) for cpp, _, _ in weights)
    with open(source, "w") as f:
        f.write('#include "%s"\nfloat read(std::size_t i) { return %s; }\n' % (os.path.basename(header), reads))
    return source, ctnn_weights.blob_paths(header)[1]


def measure(command):
    """user + system seconds and peak RSS (MB) of one command, by /usr/bin/time -v."""
    done = subprocess.run(["/usr/bin/time", "-v"] + command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit("failed: %s\n%s" % (" ".join(command), done.stderr[-2000:]))
    user = float(re.search(r"User time \(seconds\): ([0-9.]+)", done.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([0-9.]+)", done.stderr).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): ([0-9]+)", done.stderr).group(1))
    return user + system, rss / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,4,16", help="MB of weights, comma-separated")
    parser.add_argument("--compilers", default="g++-12,clang++-16")
    parser.add_argument("--out", default="/tmp/ctnn_weights_cost")
    parser.add_argument("--give-up", type=float, default=300.0,
                        help="seconds of one literal compile after which larger sizes are skipped")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for compiler in args.compilers.split(","):
        hopeless = False
        for mb in sizes:
            src_b, asm = write_case(args.out, "blob", mb)
            o = os.path.join(args.out, "out.o")
            t_cpp, rss_cpp = measure([compiler, "-std=c++20", "-O2", "-c", src_b, "-o", o])
            t_asm, rss_asm = measure([compiler, "-c", asm, "-I", args.out, "-o", o])
            blob_size = os.path.getsize(o)
            literal = ("skipped", "")
            if not hopeless:
                src_l, _ = write_case(args.out, "literal", mb)
                t_lit, rss_lit = measure([compiler, "-std=c++20", "-O2", "-c", src_l, "-o", o])
                literal = ("%.1f" % t_lit, "%.0f" % rss_lit)
                hopeless = t_lit > args.give_up
            rows.append((compiler, mb, literal[0], literal[1], "%.2f" % (t_cpp + t_asm),
                         "%.0f" % max(rss_cpp, rss_asm), blob_size))
            print("%s %d MB: literal %s s %s MB; blob %.2f s (.S %.2f s) %.0f MB" %
                  (compiler, mb, literal[0], literal[1], t_cpp + t_asm, t_asm, max(rss_cpp, rss_asm)),
                  file=sys.stderr, flush=True)
    print("| compiler | weights | literal: s | literal: peak MB | blob: s | blob: peak MB |")
    print("|---|---|---|---|---|---|")
    for compiler, mb, tl, rl, tb, rb, _ in rows:
        print("| %s | %d MB | %s | %s | %s | %s |" % (compiler, mb, tl, rl, tb, rb))


if __name__ == "__main__":
    main()
