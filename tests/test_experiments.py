"""ganlab.experiments.saturation (the controlled saturation experiment: same seed, same head
start of D) and ganlab.experiments.mode_collapse (build_players, remedy_run(s), frozen_d_run,
benchmark_results). The critics and the toys: test_experiments_critics.py and
test_experiments_toys.py."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch.testing import assert_close

from ganlab import experiments, metrics, models, train

# A few ms per step: head start 50, 40 steps, W1 every 10 steps.
TINY = {"head_start": 50, "steps": 40, "every": 10, "batch_size": 32, "width": 16}


@pytest.fixture(scope="module")
def tiny_pair() -> dict[str, experiments.Run]:
    return experiments.compare_generator_losses(**TINY)


# ----------------------------------------------------------------------------- data, distance


def constant_generator(c: float) -> models.MLPGenerator:
    """A G that outputs c for every z: all weights 0, the last bias c."""
    G = models.MLPGenerator(latent_dim=1, out_dim=1, width=8)
    with torch.no_grad():
        for p in G.parameters():
            p.zero_()
        list(G.parameters())[-1].fill_(c)
    return G


def test_distance_to_data_of_a_point_mass():
    """W1(delta_c, N(4, 0.25)) = E|x - c|: 0.5 sqrt(2 / pi) at c = 4, 4 - c + ... far away.

    Tolerances: 5 standard errors of a 2000-sample mean."""
    data = experiments.far_data()
    G = constant_generator(4.0)
    assert_close(
        experiments.distance_to_data(G, data), 0.5 * math.sqrt(2 / math.pi), rtol=0, atol=0.03
    )
    assert_close(experiments.distance_to_data(constant_generator(-10.0), data), 14.0, rtol=0,
                 atol=5 * 0.5 / math.sqrt(2000))  # fmt: skip


def test_distance_to_data_is_reproducible_and_uses_n_samples():
    train.seed_everything(0)
    G = models.MLPGenerator(latent_dim=1, out_dim=1, width=8)
    data = experiments.far_data()
    d = experiments.distance_to_data(G, data)
    assert d == experiments.distance_to_data(G, data)
    expected = metrics.wasserstein_1d(G.sample(500, seed=12345), data.sample(500, seed=54321))
    assert experiments.distance_to_data(G, data, n=500) == expected


# ----------------------------------------------------------------------------- Run


def run_with(distance: list[float], grad_norms: list[float] = ()) -> experiments.Run:
    history = train.History()
    history.grad_norm_G.extend(grad_norms)
    steps = [10 * i for i in range(len(distance))]
    return experiments.Run("x", history, steps, list(distance))


def test_steps_to_is_the_first_evaluated_step_at_or_below_the_threshold():
    run = run_with([4.0, 2.0, 0.5, 0.8, 0.1])
    assert run.steps_to(0.5) == 20
    assert run.steps_to(0.49) == 40
    assert run.steps_to(2.5) == 10
    assert run.steps_to(5.0) == 0
    assert run.steps_to(0.05) is None


def test_early_grad_norm_is_the_mean_over_the_first_g_updates():
    run = run_with([1.0], grad_norms=[1.0, 2.0, 6.0, 100.0])
    assert run.early_grad_norm(3) == 3.0
    assert run.early_grad_norm(1) == 1.0
    assert run.early_grad_norm() == 109 / 4  # fewer than 10 recorded: all of them


# ----------------------------------------------------------------------------- head_start_run


def test_a_tiny_run_records_w1_after_the_head_start_and_every_few_steps(tiny_pair):
    for name, run in tiny_pair.items():
        assert run.label == name
        assert run.eval_steps == [0, 10, 20, 30, 40]
        assert len(run.distance) == 5 and all(math.isfinite(d) for d in run.distance)
        assert run.history.step == list(range(1, 41))
        assert 0 < run.p_fake_after_head_start < 1


def test_both_losses_start_from_the_same_point(tiny_pair):
    """Same init and head start: the same W1 and D(G(z)) at step 0, different afterwards."""
    sat, nonsat = tiny_pair["saturating"], tiny_pair["nonsaturating"]
    assert sat.distance[0] == nonsat.distance[0]
    assert sat.p_fake_after_head_start == nonsat.p_fake_after_head_start
    assert sat.history.p_real[0] == nonsat.history.p_real[0]  # the first D update agrees too
    assert sat.distance[1:] != nonsat.distance[1:]


def test_same_seed_gives_identical_runs_and_another_seed_does_not(tiny_pair):
    again = experiments.compare_generator_losses(**TINY)
    for name, run in tiny_pair.items():
        assert again[name].distance == run.distance
        assert again[name].history.as_dict() == run.history.as_dict()
    other = experiments.head_start_run(loss="nonsaturating", seed=1, **TINY)
    assert other.distance != tiny_pair["nonsaturating"].distance


def test_head_start_run_passes_its_settings_on():
    """d_steps and the optimizer reach fit; head_start = 0 leaves D(G(z)) undefined."""
    settings = {**TINY, "head_start": 0, "steps": 10, "every": 5}
    base = experiments.head_start_run(**settings)
    assert math.isnan(base.p_fake_after_head_start)
    adam = experiments.head_start_run(optimizer="adam", **settings)
    assert adam.history.loss_G != base.history.loss_G
    k3 = experiments.head_start_run(d_steps=3, **settings)
    assert k3.history.loss_G != base.history.loss_G
    assert k3.distance[0] == base.distance[0]  # the same initial G


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"loss": "wgan"}, ValueError, "unknown loss kind 'wgan'"),
        ({"optimizer": "adagrad"}, ValueError, "unknown optimizer 'adagrad'"),
        ({"head_start": -1}, ValueError, "head_start must be an integer >= 0, got -1"),
        ({"head_start": 2.5}, ValueError, "head_start must be an integer >= 0, got 2.5"),
        ({"head_start": True}, ValueError, "head_start must be an integer >= 0, got True"),
        ({"steps": 0}, ValueError, "steps must be a positive integer, got 0"),
    ],
)
def test_bad_settings_raise_naming_them(kwargs, error, message):
    with pytest.raises(error, match=message):
        experiments.head_start_run(**{**TINY, **kwargs})


def test_compare_generator_losses_runs_the_named_losses_only():
    runs = experiments.compare_generator_losses(losses=("nonsaturating",), **{**TINY, "steps": 5,
                                                                              "every": 5})  # fmt: skip
    assert list(runs) == ["nonsaturating"]
    with pytest.raises(ValueError, match="unknown loss kind 'logistic'"):
        experiments.compare_generator_losses(losses=("saturating", "logistic"), **TINY)


# ----------------------------------------------------------------------------- the finding


@pytest.fixture(scope="module")
def default_pair() -> dict[str, experiments.Run]:
    """The chapter's setting (head start 300, SGD 0.05, width 32, batch 64), 200 steps."""
    return experiments.compare_generator_losses(steps=200, every=50)


