"""Beyond the minimax GAN: hinge and least-squares losses, WGAN (weight clipping, per-sample
gradient penalty), class-conditional GANs (cGAN, projection and (C + 1)-way discriminators),
StyleGAN's mapping network and AdaIN, and the Wasserstein distances of theory and metrics."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import BATCH, batch, linear_critic, params
from torch import nn
from torch.testing import assert_close

from ganlab import _checks, data, losses, metrics, models, theory, train, train_images

F64 = torch.float64
LOG2 = math.log(2)
RING = data.ring()
ADAM = {"lr": 1e-3, "betas": (0.5, 0.999)}  # fit's default optimiser settings
QUIET = {"batch_size": BATCH, "progress": False}
CLASSES, LATENT, WIDTH, EMBED = 10, 8, 4, 3  # tiny conditional DCGANs: a step costs a few ms


def scores(n: int, seed: int) -> torch.Tensor:
    """Moderate raw scores in about [-4, 4], float64."""
    return 2 * torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=F64)


def images(n: int, seed: int = 1) -> torch.Tensor:
    """n random "images" in [-1, 1], (n, 1, 28, 28)."""
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def log_softmax_by_hand(logits: torch.Tensor) -> torch.Tensor:
    """l_k - log sum_j exp l_j, with the max subtracted first (float64)."""
    logits = logits.to(F64)
    shifted = logits - logits.max(dim=1, keepdim=True).values
    return shifted - shifted.exp().sum(dim=1, keepdim=True).log()


def conditional_players(kind: str, seed: int = 0):
    torch.manual_seed(seed)
    G = models.ConditionalDCGANGenerator(CLASSES, LATENT, WIDTH, EMBED)
    D = getattr(models, kind)(CLASSES, WIDTH)
    return G, D


# ----------------------------------------------------------------------------- hinge, LSGAN


def test_hinge_losses_by_hand():
    """D: mean max(0, 1 - real) + mean max(0, 1 + fake); G: -mean fake; unequal batches."""
    d_real = torch.tensor([2.0, 0.5, -1.0], dtype=F64)  # hinge terms 0, 0.5, 2 -> mean 5/6
    d_fake = torch.tensor([-3.0, -0.5, 0.0, 1.0], dtype=F64)  # 0, 0.5, 1, 2 -> mean 7/8
    assert_close(losses.d_loss_hinge(d_real, d_fake), torch.tensor(5 / 6 + 7 / 8, dtype=F64))
    assert_close(losses.g_loss_hinge(d_fake), torch.tensor(2.5 / 4, dtype=F64))
    # the order matters: swapped, (4 + 1.5 + 1 + 0) / 4 + (3 + 1.5 + 0) / 3
    swapped = (4 + 1.5 + 1 + 0) / 4 + (3 + 1.5 + 0) / 3
    assert_close(losses.d_loss_hinge(d_fake, d_real), torch.tensor(swapped, dtype=F64))


def test_hinge_d_loss_is_zero_beyond_the_margins_with_zero_gradient():
    """Reals scored > 1 and fakes < -1 cost nothing and get no gradient; at the margins too."""
    d_real = torch.tensor([1.5, 7.0, 1.0], dtype=F64, requires_grad=True)
    d_fake = torch.tensor([-1.0, -2.0, -30.0, -1.01], dtype=F64, requires_grad=True)
    loss = losses.d_loss_hinge(d_real, d_fake)
    assert loss.item() == 0.0
    g_real, g_fake = torch.autograd.grad(loss, (d_real, d_fake))
    assert not g_real.any() and not g_fake.any()
    # unlike the Wasserstein critic loss, which keeps rewarding larger margins
    assert losses.d_loss_wasserstein(d_real, d_fake).item() < -10


def test_hinge_gradients_are_minus_or_plus_one_over_B_inside_the_margins():
    d_real = torch.tensor([0.2, 3.0, -2.0, 0.9, 1.2], dtype=F64, requires_grad=True)
    d_fake = torch.tensor([-0.5, -4.0, 2.0, -1.5], dtype=F64, requires_grad=True)
    g_real, g_fake = torch.autograd.grad(losses.d_loss_hinge(d_real, d_fake), (d_real, d_fake))
    assert_close(g_real, torch.tensor([-1, 0, -1, -1, 0], dtype=F64) / 5)
    assert_close(g_fake, torch.tensor([1, 0, 1, 0], dtype=F64) / 4)
    (g_gen,) = torch.autograd.grad(losses.g_loss_hinge(d_fake), d_fake)
    assert_close(g_gen, torch.full((4,), -1 / 4, dtype=F64))  # never saturates


def test_least_squares_losses_by_hand():
    """D: 1/2 mean (real - 1)^2 + 1/2 mean fake^2; G: 1/2 mean (fake - 1)^2."""
    d_real = torch.tensor([1.0, 3.0, -1.0], dtype=F64)  # (0, 4, 4) -> 1/2 * 8/3
    d_fake = torch.tensor([0.0, 2.0], dtype=F64)  # (0, 4) -> 1/2 * 2
    assert_close(losses.d_loss_least_squares(d_real, d_fake), torch.tensor(4 / 3 + 1, dtype=F64))
    assert_close(losses.g_loss_least_squares(d_fake), torch.tensor(0.5 * (1 + 1) / 2, dtype=F64))
    # raw scores, no sigmoid: a score of 101 costs 1/2 * 100^2
    assert losses.g_loss_least_squares(torch.tensor([101.0])).item() == 5000.0


def test_least_squares_losses_vanish_at_their_targets_and_only_there():
    ones, zeros = torch.ones(4, dtype=F64), torch.zeros(3, dtype=F64)
    assert losses.d_loss_least_squares(ones, zeros).item() == 0.0
    assert losses.g_loss_least_squares(ones).item() == 0.0
    assert losses.d_loss_least_squares(ones + 0.1, zeros).item() > 0
    assert losses.d_loss_least_squares(ones, zeros - 0.1).item() > 0
    # G is still pulled towards 1 from a fake that D scores as "very real" (no saturation)
    far = torch.tensor([5.0], dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(losses.g_loss_least_squares(far), far)
    assert grad.item() == 4.0


def test_least_squares_d_loss_is_minimised_by_p_data_over_p_data_plus_p_g():
    """Support {a, b, c}; batches hold each point in proportion to p_data and p_g. The LS D loss
    with targets 1 / 0 is a convex quadratic in the scores s = (s_a, s_b, s_c), minimised at
    s* = p_data / (p_data + p_g) = D*(x) of the minimax game (Mao et al. 2017, Prop. 1)."""
    p_data, p_g = torch.tensor([0.5, 0.3, 0.2], dtype=F64), torch.tensor([0.1, 0.3, 0.6], dtype=F64)
    reals = torch.tensor([0] * 5 + [1] * 3 + [2] * 2)  # 10 samples from p_data
    fakes = torch.tensor([0] * 1 + [1] * 3 + [2] * 6)  # 10 samples from p_g

    def loss(s: torch.Tensor) -> torch.Tensor:
        return losses.d_loss_least_squares(s[reals], s[fakes])

    star = (p_data / (p_data + p_g)).requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(star), star)
    assert_close(grad, torch.zeros(3, dtype=F64), atol=1e-15, rtol=0)
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        other = star.detach() + 0.1 * torch.randn(3, generator=gen, dtype=F64)
        assert loss(other).item() > loss(star).item()


def test_hinge_and_least_squares_are_named_loss_pairs():
    assert losses.get_losses("hinge") == (losses.d_loss_hinge, losses.g_loss_hinge)
    assert losses.get_losses("least_squares") == (
        losses.d_loss_least_squares,
        losses.g_loss_least_squares,
    )
    assert {"hinge", "least_squares"} <= set(losses.GAN_LOSSES)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: losses.d_loss_hinge(s, torch.zeros(2)),
        lambda s: losses.g_loss_hinge(s),
        lambda s: losses.d_loss_least_squares(torch.zeros(2), s),
        lambda s: losses.g_loss_least_squares(s),
    ],
)
def test_hinge_and_least_squares_losses_check_their_scores(call):
    with pytest.raises(ValueError, match="is empty"):
        call(torch.zeros(0))
    with pytest.raises(TypeError, match="must be a floating-point tensor"):
        call(torch.zeros(2, dtype=torch.int64))


# ----------------------------------------------------------------------------- WGAN-GP per sample


def per_sample_gradient_norms(D, x: torch.Tensor) -> torch.Tensor:
    """||grad_x D(x_i)||, one sample at a time (a loop of single-sample backward passes)."""
    norms = []
    for i in range(len(x)):
        xi = x[i : i + 1].detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(D(xi).sum(), xi)
        norms.append(g.flatten().norm())
    return torch.stack(norms)


@pytest.mark.parametrize("B", [1, 3, 16])
def test_gradient_penalty_of_a_linear_critic_is_per_sample_not_batch_wide(B):
    """grad_x D(x_i) = w for every sample: lam (||w|| - 1)^2 whatever B. The norm of the
    whole (B, d) gradient, sqrt(B) ||w||, would give lam (sqrt(B) ||w|| - 1)^2 instead;
    for a unit w the per-sample penalty is exactly 0 for any batch."""
    x = batch(B, 2, B)
    D = linear_critic([3.0, -4.0])  # ||w|| = 5
    value = losses.gradient_penalty(D, x, 1.0)
    assert_close(value, torch.tensor(16.0, dtype=F64))
    batch_wide = (math.sqrt(B) * 5 - 1) ** 2
    assert (B == 1) == math.isclose(value.item(), batch_wide)
    unit = linear_critic([0.6, -0.8])
    assert losses.gradient_penalty(unit, x, 1.0).item() == pytest.approx(0.0, abs=1e-24)
    torch.manual_seed(B)
    assert losses.wgan_gp(10.0)(unit, x, batch(B, 2, B + 100)).item() == pytest.approx(
        0.0, abs=1e-24
    )


def test_gradient_penalty_of_a_nonlinear_critic_is_the_mean_over_per_sample_gradients():
    train.seed_everything(0)
    D = models.MLPDiscriminator(in_dim=2, width=8, depth=2, activation="tanh").to(F64)
    x = 1.5 * batch(7, 2, 5)
    norms = per_sample_gradient_norms(D, x)
    assert float(norms.max() - norms.min()) > 0.05  # the samples' gradients do differ
    for lam, target in ((1.0, 1.0), (1.5, 0.0), (10.0, 0.3)):
        expected = lam * (norms - target).pow(2).mean()
        assert_close(losses.gradient_penalty(D, x, lam, target=target), expected)
    batch_wide = 1.0 * (norms.pow(2).sum().sqrt() - 1) ** 2
    assert not torch.isclose(losses.gradient_penalty(D, x, 1.0), batch_wide)


def test_wgan_gp_of_a_nonlinear_critic_is_lam_mean_of_per_sample_terms_at_the_interpolates():
    train.seed_everything(1)
    D = models.MLPDiscriminator(in_dim=2, width=8, depth=2, activation="tanh").to(F64)
    x_real, x_fake = batch(6, 2, 0), 2 * batch(6, 2, 1)
    torch.manual_seed(3)
    value = losses.wgan_gp(10.0)(D, x_real, x_fake)
    torch.manual_seed(3)
    e = torch.rand(6)  # one epsilon per sample, from the global generator
    x_hat = torch.stack([e[i] * x_real[i] + (1 - e[i]) * x_fake[i] for i in range(6)])
    norms = per_sample_gradient_norms(D, x_hat)
    assert float(norms.max() - norms.min()) > 0.05
    assert_close(value, 10.0 * (norms - 1).pow(2).mean())


def test_wgan_gp_on_image_batches_draws_one_epsilon_per_image():
    """(B, 1, 5, 5) images through a small conv critic: the same per-sample loop."""
    torch.manual_seed(0)
    D = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(18, 1)).to(F64)
    gen = torch.Generator().manual_seed(2)
    x_real, x_fake = (torch.randn(4, 1, 5, 5, generator=gen, dtype=F64) for _ in range(2))
    torch.manual_seed(9)
    value = losses.wgan_gp(2.0)(D, x_real, x_fake)
    torch.manual_seed(9)
    e = torch.rand(4).to(F64)
    x_hat = torch.stack([e[i] * x_real[i] + (1 - e[i]) * x_fake[i] for i in range(4)])
    assert_close(value, 2.0 * (per_sample_gradient_norms(D, x_hat) - 1).pow(2).mean())


# ----------------------------------------------------------------------------- (C + 1)-way losses


def test_class_losses_match_a_log_softmax_by_hand():
    """D: -mean log p(y | x_real) - mean log p(C | x_fake); G: -mean log p(y | x_fake)."""
    gen = torch.Generator().manual_seed(0)
    logits_real = 3 * torch.randn(5, 4, generator=gen, dtype=F64)  # C = 3 classes + "fake"
    logits_fake = 3 * torch.randn(6, 4, generator=gen, dtype=F64)
    y_real, y_fake = torch.tensor([0, 2, 1, 2, 0]), torch.tensor([1, 1, 0, 2, 2, 0])
    ls_real, ls_fake = log_softmax_by_hand(logits_real), log_softmax_by_hand(logits_fake)
    expected_d = -ls_real[torch.arange(5), y_real].mean() - ls_fake[:, 3].mean()
    assert_close(losses.d_loss_classes(logits_real, y_real, logits_fake), expected_d)
    expected_g = -ls_fake[torch.arange(6), y_fake].mean()
    assert_close(losses.g_loss_classes(logits_fake, y_fake), expected_g)


def test_class_d_loss_rejects_logits_of_the_wrong_shape():
    y = torch.tensor([0, 1, 0])
    with pytest.raises(ValueError, match=r"logits_real must have shape \(B, C \+ 1\), got \(3,\)"):
        losses.d_loss_classes(torch.zeros(3), y, torch.zeros(2, 3))
    with pytest.raises(
        ValueError, match=r"logits_fake must have shape \(B, C \+ 1\), got \(2, 1\)"
    ):
        losses.d_loss_classes(torch.zeros(3, 3), y, torch.zeros(2, 1))
    with pytest.raises(ValueError, match=r"got \(2, 3, 1\)"):
        losses.d_loss_classes(torch.zeros(3, 3), y, torch.zeros(2, 3, 1))
    with pytest.raises(TypeError, match="logits_fake must be a floating-point tensor"):
        losses.g_loss_classes(torch.zeros(2, 3, dtype=torch.int64), y[:2])


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


# ----------------------------------------------------------------------------- conditional models


def test_conditional_generator_shapes_range_and_class_embedding():
    G, _ = conditional_players("ProjectionDiscriminator")
    G.eval()
    z = torch.randn(5, LATENT)
    y = torch.tensor([0, 3, 9, 3, 1])
    x = G(z, y)
    assert x.shape == (5, 1, 28, 28)
    assert float(x.detach().min()) >= -1 and float(x.detach().max()) <= 1
    # G(z, y) is the DCGAN body fed [z, row y of the embedding table]
    assert_close(x, G.body(torch.cat([z, G.embed.weight[y]], dim=1)))
    # the label matters: same z, another class, another image
    assert not torch.allclose(x[0], G(z, torch.tensor([1, 3, 9, 3, 1]))[0], atol=1e-4)


def test_labels_for_repeats_an_int_cycles_for_none_and_checks_a_tensor():
    G, _ = conditional_players("ProjectionDiscriminator")
    assert torch.equal(G.labels_for(4, 7), torch.tensor([7, 7, 7, 7]))
    cycle = G.labels_for(23, None)
    assert cycle.tolist() == list(range(10)) + list(range(10)) + [0, 1, 2]
    assert torch.bincount(G.labels_for(30, None), minlength=10).tolist() == [3] * 10
    given = torch.tensor([2, 0, 9])
    assert torch.equal(G.labels_for(3, given), given)
    with pytest.raises(ValueError, match=r"must lie in \[0, 9\] \(10 classes\), got 10"):
        G.labels_for(4, 10)
    with pytest.raises(ValueError, match=r"must have shape \(4,\), one per sample, got \(3,\)"):
        G.labels_for(4, given)
    with pytest.raises(TypeError, match="got bool"):
        G.labels_for(4, True)
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        G.labels_for(0, None)


def test_conditional_sample_is_seeded_in_eval_mode_and_restores_the_mode():
    G, _ = conditional_players("ProjectionDiscriminator")
    G.train()
    a = G.sample(6, seed=1, labels=3)
    assert G.training and not a.requires_grad and a.shape == (6, 1, 28, 28)
    assert torch.equal(a, G.sample(6, seed=1, labels=3))
    with models.evaluating(G):
        expected = G(G.sample_latent(6, seed=1), torch.full((6,), 3))
    assert_close(a, expected)
    # labels=None: classes 0, 1, ..., 5 for the same latents
    with models.evaluating(G):
        expected = G(G.sample_latent(6, seed=1), torch.arange(6))
    assert_close(G.sample(6, seed=1), expected)


def test_dcgan_features_are_the_input_of_the_output_convolution():
    torch.manual_seed(0)
    D = models.DCGANDiscriminator(width=WIDTH).eval()
    x = images(3)
    phi = D.features(x)
    assert phi.shape == (3, 2 * WIDTH * 49)
    assert_close(D.net[-1](phi.view(3, 2 * WIDTH, 7, 7)).flatten(), D(x))
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\), got \(3, 784\)"):
        D.features(x.flatten(1))


def test_projection_discriminator_is_psi_of_phi_plus_embedding_inner_product():
    """D(x, y) = psi(phi(x)) + <e_y, phi(x)>: with e = 0 it is the unconditional score, and a
    change of label changes the score by <e_y - e_y', phi(x)> (Miyato & Koyama 2018)."""
    _, D = conditional_players("ProjectionDiscriminator")
    D = D.to(F64).eval()
    x, y, y2 = images(4).to(F64), torch.tensor([0, 5, 9, 2]), torch.tensor([1, 5, 0, 7])
    score = D(x, y)
    assert score.shape == (4,)
    phi = D.body.features(x)
    e = D.embed.weight.detach()
    assert_close(score - D(x, y2), ((e[y] - e[y2]) * phi).sum(1))
    assert (score - D(x, y2))[1].item() == 0.0  # same label, same score
    assert_close(score, D.body(x) + (e[y] * phi).sum(1))
    with torch.no_grad():
        D.embed.weight.zero_()
    assert_close(D(x, y), D.body(x))
    assert_close(D(x, y2), D.body(x))


