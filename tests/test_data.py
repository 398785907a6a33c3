"""ganlab.data's toys: the mixtures' centres, samplers and exact densities, and the chapters'
other toy data sets (the image loaders are tested in test_data_images.py and test_download.py)."""

from __future__ import annotations

import itertools
import math
import re
import types

import pytest
import torch
from conftest import INF, NAN, min_pairwise_distance, mixture_log_density
from scipy import stats
from torch.testing import assert_close

from ganlab import data, experiments

TOY_NAMES = ["ring", "grid", "two_gaussians", "spiral"]


def all_toys() -> list[data.GaussianMixture]:
    return [data.toy(name) for name in TOY_NAMES] + [
        data.mixture_1d([-2.0, 1.0, 3.0], [0.5, 1.0, 0.3], [0.2, 0.5, 0.3])
    ]


# ----------------------------------------------------------------------------- centres


def test_ring_centres_are_2_cos_sin_of_2pi_k_over_8():
    """mu_k = 2 (cos 2pi k/8, sin 2pi k/8), k = 0..7: 8 distinct modes, not linspace(0, 2pi, 8)."""
    ring = data.ring()
    k = torch.arange(8, dtype=torch.float64)
    angles = 2 * math.pi * k / 8
    expected = 2.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    assert ring.centers.shape == (8, 2)
    assert_close(ring.centers.double(), expected, rtol=0, atol=1e-6)
    assert_close(ring.centers.norm(dim=1), torch.full((8,), 2.0))
    # Neighbours are one chord 2 r sin(pi / 8) apart; the linspace bug repeats mode 0 (distance 0).
    assert_close(min_pairwise_distance(ring.centers), 4 * math.sin(math.pi / 8), rtol=1e-6, atol=0)
    assert_close(ring.stds, torch.full((8,), 0.02))
    assert_close(ring.weights, torch.full((8,), 1 / 8))


def test_ring_other_sizes_keep_angles_2pi_k_over_K():
    ring = data.ring(modes=5, radius=3.0, std=0.1)
    angles = torch.atan2(ring.centers[:, 1], ring.centers[:, 0]).double() % (2 * math.pi)
    assert_close(angles, 2 * math.pi * torch.arange(5, dtype=torch.float64) / 5, rtol=0, atol=1e-6)
    assert_close(ring.centers.norm(dim=1), torch.full((5,), 3.0))


