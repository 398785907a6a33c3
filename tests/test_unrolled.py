"""ganlab.unrolled: the look-ahead of unrolled GANs (Metz et al. 2017) replays D's SGD or
Adam; G steps against it; fit(unroll_steps=k) draws its batches in order."""

from __future__ import annotations

import copy
import re

import pytest
import torch
from conftest import BATCH, assert_params_equal, noise, params
from torch.testing import assert_close

from ganlab import data, losses, train
from ganlab.unrolled import g_step_unrolled, unrolled_parameters

RING = data.ring()


def mlp_by_hand(x: torch.Tensor, weights: list[torch.Tensor]) -> torch.Tensor:
    """An MLPDiscriminator's forward from its flat parameter list [W0, b0, W1, b1, ...]."""
    pairs = list(zip(weights[::2], weights[1::2], strict=True))
    h = x
    for i, (W, b) in enumerate(pairs):
        h = h @ W.T + b
        if i < len(pairs) - 1:
            h = torch.relu(h)
    return h.squeeze(1)


def unroll_batches(k: int, seed: int = 20) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(RING.sample(BATCH, seed=seed + 2 * i), noise(BATCH, seed + 2 * i + 1))
            for i in range(k)]  # fmt: skip


def test_one_unrolled_step_is_theta_minus_lr_grad(make_models):
    G, D = make_models()
    D_before = params(D)
    [(x_real, z)] = batches = unroll_batches(1)
    D_ref = copy.deepcopy(D)
    loss = losses.d_loss_minimax(D_ref(x_real), D_ref(G(z)))
    grads = torch.autograd.grad(loss, list(D_ref.parameters()))

    unrolled = unrolled_parameters(
        G, D, batches, losses.d_loss_minimax, torch.optim.SGD(D.parameters(), lr=0.3)
    )

    names = [name for name, _ in D.named_parameters()]
    assert list(unrolled) == names
    for name, p0, g in zip(names, D_ref.parameters(), grads, strict=True):
        assert_close(unrolled[name].detach(), p0.detach() - 0.3 * g)
    assert_params_equal(D, D_before)  # D itself is not stepped
    assert all(p.grad is None for p in D.parameters())


@pytest.mark.parametrize("d_loss", [losses.d_loss_minimax, losses.d_loss_wasserstein])
def test_k_unrolled_steps_are_k_sgd_steps_on_a_copy_of_D(make_models, d_loss):
    G, D = make_models()
    batches = unroll_batches(3)
    D_ref = copy.deepcopy(D)
    sgd = torch.optim.SGD(D_ref.parameters(), lr=0.05)
    for x_real, z in batches:
        sgd.zero_grad()
        d_loss(D_ref(x_real), D_ref(G(z).detach())).backward()
        sgd.step()

    unrolled = unrolled_parameters(G, D, batches, d_loss, torch.optim.SGD(D.parameters(), lr=0.05))

    for name, p in D_ref.named_parameters():
        assert_close(unrolled[name].detach(), p.detach())
    # it did move (under the Wasserstein loss the last bias cancels out and stays put)
    moved = [unrolled[name] - q for name, q in D.named_parameters()]
    assert max(float(d.detach().abs().max()) for d in moved) > 1e-4


def test_unrolled_parameters_depend_on_G_only_when_k_is_positive(make_models):
    G, D = make_models()
    weight = G.net[0].weight
    sgd = torch.optim.SGD(D.parameters(), lr=0.1)
    unrolled = unrolled_parameters(G, D, unroll_batches(2), losses.d_loss_minimax, sgd)
    out = sum(p.pow(2).sum() for p in unrolled.values())
    (grad,) = torch.autograd.grad(out, weight)
    assert float(grad.abs().sum()) > 0

    none = unrolled_parameters(G, D, [], losses.d_loss_minimax, sgd)
    for (name, p), q in zip(none.items(), D.parameters(), strict=True):
        assert torch.equal(p.detach(), q.detach()), name
    out = sum(p.pow(2).sum() for p in none.values())
    assert torch.autograd.grad(out, weight, allow_unused=True) == (None,)


