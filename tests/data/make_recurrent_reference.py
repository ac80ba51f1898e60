#!/usr/bin/env python3
"""Writes recurrent_reference.npz: PyTorch's nn.RNN, nn.LSTM and nn.GRU on
fixed random data, in float64, with their outputs and the gradients of

    L = mean over the batch of 1/2 * sum((output - target)^2)

with respect to every parameter, the input sequence and the initial states
(ctnn's squared_error with its defaults). tests/unit/ops/recurrent.cpp reads
the file; it needs no Python. Rerun after changing a case:

    /usr/bin/python3 tests/data/make_recurrent_reference.py   (Debian's python3-torch)

Parameters are stored in ctnn's layout: a unidirectional layer's tensors as
PyTorch has them, a bidirectional layer's two directions stacked
(weight_ih_l0 and weight_ih_l0_reverse -> [2, G*H, D]); a two-layer module is
two ctnn layers "<case>.l0" and "<case>.l1".
"""
import os
import numpy as np
import torch

torch.manual_seed(20261202)
torch.set_default_dtype(torch.float64)

B, T, D = 2, 6, 3
CASES = [
    # name, module, hidden, layers, bidirectional, with initial state, final state only
    ("rnn", torch.nn.RNN, 5, 1, False, True, False),
    ("lstm", torch.nn.LSTM, 5, 1, False, True, False),
    ("lstm_bi", torch.nn.LSTM, 5, 1, True, False, False),
    ("lstm_2l_final", torch.nn.LSTM, 5, 2, False, False, True),
    ("gru", torch.nn.GRU, 5, 1, False, True, False),
    ("gru_bi_final", torch.nn.GRU, 5, 1, True, True, True),
    ("gru_2l", torch.nn.GRU, 5, 2, False, False, False),
    # 20 units: whole vectors and a tail in float (16 lanes with AVX-512, 8 with AVX2)
    ("rnn_h20", torch.nn.RNN, 20, 1, False, False, False),
    ("lstm_h20", torch.nn.LSTM, 20, 1, False, True, False),
    ("gru_h20_bi", torch.nn.GRU, 20, 1, True, False, False),
]

out = {}
for name, module, H, layers, bi, with_state, final_only in CASES:
    dirs = 2 if bi else 1
    net = module(D, H, num_layers=layers, bidirectional=bi, batch_first=True)
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-0.6, 0.6)
    x = torch.randn(B, T, D, requires_grad=True)
    is_lstm = module is torch.nn.LSTM
    h0 = torch.randn(layers * dirs, B, H, requires_grad=True) if with_state else None
    c0 = torch.randn(layers * dirs, B, H, requires_grad=True) if with_state and is_lstm else None
    if with_state:
        y, state = net(x, (h0, c0) if is_lstm else h0)
    else:
        y, state = net(x)
    h_n = state[0] if is_lstm else state
    if final_only:
        # the last layer's final states, both directions, per sample: [B, dirs*H]
        y = h_n[-dirs:].permute(1, 0, 2).reshape(B, dirs * H)
    target = torch.randn_like(y)
    loss = 0.5 * ((y - target) ** 2).sum() / B
    loss.backward()

    key = lambda k: f"{name}.{k}"
    out[key("x")] = x.detach().numpy()
    out[key("target")] = target.numpy()
    out[key("output")] = y.detach().numpy()
    out[key("loss")] = np.array(loss.item())
    out[key("dx")] = x.grad.numpy()
    if with_state:
        # per sample [dirs, H] (ctnn's initial-state input), from PyTorch's [dirs, B, H]
        out[key("h0")] = h0.detach().permute(1, 0, 2).numpy()
        out[key("dh0")] = h0.grad.permute(1, 0, 2).numpy()
        if c0 is not None:
            out[key("c0")] = c0.detach().permute(1, 0, 2).numpy()
            out[key("dc0")] = c0.grad.permute(1, 0, 2).numpy()
    params = dict(net.named_parameters())
    for layer in range(layers):
        prefix = name if layers == 1 else f"{name}.l{layer}"
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            tensors = [params[f"{kind}_l{layer}" + suffix] for suffix in ([""] + (["_reverse"] if bi else []))]
            value = np.stack([t.detach().numpy() for t in tensors]) if bi else tensors[0].detach().numpy()
            grad = np.stack([t.grad.numpy() for t in tensors]) if bi else tensors[0].grad.numpy()
            out[f"{prefix}.{kind}"] = value
            out[f"{prefix}.{kind}.grad"] = grad

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recurrent_reference.npz")
np.savez(path, **out)
print(f"wrote {path}: {len(out)} arrays, torch {torch.__version__}")
