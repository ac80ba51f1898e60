#!/usr/bin/env python3
"""Plots the CSV of ctnn_init_experiment: per-layer mean and std of the
activations for each initialization (the seeds' 'layer mean' / 'layer std'
figure), std also on a log scale, where the collapse with small weights shows.

usage: plot_init_experiment.py CSV [PNG]   (PNG defaults to CSV with .png)
"""
import csv
import sys
from collections import OrderedDict


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    src = argv[1]
    dst = argv[2] if len(argv) > 2 else (src[:-4] if src.endswith(".csv") else src) + ".png"
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"plot_init_experiment: matplotlib is not installed (Debian: apt-get install python3-matplotlib); "
              f"no plot written. The numbers are in {src}.", file=sys.stderr)
        return 1

    runs = OrderedDict()
    with open(src, newline="") as f:
        for row in csv.DictReader(f):
            r = runs.setdefault(row["scheme"], {"label": row["description"], "layer": [], "mean": [], "std": []})
            r["layer"].append(int(row["layer"]))
            r["mean"].append(float(row["mean"]))
            r["std"].append(float(row["std"]))

    fig, ax = plt.subplots(1, 3, figsize=(16, 4.8))
    for r in runs.values():
        ax[0].plot(r["layer"], r["mean"], "o-", label=r["label"])
        ax[1].plot(r["layer"], r["std"], "o-", label=r["label"])
        ax[2].semilogy(r["layer"], [max(s, 1e-12) for s in r["std"]], "o-", label=r["label"])
    ax[0].set_title("layer mean")
    ax[1].set_title("layer std")
    ax[2].set_title("layer std (log scale)")
    for a in ax:
        a.set_xlabel("layer (0 = input)")
        a.set_xticks(range(0, 11))
        a.grid(True, alpha=0.3)
    ax[1].legend(fontsize=8)
    fig.suptitle("10 layers x 500 units on unit-Gaussian input (seeds 000/004)")
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    print(f"wrote {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
