"""ganlab.train: Algorithm 1 (d_step, g_step, fit), History, device, seed and divergence;
weight clipping and penalties in the D step."""

from __future__ import annotations

import copy
import math
import random
import re

import numpy as np
import pytest
import torch
from conftest import (
    BATCH,
    NaNAfter,
    assert_params_equal,
    noise,
    params,
)
from torch.testing import assert_close

from ganlab import data, gradients, losses, models, train

RING = data.ring()
ADAM = {"lr": 1e-3, "betas": (0.5, 0.999)}  # fit's default optimiser settings
QUIET = {"batch_size": BATCH, "progress": False}


class CountingSampler:
    """Wraps a toy and keeps every batch it hands out."""

    def __init__(self, dist: data.GaussianMixture) -> None:
        self.dist = dist
        self.batches: list[torch.Tensor] = []

    def sample(self, n: int, seed: torch.Generator | int | None = None) -> torch.Tensor:
        x = self.dist.sample(n, seed=seed)
        self.batches.append(x)
        return x


# ----------------------------------------------------------------------------- device, seed


@pytest.mark.skipif(
    torch.cuda.is_available() or torch.backends.mps.is_available(), reason="has an accelerator"
)
def test_get_device_is_cpu_here():
    device = train.get_device()
    assert isinstance(device, torch.device)
    assert device.type == "cpu"


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_get_device_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert train.get_device() == torch.device(expected)


def test_seed_everything_returns_a_generator_seeded_with_seed():
    generator = train.seed_everything(5)
    assert isinstance(generator, torch.Generator)
    assert torch.equal(generator.get_state(), torch.Generator().manual_seed(5).get_state())


def test_seed_everything_seeds_python_numpy_and_torch():
    train.seed_everything(3)
    first = (random.random(), np.random.rand(), torch.rand(3))
    train.seed_everything(3)
    again = (random.random(), np.random.rand(), torch.rand(3))
    assert first[:2] == again[:2]
    assert torch.equal(first[2], again[2])


def test_seed_everything_makes_model_init_identical(make_models):
    G1, D1 = make_models(seed=0)
    G2, D2 = make_models(seed=0)
    G3, _ = make_models(seed=1)
    assert_params_equal(G2, params(G1))
    assert_params_equal(D2, params(D1))
    assert not torch.equal(next(G3.parameters()), next(G1.parameters()))


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_seed_everything_rejects_bad_seeds_naming_them(seed):
    with pytest.raises(ValueError, match=re.escape(repr(seed))):
        train.seed_everything(seed)


# ----------------------------------------------------------------------------- d_step, g_step


def test_d_step_descends_the_d_loss_and_reports_pre_update_stats(make_models):
    """With SGD: theta_D <- theta_D - lr * grad loss_D(D(x_real), D(G(z)))."""
    G, D = make_models()
    x_real = RING.sample(BATCH, seed=1)
    z = torch.randn(BATCH, 2, generator=torch.Generator().manual_seed(2))
    D_before, G_before = copy.deepcopy(D), params(G)
    d_real, d_fake = D_before(x_real), D_before(G(z).detach())
    loss_D = losses.d_loss_minimax(d_real, d_fake)
    grads = torch.autograd.grad(loss_D, list(D_before.parameters()))

    stats = train.d_step(G, D, x_real, z, torch.optim.SGD(D.parameters(), lr=0.1))

    for p, p0, g in zip(D.parameters(), D_before.parameters(), grads, strict=True):
        assert_close(p.detach(), p0.detach() - 0.1 * g)
    assert_close(stats["loss_D"], loss_D.item())
    assert_close(stats["p_real"], torch.sigmoid(d_real).mean().item())
    assert_close(stats["p_fake"], torch.sigmoid(d_fake).mean().item())
    assert_close(stats["grad_norm_D"], torch.sqrt(sum(g.pow(2).sum() for g in grads)).item())
    # G is untouched: same parameters, no gradients
    assert_params_equal(G, G_before)
    assert all(p.grad is None for p in G.parameters())


