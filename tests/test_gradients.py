"""ganlab.gradients: the global gradient norm every training step reports."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from ganlab import gradients


def test_grad_norm_is_the_global_l2_norm():
    layer = torch.nn.Linear(2, 1)
    assert gradients.grad_norm(layer) == 0.0  # no gradients yet
    layer.weight.grad = torch.tensor([[3.0, 0.0]])
    layer.bias.grad = torch.tensor([4.0])
    assert_close(gradients.grad_norm(layer), 5.0)
