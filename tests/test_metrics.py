"""ganlab.metrics: mode coverage (modes captured, high-quality fraction, reverse KL), the 1-D and
sliced Wasserstein distances, and the refusal of invalid input (FID, histograms, features)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from conftest import F64, INF, NAN, batch
from torch.testing import assert_close

from ganlab import data, metrics, models

RING = data.ring()  # 8 modes, radius 2, std 0.02
STD = 0.02


def offset(k: torch.Tensor, distance: float, seed: int = 0) -> torch.Tensor:
    """Points at exactly ``distance`` from centres ``k`` of RING, in random directions."""
    angle = 2 * math.pi * torch.rand(len(k), generator=torch.Generator().manual_seed(seed))
    return RING.centers[k] + distance * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


def test_samples_on_all_8_centres_capture_8_modes_with_kl_0():
    samples = RING.centers.repeat(50, 1)  # 400 samples, 50 per mode
    cov = metrics.mode_coverage(samples, RING)
    assert (cov.modes, cov.n_modes) == (8, 8)
    assert cov.hq_fraction == 1.0
    assert torch.equal(cov.counts, torch.full((8,), 50))
    assert_close(cov.reverse_kl, 0.0, rtol=0, atol=1e-12)


def test_samples_in_one_mode_give_kl_log_8():
    samples = RING.centers[3].repeat(30, 1)
    cov = metrics.mode_coverage(samples, RING)
    assert cov.modes == 1
    assert cov.hq_fraction == 1.0
    assert cov.counts.tolist() == [0, 0, 0, 30, 0, 0, 0, 0]
    assert_close(cov.reverse_kl, math.log(8))


def test_samples_far_from_every_mode_capture_nothing():
    """The ring's origin is 2 = 100 std from every centre: no HQ sample, KL = inf."""
    cov = metrics.mode_coverage(torch.zeros(40, 2), RING)
    assert cov.modes == 0
    assert cov.hq_fraction == 0.0
    assert cov.counts.tolist() == [0] * 8
    assert cov.reverse_kl == math.inf


def test_mix_of_on_and_off_mode_samples():
    """3 at mode 0, 1 at mode 2 (2 std off), 2 off-mode: hq = 4/6, q = (3/4, 1/4)."""
    samples = torch.cat(
        [
            RING.centers[[0, 0, 0]],
            offset(torch.tensor([2]), 2 * STD),
            torch.tensor([[0.0, 0.0], [5.0, 5.0]]),
        ]
    )
    cov = metrics.mode_coverage(samples, RING)
    assert cov.modes == 2
    assert cov.counts.tolist() == [3, 0, 1, 0, 0, 0, 0, 0]
    assert_close(cov.hq_fraction, 4 / 6)
    # KL(q || u) = sum q log(8 q) = 3/4 log 6 + 1/4 log 2
    assert_close(cov.reverse_kl, 0.75 * math.log(6) + 0.25 * math.log(2))


def test_threshold_boundary_single_points():
    """A point 2.9 std from its centre is high quality; one at 3.1 std is not."""
    inside = metrics.mode_coverage(offset(torch.tensor([5]), 2.9 * STD), RING)
    outside = metrics.mode_coverage(offset(torch.tensor([5]), 3.1 * STD), RING)
    assert (inside.modes, inside.hq_fraction) == (1, 1.0)
    assert (outside.modes, outside.hq_fraction) == (0, 0.0)


def test_threshold_boundary_in_a_large_batch():
    k = torch.arange(8).repeat(25)  # 200 points, more than torch.cdist's small-batch path
    assert metrics.mode_coverage(offset(k, 2.9 * STD), RING).hq_fraction == 1.0
    assert metrics.mode_coverage(offset(k, 3.1 * STD), RING).hq_fraction == 0.0


def test_threshold_boundary_is_exact_for_a_small_std():
    ring = data.ring(std=1e-3)
    k = torch.arange(8).repeat(125)  # 1000 points
    angle = 2 * math.pi * torch.rand(len(k), generator=torch.Generator().manual_seed(0))
    unit = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    inside = ring.centers[k] + 2.9e-3 * unit
    outside = ring.centers[k] + 3.1e-3 * unit
    assert metrics.mode_coverage(inside, ring).hq_fraction == 1.0
    assert metrics.mode_coverage(outside, ring).hq_fraction == 0.0


