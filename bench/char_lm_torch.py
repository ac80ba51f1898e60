#!/usr/bin/python3
"""ctnn_char_lm's two networks and recipe in PyTorch, for a side-by-side.

The text as the app reads it: the regular (not symlinked) files of the
fortunes directory, not ending .dat or .u8 and not starting with '.', in the
order of their names, concatenated, each byte mapped as char_lm.hpp's id_of;
the last 5% held out. 32 streams read the training text side by side in
chunks of 64 characters, in the app's order. Adam, gradients clipped at
global norm 5, the app's default learning rate and warm-up per model.

  lstm:        nn.Embedding(98, 32) + nn.LSTM(32, 256) + nn.Linear(256, 98);
               each chunk starts from the state the stream's previous chunk
               ended with (detached: truncated backpropagation through time).
  transformer: nn.Embedding(98, 128) + learned positions [64, 128] + 2 pre-norm
               nn.TransformerEncoderLayer(128, 4 heads, 512, GELU, causal) +
               nn.LayerNorm + nn.Linear(128, 98); each chunk on its own.

After each epoch: bits per character on the held-out text, read chunk by
chunk with the same state rules. Run it with Debian's python3-torch:

  /usr/bin/python3 bench/char_lm_torch.py --model transformer --threads 1 --out torch_transformer.json

--time-step N times N training steps at batch 32 x 64 on random ids instead.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCABULARY, STREAMS, T = 98, 32, 64
# The app's defaults (dsl/apps/char_lm.cpp: lstm_kind, transformer_kind).
DEFAULT_LR = {"lstm": 2e-3, "transformer": 2e-3}
DEFAULT_WARMUP = {"lstm": 0, "transformer": 100}


def id_of(c):
    """char_lm.hpp's id_of: 0 newline, 1 tab, 2..96 printable ASCII, 97 the rest."""
    if c == 10:
        return 0
    if c == 9:
        return 1
    if 32 <= c <= 126:
        return 2 + c - 32
    return 97


ID_TABLE = bytes(id_of(c) for c in range(256))


def read_text(directory, limit):
    """The app's read_text: (file names, ids as a uint8 tensor)."""
    names = sorted(
        n for n in os.listdir(directory)
        if os.path.isfile(os.path.join(directory, n)) and not os.path.islink(os.path.join(directory, n))
        and not n.endswith(".dat") and not n.endswith(".u8") and not n.startswith("."))
    ids, files = bytearray(), []
    for n in names:
        with open(os.path.join(directory, n), "rb") as f:
            ids += f.read().translate(ID_TABLE)
        files.append(n)
        if limit and len(ids) >= limit:
            del ids[limit:]
            break
    return files, torch.frombuffer(ids, dtype=torch.uint8).long()


class Batches:
    """A text as STREAMS contiguous segments side by side: chunk k of stream b is
    characters [k*T, (k+1)*T) of segment b, its labels the characters one further."""

    def __init__(self, ids):
        self.segment = len(ids) // STREAMS
        self.chunks = (self.segment - 1) // T
        self.rows = ids[:STREAMS * self.segment].view(STREAMS, self.segment)

    def chunk(self, k):
        return self.rows[:, k * T:(k + 1) * T], self.rows[:, k * T + 1:(k + 1) * T + 1]


class LSTMModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCABULARY, 32)
        self.lstm = nn.LSTM(32, 256, batch_first=True)
        self.out = nn.Linear(256, VOCABULARY)

    def forward(self, ids, state):
        h, state = self.lstm(self.emb(ids), state)
        return self.out(h), state

    @staticmethod
    def start():
        return None  # a zero state


class TransformerModel(nn.Module):
    def __init__(self):
        super().__init__()
        # ctnn's init::gaussian<0.02> for the token and position codes.
        self.tok = nn.Embedding(VOCABULARY, 128)
        nn.init.normal_(self.tok.weight, std=0.02)
        self.pos = nn.Parameter(torch.randn(T, 128) * 0.02)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True) for _ in range(2))
        self.norm = nn.LayerNorm(128)
        self.head = nn.Linear(128, VOCABULARY)
        self.register_buffer("causal", torch.triu(torch.full((T, T), float("-inf")), diagonal=1))

    def forward(self, ids, state):
        x = self.tok(ids) + self.pos
        for block in self.blocks:
            x = block(x, src_mask=self.causal)
        return self.head(self.norm(x)), state

    @staticmethod
    def start():
        return None  # nothing crosses chunks


def make_model(kind):
    return LSTMModel() if kind == "lstm" else TransformerModel()


def detached(state):
    return None if state is None else tuple(s.detach() for s in state)


def chunk_loss(model, ids, next_ids, state):
    scores, state = model(ids, state)
    return F.cross_entropy(scores.reshape(-1, VOCABULARY), next_ids.reshape(-1)), detached(state)


def bits_per_character(model, text):
    model.eval()
    state, total = model.start(), 0.0
    with torch.no_grad():
        for k in range(text.chunks):
            loss, state = chunk_loss(model, *text.chunk(k), state)
            total += loss.item()
    model.train()
    return total / text.chunks / math.log(2)


def lr_at(step, lr, warmup):
    """ctnn::schedule::linear_warmup."""
    return lr * (step + 1) / warmup if step < warmup else lr