class CountingCalls(torch.nn.Module):
    """Wraps a D and counts its calls."""

    def __init__(self, D: torch.nn.Module) -> None:
        super().__init__()
        self.D, self.calls = D, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.D(x)


@pytest.mark.parametrize("d_loss", [losses.d_loss_minimax, losses.d_loss_hinge])
def test_d_step_in_one_pass_gives_the_two_pass_update(make_models, d_loss):
    """one_pass=True: D scores [x_real; x_fake] in one call; the same update up to rounding."""
    G, D = make_models()
    x_real = RING.sample(BATCH, seed=1)
    z = torch.randn(BATCH, 2, generator=torch.Generator().manual_seed(2))
    D_one = CountingCalls(copy.deepcopy(D))
    expected = train.d_step(G, D, x_real, z, torch.optim.Adam(D.parameters(), **ADAM), d_loss)
    opt = torch.optim.Adam(D_one.parameters(), **ADAM)
    stats = train.d_step(G, D_one, x_real, z, opt, d_loss, one_pass=True)
    assert D_one.calls == 1
    assert stats.keys() == expected.keys()
    for name, value in expected.items():
        assert_close(stats[name], value, rtol=1e-5, atol=1e-7)
    assert_close(params(D_one.D), params(D), rtol=1e-5, atol=1e-7)


def test_g_step_descends_the_g_loss_and_leaves_D_alone(make_models):
    """With SGD: theta_G <- theta_G - lr * grad g_loss(D(G(z))); D's parameters and grads untouched.

    g_step backpropagates through D to x but computes no gradient for D's weights.
    """
    G, D = make_models()
    z = torch.randn(BATCH, 2, generator=torch.Generator().manual_seed(3))
    G_before, D_before = copy.deepcopy(G), params(D)
    loss_G = losses.g_loss_nonsaturating(D(G_before(z)))
    grads = torch.autograd.grad(loss_G, list(G_before.parameters()))
    for p in D.parameters():  # gradients left by an earlier D step must not be added to
        p.grad = torch.ones_like(p)

    stats = train.g_step(
        G, D, z, torch.optim.SGD(G.parameters(), lr=0.1), losses.g_loss_nonsaturating
    )

    for p, p0, g in zip(G.parameters(), G_before.parameters(), grads, strict=True):
        assert_close(p.detach(), p0.detach() - 0.1 * g)
    assert_close(stats["loss_G"], loss_G.item())
    assert_close(stats["grad_norm_G"], torch.sqrt(sum(g.pow(2).sum() for g in grads)).item())
    assert_params_equal(D, D_before)
    for p in D.parameters():
        assert_close(p.grad, torch.ones_like(p))
        assert p.requires_grad  # D's flags are restored after the G step


def test_sample_real_from_a_tensor_draws_rows_with_the_generator():
    table = torch.arange(20.0).reshape(10, 2)
    batch = train.sample_real(table, 6, torch.Generator().manual_seed(0), torch.device("cpu"))
    rows = torch.randint(10, (6,), generator=torch.Generator().manual_seed(0))
    assert torch.equal(batch, table[rows])


# ----------------------------------------------------------------------------- fit


