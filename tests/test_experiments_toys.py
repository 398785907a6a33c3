"""ganlab.experiments.toys: cycle_run, paired_run and the StyleGAN toy (MappedGenerator,
linear_r2, path_length_ratio, quadrant_shares, StyleToyRun.fits, style_toy; short runs only:
the measured numbers of a full run are the chapter's, not a test's). Their toy data sets are
tested in test_data.py."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from ganlab import data, experiments, models

# ----------------------------------------------------------------------------- CycleGAN


@pytest.fixture(scope="module")
def cycle():
    return experiments.cycle_run(data.ring(), experiments.square_ring(), 10.0, steps=20, width=8,
                                 batch_size=32, seed=3)  # fmt: skip


def test_cycle_run_reports_a_mode_map_and_cycle_errors(cycle):
    assert cycle.cycle_weight == 10.0
    assert len(cycle.mode_map) == 8 and all(-1 <= k <= 7 for k in cycle.mode_map)
    assert all(isinstance(k, int) for k in cycle.mode_map)
    assert math.isfinite(cycle.cycle_error_a) and math.isfinite(cycle.cycle_error_b)
    assert 0 <= cycle.quality_b <= 1


def test_cycle_run_is_deterministic_for_a_seed(cycle):
    again = experiments.cycle_run(data.ring(), experiments.square_ring(), 10.0, steps=20, width=8,
                                  batch_size=32, seed=3)  # fmt: skip
    assert again.mode_map == cycle.mode_map
    assert again.cycle_error_a == cycle.cycle_error_a
    for p, q in zip(again.G.parameters(), cycle.G.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("std", [0.02, 1.0])
def test_mode_map_is_the_nearest_b_mode_within_3_std_of_g_of_each_a_mode(std):
    """An untrained G sends the ring's centres near the origin, about 1.8 from the nearest
    square mode: outside 3 std of narrow modes (-1), inside 3 std of wide ones."""
    square = experiments.square_ring(std=std)
    run = experiments.cycle_run(data.ring(), square, 1.0, steps=5, width=8, batch_size=16)
    with torch.no_grad():
        images = run.G(data.ring().centers)
    expected = []
    for y in images:
        d = [float((y - m).norm()) for m in square.centers]
        k = min(range(8), key=d.__getitem__)
        expected.append(k if d[k] <= 3 * std else -1)
    assert run.mode_map == expected
    assert (-1 in run.mode_map) == (std == 0.02)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"cycle_weight": -1.0}, "cycle_weight must be >= 0"),
     ({"cycle_weight": float("nan")}, "cycle_weight must be >= 0"), ({"steps": 0}, "steps")],
)  # fmt: skip
def test_cycle_run_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        experiments.cycle_run(data.ring(), experiments.square_ring(), **{"steps": 1, **kwargs})


# ----------------------------------------------------------------------------- pix2pix


def test_valid_fraction_counts_outputs_near_either_answer():
    x = torch.tensor([0.0, 0.0, 0.0, 0.5])
    y = torch.tensor([1.0, -0.8, 0.5, 1.8])  # misses 0, 0.2, 0.5, 0.3
    run = experiments.PairedRun(1.0, torch.nn.Identity(), x, y)
    assert run.valid_fraction(0.0) == 0.25
    assert run.valid_fraction(0.1) == 0.25
    assert run.valid_fraction() == 0.5  # tolerance 0.25
    assert run.valid_fraction(0.35) == 0.75
    assert run.valid_fraction(0.6) == 1.0


def test_paired_run_outputs_on_a_grid_and_is_deterministic():
    run = experiments.paired_run(1.0, 1.0, steps=10, width=8, batch_size=32, seed=2)
    assert run.adversarial_weight == 1.0
    assert run.x.shape == run.y.shape == (19 * 20,)
    assert_close(run.x.unique(), torch.linspace(-0.9, 0.9, 19))
    again = experiments.paired_run(1.0, 1.0, steps=10, width=8, batch_size=32, seed=2)
    assert torch.equal(run.y, again.y)
    # valid_fraction of a real run, by hand
    miss = torch.minimum((run.y - run.x - 1).abs(), (run.y - run.x + 1).abs())
    assert run.valid_fraction(0.3) == pytest.approx(float((miss <= 0.3).float().mean()))
    plain = experiments.paired_run(0.0, 1.0, steps=10, width=8, batch_size=32, seed=2)
    assert not torch.equal(plain.y, run.y)  # the adversarial term changes the result


@pytest.mark.parametrize("weights", [(-1.0, 1.0), (1.0, -0.5), (float("nan"), 1.0)])
def test_paired_run_rejects_negative_weights(weights):
    with pytest.raises(ValueError, match="the loss weights must be >= 0"):
        experiments.paired_run(*weights, steps=1)


# ----------------------------------------------------------------------------- linear_r2


def test_linear_r2_is_one_for_an_affine_map():
    h = torch.randn(200, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    A = torch.tensor([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]], dtype=torch.float64)
    x = h @ A + torch.tensor([4.0, -1.0], dtype=torch.float64)
    assert_close(experiments.linear_r2(h, x), 1.0)


def test_linear_r2_is_zero_when_no_line_explains_x():
    # x = h^2 on a grid symmetric about 0: the least-squares line is flat, so R^2 = 0
    h = torch.tensor([[-1.0], [0.0], [1.0]]).repeat(4, 1)
    assert_close(experiments.linear_r2(h, h**2), 0.0)


def test_linear_r2_rejects_bad_input():
    with pytest.raises(ValueError, match="batch size"):
        experiments.linear_r2(torch.zeros(5, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="more than 3 samples"):
        experiments.linear_r2(torch.randn(3, 2), torch.randn(3, 2))
    with pytest.raises(ValueError, match=r"shape \(B, dim\), got \(5,\)"):
        experiments.linear_r2(torch.zeros(5), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="constant"):
        experiments.linear_r2(torch.randn(5, 1), torch.ones(5, 2))


# ----------------------------------------------------------------------------- path_length_ratio


def test_path_length_ratio_is_one_for_an_affine_net():
    torch.manual_seed(0)
    net = torch.nn.Linear(2, 3)
    a, b = torch.randn(10, 2), torch.randn(10, 2)
    assert_close(experiments.path_length_ratio(net, a, b), 1.0)


def test_path_length_ratio_of_a_fold():
    # |h| from -1 to 2 in 3 segments visits 1, 0, 1, 2: length 3, chord |2| - |-1| = 1
    a, b = torch.tensor([[-1.0]]), torch.tensor([[2.0]])
    ratio = experiments.path_length_ratio(_Abs(), a, b, segments=3)
    assert_close(ratio, 3.0)


class _Abs(torch.nn.Module):
    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.abs()


def test_path_length_ratio_rejects_bad_input():
    net = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="segments"):
        experiments.path_length_ratio(net, torch.zeros(3, 2), torch.ones(3, 2), segments=0)
    with pytest.raises(ValueError, match="batch size"):
        experiments.path_length_ratio(net, torch.zeros(3, 2), torch.ones(2, 2))
    with pytest.raises(ValueError, match="same shape"):
        experiments.path_length_ratio(net, torch.zeros(3, 2), torch.ones(3, 3))
    with pytest.raises(ValueError, match="zero chord"):
        experiments.path_length_ratio(net, torch.ones(3, 2), torch.ones(3, 2))


# ----------------------------------------------------------------------------- quadrants, fits


def test_quadrant_shares_counts_each_quadrant():
    x = torch.tensor([[-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-0.5, 0.5]])
    shares = experiments.quadrant_shares(x)
    expected = {"top left": 0.4, "bottom left": 0.2, "bottom right": 0.2, "top right": 0.2}
    assert_close(shares, expected)
    with pytest.raises(ValueError, match=r"shape \(B, 2\)"):
        experiments.quadrant_shares(torch.zeros(4, 3))


def test_fits_needs_an_empty_corner_and_three_full_quadrants():
    run = experiments.StyleToyRun(0, 1, torch.nn.Identity(), None)  # type: ignore[arg-type]
    run.quadrants["good"] = {"top left": 0.33, "bottom left": 0.33, "bottom right": 0.33,
                             "top right": 0.01}  # fmt: skip
    run.quadrants["collapsed"] = {"top left": 0.0, "bottom left": 0.5, "bottom right": 0.5,
                                  "top right": 0.0}  # fmt: skip
    run.quadrants["leaky"] = {"top left": 0.3, "bottom left": 0.3, "bottom right": 0.3,
                              "top right": 0.1}  # fmt: skip
    assert run.fits("good")
    assert not run.fits("collapsed")
    assert not run.fits("leaky")


# ----------------------------------------------------------------------------- MappedGenerator


def test_mapped_generator_is_synthesis_after_mapping():
    torch.manual_seed(0)
    f = models.MappingNetwork(latent_dim=2, w_dim=3, depth=2, width=8, normalize=False)
    s = models.mlp(3, 2, 8, 1, "relu")
    G = experiments.MappedGenerator(f, s)
    z = torch.randn(5, 2)
    assert G.latent_dim == 2
    assert_close(G(z), s(f(z)))
    assert G.sample(7, seed=0).shape == (7, 2)
    with pytest.raises(ValueError, match="latent_dim"):
        experiments.MappedGenerator(torch.nn.Identity(), s)


# ----------------------------------------------------------------------------- style_toy


def test_style_toy_shapes_and_nearly_equal_sizes():
    torch.set_num_threads(1)
    run = experiments.style_toy(seed=0, steps=2, batch_size=16, n_eval=40)
    assert set(run.r2) == set(run.path_ratio) == set(run.quadrants) == {"z-fed", "w-fed"}
    for name in ("z-fed", "w-fed"):
        assert run.h[name].shape == run.x[name].shape == (40, 2)
        assert run.r2[name] <= 1.0 + 1e-9
        assert run.path_ratio[name] >= 1.0 - 1e-6  # a path is never shorter than its chord
        assert_close(sum(run.quadrants[name].values()), 1.0)
    assert_close(run.h["z-fed"], run.z_fed.sample_latent(40, seed=10_000))
    # the two generators have about the same number of parameters (8,642 and 8,964)
    assert run.params == {"z-fed": 8642, "w-fed": 8964}
    assert_close(run.x["w-fed"], run.w_fed(run.h["z-fed"]))


def test_style_toy_rejects_bad_input():
    with pytest.raises(ValueError, match="steps"):
        experiments.style_toy(steps=0)
    with pytest.raises(ValueError, match="n_eval must be at least 4.*got 3"):
        experiments.style_toy(steps=1, n_eval=3)
