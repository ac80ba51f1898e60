#!/usr/bin/env python3
"""Plots a ctnn_spatial run: curves.png with both networks' training loss
(every step, smoothed, and per epoch) and their accuracy on the distorted
test set per epoch.

usage: python3 scripts/plot_spatial.py [OUT_DIR]   (default: out_spatial)

Reads OUT_DIR/loss_curve.csv and OUT_DIR/epochs.csv as ctnn_spatial writes
them and writes OUT_DIR/curves.png. Needs matplotlib (Debian:
python3-matplotlib).
"""
import os
import sys

from run_csv import open_run

NETWORKS = (("lenet", "LeNet"), ("stn_lenet", "STN-LeNet"))


def smoothed(values, window=50):
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    out = argv[1] if len(argv) == 2 else "out_spatial"
    status, run = open_run("plot_spatial.py", out, "ctnn_spatial")
    if run is None:
        return status
    plt, steps, epochs = run
    per_epoch = len(steps) // len(epochs)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    x = [int(r["step"]) for r in steps]
    for (key, label), colour in zip(NETWORKS, ("tab:blue", "tab:orange")):
        left.plot(x, smoothed([float(r[f"{key}_loss"]) for r in steps]), lw=0.8, color=colour,
                  label=f"{label} (mean of 50 steps)")
        left.plot([int(r["epoch"]) * per_epoch for r in epochs], [float(r[f"{key}_train_loss"]) for r in epochs],
                  "o", color=colour)
        right.plot([int(r["epoch"]) for r in epochs], [float(r[f"{key}_test_accuracy"]) for r in epochs], "o-",
                   color=colour, label=label)
    # The first few steps (loss ~2.3 and above) would flatten the rest.
    left.set_ylim(0, 1.5 * max(float(r[f"{k}_train_loss"]) for r in epochs for k, _ in NETWORKS))
    left.set_xlabel("step")
    left.set_ylabel("softmax cross-entropy")
    left.set_title("training loss (dots: epoch means)")
    left.legend()
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy")
    right.set_title("distorted test set")
    right.legend()
    fig.tight_layout()
    path = os.path.join(out, "curves.png")
    fig.savefig(path, dpi=100)
    print(f"plot_spatial.py: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