def test_first_fit_step_is_algorithm_1_by_hand(make_models):
    """One step of fit == draw x_real, z; Adam step on loss_D; draw z; Adam step on loss_G.

    Uses loss="saturating" and real_label=0.9 so both options are seen to reach the losses.
    """
    G, D = make_models()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    history = train.fit(G, D, RING, steps=1, loss="saturating", real_label=0.9, seed=0, **QUIET)

    generator = torch.Generator().manual_seed(0)
    opt_D = torch.optim.Adam(D_ref.parameters(), **ADAM)
    opt_G = torch.optim.Adam(G_ref.parameters(), **ADAM)
    x_real = RING.sample(BATCH, seed=generator)
    z = torch.randn(BATCH, 2, generator=generator)
    d_real, d_fake = D_ref(x_real), D_ref(G_ref(z).detach())
    loss_D = losses.d_loss_minimax(d_real, d_fake, real_label=0.9)
    opt_D.zero_grad()
    loss_D.backward()
    grad_norm_D = gradients.grad_norm(D_ref)
    opt_D.step()
    z = torch.randn(BATCH, 2, generator=generator)
    loss_G = losses.g_loss_saturating(D_ref(G_ref(z)))
    opt_G.zero_grad()
    loss_G.backward()
    grad_norm_G = gradients.grad_norm(G_ref)
    opt_G.step()

    expected = {
        "step": 1,
        "loss_D": loss_D.item(),
        "loss_G": loss_G.item(),
        "p_real": torch.sigmoid(d_real).mean().item(),
        "p_fake": torch.sigmoid(d_fake).mean().item(),
        "grad_norm_D": grad_norm_D,
        "grad_norm_G": grad_norm_G,
    }
    assert_close(history.last(), expected)
    for p, q in zip(G.parameters(), G_ref.parameters(), strict=True):
        assert_close(p, q)
    for p, q in zip(D.parameters(), D_ref.parameters(), strict=True):
        assert_close(p, q)


def test_history_has_one_finite_row_per_step(make_models):
    G, D = make_models()
    history = train.fit(G, D, RING, steps=20, seed=0, **QUIET)
    columns = history.as_dict()
    assert list(columns) == [
        "step",
        "loss_D",
        "loss_G",
        "p_real",
        "p_fake",
        "grad_norm_D",
        "grad_norm_G",
    ]
    assert len(history) == 20
    assert history.step == list(range(1, 21))
    assert all(len(column) == 20 for column in columns.values())
    assert all(math.isfinite(v) for column in columns.values() for v in column)
    assert all(0.0 <= v <= 1.0 for v in history.p_real + history.p_fake)
    assert all(v >= 0.0 for v in history.grad_norm_D + history.grad_norm_G)
    assert history.last() == {name: column[-1] for name, column in columns.items()}


def test_empty_history_last_raises():
    with pytest.raises(IndexError, match="empty"):
        train.History().last()


def test_fit_is_deterministic_under_a_seed(make_models):
    """seed_everything(0) + models + fit(seed=0) twice: identical History and weights."""
    G1, D1 = make_models(seed=0)
    h1 = train.fit(G1, D1, RING, steps=20, seed=0, **QUIET)
    G2, D2 = make_models(seed=0)
    h2 = train.fit(G2, D2, RING, steps=20, seed=0, **QUIET)
    assert h1.as_dict() == h2.as_dict()  # exact equality, every column
    assert_params_equal(G2, params(G1))
    assert_params_equal(D2, params(D1))
    # ... and the comparison can tell: another data seed gives another History
    G3, D3 = make_models(seed=0)
    h3 = train.fit(G3, D3, RING, steps=20, seed=1, **QUIET)
    assert h3.loss_D != h1.loss_D


def test_d_steps_k_does_k_D_updates_per_step_each_on_a_fresh_real_batch(make_models):
    G, D = make_models()
    sampler = CountingSampler(RING)
    opt_D = torch.optim.Adam(D.parameters(), **ADAM)
    opt_G = torch.optim.Adam(G.parameters(), **ADAM)
    steps = 4
    history = train.fit(G, D, sampler, steps=steps, d_steps=3, opt_D=opt_D, opt_G=opt_G, **QUIET)
    assert len(history) == steps
    assert all(int(opt_D.state[p]["step"]) == 3 * steps for p in D.parameters())
    assert all(int(opt_G.state[p]["step"]) == steps for p in G.parameters())
    assert len(sampler.batches) == 3 * steps
    for i in range(len(sampler.batches)):
        for j in range(i):
            assert not torch.equal(sampler.batches[i], sampler.batches[j])


