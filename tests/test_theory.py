"""ganlab.theory: D*, V, C(G) = -log 4 + 2 JSD, KL and JSD on a grid, the KDE of p_g, the
Wasserstein-1 distance on a grid, and the Dirac-GAN (vector field, invariants, published
trajectories, Jacobian)."""

from __future__ import annotations

import cmath
import math

import pytest
import torch
from scipy import special, stats
from torch.testing import assert_close

from ganlab import data, losses, metrics, theory

F64 = torch.float64
LOG2 = math.log(2)
LOG4 = math.log(4)


def grid(lo: float, hi: float, n: int, dtype: torch.dtype = F64) -> torch.Tensor:
    return torch.linspace(lo, hi, n, dtype=dtype)


def normal_pdf(x: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    """N(x; mu, sigma^2) written out, independent of ganlab.data."""
    return torch.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))


def trapezoid_weights(x: torch.Tensor) -> torch.Tensor:
    """w with sum_i w_i f(x_i) = torch.trapezoid(f, x): half-cells at both ends."""
    dx = x[1:] - x[:-1]
    w = torch.zeros_like(x)
    w[:-1] += dx / 2
    w[1:] += dx / 2
    return w


def random_density(x: torch.Tensor, seed: int, sparse: bool = False) -> torch.Tensor:
    """A rough random density on x, normalised so that its trapezoid integral is 1.

    ``sparse`` zeroes about half the grid points, so that supports only partly overlap.
    """
    generator = torch.Generator().manual_seed(seed)
    raw = torch.randn(x.shape[0], generator=generator, dtype=x.dtype)
    p = raw.clamp(min=0) if sparse else torch.nn.functional.softplus(raw)
    return p / torch.trapezoid(p, x)


def random_grid(n: int, seed: int) -> torch.Tensor:
    """A non-uniform increasing grid on [-3, 3] (sorted uniform points plus both ends)."""
    generator = torch.Generator().manual_seed(seed)
    inner = torch.rand(n - 2, generator=generator, dtype=F64) * 6 - 3
    return torch.cat(
        [torch.tensor([-3.0], dtype=F64), inner.sort().values, torch.tensor([3.0], dtype=F64)]
    )


# 1-D mixture pairs (p_data, p_g): overlapping, a dropped mode, bimodal vs broad, nearly disjoint.
MIXTURE_PAIRS = {
    "overlapping": (data.mixture_1d([0.0], [1.0]), data.mixture_1d([0.5], [1.25])),
    "dropped_mode": (data.mixture_1d([-2.0, 2.0], [0.5, 0.5]), data.mixture_1d([2.0], [0.5])),
    "bimodal_vs_broad": (
        data.mixture_1d([-2.0, 1.0, 3.0], [0.5, 1.0, 0.25], [0.2, 0.5, 0.3]),
        data.mixture_1d([0.0], [2.0]),
    ),
    "nearly_disjoint": (data.mixture_1d([-3.0], [0.25]), data.mixture_1d([3.0], [0.25])),
}


# ----------------------------------------------------------------------------- optimal D


def test_optimal_discriminator_maximises_the_pointwise_objective_brute_force():
    """argmax over a fine grid of D in (0, 1) of p_data log D + p_g log(1 - D) is D* (Prop. 1)."""
    dist_data, dist_g = MIXTURE_PAIRS["bimodal_vs_broad"]
    x = torch.tensor([-3.0, -2.0, -0.5, 0.0, 0.7, 1.5, 3.0, 5.0], dtype=F64)
    p_data, p_g = theory.grid_densities(dist_data, dist_g, x)
    # Add points where one density is 0: there D* is 0 or 1.
    p_data = torch.cat([p_data, torch.tensor([0.0, 0.3], dtype=F64)])
    p_g = torch.cat([p_g, torch.tensor([0.2, 0.0], dtype=F64)])
    step = 1e-5
    d_grid = torch.arange(1, 100_000, dtype=F64) * step  # (0, 1) in steps of 1e-5
    objective = torch.xlogy(p_data[:, None], d_grid) + torch.xlogy(p_g[:, None], 1 - d_grid)
    d_best = d_grid[objective.argmax(dim=1)]
    assert_close(d_best, theory.optimal_discriminator(p_data, p_g), rtol=0, atol=step)


def test_optimal_discriminator_of_two_gaussians_closed_form():
    """D* = sigmoid(log N(x; 0, 1) - log N(x; 2, 0.5^2)), the log ratio written out."""
    x = grid(-4, 4, 81)
    p_data, p_g = theory.grid_densities(
        data.mixture_1d([0.0], [1.0]), data.mixture_1d([2.0], [0.5]), x
    )
    log_ratio = math.log(0.5 / 1.0) - x**2 / 2 + (x - 2) ** 2 / (2 * 0.5**2)
    assert_close(theory.optimal_discriminator(p_data, p_g), torch.sigmoid(log_ratio))


def test_optimal_discriminator_where_one_or_both_densities_vanish():
    """p_g = 0 -> 1, p_data = 0 -> 0, both 0 -> 1/2 (any D is optimal there), else p/(p+q)."""
    p_data = torch.tensor([0.4, 0.0, 0.0, 0.3, 0.1])
    p_g = torch.tensor([0.0, 0.2, 0.0, 0.1, 0.3])
    expected = torch.tensor([1.0, 0.0, 0.5, 0.75, 0.25])
    assert_close(theory.optimal_discriminator(p_data, p_g), expected, rtol=0, atol=1e-7)


def test_optimal_discriminator_stays_inside_0_1_where_both_densities_are_positive():
    """p_g / p_data below machine epsilon would round D* to 1, and p_data / p_g below the
    smallest float would round it to 0; it is kept one ulp below 1 and at least tiny."""
    for dtype in (torch.float32, F64):
        small = torch.finfo(dtype).tiny * 1e-3  # a subnormal density, > 0
        p_data = torch.tensor([1.0, small, 0.5], dtype=dtype)
        p_g = torch.tensor([1e-30, 1e10, 0.5], dtype=dtype)
        assert bool((p_data > 0).all()) and bool((p_g > 0).all())
        d = theory.optimal_discriminator(p_data, p_g)
        assert bool((d > 0).all()) and bool((d < 1).all())
        assert bool(torch.isfinite(torch.log(d)).all() and torch.isfinite(torch.log1p(-d)).all())
        assert d.dtype == dtype
        assert_close(d, torch.tensor([1.0, 0.0, 0.5], dtype=dtype), rtol=0, atol=1e-6)


def test_optimal_discriminator_keeps_any_matching_shape():
    """Pointwise: a 2-D grid of densities (for a heatmap) gives a 2-D D*."""
    p_data = torch.rand(5, 7, generator=torch.Generator().manual_seed(0))
    p_g = torch.rand(5, 7, generator=torch.Generator().manual_seed(1))
    d = theory.optimal_discriminator(p_data, p_g)
    assert d.shape == (5, 7)
    assert_close(d, p_data / (p_data + p_g))


