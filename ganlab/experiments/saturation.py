"""Chapter 2's controlled runs: a 1-D GAN after a head start of D, once per generator loss.

Each run fixes everything but the one thing it varies: the same seed gives the same initial
weights, the same head start of D and the same batches, so two runs differ only in the
setting under study (e.g. the generator loss).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ganlab._checks import as_generator, positive_int, restores_global_rng, seed_torch
from ganlab.data import GaussianMixture, far_data
from ganlab.metrics import wasserstein_1d
from ganlab.models import (
    MLPDiscriminator,
    MLPGenerator,
)
from ganlab.train import (
    FitConfig,
    History,
    configure,
    d_step,
    fit,
    make_optimizers,
    sample_noise,
    sample_real,
)


@dataclass
class Run:
    """One training run: its History and its distance W1(p_g, p_data) every ``every`` steps.

    ``eval_steps[0]`` is 0 (after the head start, before any G update); ``G`` and ``D`` are
    the trained players.
    """

    label: str
    history: History
    eval_steps: list[int] = field(default_factory=list)
    distance: list[float] = field(default_factory=list)
    p_fake_after_head_start: float = float("nan")
    G: torch.nn.Module | None = field(default=None, repr=False)
    D: torch.nn.Module | None = field(default=None, repr=False)

    def steps_to(self, threshold: float) -> int | None:
        """The first evaluated step with W1 <= threshold, or None if the run never got there."""
        for step, value in zip(self.eval_steps, self.distance, strict=True):
            if value <= threshold:
                return step
        return None

    def early_grad_norm(self, steps: int = 10) -> float:
        """Mean norm of G's gradient over the first ``steps`` G updates."""
        norms = self.history.grad_norm_G[:steps]
        return sum(norms) / len(norms)


def distance_to_data(G: torch.nn.Module, data: GaussianMixture, n: int = 2000) -> float:
    """W1 between n samples of G and n samples of a 1-D ``data``, with fixed seeds."""
    fake = G.sample(n, seed=12345)
    real = data.sample(n, seed=54321)
    return wasserstein_1d(fake, real)


HEAD_START = FitConfig(optimizer="sgd", lr_D=0.05, lr_G=0.05, batch_size=64)
"""Chapter 2's settings: plain gradient descent (lr 0.05) on batches of 64, so that the
gradients the losses give are what moves G (Adam would rescale them)."""


@restores_global_rng
def head_start_run(
    data: GaussianMixture | None = None,
    config: FitConfig = HEAD_START,
    *,
    head_start: int = 300,
    steps: int = 800,
    width: int = 32,
    every: int = 20,
    seed: int = 0,
    label: str | None = None,
    **overrides: Any,
) -> Run:
    """Train a 1-D GAN after giving D a head start of ``head_start`` updates against G's init.

    ``config`` (default ``HEAD_START``) with ``overrides`` replacing its fields, e.g.
    ``loss="saturating"``, says how both phases train. Everything follows from ``seed``: the
    initial weights, the head start and the batches. Records W1(p_g, p_data) after the head
    start and every ``every`` steps of ``fit``.
    """
    data = far_data() if data is None else data
    config = configure(config, **overrides)
    positive_int("steps", steps)
    if isinstance(head_start, bool) or not isinstance(head_start, int) or head_start < 0:
        raise ValueError(f"head_start must be an integer >= 0, got {head_start!r}")
    seed_torch(seed)  # the initial weights
    generator = as_generator(seed)
    G = MLPGenerator(latent_dim=1, out_dim=data.dim, width=width)
    D = MLPDiscriminator(in_dim=data.dim, width=width)
    opt_D, opt_G = make_optimizers(config, G, D)
    d_loss, batch_size = config.losses()[0], config.batch_size
    p_fake = float("nan")
    for _ in range(head_start):  # D alone, against the frozen initial G
        x_real = sample_real(data, batch_size, generator, torch.device("cpu"))
        z = sample_noise(G, batch_size, generator, torch.device("cpu"))
        p_fake = d_step(G, D, x_real, z, opt_D, d_loss)["p_fake"]
    run = Run(label or config.loss, History(), [0], [distance_to_data(G, data)], p_fake, G, D)

    def record(step: int, history: History, G: torch.nn.Module, D: torch.nn.Module) -> None:
        run.eval_steps.append(step)
        run.distance.append(distance_to_data(G, data))

    fit(G, D, data, steps, config, opt_D=opt_D, opt_G=opt_G, seed=generator, callback=record,
        every=every, progress=False, history=run.history)  # fmt: skip
    return run


def compare_generator_losses(
    data: GaussianMixture | None = None,
    losses: tuple[str, ...] = ("saturating", "nonsaturating"),
    **settings: object,
) -> dict[str, Run]:
    """``head_start_run`` once per generator loss, all else equal: loss name -> Run."""
    return {loss: head_start_run(data, loss=loss, **settings) for loss in losses}  # type: ignore[arg-type]
