"""ganlab.models: G maps z to x with a linear output layer; D maps x to one raw logit."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganlab import models

CONFIGS = [(8, 1, "relu"), (16, 2, "tanh"), (5, 3, "leaky_relu"), (12, 2, "gelu")]


def n_params(in_dim: int, out_dim: int, width: int, depth: int) -> int:
    """Weights + biases of in -> width -> ... (depth hidden layers) -> out."""
    return (in_dim + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * out_dim


@pytest.mark.parametrize(("width", "depth", "activation"), CONFIGS)
def test_generator_maps_B_by_latent_to_B_by_out(width, depth, activation):
    G = models.MLPGenerator(
        latent_dim=3, out_dim=5, width=width, depth=depth, activation=activation
    )
    assert G(torch.randn(7, 3)).shape == (7, 5)
    assert sum(p.numel() for p in G.parameters()) == n_params(3, 5, width, depth)


@pytest.mark.parametrize(("width", "depth", "activation"), CONFIGS)
def test_discriminator_maps_B_by_in_to_B_scores(width, depth, activation):
    D = models.MLPDiscriminator(in_dim=4, width=width, depth=depth, activation=activation)
    assert D(torch.randn(7, 4)).shape == (7,)
    assert D(torch.randn(1, 4)).shape == (1,)  # squeeze(1), not squeeze(): B = 1 keeps its axis
    assert sum(p.numel() for p in D.parameters()) == n_params(4, 1, width, depth)


@pytest.mark.parametrize("activation", sorted(models.ACTIVATIONS))
def test_mlp_has_depth_hidden_layers_with_the_activation_and_a_linear_output(activation):
    net = models.mlp(2, 3, width=6, depth=3, activation=activation)
    kinds = [type(layer) for layer in net]
    act = models.ACTIVATIONS[activation]
    assert kinds == [nn.Linear, act, nn.Linear, act, nn.Linear, act, nn.Linear]
    assert [(lin.in_features, lin.out_features) for lin in net if isinstance(lin, nn.Linear)] == [
        (2, 6),
        (6, 6),
        (6, 6),
        (6, 3),
    ]


def test_discriminator_returns_raw_logits_not_probabilities():
    """With a zero last weight and bias 3, D(x) = 3 exactly: no sigmoid at the end."""
    D = models.MLPDiscriminator(width=8, depth=2)
    last = D.net[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(3.0)
    x = torch.randn(6, 2)
    assert_close(D(x), torch.full((6,), 3.0))
    assert_close(D.prob_real(x), torch.sigmoid(torch.full((6,), 3.0)))


def test_discriminator_scores_leave_the_unit_interval_for_large_inputs():
    torch.manual_seed(0)
    D = models.MLPDiscriminator(width=16, depth=2)
    scores = D(100 * torch.randn(64, 2))
    assert bool(((scores < 0) | (scores > 1)).any())


def test_prob_real_is_sigmoid_of_forward():
    torch.manual_seed(1)
    D = models.MLPDiscriminator(width=16, depth=2)
    x = 3 * torch.randn(50, 2)
    assert_close(D.prob_real(x), torch.sigmoid(D(x)))
    assert not D.prob_real(x).requires_grad


def test_generator_output_layer_is_linear():
    """With a zero last weight, G(z) = bias for every z (no tanh squashing the output)."""
    G = models.MLPGenerator(latent_dim=2, out_dim=2, width=8, depth=2)
    with torch.no_grad():
        G.net[-1].weight.zero_()
        G.net[-1].bias.copy_(torch.tensor([5.0, -7.0]))
    assert_close(G(torch.randn(4, 2)), torch.tensor([[5.0, -7.0]]).expand(4, 2))


def test_sample_latent_is_standard_normal_from_the_seed():
    """z = torch.randn(n, latent_dim) from a generator seeded with ``seed``."""
    G = models.MLPGenerator(latent_dim=3, width=8, depth=1)
    z = G.sample_latent(10, seed=4)
    assert z.shape == (10, 3)
    assert torch.equal(z, torch.randn(10, 3, generator=torch.Generator().manual_seed(4)))
    assert torch.equal(z, G.sample_latent(10, seed=4))
    assert not torch.equal(z, G.sample_latent(10, seed=5))


def test_sample_is_G_of_sample_latent_without_gradients():
    torch.manual_seed(0)
    G = models.MLPGenerator(latent_dim=2, out_dim=3, width=8, depth=2)
    x = G.sample(9, seed=2)
    assert x.shape == (9, 3)
    assert not x.requires_grad
    assert_close(x, G(G.sample_latent(9, seed=2)).detach())
    assert torch.equal(x, G.sample(9, seed=2))
    generator = torch.Generator().manual_seed(2)
    assert torch.equal(G.sample(9, seed=generator), x)


def test_unknown_activation_raises_naming_it():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        models.MLPGenerator(activation="swish")
    with pytest.raises(ValueError, match="'swish'"):
        models.MLPDiscriminator(activation="swish")


def test_wrong_latent_dim_raises_naming_the_shape():
    G = models.MLPGenerator(latent_dim=2, width=8, depth=1)
    with pytest.raises(ValueError, match=r"z .*shape \(B, 2\), got \(4, 3\)"):
        G(torch.randn(4, 3))
    with pytest.raises(ValueError, match=r"got \(4,\)"):
        G(torch.randn(4))


def test_wrong_discriminator_input_raises_naming_the_shape():
    D = models.MLPDiscriminator(in_dim=2, width=8, depth=1)
    with pytest.raises(ValueError, match=r"x .*shape \(B, 2\), got \(5, 3\)"):
        D(torch.randn(5, 3))
    with pytest.raises(TypeError, match="torch.int64"):
        D(torch.zeros(5, 2, dtype=torch.int64))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"width": 0}, "width"),
        ({"depth": 0}, "depth"),
        ({"latent_dim": -1}, "latent_dim"),
        ({"out_dim": 1.5}, "out_dim"),
    ],
)
def test_bad_generator_sizes_raise_naming_them(kwargs, name):
    value = next(iter(kwargs.values()))
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer, got {value!r}"):
        models.MLPGenerator(**kwargs)


def test_sample_latent_bad_n_raises():
    with pytest.raises(ValueError, match="got 0"):
        models.MLPGenerator(width=8, depth=1).sample_latent(0)


# ----------------------------------------------------------------------------- spectral norm


def test_discriminator_state_dict_keys_are_unchanged_without_spectral_norm():
    """Shipped and saved weights must still load: the default D's keys are net.i.weight/bias."""
    keys = [f"net.{i}.{p}" for i in (0, 2, 4, 6) for p in ("weight", "bias")]
    assert list(models.MLPDiscriminator().state_dict()) == keys
    assert list(models.MLPDiscriminator(spectral_norm=False).state_dict()) == keys


