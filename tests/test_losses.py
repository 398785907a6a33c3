"""ganlab.losses: each loss against its closed form, BCE identities, stability and gradients."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
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