def frozen_step(G, D, x_real, y_real, x_fake_batch):
    """conditional_step with learning rate 0 (nothing moves): its stats are the losses."""
    z, y_fake = x_fake_batch
    opt_D, opt_G = (torch.optim.SGD(m.parameters(), lr=0.0) for m in (D, G))
    return train_images.conditional_step(G, D, x_real, y_real, z, y_fake, opt_D, opt_G)


def test_projection_discriminator_trains_on_the_minimax_and_nonsaturating_losses():
    G, D = conditional_players("ProjectionDiscriminator")
    G, D = G.to(F64).eval(), D.to(F64).eval()
    x_real, y_real = images(4, 1).to(F64), torch.tensor([0, 1, 2, 3])
    z, y_fake = torch.randn(3, LATENT, dtype=F64), torch.tensor([4, 5, 6])
    d_stats, g_stats = frozen_step(G, D, x_real, y_real, (z, y_fake))
    d_real, d_fake = D(x_real, y_real), D(G(z, y_fake), y_fake)
    expected = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()  # -log D, -log(1 - D)
    assert d_stats["loss_D"] == pytest.approx(expected.item(), rel=1e-12)
    assert g_stats["loss_G"] == pytest.approx(F.softplus(-d_fake).mean().item(), rel=1e-12)
    assert d_stats["p_real"] == pytest.approx(torch.sigmoid(d_real).mean().item(), rel=1e-12)
    assert d_stats["p_fake"] == pytest.approx(torch.sigmoid(d_fake).mean().item(), rel=1e-12)