def test_grid_default_centres_are_minus4_to_4_step_2_squared():
    """The 25 means are exactly the set {-4, -2, 0, 2, 4}^2."""
    grid = data.grid()
    expected = sorted(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    assert sorted(map(tuple, grid.centers.tolist())) == expected
    assert_close(grid.stds, torch.full((25,), 0.05))
    assert_close(grid.weights, torch.full((25,), 1 / 25))


def test_grid_is_centred_on_zero_for_even_side():
    grid = data.grid(side=4, spacing=1.0)
    axis = [-1.5, -0.5, 0.5, 1.5]
    assert sorted(map(tuple, grid.centers.tolist())) == sorted(itertools.product(axis, repeat=2))


def test_two_gaussians_centres_at_minus_and_plus_half_distance():
    two = data.two_gaussians(distance=6.0, std=0.25)
    assert_close(two.centers, torch.tensor([[-3.0, 0.0], [3.0, 0.0]]))
    assert_close(two.stds, torch.tensor([0.25, 0.25]))
    assert_close(two.weights, torch.tensor([0.5, 0.5]))


def test_spiral_centres_lie_on_the_archimedean_spiral_r_2t_angle_3pi_t():
    """Each mu_k = 2 t (cos 3 pi t, sin 3 pi t) for its own t = ||mu_k|| / 2 in (0, 1], t_K = 1."""
    spiral = data.spiral()
    centres = spiral.centers.double()
    t = centres.norm(dim=1) / 2.0
    angle = 2 * math.pi * 1.5 * t
    on_curve = 2.0 * t[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    assert spiral.n_modes == 20
    assert_close(centres, on_curve, rtol=0, atol=1e-5)
    assert bool((t[1:] > t[:-1]).all()) and bool((t > 0).all())  # outward along the curve
    assert_close(t[-1].item(), 1.0)


def test_mixture_1d_stores_column_means_and_normalised_weights():
    mix = data.mixture_1d([-1.0, 2.0], [0.5, 2.0], weights=[1.0, 3.0])
    assert_close(mix.centers, torch.tensor([[-1.0], [2.0]]))
    assert_close(mix.stds, torch.tensor([0.5, 2.0]))
    assert_close(mix.weights, torch.tensor([0.25, 0.75]))
    assert (mix.dim, mix.n_modes) == (1, 2)


@pytest.mark.parametrize("name", TOY_NAMES)
def test_toy_by_name_equals_its_constructor(name):
    by_name, direct = data.toy(name), data.TOYS[name]()
    assert_close(by_name.centers, direct.centers)
    assert_close(by_name.stds, direct.stds)
    assert by_name.dim == 2


def test_toy_passes_keyword_arguments_through():
    ring = data.toy("ring", modes=4, radius=1.0)
    assert_close(
        ring.centers,
        torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]),
        rtol=0,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    ("toy", "std"),
    [
        (data.ring(), 0.02),
        (data.grid(), 0.05),
        (data.two_gaussians(), 0.5),
        pytest.param(data.spiral(), 0.05, id="spiral"),
    ],
)
def test_toy_modes_are_more_than_6_std_apart(toy, std):
    """Separated modes: the 3-std balls used by the mode-coverage metric do not overlap."""
    assert min_pairwise_distance(toy.centers) > 6 * std


# ----------------------------------------------------------------------------- sampling


@pytest.mark.parametrize("toy", all_toys(), ids=lambda t: t.name)
@pytest.mark.parametrize("n", [1, 7, 300])
def test_sample_shape_is_n_by_dim(toy, n):
    x = toy.sample(n, seed=0)
    assert x.shape == (n, toy.dim)
    assert x.dtype == torch.float32
    assert bool(torch.isfinite(x).all())


@pytest.mark.parametrize("toy", all_toys(), ids=lambda t: t.name)
def test_same_int_seed_gives_identical_samples(toy):
    assert torch.equal(toy.sample(100, seed=3), toy.sample(100, seed=3))
    assert not torch.equal(toy.sample(100, seed=3), toy.sample(100, seed=4))


def test_generator_seed_matches_int_seed_and_advances():
    ring = data.ring()
    generator = torch.Generator().manual_seed(11)
    first = ring.sample(50, seed=generator)
    second = ring.sample(50, seed=generator)
    assert torch.equal(first, ring.sample(50, seed=11))
    assert not torch.equal(first, second)  # the generator's state moved on


def test_sample_with_modes_draws_the_same_samples_as_sample():
    grid = data.grid()
    x, modes = grid.sample_with_modes(200, seed=5)
    assert torch.equal(x, grid.sample(200, seed=5))
    assert modes.shape == (200,)
    assert modes.dtype == torch.int64


@pytest.mark.parametrize("name", TOY_NAMES)
def test_sample_with_modes_labels_are_the_nearest_centre(name):
    """For well-separated modes a sample is nearest to the centre it was drawn from."""
    small_std = {"two_gaussians": 0.25, "spiral": 0.01}  # keep >= 8 std to the midpoint
    toy = data.toy(name, **({"std": small_std[name]} if name in small_std else {}))
    x, modes = toy.sample_with_modes(500, seed=1)
    sq = (x[:, None, :].double() - toy.centers[None].double()).pow(2).sum(-1)
    assert torch.equal(sq.argmin(dim=1), modes)


