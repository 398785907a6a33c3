"""ganlab.metrics, image scores: FID, KID, Inception Score, precision/recall, density/coverage,
each checked against an independent computation (closed forms, scipy's sqrtm, pytorch-fid's
recipe, or a brute-force loop over the papers' definitions), plus their input checks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.linalg
import torch
from torch.testing import assert_close

from ganlab import metrics, models

# ----------------------------------------------------------------------------- helpers


def gaussian(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    """n seeded samples of N(shift, I) in d dimensions, float64."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) + shift


def random_spd(d: int, seed: int) -> torch.Tensor:
    """A random symmetric positive-definite (d, d) matrix, float64, condition number moderate."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, 2 * d, generator=g, dtype=torch.float64)
    return a @ a.T / (2 * d) + 0.05 * torch.eye(d, dtype=torch.float64)


def grid_points(n: int, d: int, seed: int, high: int = 4) -> torch.Tensor:
    """n points with small integer coordinates: many exactly equal distances (ties at a radius)
    and some duplicates, all computed exactly in float64 by any formula."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, high, (n, d), generator=g).to(torch.float64)


def pytorch_fid_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """pytorch-fid 0.3.0's recipe with the eps offset always applied: scipy sqrtm of
    (sigma1 + eps I)(sigma2 + eps I), real part, then ||mu1 - mu2||^2 + tr + tr - 2 tr."""
    d = len(mu1)
    offset = eps * np.eye(d)
    covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    assert np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean.real))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return math.sqrt(sum((float(u) - float(v)) ** 2 for u, v in zip(a, b, strict=True)))


def kth_radius_loop(points: np.ndarray, k: int) -> list[float]:
    """Distance from each point to its k-th nearest *other* point (index i itself excluded)."""
    return [
        sorted(distance(p, q) for j, q in enumerate(points) if j != i)[k - 1]
        for i, p in enumerate(points)
    ]


def precision_recall_loop(real: np.ndarray, fake: np.ndarray, k: int, strict: bool = False):
    """Kynkäänniemi et al. 2019 by definition: f(x, S) = 1 if some s in S has ||x - s|| <= r(s)."""
    inside = (lambda dist, r: dist < r) if strict else (lambda dist, r: dist <= r)
    r_real, r_fake = kth_radius_loop(real, k), kth_radius_loop(fake, k)
    precision = np.mean([
        any(inside(distance(f, r), rad) for r, rad in zip(real, r_real, strict=True)) for f in fake
    ])  # fmt: skip
    recall = np.mean([
        any(inside(distance(r, f), rad) for f, rad in zip(fake, r_fake, strict=True)) for r in real
    ])  # fmt: skip
    return float(precision), float(recall)


def density_coverage_loop(real: np.ndarray, fake: np.ndarray, k: int, strict: bool = True):
    """Naeem et al. 2020 by definition (prdc.py): real balls of radius = k-th NN, test ``<``."""
    inside = (lambda dist, r: dist < r) if strict else (lambda dist, r: dist <= r)
    radii = kth_radius_loop(real, k)
    counts = [
        sum(inside(distance(r, f), rad) for r, rad in zip(real, radii, strict=True)) for f in fake
    ]
    density = sum(counts) / (k * len(fake))
    coverage = np.mean([
        min(distance(r, f) for f in fake) < rad if strict else min(distance(r, f) for f in fake) <= rad
        for r, rad in zip(real, radii, strict=True)
    ])  # fmt: skip
    return float(density), float(coverage)