# ----------------------------------------------------------------------------- C(G), Thm. 1


@pytest.mark.parametrize("pair", sorted(MIXTURE_PAIRS))
def test_optimal_value_is_minus_log4_plus_twice_jsd(pair):
    """C(G) = -log 4 + 2 JSD(p_data || p_g) (Thm. 1), on overlapping to nearly disjoint pairs."""
    x = grid(-12, 12, 4801)
    p_data, p_g = theory.grid_densities(*MIXTURE_PAIRS[pair], x)
    c = theory.optimal_value(p_data, p_g, x)
    jsd = theory.jensen_shannon(p_data, p_g, x)
    assert_close(c, -LOG4 + 2 * jsd, rtol=0, atol=1e-4)
    # C(G) = V(D*, G): the same number through the discriminator's probabilities.
    d_star = theory.optimal_discriminator(p_data, p_g)
    assert_close(theory.value_function(d_star, p_data, p_g, x), c, rtol=0, atol=1e-10)


def test_optimal_value_spans_minus_log4_to_0():
    """C(G) -> 0 (JSD -> log 2) for nearly disjoint supports, strictly between otherwise."""
    x = grid(-12, 12, 4801)
    c_disjoint = theory.optimal_value(
        *theory.grid_densities(*MIXTURE_PAIRS["nearly_disjoint"], x), x
    )
    assert_close(c_disjoint, torch.tensor(0.0, dtype=F64), rtol=0, atol=1e-4)
    c_overlap = theory.optimal_value(*theory.grid_densities(*MIXTURE_PAIRS["overlapping"], x), x)
    assert -LOG4 + 1e-3 < c_overlap.item() < -1e-3


def test_equal_densities_give_half_and_minus_log4():
    """p_g = p_data: D* = 1/2 everywhere (also where both underflow to 0), C = -log 4, JSD = 0."""
    x = grid(-45, 45, 9001)
    p, _ = theory.grid_densities(
        data.mixture_1d([-1.0, 2.0], [0.5, 1.0]), data.mixture_1d([0.0], [1.0]), x
    )
    assert bool((p == 0).any()), "the grid should reach where the density underflows to 0"
    assert_close(
        theory.optimal_discriminator(p, p.clone()), torch.full_like(x, 0.5), rtol=0, atol=0
    )
    assert_close(theory.optimal_value(p, p.clone(), x), torch.tensor(-LOG4, dtype=F64))
    assert_close(theory.jensen_shannon(p, p.clone(), x), torch.tensor(0.0, dtype=F64))
    assert_close(theory.kl_divergence(p, p.clone(), x), torch.tensor(0.0, dtype=F64))


# ----------------------------------------------------------------------------- V(D, G)


def test_value_function_closed_form():
    """V = int p_data log D + p_g log(1 - D) dx, with plain logs for D strictly inside (0, 1)."""
    x = random_grid(200, 0)
    p_data, p_g = random_density(x, 1), random_density(x, 2)
    d = torch.sigmoid(torch.randn(200, generator=torch.Generator().manual_seed(3), dtype=F64))
    expected = torch.sum(trapezoid_weights(x) * (p_data * torch.log(d) + p_g * torch.log(1 - d)))
    assert_close(theory.value_function(d, p_data, p_g, x), expected)


def test_value_function_of_the_undecided_discriminator_is_minus_log4():
    """D = 1/2: V = (log 1/2) (int p_data + int p_g) = -log 4."""
    x = grid(-12, 12, 4801)
    p_data, p_g = theory.grid_densities(*MIXTURE_PAIRS["dropped_mode"], x)
    half = torch.full_like(x, 0.5)
    assert_close(theory.value_function(half, p_data, p_g, x), torch.tensor(-LOG4, dtype=F64))


def test_value_function_is_below_optimal_value_for_other_discriminators():
    """V(D, G) < C(G) = V(D*, G) for random D and for D* nudged either way."""
    x = grid(-12, 12, 4801)
    p_data, p_g = theory.grid_densities(*MIXTURE_PAIRS["bimodal_vs_broad"], x)
    c = theory.optimal_value(p_data, p_g, x)
    d_star = theory.optimal_discriminator(p_data, p_g)
    for seed in range(5):
        scores = 3 * torch.randn(
            x.shape[0], generator=torch.Generator().manual_seed(seed), dtype=F64
        )
        assert theory.value_function(torch.sigmoid(scores), p_data, p_g, x) < c
    for nudge in (-0.05, 0.05):
        d = (d_star + nudge).clamp(0.01, 0.99)
        assert theory.value_function(d, p_data, p_g, x) < c
    assert theory.value_function(torch.full_like(x, 0.5), p_data, p_g, x) < c


def test_value_function_at_optimal_discriminator_is_finite_where_p_g_vanishes():
    """p_g = 0 off [-1, 1], so D* = 1 there: p_g log(1 - D*) is 0 log 0 = 0, not NaN."""
    x = grid(-5, 5, 2001)
    p_data = normal_pdf(x, 0.0, 1.0)
    p_g = (1 - x.abs()).clamp(min=0)  # triangle density on [-1, 1]
    d_star = theory.optimal_discriminator(p_data, p_g)
    assert bool((d_star[x.abs() > 1] == 1).all())
    value = theory.value_function(d_star, p_data, p_g, x)
    assert bool(torch.isfinite(value))
    inside = x.abs() < 1
    expected_integrand = p_data * torch.log(p_data / (p_data + p_g))
    expected_integrand[inside] += (p_g * torch.log(p_g / (p_data + p_g)))[inside]
    assert_close(value, torch.trapezoid(expected_integrand, x))
    assert_close(value, theory.optimal_value(p_data, p_g, x))


def test_value_function_at_optimal_discriminator_is_finite_for_barely_overlapping_float32():
    """N(0, 1) vs N(4, 1) in float32: p_g / p_data < 6e-8 from x ~ -2 on, yet V(D*) = C(G)."""
    x32 = grid(-8, 12, 2001, torch.float32)
    dists = data.mixture_1d([0.0], [1.0]), data.mixture_1d([4.0], [1.0])
    p_data, p_g = theory.grid_densities(*dists, x32)
    value = theory.value_function(theory.optimal_discriminator(p_data, p_g), p_data, p_g, x32)
    x64 = x32.to(F64)
    expected = theory.optimal_value(*theory.grid_densities(*dists, x64), x64)
    assert_close(value.to(F64), expected, rtol=0, atol=1e-4)