def test_classifying_discriminator_logits_realness_and_losses():
    G, D = conditional_players("ClassifyingDiscriminator")
    G, D = G.to(F64).eval(), D.to(F64).eval()
    with torch.no_grad():  # larger logits than the N(0, 0.02) initialisation gives
        D.body.head.weight.mul_(50)
    x_real, y_real = images(4, 1).to(F64), torch.tensor([0, 9, 2, 3])
    z, y_fake = torch.randn(3, LATENT, dtype=F64), torch.tensor([4, 5, 6])
    x_fake = G(z, y_fake)
    logits = D(x_real)
    assert logits.shape == (4, CLASSES + 1)
    # realness is the logit of P(real) = 1 - softmax(l)_C, whatever the label
    realness = D.realness(x_real, y_real)
    p_fake = log_softmax_by_hand(logits)[:, CLASSES].exp()
    assert_close(torch.sigmoid(realness), 1 - p_fake)
    assert_close(D.realness(x_real, y_fake.new_zeros(4)), realness)
    d_stats, g_stats = frozen_step(G, D, x_real, y_real, (z, y_fake))
    ls_real, ls_fake = log_softmax_by_hand(D(x_real)), log_softmax_by_hand(D(x_fake))
    expected = -ls_real[torch.arange(4), y_real].mean() - ls_fake[:, CLASSES].mean()
    assert d_stats["loss_D"] == pytest.approx(expected.item(), rel=1e-12)
    assert d_stats["p_real"] == pytest.approx(torch.sigmoid(realness).mean().item(), rel=1e-12)
    fake_realness = D.realness(x_fake, y_fake)
    assert d_stats["p_fake"] == pytest.approx(torch.sigmoid(fake_realness).mean().item(), rel=1e-12)
    loss_G = -ls_fake[torch.arange(3), y_fake].mean()
    assert g_stats["loss_G"] == pytest.approx(loss_G.item(), rel=1e-12)
    # the extra class C is "fake": it is not a label a real image may carry
    with pytest.raises(ValueError, match=r"y_real .* must lie in \[0, 9\] \(10 classes\), got 10"):
        frozen_step(G, D, x_real, torch.tensor([0, 10, 2, 3]), (z, y_fake))


