#!/usr/bin/env python3
"""Writes attention_reference.npz: PyTorch's nn.MultiheadAttention,
nn.LayerNorm, nn.GELU and a pre-norm encoder block made of them, on fixed
random data, in float64, with their outputs and the gradients of

    L = mean over the batch of 1/2 * sum((output - target)^2)

with respect to every parameter and the input (ctnn's squared_error with its
defaults). tests/unit/ops/attention.cpp reads the file; it needs no Python.
Rerun after changing a case:

    /usr/bin/python3 tests/data/make_attention_reference.py   (Debian's python3-torch)

Arrays of case c: "c.x", "c.target", "c.output", "c.loss", "c.dx", and each
parameter under its ctnn name ("c.<layer>.<tensor>") with its gradient as
"<name>.grad", in ctnn's layout.
"""
import os
import numpy as np
import torch

torch.manual_seed(20261203)
torch.set_default_dtype(torch.float64)

T, D, FF = 5, 8, 16


def randomize(module):
    """Not PyTorch's initialization: zero biases and unit LayerNorm scales
    would leave half of each formula untested."""
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.5, 0.5)
        for m in module.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)


def causal_mask():
    # True = not attended: query i sees keys 0..i, as ctnn::causal.
    return torch.triu(torch.ones(T, T), 1).bool()


def mha_call(mha, causal):
    mask = causal_mask() if causal else None
    return lambda x: mha(x, x, x, attn_mask=mask, need_weights=False)[0]


class Block(torch.nn.Module):
    """Pre-norm encoder block: x1 = x + mha(ln1(x)); y = x1 + lin2(gelu(lin1(ln2(x1)))),
    causal with 2 heads in the test, as in tests/gradcheck/attention.cpp."""

    def __init__(self, heads, causal):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(D)
        self.attn = torch.nn.MultiheadAttention(D, heads, batch_first=True)
        self.ln2 = torch.nn.LayerNorm(D)
        self.lin1 = torch.nn.Linear(D, FF)
        self.lin2 = torch.nn.Linear(FF, D)
        self.causal = causal

    def forward(self, x):
        x1 = x + mha_call(self.attn, self.causal)(self.ln1(x))
        return x1 + self.lin2(torch.nn.functional.gelu(self.lin1(self.ln2(x1))))


def ctnn_layout(module, name, tensor):
    """ctnn::dense keeps its weight as [in, out], nn.Linear as [out, in]: the
    block's lin1 and lin2 weights are transposed. Every other tensor is stored
    as PyTorch has it: ctnn's multi_head_attention takes in_proj_weight
    [3D, D] and out_proj.weight [D, D] in PyTorch's layout (its out_proj is
    an nn.Linear inside the op, not a ctnn::dense)."""
    if isinstance(module, Block) and name in ("lin1.weight", "lin2.weight"):
        return tensor.T
    return tensor


out = {}


def case(name, module, forward, B, x_scale=1.0):
    randomize(module)
    x = (x_scale * torch.randn(B, T, D)).requires_grad_()
    y = forward(x)
    target = torch.randn_like(y)
    loss = 0.5 * ((y - target) ** 2).sum() / B
    loss.backward()
    key = lambda k: f"{name}.{k}"
    out[key("x")] = x.detach().numpy()
    out[key("target")] = target.numpy()
    out[key("output")] = y.detach().numpy()
    out[key("loss")] = np.array(loss.item())
    out[key("dx")] = x.grad.numpy()
    for pname, p in module.named_parameters():
        out[key(pname)] = ctnn_layout(module, pname, p.detach()).numpy().copy()
        out[key(pname) + ".grad"] = ctnn_layout(module, pname, p.grad).numpy().copy()


mha2 = torch.nn.MultiheadAttention(D, 2, batch_first=True)
case("mha", mha2, mha_call(mha2, False), B=2)
mha4 = torch.nn.MultiheadAttention(D, 4, batch_first=True)
case("mha_causal", mha4, mha_call(mha4, True), B=3)
ln = torch.nn.LayerNorm(D)
case("ln", ln, ln, B=2, x_scale=2.0)
gelu = torch.nn.GELU()  # approximate='none': the erf form
case("gelu", gelu, gelu, B=3, x_scale=2.0)
block = Block(2, causal=True)
case("block", block, block, B=2)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attention_reference.npz")
np.savez(path, **out)
print(f"wrote {path}: {len(out)} arrays, {os.path.getsize(path)} bytes, torch {torch.__version__}")