def test_threshold_argument_scales_the_radius():
    points = offset(torch.tensor([1]), 1.5 * STD)
    assert metrics.mode_coverage(points, RING, threshold=2.0).modes == 1
    assert metrics.mode_coverage(points, RING, threshold=1.0).modes == 0


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_true_samples_are_high_quality_with_probability_1_minus_exp_minus_4_5(name):
    """For a 2-D isotropic Gaussian P(||x - mu|| <= 3 sigma) = 1 - exp(-9/2) ~ 0.989.

    Tolerance: 4 binomial standard deviations sqrt(p (1 - p) / 2500) ~ 0.0084.
    """
    toy = data.toy(name)
    n = 2500
    cov = metrics.mode_coverage(toy.sample(n, seed=0), toy)
    p = 1 - math.exp(-4.5)
    assert_close(cov.hq_fraction, p, rtol=0, atol=4 * math.sqrt(p * (1 - p) / n))
    assert cov.modes == toy.n_modes
    assert int(cov.counts.sum()) == round(cov.hq_fraction * n)


def test_mode_histogram_kl_by_hand():
    """KL(q || u) = sum_k q_k log(q_k K)."""
    assert_close(metrics.mode_histogram_kl(torch.tensor([3, 1, 0, 0])), 0.75 * math.log(3))
    assert_close(
        metrics.mode_histogram_kl(torch.tensor([1.0, 2.0, 3.0])),
        sum(q * math.log(3 * q) for q in (1 / 6, 2 / 6, 3 / 6)),
    )
    assert_close(metrics.mode_histogram_kl(torch.tensor([5, 5, 5, 5])), 0.0, rtol=0, atol=1e-12)
    assert_close(metrics.mode_histogram_kl(torch.tensor([0, 7, 0, 0, 0])), math.log(5))
    assert metrics.mode_histogram_kl(torch.zeros(4)) == math.inf


def test_mode_coverage_accepts_samples_with_gradients():
    samples = RING.centers.clone().requires_grad_(True)
    assert metrics.mode_coverage(samples, RING).modes == 8


def test_wrong_sample_shape_raises_naming_it():
    with pytest.raises(ValueError, match=r"samples must have shape \(B, 2\), got \(10, 3\)"):
        metrics.mode_coverage(torch.zeros(10, 3), RING)
    with pytest.raises(ValueError, match=r"got \(10,\)"):
        metrics.mode_coverage(torch.zeros(10), RING)


@pytest.mark.parametrize("threshold", [0.0, -1.0])
def test_bad_threshold_raises_naming_it(threshold):
    with pytest.raises(ValueError, match=f"threshold .*{threshold}"):
        metrics.mode_coverage(RING.centers, RING, threshold=threshold)


def test_str_reports_modes_hq_and_kl():
    cov = metrics.mode_coverage(RING.centers[[3]].repeat(4, 1), RING)
    text = str(cov)
    assert re.search(r"\b1/8 modes captured", text)
    hq = re.search(r"([\d.]+) ?% high-quality", text)
    assert hq and float(hq.group(1)) == pytest.approx(100.0)
    kl = re.search(r"reverse KL ([\d.]+)", text)
    assert kl and float(kl.group(1)) == pytest.approx(math.log(8), abs=5e-4)


# ----------------------------------------------------------------------------- wasserstein_1d