def test_conditional_step_refuses_an_unconditional_discriminator():
    G, _ = conditional_players("ProjectionDiscriminator")
    D = models.DCGANDiscriminator(WIDTH)
    with pytest.raises(
        TypeError, match="conditional discriminator of models, got DCGANDiscriminator"
    ):
        frozen_step(
            G, D, images(2), torch.tensor([0, 1]), (torch.randn(2, LATENT), torch.tensor([1, 2]))
        )


def _label_calls():
    """(name, call(labels)) for every public entry point that takes class labels (B = 5)."""
    torch.manual_seed(0)
    G = models.ConditionalDCGANGenerator(CLASSES, LATENT, WIDTH, EMBED)
    P = models.ProjectionDiscriminator(CLASSES, WIDTH)
    C = models.ClassifyingDiscriminator(CLASSES, WIDTH)
    z, x = torch.randn(5, LATENT), images(5)
    good = torch.arange(5)
    return {
        "generator": lambda y: G(z, y),
        "projection": lambda y: P(x, y),
        "conditional_step": lambda y: train_images.conditional_step(
            G, C, x, y, z, good, *(torch.optim.SGD(m.parameters(), lr=0.0) for m in (C, G))
        ),
        "classifying_d_loss": lambda y: losses.d_loss_classes(C(x), y, C(x)),
        "classifying_g_loss": lambda y: losses.g_loss_classes(C(x), y),
        "labels_for": lambda y: G.labels_for(5, y),
        "class_labels": lambda y: _checks.class_labels("labels", y, CLASSES, 5),
    }


