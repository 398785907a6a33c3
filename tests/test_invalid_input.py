"""Invalid input is refused, never turned into a silent wrong result (issue 22 item 9):
metrics, latent walks, toy distributions and the widgets' animation helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from ganlab import data, latent, metrics, models
from ganlab.widgets import _common, dirac_animation, latent_walk_animation, mode_collapse_animation

torch.set_num_threads(1)
NAN, INF = float("nan"), float("inf")


# ----------------------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    "sigma, named",
    [
        ([[0.0, 1.0], [-1.0, 0.0]], "sigma1 must be a symmetric covariance"),  # gave 0.0
        ([[1.0, 5.0], [0.0, 1.0]], "sigma1 must be a symmetric covariance"),
        ([[-1.0, 0.0], [0.0, -1.0]], "sigma1 must be positive semi-definite"),  # gave -4.0
        ([[1.0, 2.0], [2.0, 1.0]], r"sigma1 must be positive semi-definite .* eigenvalue -1"),
    ],
)
def test_frechet_distance_refuses_a_matrix_that_is_not_a_covariance(sigma, named):
    mu, sigma = torch.zeros(2), torch.tensor(sigma)
    with pytest.raises(ValueError, match=named):
        metrics.frechet_distance(mu, sigma, mu, torch.eye(2))
    with pytest.raises(ValueError, match=named.replace("sigma1", "sigma2")):
        metrics.frechet_distance(mu, torch.eye(2), mu, sigma)


def test_frechet_distance_refuses_non_tensors_and_a_bad_eps():
    with pytest.raises(TypeError, match="sigma1 must be a torch.Tensor, got list"):
        metrics.frechet_distance(torch.zeros(2), [[1, 0], [0, 1]], torch.zeros(2), torch.eye(2))
    with pytest.raises(ValueError, match="eps must be a positive"):
        metrics.frechet_distance(torch.zeros(2), torch.eye(2), torch.zeros(2), torch.eye(2), eps=0)


def test_frechet_distance_still_accepts_singular_and_round_off_covariances():
    """FID of fewer samples than dimensions: rank-deficient covariances with round-off."""
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(5, 16, generator=g), torch.randn(6, 16, generator=g) + 1
    assert metrics.fid(real, fake) > 0
    a = torch.randn(4, 3, generator=g, dtype=torch.float64)
    sigma = a.T @ a  # symmetric PSD up to round-off
    assert_close(metrics.frechet_distance(torch.zeros(3), sigma, torch.zeros(3), sigma), 0.0,
                 atol=1e-9, rtol=0)  # fmt: skip


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_wasserstein_1d_refuses_nan_and_inf_like_sliced_wasserstein(bad):
    x, y = torch.tensor([0.0, 1.0, bad]), torch.tensor([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="x contains NaN or infinite values"):
        metrics.wasserstein_1d(x, y)
    with pytest.raises(ValueError, match="y contains NaN or infinite values"):
        metrics.wasserstein_1d(y, x[:, None])
    with pytest.raises(ValueError, match="contains NaN or infinite"):
        metrics.sliced_wasserstein(x[:, None], y[:, None])


@pytest.mark.parametrize(
    "counts", [torch.tensor([3, -1, 2]), torch.tensor([1.0, NAN]), torch.ones(2, 2), torch.zeros(0)]
)
def test_mode_histogram_kl_refuses_what_is_not_a_histogram(counts):
    with pytest.raises(ValueError, match="counts"):
        metrics.mode_histogram_kl(counts)


def test_mode_coverage_refuses_nan_samples_instead_of_counting_them_as_misses():
    samples = data.ring().sample(10, seed=0)
    samples[3, 0] = NAN
    with pytest.raises(ValueError, match="samples contains NaN"):
        metrics.mode_coverage(samples, data.ring())


def test_features_refuses_a_non_positive_batch_size():
    model = models.ImageClassifier(classes=2, width=4, feature_dim=8)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        metrics.features(model, torch.zeros(2, 1, 28, 28), batch_size=0)


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


# ----------------------------------------------------------------------------- data


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"means": [[NAN, 0.0]], "stds": 1.0}, "means must be finite"),
        ({"means": [[INF, 0.0]], "stds": 1.0}, "means must be finite"),
        ({"means": [[0.0, 0.0]], "stds": INF}, "stds must be 1 positive numbers"),
        ({"means": [[0.0], [1.0]], "stds": 1.0, "weights": [INF, 1.0]}, "weights must be 2"),
        ({"means": [[0.0], [1.0]], "stds": 1.0, "weights": [NAN, 1.0]}, "weights must be 2"),
    ],
)
def test_a_mixture_with_non_finite_parameters_is_refused(kwargs, named):
    """Before: an inf std or NaN mean gave a mixture whose samples were all NaN."""
    with pytest.raises(ValueError, match=named):
        data.GaussianMixture(**kwargs)


def test_a_bool_is_not_a_positive_number():
    with pytest.raises(ValueError, match="radius must be a positive number, got True"):
        data.ring(radius=True)


# ----------------------------------------------------------------------------- animations


def test_frames_to_jshtml_refuses_no_frames_mixed_shapes_and_bad_rates():
    frame = np.zeros((8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="at least one frame"):
        _common.frames_to_jshtml([], dpi=72, fps=1)
    with pytest.raises(ValueError, match=r"one shape, got shapes \[\(8, 8, 3\), \(9, 8, 3\)\]"):
        _common.frames_to_jshtml([frame, np.zeros((9, 8, 3), dtype=np.uint8)], dpi=72, fps=1)
    with pytest.raises(ValueError, match=r"RGB arrays \(H, W, 3\)"):
        _common.frames_to_jshtml([np.zeros((8, 8), dtype=np.uint8)], dpi=72, fps=1)
    for fps in (0, -1, NAN, INF):
        with pytest.raises(ValueError, match="fps must be a positive"):
            _common.frames_to_jshtml([frame], dpi=72, fps=fps)
    with pytest.raises(ValueError, match="dpi must be a positive"):
        _common.frames_to_jshtml([frame], dpi=0, fps=1)
    assert "<img" in _common.frames_to_jshtml([frame, frame], dpi=72, fps=1)


def test_latent_walk_animation_refuses_empty_legs_and_bad_fps():
    G = models.DCGANGenerator(8, 4)
    with pytest.raises(ValueError, match="frames_per_leg must be a positive integer, got 0"):
        latent_walk_animation(G, seeds=(0, 1), frames_per_leg=0)
    with pytest.raises(ValueError, match="fps must be a positive"):
        latent_walk_animation(G, seeds=(0, 1), fps=0)


def test_mode_collapse_animation_refuses_fewer_steps_than_frames_and_no_remedy():
    """Before: steps=3 with frames=11 trained 10 steps, more than asked, without a word."""
    with pytest.raises(ValueError, match="steps must be at least frames - 1 = 10"):
        mode_collapse_animation(steps=3, frames=11)
    with pytest.raises(ValueError, match="remedies must name at least one"):
        mode_collapse_animation(steps=10, frames=3, remedies=())
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        mode_collapse_animation(steps=0, frames=3)


def test_dirac_animation_refuses_no_configuration():
    with pytest.raises(ValueError, match="configurations must hold at least one run"):
        dirac_animation({})
