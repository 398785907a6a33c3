"""ganlab.losses: each loss against its closed form, BCE identities, stability and gradients;
hinge, least-squares, Wasserstein and class losses; R1 and the per-sample WGAN-GP penalty."""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F
from conftest import WIDTH, batch, linear_critic, log_softmax_by_hand
from torch import nn
from torch.testing import assert_close

from ganlab import losses, models, train

F64 = torch.float64


def scores(n: int, seed: int) -> torch.Tensor:
    """Moderate raw scores in about [-4, 4], float64."""
    return 2 * torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=F64)


# ----------------------------------------------------------------------------- closed forms


def test_minimax_value_closed_form():
    """V = mean log sigmoid(d_real) + mean log(1 - sigmoid(d_fake))."""
    d_real, d_fake = scores(10, 0), scores(7, 1)
    expected = torch.log(torch.sigmoid(d_real)).mean() + torch.log(1 - torch.sigmoid(d_fake)).mean()
    assert_close(losses.minimax_value(d_real, d_fake), expected)


def test_d_loss_minimax_closed_form():
    """-[mean log D(x_real) + mean log(1 - D(x_fake))], with unequal batch sizes."""
    d_real, d_fake = scores(10, 0), scores(7, 1)
    expected = (
        -torch.log(torch.sigmoid(d_real)).mean() - torch.log(1 - torch.sigmoid(d_fake)).mean()
    )
    assert_close(losses.d_loss_minimax(d_real, d_fake), expected)


def test_d_loss_minimax_with_label_smoothing_closed_form():
    """-[mean (y log D + (1 - y) log(1 - D))(x_real) + mean log(1 - D(x_fake))], y = 0.9."""
    d_real, d_fake = scores(10, 0), scores(7, 1)
    D_real, D_fake = torch.sigmoid(d_real), torch.sigmoid(d_fake)
    expected = (
        -(0.9 * torch.log(D_real) + 0.1 * torch.log(1 - D_real)).mean()
        - torch.log(1 - D_fake).mean()
    )
    assert_close(losses.d_loss_minimax(d_real, d_fake, real_label=0.9), expected)


def test_g_loss_saturating_closed_form():
    """mean log(1 - D(G(z)))."""
    d_fake = scores(9, 2)
    assert_close(losses.g_loss_saturating(d_fake), torch.log(1 - torch.sigmoid(d_fake)).mean())


def test_g_loss_nonsaturating_closed_form():
    """-mean log D(G(z))."""
    d_fake = scores(9, 2)
    assert_close(losses.g_loss_nonsaturating(d_fake), -torch.log(torch.sigmoid(d_fake)).mean())


def test_losses_keep_the_input_dtype_and_return_scalars():
    for dtype in (torch.float32, F64):
        d_real, d_fake = scores(4, 0).to(dtype), scores(4, 1).to(dtype)
        for value in (
            losses.minimax_value(d_real, d_fake),
            losses.d_loss_minimax(d_real, d_fake),
            losses.g_loss_saturating(d_fake),
            losses.g_loss_nonsaturating(d_fake),
        ):
            assert value.shape == ()
            assert value.dtype == dtype


# ----------------------------------------------------------------------------- identities


def test_d_loss_minimax_is_twice_bce_on_the_concatenation_for_equal_batches():
    """mean_real + mean_fake = 2 * BCE-mean over cat(real, fake) with labels cat(1, 0)."""
    d_real, d_fake = scores(8, 0), scores(8, 1)
    bce = F.binary_cross_entropy_with_logits(
        torch.cat([d_real, d_fake]),
        torch.cat([torch.ones(8, dtype=F64), torch.zeros(8, dtype=F64)]),
    )
    assert_close(losses.d_loss_minimax(d_real, d_fake), 2 * bce)