LABEL_CALLS = _label_calls()


@pytest.mark.parametrize("name", list(LABEL_CALLS))
@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (torch.tensor([0, 1, 10, 2, 3]), ValueError, r"must lie in \[0, 9\] \(10 classes\), got 10"),
        (torch.tensor([0, 1, 2, -1, 3]), ValueError, r"must lie in \[0, 9\] \(10 classes\), got -1"),
        (torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]), TypeError, r"integer class indices .* torch\.float32"),
        (torch.tensor([True, False, True, True, False]), TypeError, r"got dtype torch\.bool"),
        (torch.zeros(5, 1, dtype=torch.long), ValueError, r"must have shape \(5,\), one per sample, got \(5, 1\)"),
        (torch.zeros(4, dtype=torch.long), ValueError, r"must have shape \(5,\), one per sample, got \(4,\)"),
        ([0, 1, 2, 3, 4], TypeError, r"must be a torch\.Tensor of class indices, got list"),
    ],
    ids=["too_large", "negative", "float", "bool", "column", "short", "list"],
)  # fmt: skip
def test_bad_labels_raise_a_clear_error_naming_the_value(name, labels, error, message):
    with pytest.raises(error, match=message):
        LABEL_CALLS[name](labels)


def test_class_labels_returns_its_argument_and_checks_length_only_when_asked():
    y = torch.tensor([3, 0, 2])
    assert _checks.class_labels("y", y, 4) is y
    assert _checks.class_labels("y", y, 4, n=3) is y
    empty = torch.zeros(0, dtype=torch.long)
    assert _checks.class_labels("y", empty, 4) is empty
    with pytest.raises(ValueError, match=r"y must have shape \(B,\), got \(1, 3\)"):
        _checks.class_labels("y", y[None], 4)
    with pytest.raises(ValueError, match=r"y must lie in \[0, 2\] \(3 classes\), got 3"):
        _checks.class_labels("y", y, 3)
    # the first offending value is named, whichever end of the range it leaves
    with pytest.raises(ValueError, match="got 7"):
        _checks.class_labels("y", torch.tensor([0, 7, -2]), 4)