def test_g_step_unrolled_gradient_by_hand(make_models):
    """k = 1: theta_1(phi) = theta - lr grad_theta L_D(theta, G_phi); G descends
    g_loss(D_theta_1(G_phi(z))), differentiated through theta_1 (D written out by hand)."""
    G, D = make_models()
    G_ref = copy.deepcopy(G)
    D_before = params(D)
    [(x_real, z_u)] = batches = unroll_batches(1)
    z = noise(BATCH, 5)
    theta = [p.detach().requires_grad_(True) for p in D.parameters()]
    loss_D = losses.d_loss_minimax(mlp_by_hand(x_real, theta), mlp_by_hand(G_ref(z_u), theta))
    grads = torch.autograd.grad(loss_D, theta, create_graph=True)
    theta_1 = [t - 0.5 * g for t, g in zip(theta, grads, strict=True)]
    loss_G = losses.g_loss_nonsaturating(mlp_by_hand(G_ref(z), theta_1))
    g_grads = torch.autograd.grad(loss_G, list(G_ref.parameters()))
    for p in D.parameters():
        p.grad = torch.ones_like(p)

    stats = g_step_unrolled(
        G, D, z, torch.optim.SGD(G.parameters(), lr=0.1), losses.g_loss_nonsaturating,
        losses.d_loss_minimax, batches, torch.optim.SGD(D.parameters(), lr=0.5),
    )  # fmt: skip

    assert_close(stats["loss_G"], loss_G.item())
    assert_close(stats["grad_norm_G"], torch.sqrt(sum(g.pow(2).sum() for g in g_grads)).item())
    for p, p0, g in zip(G.parameters(), G_ref.parameters(), g_grads, strict=True):
        assert_close(p.detach(), p0.detach() - 0.1 * g)
    assert_params_equal(D, D_before)  # only G moves; D's gradients are left alone
    for p in D.parameters():
        assert torch.equal(p.grad, torch.ones_like(p))


def test_g_step_unrolled_is_g_step_with_no_batches_and_differs_with_some(make_models):
    G, D = make_models()
    G0, G1 = copy.deepcopy(G), copy.deepcopy(G)
    z = noise(BATCH, 6)
    args = (losses.g_loss_nonsaturating, losses.d_loss_minimax)
    sgd_D = torch.optim.SGD(D.parameters(), lr=0.5)

    plain = train.g_step(G, D, z, torch.optim.SGD(G.parameters(), lr=0.1), args[0])
    zero = g_step_unrolled(G0, D, z, torch.optim.SGD(G0.parameters(), lr=0.1), *args, [], sgd_D)
    one = g_step_unrolled(
        G1, D, z, torch.optim.SGD(G1.parameters(), lr=0.1), *args, unroll_batches(1), sgd_D
    )

    assert_close(zero["loss_G"], plain["loss_G"])
    assert_close(zero["grad_norm_G"], plain["grad_norm_G"])
    for p, q in zip(G0.parameters(), G.parameters(), strict=True):
        assert_close(p, q)
    assert abs(one["grad_norm_G"] - plain["grad_norm_G"]) > 1e-6
    moved = [p - q for p, q in zip(G1.parameters(), G.parameters(), strict=True)]
    assert max(float(d.detach().abs().max()) for d in moved) > 1e-6