def sample_1d(n: int, seed: int, loc: float = 0.0, scale: float = 1.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return loc + scale * torch.randn(n, generator=generator, dtype=torch.float64)


def test_wasserstein_1d_by_hand():
    """Sorted [0, 1] vs [1, 3]: mean(|0 - 1|, |1 - 3|) = 1.5; identical samples give 0."""
    x, y = torch.tensor([1.0, 0.0]), torch.tensor([3.0, 1.0])
    assert metrics.wasserstein_1d(x, y) == 1.5
    assert metrics.wasserstein_1d(x, x.flip(0)) == 0.0


@pytest.mark.parametrize(
    ("n", "loc", "scale"), [(1, 0.0, 1.0), (50, 0.3, 1.0), (500, -2.0, 0.25), (2000, 4.0, 3.0)]
)
def test_wasserstein_1d_matches_scipy(n, loc, scale):
    stats = pytest.importorskip("scipy.stats")
    x = sample_1d(n, 0)
    y = sample_1d(n, 1, loc, scale) ** 3  # a skewed sample too
    expected = stats.wasserstein_distance(x.numpy(), y.numpy())
    assert_close(metrics.wasserstein_1d(x, y), expected, rtol=1e-12, atol=1e-12)
    # float32 input is computed in float64 from the rounded values
    x32, y32 = x.float(), y.float()
    expected32 = stats.wasserstein_distance(x32.double().numpy(), y32.double().numpy())
    assert_close(metrics.wasserstein_1d(x32, y32), expected32, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c", [0.0, 0.7, -3.25, 10.0])
def test_wasserstein_1d_of_a_shift_is_its_size(c):
    x = sample_1d(300, 2)
    assert_close(metrics.wasserstein_1d(x, x + c), abs(c), rtol=1e-12, atol=1e-12)


def test_wasserstein_1d_is_symmetric_and_returns_a_float():
    x, y = sample_1d(100, 3), sample_1d(100, 4, 1.0, 2.0)
    d = metrics.wasserstein_1d(x, y)
    assert type(d) is float
    assert d == metrics.wasserstein_1d(y, x)
    # a triangle inequality through a third sample
    z = sample_1d(100, 5, -1.0)
    assert d <= metrics.wasserstein_1d(x, z) + metrics.wasserstein_1d(z, y) + 1e-12


def test_wasserstein_1d_accepts_n_and_n_by_1_alike_and_samples_with_gradients():
    x, y = sample_1d(64, 6), sample_1d(64, 7, 2.0)
    d = metrics.wasserstein_1d(x, y)
    assert metrics.wasserstein_1d(x[:, None], y[:, None]) == d
    assert metrics.wasserstein_1d(x[:, None], y) == d
    assert metrics.wasserstein_1d(x.clone().requires_grad_(True), y) == d


def test_wasserstein_1d_unequal_sizes_raise_naming_both():
    with pytest.raises(ValueError, match="same number of samples, got 10 and 11"):
        metrics.wasserstein_1d(torch.zeros(10), torch.zeros(11))


@pytest.mark.parametrize(
    ("x", "shape"),
    [(torch.zeros(5, 2), r"\(5, 2\)"), (torch.zeros(5, 1, 1), r"\(5, 1, 1\)"),
     (torch.zeros(0), r"\(0,\)"), (torch.tensor(1.0), r"\(\)")],
)  # fmt: skip
def test_wasserstein_1d_wrong_shapes_raise_naming_them(x, shape):
    with pytest.raises(ValueError, match=rf"x must have shape \(N,\) or \(N, 1\), got {shape}"):
        metrics.wasserstein_1d(x, torch.zeros(5))


def test_wasserstein_1d_non_float_input_raises():
    with pytest.raises(TypeError, match="y must be a floating-point tensor"):
        metrics.wasserstein_1d(torch.zeros(3), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        metrics.wasserstein_1d([0.0, 1.0], torch.zeros(2))


# ----------------------------------------------------------------------------- grid, count vs KL

GRID = data.grid()  # 25 modes on {-4, -2, 0, 2, 4}^2, std 0.05


def test_grid_samples_on_all_25_centres_capture_25_modes_with_kl_0():
    cov = metrics.mode_coverage(GRID.centers.repeat(4, 1), GRID)
    assert (cov.modes, cov.n_modes) == (25, 25)
    assert cov.hq_fraction == 1.0
    assert torch.equal(cov.counts, torch.full((25,), 4))
    assert_close(cov.reverse_kl, 0.0, rtol=0, atol=1e-12)


def test_grid_samples_in_one_mode_give_kl_log_25():
    cov = metrics.mode_coverage(GRID.centers[17].repeat(30, 1), GRID)
    assert (cov.modes, cov.hq_fraction) == (1, 1.0)
    assert cov.counts[17] == 30 and int(cov.counts.sum()) == 30
    assert_close(cov.reverse_kl, math.log(25))


def test_grid_samples_between_the_modes_capture_nothing():
    """Cell centres (odd coordinates) are sqrt(2) = 28 std from the 4 nearest modes."""
    odd = torch.tensor([-3.0, -1.0, 1.0, 3.0])
    cov = metrics.mode_coverage(torch.cartesian_prod(odd, odd), GRID)
    assert (cov.modes, cov.hq_fraction) == (0, 0.0)
    assert cov.counts.tolist() == [0] * 25
    assert cov.reverse_kl == math.inf


def test_grid_threshold_boundary_at_every_mode():
    """2.9 std from each centre is high quality, 3.1 std is not (std 0.05 here, not 0.02)."""
    k = torch.arange(25).repeat(4)
    angle = 2 * math.pi * torch.rand(len(k), generator=torch.Generator().manual_seed(1))
    unit = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    inside = metrics.mode_coverage(GRID.centers[k] + 2.9 * 0.05 * unit, GRID)
    outside = metrics.mode_coverage(GRID.centers[k] + 3.1 * 0.05 * unit, GRID)
    assert (inside.modes, inside.hq_fraction) == (25, 1.0)
    assert torch.equal(inside.counts, torch.full((25,), 4))
    assert (outside.modes, outside.hq_fraction) == (0, 0.0)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_all_modes_captured_yet_a_large_kl_when_one_mode_dominates(name):
    """One sample per mode plus 20 K on mode 0: 'K/K modes' like a perfect generator, but
    q_0 = (20 K + 1) / (21 K) and KL(q || u) = q_0 log(K q_0) + (K - 1) q log(K q), q = 1/(21 K)."""
    toy = data.toy(name)
    K = toy.n_modes
    samples = torch.cat([toy.centers, toy.centers[0].repeat(20 * K, 1)])
    cov = metrics.mode_coverage(samples, toy)
    balanced = metrics.mode_coverage(toy.centers, toy)
    assert cov.modes == balanced.modes == K  # the count cannot tell them apart
    assert cov.hq_fraction == 1.0
    q0, q = (20 * K + 1) / (21 * K), 1 / (21 * K)
    assert_close(cov.reverse_kl, q0 * math.log(K * q0) + (K - 1) * q * math.log(K * q))
    assert cov.reverse_kl > 0.75 * math.log(K)  # close to the one-mode value log K
    assert_close(balanced.reverse_kl, 0.0, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- sliced Wasserstein


def directions(d: int, projections: int, seed: int) -> torch.Tensor:
    u = torch.randn(d, projections, generator=torch.Generator().manual_seed(seed), dtype=F64)
    return u / u.norm(dim=0, keepdim=True)


def sliced_wasserstein_numpy(x: np.ndarray, y: np.ndarray, u: np.ndarray) -> float:
    """mean over directions j of mean_i |sort(x u_j)_i - sort(y u_j)_i|, one direction at a time."""
    total = 0.0
    for j in range(u.shape[1]):
        px, py = np.sort(x @ u[:, j]), np.sort(y @ u[:, j])
        total += float(np.mean(np.abs(px - py)))
    return total / u.shape[1]


def test_sliced_wasserstein_matches_a_numpy_loop_over_the_same_directions():
    x, y = batch(50, 3, 0), 0.5 * batch(50, 3, 1) + 1
    for seed, projections in ((0, 16), (3, 40)):
        u = directions(3, projections, seed).numpy()
        expected = sliced_wasserstein_numpy(x.numpy(), y.numpy(), u)
        value = metrics.sliced_wasserstein(x, y, projections=projections, seed=seed)
        assert isinstance(value, float)
        assert value == pytest.approx(expected, rel=1e-12)
    # float32 samples are compared in float64
    value = metrics.sliced_wasserstein(x.float(), y.float(), projections=16, seed=0)
    assert value == pytest.approx(sliced_wasserstein_numpy(x.float().double().numpy(),
                                  y.float().double().numpy(), directions(3, 16, 0).numpy()))  # fmt: skip


def test_sliced_wasserstein_is_zero_for_the_same_set_and_symmetric():
    x, y = batch(40, 2, 0), batch(40, 2, 1)
    assert metrics.sliced_wasserstein(x, x) == 0.0
    assert metrics.sliced_wasserstein(x, x[torch.randperm(40)]) == 0.0  # order does not matter
    assert metrics.sliced_wasserstein(x, y) == metrics.sliced_wasserstein(y, x) > 0


def test_sliced_wasserstein_of_a_translation_is_norm_t_times_2_over_pi():
    """y = x + t: every projection is shifted by <t, u>, so SW = mean_u |<t, u>|, which tends to
    |t| E|cos theta| = |t| 2 / pi for directions uniform on the circle."""
    x = batch(500, 2, 0)
    t = torch.tensor([3.0, -4.0], dtype=F64)
    value = metrics.sliced_wasserstein(x, x + t, projections=4096, seed=1)
    assert value == pytest.approx(5 * 2 / math.pi, rel=0.05)
    assert value == pytest.approx(float((t @ directions(2, 4096, 1)).abs().mean()), rel=1e-9)


def test_sliced_wasserstein_in_one_dimension_is_wasserstein_1d():
    x, y = batch(30, 1, 0), 2 * batch(30, 1, 1) + 0.5
    assert metrics.sliced_wasserstein(x, y, projections=5) == pytest.approx(
        metrics.wasserstein_1d(x, y), rel=1e-12
    )


def test_sliced_wasserstein_rejects_mismatched_sets():
    with pytest.raises(ValueError, match="same number of samples, got 5 and 6"):
        metrics.sliced_wasserstein(batch(5, 2, 0), batch(6, 2, 1))
    with pytest.raises(ValueError, match="differ in dimension: 2 and 3"):
        metrics.sliced_wasserstein(batch(5, 2, 0), batch(5, 3, 1))
    with pytest.raises(
        ValueError, match=r"x must be a feature matrix of shape \(N, d\), got \(5,\)"
    ):
        metrics.sliced_wasserstein(torch.zeros(5), batch(5, 1, 1))
    with pytest.raises(ValueError, match="projections must be a positive integer, got 0"):
        metrics.sliced_wasserstein(batch(5, 2, 0), batch(5, 2, 1), projections=0)


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