def test_value_function_is_minus_inf_when_d_is_certain_and_wrong():
    """D = 0 where p_data > 0: log D = -inf, so V = -inf (no NaN)."""
    x = grid(-5, 5, 101)
    p = normal_pdf(x, 0.0, 1.0)
    value = theory.value_function(torch.zeros_like(x), p, p.clone(), x)
    assert value.item() == -math.inf


# ----------------------------------------------------------------------------- JSD and KL


def test_jensen_shannon_and_kl_match_scipy_on_the_trapezoid_weights():
    """On a grid, int f dx = sum_i w_i f_i and p log(p/q) is 1-homogeneous, so JSD and KL
    equal the discrete ones of P_i = w_i p_i, Q_i = w_i q_i, from scipy's rel_entr."""
    for seed in range(4):
        x = random_grid(300, seed)
        w = trapezoid_weights(x)
        p, q = random_density(x, 10 + seed), random_density(x, 20 + seed, sparse=seed % 2 == 1)
        P, Q = (w * p).numpy(), (w * q).numpy()
        M = (P + Q) / 2
        jsd_ref = 0.5 * special.rel_entr(P, M).sum() + 0.5 * special.rel_entr(Q, M).sum()
        assert_close(theory.jensen_shannon(p, q, x), torch.tensor(jsd_ref, dtype=F64))
        q_pos = random_density(x, 30 + seed)
        kl_ref = special.rel_entr(P, (w * q_pos).numpy()).sum()
        assert_close(theory.kl_divergence(p, q_pos, x), torch.tensor(kl_ref, dtype=F64))


def test_jensen_shannon_is_symmetric_and_within_0_log2():
    for seed in range(10):
        x = random_grid(100, seed)
        p = random_density(x, 100 + seed, sparse=seed % 2 == 0)
        q = random_density(x, 200 + seed, sparse=seed % 3 == 0)
        jsd = theory.jensen_shannon(p, q, x)
        assert_close(jsd, theory.jensen_shannon(q, p, x), rtol=0, atol=1e-15)
        assert 0.0 < jsd.item() <= LOG2


def test_jensen_shannon_of_nearly_equal_densities_is_tiny_and_not_negative():
    """q = p (1 + 1e-13 noise): without care, rounding makes the integral about -1e-17."""
    x = grid(-3, 3, 101)
    generator = torch.Generator().manual_seed(0)
    p = torch.nn.functional.softplus(torch.randn(101, generator=generator, dtype=F64))
    q = p * (1 + 1e-13 * torch.randn(101, generator=generator, dtype=F64))
    jsd = theory.jensen_shannon(p, q, x)
    assert jsd.item() >= 0
    assert_close(jsd, torch.tensor(0.0, dtype=F64), rtol=0, atol=1e-20)


def test_jensen_shannon_is_log2_for_disjoint_supports():
    """Two narrow Gaussians 10 apart: JSD = log 2 to 1e-4."""
    x = grid(-8, 8, 16001)
    p, q = normal_pdf(x, -5.0, 0.1), normal_pdf(x, 5.0, 0.1)
    assert_close(theory.jensen_shannon(p, q, x), torch.tensor(LOG2, dtype=F64), rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    ("mu1", "sigma1", "mu2", "sigma2"),
    [(0.0, 1.0, 1.0, 1.5), (0.5, 0.5, -1.0, 1.0), (0.0, 2.0, 0.0, 1.0), (1.0, 1.0, 1.0, 1.0)],
)
def test_kl_divergence_of_two_gaussians_closed_form(mu1, sigma1, mu2, sigma2):
    """KL(N(mu1, s1^2) || N(mu2, s2^2)) = log(s2/s1) + (s1^2 + (mu1 - mu2)^2) / (2 s2^2) - 1/2."""
    x = grid(-20, 20, 8001)
    p, q = theory.grid_densities(
        data.mixture_1d([mu1], [sigma1]), data.mixture_1d([mu2], [sigma2]), x
    )
    expected = math.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2) ** 2) / (2 * sigma2**2) - 0.5
    assert_close(
        theory.kl_divergence(p, q, x), torch.tensor(expected, dtype=F64), rtol=1e-6, atol=1e-8
    )


def test_kl_divergence_is_non_negative_and_asymmetric():
    x = random_grid(100, 7)
    for seed in range(10):
        p, q = random_density(x, 300 + seed), random_density(x, 400 + seed)
        assert theory.kl_divergence(p, q, x).item() > 0
    p, q = normal_pdf(x, 0.0, 0.5), normal_pdf(x, 1.0, 1.0)
    assert abs(theory.kl_divergence(p, q, x).item() - theory.kl_divergence(q, p, x).item()) > 0.1


def test_kl_divergence_is_inf_where_q_vanishes_under_p_and_finite_the_other_way():
    x = grid(-2, 2, 401)
    p = normal_pdf(x, 0.0, 1.0)
    q = (1 - x.abs()).clamp(min=0)  # 0 outside [-1, 1], where p > 0
    assert theory.kl_divergence(p, q, x).item() == math.inf
    assert bool(torch.isfinite(theory.kl_divergence(q, p, x)))


# ----------------------------------------------------------------------------- KDE


def test_gaussian_kde_integrates_to_one_in_1d():
    samples = data.mixture_1d([-1.0, 2.0], [0.5, 0.8]).sample(2000, seed=0).double()
    x = grid(-8, 10, 1801)
    density = theory.gaussian_kde(samples, x[:, None])
    assert density.shape == (1801,)
    assert_close(torch.trapezoid(density, x), torch.tensor(1.0, dtype=F64), rtol=0, atol=1e-4)


def test_gaussian_kde_approximates_a_standard_normal():
    """20k samples of N(0, 1): max |p_hat - p| < 0.02 on [-3, 3]."""
    samples = torch.randn(20_000, 1, generator=torch.Generator().manual_seed(0), dtype=F64)
    x = grid(-3, 3, 121)
    assert_close(
        theory.gaussian_kde(samples, x[:, None]), normal_pdf(x, 0.0, 1.0), rtol=0, atol=0.02
    )


def test_gaussian_kde_matches_scipy_in_1d():
    """scipy.stats.gaussian_kde with Scott's rule is the same estimator in 1-D."""
    samples = data.mixture_1d([-1.0, 2.0], [0.5, 0.8]).sample(500, seed=1).double()
    points = grid(-4, 5, 91)[:, None]
    expected = stats.gaussian_kde(samples[:, 0].numpy())(points[:, 0].numpy())
    assert_close(theory.gaussian_kde(samples, points), torch.from_numpy(expected))


def kde_reference(samples: torch.Tensor, points: torch.Tensor, h: float) -> torch.Tensor:
    """1/n sum_i (2 pi h^2)^(-d/2) exp(-||y - x_i||^2 / (2 h^2)), written out in float64."""
    samples, points = samples.double(), points.double()
    d = samples.shape[1]
    sq = ((points[:, None, :] - samples[None, :, :]) ** 2).sum(-1)
    return (torch.exp(-sq / (2 * h**2)) / (2 * math.pi * h**2) ** (d / 2)).mean(dim=1)


