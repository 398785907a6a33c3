"""Chapter 3's runs: the mode-collapse remedies (``REMEDIES``), a run of each, several seeds
trained together (``remedy_runs``, through ``batched``), G against a frozen D, and the committed
benchmark results (``benchmark_results``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files

import torch

from ganlab import plane
from ganlab._checks import positive_int, restores_global_rng, seed_torch
from ganlab.batched import StackedMLP, fit_many, stack_players
from ganlab.data import GaussianMixture
from ganlab.losses import g_loss_nonsaturating, wgan_gp
from ganlab.metrics import ModeCoverage, mode_coverage
from ganlab.models import (
    MinibatchStdDiscriminator,
    MLPDiscriminator,
    MLPGenerator,
    PackedDiscriminator,
)
from ganlab.train import (
    FitConfig,
    History,
    configure,
    fit,
    g_step,
    sample_noise,
)


@dataclass(frozen=True)
class Remedy:
    """A cure for mode collapse: how to build D and how to train (``config``, for ``train.fit``)."""

    name: str
    build_D: Callable[[int, int], torch.nn.Module]  # (dim, width) -> D
    config: FitConfig = field(default_factory=FitConfig)
    source: str = ""


REMEDIES: dict[str, Remedy] = {
    remedy.name: remedy
    for remedy in [
        Remedy("vanilla", lambda dim, w: MLPDiscriminator(dim, width=w), FitConfig(),
               "Goodfellow et al. 2014 (non-saturating loss)"),
        Remedy("PacGAN2", lambda dim, w: PackedDiscriminator(dim, pack=2, width=w), FitConfig(),
               "Lin et al. 2018: D judges 2 samples at once"),
        Remedy("PacGAN4", lambda dim, w: PackedDiscriminator(dim, pack=4, width=w), FitConfig(),
               "Lin et al. 2018: D judges 4 samples at once"),
        Remedy("minibatch std", lambda dim, w: MinibatchStdDiscriminator(dim, width=w), FitConfig(),
               "Karras et al. 2018: D sees the batch's standard deviation"),
        Remedy("unrolled 5", lambda dim, w: MLPDiscriminator(dim, width=w),
               FitConfig(unroll_steps=5, lr_D=1e-4),
               "Metz et al. 2017: G trains against D unrolled 5 Adam steps; D slower (lr 1e-4)"),
        Remedy("WGAN-GP", lambda dim, w: MLPDiscriminator(dim, width=w),
               FitConfig(loss="wasserstein", penalty=wgan_gp(0.1), d_steps=5,
                         lr_D=1e-4, lr_G=1e-4, betas=(0.5, 0.9)),
               "Gulrajani et al. 2017: Wasserstein critic, gradient penalty (lambda 0.1, their "
               "toy setting), 5 critic steps, Adam(1e-4, betas (0.5, 0.9))"),
    ]
}  # fmt: skip
"""Name -> Remedy; "vanilla" is the baseline every remedy is compared with."""


@restores_global_rng
def build_players(
    dist: GaussianMixture, remedy: str = "vanilla", width: int = 64, seed: int = 0
) -> tuple[torch.nn.Module, torch.nn.Module, FitConfig]:
    """(G, D, training config) for ``remedy`` on a 2-D toy, initialised from ``seed``.

    G is the same MLP for every remedy (latent_dim 2), so runs differ only in D and training.
    The caller's global random state is left as it was.
    """
    return seed_players(dist, remedy, width, seed)


def seed_players(
    dist: GaussianMixture, remedy: str, width: int, seed: int
) -> tuple[torch.nn.Module, torch.nn.Module, FitConfig]:
    """``build_players`` that leaves torch's global generator where the build ends, for a run
    (itself under ``restores_global_rng``) whose training goes on drawing from it: WGAN-GP's
    interpolation weights, spectral normalisation's first vector."""
    if remedy not in REMEDIES:
        raise ValueError(f"unknown remedy {remedy!r}; expected one of {list(REMEDIES)}")
    seed_torch(seed)
    G = MLPGenerator(latent_dim=2, out_dim=dist.dim, width=width)
    D = REMEDIES[remedy].build_D(dist.dim, width)
    return G, D, REMEDIES[remedy].config


