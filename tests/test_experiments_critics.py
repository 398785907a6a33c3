"""ganlab.experiments.critics: CRITICS (the five critic settings), critic_run and
trained_critics_1d."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from ganlab import data, experiments, lipschitz, metrics, models

# ----------------------------------------------------------------------------- critics


def test_critics_name_the_five_settings_with_the_papers_hyperparameters():
    assert list(experiments.CRITICS) == [
        "minimax", "WGAN (clipping)", "WGAN-GP", "hinge", "least squares", "SN",
        "SN + hinge"]  # fmt: skip
    clip = experiments.CRITICS["WGAN (clipping)"].config
    assert clip.weight_clip == 0.01 and clip.d_steps == 5 and clip.optimizer == "rmsprop"
    assert (clip.lr_D, clip.lr_G) == (5e-5, 5e-5)
    gp = experiments.CRITICS["WGAN-GP"].config
    assert gp.betas == (0.0, 0.9) and gp.d_steps == 5 and gp.loss == "wasserstein"
    assert gp.penalty.__name__ == "wgan_gp(10)" and (gp.lr_D, gp.lr_G) == (1e-4, 1e-4)
    assert [name for name, c in experiments.CRITICS.items() if c.spectral_norm] == [
        "SN", "SN + hinge"]  # fmt: skip


@pytest.fixture(scope="module")
def clipping_run():
    """A tiny "WGAN (clipping)" run, 25 steps measured every 10, with fit's History kept."""
    histories = []
    real_fit = experiments.critics.fit

    def spy(*args, **kwargs):
        histories.append(real_fit(*args, **kwargs))
        return histories[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiments.critics, "fit", spy)
        run = experiments.critic_run(data.ring(), "WGAN (clipping)", steps=25, width=8,
                                     batch_size=32, every=10, n_eval=100)  # fmt: skip
    return run, histories[0]


def test_critic_run_measures_at_0_every_few_steps_and_at_the_end(clipping_run):
    run, history = clipping_run
    assert run.name == "WGAN (clipping)"
    assert run.steps == [0, 10, 20, 25]
    for series in (run.quality, run.gap, run.loss_D, run.loss_G, run.samples):
        assert len(series) == len(run.steps)
    assert all(math.isfinite(q) and q >= 0 for q in run.quality)
    assert all(math.isfinite(g) for g in run.gap)
    assert math.isnan(run.loss_D[0]) and math.isnan(run.loss_G[0])  # nothing trained yet
    # the losses are averaged over the steps since the previous measurement
    assert len(history) == 25
    for i, (start, end) in enumerate([(0, 10), (10, 20), (20, 25)], start=1):
        assert run.loss_D[i] == pytest.approx(sum(history.loss_D[start:end]) / (end - start))
        assert run.loss_G[i] == pytest.approx(sum(history.loss_G[start:end]) / (end - start))


def test_critic_run_step_0_is_the_untrained_pair_on_fixed_samples(clipping_run):
    run, _ = clipping_run
    ring = data.ring()
    G0, D0, _ = experiments.build_players(ring, "vanilla", 8, 0)
    x_real, x_fake = ring.sample(100, seed=20_000), G0.sample(100, seed=10_000)
    with torch.no_grad():
        gap = float(D0(x_real).mean() - D0(x_fake).mean())
    assert run.gap[0] == pytest.approx(gap, abs=1e-6)
    assert run.quality[0] == pytest.approx(metrics.sliced_wasserstein(x_fake, x_real))
    assert_close(run.samples[0], x_fake)


def test_weight_clipping_run_keeps_every_critic_parameter_within_001(clipping_run):
    run, _ = clipping_run
    assert all(float(p.detach().abs().max()) <= 0.01 for p in run.D.parameters())


def test_critic_run_rejects_an_unknown_setting():
    with pytest.raises(ValueError, match="unknown critic setting 'WGAN-LP'"):
        experiments.critic_run(data.ring(), "WGAN-LP", steps=1)