def test_gaussian_kde_in_2d_has_shape_m_and_uses_scotts_rule():
    """Anisotropic 2-D samples: h = n^(-1/6) * (std_x + std_y) / 2; output (m,), mass 1."""
    generator = torch.Generator().manual_seed(0)
    scale = torch.tensor([1.0, 2.0], dtype=F64)
    samples = torch.randn(500, 2, generator=generator, dtype=F64) * scale
    axis = grid(-9, 9, 61)
    points = torch.cartesian_prod(axis, axis)  # (3721, 2), first coordinate major
    density = theory.gaussian_kde(samples, points)
    assert density.shape == (61 * 61,)
    h = 500 ** (-1 / 6) * samples.std(dim=0).mean().item()
    assert_close(density, kde_reference(samples, points, h))
    mass = torch.trapezoid(torch.trapezoid(density.reshape(61, 61), axis, dim=1), axis)
    assert_close(mass, torch.tensor(1.0, dtype=F64), rtol=0, atol=1e-4)


def test_gaussian_kde_is_deterministic_and_chunk_independent(monkeypatch):
    samples = data.ring(std=0.1).sample(300, seed=0)
    points = data.ring(std=0.3).sample(200, seed=1)
    first = theory.gaussian_kde(samples, points, bandwidth=0.2)
    assert torch.equal(first, theory.gaussian_kde(samples, points, bandwidth=0.2))
    monkeypatch.setattr(theory, "_KDE_CHUNK_ELEMENTS", 1000)  # 1 point per chunk
    assert_close(theory.gaussian_kde(samples, points, bandwidth=0.2), first)
    assert_close(first, kde_reference(samples, points, 0.2).float())


def test_gaussian_kde_is_exact_near_zero_distance_far_from_the_origin():
    """Points 0.005 from 40 samples near (1000, 1000), h = 0.01: exp(-d^2 / 2h^2) ~ 0.88.

    cdist's matmul route computes ||a||^2 + ||b||^2 - 2 a.b ~ 2e6 - 2e6 in float32 and gets
    an error of ~0.1 in the squared distance, i.e. exp(-0.1 / 2e-4) = 0 instead of 0.88.
    """
    k = torch.arange(40, dtype=torch.float32)
    samples = torch.stack([1000 + k, 1000 - k], dim=1)  # 40 points, 1.4 apart
    points = samples + torch.tensor([0.003, 0.004])
    density = theory.gaussian_kde(samples, points, bandwidth=0.01)
    sq_dist = (points - samples).double().pow(2).sum(1)  # exact: nearby floats subtract exactly
    expected = torch.exp(-sq_dist / (2 * 0.01**2)) / (40 * 2 * math.pi * 0.01**2)
    assert_close(density, expected.float())


# ----------------------------------------------------------------------------- grid densities


def test_grid_densities_are_the_exact_mixture_densities():
    x = grid(-6, 6, 241)
    dist_data = data.mixture_1d([-2.0, 1.0], [0.5, 1.0], [0.25, 0.75])
    dist_g = data.mixture_1d([0.5], [2.0])
    p_data, p_g = theory.grid_densities(dist_data, dist_g, x)
    assert p_data.shape == p_g.shape == (241,)
    assert p_data.dtype == p_g.dtype == F64
    assert_close(p_data, 0.25 * normal_pdf(x, -2.0, 0.5) + 0.75 * normal_pdf(x, 1.0, 1.0))
    assert_close(p_g, normal_pdf(x, 0.5, 2.0))


# ----------------------------------------------------------------------------- errors


X = grid(0, 1, 5)
P = torch.full((5,), 1.0, dtype=F64)
NEGATIVE = torch.tensor([1.0, 1.0, -0.1, 1.0, 1.0], dtype=F64)
HALF = torch.full((5,), 0.5, dtype=F64)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: theory.optimal_discriminator(P, P[:4]), r"p_g must have shape \(5,\), got \(4,\)"),
        (
            lambda: theory.optimal_discriminator(P, NEGATIVE),
            r"p_g must be a non-negative density, got -0\.1 at index 2",
        ),
        (
            lambda: theory.optimal_discriminator(NEGATIVE, P),
            r"p_data must be a non-negative density",
        ),
        (lambda: theory.optimal_value(P[:4], P, X), r"p_data must have shape \(5,\), got \(4,\)"),
        (lambda: theory.optimal_value(P, NEGATIVE, X), r"p_g must be a non-negative density"),
        (lambda: theory.kl_divergence(P, P * math.nan, X), r"q must be finite"),
        (lambda: theory.jensen_shannon(NEGATIVE, P, X), r"p must be a non-negative density"),
        (lambda: theory.jensen_shannon(P, P, X[:, None]), r"x must be a 1-D grid .* got \(5, 1\)"),
        (
            lambda: theory.kl_divergence(P, P, X.flip(0)),
            r"x must be strictly increasing, got x\[0\] = 1 >= x\[1\] = 0\.75",
        ),
        (
            lambda: theory.optimal_value(P, P, X.index_fill(0, torch.tensor([2]), 0.25)),
            r"x must be strictly increasing, got x\[1\] = 0\.25 >= x\[2\] = 0\.25",
        ),
        (
            lambda: theory.value_function(HALF[:4], P, P, X),
            r"d must have shape \(5,\) like x, got \(4,\)",
        ),
        (
            lambda: theory.value_function(HALF + 0.6, P, P, X),
            r"d must hold probabilities in \[0, 1\], got 1\.1",
        ),
        (
            lambda: theory.value_function(HALF - 0.6, P, P, X),
            r"d must hold probabilities in \[0, 1\], got -0\.1",
        ),
        (
            lambda: theory.value_function(HALF * math.nan, P, P, X),
            r"d must hold probabilities in \[0, 1\], got nan",
        ),
        (
            lambda: theory.value_function(HALF, P, NEGATIVE, X),
            r"p_g must be a non-negative density",
        ),
    ],
)
def test_grid_functions_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_grid_functions_reject_non_tensors_and_integer_tensors():
    with pytest.raises(TypeError, match="p_data must be a torch.Tensor, got list"):
        theory.optimal_discriminator([0.5, 0.5], P[:2])
    with pytest.raises(TypeError, match="x must be a floating-point tensor, got dtype torch.int64"):
        theory.kl_divergence(P, P, torch.arange(5))


