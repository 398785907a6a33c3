"""Mode-collapse remedies: PacGAN, minibatch std, R1 / WGAN-GP penalties (unrolled GANs:
test_unrolled.py), and short runs of each."""

from __future__ import annotations

import copy
import math
import re

import pytest
import torch
from conftest import BATCH, WIDTH, batch, linear_critic, noise, params
from torch.testing import assert_close

from ganlab import data, losses, models, train

RING = data.ring()
F64 = torch.float64


# ----------------------------------------------------------------------------- PacGAN


@pytest.mark.parametrize("pack", [1, 2, 4])
def test_packed_discriminator_scores_consecutive_samples_concatenated(pack):
    """Row i of the packed input is cat(x[i*pack], ..., x[i*pack + pack - 1])."""
    train.seed_everything(0)
    D = models.PackedDiscriminator(in_dim=2, pack=pack, width=WIDTH, depth=2)
    x = RING.sample(8 * pack, seed=1)
    packed = torch.cat([x[j::pack] for j in range(pack)], dim=1)  # (8, pack * 2)
    scores = D(x)
    assert scores.shape == (8,)
    assert D.net[0].in_features == 2 * pack
    assert_close(scores, D.net(packed).squeeze(1))


def test_packed_discriminator_depends_on_the_order_within_a_pack():
    """Swapping two samples of one pack changes that pack's score (they are concatenated,
    not pooled), and only that one."""
    train.seed_everything(0)
    D = models.PackedDiscriminator(pack=2, width=WIDTH, depth=2)
    x = RING.sample(6, seed=2)
    swapped = x[[1, 0, 2, 3, 4, 5]]
    a, b = D(x), D(swapped)
    assert not torch.allclose(a[0], b[0])
    assert torch.equal(a[1:], b[1:])


@pytest.mark.parametrize(("pack", "n"), [(2, 7), (4, 10), (3, 1)])
def test_packed_discriminator_rejects_a_batch_not_a_multiple_of_pack(pack, n):
    D = models.PackedDiscriminator(pack=pack, width=WIDTH, depth=1)
    with pytest.raises(ValueError, match=rf"pack = {pack}, got {n} samples"):
        D(torch.zeros(n, 2))


def test_packed_discriminator_checks_its_arguments():
    with pytest.raises(ValueError, match="pack must be a positive integer, got 0"):
        models.PackedDiscriminator(pack=0)
    with pytest.raises(ValueError, match=r"shape \(B, 2\), got \(4, 3\)"):
        models.PackedDiscriminator(pack=2, width=WIDTH, depth=1)(torch.zeros(4, 3))


def test_packed_discriminator_backward_reaches_every_parameter():
    train.seed_everything(0)
    D = models.PackedDiscriminator(pack=4, width=WIDTH, depth=2)
    D(RING.sample(BATCH, seed=3)).sum().backward()
    for name, p in D.named_parameters():
        assert p.grad is not None, name
        assert bool(torch.isfinite(p.grad).all()) and float(p.grad.abs().sum()) > 0, name


# ----------------------------------------------------------------------------- minibatch std


def spread_by_hand(h: torch.Tensor) -> torch.Tensor:
    """mean_f sqrt(mean_b (h[b, f] - mean_b h[:, f])^2): the biased std, averaged over features."""
    centred = h - h.mean(dim=0, keepdim=True)
    return centred.pow(2).mean(dim=0).sqrt().mean()


def test_minibatch_std_appends_the_mean_biased_std_on_every_row():
    h = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    out = models.MinibatchStd()(h)
    assert out.shape == (5, 4)
    assert torch.equal(out[:, :3], h)
    assert_close(out[:, 3], spread_by_hand(h).expand(5))
    # by hand on a tiny case: columns (0, 2) and (1, 1) -> stds 1 and 0 -> mean 0.5
    tiny = models.MinibatchStd()(torch.tensor([[0.0, 1.0], [2.0, 1.0]]))
    assert tiny[:, 2].tolist() == [0.5, 0.5]


def test_minibatch_std_of_identical_rows_is_zero_with_a_finite_gradient():
    """A collapsed batch gives s = 0; the gradient at std = 0 must not be NaN (that would
    poison D exactly when G has collapsed)."""
    h = torch.tensor([[0.3, -1.2, 2.0]]).repeat(6, 1).requires_grad_(True)
    out = models.MinibatchStd()(h)
    assert out[:, 3].tolist() == [0.0] * 6
    (grad,) = torch.autograd.grad(out.sum(), h)
    assert bool(torch.isfinite(grad).all())


