"""ganlab.models' DCGAN for 28 x 28 images: shapes, initialisation, checks, sampling mode."""

from __future__ import annotations

import pytest
import torch

from ganlab import losses, models


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