SAMPLES_2D = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: theory.gaussian_kde(SAMPLES_2D, torch.zeros(3, 1)),
            r"points must have shape \(B, 2\), got \(3, 1\)",
        ),
        (
            lambda: theory.gaussian_kde(SAMPLES_2D[:, 0], torch.zeros(3, 1)),
            r"samples must have shape \(n, d\) with n >= 1, got \(50,\)",
        ),
        (
            lambda: theory.gaussian_kde(SAMPLES_2D, SAMPLES_2D, bandwidth=0.0),
            r"bandwidth must be a positive",
        ),
        (
            lambda: theory.gaussian_kde(SAMPLES_2D, SAMPLES_2D, bandwidth=-1.0),
            r"bandwidth must be a positive",
        ),
        (lambda: theory.gaussian_kde(SAMPLES_2D[:1], SAMPLES_2D), r"Scott's rule needs .* n = 1"),
        (
            lambda: theory.gaussian_kde(torch.ones(5, 2), SAMPLES_2D),
            r"Scott's rule needs .* mean std 0",
        ),
        (lambda: theory.gaussian_kde(SAMPLES_2D * math.nan, SAMPLES_2D), r"samples must be finite"),
        (
            lambda: theory.grid_densities(data.mixture_1d([0.0], [1.0]), data.ring(), X),
            r"dist_g must be 1-D .* got dim 2",
        ),
        (
            lambda: theory.grid_densities(
                data.mixture_1d([0.0], [1.0]), data.mixture_1d([0.0], [1.0]), X[:, None]
            ),
            r"x must be a 1-D grid",
        ),
    ],
)
def test_kde_and_grid_densities_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_grid_densities_rejects_non_mixtures():
    with pytest.raises(TypeError, match="dist_data must be a ganlab.data.GaussianMixture"):
        theory.grid_densities(stats.norm(), data.mixture_1d([0.0], [1.0]), X)


# ----------------------------------------------------------------------------- Wasserstein-1

DX = 2.0**-10  # a dyadic grid: 0, 1, 2, ... are grid points exactly
W1_X = torch.arange(-4 * 1024, 10 * 1024 + 1, dtype=F64) * DX


def uniform(lo: float, hi: float) -> torch.Tensor:
    """The density of U(lo, hi) on W1_X, normalised to trapezoid integral 1."""
    p = ((W1_X >= lo) & (W1_X <= hi)).to(F64)
    return p / torch.trapezoid(p, W1_X)


@pytest.mark.parametrize("t", [0.25, 2.0, -3.0])
def test_wasserstein_1_of_a_shift_is_its_size(t):
    for p, q in (
        (normal_pdf(W1_X, 0.0, 0.1), normal_pdf(W1_X, t, 0.1)),
        (uniform(1.0, 2.0), uniform(1.0 + t, 2.0 + t)),
    ):
        w = theory.wasserstein_1(p, q, W1_X)
        assert w.shape == ()
        assert abs(w.item() - abs(t)) < 1e-3
        assert theory.wasserstein_1(q, p, W1_X).item() == w.item()  # symmetric
    assert theory.wasserstein_1(p, p, W1_X).item() == 0.0


@pytest.mark.parametrize(("m1", "s1", "m2", "s2"), [(0.5, 1.0, -1.0, 1.0), (1.0, 0.5, 1.0, 1.5)])
def test_wasserstein_1_of_two_gaussians_matches_the_closed_form_and_samples(m1, s1, m2, s2):
    """Equal stds: |m1 - m2|. Equal means: |s1 - s2| E|Z| = |s1 - s2| sqrt(2 / pi) (the quantile
    functions differ by (s2 - s1) Phi^-1(u)). The sample estimate of metrics agrees."""
    closed = abs(m1 - m2) if s1 == s2 else abs(s1 - s2) * math.sqrt(2 / math.pi)
    x = torch.linspace(-15, 15, 30001, dtype=F64)  # 9 std on either side
    w = theory.wasserstein_1(normal_pdf(x, m1, s1), normal_pdf(x, m2, s2), x).item()
    assert w == pytest.approx(closed, abs=1e-4)
    gen = torch.Generator().manual_seed(0)
    a = m1 + s1 * torch.randn(20000, generator=gen, dtype=F64)
    b = m2 + s2 * torch.randn(20000, generator=gen, dtype=F64)
    assert metrics.wasserstein_1d(a, b) == pytest.approx(closed, abs=0.03)


def test_jsd_saturates_at_log_2_while_wasserstein_1_keeps_growing():
    """U(0, 1) against U(t, t + 1), t = 2 and 4: disjoint supports, JSD = log 2 both times,
    W1 = t (Arjovsky et al. 2017, Example 1: only W1 tells G which way to move)."""
    p = uniform(0.0, 1.0)
    for t in (2.0, 4.0):
        q = uniform(t, t + 1)
        assert theory.jensen_shannon(p, q, W1_X).item() == pytest.approx(LOG2, abs=1e-9)
        assert theory.wasserstein_1(p, q, W1_X).item() == pytest.approx(t, abs=1e-3)


def test_wasserstein_1_checks_its_densities():
    with pytest.raises(ValueError, match=r"q must have shape \(5,\), got \(4,\)"):
        theory.wasserstein_1(torch.ones(5, dtype=F64), torch.ones(4, dtype=F64), W1_X[:5])
    with pytest.raises(ValueError, match="p must be a non-negative density"):
        theory.wasserstein_1(-torch.ones(5, dtype=F64), torch.ones(5, dtype=F64), W1_X[:5])


# ----------------------------------------------------------------------------- the Dirac-GAN
# Its vector field against autograd through ganlab.losses, the flow's invariants, the published
# trajectories of Mescheder et al. (2018) and the Jacobian. Conventions: data is a point mass at
# 0, G a point mass at theta, D's logit psi * x; each player descends its own loss. The paper's D
# scores fakes high, so its start (1, 1) is (1, -1) here and its psi is minus ours.

GAN_G_LOSSES = {
    "saturating": losses.g_loss_saturating,
    "nonsaturating": losses.g_loss_nonsaturating,
}


def reference_field(
    theta: float,
    psi: float,
    loss: str,
    *,
    gamma: float = 0.0,
    lam: float = 0.0,
    eps_real: torch.Tensor | None = None,
    eps_fake: torch.Tensor | None = None,
) -> tuple[float, float]:
    """(-dL_G/d theta, -dL_D/d psi) by autograd through ganlab.losses, for reals eps_real
    and fakes theta + eps_fake (both 0 without instance noise); batch means are expectations."""
    zero = torch.zeros(1, dtype=F64)
    eps_real = zero if eps_real is None else eps_real
    eps_fake = zero if eps_fake is None else eps_fake
    th = torch.tensor(theta, dtype=F64, requires_grad=True)
    ps = torch.tensor(psi, dtype=F64, requires_grad=True)
    x_real, x_fake = eps_real, th + eps_fake
    if loss == "wasserstein":
        loss_D = losses.d_loss_wasserstein(ps * x_real, ps * x_fake)
        loss_G = losses.g_loss_wasserstein(ps * x_fake)
    else:
        loss_D = losses.d_loss_minimax(ps * x_real, ps * x_fake)
        loss_G = GAN_G_LOSSES[loss](ps * x_fake)
    loss_D = loss_D + gamma / 2 * ps**2 + lam * (ps.abs() - 1) ** 2
    (g_theta,) = torch.autograd.grad(loss_G, th)
    (g_psi,) = torch.autograd.grad(loss_D, ps)
    return -g_theta.item(), -g_psi.item()


