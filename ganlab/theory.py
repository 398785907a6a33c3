"""The closed forms the book proves, evaluated on a 1-D grid (Goodfellow et al. 2014).

Conventions:
- D(x) is the probability that x is real; logarithms are natural (results in nats).
- A density is a tensor of its values on a grid ``x`` of shape (N,), strictly increasing;
  integrals use the trapezoid rule (``torch.trapezoid``), so a density should be
  negligible at both ends of the grid.
- 0 log 0 = 0 (``torch.xlogy``): where p_g = 0, the term p_g log(1 - D) is 0 even
  when D = 1, as in the integral it stands for.
- Work in float64 when the tails matter: a float32 density underflows to 0 about
  14 standard deviations from its mode, and then KL and V see an exact zero there.

Proposition 1: for a fixed G, D*(x) = p_data(x) / (p_data(x) + p_g(x)).
Theorem 1: C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g), minimal iff p_g = p_data.
"""

from __future__ import annotations

import cmath
import functools
import math

import torch

from ganlab._checks import batch_of_vectors, positive_float, positive_int
from ganlab.data import GaussianMixture

# gaussian_kde builds (chunk, n, d) differences; this bounds one chunk to ~32 MB in float64.
_KDE_CHUNK_ELEMENTS = 1 << 22


# ----------------------------------------------------------------------------- checks