def test_callback_runs_every_k_steps_and_at_the_end(make_models):
    G, D = make_models()
    calls = []

    def callback(step, history, G_arg, D_arg):
        calls.append((step, len(history), history, G_arg, D_arg))

    history = train.fit(G, D, RING, steps=10, every=4, callback=callback, **QUIET)
    assert [c[0] for c in calls] == [4, 8, 10]
    assert [c[1] for c in calls] == [4, 8, 10]  # the History holds the step being reported
    assert all(c[2] is history and c[3] is G and c[4] is D for c in calls)


def test_callback_is_not_repeated_when_the_last_step_is_a_multiple(make_models):
    G, D = make_models()
    first, second = [], []
    train.fit(
        G,
        D,
        RING,
        steps=8,
        every=4,
        callback=[lambda s, *_: first.append(s), lambda s, *_: second.append(s)],
        **QUIET,
    )
    assert first == second == [4, 8]


def test_fit_continues_numbering_and_callbacks_from_a_history(make_models):
    G, D = make_models()
    opt_D = torch.optim.Adam(D.parameters(), **ADAM)
    opt_G = torch.optim.Adam(G.parameters(), **ADAM)
    history = train.fit(G, D, RING, steps=5, opt_D=opt_D, opt_G=opt_G, **QUIET)
    calls = []
    again = train.fit(
        G,
        D,
        RING,
        steps=5,
        opt_D=opt_D,
        opt_G=opt_G,
        history=history,
        every=3,
        callback=lambda s, *_: calls.append(s),
        **QUIET,
    )
    assert again is history
    assert history.step == list(range(1, 11))
    assert calls == [6, 9, 10]
    assert all(int(opt_D.state[p]["step"]) == 10 for p in D.parameters())


def test_continuing_with_the_same_generator_and_optimisers_equals_one_long_run(make_models):
    G1, D1 = make_models()
    long = train.fit(G1, D1, RING, steps=10, seed=torch.Generator().manual_seed(7), **QUIET)

    G2, D2 = make_models()
    generator = torch.Generator().manual_seed(7)
    opt = {
        "opt_D": torch.optim.Adam(D2.parameters(), **ADAM),
        "opt_G": torch.optim.Adam(G2.parameters(), **ADAM),
    }
    split = train.fit(G2, D2, RING, steps=6, seed=generator, **opt, **QUIET)
    split = train.fit(G2, D2, RING, steps=4, seed=generator, history=split, **opt, **QUIET)
    assert split.as_dict() == long.as_dict()
    assert_params_equal(G2, params(G1))
    assert_params_equal(D2, params(D1))


def test_fit_accepts_a_tensor_dataset(make_models):
    G, D = make_models()
    dataset = RING.sample(500, seed=1)
    history = train.fit(G, D, dataset, steps=5, **QUIET)
    assert history.step == [1, 2, 3, 4, 5]
    assert all(math.isfinite(v) for v in history.loss_D + history.loss_G)


BAD_ARGS = [
    ({"steps": 0}, "steps must be a positive integer, got 0"),
    ({"steps": -1}, "steps must be a positive integer, got -1"),
    ({"d_steps": 0}, "d_steps (k, the D updates per G update) must be a positive integer, got 0"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"every": 0}, "every must be a positive integer, got 0"),
    ({"lr_D": 0.0}, "lr_D must be a positive finite number, got 0.0"),
    ({"lr_G": -1e-3}, "lr_G must be a positive finite number, got -0.001"),
    ({"loss": "wgan"}, "unknown loss kind 'wgan'"),
    ({"real_label": 1.5}, "real_label must lie in [0, 1], got 1.5"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_ARGS, ids=[str(k) for k, _ in BAD_ARGS])
