"""What the curve plots share: matplotlib (headless) and a run's
loss_curve.csv and epochs.csv, as ctnn_train and ctnn_generative write them."""
import csv
import os
import sys


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def open_run(script, out, producer):
    """(0, (pyplot, steps, epochs)) for the run in `out`, or (exit status, None)
    after saying on stderr why not: 3 without matplotlib, 1 without the files
    or their rows. `producer` is the command that writes them."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"{script}: matplotlib is not installed for {sys.executable}; install Debian's "
              "python3-matplotlib (apt-get install python3-matplotlib) and run this with /usr/bin/python3",
              file=sys.stderr)
        return 3, None
    try:
        steps = read_csv(os.path.join(out, "loss_curve.csv"))
        epochs = read_csv(os.path.join(out, "epochs.csv"))
    except OSError as e:
        print(f"{script}: {e}; run {producer} --out {out} first", file=sys.stderr)
        return 1, None
    if not steps or not epochs:
        print(f"{script}: {out}/loss_curve.csv or epochs.csv holds no rows", file=sys.stderr)
        return 1, None
    return 0, (plt, steps, epochs)