def test_critic_run_overrides_reach_fit(monkeypatch):
    seen = []
    real_fit = experiments.critics.fit

    def spy(G, D, dist, steps, config, **kw):
        seen.append((config, real_fit(G, D, dist, steps, config, **kw)))

    monkeypatch.setattr(experiments.critics, "fit", spy)
    experiments.critic_run(data.ring(), "minimax", steps=1, width=8, n_eval=10, lr_G=3e-4)
    assert seen[-1][0].lr_G == 3e-4 and seen[-1][0].loss == "nonsaturating"
    experiments.critic_run(data.ring(), "WGAN (clipping)", steps=1, width=8, n_eval=10,
                           lr_G=2e-4, weight_clip=0.05)  # fmt: skip
    config = seen[-1][0]
    assert config.optimizer == "rmsprop" and config.weight_clip == 0.05
    assert (config.lr_G, config.lr_D) == (2e-4, 5e-5)  # the override, and the table's 5e-5
    assert experiments.CRITICS["WGAN (clipping)"].config.lr_G == 5e-5  # the table unchanged
    with pytest.raises(TypeError, match=r"unknown training setting\(s\) \['lr'\]"):
        experiments.critic_run(data.ring(), "minimax", steps=1, width=8, n_eval=10, lr=1e-3)


# ----------------------------------------------------------------------------- 1-D critics


@pytest.fixture(scope="module")
def critics_1d():
    return experiments.trained_critics_1d(4.0, 0.1, steps=100, seed=0)


def test_trained_critics_1d_score_the_reals_above_the_fakes(critics_1d):
    assert set(critics_1d) == {"minimax", "WGAN-GP"}
    assert not any(D.training for D in critics_1d.values())
    real = 0.1 * torch.randn(500, 1, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        D = critics_1d["minimax"]
        assert (torch.sigmoid(D(real)).mean() > 0.9) and (torch.sigmoid(D(real + 4)).mean() < 0.1)
        f = critics_1d["WGAN-GP"]
        assert float(f(torch.tensor([[0.0]]))) > float(f(torch.tensor([[4.0]])))


def test_the_1d_critics_slope_is_the_soft_penalty_optimum(critics_1d):
    """For a linear critic f(x) = s x the loss s d + lam (|s| - 1)^2 is least at
    s = -(1 + d / (2 lam)) = -3 for d = 4, lam = 1 (the book's "about -3")."""
    f = critics_1d["WGAN-GP"]
    with torch.no_grad():
        slope = float(f(torch.tensor([[4.0]])) - f(torch.tensor([[0.0]]))) / 4
    assert slope == pytest.approx(-3.0, abs=0.4)


def test_trained_critics_1d_rejects_zero_steps():
    with pytest.raises(ValueError, match="steps"):
        experiments.trained_critics_1d(steps=0)


def test_spectral_norm_critic_run_starts_from_the_plain_d_and_keeps_every_layer_at_1():
    plain = experiments.critic_run(data.ring(), "minimax", steps=1, width=8, n_eval=10)
    sn = experiments.critic_run(data.ring(), "SN", steps=30, width=8, n_eval=10)
    weights = [m for m in plain.D.modules() if isinstance(m, torch.nn.Linear)]
    originals = [m.parametrizations.weight.original for m in sn.D.modules()
                 if isinstance(m, torch.nn.Linear)]  # fmt: skip
    assert len(weights) == len(originals) == 4
    fresh = experiments.build_players(data.ring(), "vanilla", 8, 0)[1]
    first = [m.weight for m in fresh.modules() if isinstance(m, torch.nn.Linear)]
    sn_start = models.spectral_normalise(experiments.build_players(data.ring(), "vanilla", 8, 0)[1])
    start = [m.parametrizations.weight.original for m in sn_start.modules()
             if isinstance(m, torch.nn.Linear)]  # fmt: skip
    for a, b in zip(first, start, strict=True):
        assert torch.equal(a, b)  # normalising keeps the initial weights
    sigmas = lipschitz.spectral_norms(sn.D)
    assert all(abs(s - 1) < 0.05 for s in sigmas), sigmas