def test_fit_step_with_unrolling_is_d_step_then_g_step_unrolled(make_models):
    """Draw order: (x_real, z) for D, z for G, then k (x_real, z) look-ahead batches;
    the look-ahead replays D's Adam, from the state its real step left."""
    G, D = make_models()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    history = train.fit(
        G, D, RING, steps=1, unroll_steps=2, lr_D=0.3, batch_size=BATCH, progress=False
    )

    generator = torch.Generator().manual_seed(0)
    adam = {"lr": 1e-3, "betas": (0.5, 0.999)}
    opt_D = torch.optim.Adam(D_ref.parameters(), **{**adam, "lr": 0.3})
    opt_G = torch.optim.Adam(G_ref.parameters(), **adam)
    x_real = RING.sample(BATCH, seed=generator)
    d_stats = train.d_step(G_ref, D_ref, x_real, torch.randn(BATCH, 2, generator=generator), opt_D)
    z = torch.randn(BATCH, 2, generator=generator)
    batches = [(RING.sample(BATCH, seed=generator), torch.randn(BATCH, 2, generator=generator))
               for _ in range(2)]  # fmt: skip
    g_stats = g_step_unrolled(
        G_ref, D_ref, z, opt_G, losses.g_loss_nonsaturating, losses.d_loss_minimax, batches, opt_D
    )

    assert_close(history.loss_D[0], d_stats["loss_D"])
    assert_close(history.loss_G[0], g_stats["loss_G"])
    assert_close(history.grad_norm_G[0], g_stats["grad_norm_G"])
    for p, q in zip(G.parameters(), G_ref.parameters(), strict=True):
        assert_close(p, q)
    for p, q in zip(D.parameters(), D_ref.parameters(), strict=True):
        assert_close(p, q)


@pytest.mark.parametrize("k", [-1, True, 1.0, 2.5, "2"])
def test_fit_rejects_bad_unroll_steps(make_models, k):
    G, D = make_models()
    with pytest.raises(
        ValueError, match=re.escape(f"unroll_steps must be an integer >= 0, got {k!r}")
    ):
        train.fit(G, D, RING, steps=1, unroll_steps=k, progress=False)


def test_adam_look_ahead_is_k_adam_steps_continuing_from_its_state(make_models):
    """The look-ahead replays D's Adam: after one real step (so m, v and the step count are
    not zero), k unrolled steps equal k Adam steps on a copy, and neither D nor its optimiser
    moves."""
    G, D = make_models()
    opt_D = torch.optim.Adam(D.parameters(), lr=0.01, betas=(0.5, 0.999))
    train.d_step(G, D, RING.sample(BATCH, seed=1), noise(BATCH, 2), opt_D)
    D_before, state_before = params(D), copy.deepcopy(opt_D.state_dict())
    D_ref = copy.deepcopy(D)
    adam_ref = torch.optim.Adam(D_ref.parameters(), lr=0.01, betas=(0.5, 0.999))
    adam_ref.load_state_dict(copy.deepcopy(opt_D.state_dict()))  # load_state_dict shares tensors
    batches = unroll_batches(3)
    for x_real, z in batches:
        adam_ref.zero_grad()
        losses.d_loss_minimax(D_ref(x_real), D_ref(G(z).detach())).backward()
        adam_ref.step()

    unrolled = unrolled_parameters(G, D, batches, losses.d_loss_minimax, opt_D)

    for name, p in D_ref.named_parameters():
        assert_close(unrolled[name].detach(), p.detach(), atol=1e-6, rtol=1e-5)
    assert_params_equal(D, D_before)
    after = opt_D.state_dict()["state"]
    for key, saved in state_before["state"].items():
        for field, value in saved.items():
            assert torch.equal(torch.as_tensor(after[key][field]), torch.as_tensor(value))
    # and G's gradient through the Adam look-ahead is finite (dead ReLU units have g = 0)
    out = sum(p.pow(2).sum() for p in unrolled.values())
    grads = torch.autograd.grad(out, list(G.parameters()))
    assert all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize(
    "make_opt, message",
    [
        (lambda ps: torch.optim.RMSprop(ps, lr=0.1), "must be torch.optim.SGD or torch.optim.Adam, got RMSprop"),
        (lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), "plain SGD only"),
        (lambda ps: torch.optim.Adam(ps, lr=0.1, amsgrad=True), "Adam without weight_decay, amsgrad"),
    ],
)  # fmt: skip
def test_fit_rejects_an_optimiser_the_look_ahead_cannot_replay(make_models, make_opt, message):
    G, D = make_models()
    before = params(D)
    with pytest.raises(ValueError, match=re.escape(message)):
        train.fit(G, D, RING, steps=1, unroll_steps=1, opt_D=make_opt(D.parameters()),
                  progress=False)  # fmt: skip
    assert_params_equal(D, before)  # checked before any step
