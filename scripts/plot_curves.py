#!/usr/bin/env python3
"""Plots a ctnn_train run: curves.png with the training loss (every step and
per epoch) and the training and test accuracy per epoch.

usage: python3 scripts/plot_curves.py [OUT_DIR]   (default: out)

Reads OUT_DIR/loss_curve.csv and OUT_DIR/epochs.csv as ctnn_train writes
them and writes OUT_DIR/curves.png. Needs matplotlib (Debian:
python3-matplotlib).
"""
import os
import sys

from run_csv import open_run


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    out = argv[1] if len(argv) == 2 else "out"
    status, run = open_run("plot_curves.py", out, "ctnn_train")
    if run is None:
        return status
    plt, steps, epochs = run

    per_epoch = len(steps) / len(epochs)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax_loss.plot([int(r["step"]) / per_epoch for r in steps], [float(r["loss"]) for r in steps],
                 lw=0.4, alpha=0.4, color="tab:blue", label="batch loss")
    ax_loss.plot([int(r["epoch"]) for r in epochs], [float(r["train_loss"]) for r in epochs],
                 "o-", color="tab:blue", label="epoch mean")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_yscale("log")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend()

    x = [int(r["epoch"]) for r in epochs]
    if "train_accuracy" in epochs[0]:
        ax_acc.plot(x, [float(r["train_accuracy"]) for r in epochs], "o-", label="train (first 10,000)")
    ax_acc.plot(x, [float(r["test_accuracy"]) for r in epochs], "o-", label="test")
    best = max(epochs, key=lambda r: float(r["test_accuracy"]))
    ax_acc.set_title(f"final test {float(epochs[-1]['test_accuracy']):.4f}, "
                     f"best {float(best['test_accuracy']):.4f} (epoch {best['epoch']})")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.grid(alpha=0.3)
    ax_acc.legend()
    fig.tight_layout()
    path = os.path.join(out, "curves.png")
    fig.savefig(path, dpi=110)
    print(f"curves: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