def time_step(model, steps, lr, clip):
    """Median and mean milliseconds of one training step at batch STREAMS x T on random ids."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, VOCABULARY, (STREAMS, T + 1), generator=g)
    state, times = model.start(), []
    for n in range(steps + 3):  # 3 warm-up steps, not timed
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss, state = chunk_loss(model, ids[:, :T], ids[:, 1:], state)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        if n >= 3:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), statistics.fmean(times)


def loaded_blas():
    """The BLAS and MKL libraries this process has loaded (Linux): Debian's torch
    calls whatever libblas.so.3 points to, and the reference BLAS is many
    times slower than OpenBLAS, which changes every timing here."""
    torch.ones(2, 2) @ torch.ones(2, 2)
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return []
    return sorted(os.path.realpath(p) for p in paths
                  if any(k in os.path.basename(p) for k in ("blas", "mkl", "dnnl")))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("lstm", "transformer"), default="lstm")
    p.add_argument("--data", default="/usr/share/games/fortunes")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--lr", type=float, help="Adam's learning rate (default: the app's for the model, "
                   + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    p.add_argument("--warmup", type=int, help="chunks of linear warm-up (default: the app's, "
                   + ", ".join(f"{k} {v}" for k, v in DEFAULT_WARMUP.items()) + ")")
    p.add_argument("--clip-norm", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--limit", type=int, default=0, help="read only the first N characters (default: all)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="write the results as JSON here")
    p.add_argument("--time-step", type=int, metavar="N", default=0,
                   help="time N training steps at batch 32 x 64 instead of training")
    a = p.parse_args()
    lr = a.lr if a.lr is not None else DEFAULT_LR[a.model]
    warmup = a.warmup if a.warmup is not None else DEFAULT_WARMUP[a.model]
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = make_model(a.model)
    parameters = sum(t.numel() for t in model.parameters())
    result = {"script": "char_lm_torch.py", "model": a.model, "parameters": parameters, "torch": torch.__version__,
              "threads": a.threads, "blas": loaded_blas(), "lr": lr, "warmup_chunks": warmup, "clip_norm": a.clip_norm}

    if a.time_step:
        median, mean = time_step(model, a.time_step, lr, a.clip_norm)
        print(f"{a.model}: one training step at batch {STREAMS} x {T}: median {median:.2f} ms, mean {mean:.2f} ms "
              f"over {a.time_step} ({STREAMS * T / median * 1e3:.0f} chars/s), {a.threads} thread(s), "
              f"torch {torch.__version__}; blas: {', '.join(result['blas'])}")
        result.update({"step_ms_median": median, "step_ms_mean": mean, "steps": a.time_step})
    else:
        files, ids = read_text(a.data, a.limit)
        held_out = len(ids) // 20
        training = len(ids) - held_out
        train, test = Batches(ids[:training]), Batches(ids[training:])
        print(f"text: {len(ids)} characters in {len(files)} files of {a.data}; {training} for training, "
              f"{held_out} held out (5%)")
        print(f"network: {a.model}, {parameters} parameters; {STREAMS} streams of {T}-character chunks, "
              f"{train.chunks} chunks per epoch; torch {torch.__version__}, {a.threads} thread(s)")
        print("blas: " + ", ".join(result["blas"]))
        print(f"adam: lr {lr:g}, {warmup} chunks of warm-up; gradients clipped at norm {a.clip_norm:g}", flush=True)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        epochs, step = [], 0
        for e in range(a.epochs):
            state, total = model.start(), 0.0
            start = time.perf_counter()
            for k in range(train.chunks):
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(step, lr, warmup)
                optimizer.zero_grad(set_to_none=True)
                loss, state = chunk_loss(model, *train.chunk(k), state)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), a.clip_norm)
                optimizer.step()
                step += 1
                total += loss.item()
                if (k + 1) % max(1, train.chunks // 10) == 0 or k + 1 == train.chunks:
                    s = time.perf_counter() - start
                    print(f"epoch {e + 1}/{a.epochs}  chunk {k + 1}/{train.chunks}  loss {total / (k + 1):.4f} "
                          f"({total / (k + 1) / math.log(2):.3f} bits/char)  {(k + 1) * STREAMS * T / s:.0f} chars/s",
                          file=sys.stderr, flush=True)
            seconds = time.perf_counter() - start
            train_loss = total / train.chunks
            bpc = bits_per_character(model, test)
            chars_per_second = train.chunks * STREAMS * T / seconds
            print(f"epoch {e + 1}/{a.epochs}  train {train_loss:.4f} nats/char ({train_loss / math.log(2):.3f} "
                  f"bits/char)  held out {bpc:.3f} bits/char  {seconds:.1f} s, {chars_per_second:.0f} chars/s",
                  flush=True)
            epochs.append({"epoch": e + 1, "train_loss_nats": train_loss,
                           "train_bits_per_character": train_loss / math.log(2), "held_out_bits_per_character": bpc,
                           "seconds": seconds, "characters_per_second": chars_per_second})
        total_seconds = sum(x["seconds"] for x in epochs)
        result.update({"text": {"directory": a.data, "files": files, "characters": len(ids), "training": training,
                                "held_out": held_out},
                       "streams": STREAMS, "chunk": T, "epochs": epochs, "training_seconds": total_seconds,
                       "characters_per_second": train.chunks * STREAMS * T * a.epochs / total_seconds})
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        print(f"report: {a.out}")


if __name__ == "__main__":
    main()
