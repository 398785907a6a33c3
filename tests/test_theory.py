"""ganlab.theory: D*, V, C(G) = -log 4 + 2 JSD, KL and JSD on a grid, the KDE of p_g."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import special, stats
from torch.testing import assert_close

from ganlab import data, theory

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
