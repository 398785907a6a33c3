"""Chapter 6's critics: the papers' settings (``CRITICS``), a run of each on a 2-D toy measured
as it trains (``critic_run``), and 1-D critics trained between fixed real and fake samples."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ganlab._checks import positive_int, restores_global_rng, seed_torch
from ganlab.data import GaussianMixture
from ganlab.experiments.mode_collapse import seed_players
from ganlab.losses import d_loss_minimax, d_loss_wasserstein, wgan_gp
from ganlab.metrics import sliced_wasserstein
from ganlab.models import (
    MLPDiscriminator,
    spectral_normalise,
)
from ganlab.train import (
    FitConfig,
    History,
    configure,
    d_step,
    fit,
)


@dataclass(frozen=True)
class Critic:
    """A chapter-6 setting: how to train it (``config``) and whether D is spectrally
    normalised (``models.spectral_normalise``, applied to the same initial D)."""

    config: FitConfig
    spectral_norm: bool = False


CRITICS: dict[str, Critic] = {
    "minimax": Critic(FitConfig(loss="nonsaturating")),
    "WGAN (clipping)": Critic(FitConfig(loss="wasserstein", weight_clip=0.01, d_steps=5,
                                        optimizer="rmsprop", lr_D=5e-5, lr_G=5e-5)),
    "WGAN-GP": Critic(FitConfig(loss="wasserstein", penalty=wgan_gp(10.0), d_steps=5,
                                lr_D=1e-4, lr_G=1e-4, betas=(0.0, 0.9))),
    "hinge": Critic(FitConfig(loss="hinge")),
    "least squares": Critic(FitConfig(loss="least_squares")),
    "SN": Critic(FitConfig(loss="nonsaturating"), spectral_norm=True),
    "SN + hinge": Critic(FitConfig(loss="hinge"), spectral_norm=True),
}  # fmt: skip
"""Name -> how to train it. The WGAN rows are the papers' settings: Arjovsky et al. 2017
(RMSprop 5e-5 for both players, c = 0.01, n_critic = 5) and Gulrajani et al. 2017
(lambda = 10, n_critic = 5, Adam 1e-4, betas (0, 0.9)); the other rows use the book's
defaults (Adam 1e-3, betas (0.5, 0.999), one D step)."""


@dataclass
class CriticRun:
    """A run of one ``CRITICS`` setting, measured every ``every`` steps on fixed samples:
    ``quality`` = sliced Wasserstein distance from G's samples to the data (lower is better),
    ``gap`` = E[D(x_real)] - E[D(G(z))] on those samples (the critic's estimate of W1 for a
    WGAN; for the others just D's margin), and the training losses averaged since the last
    measurement."""

    name: str
    G: torch.nn.Module = field(repr=False)
    D: torch.nn.Module = field(repr=False)
    steps: list[int] = field(default_factory=list)
    quality: list[float] = field(default_factory=list)
    gap: list[float] = field(default_factory=list)
    loss_D: list[float] = field(default_factory=list)
    loss_G: list[float] = field(default_factory=list)
    samples: list[torch.Tensor] = field(default_factory=list, repr=False)


@restores_global_rng
def critic_run(
    dist: GaussianMixture,
    name: str = "WGAN-GP",
    steps: int = 1000,
    *,
    seed: int = 0,
    width: int = 64,
    batch_size: int = 256,
    every: int = 50,
    n_eval: int = 1000,
    **overrides: object,
) -> CriticRun:
    """Train the ``CRITICS`` setting ``name`` on ``dist`` (same G, D architecture and seed for
    every setting) and measure it every ``every`` steps (see ``CriticRun``); ``overrides`` are
    ``train.FitConfig`` settings that replace the setting's, e.g. ``lr_G=1e-3``."""

    if name not in CRITICS:
        raise ValueError(f"unknown critic setting {name!r}; expected one of {list(CRITICS)}")
    positive_int("every", every)
    config = configure(CRITICS[name].config, batch_size=batch_size, **overrides)
    G, D, _ = seed_players(dist, "vanilla", width, seed)
    if CRITICS[name].spectral_norm:
        spectral_normalise(D)  # the same initial D, each layer then divided by its sigma(W)
    x_real = dist.sample(n_eval, seed=20_000 + seed)
    run = CriticRun(name, G, D)

    def measure(step: int, history: History | None, G: torch.nn.Module, D: torch.nn.Module) -> None:
        with torch.no_grad():
            x_fake = G.sample(n_eval, seed=10_000 + seed)
            run.gap.append(float(D(x_real).mean() - D(x_fake).mean()))
        run.steps.append(step)
        run.quality.append(sliced_wasserstein(x_fake, x_real))
        run.samples.append(x_fake[:500].cpu())
        if history is not None:
            since = len(history) - (step - run.steps[-2])
            run.loss_D.append(sum(history.loss_D[since:]) / (len(history) - since))
            run.loss_G.append(sum(history.loss_G[since:]) / (len(history) - since))
        else:
            run.loss_D.append(float("nan"))
            run.loss_G.append(float("nan"))

    measure(0, None, G, D)
    fit(G, D, dist, steps, config, seed=seed, callback=measure, every=every, progress=False)
    return run


@restores_global_rng
def trained_critics_1d(
    distance: float = 4.0,
    std: float = 0.1,
    steps: int = 500,
    *,
    lam: float = 1.0,
    seed: int = 0,
    width: int = 64,
) -> dict[str, torch.nn.Module]:
    """A minimax discriminator and a WGAN-GP critic trained to (near) optimality between fixed
    1-D samples N(0, std^2) (real) and N(distance, std^2) (fake), G frozen, Adam 1e-3:

    {"minimax": D minimising the cross-entropy ``d_loss_minimax``,
     "WGAN-GP": f minimising E f(fake) - E f(real) + lam E(|f'(x_hat)| - 1)^2}.
    Arjovsky et al.'s Figure 2: D saturates, so G gets no gradient; the critic is linear
    between the two supports, with slope -(1 + distance / (2 lam)) (the penalty is soft: about
    -3 with the defaults).

    lam = 1, not the paper's 10: in one dimension the slope s is a scalar, and for a linear
    critic the loss s * distance + lam (|s| - 1)^2 has a second, wrong-signed local minimum
    at s = 1 - distance / (2 lam) > 0 once lam > distance / 2; a critic that starts with a
    small positive slope stays there. In two or more dimensions the gradient can turn.
    """

    positive_int("steps", steps)
    generator = torch.Generator().manual_seed(seed)
    critics: dict[str, torch.nn.Module] = {}
    for name, d_loss, penalty in (("minimax", d_loss_minimax, None),
                                  ("WGAN-GP", d_loss_wasserstein, wgan_gp(lam))):  # fmt: skip
        seed_torch(seed)
        D = MLPDiscriminator(in_dim=1, width=width)
        opt = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
        for _ in range(steps):
            real = std * torch.randn(256, 1, generator=generator)
            fake = distance + std * torch.randn(256, 1, generator=generator)
            d_step(torch.nn.Identity(), D, real, fake, opt, d_loss, penalty)
        critics[name] = D.eval()
    return critics
