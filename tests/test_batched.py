"""ganlab.batched: S runs stacked are S runs of ``train.fit``, each on its own, to rounding."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import BATCH, WIDTH, NaNAfter
from torch.testing import assert_close

from ganlab import batched, data, experiments, losses, models, train

RING, GRID = data.ring(modes=8, radius=1.0, std=0.01), data.grid(side=5, spacing=2.0, std=0.05)
# Float tolerance for trained weights: a few steps of Adam at lr 1e-3 (the stacked matmuls sum
# in another order than nn.Linear's, and on another CPU in another order again).
TRAINED = {"atol": 2e-5, "rtol": 1e-4}


def builder(remedy: str, width: int = WIDTH):
    """(G, D) of ``remedy`` as the mode-collapse benchmark builds them, small."""
    build_D = experiments.REMEDIES[remedy].build_D
    return lambda: (models.MLPGenerator(2, 2, width), build_D(2, width))


def fit_alone(build, seed: int, dist, steps: int, **kw) -> tuple[torch.nn.Module, ...]:
    """What ``fit`` gives for ``seed``: seed_everything, build, fit."""
    train.seed_everything(seed)
    G, D = build()
    history = train.fit(G, D, dist, steps, batch_size=BATCH, seed=seed, progress=False, **kw)
    return G, D, history


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module, **tolerance) -> None:
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert_close(q, p, msg=lambda m, name=name: f"{name}: {m}", **tolerance)


# ----------------------------------------------------------------------------- StackedMLP


@pytest.mark.parametrize("remedy", ["vanilla", "PacGAN2", "PacGAN4", "minibatch std"])
def test_stacked_discriminators_score_each_run_as_its_model_does(remedy):
    _, build_D = builder(remedy)(), experiments.REMEDIES[remedy].build_D
    torch.manual_seed(0)
    Ds = [build_D(2, WIDTH) for _ in range(3)]
    x = torch.randn(3, 8, 2)
    scores = batched.StackedMLP(Ds)(x)
    assert_close(scores, torch.stack([D(x[s]) for s, D in enumerate(Ds)]))


def test_stacked_generators_and_unstack_give_each_model_back():
    torch.manual_seed(0)
    Gs = [models.MLPGenerator(2, 2, WIDTH, activation="leaky_relu") for _ in range(4)]
    G = batched.StackedMLP(Gs)
    z = torch.randn(4, 5, 2)
    assert_close(G(z), torch.stack([g(z[s]) for s, g in enumerate(Gs)]))
    for s, g in enumerate(Gs):
        assert_same_weights(g, G.unstack(s), atol=0, rtol=0)
    assert_close(G.sample(6, seed=3)[2], Gs[2].sample(6, seed=3))


def test_stacked_mlp_rejects_what_it_cannot_stack():
    with pytest.raises(ValueError, match="at least one model"):
        batched.StackedMLP([])
    with pytest.raises(TypeError, match="got a DCGANGenerator"):
        batched.StackedMLP([models.DCGANGenerator()])
    mixed = [models.MLPDiscriminator(2, WIDTH), models.MLPDiscriminator(2, WIDTH + 1)]
    with pytest.raises(ValueError, match=r"model 1 is a MLPDiscriminator with \[\(17, 2\)"):
        batched.StackedMLP(mixed)
    D = batched.StackedMLP([models.MLPDiscriminator(2, WIDTH)] * 2)
    with pytest.raises(ValueError, match=r"\(S, B, in\) = \(2, B, 2\).*got \(3, 4, 2\)"):
        D(torch.zeros(3, 4, 2))
    with pytest.raises(ValueError, match=r"run index in \[0, 2\), got 2"):
        D.unstack(2)


# ----------------------------------------------------------------------------- Adam per run


@pytest.mark.parametrize("fused", [False, True])
def test_adam_over_stacked_weights_is_one_adam_per_run(fused):
    """Adam is element-wise: m, v and the step of w[s] see only w[s]'s gradients."""
    torch.manual_seed(0)
    weights = torch.randn(3, 4, 5)
    stacked = torch.nn.Parameter(weights.clone())
    alone = [torch.nn.Parameter(weights[s].clone()) for s in range(3)]
    opt = torch.optim.Adam([stacked], lr=1e-2, betas=(0.5, 0.999), fused=fused)
    opts = [torch.optim.Adam([p], lr=1e-2, betas=(0.5, 0.999)) for p in alone]
    for _ in range(5):
        grads = torch.randn(3, 4, 5) * torch.tensor([1e-3, 1.0, 1e3])[:, None, None]
        stacked.grad = grads.clone()
        opt.step()
        for s, (p, o) in enumerate(zip(alone, opts, strict=True)):
            p.grad = grads[s].clone()
            o.step()
    assert_close(stacked.detach(), torch.stack([p.detach() for p in alone]))


