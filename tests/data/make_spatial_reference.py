#!/usr/bin/env python3
"""Writes spatial_reference.npz: PyTorch's F.affine_grid and F.grid_sample
(mode='bilinear', padding_mode='zeros', align_corners=False) on fixed random
data, in float64, with their outputs and the gradients of

    L = mean over the batch of 1/2 * sum((output - target)^2)

(ctnn's squared_error with its defaults) with respect to the image, theta
and the grid. tests/unit/ops/spatial_transformer.cpp reads the file; it
needs no Python. Rerun after changing a case:

    /usr/bin/python3 tests/data/make_spatial_reference.py   (Debian's python3-torch)

Case "affine": image [B, C, H_in, W_in] and theta [B, 6] (a 2x3 matrix row by
row) through affine_grid to an H x W grid, then grid_sample: arrays
"affine.image", "affine.theta", "affine.grid", "affine.target",
"affine.output", "affine.loss", "affine.dimage", "affine.dtheta".
Case "grid": image and a grid [B, H, W, 2] given directly, points partly
outside [-1, 1]: "grid.image", "grid.grid", "grid.target", "grid.output",
"grid.loss", "grid.dimage", "grid.dgrid".
"""
import os
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(20261203)
torch.set_default_dtype(torch.float64)

B, C, H_IN, W_IN, H, W = 3, 2, 5, 6, 4, 7
out = {}


def finish(name, image, y, extra):
    """extra: the case's other arrays, read after backward."""
    target = torch.randn_like(y)
    loss = 0.5 * ((y - target) ** 2).sum() / B
    loss.backward()
    out[f"{name}.image"] = image.detach().numpy()
    out[f"{name}.target"] = target.numpy()
    out[f"{name}.output"] = y.detach().numpy()
    out[f"{name}.loss"] = np.array(loss.item())
    out[f"{name}.dimage"] = image.grad.numpy()
    for key, tensor in extra().items():
        out[f"{name}.{key}"] = tensor.detach().numpy().copy()


# Rotations up to 40 degrees, scales 0.8 to 1.3 and shifts up to 0.3: some
# grid points fall outside the image, where it reads zeros.
image = torch.randn(B, C, H_IN, W_IN).requires_grad_()
angle = (torch.rand(B) - 0.5) * np.radians(80)
scale = 0.8 + 0.5 * torch.rand(B)
shift = (torch.rand(B, 2) - 0.5) * 0.6
rows = [torch.stack([scale * torch.cos(angle), -scale * torch.sin(angle), shift[:, 0]], 1),
        torch.stack([scale * torch.sin(angle), scale * torch.cos(angle), shift[:, 1]], 1)]
theta = torch.stack(rows, 1).detach().requires_grad_()  # [B, 2, 3]
grid = F.affine_grid(theta, (B, C, H, W), align_corners=False)
grid.retain_grad()
y = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
finish("affine", image, y, lambda: {"theta": theta.reshape(B, 6), "grid": grid, "dtheta": theta.grad.reshape(B, 6)})

image = torch.randn(B, C, H_IN, W_IN).requires_grad_()
grid = ((torch.rand(B, H, W, 2) - 0.5) * 2.4).requires_grad_()
y = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
finish("grid", image, y, lambda: {"grid": grid, "dgrid": grid.grad})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spatial_reference.npz")
np.savez(path, **out)
print(f"wrote {path}: {len(out)} arrays, {os.path.getsize(path)} bytes, torch {torch.__version__}")