def test_d_loss_minimax_is_bce_real_plus_bce_fake_for_any_batches():
    d_real, d_fake = scores(5, 0), scores(11, 1)
    expected = F.binary_cross_entropy_with_logits(
        d_real, torch.ones_like(d_real)
    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    assert_close(losses.d_loss_minimax(d_real, d_fake), expected)


def test_d_loss_minimax_is_minus_the_value():
    d_real, d_fake = scores(6, 3), scores(9, 4)
    assert_close(losses.d_loss_minimax(d_real, d_fake), -losses.minimax_value(d_real, d_fake))


def test_label_smoothing_is_bce_with_target_09_on_reals_only():
    """One-sided smoothing: target 0.9 on reals, the fakes keep target 0."""
    d_real, d_fake = scores(6, 3), scores(9, 4)
    expected = F.binary_cross_entropy_with_logits(
        d_real, torch.full_like(d_real, 0.9)
    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    assert_close(losses.d_loss_minimax(d_real, d_fake, real_label=0.9), expected)


def test_g_loss_nonsaturating_is_bce_against_label_1():
    d_fake = scores(9, 5)
    expected = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
    assert_close(losses.g_loss_nonsaturating(d_fake), expected)


def test_g_loss_saturating_is_minus_bce_against_label_0():
    d_fake = scores(9, 5)
    expected = -F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    assert_close(losses.g_loss_saturating(d_fake), expected)


def test_value_is_minus_log_4_when_D_is_one_half():
    zeros = torch.zeros(5, dtype=F64)
    assert_close(losses.minimax_value(zeros, zeros), torch.tensor(-math.log(4), dtype=F64))
    assert_close(losses.d_loss_minimax(zeros, zeros), torch.tensor(math.log(4), dtype=F64))


def test_value_at_the_optimal_D_is_minus_log_4_plus_2_jsd():
    """Goodfellow et al. 2014, Thm 1: with D* = p_data / (p_data + p_g), V = -log 4 + 2 JSD.

    Discrete check: support {a, b}, p_data = (3/4, 1/4), p_g = (1/4, 3/4); the batches hold
    each point in proportion to its probability, so batch means are expectations.
    """
    p_data, p_g = torch.tensor([0.75, 0.25], dtype=F64), torch.tensor([0.25, 0.75], dtype=F64)
    d_star = p_data / (p_data + p_g)
    logit = torch.log(d_star / (1 - d_star))  # D's raw score at a and b
    d_real = logit[torch.tensor([0, 0, 0, 1])]  # samples a, a, a, b from p_data
    d_fake = logit[torch.tensor([0, 1, 1, 1])]  # samples a, b, b, b from p_g
    m = (p_data + p_g) / 2
    jsd = 0.5 * (p_data * (p_data / m).log()).sum() + 0.5 * (p_g * (p_g / m).log()).sum()
    assert_close(losses.minimax_value(d_real, d_fake), -math.log(4) + 2 * jsd)


def test_d_loss_minimax_argument_order_is_real_then_fake():
    """A confident, correct D (reals +5, fakes -5) has a small loss; swapped, a large one."""
    high, low = torch.full((4,), 5.0, dtype=F64), torch.full((4,), -5.0, dtype=F64)
    assert_close(losses.d_loss_minimax(high, low), 2 * F.softplus(torch.tensor(-5.0, dtype=F64)))
    assert_close(losses.d_loss_minimax(low, high), 2 * F.softplus(torch.tensor(5.0, dtype=F64)))


# ----------------------------------------------------------------------------- stability


EXTREME = torch.tensor([-100.0, 100.0])


@pytest.mark.parametrize(
    "loss",
    [
        lambda s: losses.minimax_value(s, s),
        lambda s: losses.d_loss_minimax(s, s),
        lambda s: losses.d_loss_minimax(s, s, real_label=0.9),
        losses.g_loss_saturating,
        losses.g_loss_nonsaturating,
    ],
    ids=["value", "d_minimax", "d_smoothed", "g_saturating", "g_nonsaturating"],
)
def test_values_and_gradients_are_finite_at_scores_pm_100(loss):
    s = EXTREME.clone().requires_grad_(True)
    value = loss(s)
    (grad,) = torch.autograd.grad(value, s)
    assert bool(torch.isfinite(value))
    assert bool(torch.isfinite(grad).all())


def test_naive_log_sigmoid_is_not_finite_at_pm_100():
    """The test above can tell: log(sigmoid(s)) and log(1 - sigmoid(s)) underflow to -inf."""
    assert torch.log(torch.sigmoid(torch.tensor(-100.0))).item() == -math.inf
    assert torch.log(1 - torch.sigmoid(torch.tensor(100.0))).item() == -math.inf


def test_loss_values_at_pm_100_are_the_asymptotes():
    """-log sigmoid(-100) = 100 + log(1 + e^-100) = 100 in float32, and so on."""
    minus, plus = torch.tensor([-100.0]), torch.tensor([100.0])
    assert_close(losses.g_loss_nonsaturating(minus), torch.tensor(100.0))
    assert_close(losses.g_loss_saturating(plus), torch.tensor(-100.0))
    assert_close(losses.d_loss_minimax(minus, plus), torch.tensor(200.0))
    assert_close(losses.d_loss_minimax(plus, minus), torch.tensor(0.0))
    assert_close(losses.minimax_value(plus, minus), torch.tensor(0.0))


# ----------------------------------------------------------------------------- gradients


def grad_wrt_scores(loss, s: torch.Tensor) -> torch.Tensor:
    s = s.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(s), s)
    return grad


def test_saturating_gradient_is_minus_sigmoid_over_B():
    s = torch.linspace(-6, 6, 13, dtype=F64)
    assert_close(grad_wrt_scores(losses.g_loss_saturating, s), -torch.sigmoid(s) / len(s))


def test_nonsaturating_gradient_is_minus_one_minus_sigmoid_over_B():
    s = torch.linspace(-6, 6, 13, dtype=F64)
    assert_close(grad_wrt_scores(losses.g_loss_nonsaturating, s), -(1 - torch.sigmoid(s)) / len(s))


def test_d_loss_gradients_are_sigmoid_minus_label_over_B():
    """d/ds BCE(s, y) = sigmoid(s) - y, for reals (y = 0.9) and fakes (y = 0)."""
    d_real, d_fake = scores(6, 0).requires_grad_(True), scores(4, 1).requires_grad_(True)
    g_real, g_fake = torch.autograd.grad(
        losses.d_loss_minimax(d_real, d_fake, real_label=0.9), (d_real, d_fake)
    )
    assert_close(g_real, (torch.sigmoid(d_real) - 0.9).detach() / 6)
    assert_close(g_fake, torch.sigmoid(d_fake).detach() / 4)


def test_saturating_gradient_vanishes_when_D_rejects_fakes():
    """As s -> -inf: saturating gradient -> 0, non-saturating gradient -> -1/B."""
    B = 4
    s = torch.full((B,), -40.0, dtype=F64)
    sat = grad_wrt_scores(losses.g_loss_saturating, s)
    nonsat = grad_wrt_scores(losses.g_loss_nonsaturating, s)
    assert_close(sat, torch.zeros(B, dtype=F64), rtol=0, atol=1e-15)
    assert_close(nonsat, torch.full((B,), -1 / B, dtype=F64), rtol=1e-12, atol=0)
    # and the decay is exponential: |grad| = sigmoid(s) / B, about e^s / B
    for value in (-10.0, -20.0, -40.0):
        g = grad_wrt_scores(losses.g_loss_saturating, torch.full((B,), value, dtype=F64))
        assert_close(g, torch.full((B,), -math.exp(value) / B, dtype=F64), rtol=1e-4, atol=0)


def test_gradients_agree_when_D_is_fooled():
    """As s -> +inf (D(G(z)) -> 1): saturating -> -1/B, non-saturating -> 0."""
    B = 4
    s = torch.full((B,), 40.0, dtype=F64)
    assert_close(grad_wrt_scores(losses.g_loss_saturating, s), torch.full((B,), -1 / B, dtype=F64))
    assert_close(
        grad_wrt_scores(losses.g_loss_nonsaturating, s),
        torch.zeros(B, dtype=F64),
        rtol=0,
        atol=1e-15,
    )


# ----------------------------------------------------------------------------- registry, errors


def test_get_losses_returns_the_named_pairs():
    assert losses.get_losses("saturating") == (losses.d_loss_minimax, losses.g_loss_saturating)
    assert losses.get_losses("nonsaturating") == (
        losses.d_loss_minimax,
        losses.g_loss_nonsaturating,
    )


def test_get_losses_unknown_name_raises_naming_it():
    with pytest.raises(ValueError, match="unknown loss kind 'wgan'"):
        losses.get_losses("wgan")


@pytest.mark.parametrize("label", [1.5, -0.1, float("nan")])
def test_real_label_outside_unit_interval_raises_naming_it(label):
    with pytest.raises(ValueError, match=rf"real_label must lie in \[0, 1\], got {label!r}"):
        losses.d_loss_minimax(torch.zeros(3), torch.zeros(3), real_label=label)


@pytest.mark.parametrize("label", [0.0, 1.0])
def test_real_label_endpoints_are_allowed(label):
    d_real = scores(3, 0)
    expected = F.binary_cross_entropy_with_logits(
        d_real, torch.full_like(d_real, label)
    ) + math.log(2)
    assert_close(
        losses.d_loss_minimax(d_real, torch.zeros(3, dtype=F64), real_label=label), expected
    )


def test_empty_or_integer_scores_raise():
    with pytest.raises(ValueError, match="d_fake is empty"):
        losses.g_loss_nonsaturating(torch.zeros(0))
    with pytest.raises(TypeError, match="d_real must be a floating-point tensor"):
        losses.d_loss_minimax(torch.zeros(3, dtype=torch.int64), torch.zeros(3))


# ----------------------------------------------------------------------------- flipped labels


def test_flipped_labels_loss_equals_the_nonsaturating_loss():
    """BCE(d_fake, 1) = -mean log sigmoid(d_fake), value and gradient, float32 and float64."""
    for dtype in (torch.float32, F64):
        s = scores(11, 6).to(dtype)
        assert_close(losses.g_loss_flipped_labels(s), losses.g_loss_nonsaturating(s))
        assert_close(
            grad_wrt_scores(losses.g_loss_flipped_labels, s),
            grad_wrt_scores(losses.g_loss_nonsaturating, s),
        )
    extreme = torch.tensor([-100.0, 0.0, 100.0])
    assert_close(losses.g_loss_flipped_labels(extreme), losses.g_loss_nonsaturating(extreme))


def test_flipped_labels_loss_rejects_integer_scores():
    with pytest.raises(TypeError, match="d_fake must be a floating-point tensor"):
        losses.g_loss_flipped_labels(torch.zeros(3, dtype=torch.int64))


# ----------------------------------------------------------------------------- logit gradient


LOGIT_GRID = torch.linspace(-12, 12, 49, dtype=F64)


@pytest.mark.parametrize(
    ("kind", "loss"),
    [("saturating", losses.g_loss_saturating), ("nonsaturating", losses.g_loss_nonsaturating)],
)
def test_logit_gradient_is_the_autograd_derivative_of_the_loss_for_one_score(kind, loss):
    """g_loss_logit_gradient(kind, sigmoid(s)) = d loss([s]) / ds, at 49 scores in [-12, 12]."""
    for s in LOGIT_GRID:
        (autograd,) = grad_wrt_scores(loss, s.reshape(1))
        assert_close(losses.g_loss_logit_gradient(kind, torch.sigmoid(s)), autograd)


def test_logit_gradients_closed_forms_signs_and_limits():
    """-p and -(1 - p): both < 0 inside (0, 1), summing to -1; each vanishes at one end."""
    p = torch.linspace(0, 1, 101, dtype=F64)
    sat = losses.g_loss_logit_gradient("saturating", p)
    nonsat = losses.g_loss_logit_gradient("nonsaturating", p)
    assert sat.shape == nonsat.shape == p.shape
    assert_close(sat, -p)
    assert_close(nonsat, -(1 - p))
    assert_close(sat + nonsat, torch.full_like(p, -1.0))
    inside = slice(1, -1)
    assert bool((sat[inside] < 0).all()) and bool((nonsat[inside] < 0).all())
    # p = D(G(z)) -> 0 (D rejects the fakes): the saturating gradient vanishes, not the other
    assert (sat[0].item(), nonsat[0].item()) == (0.0, -1.0)
    assert (sat[-1].item(), nonsat[-1].item()) == (-1.0, 0.0)
    # they agree only at p = 1/2; below it the non-saturating one is (1 - p) / p times larger
    assert_close(sat[50], nonsat[50])
    low = p[1:50]
    assert_close(nonsat[1:50] / sat[1:50], (1 - low) / low)


def test_logit_gradient_keeps_shape_and_dtype():
    p = torch.rand(3, 4, generator=torch.Generator().manual_seed(0))
    for kind in ("saturating", "nonsaturating"):
        g = losses.g_loss_logit_gradient(kind, p)
        assert g.shape == (3, 4) and g.dtype == torch.float32


def test_logit_gradient_unknown_kind_raises_naming_it():
    with pytest.raises(ValueError, match="unknown loss kind 'wasserstein'"):
        losses.g_loss_logit_gradient("wasserstein", torch.tensor([0.5]))


@pytest.mark.parametrize("p", [-0.01, 1.01, float("nan"), float("inf")])
def test_logit_gradient_rejects_non_probabilities(p):
    with pytest.raises(ValueError, match=r"probabilities D\(G\(z\)\) in \[0, 1\]"):
        losses.g_loss_logit_gradient("saturating", torch.tensor([0.5, p]))


def test_logit_gradient_rejects_non_float_input():
    with pytest.raises(TypeError, match="d_fake_prob must be a floating-point tensor"):
        losses.g_loss_logit_gradient("saturating", torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="d_fake_prob must be a floating-point tensor"):
        losses.g_loss_logit_gradient("saturating", 0.5)


# ----------------------------------------------------------------------------- Wasserstein


def test_wasserstein_losses_by_hand():
    """Critic: mean D(fake) - mean D(real); generator: -mean D(fake); unequal batch sizes."""
    d_real = torch.tensor([1.0, 2.0, 6.0], dtype=F64)  # mean 3
    d_fake = torch.tensor([-1.0, 0.0, 0.5, 4.5], dtype=F64)  # mean 1
    assert_close(losses.d_loss_wasserstein(d_real, d_fake), torch.tensor(-2.0, dtype=F64))
    assert_close(losses.d_loss_wasserstein(d_fake, d_real), torch.tensor(2.0, dtype=F64))
    assert_close(losses.g_loss_wasserstein(d_fake), torch.tensor(-1.0, dtype=F64))
    # raw scores, no sigmoid: large scores give large losses
    big = torch.full((2,), 100.0)
    assert losses.g_loss_wasserstein(big).item() == -100.0


def test_wasserstein_gradients_are_plus_minus_one_over_B():
    d_real, d_fake = scores(5, 0).requires_grad_(True), scores(4, 1).requires_grad_(True)
    g_real, g_fake = torch.autograd.grad(
        losses.d_loss_wasserstein(d_real, d_fake), (d_real, d_fake)
    )
    assert_close(g_real, torch.full((5,), -1 / 5, dtype=F64))
    assert_close(g_fake, torch.full((4,), 1 / 4, dtype=F64))
    assert_close(
        grad_wrt_scores(losses.g_loss_wasserstein, scores(4, 2)), torch.full((4,), -0.25, dtype=F64)
    )


def test_wasserstein_losses_check_their_scores():
    with pytest.raises(ValueError, match="d_fake is empty"):
        losses.g_loss_wasserstein(torch.zeros(0))
    with pytest.raises(TypeError, match="d_real must be a floating-point tensor"):
        losses.d_loss_wasserstein(torch.zeros(3, dtype=torch.int64), torch.zeros(3))


# ----------------------------------------------------------------------------- R1 and WGAN-GP


@pytest.mark.parametrize("gamma", [0.5, 1.0, 10.0])
def test_r1_penalty_of_a_linear_critic_is_half_gamma_norm_w_squared(gamma):
    """(gamma / 2) ||w||^2 exactly, whatever the batch; backward gives gamma * w, no bias grad."""
    w = [0.5, -2.0, 1.5]
    D = linear_critic(w)
    penalty = losses.r1_penalty(D, batch(7, 3, 0), gamma)
    assert_close(penalty, torch.tensor(gamma / 2 * (0.25 + 4 + 2.25), dtype=F64))
    penalty.backward()
    assert_close(D.weight.grad, gamma * torch.tensor([w], dtype=F64))
    assert D.bias.grad is None or bool((D.bias.grad == 0).all())


def test_r1_penalty_averages_squared_input_gradients_over_the_batch():
    """D(x) = ||x||^2 / 2 has grad_x D = x: the penalty is (gamma / 2) mean_i ||x_i||^2."""
    x = batch(9, 2, 1)
    expected = 0.7 / 2 * x.pow(2).sum(1).mean()
    assert_close(losses.r1_penalty(lambda v: 0.5 * v.pow(2).sum(1), x, 0.7), expected)
    assert not x.requires_grad  # the caller's batch is left alone


def test_r1_penalty_is_zero_for_gamma_zero_and_rejects_negative_gamma():
    D = linear_critic([1.0, 2.0])
    assert losses.r1_penalty(D, batch(4, 2, 0), 0.0).item() == 0.0
    for gamma in (-0.1, float("nan")):
        with pytest.raises(ValueError, match=f"gamma must be >= 0, got {gamma}"):
            losses.r1_penalty(D, batch(4, 2, 0), gamma)


@pytest.mark.parametrize(("lam", "target"), [(0.5, 1.0), (10.0, 1.0), (1.0, 0.5), (1.5, 0.0)])
def test_gradient_penalty_of_a_linear_critic(lam, target):
    """lam (||w|| - target)^2 with ||w|| = 5; backward gives 2 lam (1 - t/||w||) w."""
    D = linear_critic([3.0, -4.0])
    penalty = losses.gradient_penalty(D, batch(6, 2, 2), lam, target=target)
    assert_close(penalty, torch.tensor(lam * (5.0 - target) ** 2, dtype=F64))
    penalty.backward()
    w = torch.tensor([[3.0, -4.0]], dtype=F64)
    assert_close(D.weight.grad, 2 * lam * (5.0 - target) * w / 5.0)


def test_gradient_penalty_with_target_zero_is_r1_and_is_one_centred_otherwise():
    """D = ||x||^2 / 2 (grad_x D = x): target 0 gives R1 with gamma = 2 lam, lam mean ||x||^2;
    target 1 gives lam mean (||x|| - 1)^2, the mean of squares, not the square of the mean."""
    x = batch(5, 3, 3)
    quad = lambda v: 0.5 * v.pow(2).sum(1)  # noqa: E731
    assert_close(losses.gradient_penalty(quad, x, 1.0, target=0.0), losses.r1_penalty(quad, x, 2.0))
    assert_close(losses.gradient_penalty(quad, x, 1.0), (x.norm(dim=1) - 1).pow(2).mean())


def test_penalties_on_an_mlp_critic_match_finite_differences_and_reach_its_weights(make_models):
    """grad_x D by central differences (float64) gives the same penalties; training on the
    penalty moves every weight matrix of D."""
    _, D = make_models(seed=0)
    D = D.to(F64)
    x = batch(8, 2, 4)
    step = 1e-6
    cols = [(D(x + step * e) - D(x - step * e)) / (2 * step) for e in torch.eye(2, dtype=F64)]
    grad_x = torch.stack(cols, dim=1).detach()  # (8, 2)
    r1 = losses.r1_penalty(D, x, 3.0)
    gp = losses.gradient_penalty(D, x, 1.5)
    assert_close(r1, 1.5 * grad_x.pow(2).sum(1).mean(), rtol=1e-6, atol=1e-9)
    assert_close(gp, 1.5 * (grad_x.norm(dim=1) - 1).pow(2).mean(), rtol=1e-6, atol=1e-9)
    for penalty in (r1, gp):
        D.zero_grad()
        penalty.backward()
        weights = [p for name, p in D.named_parameters() if name.endswith("weight")]
        assert weights
        for p in weights:
            assert p.grad is not None
            assert bool(torch.isfinite(p.grad).all()) and float(p.grad.abs().sum()) > 0


def test_gradient_penalty_rejects_negative_lam_and_bad_batches():
    D = linear_critic([1.0, 2.0])
    with pytest.raises(ValueError, match="lam must be >= 0, got -1.0"):
        losses.gradient_penalty(D, batch(4, 2, 0), -1.0)
    with pytest.raises(TypeError, match=r"x must be a floating-point batch of shape \(B, ...\)"):
        losses.gradient_penalty(D, torch.zeros(4), 1.0)
    with pytest.raises(TypeError, match="x must be a floating-point batch"):
        losses.r1_penalty(D, torch.zeros(4, 2, dtype=torch.int64), 1.0)


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


def test_penalties_print_their_settings():
    """A penalty's name says which penalty and its weight, as the run tables print it."""
    for penalty, name, weight in (
        (losses.wgan_gp(0.1), "wgan_gp", 0.1),
        (losses.r1(2.0), "r1", 2.0),
    ):
        settings = re.fullmatch(rf"{name}\((.+)\)", penalty.__name__)
        assert settings and float(settings.group(1)) == weight