def test_minibatch_std_gradient_is_that_of_the_formula():
    h = torch.randn(4, 3, generator=torch.Generator().manual_seed(1), dtype=F64)
    h.requires_grad_(True)
    (grad,) = torch.autograd.grad(models.MinibatchStd()(h)[:, 3].sum(), h)
    (expected,) = torch.autograd.grad(4 * spread_by_hand(h), h)
    assert_close(grad, expected)
    assert float(grad.abs().sum()) > 0
    assert torch.autograd.gradcheck(models.MinibatchStd(), (h,))


@pytest.mark.parametrize("n", [0, 1])
def test_minibatch_std_needs_two_samples(n):
    with pytest.raises(ValueError, match=f"batch of >= 2, got {n}"):
        models.MinibatchStd()(torch.zeros(n, 3))


@pytest.mark.parametrize("depth", [1, 3])
def test_minibatch_std_discriminator_is_hidden_then_std_column_then_linear(depth):
    """D(x) = last(cat(hidden(x), s(hidden(x)))), last a Linear(width + 1, 1)."""
    train.seed_everything(0)
    D = models.MinibatchStdDiscriminator(width=WIDTH, depth=depth)
    last = D.net[-1]
    assert isinstance(last, torch.nn.Linear)
    assert (last.in_features, last.out_features) == (WIDTH + 1, 1)
    assert isinstance(D.net[-2], models.MinibatchStd)
    x = RING.sample(10, seed=4)
    scores = D(x)
    assert scores.shape == (10,)
    h = D.net[:-2](x)
    assert h.shape == (10, WIDTH)
    s = spread_by_hand(h)
    assert_close(scores, h @ last.weight[0, :WIDTH] + s * last.weight[0, WIDTH] + last.bias)


def test_minibatch_std_discriminator_scores_a_sample_by_its_batch():
    """The same row gets another score in a collapsed batch than in a spread one."""
    train.seed_everything(0)
    D = models.MinibatchStdDiscriminator(width=WIDTH, depth=2)
    spread = RING.sample(16, seed=5)
    collapsed = spread[:1].repeat(16, 1)
    a, b = D(spread), D(collapsed)
    assert (b == b[0]).all()
    assert abs((a[0] - b[0]).item()) > 1e-4
    # a plain MLP discriminator scores each row alone: same score in both batches
    plain = models.MLPDiscriminator(width=WIDTH, depth=2)
    assert_close(plain(spread)[0], plain(collapsed)[0])


def test_minibatch_std_discriminator_backward_is_finite_on_a_collapsed_batch():
    train.seed_everything(0)
    D = models.MinibatchStdDiscriminator(width=WIDTH, depth=2)
    D(torch.tensor([[1.0, 2.0]]).repeat(8, 1)).sum().backward()
    D(RING.sample(8, seed=6)).sum().backward()
    for name, p in D.named_parameters():
        assert p.grad is not None, name
        assert bool(torch.isfinite(p.grad).all()), name


# ----------------------------------------------------------------------------- penalties


def test_r1_factory_is_r1_penalty_on_the_reals():
    train.seed_everything(0)
    D = models.MLPDiscriminator(width=WIDTH, depth=2).to(F64)
    x_real, x_fake = batch(12, 2, 0), batch(12, 2, 1)
    value = losses.r1(2.5)(D, x_real, x_fake)
    assert_close(value, losses.r1_penalty(D, x_real, 2.5))
    assert value.item() > 0
    assert not torch.allclose(value, losses.r1_penalty(D, x_fake, 2.5))  # reals, not fakes


@pytest.mark.parametrize(("lam", "seed"), [(10.0, 0), (10.0, 1), (0.5, 2)])
def test_wgan_gp_of_a_linear_critic_is_lam_norm_w_minus_1_squared(lam, seed):
    """grad_x D = w at every interpolate: lam (||w|| - 1)^2 = lam * 16 for w = (3, -4)."""
    D = linear_critic([3.0, -4.0])
    train.seed_everything(seed)
    value = losses.wgan_gp(lam)(D, batch(8, 2, seed), batch(8, 2, seed + 10))
    assert_close(value, torch.tensor(lam * 16.0, dtype=F64))


def test_wgan_gp_interpolates_per_sample_with_the_global_rng():
    """D = ||x||^2 / 2 (grad_x D = x): lam mean_i (||e_i x_i + (1 - e_i) y_i|| - 1)^2,
    e_i ~ U(0, 1) from torch's global generator; seeded, the value is reproducible."""
    quad = lambda v: 0.5 * v.pow(2).sum(1)  # noqa: E731
    x_real, x_fake = batch(6, 2, 3), batch(6, 2, 4)
    torch.manual_seed(7)
    value = losses.wgan_gp(3.0)(quad, x_real, x_fake)
    torch.manual_seed(7)
    e = torch.rand(6, 1)
    x_hat = e * x_real + (1 - e) * x_fake
    assert_close(value, 3.0 * (x_hat.norm(dim=1) - 1).pow(2).mean())
    torch.manual_seed(7)
    assert_close(losses.wgan_gp(3.0)(quad, x_real, x_fake), value)
    # the ends of the segment give other values: it is not evaluated at the reals or fakes
    for end in (x_real, x_fake):
        assert not torch.allclose(value, 3.0 * (end.norm(dim=1) - 1).pow(2).mean())
    # when real and fake coincide every interpolate is that point, whatever e is
    assert_close(
        losses.wgan_gp(3.0)(quad, x_real, x_real.clone()),
        3.0 * (x_real.norm(dim=1) - 1).pow(2).mean(),
    )