def test_mode_labels_follow_the_weights():
    """The fraction of samples from mode 1 is w_1 = 0.8 up to 4 binomial std."""
    mix = data.mixture_1d([0.0, 10.0], 1.0, weights=[0.2, 0.8])
    n = 20_000
    _, modes = mix.sample_with_modes(n, seed=0)
    tol = 4 * math.sqrt(0.8 * 0.2 / n)
    assert_close(modes.double().mean().item(), 0.8, rtol=0, atol=tol)


def test_1d_mixture_sample_mean_and_std_match_closed_form():
    """mean = sum w mu; var = sum w (s^2 + mu^2) - mean^2; tolerance 5 standard errors."""
    mu = torch.tensor([-2.0, 1.0, 3.0], dtype=torch.float64)
    s = torch.tensor([0.5, 1.0, 0.3], dtype=torch.float64)
    w = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    mix = data.mixture_1d(mu.tolist(), s.tolist(), w.tolist())
    n = 200_000
    x = mix.sample(n, seed=0).double().squeeze(1)

    mean = (w * mu).sum()
    var = (w * (s**2 + mu**2)).sum() - mean**2
    shift = mu - mean  # 4th central moment of each component around the mixture mean
    mu4 = (w * (shift**4 + 6 * shift**2 * s**2 + 3 * s**4)).sum()
    se_mean = math.sqrt(var / n)
    se_std = math.sqrt((mu4 - var**2) / n) / (2 * math.sqrt(var))  # delta method on sqrt(var)

    assert_close(x.mean(), mean, rtol=0, atol=5 * se_mean)
    assert_close(x.std(), var.sqrt(), rtol=0, atol=5 * se_std)


def test_sample_moves_to_the_requested_device():
    x = data.ring().sample(4, seed=0, device="cpu")
    assert x.device.type == "cpu"


# ----------------------------------------------------------------------------- densities