def test_spectral_norm_discriminator_trains_the_same_parameters_and_round_trips():
    D = models.MLPDiscriminator(in_dim=3, width=8, depth=2, spectral_norm=True)
    assert sum(p.numel() for p in D.parameters()) == n_params(3, 1, 8, 2)
    assert "net.0.parametrizations.weight.original" in D.state_dict()
    D2 = models.MLPDiscriminator(in_dim=3, width=8, depth=2, spectral_norm=True)
    D2.load_state_dict(D.state_dict())
    x = torch.randn(5, 3)
    assert_close(D2.eval()(x), D.eval()(x))


def test_spectral_norm_takes_a_power_iteration_step_per_forward_in_training_mode_only():
    torch.manual_seed(0)
    D = models.MLPDiscriminator(width=8, depth=1, spectral_norm=True)
    sn = D.net[0].parametrizations.weight[0]
    x = torch.randn(4, 2)
    u = sn._u.clone()
    D.eval()
    y = D(x)
    assert torch.equal(sn._u, u)
    assert torch.equal(D(x), y)
    D.train()
    D(x)
    assert not torch.equal(sn._u, u)
    W = D.net[0].parametrizations.weight.original
    with torch.no_grad():
        assert_close(D.net[0].weight, W / (sn._u @ W @ sn._v))  # W / sigma, sigma = u^T W v


def test_spectral_norm_must_be_a_bool():
    with pytest.raises(TypeError, match="spectral_norm must be True or False, got 'yes'"):
        models.MLPDiscriminator(spectral_norm="yes")


def test_spectral_normalise_keeps_the_weights_and_needs_a_linear_layer():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1))
    before = [net[0].weight.detach().clone(), net[2].weight.detach().clone()]
    assert models.spectral_normalise(net) is net
    after = [net[0].parametrizations.weight.original, net[2].parametrizations.weight.original]
    for a, b in zip(before, after, strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="ReLU has no Linear layer to normalise"):
        models.spectral_normalise(torch.nn.ReLU())