# ----------------------------------------------------------------------------- StyleGAN's ideas


@pytest.mark.parametrize("depth", [1, 3, 8])
def test_mapping_network_shape_depth_and_pixel_norm(depth):
    torch.manual_seed(0)
    f = models.MappingNetwork(latent_dim=3, w_dim=5, depth=depth, width=7).to(F64)
    linears = [m for m in f.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == depth
    assert linears[0].in_features == 3 and linears[-1].out_features == 5
    assert all(m.out_features == 7 for m in linears[:-1])
    assert isinstance(list(f.net)[-1], nn.Linear)  # no activation on w
    assert sum(isinstance(m, nn.LeakyReLU) for m in f.modules()) == depth - 1
    z = batch(6, 3, depth)
    w = f(z)
    assert w.shape == (6, 5)
    # z is normalised to unit RMS first: f(z) = f(a z) for a > 0, and = net(z / rms(z))
    assert_close(f(2 * z), w)
    assert_close(f(10 * z), w)  # (a tiny z feels the 1e-8 under the square root)
    assert_close(w, f.net(z / z.pow(2).mean(1, keepdim=True).sqrt()))
    assert not torch.allclose(f(-z), w)  # a direction, not only a length


def test_mapping_network_checks_its_input():
    f = models.MappingNetwork(latent_dim=3, w_dim=2, depth=2, width=4)
    with pytest.raises(ValueError, match=r"must have shape \(B, 3\), got \(4, 2\)"):
        f(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="depth must be a positive integer, got 0"):
        models.MappingNetwork(depth=0)


def test_adain_gives_each_feature_map_the_style_mean_and_std():
    gen = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(2, 3, 4, 5, generator=gen, dtype=F64) + 7
    scale = torch.tensor([[0.5, -2.0, 1.0], [3.0, 0.1, -0.7]], dtype=F64)
    bias = torch.tensor([[0.0, 1.0, -4.0], [2.5, -1.0, 0.3]], dtype=F64)
    out = models.adain(x, scale, bias)
    assert out.shape == x.shape
    assert_close(out.mean(dim=(2, 3)), bias)
    # population std |y_s| sigma / sqrt(sigma^2 + eps), i.e. |y_s| up to eps
    var = x.var(dim=(2, 3), unbiased=False)
    std = out.std(dim=(2, 3), unbiased=False)
    assert_close(std, scale.abs() * (var / (var + 1e-5)).sqrt())
    assert_close(std, scale.abs(), rtol=1e-5, atol=0)
    # a positive affine change of one sample's maps does not matter; eps=0 makes it exact
    assert_close(
        models.adain(5 * x - 2, scale, bias, eps=0.0), models.adain(x, scale, bias, eps=0.0)
    )
    # a negative scale flips the normalised map
    ref = models.adain(x, scale.abs(), bias)
    assert_close(out[0, 1] - bias[0, 1], -(ref[0, 1] - bias[0, 1]))


def test_adain_rejects_wrong_shapes():
    x, sb = torch.zeros(2, 3, 4, 4), torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(B, C, H, W\), got \(2, 3, 16\)"):
        models.adain(x.flatten(2), sb, sb)
    with pytest.raises(ValueError, match=r"scale must have shape \(2, 3\) \(B, C\), got \(2, 4\)"):
        models.adain(x, torch.zeros(2, 4), sb)
    with pytest.raises(ValueError, match=r"bias must have shape \(2, 3\) \(B, C\), got \(3,\)"):
        models.adain(x, sb, torch.zeros(3))


# ----------------------------------------------------------------------------- Wasserstein-1


def normal_pdf(x: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    return torch.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))