def test_fit_rejects_bad_arguments_naming_them(make_models, kwargs, message):
    G, D = make_models()
    before = params(G) + params(D)
    arguments = {"steps": 3, **QUIET, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        train.fit(G, D, RING, **arguments)
    assert_params_equal(torch.nn.ModuleList([G, D]), before)  # nothing was trained


def test_real_label_is_refused_for_a_non_minimax_d_loss(make_models, monkeypatch):
    """Only the minimax D loss takes real_label; any other D loss in GAN_LOSSES refuses it."""

    def other_d_loss(d_real, d_fake):
        return losses.d_loss_minimax(d_real, d_fake)

    monkeypatch.setitem(losses.GAN_LOSSES, "other", (other_d_loss, losses.g_loss_nonsaturating))
    G, D = make_models()
    with pytest.raises(ValueError, match="real_label applies only to the minimax D loss.*'other'"):
        train.fit(G, D, RING, steps=1, loss="other", real_label=0.9, **QUIET)
    assert len(train.fit(G, D, RING, steps=1, loss="other", **QUIET)) == 1


def test_fit_with_G_output_not_matching_D_input_names_the_shapes(make_models):
    train.seed_everything(0)
    G = models.MLPGenerator(latent_dim=2, out_dim=3, width=16, depth=1)
    D = models.MLPDiscriminator(in_dim=2, width=16, depth=1)
    with pytest.raises(ValueError, match=re.escape(f"(B, 2), got ({BATCH}, 3)")):
        train.fit(G, D, RING, steps=1, **QUIET)


def test_fit_with_data_not_matching_D_input_names_the_shapes(make_models):
    G, D = make_models(dim=3)
    with pytest.raises(ValueError, match=re.escape(f"(B, 3), got ({BATCH}, 2)")):
        train.fit(G, D, RING, steps=1, **QUIET)


def test_fit_rejects_data_without_sample_and_G_without_latent_dim(make_models):
    G, D = make_models()
    with pytest.raises(TypeError, match="data must be a tensor or have a sample"):
        train.fit(G, D, [[0.0, 0.0]], steps=1, **QUIET)
    plain_G = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="Sequential has no latent_dim"):
        train.fit(plain_G, D, RING, steps=1, **QUIET)


# ----------------------------------------------------------------------------- divergence


def test_nan_d_loss_raises_training_diverged_with_the_history_before_it(make_models):
    G, D = make_models()
    with pytest.raises(train.TrainingDiverged, match=r"diverged at step 6: loss_D = nan") as info:
        train.fit(G, D, NaNAfter(RING, start=6), steps=20, **QUIET)
    error = info.value
    assert isinstance(error, RuntimeError)
    assert (error.step, error.loss_name) == (6, "loss_D")
    assert math.isnan(error.value)
    assert error.history.step == [1, 2, 3, 4, 5]
    assert all(math.isfinite(v) for v in error.history.loss_D)


def test_nan_g_loss_names_loss_G_and_the_step(make_models):
    """D returns NaN only on G's pass (its input needs grad) from the 4th G step on."""

    class NaNOnGStep(models.MLPDiscriminator):
        g_calls = 0

        def forward(self, x):
            out = super().forward(x)
            if x.requires_grad:
                self.g_calls += 1
                if self.g_calls >= 4:
                    return out * math.nan
            return out

    train.seed_everything(0)
    G = models.MLPGenerator(width=16, depth=2)
    D = NaNOnGStep(width=16, depth=2)
    with pytest.raises(train.TrainingDiverged, match="step 4: loss_G = nan") as info:
        train.fit(G, D, RING, steps=10, **QUIET)
    assert (info.value.step, info.value.loss_name, len(info.value.history)) == (4, "loss_G", 3)


def test_nan_in_a_tensor_dataset_diverges_at_step_1(make_models):
    G, D = make_models()
    with pytest.raises(train.TrainingDiverged, match="step 1: loss_D") as info:
        train.fit(G, D, torch.full((100, 2), math.nan), steps=5, **QUIET)
    assert len(info.value.history) == 0


# ----------------------------------------------------------------------------- FitConfig


