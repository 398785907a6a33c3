"""The toy distributions: isotropic Gaussian mixtures with exact densities, and the other toy
data sets of the chapters.

Every mixture is

    p(x) = sum_k w_k N(x; mu_k, sigma_k^2 I),

so ``log_prob`` is exact, the mode centres ``mu_k`` are known, and the
mode-collapse metrics of ``ganlab.metrics`` can count which modes a generator
covers. Constructors: ``mixture_1d``, ``ring``, ``grid``, ``two_gaussians``,
``spiral``, and the chapters' own: ``far_data`` (chapter 2) and ``square_ring`` (7).
Chapter 7's other toys are samplers: ``two_answer_pairs`` (paired data with two right
answers) and ``missing_corner`` (the square without its top-right quadrant).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ganlab._checks import as_generator, batch_of_vectors, positive_float, positive_int


class GaussianMixture:
    """An isotropic Gaussian mixture p(x) = sum_k w_k N(x; mu_k, sigma_k^2 I).

    Args:
        means: mode centres, shape (K, d).
        stds: one standard deviation per mode, shape (K,), or a single float.
        weights: mixture weights, shape (K,), normalised here; uniform if None.
        name: a short label used in plots and error messages.
    """

    def __init__(
        self,
        means: torch.Tensor | Sequence[Sequence[float]],
        stds: torch.Tensor | Sequence[float] | float,
        weights: torch.Tensor | Sequence[float] | None = None,
        name: str = "mixture",
    ) -> None:
        means = torch.as_tensor(means, dtype=torch.float32)
        if means.dim() != 2 or means.shape[0] == 0:
            raise ValueError(f"means must have shape (K, d) with K >= 1, got {tuple(means.shape)}")
        if not bool(torch.isfinite(means).all()):
            raise ValueError(f"means must be finite, got {means.tolist()}")
        n_modes = means.shape[0]
        stds = torch.as_tensor(stds, dtype=torch.float32)
        if stds.dim() == 0:
            stds = stds.expand(n_modes).clone()
        if stds.shape != (n_modes,) or not bool(((stds > 0) & torch.isfinite(stds)).all()):
            raise ValueError(f"stds must be {n_modes} positive numbers, got {stds.tolist()}")
        if weights is None:
            weights = torch.full((n_modes,), 1.0 / n_modes)
        weights = torch.as_tensor(weights, dtype=torch.float32)
        if (
            weights.shape != (n_modes,)
            or not bool(((weights >= 0) & torch.isfinite(weights)).all())
            or not weights.sum() > 0
        ):
            raise ValueError(
                f"weights must be {n_modes} non-negative numbers with a positive sum, "
                f"got {weights.tolist()}"
            )
        self.means = means  # (K, d)
        self.stds = stds  # (K,)
        self.weights = weights / weights.sum()  # (K,)
        self.name = name

    @property
    def dim(self) -> int:
        """Dimension d of a sample."""
        return self.means.shape[1]

    @property
    def n_modes(self) -> int:
        """Number of mixture components K."""
        return self.means.shape[0]

    @property
    def centers(self) -> torch.Tensor:
        """The mode centres mu_k, shape (K, d)."""
        return self.means

    def sample(
        self,
        n: int,
        seed: int | torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` samples, shape (n, d): pick k ~ w, then x = mu_k + sigma_k * eps.

        The same ``seed`` (an int or a CPU ``torch.Generator``) gives the same samples.
        """
        positive_int("n", n)
        generator = as_generator(seed)
        modes = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.dim, generator=generator)
        x = self.means[modes] + self.stds[modes, None] * noise
        return x if device is None else x.to(device)

    def sample_with_modes(
        self, n: int, seed: int | torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Like ``sample`` but also return the component index of each sample, shape (n,)."""
        positive_int("n", n)
        generator = as_generator(seed)
        modes = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.dim, generator=generator)
        return self.means[modes] + self.stds[modes, None] * noise, modes

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = logsumexp_k [log w_k + log N(x; mu_k, sigma_k^2 I)], shape (N,)."""
        batch_of_vectors("x", x, self.dim)
        means = self.means.to(x)
        stds = self.stds.to(x)
        # Broadcast, not torch.cdist: cdist's matmul route loses ~1e-6 in d^2 near a centre.
        sq_dist = (x[:, None, :] - means[None]).pow(2).sum(-1)  # (N, K)
        log_normal = (
            -0.5 * sq_dist / stds**2
            - self.dim * torch.log(stds)
            - 0.5 * self.dim * math.log(2 * math.pi)
        )
        return torch.logsumexp(torch.log(self.weights.to(x)) + log_normal, dim=1)

    def prob(self, x: torch.Tensor) -> torch.Tensor:
        """The density p(x), shape (N,)."""
        return self.log_prob(x).exp()

    def __repr__(self) -> str:
        return (
            f"GaussianMixture(name={self.name!r}, modes={self.n_modes}, dim={self.dim}, "
            f"std={self.stds.min().item():.3g}..{self.stds.max().item():.3g})"
        )


def mixture_1d(
    means: Sequence[float],
    stds: Sequence[float] | float,
    weights: Sequence[float] | None = None,
) -> GaussianMixture:
    """A 1-D mixture sum_k w_k N(mu_k, sigma_k^2); samples have shape (n, 1)."""
    return GaussianMixture([[float(m)] for m in means], stds, weights, name="mixture_1d")


def ring(modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """``modes`` Gaussians evenly spaced on a circle: mu_k = r (cos 2pi k/K, sin 2pi k/K).

    The defaults (8 modes, radius 2, std 0.02) are the ring of the mode-collapse
    literature (Metz et al. 2016). Angles are 2pi k / K for k = 0..K-1, so all K
    modes are distinct (``linspace(0, 2pi, K)`` would repeat the first one).
    """
    positive_int("modes", modes)
    positive_float("radius", radius)
    positive_float("std", std)
    angles = 2 * math.pi * torch.arange(modes, dtype=torch.float32) / modes
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return GaussianMixture(means, std, name=f"ring{modes}")


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """A side x side grid of Gaussians centred on 0; the default means are {-4,-2,0,2,4}^2."""
    positive_int("side", side)
    positive_float("spacing", spacing)
    positive_float("std", std)
    axis = spacing * (torch.arange(side, dtype=torch.float32) - (side - 1) / 2)
    means = torch.cartesian_prod(axis, axis)
    return GaussianMixture(means, std, name=f"grid{side}x{side}")


def two_gaussians(distance: float = 4.0, std: float = 0.5) -> GaussianMixture:
    """Two equally weighted Gaussians at (-distance/2, 0) and (+distance/2, 0)."""
    positive_float("distance", distance)
    positive_float("std", std)
    means = torch.tensor([[-distance / 2, 0.0], [distance / 2, 0.0]])
    return GaussianMixture(means, std, name="two_gaussians")


def spiral(
    modes: int = 20, turns: float = 1.5, radius: float = 2.0, std: float = 0.05
) -> GaussianMixture:
    """Gaussians along an Archimedean spiral r = radius * t, angle = 2pi * turns * t, t in (0, 1].

    Mode k sits at t_k = sqrt((k + 1) / K): the arc length of the spiral grows like t^2,
    so the centres are roughly evenly spaced along the curve, many std apart. The support
    is long, thin and curved: harder to cover than the ring.
    """
    positive_int("modes", modes)
    positive_float("turns", turns)
    positive_float("radius", radius)
    positive_float("std", std)
    t = torch.sqrt((torch.arange(modes, dtype=torch.float32) + 1) / modes)
    angle = 2 * math.pi * turns * t
    means = radius * t[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return GaussianMixture(means, std, name=f"spiral{modes}")


TOYS = {"ring": ring, "grid": grid, "two_gaussians": two_gaussians, "spiral": spiral}
"""Name -> constructor of the 2-D toy distributions (used by pickers in the widgets)."""


def toy(name: str, **kwargs: float) -> GaussianMixture:
    """Build a 2-D toy by name: one of ``TOYS``."""
    if name not in TOYS:
        raise ValueError(f"unknown toy distribution {name!r}; expected one of {sorted(TOYS)}")
    return TOYS[name](**kwargs)


# ----------------------------------------------------------------------------- the chapters' toys


def far_data() -> GaussianMixture:
    """The 1-D target of the saturation experiments: N(4, 0.5^2), far from an untrained G's
    output near 0, so that a trained D can reject the fakes with confidence."""
    return mixture_1d(means=[4.0], stds=[0.5])


def square_ring(side: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """8 Gaussians on the border of a square: its corners and edge midpoints (the second domain
    of the CycleGAN toy, beside ``ring``)."""
    axis = (-side, 0.0, side)
    means = [[x, y] for x in axis for y in axis if (x, y) != (0.0, 0.0)]
    return GaussianMixture(means, std, name="square8")


def two_answer_pairs(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Paired data with two right answers: x ~ U(-1, 1) and y = x + s, s = -1 or +1 with equal
    odds (like a grey shirt that is red in some photos and blue in others), shapes (n, 1)."""
    x = 2 * torch.rand(n, 1, generator=generator) - 1
    s = 2 * torch.randint(0, 2, (n, 1), generator=generator).float() - 1
    return x, x + s


def missing_corner(n: int, seed: int | torch.Generator | None = 0) -> torch.Tensor:
    """n points uniform on the square [-1, 1]^2 without its top-right quadrant, (n, 2): two
    factors of variation with one combination absent from the data (StyleGAN's Figure 6)."""

    positive_int("n", n)
    generator = as_generator(seed)
    points = torch.empty(0, 2)
    while len(points) < n:
        x = 2 * torch.rand(2 * n, 2, generator=generator) - 1
        points = torch.cat([points, x[~((x[:, 0] > 0) & (x[:, 1] > 0))]])
    return points[:n]