DX = 2.0**-10  # a dyadic grid: 0, 1, 2, ... are grid points exactly
X = torch.arange(-4 * 1024, 10 * 1024 + 1, dtype=F64) * DX


def uniform(lo: float, hi: float) -> torch.Tensor:
    """The density of U(lo, hi) on X, normalised to trapezoid integral 1."""
    p = ((X >= lo) & (X <= hi)).to(F64)
    return p / torch.trapezoid(p, X)


@pytest.mark.parametrize("t", [0.25, 2.0, -3.0])
def test_wasserstein_1_of_a_shift_is_its_size(t):
    for p, q in (
        (normal_pdf(X, 0.0, 0.1), normal_pdf(X, t, 0.1)),
        (uniform(1.0, 2.0), uniform(1.0 + t, 2.0 + t)),
    ):
        w = theory.wasserstein_1(p, q, X)
        assert w.shape == ()
        assert abs(w.item() - abs(t)) < 1e-3
        assert theory.wasserstein_1(q, p, X).item() == w.item()  # symmetric
    assert theory.wasserstein_1(p, p, X).item() == 0.0


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
        assert theory.jensen_shannon(p, q, X).item() == pytest.approx(LOG2, abs=1e-9)
        assert theory.wasserstein_1(p, q, X).item() == pytest.approx(t, abs=1e-3)