def test_fit_with_a_config_is_fit_with_its_settings_as_keywords(make_models):
    """One run, two spellings: fit(config) and fit(**settings) take the same steps."""
    config = train.FitConfig(loss="saturating", d_steps=2, lr_D=2e-3, batch_size=32)
    runs = []
    for how in ({"config": config}, config.changes()):
        G, D = make_models(seed=0)
        runs.append(train.fit(G, D, RING, steps=3, seed=1, progress=False, **how))
    assert runs[0].as_dict() == runs[1].as_dict()


def test_settings_override_the_config_and_unknown_ones_are_named():
    config = train.configure(train.FitConfig(lr_D=5e-4), lr_G=2e-4)
    assert (config.lr_D, config.lr_G) == (5e-4, 2e-4)
    assert train.configure().changes() == {}
    assert config.changes() == {"lr_D": 5e-4, "lr_G": 2e-4}
    with pytest.raises(TypeError, match=r"unknown training setting\(s\) \['lr'\]; FitConfig has"):
        train.configure(lr=1e-3)
    with pytest.raises(TypeError, match="config must be a FitConfig, got dict"):
        train.configure({"lr_D": 1e-3})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"loss": "wgan"}, "unknown loss kind 'wgan'"),
     ({"batch_size": 0}, "batch_size must be a positive integer"),
     ({"d_steps": 1.5}, r"d_steps \(k, the D updates per G update\) must be a positive integer"),
     ({"lr_G": -1.0}, "lr_G must be a positive"),
     ({"unroll_steps": -1}, "unroll_steps must be an integer >= 0, got -1"),
     ({"weight_clip": 0.0}, "weight_clip must be a positive"),
     ({"optimizer": "adagrad"}, r"unknown optimizer 'adagrad'; expected one of \['adam'"),
     ({"optimizer": "rmsprop", "betas": (0.0, 0.9)}, "betas are Adam's, not 'rmsprop''s"),
     ({"real_label": 1.1}, r"real_label must lie in \[0, 1\], got 1.1"),
     ({"loss": "hinge", "real_label": 0.9}, "real_label applies only to the minimax D loss")],
)  # fmt: skip
def test_a_bad_setting_is_named_when_the_config_is_made(settings, message):
    with pytest.raises(ValueError, match=message):
        train.FitConfig(**settings)


def test_make_optimizers_builds_the_configs_optimizer_for_each_player(make_models):
    G, D = make_models(seed=0)
    opt_D, opt_G = train.make_optimizers(train.FitConfig(lr_D=1e-4, betas=(0.0, 0.9)), G, D)
    assert isinstance(opt_D, torch.optim.Adam) and opt_D.param_groups[0]["lr"] == 1e-4
    assert opt_G.param_groups[0]["betas"] == (0.0, 0.9) and opt_G.param_groups[0]["lr"] == 1e-3
    assert {id(p) for p in opt_D.param_groups[0]["params"]} == {id(p) for p in D.parameters()}
    opt_D, opt_G = train.make_optimizers(train.FitConfig(optimizer="rmsprop", lr_G=5e-5), G, D)
    assert isinstance(opt_G, torch.optim.RMSprop) and opt_G.param_groups[0]["lr"] == 5e-5


def test_label_smoothing_reaches_the_d_loss():
    d_loss, g_loss = train.FitConfig(real_label=0.9).losses()
    d_real, d_fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5])
    assert_close(d_loss(d_real, d_fake), losses.d_loss_minimax(d_real, d_fake, real_label=0.9))
    assert g_loss is losses.g_loss_nonsaturating


# ----------------------------------------------------------------------------- weight clipping


