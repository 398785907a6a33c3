"""Measures of a generator's samples.

Mode coverage for the toy mixtures follows the protocol of the VEEGAN and PacGAN
papers (Srivastava et al. 2017, Lin et al. 2018): assign each sample to its nearest
mode centre; it is *high quality* when it lies within ``threshold`` (3) standard
deviations of that centre; a mode is *captured* when it is the nearest mode of at
least one high-quality sample. 2,500 samples is the papers' evaluation size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganlab._checks import batch_of_vectors, positive_float
from ganlab.data import GaussianMixture


@dataclass(frozen=True)
class ModeCoverage:
    """The result of ``mode_coverage``.

    Attributes:
        modes: number of modes captured (at least one high-quality sample).
        n_modes: number of modes of the distribution.
        hq_fraction: fraction of samples within ``threshold`` std of their nearest mode.
        counts: high-quality samples per mode, shape (K,).
        reverse_kl: KL(q || uniform) of the mode histogram q of the high-quality samples
            (0 for a perfectly balanced generator, log K for one mode; inf with no HQ sample).
    """

    modes: int
    n_modes: int
    hq_fraction: float
    counts: torch.Tensor
    reverse_kl: float

    def __str__(self) -> str:
        return (
            f"{self.modes}/{self.n_modes} modes captured, "
            f"{100 * self.hq_fraction:.1f}% high-quality samples, "
            f"reverse KL {self.reverse_kl:.3f}"
        )


def mode_histogram_kl(counts: torch.Tensor) -> float:
    """KL(q || u) = sum_k q_k log(q_k K) for q = counts / sum(counts), u uniform over K modes.

    Empty modes contribute 0 (0 log 0 = 0). Returns inf when every count is 0.
    """
    counts = counts.to(torch.float64)
    total = counts.sum()
    if total <= 0:
        return float("inf")
    q = counts / total
    nonzero = q > 0
    return float((q[nonzero] * torch.log(q[nonzero] * len(q))).sum())


def mode_coverage(
    samples: torch.Tensor, dist: GaussianMixture, threshold: float = 3.0
) -> ModeCoverage:
    """Modes captured, high-quality fraction, per-mode counts and reverse KL of ``samples``.

    A sample x is high quality when ||x - mu_k|| <= threshold * sigma_k for its nearest
    centre mu_k (Euclidean distance). Shapes: samples (N, d) with d = dist.dim.
    """
    batch_of_vectors("samples", samples, dist.dim)
    positive_float("threshold", threshold)
    samples = samples.detach().to("cpu", torch.float32)
    # Exact distances: cdist's default matmul route is off by ~1e-6 near a centre.
    distances = torch.cdist(samples, dist.centers, compute_mode="donot_use_mm_for_euclid_dist")
    nearest_distance, nearest = distances.min(dim=1)
    high_quality = nearest_distance <= threshold * dist.stds[nearest]
    counts = torch.bincount(nearest[high_quality], minlength=dist.n_modes)
    return ModeCoverage(
        modes=int((counts > 0).sum()),
        n_modes=dist.n_modes,
        hq_fraction=float(high_quality.float().mean()),
        counts=counts,
        reverse_kl=mode_histogram_kl(counts),
    )


def wasserstein_1d(x: torch.Tensor, y: torch.Tensor) -> float:
    """The Wasserstein-1 (earth mover's) distance between two equal-size 1-D samples.

    W1 = int_0^1 |F_x^-1(u) - F_y^-1(u)| du = mean_i |x_(i) - y_(i)| over the sorted samples:
    the average distance each sample must move. In the units of x; 0 iff the samples agree.
    Shapes: x and y (N,) or (N, 1), the same N.
    """
    flat = []
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {value!r}")
        if value.dim() == 2 and value.shape[1] == 1:
            value = value[:, 0]
        if value.dim() != 1 or value.numel() == 0:
            raise ValueError(f"{name} must have shape (N,) or (N, 1), got {tuple(value.shape)}")
        flat.append(value.detach().to("cpu", torch.float64))
    if flat[0].numel() != flat[1].numel():
        raise ValueError(
            f"x and y must hold the same number of samples, got {flat[0].numel()} and "
            f"{flat[1].numel()}"
        )
    return float((flat[0].sort().values - flat[1].sort().values).abs().mean())
