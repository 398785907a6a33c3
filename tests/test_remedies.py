"""Chapter 3's claim end to end: every mode-collapse remedy (PacGAN, minibatch std, R1, WGAN-GP)
trains a finite, deterministic short run that differs from the vanilla GAN's. The pieces are
tested where they live: test_models (PackedDiscriminator, MinibatchStd), test_losses (r1,
wgan_gp), test_train (the penalty in d_step and fit), test_unrolled."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import WIDTH, params

from ganlab import data, losses, models, train

RING = data.ring()

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