def test_wasserstein_1_checks_its_densities():
    with pytest.raises(ValueError, match=r"q must have shape \(5,\), got \(4,\)"):
        theory.wasserstein_1(torch.ones(5, dtype=F64), torch.ones(4, dtype=F64), X[:5])
    with pytest.raises(ValueError, match="p must be a non-negative density"):
        theory.wasserstein_1(-torch.ones(5, dtype=F64), torch.ones(5, dtype=F64), X[:5])


# ----------------------------------------------------------------------------- sliced Wasserstein


def directions(d: int, projections: int, seed: int) -> torch.Tensor:
    u = torch.randn(d, projections, generator=torch.Generator().manual_seed(seed), dtype=F64)
    return u / u.norm(dim=0, keepdim=True)


def sliced_wasserstein_numpy(x: np.ndarray, y: np.ndarray, u: np.ndarray) -> float:
    """mean over directions j of mean_i |sort(x u_j)_i - sort(y u_j)_i|, one direction at a time."""
    total = 0.0
    for j in range(u.shape[1]):
        px, py = np.sort(x @ u[:, j]), np.sort(y @ u[:, j])
        total += float(np.mean(np.abs(px - py)))
    return total / u.shape[1]


def test_sliced_wasserstein_matches_a_numpy_loop_over_the_same_directions():
    x, y = batch(50, 3, 0), 0.5 * batch(50, 3, 1) + 1
    for seed, projections in ((0, 16), (3, 40)):
        u = directions(3, projections, seed).numpy()
        expected = sliced_wasserstein_numpy(x.numpy(), y.numpy(), u)
        value = metrics.sliced_wasserstein(x, y, projections=projections, seed=seed)
        assert isinstance(value, float)
        assert value == pytest.approx(expected, rel=1e-12)
    # float32 samples are compared in float64
    value = metrics.sliced_wasserstein(x.float(), y.float(), projections=16, seed=0)
    assert value == pytest.approx(sliced_wasserstein_numpy(x.float().double().numpy(),
                                  y.float().double().numpy(), directions(3, 16, 0).numpy()))  # fmt: skip


def test_sliced_wasserstein_is_zero_for_the_same_set_and_symmetric():
    x, y = batch(40, 2, 0), batch(40, 2, 1)
    assert metrics.sliced_wasserstein(x, x) == 0.0
    assert metrics.sliced_wasserstein(x, x[torch.randperm(40)]) == 0.0  # order does not matter
    assert metrics.sliced_wasserstein(x, y) == metrics.sliced_wasserstein(y, x) > 0


def test_sliced_wasserstein_of_a_translation_is_norm_t_times_2_over_pi():
    """y = x + t: every projection is shifted by <t, u>, so SW = mean_u |<t, u>|, which tends to
    |t| E|cos theta| = |t| 2 / pi for directions uniform on the circle."""
    x = batch(500, 2, 0)
    t = torch.tensor([3.0, -4.0], dtype=F64)
    value = metrics.sliced_wasserstein(x, x + t, projections=4096, seed=1)
    assert value == pytest.approx(5 * 2 / math.pi, rel=0.05)
    assert value == pytest.approx(float((t @ directions(2, 4096, 1)).abs().mean()), rel=1e-9)


def test_sliced_wasserstein_in_one_dimension_is_wasserstein_1d():
    x, y = batch(30, 1, 0), 2 * batch(30, 1, 1) + 0.5
    assert metrics.sliced_wasserstein(x, y, projections=5) == pytest.approx(
        metrics.wasserstein_1d(x, y), rel=1e-12
    )


def test_sliced_wasserstein_rejects_mismatched_sets():
    with pytest.raises(ValueError, match="same number of samples, got 5 and 6"):
        metrics.sliced_wasserstein(batch(5, 2, 0), batch(6, 2, 1))
    with pytest.raises(ValueError, match="differ in dimension: 2 and 3"):
        metrics.sliced_wasserstein(batch(5, 2, 0), batch(5, 3, 1))
    with pytest.raises(
        ValueError, match=r"x must be a feature matrix of shape \(N, d\), got \(5,\)"
    ):
        metrics.sliced_wasserstein(torch.zeros(5), batch(5, 1, 1))
    with pytest.raises(ValueError, match="projections must be a positive integer, got 0"):
        metrics.sliced_wasserstein(batch(5, 2, 0), batch(5, 2, 1), projections=0)