def _check_tensor(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def _check_grid(x: torch.Tensor) -> None:
    """Raise unless ``x`` is a finite, strictly increasing 1-D grid of >= 2 points."""
    _check_tensor("x", x)
    if x.dim() != 1 or x.shape[0] < 2:
        raise ValueError(
            f"x must be a 1-D grid of at least 2 points, shape (N,), got {tuple(x.shape)}"
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x must be finite, got NaN or inf in the grid")
    steps = x[1:] - x[:-1]
    if not bool((steps > 0).all()):
        i = int(torch.nonzero(steps <= 0)[0])
        raise ValueError(
            f"x must be strictly increasing, got x[{i}] = {x[i].item():.6g} "
            f">= x[{i + 1}] = {x[i + 1].item():.6g}"
        )


def _check_density(name: str, p: torch.Tensor, shape: torch.Size) -> None:
    """Raise unless ``p`` is a finite, non-negative tensor of the given shape."""
    _check_tensor(name, p)
    if p.shape != shape:
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(p.shape)}")
    if not bool(torch.isfinite(p).all()):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    if not bool((p >= 0).all()):
        i = int(torch.argmin(p.flatten()))
        raise ValueError(
            f"{name} must be a non-negative density, got {p.flatten()[i].item():.6g} at index {i}"
        )


def _check_densities(
    p: tuple[str, torch.Tensor], q: tuple[str, torch.Tensor], x: torch.Tensor
) -> None:
    _check_grid(x)
    _check_density(*p, x.shape)
    _check_density(*q, x.shape)


def _p_log_p_over_q(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Pointwise p log(p / q) with 0 log(0 / q) = 0 and p log(p / 0) = inf for p > 0.

    Written as p log p - p log q rather than p log(p / q): the ratio can underflow to 0
    (or overflow to inf) in the tails where both logarithms are still finite.
    """
    return torch.xlogy(p, p) - torch.xlogy(p, q)


# ----------------------------------------------------------------------------- Prop. 1, Thm. 1


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """The optimal discriminator for a fixed G (Goodfellow et al. 2014, Prop. 1).

    D*(x) = p_data(x) / (p_data(x) + p_g(x)).

    Where both densities are 0, every D(x) gives the same (zero) integrand, so any
    value is optimal; 1/2 is the symmetric choice ("no idea") and the limit of D* as
    p_g -> p_data. Where both are positive, 0 < D* < 1 exactly, and D* is kept strictly
    inside (0, 1) even when p_g / p_data is below the machine epsilon: a D* rounded to 1
    there would make p_g log(1 - D*) = -inf in ``value_function``.

    Shapes: p_data and p_g any shape, the same for both (usually (N,) on a grid);
    returns that shape.
    """
    _check_tensor("p_data", p_data)
    _check_density("p_data", p_data, p_data.shape)
    _check_density("p_g", p_g, p_data.shape)
    total = p_data + p_g
    has_mass = total > 0
    d = p_data / torch.where(has_mass, total, torch.ones_like(total))
    # The representable values nearest 0 and 1 from inside: tiny, and 1 - eps/2 (one ulp below 1).
    finfo = torch.finfo(d.dtype)
    inside = d.clamp(min=finfo.tiny, max=1 - finfo.eps / 2)
    d = torch.where((p_data > 0) & (p_g > 0), inside, d)
    return torch.where(has_mass, d, torch.full_like(d, 0.5))


def value_function(
    d: torch.Tensor, p_data: torch.Tensor, p_g: torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    """The value V(D, G) of the minimax game for a discriminator given by its probabilities.

    V(D, G) = int p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx  (Goodfellow et al. 2014, Eq. 1).

    V <= 0; V = -log 4 for D = 1/2 everywhere; V = -inf if D = 0 where p_data > 0 or
    D = 1 where p_g > 0 (the integrand is then -inf at that grid point).

    Shapes: d (D on the grid, values in [0, 1]), p_data, p_g and x all (N,); returns ().
    """
    _check_densities(("p_data", p_data), ("p_g", p_g), x)
    _check_tensor("d", d)
    if d.shape != x.shape:
        raise ValueError(f"d must have shape {tuple(x.shape)} like x, got {tuple(d.shape)}")
    if not bool(((d >= 0) & (d <= 1)).all()):
        bad = d[~((d >= 0) & (d <= 1))][0].item()
        raise ValueError(f"d must hold probabilities in [0, 1], got {bad:.6g}")
    integrand = torch.xlogy(p_data, d) + torch.xlogy(p_g, 1 - d)
    return torch.trapezoid(integrand, x)


def optimal_value(p_data: torch.Tensor, p_g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The value of the game against the optimal discriminator, C(G) = max_D V(D, G).

    C(G) = V(D*, G) = int p_data log(p_data / (p_data + p_g)) + p_g log(p_g / (p_data + p_g)) dx
    = -log 4 + 2 JSD(p_data || p_g)  (Goodfellow et al. 2014, Thm. 1).

    Computed from the densities directly (not through a rounded D*), so it stays exact
    in the tails; ``value_function(optimal_discriminator(p_data, p_g), ...)`` agrees.

    Shapes: p_data, p_g and x all (N,); returns ().
    """
    _check_densities(("p_data", p_data), ("p_g", p_g), x)
    total = p_data + p_g
    integrand = _p_log_p_over_q(p_data, total) + _p_log_p_over_q(p_g, total)
    return torch.trapezoid(integrand, x)


# ----------------------------------------------------------------------------- divergences


def kl_divergence(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The Kullback-Leibler divergence of q from p, in nats.

    KL(p || q) = int p(x) log(p(x) / q(x)) dx; inf if p > 0 at a grid point where q = 0.

    Shapes: p, q and x all (N,); returns ().
    """
    _check_densities(("p", p), ("q", q), x)
    return torch.trapezoid(_p_log_p_over_q(p, q), x)


def jensen_shannon(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The Jensen-Shannon divergence between p and q, in nats.

    JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2; symmetric, finite,
    0 iff p = q, log 2 for disjoint supports.

    It lies in [0, log 2] when p and q integrate to 1 on the grid. The lower end is
    enforced (rounding can leave -1e-17 for nearly equal densities); the upper one is
    not, so that densities that do not integrate to 1 show up instead of being hidden.

    Shapes: p, q and x all (N,); returns ().
    """
    _check_densities(("p", p), ("q", q), x)
    m = (p + q) / 2
    integrand = 0.5 * _p_log_p_over_q(p, m) + 0.5 * _p_log_p_over_q(q, m)
    return torch.trapezoid(integrand, x).clamp(min=0)


def wasserstein_1(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The Wasserstein-1 (earth mover's) distance between densities p and q on a 1-D grid.

    W1(p, q) = int |F_p(x) - F_q(x)| dx, F the cumulative distribution (trapezoid rule); in the
    units of x. Unlike the JSD it keeps growing with the distance between disjoint supports:
    for q = p shifted by t, W1 = |t| (Arjovsky et al. 2017, Example 1).

    Shapes: p, q and x all (N,); returns ().
    """
    _check_densities(("p", p), ("q", q), x)
    zero = x.new_zeros(1)
    cdf_p = torch.cat([zero, torch.cumulative_trapezoid(p, x)])
    cdf_q = torch.cat([zero, torch.cumulative_trapezoid(q, x)])
    return torch.trapezoid((cdf_p - cdf_q).abs(), x)


# ----------------------------------------------------------------------------- densities


def gaussian_kde(
    samples: torch.Tensor, points: torch.Tensor, bandwidth: float | None = None
) -> torch.Tensor:
    """A Gaussian kernel density estimate of the density of ``samples``, at ``points``.

    p_hat(y) = 1/n sum_i (2 pi h^2)^(-d/2) exp(-||y - x_i||^2 / (2 h^2)),
    with Scott's rule h = n^(-1/(d+4)) * mean_j std_j(samples) by default.

    Used to estimate p_g from generator samples, e.g. for D* of a trained G. The
    squared distances come from explicit differences, in chunks of points:
    ``torch.cdist``'s matmul route loses precision near distance 0, exactly where a
    narrow kernel needs it.

    Shapes: samples (n, d), points (m, d); returns (m,).
    """
    _check_tensor("samples", samples)
    if samples.dim() != 2 or samples.shape[0] == 0:
        raise ValueError(f"samples must have shape (n, d) with n >= 1, got {tuple(samples.shape)}")
    n, dim = samples.shape
    batch_of_vectors("points", points, dim)
    if not bool(torch.isfinite(samples).all()):
        raise ValueError("samples must be finite, got NaN or inf (did the generator diverge?)")
    if bandwidth is None:
        spread = samples.std(dim=0).mean().item() if n > 1 else 0.0
        if not spread > 0:
            raise ValueError(
                f"Scott's rule needs samples with a positive spread, got n = {n} samples "
                f"with mean std {spread:.3g}; pass a bandwidth"
            )
        bandwidth = n ** (-1.0 / (dim + 4)) * spread
    h = positive_float("bandwidth", bandwidth)
    log_norm = -0.5 * dim * math.log(2 * math.pi * h**2)
    chunk = max(1, _KDE_CHUNK_ELEMENTS // (n * dim))
    values = []
    for start in range(0, points.shape[0], chunk):
        diff = points[start : start + chunk, None, :] - samples[None, :, :]  # (c, n, d)
        sq_dist = diff.pow(2).sum(-1)  # (c, n)
        values.append(torch.exp(log_norm - 0.5 * sq_dist / h**2).mean(dim=1))
    return torch.cat(values)


def grid_densities(
    dist_data: GaussianMixture, dist_g: GaussianMixture, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact densities p_data and p_g of two 1-D mixtures on the grid ``x``.

    p(x_i) = sum_k w_k N(x_i; mu_k, sigma_k^2), in the dtype of x (float64 keeps the tails).

    Shapes: x (N,); returns (p_data, p_g), each (N,).
    """
    _check_grid(x)
    for name, dist in (("dist_data", dist_data), ("dist_g", dist_g)):
        if not isinstance(dist, GaussianMixture):
            raise TypeError(f"{name} must be a ganlab.data.GaussianMixture, got {dist!r}")
        if dist.dim != 1:
            raise ValueError(f"{name} must be 1-D (e.g. data.mixture_1d), got dim {dist.dim}")
    points = x[:, None]  # (N, 1)
    return dist_data.prob(points), dist_g.prob(points)


# ----------------------------------------------------------------------------- the Dirac-GAN

DIRAC_LOSSES = ("saturating", "nonsaturating", "wasserstein")
"""The games the Dirac-GAN can play: the minimax GAN with either generator loss, and WGAN."""

DIRAC_SCHEMES = ("simultaneous", "alternating")

# Probabilists' Gauss-Hermite rule: E[g(eps)] for eps ~ N(0, 1) as sum_i w_i g(x_i), exact for
# polynomials up to degree 2 * 40 - 1. It stands in for the Monte-Carlo average over instance
# noise in the demo of Mescheder et al., so that noisy trajectories are deterministic.
_HERMITE_NODES = 40


@functools.cache
def _hermite_rule() -> tuple[torch.Tensor, torch.Tensor]:
    import numpy as np

    nodes, weights = np.polynomial.hermite_e.hermegauss(_HERMITE_NODES)
    weights = weights / weights.sum()
    return torch.from_numpy(nodes), torch.from_numpy(weights)


def dirac_vector_field(
    theta: torch.Tensor | float,
    psi: torch.Tensor | float,
    loss: str = "saturating",
    *,
    gamma: float = 0.0,
    lam: float = 0.0,
    noise_std: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient field (d theta/dt, d psi/dt) of the Dirac-GAN (Mescheder et al. 2018).

    Data is a point mass at 0, the generator a point mass at theta, and the discriminator
    scores x with the logit psi * x (D(x) = sigmoid(psi x) for the GAN losses, the raw score
    for WGAN). Each player descends its own loss:
    d theta/dt = -dL_G/d theta and d psi/dt = -dL_D/d psi. Without noise or penalty,

        saturating:     (psi sigmoid(psi theta),  -theta sigmoid(psi theta))
        nonsaturating:  (psi sigmoid(-psi theta), -theta sigmoid(psi theta))
        wasserstein:    (psi, -theta)

    so the equilibrium is (0, 0). ``gamma`` adds the R1 penalty (gamma / 2) psi^2 to L_D
    (d psi/dt -= gamma psi); ``lam`` adds the WGAN-GP penalty lam (|psi| - 1)^2;
    ``noise_std`` adds Gaussian instance noise of that std to real and fake samples
    (expectations by a 40-point Gauss-Hermite rule). The paper lets D score "fake" high,
    which flips the sign of psi: its start (1, 1) is (1, -1) here.

    Shapes: theta and psi broadcast together (e.g. a meshgrid); returns two float64 tensors.
    """
    if loss not in DIRAC_LOSSES:
        raise ValueError(f"unknown Dirac-GAN loss {loss!r}; expected one of {DIRAC_LOSSES}")
    for name, value in (("gamma", gamma), ("lam", lam), ("noise_std", noise_std)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    theta = torch.as_tensor(theta, dtype=torch.float64)
    psi = torch.as_tensor(psi, dtype=torch.float64)
    theta, psi = torch.broadcast_tensors(theta, psi)
    if noise_std > 0:
        nodes, weights = _hermite_rule()
        eps = noise_std * nodes  # noise values, one per trailing index
    else:
        eps, weights = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)

    def mean(values: torch.Tensor) -> torch.Tensor:  # E over the noise, the last axis
        return (values * weights).sum(-1)

    th, ps = theta[..., None], psi[..., None]
    x_fake, x_real = th + eps, eps  # fake and real samples, one per noise value
    if loss == "wasserstein":
        # L_D = E[psi x_fake] - E[psi x_real], L_G = -E[psi x_fake]
        d_theta = psi.clone()
        d_psi = -mean(x_fake - x_real)
    else:
        # L_D = E[softplus(-psi x_real)] + E[softplus(psi x_fake)]
        d_psi = -mean(-x_real * torch.sigmoid(-ps * x_real) + x_fake * torch.sigmoid(ps * x_fake))
        if loss == "saturating":  # L_G = E[log(1 - D(x_fake))] = -E[softplus(psi x_fake)]
            d_theta = psi * mean(torch.sigmoid(ps * x_fake))
        else:  # L_G = -E[log D(x_fake)] = E[softplus(-psi x_fake)]
            d_theta = psi * mean(torch.sigmoid(-ps * x_fake))
    d_psi = d_psi - gamma * psi - 2 * lam * (psi.abs() - 1) * torch.sign(psi)
    return d_theta, d_psi


def dirac_trajectory(
    start: tuple[float, float] = (1.0, -1.0),
    loss: str = "saturating",
    *,
    scheme: str = "simultaneous",
    step_size: float = 0.2,
    steps: int = 500,
    d_steps: int = 1,
    gamma: float = 0.0,
    lam: float = 0.0,
    noise_std: float = 0.0,
    clip: float | None = None,
) -> torch.Tensor:
    """Gradient-descent iterates (theta, psi) of the Dirac-GAN, from ``start``.

    simultaneous: both players step from the same point,
        (theta, psi) <- (theta, psi) + h v(theta, psi);
    alternating: G steps first, then D takes ``d_steps`` steps against the new theta
    (the order of the paper's demo). ``clip`` keeps |psi| <= clip after every D step
    (WGAN's weight clipping). Other arguments as in ``dirac_vector_field``.

    Returns a float64 tensor of shape (steps + 1, 2): the start, then one row per step.
    """
    if scheme not in DIRAC_SCHEMES:
        raise ValueError(f"unknown update scheme {scheme!r}; expected one of {DIRAC_SCHEMES}")
    h = positive_float("step_size", step_size)
    positive_int("steps", steps)
    positive_int("d_steps", d_steps)
    if clip is not None:
        positive_float("clip", clip)
    if len(start) != 2 or not all(math.isfinite(float(v)) for v in start):
        raise ValueError(f"start must be a finite pair (theta, psi), got {start!r}")
    kwargs = {"loss": loss, "gamma": gamma, "lam": lam, "noise_std": noise_std}

    def clipped(psi: torch.Tensor) -> torch.Tensor:
        return psi if clip is None else psi.clamp(-clip, clip)

    theta = torch.tensor(float(start[0]), dtype=torch.float64)
    psi = torch.tensor(float(start[1]), dtype=torch.float64)
    path = [torch.stack([theta, psi])]
    for _ in range(steps):
        if scheme == "simultaneous":
            d_theta, d_psi = dirac_vector_field(theta, psi, **kwargs)
            theta, psi = theta + h * d_theta, clipped(psi + h * d_psi)
        else:
            theta = theta + h * dirac_vector_field(theta, psi, **kwargs)[0]
            for _ in range(d_steps):
                psi = clipped(psi + h * dirac_vector_field(theta, psi, **kwargs)[1])
        path.append(torch.stack([theta, psi]))
    return torch.stack(path)


def dirac_jacobian(loss: str = "saturating", **kwargs: float) -> torch.Tensor:
    """The Jacobian of ``dirac_vector_field`` at the equilibrium (0, 0), by autograd.

    Rows are (d theta/dt, d psi/dt), columns (theta, psi); float64, shape (2, 2).
    Keyword arguments (gamma, lam, noise_std) as in ``dirac_vector_field``.
    """
    point = torch.zeros(2, dtype=torch.float64)

    def field(p: torch.Tensor) -> torch.Tensor:
        return torch.stack(dirac_vector_field(p[0], p[1], loss, **kwargs))

    return torch.autograd.functional.jacobian(field, point)


def dirac_eigenvalues(gamma: float = 0.0, f1: float = 0.5) -> tuple[complex, complex]:
    """Eigenvalues of the Dirac-GAN's Jacobian at (0, 0) with the R1 penalty's gamma.

    lambda = -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2), with f'(0) = 1/2 for the GAN losses
    (Mescheder et al. 2018): purely imaginary (+-i/2, a rotation) for gamma = 0, a damped
    spiral for 0 < gamma < 1, and real (no rotation; critical damping) from gamma = 2 f'(0) = 1.
    """
    if not gamma >= 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    root = cmath.sqrt(gamma**2 / 4 - f1**2)
    return (-gamma / 2 + root, -gamma / 2 - root)
