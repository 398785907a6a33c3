"""Controlled training experiments that the chapters, widgets and benchmarks share.

Each experiment fixes everything but the one thing it varies: the same seed gives the
same initial weights, the same head start of D and the same batches, so two runs differ
only in the setting under study (e.g. the generator loss).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ganlab._checks import positive_int
from ganlab.data import GaussianMixture, mixture_1d
from ganlab.losses import get_losses, wgan_gp
from ganlab.metrics import ModeCoverage, mode_coverage, wasserstein_1d
from ganlab.models import (
    MinibatchStdDiscriminator,
    MLPDiscriminator,
    MLPGenerator,
    PackedDiscriminator,
)
from ganlab.train import (
    OPTIMIZERS,
    History,
    d_step,
    fit,
    g_step,
    sample_noise,
    sample_real,
    seed_everything,
)


def far_data() -> GaussianMixture:
    """The 1-D target of the saturation experiments: N(4, 0.5^2), far from an untrained G's
    output near 0, so that a trained D can reject the fakes with confidence."""
    return mixture_1d(means=[4.0], stds=[0.5])


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
    d_fake_after_head_start: float = float("nan")
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


def head_start_run(
    data: GaussianMixture | None = None,
    *,
    loss: str = "nonsaturating",
    head_start: int = 300,
    steps: int = 800,
    d_steps: int = 1,
    optimizer: str = "sgd",
    lr_D: float = 0.05,
    lr_G: float = 0.05,
    real_label: float = 1.0,
    batch_size: int = 64,
    width: int = 32,
    every: int = 20,
    seed: int = 0,
    label: str | None = None,
) -> Run:
    """Train a 1-D GAN after giving D a head start of ``head_start`` updates against G's init.

    Everything follows from ``seed``: the initial weights, the head start and the batches.
    Records W1(p_g, p_data) after the head start and every ``every`` steps of ``fit``.
    """
    data = far_data() if data is None else data
    get_losses(loss)  # fail before training on an unknown loss
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {sorted(OPTIMIZERS)}")
    positive_int("steps", steps)
    if isinstance(head_start, bool) or not isinstance(head_start, int) or head_start < 0:
        raise ValueError(f"head_start must be an integer >= 0, got {head_start!r}")
    generator = seed_everything(seed)
    G = MLPGenerator(latent_dim=1, out_dim=data.dim, width=width)
    D = MLPDiscriminator(in_dim=data.dim, width=width)
    opt_D = OPTIMIZERS[optimizer](D.parameters(), lr_D)
    opt_G = OPTIMIZERS[optimizer](G.parameters(), lr_G)
    d_loss = get_losses(loss)[0]
    d_fake = float("nan")
    for _ in range(head_start):  # D alone, against the frozen initial G
        x_real = sample_real(data, batch_size, generator, torch.device("cpu"))
        z = sample_noise(G, batch_size, generator, torch.device("cpu"))
        d_fake = d_step(G, D, x_real, z, opt_D, d_loss)["d_fake"]
    run = Run(label or loss, History(), [0], [distance_to_data(G, data)], d_fake, G, D)

    def record(step: int, history: History, G: torch.nn.Module, D: torch.nn.Module) -> None:
        run.eval_steps.append(step)
        run.distance.append(distance_to_data(G, data))

    fit(G, D, data, steps, batch_size=batch_size, d_steps=d_steps, loss=loss,
        real_label=real_label, opt_D=opt_D, opt_G=opt_G, seed=generator, callback=record,
        every=every, progress=False, history=run.history)  # fmt: skip
    return run


def compare_generator_losses(
    data: GaussianMixture | None = None,
    losses: tuple[str, ...] = ("saturating", "nonsaturating"),
    **settings: object,
) -> dict[str, Run]:
    """``head_start_run`` once per generator loss, all else equal: loss name -> Run."""
    return {loss: head_start_run(data, loss=loss, **settings) for loss in losses}  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- mode collapse


@dataclass(frozen=True)
class Remedy:
    """A cure for mode collapse: how to build D and how to train (``train.fit`` keywords)."""

    name: str
    build_D: Callable[[int, int], torch.nn.Module]  # (dim, width) -> D
    fit_kwargs: dict[str, object] = field(default_factory=dict)
    source: str = ""


REMEDIES: dict[str, Remedy] = {
    remedy.name: remedy
    for remedy in [
        Remedy("vanilla", lambda dim, w: MLPDiscriminator(dim, width=w), {},
               "Goodfellow et al. 2014 (non-saturating loss)"),
        Remedy("PacGAN2", lambda dim, w: PackedDiscriminator(dim, pack=2, width=w), {},
               "Lin et al. 2018: D judges 2 samples at once"),
        Remedy("PacGAN4", lambda dim, w: PackedDiscriminator(dim, pack=4, width=w), {},
               "Lin et al. 2018: D judges 4 samples at once"),
        Remedy("minibatch std", lambda dim, w: MinibatchStdDiscriminator(dim, width=w), {},
               "Karras et al. 2018: D sees the batch's standard deviation"),
        Remedy("unrolled 5", lambda dim, w: MLPDiscriminator(dim, width=w),
               {"unroll_steps": 5, "lr_D": 1e-4},
               "Metz et al. 2017: G trains against D unrolled 5 Adam steps; D slower (lr 1e-4)"),
        Remedy("WGAN-GP", lambda dim, w: MLPDiscriminator(dim, width=w),
               {"loss": "wasserstein", "penalty": wgan_gp(0.1), "d_steps": 5,
                "lr_D": 1e-4, "lr_G": 1e-4, "betas": (0.5, 0.9)},
               "Gulrajani et al. 2017: Wasserstein critic, gradient penalty (lambda 0.1, their "
               "toy setting), 5 critic steps, Adam(1e-4, betas (0.5, 0.9))"),
    ]
}  # fmt: skip
"""Name -> Remedy; "vanilla" is the baseline every remedy is compared with."""


def build_players(
    dist: GaussianMixture, remedy: str = "vanilla", width: int = 64, seed: int = 0
) -> tuple[torch.nn.Module, torch.nn.Module, dict[str, object]]:
    """(G, D, fit keywords) for ``remedy`` on a 2-D toy, initialised from ``seed``.

    G is the same MLP for every remedy (latent_dim 2), so runs differ only in D and training.
    """
    if remedy not in REMEDIES:
        raise ValueError(f"unknown remedy {remedy!r}; expected one of {list(REMEDIES)}")
    seed_everything(seed)
    G = MLPGenerator(latent_dim=2, out_dim=dist.dim, width=width)
    D = REMEDIES[remedy].build_D(dist.dim, width)
    return G, D, dict(REMEDIES[remedy].fit_kwargs)


@dataclass
class RemedyRun:
    """A remedy's run: G, D, and every ``every`` steps G's ``mode_coverage`` and a few samples."""

    remedy: str
    G: torch.nn.Module = field(repr=False)
    D: torch.nn.Module = field(repr=False)
    steps: list[int] = field(default_factory=list)
    coverage: list[ModeCoverage] = field(default_factory=list)
    samples: list[torch.Tensor] = field(default_factory=list, repr=False)


def remedy_run(
    dist: GaussianMixture,
    remedy: str = "vanilla",
    steps: int = 1000,
    *,
    seed: int = 0,
    width: int = 64,
    batch_size: int = 256,
    every: int = 100,
    n_eval: int = 2500,
    n_keep: int = 500,
    **overrides: object,
) -> RemedyRun:
    """Train ``remedy`` on ``dist``; every ``every`` steps (and at step 0) measure
    ``mode_coverage`` on ``n_eval`` samples from fixed latents and keep the first ``n_keep``.

    ``overrides`` are ``train.fit`` keywords that replace the remedy's, e.g. ``lr_D=1e-4``.
    """
    positive_int("every", every)
    G, D, kwargs = build_players(dist, remedy, width, seed)
    kwargs.update(overrides)
    run = RemedyRun(remedy, G, D)

    def measure(step: int, history: History | None, G: torch.nn.Module, D: torch.nn.Module) -> None:
        with torch.no_grad():
            samples = G.sample(n_eval, seed=10_000 + seed)
        run.steps.append(step)
        run.coverage.append(mode_coverage(samples, dist))
        run.samples.append(samples[:n_keep].cpu())

    measure(0, None, G, D)
    fit(G, D, dist, steps, batch_size=batch_size, seed=seed, callback=measure, every=every,
        progress=False, **kwargs)  # type: ignore[arg-type]  # fmt: skip
    return run


@dataclass
class FrozenRun:
    """G trained alone against a frozen D: its samples and how close they sit to D's argmax."""

    D: torch.nn.Module = field(repr=False)
    argmax: torch.Tensor  # (2,): the highest D(x) on a grid over the plane
    steps: list[int] = field(default_factory=list)
    samples: list[torch.Tensor] = field(default_factory=list, repr=False)
    near_argmax: list[float] = field(default_factory=list)  # fraction within ``radius``
    spread: list[float] = field(default_factory=list)  # sqrt(trace Cov) of the samples
    mean_d: list[float] = field(default_factory=list)  # mean D(G(z)) = sigmoid(score)


