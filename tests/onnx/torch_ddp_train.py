#!/usr/bin/python3
"""Trains dsl/models/mlp.hpp's MLP (784 → 256 → 128 → 10, ReLU) with PyTorch's
DistributedDataParallel and exports it for ctnn: the first steps of
docs/deploy.md's "From a PyTorch training run to a ctnn binary".

    torch_ddp_train.py OUTPUT_DIR      train, then write the files below
    torch_ddp_train.py --weights-mode  'literal' or 'blob': what
                                       onnx_import.py --weights auto picks
                                       for this model (its size alone decides)

Both exit with 77 (skipped) and say why when torch.distributed or its gloo
backend is not available.

Two processes (torch.multiprocessing, backend gloo, on localhost at a free
port) train on CPU for STEPS steps of BATCH images each, on Fashion-MNIST
(Debian's dataset-fashion-mnist) when it is installed, else on random data.
Rank 0 then writes into OUTPUT_DIR:

    torch_ddp_mlp.pt   the state dict, without DDP's "module." prefix
    torch_ddp_mlp.onnx the trained model: eval mode, opset 13, batch dimension dynamic
    torch_ddp_mlp.npz  input_0: SAMPLES fixed images; expected_0: PyTorch's logits
                       for them (float32, as torch_round_trip.py writes them)

Everything is seeded, so two runs write the same numbers.
"""

import gzip
import io
import os
import socket
import sys
import warnings

sys.dont_write_bytecode = True  # the build must leave the source tree as it was
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch import nn  # noqa: E402

STEM = "torch_ddp_mlp"
WORLD_SIZE = 2
STEPS = 40
BATCH = 32  # per process: each step sees 64 images
LR = 0.05
SEED = 2025
SAMPLES = 8  # the fixed inputs the C++ test feeds
OPSET = 13
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"  # as ctnn::io::default_fashion_mnist_dir
SKIPPED = 77


class Mlp(nn.Module):
    """mlp.hpp: fc1 256, ReLU, fc2 128, ReLU, fc3 10 (the parameter names are ctnn's)."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

    def forward(self, image):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(image)))))


def read_idx(path):
    """An IDX file (gzip-compressed) as a uint8 array of its dimensions."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_data():
    """(train images, train labels, test images, source): images flat in [0, 1], as ctnn_train scales them."""
    files = [os.path.join(FASHION_MNIST, n) for n in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                      "t10k-images-idx3-ubyte.gz")]
    if all(os.path.exists(f) for f in files):
        train_x, train_y, test_x = (read_idx(f) for f in files)
        scale = lambda x: torch.from_numpy(x.reshape(len(x), 784).astype(np.float32) / 255)  # noqa: E731
        return scale(train_x), torch.from_numpy(train_y.astype(np.int64)), scale(test_x), "Fashion-MNIST"
    generator = torch.Generator().manual_seed(SEED)
    return (torch.rand(WORLD_SIZE * STEPS * BATCH, 784, generator=generator),
            torch.randint(0, 10, (WORLD_SIZE * STEPS * BATCH,), generator=generator),
            torch.rand(SAMPLES, 784, generator=generator), "random data (no %s)" % FASHION_MNIST)


def without_ddp_prefix(state):
    """DDP wraps the model as .module: its state dict's keys start with "module."."""
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def train(rank, port, out_dir):
    torch.set_num_threads(1)  # two processes on a shared machine
    torch.manual_seed(SEED)  # the same initial weights in each process (DDP also broadcasts rank 0's)
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank, world_size=WORLD_SIZE)
    try:
        train_x, train_y, test_x, source = load_data()
        model = nn.parallel.DistributedDataParallel(Mlp())
        optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
        # One fixed shuffle for both; each process takes its own interleaved share.
        order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(SEED))
        mine = order[rank::WORLD_SIZE]
        model.train()
        for step in range(STEPS):
            batch = mine[step * BATCH:(step + 1) * BATCH]
            loss = nn.functional.cross_entropy(model(train_x[batch]), train_y[batch])
            optimizer.zero_grad()
            loss.backward()  # DDP averages the gradients over the processes here
            optimizer.step()
            if rank == 0 and (step + 1) % 10 == 0:
                print("step %d: loss %.4f (rank 0's batch)" % (step + 1, loss.item()), flush=True)
        if rank == 0:
            export(without_ddp_prefix(model.state_dict()), test_x[:SAMPLES], out_dir, source)
        dist.barrier()  # rank 1 stays until rank 0 has written the files
    finally:
        dist.destroy_process_group()


def export(state, inputs, out_dir, source):
    """Rank 0: the state dict, the ONNX model and PyTorch's outputs on `inputs`."""
    torch.save(state, os.path.join(out_dir, STEM + ".pt"))
    model = Mlp()
    model.load_state_dict(state)  # strict: a key left with its "module." prefix would fail here
    model.eval()  # batch norm's running statistics and no dropout, as ctnn's predict
    with torch.no_grad():
        outputs = model(inputs)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model, (inputs,), buffer, opset_version=OPSET, input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                          do_constant_folding=True)
    with open(os.path.join(out_dir, STEM + ".onnx"), "wb") as f:
        f.write(buffer.getvalue())
    np.savez(os.path.join(out_dir, STEM + ".npz"), input_0=inputs.numpy().astype(np.float32),
             expected_0=outputs.numpy().astype(np.float32))
    print("trained on %s: %d steps of %d × %d images; wrote %s.{pt,onnx,npz} to %s"
          % (source, STEPS, WORLD_SIZE, BATCH, STEM, out_dir), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def weights_mode():
    import ctnn_weights
    arrays = [(k, k, v.numpy()) for k, v in Mlp().state_dict().items()]
    return ctnn_weights.choose_mode("auto", arrays)


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: torch_ddp_train.py OUTPUT_DIR | --weights-mode\n")
        return 1
    if not dist.is_available() or not dist.is_gloo_available():
        print("this PyTorch has no torch.distributed with the gloo backend: DistributedDataParallel cannot train on CPU")
        return SKIPPED
    if argv == ["--weights-mode"]:
        print(weights_mode())
        return 0
    os.makedirs(argv[0], exist_ok=True)
    mp.spawn(train, args=(free_port(), argv[0]), nprocs=WORLD_SIZE, join=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
