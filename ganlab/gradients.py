"""Gradients in a training step: their size, the global L2 norm that every step reports
(``History.grad_norm_D`` and ``grad_norm_G``; chapter 2 compares the saturating and the
non-saturating losses by it), and ``frozen``, the one way a G step backpropagates through D
without giving D's weights a gradient. Below ``train``, ``batched``, ``unrolled``,
``train_images`` and ``experiments``, which all use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """Within the block no parameter of ``module`` requires a gradient: a loss computed
    through it backpropagates to its input (G's samples) but not to its weights. Each
    parameter's flag is restored afterwards, also after an error."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)


def grad_norm(module: nn.Module) -> float:
    """Global L2 norm sqrt(sum_p ||grad p||^2) over the parameters that have a gradient."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)).item() if norms else 0.0