def random_points(n: int, seed: int) -> torch.Tensor:
    """n points (theta, psi) with coordinates of size about 1.5, none near psi = 0."""
    points = 1.5 * torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=F64)
    points[:, 1] += 0.1 * torch.sign(points[:, 1])
    return points


def norms(path: torch.Tensor) -> torch.Tensor:
    return path.norm(dim=1)


# ----------------------------------------------------------------------------- the vector field


@pytest.mark.parametrize("loss", theory.DIRAC_LOSSES)
@pytest.mark.parametrize(("gamma", "lam"), [(0.0, 0.0), (0.5, 0.0), (0.0, 0.35), (0.3, 0.6)])
def test_field_is_minus_each_players_gradient_of_its_own_loss(loss, gamma, lam):
    """At 25 random (theta, psi): the field equals autograd through losses.d_loss_* / g_loss_*."""
    points = random_points(25, seed=1)
    d_theta, d_psi = theory.dirac_vector_field(
        points[:, 0], points[:, 1], loss, gamma=gamma, lam=lam
    )
    expected = torch.tensor(
        [reference_field(t, p, loss, gamma=gamma, lam=lam) for t, p in points.tolist()], dtype=F64
    )
    assert d_theta.dtype == d_psi.dtype == F64
    assert_close(d_theta, expected[:, 0], rtol=1e-12, atol=1e-12)
    assert_close(d_psi, expected[:, 1], rtol=1e-12, atol=1e-12)


def test_field_closed_forms_from_the_docstring():
    """(psi s, -theta s), (psi (1 - s), -theta s), (psi, -theta), s = sigmoid(psi theta)."""
    theta, psi = torch.meshgrid(
        torch.linspace(-2, 2, 9, dtype=F64), torch.linspace(-2, 2, 7, dtype=F64), indexing="ij"
    )
    s = torch.sigmoid(psi * theta)
    expected = {
        "saturating": (psi * s, -theta * s),
        "nonsaturating": (psi * (1 - s), -theta * s),
        "wasserstein": (psi, -theta),
    }
    for loss, (e_theta, e_psi) in expected.items():
        d_theta, d_psi = theory.dirac_vector_field(theta, psi, loss)
        assert d_theta.shape == d_psi.shape == (9, 7)
        assert_close(d_theta, e_theta, rtol=1e-14, atol=1e-14)
        assert_close(d_psi, e_psi, rtol=1e-14, atol=1e-14)


def test_field_takes_plain_floats_and_broadcasts():
    d_theta, d_psi = theory.dirac_vector_field(1.0, -1.0)
    assert d_theta.shape == () and d_theta.dtype == F64
    assert_close(d_theta.item(), -1 / (1 + math.e))  # psi sigmoid(psi theta) = -sigmoid(-1)
    d_theta, d_psi = theory.dirac_vector_field(torch.zeros(3, 1), torch.ones(4))
    assert d_theta.shape == d_psi.shape == (3, 4)


NOISE_POINTS = [(1.0, -1.0), (0.5, 2.0), (-1.5, 0.7), (0.3, -2.5)]


@pytest.mark.parametrize("loss", theory.DIRAC_LOSSES)
def test_instance_noise_field_is_the_expected_gradient_monte_carlo(loss):
    """With noise_std = s: reals eps1, fakes theta + eps2 (eps ~ N(0, s^2)). The field agrees
    with the mean of autograd gradients over 200k draws (20 batches of 10k, fixed seed) to
    5 standard errors of that mean, estimated from the spread of the batch means."""
    s, batches, size = 0.7, 20, 10_000
    generator = torch.Generator().manual_seed(0)
    for theta, psi in NOISE_POINTS:
        estimates = torch.tensor(
            [
                reference_field(
                    theta,
                    psi,
                    loss,
                    gamma=0.2,
                    eps_real=s * torch.randn(size, generator=generator, dtype=F64),
                    eps_fake=s * torch.randn(size, generator=generator, dtype=F64),
                )
                for _ in range(batches)
            ],
            dtype=F64,
        )
        mean, stderr = estimates.mean(0), estimates.std(0) / math.sqrt(batches)
        field = torch.stack(theory.dirac_vector_field(theta, psi, loss, gamma=0.2, noise_std=s))
        assert bool(((field - mean).abs() <= 5 * stderr + 1e-9).all()), (theta, psi, field, mean)
        if loss != "wasserstein":  # the noise matters: the noiseless field is far off
            noiseless = torch.stack(theory.dirac_vector_field(theta, psi, loss, gamma=0.2))
            assert float((noiseless - mean).abs().max()) > 20 * float(stderr.max())


def test_field_rejects_unknown_loss_and_bad_strengths_naming_them():
    with pytest.raises(ValueError, match="unknown Dirac-GAN loss 'hinge'"):
        theory.dirac_vector_field(1.0, 1.0, "hinge")
    for name in ("gamma", "lam", "noise_std"):
        for value in (-0.5, float("nan"), float("inf")):
            with pytest.raises(
                ValueError, match=f"{name} must be a finite number >= 0, got {value}"
            ):
                theory.dirac_vector_field(1.0, 1.0, **{name: value})


# ----------------------------------------------------------------------------- invariants


GRID_THETA, GRID_PSI = torch.meshgrid(
    torch.linspace(-3, 3, 25, dtype=F64), torch.linspace(-3, 3, 25, dtype=F64), indexing="ij"
)


@pytest.mark.parametrize("loss", ["saturating", "wasserstein"])
def test_unregularised_flow_conserves_the_squared_distance(loss):
    """d/dt (theta^2 + psi^2) = 2 (theta dtheta + psi dpsi) = 0: the flow circles (0, 0)."""
    d_theta, d_psi = theory.dirac_vector_field(GRID_THETA, GRID_PSI, loss)
    rate = 2 * (GRID_THETA * d_theta + GRID_PSI * d_psi)
    assert_close(rate, torch.zeros_like(rate), rtol=0, atol=1e-13)


