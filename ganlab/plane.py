"""The 2-D plane that chapters 0-3 and the playground draw: its extent for a data set, its pixel
grid, D(x) on that grid, and the direction G's update moves each sample. Geometry only, no
drawing: ``plot`` draws these, ``experiments`` and the playground compute with them."""

from __future__ import annotations

import torch
from torch import nn

from ganlab.data import GaussianMixture
from ganlab.losses import GLoss, get_losses


def plane_limit(dist: GaussianMixture) -> float:
    """Half-width of the square that shows ``dist``: the extent of ``samples_2d``'s default."""
    return float(dist.centers.abs().max() + 6 * dist.stds.max()) * 1.15


def plane_grid(limit: float, resolution: int) -> torch.Tensor:
    """Pixel centres of a resolution x resolution grid over [-limit, limit]^2, (R*R, 2).

    Row-major from the bottom-left, so ``values.reshape(R, R)`` is an image for
    ``imshow(..., origin="lower", extent=(-limit, limit, -limit, limit))``.
    """
    half_pixel = limit / resolution
    axis = torch.linspace(-limit + half_pixel, limit - half_pixel, resolution)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1)], dim=1)


@torch.no_grad()
def decision_grid(D: nn.Module, limit: float, resolution: int) -> torch.Tensor:
    """D(x) = sigmoid(D's score) on ``plane_grid(limit, resolution)``, shape (R, R), on the CPU."""
    device = next(D.parameters()).device
    points = plane_grid(limit, resolution).to(device)
    return torch.sigmoid(D(points)).reshape(resolution, resolution).cpu()


def generator_directions(
    G: nn.Module, D: nn.Module, z: torch.Tensor, g_loss: GLoss | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """x = G(z) and -grad_x g_loss(D(x)) for each sample: where G's update pushes it, (B, 2) each.

    The gradient is taken with respect to the samples only, so no parameter's ``.grad``
    changes. ``g_loss`` is a G loss function or a key of ``ganlab.losses.GAN_LOSSES``.
    """
    if isinstance(g_loss, str):
        g_loss = get_losses(g_loss)[1]
    with torch.no_grad():
        x_fake = G(z)
    x_fake.requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(g_loss(D(x_fake)), x_fake)
    return x_fake.detach(), -grad


def arrow_vectors(direction: torch.Tensor, length: float) -> torch.Tensor:
    """Scale the rows of ``direction`` so that the longest has ``length``: relative sizes stay."""
    longest = direction.norm(dim=1).max()
    if not torch.isfinite(longest) or longest <= 0:
        return torch.zeros_like(direction)
    return direction * (length / longest)