# ----------------------------------------------------------------------------- fit_many = fit


@pytest.mark.parametrize(
    ("remedy", "overrides"),
    [("vanilla", {}), ("vanilla", {"lr_D": 1e-4, "real_label": 0.9}), ("PacGAN4", {}),
     ("minibatch std", {}), ("unrolled 5", {}), ("WGAN-GP", {})],
)  # fmt: skip
def test_first_steps_of_each_run_are_those_of_fit(remedy, overrides):
    """Runs of several seeds and data sets stacked: each run's weights and History after a few
    steps are fit's for its seed (WGAN-GP's interpolation weights too, from its own stream)."""
    build, steps, seeds = builder(remedy), 4, [3, 0, 5]
    kw = {**experiments.REMEDIES[remedy].config.changes(), **overrides}
    dists = [RING, GRID, RING]
    G, D, rngs = batched.stack_players(build, seeds)
    histories = batched.fit_many(G, D, dists, steps, seeds=seeds, batch_size=BATCH,
                                 penalty_generators=rngs, **kw)  # fmt: skip
    for s, seed in enumerate(seeds):
        G_alone, D_alone, history = fit_alone(build, seed, dists[s], steps, **kw)
        assert_same_weights(G_alone, G.unstack(s), **TRAINED)
        assert_same_weights(D_alone, D.unstack(s), **TRAINED)
        columns = ["loss_G", "p_real", "p_fake", "grad_norm_D", "grad_norm_G"]
        if "penalty" not in kw:  # with a penalty fit_many's loss_D leaves it out
            columns.append("loss_D")
        for column in columns:
            assert_close(getattr(histories[s], column), getattr(history, column), **TRAINED)
        assert histories[s].step == history.step


def rmsprop_clipping() -> tuple[dict, float]:
    """The settings of chapter 6's "WGAN (clipping)" (its optimiser aside) and its lr."""
    kw = experiments.CRITICS["WGAN (clipping)"].config.changes()
    assert kw.pop("optimizer") == "rmsprop" and kw["lr_D"] == kw["lr_G"]
    return kw, kw["lr_D"]


def test_weight_clipping_with_rmsprop_is_that_of_fit():
    """Chapter 6's WGAN (clipping): Wasserstein loss, 5 critic steps, D clamped into
    [-0.01, 0.01] after each, RMSprop(5e-5) for both players over the stacked parameters:
    each run's weights and History after a few steps are fit's for its seed."""
    build, steps, seeds = builder("vanilla"), 3, [3, 0, 5]
    kw, lr = rmsprop_clipping()
    dists = [RING, GRID, RING]
    G, D, _ = batched.stack_players(build, seeds)
    rms = {"opt_D": torch.optim.RMSprop(D.parameters(), lr=lr),
           "opt_G": torch.optim.RMSprop(G.parameters(), lr=lr)}  # fmt: skip
    histories = batched.fit_many(G, D, dists, steps, seeds=seeds, batch_size=BATCH, **rms, **kw)
    c = kw["weight_clip"]
    assert all(bool((p.abs() <= c).all()) for p in D.parameters())
    for s, seed in enumerate(seeds):
        train.seed_everything(seed)
        G_alone, D_alone = build()
        history = train.fit(
            G_alone, D_alone, dists[s], steps, batch_size=BATCH, seed=seed, progress=False,
            opt_D=torch.optim.RMSprop(D_alone.parameters(), lr=lr),
            opt_G=torch.optim.RMSprop(G_alone.parameters(), lr=lr), **kw,
        )  # fmt: skip
        assert_same_weights(G_alone, G.unstack(s), **TRAINED)
        assert_same_weights(D_alone, D.unstack(s), **TRAINED)
        for column in ["loss_D", "loss_G", "p_real", "p_fake", "grad_norm_D", "grad_norm_G"]:
            assert_close(getattr(histories[s], column), getattr(history, column), **TRAINED)


@pytest.mark.parametrize("c", [0.0, -0.01, float("nan"), "0.01x"])
def test_a_bad_weight_clip_is_named(c):
    G, D, _ = batched.stack_players(builder("vanilla"), [0, 1])
    with pytest.raises(ValueError, match=f"weight_clip must be a positive.*got {c!r}"):
        batched.fit_many(G, D, RING, 1, seeds=[0, 1], loss="wasserstein", weight_clip=c)