def test_nonsaturating_flow_does_not_conserve_the_squared_distance():
    """Its rate is 2 theta psi (1 - 2 sigmoid(theta psi)) <= 0, < 0 off the axes."""
    d_theta, d_psi = theory.dirac_vector_field(GRID_THETA, GRID_PSI, "nonsaturating")
    rate = 2 * (GRID_THETA * d_theta + GRID_PSI * d_psi)
    product = GRID_THETA * GRID_PSI
    assert_close(rate, 2 * product * (1 - 2 * torch.sigmoid(product)), rtol=1e-12, atol=1e-14)
    assert bool((rate[product != 0] < 0).all())


@pytest.mark.parametrize("loss", ["saturating", "wasserstein"])
@pytest.mark.parametrize("gamma", [0.1, 1.0])
def test_r1_makes_the_squared_distance_decrease_where_psi_is_not_zero(loss, gamma):
    """With the penalty the rate is -2 gamma psi^2: <= 0 everywhere, < 0 where psi != 0."""
    d_theta, d_psi = theory.dirac_vector_field(GRID_THETA, GRID_PSI, loss, gamma=gamma)
    rate = 2 * (GRID_THETA * d_theta + GRID_PSI * d_psi)
    assert_close(rate, -2 * gamma * GRID_PSI**2, rtol=1e-12, atol=1e-13)
    assert bool((rate[GRID_PSI != 0] < 0).all())
    assert bool((rate <= 1e-13).all())


def test_one_simultaneous_step_multiplies_the_squared_norm_by_1_plus_h2_sigmoid2():
    """||.||^2 <- (1 + h^2 sigmoid(psi theta)^2) ||.||^2 for the saturating loss; 1 + h^2 for
    WGAN. From (1, -1), h = 0.2: 1.0028932, the paper's ratio at its (1, 1)."""
    h = 0.2
    for theta, psi in [(1.0, -1.0), *random_points(10, seed=3).tolist()]:
        start = theta**2 + psi**2
        for loss, factor in [
            ("saturating", 1 + h**2 / (1 + math.exp(-psi * theta)) ** 2),
            ("wasserstein", 1 + h**2),
        ]:
            path = theory.dirac_trajectory((theta, psi), loss, step_size=h, steps=1)
            assert_close(float(path[1].pow(2).sum()) / start, factor, rtol=1e-13, atol=0)
    path = theory.dirac_trajectory((1.0, -1.0), step_size=h, steps=1)
    assert round(float(path[1].pow(2).sum()) / 2, 7) == 1.0028932


# ----------------------------------------------------------------------------- trajectories


def paper_trajectory(
    loss: str, scheme: str, d_steps: int = 1, h: float = 0.2, steps: int = 500
) -> torch.Tensor:
    """The official demo's updates in plain floats, in the paper's convention (D scores fakes
    high, start (1, 1)): v = (-psi f'(psi theta), theta f'(psi theta)) with f'(t) = sigmoid(-t)
    (NSGAN: -psi f'(-psi theta) for theta). Returned with psi's sign flipped to ours."""

    def sig(t: float) -> float:
        return 1 / (1 + math.exp(-t))

    def v_theta(theta: float, psi: float) -> float:
        return -psi * (sig(-psi * theta) if loss == "saturating" else sig(psi * theta))

    def v_psi(theta: float, psi: float) -> float:
        return theta * sig(-psi * theta)

    theta, psi = 1.0, 1.0
    rows = [(theta, -psi)]
    for _ in range(steps):
        if scheme == "simultaneous":
            theta, psi = theta + h * v_theta(theta, psi), psi + h * v_psi(theta, psi)
        else:
            theta = theta + h * v_theta(theta, psi)
            for _ in range(d_steps):
                psi = psi + h * v_psi(theta, psi)
        rows.append((theta, -psi))
    return torch.tensor(rows, dtype=F64)


@pytest.mark.parametrize(
    ("loss", "scheme", "d_steps"),
    [
        ("saturating", "simultaneous", 1),
        ("saturating", "alternating", 1),
        ("saturating", "alternating", 5),
        ("nonsaturating", "simultaneous", 1),
        ("nonsaturating", "alternating", 1),
    ],
)
def test_trajectory_matches_the_official_demo_updates(loss, scheme, d_steps):
    """Whole 150-step paths, including the order of alternating updates (G first, then D)."""
    path = theory.dirac_trajectory(loss=loss, scheme=scheme, d_steps=d_steps, steps=150)
    expected = paper_trajectory(loss, scheme, d_steps, steps=150)
    assert_close(path, expected, rtol=1e-10, atol=1e-10)


# ||(theta, psi)|| at steps 250 and 500 (paper_numbers.md, section 3.4), h = 0.2, start (1, -1).
PUBLISHED = [
    ("saturating", "simultaneous", {}, (2.65, 3.10)),
    ("nonsaturating", "simultaneous", {}, (0.66, 0.64)),
    ("nonsaturating", "alternating", {}, (0.39, 0.28)),
    ("wasserstein", "simultaneous", {"clip": 1.0}, (1.10, 1.00)),
    ("wasserstein", "alternating", {"clip": 1.0}, (1.04, 1.02)),
    ("wasserstein", "simultaneous", {"lam": 0.35}, (1.68, 1.80)),
    ("wasserstein", "alternating", {"lam": 0.35}, (1.39, 1.22)),
]


@pytest.mark.parametrize(("loss", "scheme", "kwargs", "expected"), PUBLISHED)
def test_published_distances_at_steps_250_and_500(loss, scheme, kwargs, expected):
    path = theory.dirac_trajectory((1.0, -1.0), loss, scheme=scheme, step_size=0.2, steps=500,
                                   **kwargs)  # fmt: skip
    assert path.shape == (501, 2)
    r = norms(path)
    assert_close(r[250].item(), expected[0], rtol=0, atol=0.01)
    assert_close(r[500].item(), expected[1], rtol=0, atol=0.01)


def test_saturating_alternating_neither_diverges_nor_converges():
    """1.414 -> 1.418 -> 1.421 (steps 0, 250, 500), and in between ||.|| only oscillates
    (between about 1.34 and 1.42: alternating GD keeps a modified quadratic, not the norm)."""
    r = norms(theory.dirac_trajectory(scheme="alternating"))
    assert_close(r[250].item(), 1.418, rtol=0, atol=0.001)
    assert_close(r[500].item(), 1.421, rtol=0, atol=0.001)
    assert 1.33 < float(r.min()) and float(r.max()) < 1.43


@pytest.mark.parametrize("scheme", theory.DIRAC_SCHEMES)
@pytest.mark.parametrize(
    ("kwargs", "tol"), [({"gamma": 0.3}, 1e-4), ({"gamma": 1.0}, 1e-4), ({"noise_std": 0.7}, 1e-3)]
)
def test_zero_centred_penalties_and_instance_noise_converge(scheme, kwargs, tol):
    r = norms(theory.dirac_trajectory(scheme=scheme, **kwargs))
    assert float(r[500]) < tol
    assert float(r[500]) < float(r[250]) < float(r[0])


