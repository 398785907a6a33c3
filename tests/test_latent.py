"""ganlab.latent: lerp and slerp endpoints, norms along the paths, vector arithmetic,
class_latents, and the refusal of invalid latents."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import NAN
from torch.testing import assert_close

from ganlab import latent, models


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


class ByBrightness(torch.nn.Module):
    """A 'classifier' with 3 classes by mean brightness: dark, middle, bright."""

    def forward(self, x):
        m = x.mean(dim=(1, 2, 3))
        return torch.stack([-(m - c).abs() * 50 for c in (-0.02, 0.0, 0.02)], dim=1)


def test_class_latents_picks_the_most_confident_latents_per_class(G):
    concepts = latent.class_latents(G, ByBrightness(), per_class=3, pool=300, seed=0)
    assert set(concepts) <= {0, 1, 2} and concepts
    for c, z in concepts.items():
        assert z.shape == (3, 8)
        labels = ByBrightness()(G.eval()(z)).argmax(1)
        assert (labels == c).all()


# ----------------------------------------------------------------------------- latent


def test_slerp_from_the_zero_vector_is_refused_not_nan():
    z = torch.ones(4)
    for z0, z1, name in ((torch.zeros(4), z, "z0"), (z, torch.zeros(4), "z1")):
        with pytest.raises(ValueError, match=f"{name} is the zero vector"):
            latent.slerp(z0, z1, 0.5)
    assert_close(latent.lerp(torch.zeros(4), z, 0.5), torch.full((1, 4), 0.5))


def test_integer_latents_are_refused_instead_of_rounding_t():
    """Before: lerp(tensor([0, 10]), tensor([10, 0]), 0.5) gave [[0, 10]] (t cast to 0)."""
    for walk in (latent.lerp, latent.slerp):
        with pytest.raises(TypeError, match="z0 must be a floating-point tensor"):
            walk(torch.tensor([0, 10]), torch.tensor([10, 0]), 0.5)


@pytest.mark.parametrize("walk", [latent.lerp, latent.slerp])
def test_non_finite_latents_are_refused(walk):
    with pytest.raises(ValueError, match="z1 contains NaN"):
        walk(torch.ones(3), torch.tensor([1.0, NAN, 0.0]), 0.5)
    with pytest.raises(TypeError, match="z0 must be a torch.Tensor, got list"):
        walk([1.0, 2.0], torch.ones(2), 0.5)


def test_concept_vectors_and_arithmetic_refuse_nan_and_non_tensors():
    with pytest.raises(ValueError, match="contains NaN"):
        latent.concept_vector(torch.tensor([[1.0, NAN]]))
    with pytest.raises(TypeError, match="b must be a torch.Tensor, got list"):
        latent.arithmetic(torch.ones(2), [0.0, 1.0], torch.ones(2))


def test_class_latents_refuses_non_positive_counts():
    G = models.DCGANGenerator(8, 4)
    classifier = models.ImageClassifier(classes=2, width=4, feature_dim=8)
    with pytest.raises(ValueError, match="per_class must be a positive integer, got 0"):
        latent.class_latents(G, classifier, per_class=0, pool=10)
    with pytest.raises(ValueError, match="pool must be a positive integer, got -5"):
        latent.class_latents(G, classifier, pool=-5)