def test_clip_weights_clamps_every_parameter_and_keeps_the_values_inside():
    torch.manual_seed(0)
    D = models.MLPDiscriminator(width=8, depth=2)
    with torch.no_grad():
        for p in D.parameters():
            p.normal_(0.0, 1.0)
    before = params(D)
    train.clip_weights(D, 0.3)
    c = torch.tensor(0.3)  # float32, as the parameters
    for p, q in zip(D.parameters(), before, strict=True):
        p = p.detach()
        assert bool((p.abs() <= c).all())
        inside = q.abs() <= c
        assert torch.equal(p[inside], q[inside])  # untouched, bit for bit
        assert torch.equal(p[~inside], c * q[~inside].sign())  # clamped to the nearer bound
    flat = torch.cat([q.flatten() for q in before])
    assert bool((flat.abs() < c).any()) and bool((flat > c).any()) and bool((flat < -c).any())


@pytest.mark.parametrize("c", [0, 0.0, -0.01, float("nan"), float("inf")])
def test_clip_weights_rejects_a_non_positive_bound(c):
    D = models.MLPDiscriminator(width=4, depth=1)
    before = params(D)
    with pytest.raises(ValueError, match=r"c \(the clipping bound\) must be a positive"):
        train.clip_weights(D, c)
    for p, q in zip(D.parameters(), before, strict=True):
        assert torch.equal(p, q)


def test_fit_with_weight_clip_clips_D_after_every_D_step_by_hand(make_models):
    """WGAN (Arjovsky et al. 2017): k = 2 RMSprop critic steps, each followed by clamping D
    into [-c, c], then one G step; the same by hand. G is not clipped."""
    c = 0.01
    G, D = make_models()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    history = train.fit(G, D, RING, steps=1, d_steps=2, loss="wasserstein", weight_clip=c,
                        opt_D=torch.optim.RMSprop(D.parameters(), lr=5e-5), seed=0,
                        **QUIET)  # fmt: skip

    generator = torch.Generator().manual_seed(0)
    opt_D = torch.optim.RMSprop(D_ref.parameters(), lr=5e-5)
    opt_G = torch.optim.Adam(G_ref.parameters(), **ADAM)
    for _ in range(2):
        x_real = RING.sample(BATCH, seed=generator)
        z = torch.randn(BATCH, 2, generator=generator)
        loss_D = D_ref(G_ref(z).detach()).mean() - D_ref(x_real).mean()
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
        with torch.no_grad():
            for p in D_ref.parameters():
                p.copy_(p.clamp(-c, c))
    z = torch.randn(BATCH, 2, generator=generator)
    loss_G = -D_ref(G_ref(z)).mean()
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()

    assert_close(history.loss_D[-1], loss_D.item())
    assert_close(history.loss_G[-1], loss_G.item())
    for p, q in zip(list(G.parameters()) + list(D.parameters()),
                    list(G_ref.parameters()) + list(D_ref.parameters()), strict=True):  # fmt: skip
        assert_close(p, q)
    d_params = torch.cat([p.detach().flatten() for p in D.parameters()])
    assert float(d_params.abs().max()) <= c
    assert int((d_params.abs() == c).sum()) > len(d_params) // 2  # most sit on the bound
    assert max(float(p.detach().abs().max()) for p in G.parameters()) > 10 * c


def test_fit_without_weight_clip_leaves_D_unclipped(make_models):
    G, D = make_models()
    train.fit(G, D, RING, steps=2, loss="wasserstein", seed=0, **QUIET)
    assert max(float(p.detach().abs().max()) for p in D.parameters()) > 0.1


