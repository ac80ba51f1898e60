#!/usr/bin/env python3
"""Plots a ctnn_generative run: curves.png with the training loss (every step
and per epoch) and the test-set score per epoch (the reconstruction error
per pixel for the autoencoders, the ELBO for the VAE). For the GAN: both
networks' losses, and per epoch the discriminator's mean probability of
"real" for the real and the generated images, with the class entropy of the
samples as a LeNet sees them when the run had --classifier.

usage: python3 scripts/plot_generative.py [OUT_DIR]   (default: out_vae)

Reads OUT_DIR/loss_curve.csv and OUT_DIR/epochs.csv as ctnn_generative
writes them and writes OUT_DIR/curves.png. Needs matplotlib (Debian:
python3-matplotlib).
"""
import os
import sys

from run_csv import open_run


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    out = argv[1] if len(argv) == 2 else "out_vae"
    status, run = open_run("plot_generative.py", out, "ctnn_generative COMMAND")
    if run is None:
        return status
    plt, steps, epochs = run
    per_epoch = len(steps) // len(epochs)
    if "d_loss" in epochs[0]:
        return plot_gan(plt, steps, epochs, per_epoch, out)
    is_vae = "test_elbo" in epochs[0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot([int(r["step"]) for r in steps], [float(r["loss"]) for r in steps], lw=0.5, alpha=0.5,
              label="each step")
    left.plot([int(r["epoch"]) * per_epoch for r in epochs], [float(r["train_loss"]) for r in epochs], "o-",
              label="epoch mean")
    left.set_xlabel("step")
    left.set_ylabel("negative ELBO (nats per image)" if is_vae else "sigmoid cross-entropy (nats per image)")
    left.set_title("training loss")
    left.legend()
    x = [int(r["epoch"]) for r in epochs]
    if is_vae:
        right.plot(x, [float(r["test_elbo"]) for r in epochs], "o-")
        right.set_ylabel("test ELBO (nats per image)")
    else:
        right.plot(x, [float(r["test_mse_per_pixel"]) for r in epochs], "o-")
        right.set_ylabel("test squared error per pixel")
    right.set_xlabel("epoch")
    right.set_title("test set")
    fig.tight_layout()
    path = os.path.join(out, "curves.png")
    fig.savefig(path, dpi=100)
    print(f"plot_generative.py: wrote {path}")
    return 0


def plot_gan(plt, steps, epochs, per_epoch, out):
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    x = [int(r["step"]) for r in steps]
    for key, name in (("d_loss", "discriminator"), ("g_loss", "generator")):
        line, = left.plot(x, [float(r[key]) for r in steps], lw=0.5, alpha=0.4)
        left.plot([int(r["epoch"]) * per_epoch for r in epochs], [float(r[key]) for r in epochs], "o-",
                  color=line.get_color(), label=f"{name} (epoch mean)")
    left.set_xlabel("step")
    left.set_ylabel("sigmoid cross-entropy (nats per image)")
    left.set_title("training losses")
    left.legend()
    e = [int(r["epoch"]) for r in epochs]
    right.plot(e, [float(r["d_real"]) for r in epochs], "o-", label="D(real image)")
    right.plot(e, [float(r["d_fake"]) for r in epochs], "o-", label="D(generated image)")
    right.set_ylim(0, 1)
    right.set_xlabel("epoch")
    right.set_ylabel("discriminator's mean probability of real")
    right.set_title("discriminator, and LeNet on the samples")
    scored = [r for r in epochs if r["generated_class_entropy"]]
    if scored:
        entropy = right.twinx()
        entropy.plot([int(r["epoch"]) for r in scored], [float(r["generated_class_entropy"]) for r in scored], "s--",
                     color="tab:green", label="samples' class entropy")
        entropy.set_ylim(0, 2.4)
        entropy.set_ylabel("class entropy of the samples (nats; ln 10 = 2.30)")
        entropy.legend(loc="lower right")
    right.legend(loc="upper right")
    fig.tight_layout()
    path = os.path.join(out, "curves.png")
    fig.savefig(path, dpi=100)
    print(f"plot_generative.py: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
