"""ganlab.losses: each loss against its closed form, BCE identities, stability and gradients."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from conftest import batch, linear_critic
from torch.testing import assert_close

from ganlab import losses

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