def test_trajectory_shape_dtype_and_start():
    path = theory.dirac_trajectory((0.5, 2.0), "nonsaturating", steps=7)
    assert path.shape == (8, 2) and path.dtype == F64
    assert path[0].tolist() == [0.5, 2.0]
    # one simultaneous step is start + h * field(start)
    d_theta, d_psi = theory.dirac_vector_field(0.5, 2.0, "nonsaturating")
    assert_close(
        path[1], torch.tensor([0.5 + 0.2 * d_theta.item(), 2.0 + 0.2 * d_psi.item()]).double()
    )


def test_alternating_d_steps_change_the_path():
    one = theory.dirac_trajectory(scheme="alternating", steps=20, d_steps=1)
    five = theory.dirac_trajectory(scheme="alternating", steps=20, d_steps=5)
    assert torch.equal(one[0], five[0])
    assert float((one[1:] - five[1:]).abs().max()) > 1e-2
    # d_steps only matters for alternating updates
    sim = theory.dirac_trajectory(steps=20)
    assert torch.equal(sim, theory.dirac_trajectory(steps=20, d_steps=5))


@pytest.mark.parametrize("scheme", theory.DIRAC_SCHEMES)
@pytest.mark.parametrize("loss", ["wasserstein", "saturating"])
def test_clip_keeps_psi_within_the_clip_at_every_row(scheme, loss):
    path = theory.dirac_trajectory((1.5, -0.2), loss, scheme=scheme, steps=200, clip=0.5)
    assert float(path[:, 1].abs().max()) <= 0.5
    assert float(path[:, 1].abs().max()) == 0.5  # it binds: without it |psi| goes higher
    free = theory.dirac_trajectory((1.5, -0.2), loss, scheme=scheme, steps=200)
    assert float(free[:, 1].abs().max()) > 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": "hinge"}, "unknown Dirac-GAN loss 'hinge'"),
        ({"scheme": "sequential"}, "unknown update scheme 'sequential'"),
        ({"gamma": -0.1}, "gamma must be a finite number >= 0, got -0.1"),
        ({"lam": -1.0}, "lam must be a finite number >= 0, got -1.0"),
        ({"noise_std": -0.7}, "noise_std must be a finite number >= 0, got -0.7"),
        ({"step_size": 0.0}, "step_size must be a positive finite number, got 0.0"),
        ({"step_size": -0.2}, "step_size must be a positive finite number, got -0.2"),
        ({"steps": 0}, "steps must be a positive integer, got 0"),
        ({"steps": 2.5}, "steps must be a positive integer, got 2.5"),
        ({"d_steps": 0}, "d_steps must be a positive integer, got 0"),
        ({"clip": 0.0}, "clip must be a positive finite number, got 0.0"),
        ({"start": (1.0,)}, r"start must be a finite pair \(theta, psi\), got \(1.0,\)"),
        ({"start": (1.0, 2.0, 3.0)}, r"got \(1.0, 2.0, 3.0\)"),
        ({"start": (1.0, float("nan"))}, r"got \(1.0, nan\)"),
    ],
)
def test_trajectory_errors_name_the_bad_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        theory.dirac_trajectory(**{"steps": 5, **kwargs})


# ----------------------------------------------------------------------------- the Jacobian


def by_real_then_imag(values) -> list[complex]:
    return sorted((complex(v) for v in values), key=lambda z: (round(z.real, 9), z.imag))


def assert_same_complex(a, b, tol: float) -> None:
    a, b = by_real_then_imag(a), by_real_then_imag(b)
    assert len(a) == len(b) == 2
    assert all(abs(x - y) <= tol for x, y in zip(a, b, strict=True)), (a, b)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 2.0])
def test_jacobian_eigenvalues_with_r1_follow_the_closed_form(gamma):
    """J = [[0, 1/2], [-1/2, -gamma]]; eigenvalues -gamma/2 +- sqrt(gamma^2/4 - 1/4)."""
    jac = theory.dirac_jacobian(gamma=gamma)
    assert jac.shape == (2, 2) and jac.dtype == F64
    assert_close(jac, torch.tensor([[0.0, 0.5], [-0.5, -gamma]], dtype=F64), rtol=0, atol=1e-14)
    root = cmath.sqrt(gamma**2 / 4 - 1 / 4)
    formula = [-gamma / 2 + root, -gamma / 2 - root]
    # gamma = 1 is a double eigenvalue of a defective J: eigvals is accurate to sqrt(eps) there
    tol = 1e-6 if gamma == 1.0 else 1e-12
    assert_same_complex(torch.linalg.eigvals(jac).tolist(), formula, tol)
    assert_same_complex(theory.dirac_eigenvalues(gamma), formula, 1e-15)


def test_jacobian_eigenvalues_published_values():
    """gamma = 0: +-0.5i (a pure rotation); 0.3: -0.15 +- 0.477i; 2: -0.134 and -1.866."""
    zero = torch.linalg.eigvals(theory.dirac_jacobian()).tolist()
    assert all(abs(z.real) < 1e-15 for z in zero)
    assert_same_complex(zero, [0.5j, -0.5j], 1e-15)
    assert_same_complex(theory.dirac_eigenvalues(0.3), [-0.15 + 0.477j, -0.15 - 0.477j], 1e-3)
    assert_same_complex(theory.dirac_eigenvalues(2.0), [-0.134, -1.866], 1e-3)


def test_jacobian_eigenvalues_with_instance_noise():
    """f''(0) s^2 +- sqrt(f''(0)^2 s^4 - f'(0)^2) = -0.1225 +- 0.485i for s = 0.7."""
    eig = torch.linalg.eigvals(theory.dirac_jacobian(noise_std=0.7)).tolist()
    assert_same_complex(eig, [-0.1225 + 0.485j, -0.1225 - 0.485j], 1e-3)
    exact = -0.25 * 0.49 + cmath.sqrt(0.25**2 * 0.7**4 - 0.25)
    assert_same_complex(eig, [exact, exact.conjugate()], 1e-9)


def test_jacobian_of_the_other_losses():
    """Non-saturating: the same J as saturating at (0, 0); WGAN: [[0, 1], [-1, 0]]."""
    assert_close(theory.dirac_jacobian("nonsaturating"), theory.dirac_jacobian("saturating"))
    assert_close(
        theory.dirac_jacobian("wasserstein"), torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=F64)
    )


def test_dirac_eigenvalues_rejects_negative_r1():
    with pytest.raises(ValueError, match="gamma must be >= 0, got -1"):
        theory.dirac_eigenvalues(-1)


def test_dirac_registries():
    assert theory.DIRAC_LOSSES == ("saturating", "nonsaturating", "wasserstein")
    assert theory.DIRAC_SCHEMES == ("simultaneous", "alternating")