def test_1d_log_prob_matches_scipy_norm():
    means, stds, weights = [-2.0, 1.0, 3.0], [0.5, 1.0, 0.3], [0.2, 0.5, 0.3]
    mix = data.mixture_1d(means, stds, weights)
    x = torch.linspace(-5.0, 5.0, 25, dtype=torch.float64)[:, None]
    expected = sum(
        w * stats.norm.pdf(x.numpy()[:, 0], loc=m, scale=s)
        for m, s, w in zip(means, stds, weights, strict=True)
    )
    assert_close(mix.log_prob(x), torch.from_numpy(expected).log(), rtol=1e-6, atol=1e-6)
    assert_close(mix.prob(x), torch.from_numpy(expected), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", TOY_NAMES)
def test_2d_log_prob_matches_hand_written_gaussian_density(name):
    """log p at 20 samples and 5 far points equals the density written out by hand."""
    toy = data.toy(name)
    x = torch.cat(
        [
            toy.sample(20, seed=2),
            torch.tensor([[0.0, 0.0], [1.0, 1.0], [-1.5, 0.5], [0.3, -0.7], [2.5, 2.5]]),
        ]
    )
    expected = mixture_log_density(x, toy.centers, toy.stds, toy.weights)
    assert_close(toy.log_prob(x.double()), expected, rtol=1e-6, atol=1e-6)
    # float32 inputs: the differences x - mu are exact, so only rounding of the result remains
    assert_close(toy.log_prob(x).double(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("name", "std"), [("ring", 0.02), ("grid", 0.05), ("grid", 0.005)])
def test_log_prob_is_accurate_and_independent_of_batch_size(name, std):
    toy = data.toy(name, std=std)
    x = toy.sample(400, seed=0)  # near the centres, where the density matters
    expected = mixture_log_density(x, toy.centers, toy.stds, toy.weights)
    one_by_one = torch.cat([toy.log_prob(x[i : i + 1]) for i in range(len(x))])
    assert_close(toy.log_prob(x), one_by_one, rtol=1e-5, atol=1e-5)
    assert_close(toy.log_prob(x).double(), expected, rtol=1e-5, atol=1e-5)


def test_1d_density_integrates_to_one():
    """Trapezoid rule on [-12, 12] with step 1e-3."""
    mix = data.mixture_1d([-2.0, 1.0, 3.0], [0.5, 1.0, 0.3], [0.2, 0.5, 0.3])
    x = torch.linspace(-12.0, 12.0, 24_001, dtype=torch.float64)
    integral = torch.trapezoid(mix.prob(x[:, None]), x)
    assert_close(integral, torch.tensor(1.0, dtype=torch.float64), rtol=0, atol=1e-6)


def test_2d_density_integrates_to_one():
    """Two-fold trapezoid rule for two_gaussians on [-6, 6] x [-4, 4]."""
    two = data.two_gaussians(distance=4.0, std=0.5)
    u = torch.linspace(-6.0, 6.0, 601, dtype=torch.float64)
    v = torch.linspace(-4.0, 4.0, 401, dtype=torch.float64)
    points = torch.cartesian_prod(u, v)
    density = two.prob(points).reshape(len(u), len(v))
    integral = torch.trapezoid(torch.trapezoid(density, v, dim=1), u)
    assert_close(integral, torch.tensor(1.0, dtype=torch.float64), rtol=0, atol=1e-4)


def test_log_prob_ignores_zero_weight_modes():
    mix = data.mixture_1d([0.0, 5.0], [1.0, 1.0], weights=[1.0, 0.0])
    x = torch.tensor([[0.0], [1.0], [5.0]], dtype=torch.float64)
    expected = torch.from_numpy(stats.norm.logpdf(x.numpy()[:, 0]))
    assert_close(mix.log_prob(x), expected, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "10"])
def test_bad_n_raises_naming_it(n):
    with pytest.raises(ValueError, match=r"\bn must be a positive integer, got " + repr(n)):
        data.ring().sample(n)
    with pytest.raises(ValueError, match=repr(n)):
        data.ring().sample_with_modes(n)


@pytest.mark.parametrize("std", [0.0, -0.5, float("nan"), float("inf")])
def test_bad_toy_std_raises_naming_it(std):
    with pytest.raises(ValueError, match=r"std .*" + str(std)):
        data.ring(std=std)
    with pytest.raises(ValueError, match=str(std)):
        data.grid(std=std)


def test_bad_mixture_stds_raise_naming_them():
    with pytest.raises(ValueError, match=r"-1\.0"):
        data.mixture_1d([0.0, 1.0], [1.0, -1.0])
    with pytest.raises(
        ValueError, match=r"stds must be 2 positive numbers, got \[1\.0, 2\.0, 3\.0\]"
    ):
        data.mixture_1d([0.0, 1.0], [1.0, 2.0, 3.0])


def test_bad_weights_raise_naming_them():
    with pytest.raises(ValueError, match=r"\[1\.0, -1\.0\]"):
        data.mixture_1d([0.0, 1.0], 1.0, weights=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"\[0\.0, 0\.0\]"):
        data.mixture_1d([0.0, 1.0], 1.0, weights=[0.0, 0.0])


@pytest.mark.parametrize(
    ("means", "shape"), [([1.0, 2.0, 3.0], "(3,)"), ([[[1.0, 2.0]]], "(1, 1, 2)"), ([], "(0,)")]
)
def test_bad_means_shape_raises_naming_the_shape(means, shape):
    with pytest.raises(ValueError, match=r"means must have shape \(K, d\).*" + re.escape(shape)):
        data.GaussianMixture(means, 1.0)


def test_log_prob_wrong_shape_raises_naming_it():
    ring = data.ring()
    with pytest.raises(ValueError, match=r"\(B, 2\), got \(5, 3\)"):
        ring.log_prob(torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"got \(4,\)"):
        ring.log_prob(torch.zeros(4))
    with pytest.raises(TypeError, match="torch.int64"):
        ring.log_prob(torch.zeros(5, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match="list"):
        ring.log_prob([[0.0, 0.0]])


def test_unknown_toy_name_raises_naming_it():
    with pytest.raises(ValueError, match=r"unknown toy distribution 'swiss_roll'"):
        data.toy("swiss_roll")


def test_bad_seed_type_raises_naming_it():
    with pytest.raises(TypeError, match="'abc'"):
        data.ring().sample(3, seed="abc")


# ----------------------------------------------------------------------------- the chapters' toys


def test_far_data_is_normal_4_half():
    far = data.far_data()
    assert far.dim == 1 and far.n_modes == 1
    assert_close(far.means, torch.tensor([[4.0]]), check_dtype=False)
    assert_close(far.stds.flatten(), torch.tensor([0.5]), check_dtype=False)
    x = far.sample(4000, seed=0)
    assert_close(x.mean().item(), 4.0, rtol=0, atol=4 * 0.5 / math.sqrt(4000))
    assert_close(x.std().item(), 0.5, rtol=0.05, atol=0)


def test_square_ring_has_8_modes_on_the_square_border_none_at_the_origin():
    square = data.square_ring()
    assert square.n_modes == 8 and square.dim == 2
    means = square.means.to(torch.float64)
    assert (means.norm(dim=1) > 1).all()
    assert (means.abs().max(dim=1).values == 2.0).all()  # on the border of [-2, 2]^2
    assert len({tuple(m.tolist()) for m in means}) == 8
    assert_close(square.stds.flatten(), torch.full((8,), 0.02), check_dtype=False)
    assert data.square_ring(side=1.0).means.abs().max() == 1.0


def test_two_answer_pairs_are_x_plus_or_minus_one():
    x, y = data.two_answer_pairs(2000, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (2000, 1)
    assert ((x >= -1) & (x < 1)).all()
    assert torch.equal((y - x).abs(), torch.ones(2000, 1))  # exactly one away
    plus = float(((y - x) > 0).float().mean())
    assert abs(plus - 0.5) < 5 * 0.5 / math.sqrt(2000)  # both answers, equally often
    x2, y2 = data.two_answer_pairs(2000, torch.Generator().manual_seed(0))
    assert torch.equal(x, x2) and torch.equal(y, y2)


def test_missing_corner_leaves_out_the_top_right_quadrant():
    points = data.missing_corner(3000, seed=4)
    assert points.shape == (3000, 2)
    assert ((points >= -1) & (points <= 1)).all()
    assert not ((points[:, 0] > 0) & (points[:, 1] > 0)).any()
    # the other three quadrants are about equally full
    for sx, sy in ((-1, -1), (-1, 1), (1, -1)):
        share = float(((sx * points[:, 0] > 0) & (sy * points[:, 1] > 0)).float().mean())
        assert abs(share - 1 / 3) < 0.05
    assert torch.equal(points, data.missing_corner(3000, seed=4))
    assert not torch.equal(points, data.missing_corner(3000, seed=5))
    assert data.missing_corner(1, seed=0).shape == (1, 2)
    with pytest.raises(ValueError, match="n"):
        data.missing_corner(0)


def test_the_chapters_toys_are_also_experiments_names():
    """Chapters 2 and 7 call them gl.experiments.<name>: the same objects as gl.data's."""
    for name in ("far_data", "square_ring", "two_answer_pairs", "missing_corner"):
        assert getattr(experiments, name) is getattr(data, name)
        assert name in experiments.__all__ and name in data.__all__


def test_the_package_re_exports_each_module_s_public_names():
    """ganlab.data is toys + images: every public name of either, and nothing else."""
    from ganlab.data import images, toys

    def public(module):
        return {n for n, v in vars(module).items() if not n.startswith("_")
                and getattr(v, "__module__", module.__name__) == module.__name__
                and not isinstance(v, types.ModuleType) and n != "annotations"}  # fmt: skip

    assert set(data.__all__) == public(toys) | public(images)
    for name in data.__all__:
        module = toys if name in public(toys) else images
        assert getattr(data, name) is getattr(module, name), name


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
