"""The Lipschitz constant of a network, and how GANs keep it bounded.

A critic f is L-Lipschitz when |f(x) - f(y)| <= L ||x - y||. For an MLP with 1-Lipschitz
activations, L <= prod_i sigma(W_i), the product of its weight matrices' largest singular values
(``lipschitz_upper_bound``); the largest input-gradient norm max_x ||grad_x f(x)|| is a lower
bound on L (``gradient_norms``). Spectral normalisation (Miyato et al. 2018) divides each W_i by
an estimate of sigma(W_i) from one step of ``power_iteration`` per training step, so every
factor is ~1; ``models.MLPDiscriminator(spectral_norm=True)`` trains that way.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ganlab._checks import as_generator, finite_tensor, positive_int
from ganlab.losses import input_gradients
from ganlab.models import MLPDiscriminator, MLPGenerator, evaluating


def power_iteration(
    W: torch.Tensor,
    iters: int = 1,
    u: torch.Tensor | None = None,
    *,
    seed: int | torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """sigma(W) ~ u^T W v by ``iters`` power iterations (Miyato et al. 2018, Algorithm 1).

    Each iteration: v <- W^T u / ||W^T u||, then u <- W v / ||W v||. Returns (sigma, u), with
    sigma differentiable in W (u and v are constants, as in SN) and u to pass to the next call:
    one iteration per training step with u carried over is what spectral normalisation does.
    W (out, in), or (out, ...) for a conv kernel, read as (out, -1); u (out,), by default
    drawn from N(0, I) with ``seed``. sigma never exceeds the true largest singular value.
    """
    if not isinstance(W, torch.Tensor) or not W.is_floating_point() or W.dim() < 2:
        raise TypeError(f"W must be a floating-point tensor of shape (out, in), got {W!r}")
    finite_tensor("W", W)
    positive_int("iters", iters)
    W_mat = W.reshape(W.shape[0], -1)  # (out, in)
    if u is None:
        u = torch.randn(W.shape[0], generator=as_generator(seed)).to(W)
    elif not isinstance(u, torch.Tensor) or tuple(u.shape) != (W.shape[0],):
        shape = tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__
        raise ValueError(f"u must have shape ({W.shape[0]},), one entry per row of W, got {shape}")
    elif not (finite_tensor("u", u).norm() > 0):
        raise ValueError("u must be a nonzero vector: power iteration would stay at 0")
    with torch.no_grad():
        u = F.normalize(u.to(W), dim=0)
        for _ in range(iters):
            v = F.normalize(W_mat.T @ u, dim=0)  # (in,)
            u = F.normalize(W_mat @ v, dim=0)  # (out,)
    sigma = u @ W_mat @ v
    return sigma, u


def spectral_norms(module: nn.Module) -> list[float]:
    """The exact sigma(W) = ||W||_2 of each ``nn.Linear`` in ``module``, in order.

    Computed by ``torch.linalg.matrix_norm(W, ord=2)`` on the weight the module uses in eval mode
    (for a spectrally normalised layer: W / sigma with the stored u, v; no power iteration runs).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    for name, m in module.named_modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            raise ValueError(
                f"spectral_norms measures Linear layers; found {type(m).__name__} at "
                f"{name!r}, whose Lipschitz constant is not the norm of its reshaped kernel"
            )
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(module).__name__} has no nn.Linear layer to measure")
    with torch.no_grad(), evaluating(module):
        return [torch.linalg.matrix_norm(m.weight, ord=2).item() for m in linears]


ONE_LIPSCHITZ: tuple[type[nn.Module], ...] = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.ELU, nn.Identity)
"""Activations with |slope| <= 1 everywhere (LeakyReLU and ELU when their slope/alpha <= 1)."""


def _check_chain(module: nn.Module, name: str) -> None:
    """Raise unless ``module`` is a chain of Linear layers and 1-Lipschitz activations."""
    where = f" at {name!r}" if name else ""
    if isinstance(module, nn.Linear):
        return
    if type(module) in (MLPDiscriminator, MLPGenerator):  # forward = net, then a reshape
        _check_chain(module.net, f"{name}.net" if name else "net")
    elif isinstance(module, nn.Sequential):
        for child_name, child in module.named_children():
            _check_chain(child, f"{name}.{child_name}" if name else child_name)
    elif isinstance(module, ONE_LIPSCHITZ):
        slope = getattr(module, "negative_slope", getattr(module, "alpha", 0.0))
        if abs(slope) > 1:
            raise ValueError(
                f"{type(module).__name__}{where} has slope {slope:g} > 1: not 1-Lipschitz"
            )
    else:
        raise ValueError(
            f"lipschitz_upper_bound holds for a chain of Linear layers and 1-Lipschitz "
            f"activations (ReLU, LeakyReLU, Tanh, ELU); found {type(module).__name__}{where}"
        )


def lipschitz_upper_bound(module: nn.Module) -> float:
    """L(f) <= prod_i sigma(W_i): the product of the Linear layers' spectral norms.

    Valid for an MLP, a chain of Linear layers and 1-Lipschitz activations (ReLU, LeakyReLU
    with slope <= 1, Tanh, ELU with alpha <= 1), since Lipschitz constants multiply under
    composition and a bias shifts nothing. Anything else (GELU, normalisation layers, a module
    whose forward it cannot read) raises a ValueError naming it.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    _check_chain(module, "")
    return math.prod(spectral_norms(module))


def gradient_norms(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """||grad_x f(x)|| per sample, shape (B,); its max is a lower bound on f's Lipschitz constant.

    x (B, ...); f must score each sample on its own (f(x)[b] depends on x[b] only). The
    gradients are WGAN-GP's (``losses.gradient_penalty`` uses the same), detached. f runs in
    the mode it is in: a spectrally normalised D in training mode takes a power-iteration step.
    """
    return input_gradients(f, x).norm(dim=1).detach()