def test_wgan_gp_trains_the_critic_weights():
    """For the linear critic: d/dw lam (||w|| - 1)^2 = 2 lam (1 - 1/||w||) w."""
    D = linear_critic([3.0, -4.0])
    losses.wgan_gp(10.0)(D, batch(5, 2, 0), batch(5, 2, 1)).backward()
    assert_close(D.weight.grad, 2 * 10.0 * (1 - 1 / 5) * torch.tensor([[3.0, -4.0]], dtype=F64))


def test_wgan_gp_rejects_batches_of_different_shapes():
    D = linear_critic([1.0, 2.0])
    with pytest.raises(ValueError, match=r"one shape, got \(4, 2\) and \(5, 2\)"):
        losses.wgan_gp()(D, batch(4, 2, 0), batch(5, 2, 1))


@pytest.mark.parametrize("bad", [-1.0, -1e-9, float("nan")])
def test_penalty_factories_reject_negative_or_nan_weights(bad):
    with pytest.raises(ValueError, match=re.escape(f"gamma must be >= 0, got {bad!r}")):
        losses.r1(bad)
    with pytest.raises(ValueError, match=re.escape(f"lam must be >= 0, got {bad!r}")):
        losses.wgan_gp(bad)


def test_wasserstein_is_a_named_loss_pair():
    pair = (losses.d_loss_wasserstein, losses.g_loss_wasserstein)
    assert losses.GAN_LOSSES["wasserstein"] == pair
    assert losses.get_losses("wasserstein") == pair


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


# ----------------------------------------------------------------------------- short runs


def build(kind: str, seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    train.seed_everything(seed)
    G = models.MLPGenerator(width=WIDTH, depth=2)
    if kind.startswith("pack"):
        D = models.PackedDiscriminator(pack=int(kind[4:]), width=WIDTH, depth=2)
    elif kind == "mbstd":
        D = models.MinibatchStdDiscriminator(width=WIDTH, depth=2)
    else:
        D = models.MLPDiscriminator(width=WIDTH, depth=2)
    return G, D


REMEDIES = {
    "vanilla": ("mlp", {}),
    "pack2": ("pack2", {}),
    "pack4": ("pack4", {}),
    "mbstd": ("mbstd", {}),
    "wgan_gp": ("mlp", {"loss": "wasserstein", "penalty": losses.wgan_gp(), "d_steps": 2}),
    "r1": ("mlp", {"penalty": losses.r1(1.0)}),
    "unrolled": ("mlp", {"unroll_steps": 2}),
}


def run(name: str, seed: int) -> tuple[train.History, list[torch.Tensor]]:
    kind, options = REMEDIES[name]
    G, D = build(kind, seed)
    history = train.fit(G, D, RING, steps=20, batch_size=64, seed=seed, progress=False, **options)
    return history, params(G) + params(D)


@pytest.mark.parametrize("name", list(REMEDIES))
def test_short_run_is_finite_complete_and_deterministic(name):
    history, weights = run(name, seed=3)
    assert history.step == list(range(1, 21))
    for column, values in history.as_dict().items():
        assert len(values) == 20, column
        assert all(math.isfinite(v) for v in values), column
    assert all(bool(torch.isfinite(w).all()) for w in weights)
    assert max(history.grad_norm_G) > 0 and max(history.grad_norm_D) > 0

    again, weights_again = run(name, seed=3)
    assert again.as_dict() == history.as_dict()
    assert all(torch.equal(a, b) for a, b in zip(weights, weights_again, strict=True))


def test_the_remedies_change_the_training_run():
    """Each option reaches training: the first-step losses differ from the vanilla run's."""
    first = {name: run(name, seed=3)[0] for name in ("vanilla", "r1", "unrolled", "pack2")}
    vanilla = first.pop("vanilla")
    for name, history in first.items():
        assert history.as_dict() != vanilla.as_dict(), name
    # R1 adds a positive term to loss_D; unrolling changes only the G loss at step 1
    assert first["r1"].loss_D[0] > vanilla.loss_D[0]
    assert first["unrolled"].loss_D[0] == vanilla.loss_D[0]
    assert first["unrolled"].loss_G[0] != vanilla.loss_G[0]
