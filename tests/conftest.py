"""Shared helpers for the unit tests: small models and independent reference formulas."""

from __future__ import annotations

import math

import pytest
import torch

from ganlab import data, models, train

# The MLPs here are tiny: intra-op threads only add overhead, and on a shared 2-core
# machine they oversubscribe the CPU (20 training steps went from 0.4 s to 8-15 s).
torch.set_num_threads(1)

WIDTH = 16  # small MLPs: a training step costs a few ms on a slow CPU
BATCH = 32


def pairwise_distances(points: torch.Tensor) -> torch.Tensor:
    """Exact Euclidean distances ||a - b|| by broadcasting (no matmul shortcut), (K, K)."""
    points = points.to(torch.float64)
    return (points[:, None, :] - points[None, :, :]).pow(2).sum(-1).sqrt()


def min_pairwise_distance(points: torch.Tensor) -> float:
    """The smallest distance between two different rows of ``points``."""
    dist = pairwise_distances(points)
    dist.fill_diagonal_(float("inf"))
    return float(dist.min())


def mixture_log_density(
    x: torch.Tensor, means: torch.Tensor, stds: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Hand-written log sum_k w_k (2 pi s_k^2)^(-d/2) exp(-||x - mu_k||^2 / (2 s_k^2)), float64.

    Summed in log space (logsumexp) so that points far from every mode do not underflow.
    """
    x, means = x.to(torch.float64), means.to(torch.float64)
    stds, weights = stds.to(torch.float64), weights.to(torch.float64)
    d = x.shape[1]
    sq = (x[:, None, :] - means[None, :, :]).pow(2).sum(-1)  # (N, K)
    log_terms = weights.log() - (d / 2) * torch.log(2 * math.pi * stds**2) - sq / (2 * stds**2)
    return torch.logsumexp(log_terms, dim=1)


@pytest.fixture
def make_models():
    """Factory: seed_everything(seed), then a small G and D (width 16, depth 2)."""

    def _make(
        seed: int = 0, latent_dim: int = 2, dim: int = 2, width: int = WIDTH, depth: int = 2
    ) -> tuple[models.MLPGenerator, models.MLPDiscriminator]:
        train.seed_everything(seed)
        G = models.MLPGenerator(latent_dim=latent_dim, out_dim=dim, width=width, depth=depth)
        D = models.MLPDiscriminator(in_dim=dim, width=width, depth=depth)
        return G, D

    return _make


# ----------------------------------------------------------------------------- shared helpers


def params(module: torch.nn.Module) -> list[torch.Tensor]:
    """Detached copies of a module's parameters, to compare after a step."""
    return [p.detach().clone() for p in module.parameters()]


def assert_params_equal(module: torch.nn.Module, expected: list[torch.Tensor]) -> None:
    actual = list(module.parameters())
    assert len(actual) == len(expected)
    for p, q in zip(actual, expected, strict=True):
        assert torch.equal(p.detach(), q)


def linear_critic(w: list[float], b: float = 0.3) -> torch.nn.Linear:
    """D(x) = w . x + b, float64: grad_x D = w at every x (a (B, 1) output)."""
    D = torch.nn.Linear(len(w), 1).to(torch.float64)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([w], dtype=torch.float64))
        D.bias.fill_(b)
    return D


def batch(n: int, dim: int, seed: int) -> torch.Tensor:
    """n seeded standard-normal float64 vectors of size dim."""
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def noise(n: int, seed: int, dim: int = 2) -> torch.Tensor:
    """n seeded standard-normal latent vectors z of size dim (float32)."""
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))


class NaNAfter:
    """A sampler whose batches become NaN from its ``start``-th call on (1-based)."""

    def __init__(self, dist: data.GaussianMixture, start: int) -> None:
        self.dist, self.start, self.calls = dist, start, 0

    def sample(self, n: int, seed: torch.Generator | int | None = None) -> torch.Tensor:
        self.calls += 1
        x = self.dist.sample(n, seed=seed)
        return x * math.nan if self.calls >= self.start else x


# ----------------------------------------------------------------------------- images and DCGANs

F64 = torch.float64
NAN, INF = float("nan"), float("inf")
# tiny conditional DCGANs: a step costs a few ms (test files import DCGAN_WIDTH as WIDTH)
CLASSES, LATENT, DCGAN_WIDTH, EMBED = 10, 8, 4, 3


def images(n: int, seed: int = 1) -> torch.Tensor:
    """n random "images" in [-1, 1], (n, 1, 28, 28)."""
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def log_softmax_by_hand(logits: torch.Tensor) -> torch.Tensor:
    """l_k - log sum_j exp l_j, with the max subtracted first (float64)."""
    logits = logits.to(F64)
    shifted = logits - logits.max(dim=1, keepdim=True).values
    return shifted - shifted.exp().sum(dim=1, keepdim=True).log()


def conditional_players(kind: str, seed: int = 0):
    torch.manual_seed(seed)
    G = models.ConditionalDCGANGenerator(CLASSES, LATENT, DCGAN_WIDTH, EMBED)
    D = getattr(models, kind)(CLASSES, DCGAN_WIDTH)
    return G, D


# ----------------------------------------------------------------------------- widgets

PNG = b"\x89PNG\r\n\x1a\n"


def descendants(box):
    """Every widget in an ipywidgets tree, depth first."""
    yield box
    for child in getattr(box, "children", ()):
        yield from descendants(child)


def control(box, description: str):
    """The unique control of ``box``'s tree with this description."""
    (found,) = [w for w in descendants(box) if getattr(w, "description", None) == description]
    return found


def stub_png(app, monkeypatch) -> list[int]:
    """Replace ``app.png`` by a counting stub: the widget tests check the wiring of the controls,
    not the (slow: about a second) rendering, which the png tests cover."""
    calls = []

    def png() -> bytes:
        calls.append(1)
        return PNG + bytes([len(calls)])

    monkeypatch.setattr(app, "png", png)
    return calls


@pytest.fixture
def G():
    """A tiny DCGAN generator (the latent explorer's and class_latents' tests)."""
    torch.manual_seed(0)
    return models.DCGANGenerator(latent_dim=8, width=4)