def test_after_the_head_start_the_saturating_loss_stalls_and_the_other_learns(default_pair):
    sat, nonsat = default_pair["saturating"], default_pair["nonsaturating"]
    assert sat.p_fake_after_head_start < 0.01  # D rejects the fakes with confidence
    assert sat.distance[0] > 4
    assert min(sat.distance) > 3  # barely moves in 200 steps
    assert sat.steps_to(0.5) is None
    assert nonsat.distance[-1] < 0.5
    assert nonsat.steps_to(0.5) is not None


def test_early_generator_gradient_is_over_100_times_larger_without_saturation(default_pair):
    sat, nonsat = default_pair["saturating"], default_pair["nonsaturating"]
    assert nonsat.early_grad_norm() > 100 * sat.early_grad_norm() > 0


# ----------------------------------------------------------------------------- remedies


def test_build_players_gives_the_same_generator_for_every_remedy():
    from ganlab import data, models

    ring = data.ring()
    weights = []
    for name in experiments.REMEDIES:
        G, D, kwargs = experiments.build_players(ring, name, width=16, seed=4)
        weights.append(next(G.parameters()).detach().clone())
        assert isinstance(G, models.MLPGenerator)
    assert all(torch.equal(w, weights[0]) for w in weights)
    assert isinstance(experiments.build_players(ring, "PacGAN2")[1], models.PackedDiscriminator)
    assert experiments.build_players(ring, "unrolled 5")[2].unroll_steps == 5
    with pytest.raises(ValueError, match="unknown remedy 'magic'"):
        experiments.build_players(ring, "magic")


def test_build_players_returns_the_remedys_config_which_cannot_be_changed():
    from ganlab import data

    _, _, config = experiments.build_players(data.ring(), "WGAN-GP")
    assert config is experiments.REMEDIES["WGAN-GP"].config
    assert config.changes() == {"loss": "wasserstein", "penalty": config.penalty, "d_steps": 5,
                                "lr_D": 1e-4, "lr_G": 1e-4, "betas": (0.5, 0.9)}  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.loss = "nonsaturating"  # type: ignore[misc]


