"""ganlab.latent: lerp and slerp endpoints, norms along the paths, vector arithmetic."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from ganlab import latent


def gaussian_pair(d: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(d, generator=g, dtype=torch.float64), torch.randn(
        d, generator=g, dtype=torch.float64
    )


@pytest.mark.parametrize("path", [latent.lerp, latent.slerp])
def test_paths_start_at_z0_and_end_at_z1(path):
    z0, z1 = gaussian_pair()
    ends = path(z0, z1, torch.tensor([0.0, 1.0]))
    assert ends.shape == (2, 64)
    assert_close(ends[0], z0)
    assert_close(ends[1], z1)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints_and_lerp_does_not():
    z0, z1 = gaussian_pair()
    z1 = z1 * z0.norm() / z1.norm()  # equal norms
    t = torch.linspace(0, 1, 11)
    assert_close(latent.slerp(z0, z1, t).norm(dim=1), z0.norm().expand(11))
    mid = latent.lerp(z0, z1, 0.5).norm()
    # for nearly orthogonal endpoints (independent Gaussians) the midpoint has norm ~ |z0| / sqrt 2
    cos = torch.dot(z0, z1) / z0.norm() ** 2
    assert_close(mid, z0.norm() * math.sqrt((1 + cos) / 2))
    assert mid < 0.85 * z0.norm()


def test_slerp_moves_at_constant_angular_speed():
    z0, z1 = gaussian_pair(seed=3)
    z1 = z1 * z0.norm() / z1.norm()  # on one sphere: a great-circle arc at constant speed
    path = latent.slerp(z0, z1, torch.linspace(0, 1, 5))
    unit = path / path.norm(dim=1, keepdim=True)
    angles = torch.arccos((unit[:-1] * unit[1:]).sum(dim=1).clamp(-1, 1))
    assert_close(angles, angles[0].expand(4))


def test_slerp_of_parallel_vectors_falls_back_to_lerp():
    z0 = torch.ones(8, dtype=torch.float64)
    assert_close(latent.slerp(z0, 2 * z0, 0.5), latent.lerp(z0, 2 * z0, 0.5))


@pytest.mark.parametrize("t", [-0.1, 1.5, float("nan")])
def test_t_outside_0_1_is_rejected(t):
    z0, z1 = gaussian_pair()
    with pytest.raises(ValueError, match="t must lie in"):
        latent.slerp(z0, z1, t)


def test_endpoints_must_be_vectors_of_one_shape():
    with pytest.raises(ValueError, match=r"one shape \(d,\), got \(3,\) and \(4,\)"):
        latent.lerp(torch.zeros(3), torch.zeros(4), 0.5)


def test_arithmetic_averages_each_concept_then_adds():
    a = torch.tensor([[1.0, 0.0], [3.0, 0.0]])  # mean (2, 0)
    b = torch.tensor([[0.0, 1.0]])
    c = torch.tensor([5.0, 5.0])
    assert_close(latent.arithmetic(a, b, c), torch.tensor([7.0, 4.0]))
    with pytest.raises(ValueError, match="share one latent size"):
        latent.arithmetic(a, b, torch.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(B, d\), B >= 1"):
        latent.concept_vector(torch.zeros(0, 2))
