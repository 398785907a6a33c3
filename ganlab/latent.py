"""Walking the latent space: interpolation (lerp, slerp) and vector arithmetic.

For z ~ N(0, I_d) the norm concentrates near sqrt(d): almost every latent vector lies on a thin
shell. A straight line between two such vectors cuts inside the shell (its midpoint has norm
about sqrt(d / 2) for independent endpoints), where the generator saw almost no training input;
the great-circle path of ``slerp`` stays on the shell.
"""

from __future__ import annotations

import torch

from ganlab._checks import finite_tensor, positive_int
from ganlab.models import evaluating


def _ts(t: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """t as a column (T, 1) of interpolation weights in [0, 1]."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device).reshape(-1, 1)
    if not torch.all((t >= 0) & (t <= 1)):
        raise ValueError(f"t must lie in [0, 1], got {t.flatten().tolist()}")
    return t


def _endpoints(z0: torch.Tensor, z1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Check: two finite floating-point latent vectors of one shape (d,)."""
    finite_tensor("z0", z0)
    finite_tensor("z1", z1)
    if z0.dim() != 1 or z0.shape != z1.shape:
        raise ValueError(
            f"z0 and z1 must be latent vectors of one shape (d,), got {tuple(z0.shape)} and "
            f"{tuple(z1.shape)}"
        )
    return z0, z1


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Linear interpolation z(t) = (1 - t) z0 + t z1; t a number or (T,) -> shape (T, d)."""
    z0, z1 = _endpoints(z0, z1)
    t = _ts(t, z0)
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 for GANs):

    z(t) = sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1, cos w = <z0, z1> / (|z0| |z1|),

    the great-circle arc from z0 to z1; with |z0| = |z1| every point has that norm. Falls back
    to ``lerp`` when z0 and z1 are (anti)parallel (sin w ~ 0). t a number or (T,) -> (T, d).
    The angle from the zero vector is undefined: a zero endpoint raises (use ``lerp``).
    """
    z0, z1 = _endpoints(z0, z1)
    for name, z in (("z0", z0), ("z1", z1)):
        if not bool(z.norm() > 0):
            raise ValueError(f"slerp needs non-zero endpoints, but {name} is the zero vector "
                             "(its angle to the other is undefined; use lerp)")  # fmt: skip
    t = _ts(t, z0)
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if torch.sin(omega).abs() < 1e-6:
        return lerp(z0, z1, t)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def concept_vector(z: torch.Tensor) -> torch.Tensor:
    """The mean of a few latent vectors (B, d) -> (d,) that show one concept (Radford et al.
    2016 average 3 per concept: one sample's quirks cancel, the shared concept stays)."""
    if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[0] == 0:
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(
            f"z (latent vectors of one concept) must have shape (B, d), B >= 1, got {shape}"
        )
    finite_tensor("z (latent vectors of one concept)", z)
    return z.mean(dim=0)


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Latent vector arithmetic a - b + c, each a concept vector (d,) or a batch (B, d) averaged
    first: "smiling woman - neutral woman + neutral man = smiling man" in DCGAN's paper."""
    for name, v in (("a", a), ("b", b), ("c", c)):
        finite_tensor(name, v)
    vectors = [concept_vector(v) if v.dim() == 2 else v for v in (a, b, c)]
    if len({tuple(v.shape) for v in vectors}) != 1 or vectors[0].dim() != 1:
        raise ValueError(
            f"a, b, c must share one latent size, got {[tuple(v.shape) for v in vectors]}"
        )
    return vectors[0] - vectors[1] + vectors[2]


@torch.no_grad()
def class_latents(
    G: torch.nn.Module,
    classifier: torch.nn.Module,
    per_class: int = 3,
    pool: int = 2000,
    seed: int = 0,
) -> dict[int, torch.Tensor]:
    """For each class c the classifier knows, the ``per_class`` latent vectors, among ``pool``
    draws z ~ N(0, I), whose images G(z) it assigns to c most confidently: class -> (k, d).

    Classes with fewer than ``per_class`` samples in the pool are left out. These are the
    "three samples per concept" of Radford et al. 2016, picked by a classifier instead of by eye.
    """
    positive_int("per_class", per_class)
    positive_int("pool", pool)
    z = G.sample_latent(pool, seed=seed)
    with evaluating(G, classifier):
        images = torch.cat([G(z[i : i + 500]) for i in range(0, pool, 500)])
        probs = torch.cat([classifier(images[i : i + 500]).softmax(1) for i in range(0, pool, 500)])
    confidence, label = probs.max(dim=1)
    chosen: dict[int, torch.Tensor] = {}
    for c in range(probs.shape[1]):
        rows = torch.nonzero(label == c).flatten()
        if len(rows) >= per_class:
            best = rows[confidence[rows].argsort(descending=True)[:per_class]]
            chosen[c] = z[best]
    return chosen