def frozen_d_run(
    dist: GaussianMixture,
    pre_steps: int = 500,
    g_steps: int = 2000,
    *,
    lr_G: float = 5e-3,
    seed: int = 0,
    width: int = 64,
    batch_size: int = 256,
    every: int = 250,
    radius: float = 0.3,
    n_eval: int = 2000,
) -> FrozenRun:
    """A vanilla GAN trained ``pre_steps``, then D frozen and G trained ``g_steps`` alone.

    G's best response to a fixed D maximises E_z[log D(G(z))]: every sample wants to sit at
    argmax_x D(x), so p_g tends to a point mass there (the seed of mode collapse). Gradient
    steps reach the peak of D whose basin a sample starts in, so a D with several peaks
    gives a few point masses instead of one.
    """
    from ganlab.losses import g_loss_nonsaturating
    from ganlab.plot import _plane_grid, _plane_limit

    positive_int("g_steps", g_steps)
    positive_int("every", every)
    G, D, _ = build_players(dist, "vanilla", width, seed)
    if pre_steps:
        fit(G, D, dist, pre_steps, batch_size=batch_size, seed=seed, progress=False)
    for p in D.parameters():
        p.requires_grad_(False)
    plane = _plane_grid(_plane_limit(dist), 181)
    with torch.no_grad():
        argmax = plane[D(plane).reshape(-1).argmax()]
    run = FrozenRun(D, argmax)
    z_eval = torch.randn(n_eval, G.latent_dim, generator=torch.Generator().manual_seed(10_000))

    def measure(step: int) -> None:
        with torch.no_grad():
            x = G(z_eval)
            run.mean_d.append(float(torch.sigmoid(D(x)).mean()))
        run.steps.append(step)
        run.samples.append(x[:500])
        run.near_argmax.append(float(((x - argmax).norm(dim=1) <= radius).float().mean()))
        run.spread.append(float(x.var(dim=0).sum().sqrt()))

    opt_G = torch.optim.Adam(G.parameters(), lr=lr_G, betas=(0.5, 0.999))
    generator = torch.Generator().manual_seed(seed)
    measure(0)
    for step in range(1, g_steps + 1):
        g_step(G, D, sample_noise(G, batch_size, generator, torch.device("cpu")), opt_G,
               g_loss_nonsaturating)  # fmt: skip
        if step % every == 0 or step == g_steps:
            measure(step)
    return run


def benchmark_results(name: str = "mode_collapse") -> tuple[str, dict[str, object]]:
    """(Markdown, JSON) of a benchmark's committed results, shipped inside ganlab (so a chapter
    opened in Colab shows them too); written by ``bench/<name>.py`` to ``ganlab/results/``."""
    import json
    from importlib.resources import files

    folder = files("ganlab").joinpath("results")
    markdown, data = folder.joinpath(f"{name}.md"), folder.joinpath(f"{name}.json")
    if not markdown.is_file() or not data.is_file():
        raise FileNotFoundError(f"no committed results {name!r} in {folder}; run bench/{name}.py")
    return markdown.read_text(encoding="utf-8"), json.loads(data.read_text(encoding="utf-8"))
