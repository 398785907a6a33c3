"""ganlab.models: G maps z to x with a linear output layer; D maps x to one raw logit; the DCGAN
for 28 x 28 images, the class-conditional G and D (projection, (C + 1)-way), PacGAN, minibatch
std, StyleGAN's mapping network and AdaIN."""

from __future__ import annotations

import pytest
import torch
from conftest import BATCH, DCGAN_WIDTH, LATENT, WIDTH, batch, conditional_players, images
from torch import nn
from torch.testing import assert_close

from ganlab import data, losses, models, train

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
    D = models.DCGANDiscriminator(width=DCGAN_WIDTH).eval()
    x = images(3)
    phi = D.features(x)
    assert phi.shape == (3, 2 * DCGAN_WIDTH * 49)
    assert_close(D.net[-1](phi.view(3, 2 * DCGAN_WIDTH, 7, 7)).flatten(), D(x))
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


@pytest.mark.parametrize("latent_dim, width, channels", [(8, 4, 1), (64, 16, 1), (100, 8, 3)])
def test_shapes_for_several_sizes(latent_dim, width, channels):
    G = models.DCGANGenerator(latent_dim=latent_dim, width=width, channels=channels)
    D = models.DCGANDiscriminator(width=width, channels=channels)
    x = G(torch.randn(5, latent_dim))
    assert x.shape == (5, channels, 28, 28)
    assert x.min() >= -1 and x.max() <= 1  # tanh output, the range of the scaled data
    score = D(x)
    assert score.shape == (5,)
    loss = losses.d_loss_minimax(score, D(x.detach())) + losses.g_loss_nonsaturating(score)
    loss.backward()
    assert all(p.grad is not None for p in G.parameters())


def test_dcgan_initialisation_is_normal_0_002():
    torch.manual_seed(0)
    G = models.DCGANGenerator(latent_dim=64, width=32)
    conv = G.net[3].weight
    assert abs(conv.mean().item()) < 2e-3 and abs(conv.std().item() - 0.02) < 2e-3
    bn = G.net[1]
    assert abs(bn.weight.mean().item() - 1.0) < 5e-3 and torch.count_nonzero(bn.bias) == 0


def test_discriminator_rejects_a_wrong_image_shape():
    D = models.DCGANDiscriminator(width=4)
    with pytest.raises(ValueError, match=r"shape \(B, 1, 28, 28\), got \(2, 784\)"):
        D(torch.zeros(2, 784))


def test_sample_is_seeded_uses_eval_mode_and_restores_training_mode():
    G = models.DCGANGenerator(latent_dim=8, width=4)
    G.train()
    a, b = G.sample(6, seed=1), G.sample(6, seed=1)
    assert torch.equal(a, b) and G.training
    assert not a.requires_grad
    # eval mode: a sample does not depend on the rest of its batch (no batch statistics)
    assert torch.allclose(
        G.sample(6, seed=1)[:1], G.eval()(G.sample_latent(6, seed=1)[:1]), atol=1e-6
    )