@pytest.mark.parametrize("c", [-1, 0.0, float("nan")])
def test_fit_rejects_a_non_positive_weight_clip_before_training(make_models, c):
    G, D = make_models()
    before = params(D)
    with pytest.raises(ValueError, match="weight_clip must be a positive"):
        train.fit(G, D, RING, steps=1, loss="wasserstein", weight_clip=c, **QUIET)
    for p, q in zip(D.parameters(), before, strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize(
    ("loss", "d_loss", "g_loss"),
    [
        (
            "hinge",
            lambda r, f: (1 - r).clamp(min=0).mean() + (1 + f).clamp(min=0).mean(),
            lambda f: -f.mean(),
        ),
        (
            "least_squares",
            lambda r, f: ((r - 1) ** 2).mean() / 2 + (f**2).mean() / 2,
            lambda f: ((f - 1) ** 2).mean() / 2,
        ),
    ],
)
def test_first_fit_step_with_hinge_or_least_squares_is_by_hand(make_models, loss, d_loss, g_loss):
    G, D = make_models()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    history = train.fit(G, D, RING, steps=3, loss=loss, seed=0, **QUIET)
    assert len(history) == 3
    assert all(math.isfinite(v) for v in history.loss_D + history.loss_G)

    generator = torch.Generator().manual_seed(0)
    opt_D = torch.optim.Adam(D_ref.parameters(), **ADAM)
    opt_G = torch.optim.Adam(G_ref.parameters(), **ADAM)
    for step in range(3):
        x_real = RING.sample(BATCH, seed=generator)
        z = torch.randn(BATCH, 2, generator=generator)
        loss_D = d_loss(D_ref(x_real), D_ref(G_ref(z).detach()))
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
        z = torch.randn(BATCH, 2, generator=generator)
        loss_G = g_loss(D_ref(G_ref(z)))
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()
        assert_close(history.loss_D[step], loss_D.item())
        assert_close(history.loss_G[step], loss_G.item())
    for p, q in zip(D.parameters(), D_ref.parameters(), strict=True):
        assert_close(p, q)


# ----------------------------------------------------------------------------- d_step penalty


@pytest.mark.parametrize("penalty", [losses.r1(3.0), losses.wgan_gp(2.0)], ids=["r1", "wgan_gp"])
def test_d_step_adds_the_penalty_to_loss_and_gradient(make_models, penalty):
    """With SGD: loss_D = d_loss + penalty, theta <- theta - lr grad(d_loss + penalty)."""
    G, D = make_models()
    D_plain, D_ref = copy.deepcopy(D), copy.deepcopy(D)
    x_real, z = RING.sample(BATCH, seed=1), noise(BATCH, 2)
    x_fake = G(z).detach()
    torch.manual_seed(11)  # the WGAN-GP interpolation draws from the global generator
    pen = penalty(D_ref, x_real, x_fake)
    total = losses.d_loss_minimax(D_ref(x_real), D_ref(x_fake)) + pen
    grads = torch.autograd.grad(total, list(D_ref.parameters()))

    plain = train.d_step(G, D_plain, x_real, z, torch.optim.SGD(D_plain.parameters(), lr=0.1))
    torch.manual_seed(11)
    stats = train.d_step(G, D, x_real, z, torch.optim.SGD(D.parameters(), lr=0.1), penalty=penalty)

    assert pen.item() > 1e-3
    assert_close(stats["loss_D"], plain["loss_D"] + pen.item())
    assert_close(stats["loss_D"], total.item())
    assert (stats["p_real"], stats["p_fake"]) == (plain["p_real"], plain["p_fake"])
    assert_close(stats["grad_norm_D"], torch.sqrt(sum(g.pow(2).sum() for g in grads)).item())
    for p, p0, g in zip(D.parameters(), D_ref.parameters(), grads, strict=True):
        assert_close(p.detach(), p0.detach() - 0.1 * g)


def test_fit_passes_the_penalty_to_every_d_step(make_models):
    """Step 1 of fit draws the same first batch with or without a penalty: the loss_D
    values differ by the R1 penalty of the initial D on that batch."""
    G, D = make_models()
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    x_real = RING.sample(BATCH, seed=torch.Generator().manual_seed(0))
    expected = losses.r1_penalty(copy.deepcopy(D), x_real, 5.0).item()
    quiet = {"batch_size": BATCH, "progress": False, "seed": 0}
    plain = train.fit(G, D, RING, steps=1, **quiet)
    with_r1 = train.fit(G2, D2, RING, steps=1, penalty=losses.r1(5.0), **quiet)
    assert expected > 1e-4
    assert_close(with_r1.loss_D[0], plain.loss_D[0] + expected)