def test_remedy_run_measures_coverage_and_keeps_samples_every_few_steps():
    from ganlab import data

    run = experiments.remedy_run(data.ring(), "vanilla", steps=20, every=10, batch_size=32,
                                 n_eval=100, n_keep=40)  # fmt: skip
    assert run.remedy == "vanilla"
    assert run.steps == [0, 10, 20]  # step 0: the untrained G
    assert [c.n_modes for c in run.coverage] == [8, 8, 8]
    assert [tuple(x.shape) for x in run.samples] == [(40, 2)] * 3
    assert not torch.equal(run.samples[0], run.samples[-1])  # G moved
    # the coverage is measured on the same latents every time: step 0 is the untrained G's
    G0, _, _ = experiments.build_players(data.ring(), "vanilla", 64, 0)
    assert_close(run.samples[0], G0.sample(100, seed=10_000)[:40])


@pytest.mark.parametrize(("remedy", "overrides"), [("vanilla", {}), ("unrolled 5", {}),
                                                   ("vanilla", {"lr_D": 1e-4})])  # fmt: skip
def test_remedy_runs_trains_the_seeds_together_as_remedy_run_does_one_by_one(remedy, overrides):
    from ganlab import data

    settings = dict(steps=12, every=6, batch_size=32, n_eval=200, n_keep=50, **overrides)
    together = experiments.remedy_runs(data.ring(), remedy, seeds=(0, 3), **settings)
    for seed, run in zip((0, 3), together, strict=True):
        alone = experiments.remedy_run(data.ring(), remedy, seed=seed, **settings)
        assert run.steps == alone.steps == [0, 6, 12]
        for x, y in zip(run.samples, alone.samples, strict=True):
            assert_close(x, y, atol=1e-4, rtol=1e-4)  # the same run up to rounding
        assert [c.modes for c in run.coverage] == [c.modes for c in alone.coverage]
        assert_close(run.G.sample(20, seed=1), alone.G.sample(20, seed=1), atol=1e-4, rtol=1e-4)


def test_remedy_run_overrides_reach_fit(monkeypatch):
    from ganlab import data

    seen = []

    def fake_fit(G, D, dist, steps, config, **kwargs):
        seen.append(config)

    monkeypatch.setattr(experiments.mode_collapse, "fit", fake_fit)
    experiments.remedy_run(data.ring(), "unrolled 5", steps=1, n_eval=10, lr_D=3e-4)
    assert seen[0].lr_D == 3e-4 and seen[0].unroll_steps == 5 and seen[0].batch_size == 256


def test_frozen_d_run_leaves_D_alone_and_G_climbs_D():
    from ganlab import data

    ring = data.ring()
    run = experiments.frozen_d_run(ring, pre_steps=30, g_steps=60, every=20, batch_size=64,
                                   width=16, lr_G=1e-2, n_eval=300)  # fmt: skip
    assert run.steps == [0, 20, 40, 60]
    assert all(not p.requires_grad for p in run.D.parameters())
    frozen = [p.clone() for p in run.D.parameters()]
    assert run.argmax.shape == (2,)
    # x* is D's highest point on the plane grid: no grid point scores higher
    from ganlab.plane import plane_grid, plane_limit

    with torch.no_grad():
        scores = run.D(plane_grid(plane_limit(ring), 181)).reshape(-1)
        assert float(run.D(run.argmax[None]).reshape(())) == pytest.approx(float(scores.max()))
    assert run.mean_d[-1] > run.mean_d[0]  # G climbs the frozen D
    assert all(0 <= v <= 1 for v in run.near_argmax)
    assert len(run.spread) == len(run.samples) == 4
    for p, q in zip(run.D.parameters(), frozen, strict=True):
        assert torch.equal(p, q)


def test_benchmark_results_ship_with_the_package():
    markdown, results = experiments.benchmark_results("mode_collapse")
    assert "## 2-D ring" in markdown and "## 2-D grid" in markdown
    protocol = results["protocol"]
    assert protocol["n_seeds"] >= 5
    runs = results["runs"]
    assert len(runs) == len(protocol["data"]) * len(protocol["methods"]) * protocol["n_seeds"]
    with pytest.raises(FileNotFoundError, match="no committed results 'nothing'"):
        experiments.benchmark_results("nothing")


@pytest.mark.parametrize("name", ["mode_collapse", "critics"])
def test_benchmark_tables_give_every_row_its_method(name):
    """One row per method: a row with an empty first cell (a second published value on a line
    of its own, chapter 3's tables once) reads as a method without a name."""
    markdown, _ = experiments.benchmark_results(name)
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    assert rows
    nameless = [row for row in rows if not row.split("|")[1].strip()]
    assert nameless == [], f"{name}.md: rows without a method: {nameless}"