@dataclass
class RemedyRun:
    """A remedy's run: G, D, and every ``every`` steps G's ``mode_coverage`` and a few samples."""

    remedy: str
    G: torch.nn.Module = field(repr=False)
    D: torch.nn.Module = field(repr=False)
    steps: list[int] = field(default_factory=list)
    coverage: list[ModeCoverage] = field(default_factory=list)
    samples: list[torch.Tensor] = field(default_factory=list, repr=False)


@restores_global_rng
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

    ``overrides`` are ``train.FitConfig`` settings that replace the remedy's, e.g. ``lr_D=1e-4``.
    """
    positive_int("every", every)
    G, D, config = seed_players(dist, remedy, width, seed)
    config = configure(config, batch_size=batch_size, **overrides)
    run = RemedyRun(remedy, G, D)

    def measure(step: int, history: History | None, G: torch.nn.Module, D: torch.nn.Module) -> None:
        with torch.no_grad():
            samples = G.sample(n_eval, seed=10_000 + seed)
        run.steps.append(step)
        run.coverage.append(mode_coverage(samples, dist))
        run.samples.append(samples[:n_keep].cpu())

    measure(0, None, G, D)
    fit(G, D, dist, steps, config, seed=seed, callback=measure, every=every, progress=False)
    return run


@restores_global_rng
def remedy_runs(
    dist: GaussianMixture,
    remedy: str = "vanilla",
    steps: int = 1000,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    width: int = 64,
    batch_size: int = 256,
    every: int = 100,
    n_eval: int = 2500,
    n_keep: int = 500,
    **overrides: object,
) -> list[RemedyRun]:
    """``[remedy_run(dist, remedy, steps, seed=s, ...) for s in seeds]``, trained together:
    the seeds' models are stacked and trained by ``batched.fit_many`` (each run its own seed,
    data stream and Adam state, so the same run as ``remedy_run``'s up to rounding), several
    times faster on a CPU than one after another. Each RemedyRun's G and D are its final models.
    """
    positive_int("every", every)
    seeds = list(seeds)
    config = build_players(dist, remedy, width, seeds[0])[2]  # checks ``remedy`` first
    config = configure(config, batch_size=batch_size, **overrides)
    each_seed = iter(seeds)  # stack_players builds the runs in the order of ``seeds``
    G, D, penalty_generators = stack_players(
        lambda: seed_players(dist, remedy, width, next(each_seed))[:2], seeds
    )
    runs = [RemedyRun(remedy, G.unstack(s), D.unstack(s)) for s in range(len(seeds))]

    def measure(step: int, histories: object, G: StackedMLP, D: StackedMLP) -> None:
        for s, (seed, run) in enumerate(zip(seeds, runs, strict=True)):
            run.G, run.D = G.unstack(s), D.unstack(s)
            samples = run.G.sample(n_eval, seed=10_000 + seed)
            run.steps.append(step)
            run.coverage.append(mode_coverage(samples, dist))
            run.samples.append(samples[:n_keep].cpu())

    measure(0, None, G, D)
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]  # what fit(seed=) uses
    fit_many(G, D, dist, steps, config, seeds=generators, callback=measure, every=every,
             penalty_generators=penalty_generators)  # fmt: skip
    return runs


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


@restores_global_rng
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

    positive_int("g_steps", g_steps)
    positive_int("every", every)
    G, D, _ = seed_players(dist, "vanilla", width, seed)
    if pre_steps:
        fit(G, D, dist, pre_steps, batch_size=batch_size, seed=seed, progress=False)
    for p in D.parameters():
        p.requires_grad_(False)
    grid = plane.plane_grid(plane.plane_limit(dist), 181)
    with torch.no_grad():
        argmax = grid[D(grid).reshape(-1).argmax()]
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

    folder = files("ganlab").joinpath("results")
    markdown, data = folder.joinpath(f"{name}.md"), folder.joinpath(f"{name}.json")
    if not markdown.is_file() or not data.is_file():
        raise FileNotFoundError(f"no committed results {name!r} in {folder}; run bench/{name}.py")
    return markdown.read_text(encoding="utf-8"), json.loads(data.read_text(encoding="utf-8"))
