"""ganlab.lipschitz: power iteration finds sigma(W); the product of the layers' sigmas bounds an
MLP's Lipschitz constant from above and its largest input-gradient norm bounds it from below."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations
from torch.testing import assert_close

from ganlab import lipschitz, losses, models


def with_singular_values(s: list[float], rows: int = 9, cols: int = 6, seed: int = 0):
    """W = U diag(s) V^T (float64) with random orthonormal U, V: its singular values are s."""
    g = torch.Generator().manual_seed(seed)
    U, _ = torch.linalg.qr(torch.randn(rows, len(s), generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(cols, len(s), generator=g, dtype=torch.float64))
    return U @ torch.diag(torch.tensor(s, dtype=torch.float64)) @ V.T


# ----------------------------------------------------------------------------- power_iteration


def test_power_iteration_converges_to_the_matrix_2_norm():
    W = torch.randn(20, 12, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sigma, u = lipschitz.power_iteration(W, iters=300, seed=0)
    assert_close(sigma, torch.linalg.matrix_norm(W, ord=2))
    assert u.shape == (20,)
    assert_close(u.norm(), torch.tensor(1.0, dtype=torch.float64))


def test_power_iteration_error_shrinks_by_s2_over_s1_to_the_fourth_per_iteration():
    """sigma_k^2 is the Rayleigh quotient of W^T W at v_k, whose error falls as
    (lambda_2 / lambda_1)^(2k) = (s2 / s1)^(4k): with s2 / s1 = 0.9, by 0.656 per iteration."""
    W = with_singular_values([2.0, 1.8, 1.0, 0.5])
    u0 = torch.randn(9, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    errors = torch.stack([2.0 - lipschitz.power_iteration(W, k, u0)[0] for k in range(1, 31)])
    assert bool((errors > 0).all())  # sigma_k = ||W v_k|| for a unit v_k: never above sigma
    assert_close(errors[-1] / errors[-2], torch.tensor(0.9**4, dtype=torch.float64), rtol=0.02,
                 atol=0)  # fmt: skip


def test_power_iteration_never_overshoots_and_never_decreases():
    W = with_singular_values([3.0, 2.9, 2.0, 1.0], seed=4)
    u0 = torch.randn(9, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    sigmas = torch.stack([lipschitz.power_iteration(W, k, u0)[0] for k in range(1, 20)])
    assert bool((sigmas.diff() >= -1e-12).all())
    assert bool((sigmas <= 3.0 + 1e-12).all())


def test_one_iteration_per_call_with_u_carried_over_equals_k_iterations_at_once():
    """What spectral normalisation does: one step per training step, u kept between steps."""
    W = torch.randn(7, 5, generator=torch.Generator().manual_seed(2))
    u0 = torch.randn(7, generator=torch.Generator().manual_seed(3))
    u = u0
    for _ in range(10):
        sigma, u = lipschitz.power_iteration(W, 1, u)
    sigma_10, u_10 = lipschitz.power_iteration(W, 10, u0)
    assert_close(sigma, sigma_10)
    assert_close(u, u_10)


def test_power_iteration_is_the_step_torch_spectral_norm_takes():
    layer = parametrizations.spectral_norm(nn.Linear(5, 7))
    u0 = layer.parametrizations.weight[0]._u.clone()
    W = layer.parametrizations.weight.original.detach()
    layer.train()
    w_sn = layer.weight  # one power iteration in training mode
    sigma, u = lipschitz.power_iteration(W, 1, u0)
    assert_close(w_sn.detach(), W / sigma)
    assert_close(u, layer.parametrizations.weight[0]._u)


def test_sigma_is_differentiable_with_gradient_u_v_transpose():
    """d sigma_1 / dW = u_1 v_1^T at convergence (sigma = u^T W v with u, v held fixed)."""
    W = with_singular_values([2.0, 1.0, 0.5]).requires_grad_(True)
    sigma, _ = lipschitz.power_iteration(W, 100, seed=0)
    sigma.backward()
    U, _, Vh = torch.linalg.svd(W.detach())
    outer = torch.outer(U[:, 0], Vh[0])
    sign = torch.sign((W.grad * outer).sum())  # singular vectors are defined up to sign
    assert_close(W.grad, sign * outer)


def test_a_conv_kernel_is_read_as_out_by_the_rest():
    W = torch.randn(8, 3, 3, 3, generator=torch.Generator().manual_seed(0))
    assert_close(
        lipschitz.power_iteration(W, 5, seed=1)[0],
        lipschitz.power_iteration(W.reshape(8, -1), 5, seed=1)[0],
    )


def test_power_iteration_checks_its_arguments():
    with pytest.raises(TypeError, match="W must be a floating-point tensor"):
        lipschitz.power_iteration(torch.randn(5))
    with pytest.raises(TypeError, match="W must be a floating-point tensor"):
        lipschitz.power_iteration(torch.ones(3, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="iters must be a positive integer, got 0"):
        lipschitz.power_iteration(torch.randn(3, 2), iters=0)
    with pytest.raises(ValueError, match=r"u must have shape \(3,\).*got \(2,\)"):
        lipschitz.power_iteration(torch.randn(3, 2), u=torch.randn(2))
    with pytest.raises(ValueError, match="u must be a nonzero vector"):
        lipschitz.power_iteration(torch.randn(3, 2), u=torch.zeros(3))
    with pytest.raises(ValueError, match="W contains NaN"):
        lipschitz.power_iteration(torch.tensor([[1.0, float("nan")]]))


# ----------------------------------------------------------------------------- the two bounds


def test_spectral_norms_are_each_linear_layers_matrix_2_norm_in_order():
    net = models.mlp(3, 1, width=6, depth=2, activation="relu")
    expected = [torch.linalg.matrix_norm(net[i].weight.detach(), ord=2).item() for i in (0, 2, 4)]
    assert lipschitz.spectral_norms(net) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("activation", "depth", "seed"),
    [("relu", 1, 0), ("relu", 3, 1), ("leaky_relu", 2, 2), ("tanh", 3, 3), ("elu", 2, 4)],
)
def test_the_largest_gradient_norm_never_exceeds_the_product_bound(activation, depth, seed):
    torch.manual_seed(seed)
    D = models.MLPDiscriminator(in_dim=2, width=16, depth=depth, activation=activation)
    x = 3 * torch.randn(4096, 2, generator=torch.Generator().manual_seed(seed))
    largest = lipschitz.gradient_norms(D, x).max().item()
    bound = lipschitz.lipschitz_upper_bound(D)
    assert 0 < largest <= bound


def test_the_bound_is_exact_for_one_linear_layer():
    """f(x) = w . x + b: grad f = w everywhere, and sigma(w) = ||w||."""
    f = nn.Linear(4, 1)
    x = torch.randn(10, 4)
    norms = lipschitz.gradient_norms(lambda x: f(x).squeeze(1), x)
    assert_close(norms, torch.full((10,), lipschitz.lipschitz_upper_bound(f)))


def test_a_spectrally_normalised_discriminator_has_every_sigma_near_one():
    torch.manual_seed(0)
    D = models.MLPDiscriminator(width=32, depth=3, spectral_norm=True).train()
    x = torch.randn(64, 2)
    for _ in range(30):  # each forward in training mode takes one power-iteration step
        D(x)
    norms = lipschitz.spectral_norms(D)
    assert_close(torch.tensor(norms), torch.ones(4), rtol=0.02, atol=0)
    bound = lipschitz.lipschitz_upper_bound(D)
    assert_close(bound, 1.0, rtol=0.05, atol=0)
    with models.evaluating(D):
        assert lipschitz.gradient_norms(D, 3 * torch.randn(2048, 2)).max().item() <= bound
    assert D.training  # spectral_norms measured in eval mode and gave the mode back


@pytest.mark.parametrize(
    ("module", "named"),
    [
        (models.PackedDiscriminator(width=8, depth=1), "PackedDiscriminator"),
        (models.MinibatchStdDiscriminator(width=8, depth=1), "MinibatchStdDiscriminator"),
        (models.DCGANDiscriminator(width=4), "DCGANDiscriminator"),
        (models.MLPDiscriminator(width=8, depth=1, activation="gelu"), "GELU at 'net.1'"),
        (nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU()), "BatchNorm1d at '1'"),
        (nn.Sequential(nn.Linear(2, 4), nn.LeakyReLU(2.0)), "LeakyReLU at '1' has slope 2"),
    ],
)
def test_the_bound_refuses_a_module_it_does_not_hold_for_naming_it(module, named):
    with pytest.raises(ValueError, match=named):
        lipschitz.lipschitz_upper_bound(module)


def test_spectral_norms_refuses_convolutions_and_modules_without_linear_layers():
    with pytest.raises(ValueError, match="Conv2d at 'net.0'"):
        lipschitz.spectral_norms(models.DCGANDiscriminator(width=4))
    with pytest.raises(ValueError, match="ReLU has no nn.Linear"):
        lipschitz.spectral_norms(nn.ReLU())
    with pytest.raises(TypeError, match="must be a torch.nn.Module, got str"):
        lipschitz.lipschitz_upper_bound("D")


# ----------------------------------------------------------------------------- gradient_norms


def test_gradient_norms_of_half_the_squared_norm_are_the_norms_of_x():
    x = torch.randn(6, 3)
    assert_close(lipschitz.gradient_norms(lambda x: 0.5 * x.pow(2).sum(1), x), x.norm(dim=1))


def test_gradient_norms_are_the_ones_wgan_gp_penalises():
    """gradient_penalty(D, x, lam=1, target=0) = E ||grad D(x)||^2."""
    torch.manual_seed(0)
    D = models.MLPDiscriminator(width=8, depth=2)
    x = torch.randn(32, 2)
    norms = lipschitz.gradient_norms(D, x)
    assert not norms.requires_grad
    assert_close(norms.pow(2).mean(), losses.gradient_penalty(D, x, 1.0, target=0.0).detach())


def test_gradient_norms_needs_a_floating_batch():
    with pytest.raises(TypeError, match=r"floating-point batch of shape \(B, ...\)"):
        lipschitz.gradient_norms(lambda x: x.sum(), torch.randn(5))