def test_a_run_is_the_same_whichever_runs_share_its_batch():
    build = builder("minibatch std")  # batch statistics: the likeliest to leak between runs
    G_first, D_first, _ = batched.stack_players(build, [7, 1])
    batched.fit_many(G_first, D_first, [RING, GRID], 5, seeds=[7, 1], batch_size=BATCH)
    G, D, _ = batched.stack_players(build, [2, 4, 7])
    batched.fit_many(G, D, [GRID, GRID, RING], 5, seeds=[2, 4, 7], batch_size=BATCH)
    assert_same_weights(G_first.unstack(0), G.unstack(2), **TRAINED)
    assert_same_weights(D_first.unstack(0), D.unstack(2), **TRAINED)


def test_continuing_is_training_longer():
    build = builder("vanilla")
    G, D, _ = batched.stack_players(build, [0, 1])
    batched.fit_many(G, D, RING, 6, seeds=[0, 1], batch_size=BATCH)
    G2, D2, _ = batched.stack_players(build, [0, 1])
    generators = [torch.Generator().manual_seed(s) for s in (0, 1)]
    opt_D = batched.adam_for(D2, 1e-3, train.ADAM_BETAS)
    opt_G = batched.adam_for(G2, 1e-3, train.ADAM_BETAS)
    kw = {"seeds": generators, "batch_size": BATCH, "opt_D": opt_D, "opt_G": opt_G}
    histories = batched.fit_many(G2, D2, RING, 2, **kw)
    batched.fit_many(G2, D2, RING, 4, histories=histories, **kw)
    assert histories[1].step == [1, 2, 3, 4, 5, 6]
    assert_same_weights(G.unstack(1), G2.unstack(1), **TRAINED)


def test_a_diverging_run_is_recorded_and_leaves_the_others_alone():
    build = builder("vanilla")
    G, D, _ = batched.stack_players(build, [0, 1])
    histories = batched.fit_many(G, D, [RING, NaNAfter(RING, 3)], 5, seeds=[0, 1],
                                 batch_size=BATCH)  # fmt: skip
    step, name, value = batched.diverged(histories[1])
    assert (step, name) == (3, "loss_D") and math.isnan(value)
    assert batched.diverged(histories[0]) is None
    G_alone, _, _ = fit_alone(build, 0, RING, 5)
    assert_same_weights(G_alone, G.unstack(0), **TRAINED)


def test_fit_many_names_what_is_wrong():
    build = builder("PacGAN4")
    G, D, _ = batched.stack_players(build, [0, 1])
    with pytest.raises(ValueError, match=r"seeds must hold one entry per run \(2\), got 3"):
        batched.fit_many(G, D, RING, 1, seeds=[0, 1, 2])
    with pytest.raises(ValueError, match="multiple of D's pack 4, got 30"):
        batched.fit_many(G, D, RING, 1, seeds=[0, 1], batch_size=30)
    with pytest.raises(ValueError, match="G must be stacked generators"):
        batched.fit_many(D, G, RING, 1, seeds=[0, 1])
    with pytest.raises(TypeError, match="G must be a StackedMLP"):
        batched.fit_many(models.MLPGenerator(), D, RING, 1, seeds=[0, 1])
    G3, _, _ = batched.stack_players(build, [0, 1, 2])
    with pytest.raises(ValueError, match="G stacks 3 runs but D stacks 2"):
        batched.fit_many(G3, D, RING, 1, seeds=[0, 1])
    with pytest.raises(ValueError, match="unknown loss kind 'minmax'"):
        batched.fit_many(G, D, RING, 1, seeds=[0, 1], loss="minmax")


# ----------------------------------------------------------------------------- the penalty hook


def test_wgan_gp_with_e_given_is_wgan_gp_drawing_that_e():
    quad = lambda v: 0.5 * v.pow(2).sum(1)  # noqa: E731
    x_real, x_fake = torch.randn(6, 2), torch.randn(6, 2)
    torch.manual_seed(7)
    drawn = losses.wgan_gp(3.0)(quad, x_real, x_fake)
    torch.manual_seed(7)
    e = torch.rand(6)
    assert_close(losses.wgan_gp(3.0)(quad, x_real, x_fake, e=e), drawn)
    with pytest.raises(ValueError, match=r"one interpolation weight per sample, shape \(6,\)"):
        losses.wgan_gp(3.0)(quad, x_real, x_fake, e=torch.rand(6, 1))


def test_per_run_loss_is_the_loss_of_each_run():
    d_real, d_fake = torch.randn(4, 9), torch.randn(4, 9)
    expected = torch.stack([losses.d_loss_minimax(d_real[s], d_fake[s]) for s in range(4)])
    assert_close(batched.per_run(losses.d_loss_minimax)(d_real, d_fake), expected)
