"""The size of a step's gradients: the global L2 norm that every training step reports
(``History.grad_norm_D`` and ``grad_norm_G``; chapter 2 compares the saturating and the
non-saturating losses by it). It sits below ``train`` and ``unrolled``, which both measure it.
"""

from __future__ import annotations

import torch
from torch import nn


def grad_norm(module: nn.Module) -> float:
    """Global L2 norm sqrt(sum_p ||grad p||^2) over the parameters that have a gradient."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)).item() if norms else 0.0