def mmd2_unbiased_loop(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, by a double loop (torch-fidelity's mmd2,
    mmd_est="unbiased": the diagonal is dropped within each set, kept in the cross term)."""
    m, d = x.shape

    def k(a, b):
        return (sum(float(u) * float(v) for u, v in zip(a, b, strict=True)) / d + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2 * xy / m**2


def inception_score_numpy(p: np.ndarray, splits: int) -> tuple[float, float]:
    """improved-gan's formula on equal splits; std over splits with np.std (ddof 0), as its code."""
    scores = []
    for i in range(splits):
        part = p[i * len(p) // splits : (i + 1) * len(p) // splits]
        kl = part * (np.log(part) - np.log(part.mean(0, keepdims=True)))
        scores.append(np.exp(kl.sum(1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


# ----------------------------------------------------------------------------- FID


def test_frechet_distance_of_identical_gaussians_is_0():
    for d, seed in [(1, 0), (6, 1), (32, 2)]:
        sigma = random_spd(d, seed)
        mu = gaussian(1, d, seed)[0]
        assert abs(metrics.frechet_distance(mu, sigma, mu.clone(), sigma.clone())) < 1e-8


def test_frechet_distance_of_diagonal_gaussians_has_closed_form():
    """Diagonal covariances commute: d^2 = ||mu1 - mu2||^2 + sum (sqrt(a_i) - sqrt(b_i))^2."""
    g = torch.Generator().manual_seed(3)
    mu1, mu2 = (torch.randn(7, generator=g, dtype=torch.float64) for _ in range(2))
    a, b = (torch.rand(7, generator=g, dtype=torch.float64) * 4 + 0.1 for _ in range(2))
    expected = float(((mu1 - mu2) ** 2).sum() + ((a.sqrt() - b.sqrt()) ** 2).sum())
    got = metrics.frechet_distance(mu1, torch.diag(a), mu2, torch.diag(b))
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_of_scaled_covariance_has_closed_form():
    """sigma2 = c^2 sigma1 (not diagonal): Tr(s1 + c^2 s1 - 2 c s1) = (1 - c)^2 Tr(s1)."""
    sigma = random_spd(9, 4)
    mu = torch.zeros(9, dtype=torch.float64)
    shift = torch.full((9,), 0.5, dtype=torch.float64)
    expected = 9 * 0.25 + (1 - 3.0) ** 2 * float(torch.trace(sigma))
    got = metrics.frechet_distance(mu, sigma, mu + shift, 9.0 * sigma)
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_in_1d_is_mean_and_std_difference():
    got = metrics.frechet_distance(torch.tensor([1.0]), torch.tensor([[4.0]]),
                                   torch.tensor([-2.0]), torch.tensor([[0.25]]))  # fmt: skip
    assert got == pytest.approx(3.0**2 + (2.0 - 0.5) ** 2, rel=1e-12)


@pytest.mark.parametrize(("d", "seed"), list(itertools.product([2, 5, 20, 64], [0, 1, 2])))
def test_trace_sqrt_product_matches_scipy_sqrtm(d, seed):
    s1, s2 = random_spd(d, seed), random_spd(d, seed + 100)
    expected = np.trace(scipy.linalg.sqrtm(s1.numpy() @ s2.numpy())).real
    assert float(metrics._trace_sqrt_product(s1, s2)) == pytest.approx(expected, rel=1e-6)
    # Tr((s1 s2)^(1/2)) = Tr((s2 s1)^(1/2)): the products are transposes of each other
    assert float(metrics._trace_sqrt_product(s2, s1)) == pytest.approx(expected, rel=1e-6)


def test_fid_matches_pytorch_fid_recipe_on_full_rank_samples():
    """mean and the unbiased (N - 1) covariance, as np.cov(rowvar=False) in pytorch-fid."""
    real, fake = gaussian(200, 5, 0), gaussian(150, 5, 1, shift=0.3) * 1.5
    r, f = real.numpy(), fake.numpy()
    expected = pytorch_fid_distance(r.mean(0), np.cov(r, rowvar=False),
                                    f.mean(0), np.cov(f, rowvar=False), eps=0.0)  # fmt: skip
    assert metrics.fid(real, fake) == pytest.approx(expected, rel=1e-9)
    assert metrics.fid(real.float(), fake.float()) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("n", [5, 12])
def test_fid_with_fewer_samples_than_dimensions_is_finite_and_matches_pytorch_fid(n):
    """Rank-deficient covariances (N < d): still a finite real value, as pytorch-fid's eps recipe."""
    d = 20
    real, fake = gaussian(n, d, 10 + n), gaussian(n, d, 20 + n, shift=0.5)
    r, f = real.numpy(), fake.numpy()
    expected = pytorch_fid_distance(r.mean(0), np.cov(r, rowvar=False),
                                    f.mean(0), np.cov(f, rowvar=False))  # fmt: skip
    got = metrics.fid(real, fake)
    assert isinstance(got, float) and math.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-4)


def test_fid_against_a_constant_set_is_mean_distance_plus_trace():
    """A singular covariance exactly 0: d^2 = ||mu1 - mu2||^2 + Tr(sigma2)."""
    constant = torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64).repeat(30, 1)
    fake = gaussian(40, 3, 5) * 2
    expected = float(((constant[0] - fake.mean(0)) ** 2).sum() + torch.trace(torch.cov(fake.T)))
    assert metrics.fid(constant, fake) == pytest.approx(expected, rel=1e-9)


def test_fid_between_two_samples_of_one_gaussian_shows_the_finite_n_bias():
    """E FID_N ~ 2d/N (means) + (d^2 + d)/2N (covariances) = (d^2 + 5d)/2N; ~ d^2/2N for large d.

    d = 8, N = 2000: (64 + 40)/4000 = 0.026; d^2/2N = 0.016 (within a factor of 2)."""
    d, n = 8, 2000
    values = [metrics.fid(gaussian(n, d, 2 * s), gaussian(n, d, 2 * s + 1)) for s in range(10)]
    mean = float(np.mean(values))
    assert all(v > 0 for v in values)
    assert mean == pytest.approx((d * d + 5 * d) / (2 * n), rel=0.2)
    assert d * d / (2 * n) / 2 < mean < 2 * d * d / (2 * n)
    assert metrics.fid(gaussian(n, d, 0), gaussian(n, d, 1, shift=0.2)) > 10 * mean  # d * 0.04


def test_fid_is_0_for_identical_samples():
    x = gaussian(100, 6, 7)
    assert abs(metrics.fid(x, x.clone())) < 1e-8


# ----------------------------------------------------------------------------- KID


def test_kid_matches_a_direct_loop_of_the_unbiased_estimator():
    real, fake = gaussian(6, 3, 0), gaussian(6, 3, 1, shift=0.4) * 1.3
    expected = mmd2_unbiased_loop(real.numpy(), fake.numpy())
    mean, std = metrics.kid(real, fake, subsets=1, subset_size=6)
    assert mean == pytest.approx(expected, rel=1e-10)
    assert std == 0.0
    # a subset larger than the sets takes all rows each time: the same value, std 0
    mean, std = metrics.kid(real, fake, subsets=3, subset_size=1000)
    assert mean == pytest.approx(expected, rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_kid_is_about_0_for_one_distribution_and_positive_for_shifted_ones():
    real, same = gaussian(600, 4, 0), gaussian(600, 4, 1)
    mean_same, _ = metrics.kid(real, same, subsets=20, subset_size=300)
    mean_shift, std_shift = metrics.kid(real, gaussian(600, 4, 1, shift=0.3), subsets=20,
                                        subset_size=300)  # fmt: skip
    assert abs(mean_same) < 0.03  # the biased V-statistic would be about +0.06 here
    assert mean_shift > 0.2 and mean_shift > 2 * std_shift
    assert abs(mean_same) < 0.1 * mean_shift


def test_kid_is_seeded():
    real, fake = gaussian(50, 3, 0), gaussian(60, 3, 1)
    a = metrics.kid(real, fake, subsets=5, subset_size=20, seed=1)
    assert a == metrics.kid(real, fake, subsets=5, subset_size=20, seed=1)
    assert a != metrics.kid(real, fake, subsets=5, subset_size=20, seed=2)


# ----------------------------------------------------------------------------- precision/recall


def test_precision_recall_of_identical_sets_is_1_1():
    x = gaussian(200, 5, 0)
    assert metrics.precision_recall(x, x.clone()) == (1.0, 1.0)


def test_precision_recall_of_far_apart_clouds_is_0_0():
    assert metrics.precision_recall(gaussian(100, 3, 0), gaussian(120, 3, 1, shift=50.0)) == (0, 0)


def test_precision_recall_when_fake_covers_one_cluster_of_real():
    """Real: 4 far-apart clusters; fake: the first cluster only -> good quality, poor diversity."""
    centres = torch.tensor(
        [[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]], dtype=torch.float64
    )
    real = torch.cat([gaussian(100, 2, i) + centres[i] for i in range(4)])
    fake = gaussian(100, 2, 10)
    precision, recall = metrics.precision_recall(real, fake)
    assert precision > 0.9
    assert recall < 0.3  # at most the first quarter of real is covered
    assert recall > 0.15


@pytest.mark.parametrize("k", [1, 3])
def test_precision_recall_matches_a_brute_force_loop_with_ties(k):
    """Integer points: many distances equal a radius exactly, where ``<=`` matters."""
    real, fake = grid_points(40, 2, 0), grid_points(30, 2, 1, high=5)
    expected = precision_recall_loop(real.numpy(), fake.numpy(), k)
    assert metrics.precision_recall(real, fake, k=k) == pytest.approx(expected, abs=1e-12)
    # the example does tell <= from <
    assert precision_recall_loop(real.numpy(), fake.numpy(), k, strict=True) != expected


def test_precision_recall_matches_a_brute_force_loop_on_random_points():
    real, fake = gaussian(35, 4, 0), gaussian(30, 4, 1, shift=0.7)
    expected = precision_recall_loop(real.numpy(), fake.numpy(), 3)
    assert 0 < expected[0] < 1 and 0 < expected[1] < 1
    assert metrics.precision_recall(real, fake) == pytest.approx(expected, abs=1e-12)


# ----------------------------------------------------------------------------- density/coverage


def assert_density_coverage(got, expected):
    """Coverage exact; density to float32 precision (see test_density_is_computed_in_float64):
    one ball more or less changes it by 1/(kM) >= 1e-4 here."""
    assert got[0] == pytest.approx(expected[0], rel=1e-7)
    assert got[1] == pytest.approx(expected[1], abs=1e-12)


def test_density_coverage_of_identical_sets_is_1_1():
    """Each real ball holds strictly itself and its k - 1 nearest neighbours: density exactly 1
    (``<=`` would count the k-th too and give (k + 1)/k)."""
    x = gaussian(300, 3, 0)
    density, coverage = metrics.density_coverage(x, x.clone())
    assert density == pytest.approx(1.0, abs=1e-12)
    assert coverage == 1.0


def test_density_coverage_of_two_samples_of_one_distribution():
    """Coverage -> 1 - 2^-k = 0.969 for k = 5 (rank argument), density about 1 (Naeem et al.)."""
    density, coverage = metrics.density_coverage(gaussian(1000, 2, 0), gaussian(1000, 2, 1))
    assert coverage == pytest.approx(1 - 2**-5, abs=0.03)
    assert density == pytest.approx(1.0, abs=0.1)


def test_density_exceeds_1_when_fakes_crowd_a_dense_region():
    """In 8-D the mode lies inside many real balls (about 3.4 of k = 5 per fake here)."""
    real = gaussian(300, 8, 0)
    fake = 0.01 * gaussian(100, 8, 1)  # all near the mode
    density, coverage = metrics.density_coverage(real, fake)
    assert density > 2
    assert coverage < 0.2


def test_density_coverage_of_far_apart_clouds_is_0_0():
    assert metrics.density_coverage(gaussian(50, 3, 0), gaussian(40, 3, 1, shift=50.0)) == (0, 0)


@pytest.mark.parametrize("k", [2, 5])
def test_density_coverage_matches_a_brute_force_loop_with_ties(k):
    real, fake = grid_points(40, 2, 2), grid_points(30, 2, 3, high=5)
    expected = density_coverage_loop(real.numpy(), fake.numpy(), k)
    assert_density_coverage(metrics.density_coverage(real, fake, k=k), expected)
    assert density_coverage_loop(real.numpy(), fake.numpy(), k, strict=False) != expected


def test_density_coverage_matches_a_brute_force_loop_on_random_points():
    real, fake = gaussian(35, 4, 0), gaussian(25, 4, 1, shift=0.5)
    expected = density_coverage_loop(real.numpy(), fake.numpy(), 5)
    assert 0 < expected[1] < 1
    assert_density_coverage(metrics.density_coverage(real, fake), expected)


def test_density_is_computed_in_float64():
    real, fake = gaussian(35, 4, 0), gaussian(25, 4, 1, shift=0.5)
    density, _ = metrics.density_coverage(real, fake)
    assert density == density_coverage_loop(real.numpy(), fake.numpy(), 5)[0]  # 103 / 125


# ----------------------------------------------------------------------------- Inception Score


def test_inception_score_of_confident_uniform_classes_is_the_class_count():
    probs = torch.eye(10).repeat(10, 1)  # row i is class i % 10: every split holds all classes
    mean, std = metrics.inception_score(probs, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_is_1_when_every_sample_has_the_same_distribution():
    p = torch.softmax(torch.tensor([0.3, -1.0, 2.0, 0.0]), 0)
    mean, std = metrics.inception_score(p.repeat(40, 1), splits=4)
    assert mean == pytest.approx(1.0, abs=1e-6)
    assert std == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("splits", [1, 3, 6])
def test_inception_score_matches_a_direct_numpy_computation(splits):
    g = torch.Generator().manual_seed(0)
    probs = torch.softmax(3 * torch.randn(60, 5, generator=g, dtype=torch.float64), dim=1)
    mean, std = metrics.inception_score(probs, splits=splits)
    expected_mean, expected_std = inception_score_numpy(probs.numpy(), splits)
    assert 1 < mean < 5
    assert mean == pytest.approx(expected_mean, rel=1e-10)
    assert std == (0.0 if splits == 1 else pytest.approx(expected_std, rel=1e-8))


# ----------------------------------------------------------------------------- input checks

PAIR_SCORES = {
    "fid": metrics.fid,
    "kid": metrics.kid,
    "precision_recall": metrics.precision_recall,
    "density_coverage": metrics.density_coverage,
}


@pytest.mark.parametrize("name", PAIR_SCORES)
def test_mismatched_feature_dimensions_are_refused_naming_both(name):
    with pytest.raises(ValueError, match=r"differ in dimension: 5 and 3"):
        PAIR_SCORES[name](gaussian(20, 5, 0), gaussian(20, 3, 1))


@pytest.mark.parametrize(
    ("name", "rows", "needed"),
    [("fid", 1, 2), ("kid", 1, 2), ("precision_recall", 3, 4), ("density_coverage", 5, 6)],
)
def test_too_few_samples_are_refused(name, rows, needed):
    with pytest.raises(
        ValueError, match=rf"real features needs at least {needed} rows.*got {rows}"
    ):
        PAIR_SCORES[name](gaussian(rows, 3, 0), gaussian(20, 3, 1))


def test_kid_subsets_of_one_sample_are_refused():
    with pytest.raises(ValueError, match="at least 2 samples, got 1"):
        metrics.kid(gaussian(20, 3, 0), gaussian(20, 3, 1), subset_size=1)


@pytest.mark.parametrize("name", PAIR_SCORES)
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_features_are_refused(name, bad):
    fake = gaussian(20, 3, 1)
    fake[7, 2] = bad
    with pytest.raises(ValueError, match="generated features contains NaN or infinite"):
        PAIR_SCORES[name](gaussian(20, 3, 0), fake)


@pytest.mark.parametrize("name", PAIR_SCORES)
@pytest.mark.parametrize(
    ("real", "shown"),
    [
        (torch.zeros(20), r"\(20,\)"),
        (torch.zeros(2, 10, 3), r"\(2, 10, 3\)"),
        (np.zeros((20, 3)), "ndarray"),
    ],
)
def test_features_of_the_wrong_shape_or_type_are_refused(name, real, shown):
    message = rf"real features must be a feature matrix of shape \(N, d\), got {shown}"
    with pytest.raises(ValueError, match=message):
        PAIR_SCORES[name](real, gaussian(20, 3, 1))


def test_frechet_distance_refuses_disagreeing_dimensions():
    with pytest.raises(
        ValueError, match=r"disagree in dimension: \(2,\), \(3,\), \(2, 2\), \(3, 3\)"
    ):
        metrics.frechet_distance(torch.zeros(2), torch.eye(2), torch.zeros(3), torch.eye(3))
    with pytest.raises(ValueError, match="disagree in dimension"):
        metrics.frechet_distance(torch.zeros(2), torch.eye(3), torch.zeros(2), torch.eye(2))


@pytest.mark.parametrize(
    "probs",
    [
        torch.randn(20, 4, generator=torch.Generator().manual_seed(0)),  # logits, not probabilities
        torch.full((20, 4), 0.5),  # rows sum to 2
        torch.tensor([[1.5, -0.5]]).repeat(20, 1),  # sum to 1 but negative
    ],
)
def test_inception_score_refuses_non_probabilities(probs):
    with pytest.raises(ValueError, match="probs must be probabilities"):
        metrics.inception_score(probs, splits=2)


def test_inception_score_refuses_too_few_samples_bad_shapes_and_nan():
    with pytest.raises(ValueError, match="probs needs at least 10 rows here, got 5"):
        metrics.inception_score(torch.full((5, 2), 0.5))
    with pytest.raises(ValueError, match=r"shape \(N, d\), got \(10,\)"):
        metrics.inception_score(torch.full((10,), 0.1), splits=1)
    nan = torch.full((10, 2), 0.5)
    nan[3, 1] = float("nan")
    with pytest.raises(ValueError, match="probs contains NaN"):
        metrics.inception_score(nan, splits=2)


# Argument checks: without them each call below gave a non-ValueError exception or a silent
# meaningless value.
MISSING_CHECKS = {
    "kid subsets=0 (ZeroDivisionError)": lambda: metrics.kid(gaussian(9, 2, 0), gaussian(9, 2, 1), subsets=0),
    "inception_score splits=0 (RuntimeError)": lambda: metrics.inception_score(torch.eye(2), splits=0),
    "precision_recall k=0 (silently (1, 1))": lambda: metrics.precision_recall(
        gaussian(9, 2, 0), gaussian(9, 2, 1, shift=9.0), k=0
    ),
    "density_coverage k=0 (silently density nan)": lambda: metrics.density_coverage(
        gaussian(9, 2, 0), gaussian(9, 2, 1), k=0
    ),
    "frechet_distance NaN covariance (silently nan)": lambda: metrics.frechet_distance(
        torch.zeros(2), torch.tensor([[float("nan"), 0.0], [0.0, 1.0]]), torch.zeros(2), torch.eye(2)
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", MISSING_CHECKS)
def test_bad_arguments_raise_value_error(case):
    with pytest.raises(ValueError):
        MISSING_CHECKS[case]()


# ----------------------------------------------------------------------------- features()


class DropoutFeatures(torch.nn.Module):
    """features = dropout(x): the identity in eval mode, zeros about half of it in train mode."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))
        self.drop = torch.nn.Dropout(0.5)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.scale * x.flatten(1))


def test_features_of_the_image_classifier():
    torch.manual_seed(0)
    model = models.ImageClassifier(width=4, feature_dim=8)
    images = torch.rand(7, 1, 28, 28) * 2 - 1
    model.train()
    out = metrics.features(model, images, batch_size=3)  # batches of 3, 3, 1
    assert out.shape == (7, 8)
    assert out.device.type == "cpu" and not out.requires_grad
    assert model.training  # restored
    model.eval()
    with torch.no_grad():
        assert_close(out, model.features(images))
    assert not model.training
    metrics.features(model, images)
    assert not model.training  # eval stays eval


def test_features_run_in_eval_mode_and_restore_training_mode_on_error():
    model = DropoutFeatures().train()
    x = torch.randn(50, 2, 3, generator=torch.Generator().manual_seed(0)) + 5  # never 0
    out = metrics.features(model, x, batch_size=20)
    assert torch.equal(out, x.flatten(1))  # no dropout: eval mode
    assert model.training
    classifier = models.ImageClassifier(width=4, feature_dim=8).train()
    with pytest.raises(ValueError, match="x must have shape"):
        metrics.features(classifier, torch.zeros(3, 1, 27, 27))
    assert classifier.training


def test_real_manifold_scores_many_sets_as_the_functions_do_computing_real_radii_once(monkeypatch):
    real, fakes = gaussian(80, 3, 0), [gaussian(60, 3, 1), gaussian(70, 3, 2, shift=0.5)]
    expected = [
        (metrics.precision_recall(real, f), metrics.density_coverage(real, f)) for f in fakes
    ]
    calls = []
    radii = metrics._kth_neighbour_radii
    monkeypatch.setattr(
        metrics, "_kth_neighbour_radii", lambda x, k: calls.append(len(x)) or radii(x, k)
    )
    manifold = metrics.RealManifold(real)
    got = [(manifold.precision_recall(f), manifold.density_coverage(f)) for f in fakes]
    assert got == expected
    assert calls.count(80) == 2  # the real radii once for k = 3 and once for k = 5, not per set
