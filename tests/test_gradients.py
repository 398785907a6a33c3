"""ganlab.gradients: the global gradient norm every training step reports, and frozen."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from ganlab import gradients


def test_grad_norm_is_the_global_l2_norm():
    layer = torch.nn.Linear(2, 1)
    assert gradients.grad_norm(layer) == 0.0  # no gradients yet
    layer.weight.grad = torch.tensor([[3.0, 0.0]])
    layer.bias.grad = torch.tensor([4.0])
    assert_close(gradients.grad_norm(layer), 5.0)


def test_frozen_backpropagates_through_a_module_but_not_into_its_weights():
    from ganlab.gradients import frozen

    D = torch.nn.Linear(3, 1)
    D.bias.requires_grad_(False)  # a flag that must come back as it was
    x = torch.randn(4, 3, requires_grad=True)
    with frozen(D):
        D(x).sum().backward()
    assert x.grad is not None and D.weight.grad is None
    assert D.weight.requires_grad and not D.bias.requires_grad
    with pytest.raises(RuntimeError, match="inside"), frozen(D):
        raise RuntimeError("inside")
    assert D.weight.requires_grad  # restored after an error too
