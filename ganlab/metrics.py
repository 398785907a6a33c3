"""Measures of a generator's samples.

Mode coverage for the toy mixtures follows the protocol of the VEEGAN and PacGAN
papers (Srivastava et al. 2017, Lin et al. 2018): assign each sample to its nearest
mode centre; it is *high quality* when it lies within ``threshold`` (3) standard
deviations of that centre; a mode is *captured* when it is the nearest mode of at
least one high-quality sample. 2,500 samples is the papers' evaluation size.

For images, the scores of chapter 5 work on features (N, d) from any extractor: ``features``
runs a model's ``features`` method (the shipped Fashion-MNIST classifier here; Inception-v3's
pool3 in the papers, which cannot be downloaded on this project's machines, so our FID is
"FID-like" and not comparable with published values). Inception Score works on class
probabilities. Each function checks shapes and NaNs and names what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganlab._checks import batch_of_vectors, finite_tensor, positive_float, positive_int
from ganlab.data import GaussianMixture
from ganlab.models import evaluating


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
    finite_tensor("counts", counts, floating=False)
    if counts.dim() != 1 or counts.numel() == 0 or bool((counts < 0).any()):
        raise ValueError(
            f"counts must be a non-empty 1-D tensor of counts >= 0, got {counts.tolist()}"
        )
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
    finite_tensor("samples", samples)
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
        finite_tensor(name, value)
        flat.append(value.detach().to("cpu", torch.float64))
    if flat[0].numel() != flat[1].numel():
        raise ValueError(
            f"x and y must hold the same number of samples, got {flat[0].numel()} and "
            f"{flat[1].numel()}"
        )
    return float((flat[0].sort().values - flat[1].sort().values).abs().mean())


def sliced_wasserstein(
    x: torch.Tensor, y: torch.Tensor, projections: int = 128, seed: int = 0
) -> float:
    """The sliced Wasserstein-1 distance: the mean of ``wasserstein_1d`` over random directions.

    SW1(x, y) = E_u[W1(<x, u>, <y, u>)], u uniform on the unit sphere, estimated with
    ``projections`` directions drawn from ``seed``. A true distance between distributions
    that needs only sorting; used to track a 2-D generator's quality during training.
    Shapes: x and y (N, d), the same N and d.
    """
    positive_int("projections", projections)
    _same_dim(_features_matrix("x", x), _features_matrix("y", y))
    if len(x) != len(y):
        raise ValueError(f"x and y must hold the same number of samples, got {len(x)} and {len(y)}")
    u = torch.randn(x.shape[1], projections, generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)  # fmt: skip
    u = u / u.norm(dim=0, keepdim=True)
    px = x.detach().to("cpu", torch.float64) @ u  # (N, projections)
    py = y.detach().to("cpu", torch.float64) @ u
    return float((px.sort(dim=0).values - py.sort(dim=0).values).abs().mean())


# ----------------------------------------------------------------------------- image scores


def _features_matrix(name: str, x: torch.Tensor, min_rows: int = 1) -> torch.Tensor:
    """``x`` as a float64 CPU matrix (N, d), checked: 2-D, N >= min_rows, finite."""
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a feature matrix of shape (N, d), got {shape}")
    if x.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows here, got {x.shape[0]}")
    x = x.detach().to("cpu", torch.float64)
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _std(values: list[float]) -> float:
    """Population standard deviation (ddof = 0), as np.std in the reference IS and KID code."""
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5


def _same_dim(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"real and generated features differ in dimension: {a.shape[1]} and {b.shape[1]} "
            "(use the same feature extractor for both)"
        )


@torch.no_grad()
def features(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """``model.features(images)`` in eval mode and in batches: (N, C, H, W) -> (N, d) on the CPU.
    (Batches of 256 stay in a CPU's cache: 5,000 Fashion-MNIST images go about 1.7x faster than
    in batches of 1,000.)

    Any module with a ``features`` method works (``models.ImageClassifier``; a wrapper around
    Inception-v3's pool3 for published-comparable FIDs)."""
    positive_int("batch_size", batch_size)
    device = next(model.parameters()).device
    with evaluating(model):
        return torch.cat([
            model.features(images[i : i + batch_size].to(device)).cpu()
            for i in range(0, len(images), batch_size)
        ])  # fmt: skip


def _trace_sqrt_product(sigma1: torch.Tensor, sigma2: torch.Tensor) -> torch.Tensor:
    """Tr((sigma1 sigma2)^(1/2)) for symmetric PSD matrices, through a symmetric product:
    sigma1 sigma2 is similar to A = S sigma2 S with S = sigma1^(1/2), and A is symmetric PSD,
    so the trace is the sum of sqrt(eigenvalues of A) (negative round-off clipped to 0)."""
    vals, vecs = torch.linalg.eigh(sigma1)
    root = (vecs * vals.clamp(min=0).sqrt()) @ vecs.T
    inner = root @ sigma2 @ root
    return torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0).sqrt().sum()


def _check_covariance(name: str, sigma: torch.Tensor, rtol: float = 1e-5) -> None:
    """Raise unless ``sigma`` is symmetric positive semi-definite, up to round-off: |S - S^T|
    and the most negative eigenvalue at most rtol times the largest |entry| or |eigenvalue|."""
    scale = float(sigma.abs().max()) if sigma.numel() else 0.0
    asymmetry = float((sigma - sigma.T).abs().max()) if sigma.numel() else 0.0
    if asymmetry > rtol * scale:
        raise ValueError(
            f"{name} must be a symmetric covariance matrix, but |{name} - {name}^T| reaches "
            f"{asymmetry:.3g} (its largest entry is {scale:.3g})"
        )
    if sigma.numel():
        vals = torch.linalg.eigvalsh((sigma + sigma.T) / 2)
        if float(vals[0]) < -rtol * max(float(vals.abs().max()), 1e-300):
            raise ValueError(
                f"{name} must be positive semi-definite (a covariance), but has eigenvalue "
                f"{float(vals[0]):.3g}"
            )


def frechet_distance(
    mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor,
    eps: float = 1e-6,
) -> float:  # fmt: skip
    """d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)) between two Gaussians.

    The square root's trace is computed by eigendecomposition of a symmetric matrix (see
    ``_trace_sqrt_product``), which stays real and stable where ``scipy.linalg.sqrtm`` of the
    non-symmetric product can turn complex; if it is not finite, eps I is added to both
    covariances first, as pytorch-fid does for near-singular ones.
    """
    for name, t in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    positive_float("eps", eps)
    mu1, mu2 = (m.detach().to("cpu", torch.float64).flatten() for m in (mu1, mu2))
    sigma1, sigma2 = (c.detach().to("cpu", torch.float64) for c in (sigma1, sigma2))
    if not all(torch.isfinite(t).all() for t in (mu1, mu2, sigma1, sigma2)):
        raise ValueError("the means and covariances must be finite (a NaN or inf was found)")
    d = mu1.numel()
    if mu2.numel() != d or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"means and covariances disagree in dimension: {tuple(mu1.shape)}, {tuple(mu2.shape)}, "
            f"{tuple(sigma1.shape)}, {tuple(sigma2.shape)}"
        )
    _check_covariance("sigma1", sigma1)
    _check_covariance("sigma2", sigma2)
    trace = _trace_sqrt_product(sigma1, sigma2)
    if not torch.isfinite(trace):
        offset = eps * torch.eye(d, dtype=torch.float64)
        trace = _trace_sqrt_product(sigma1 + offset, sigma2 + offset)
    diff = mu1 - mu2
    return float(diff @ diff + torch.trace(sigma1) + torch.trace(sigma2) - 2 * trace)


def fid(real_features: torch.Tensor, fake_features: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, d) (Heusel et al. 2017):
    means and unbiased (N - 1) covariances, then ``frechet_distance``. Biased upwards at finite N
    (about d^2 / 2N between two samples of one Gaussian): compare FIDs only at one N."""
    real = _features_matrix("real features", real_features, 2)
    fake = _features_matrix("generated features", fake_features, 2)
    _same_dim(real, fake)
    return frechet_distance(real.mean(0), torch.cov(real.T).reshape(real.shape[1], -1),
                            fake.mean(0), torch.cov(fake.T).reshape(fake.shape[1], -1))  # fmt: skip


def _polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """k(x, y) = (x.y / d + 1)^3, KID's kernel."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def kid(
    real_features: torch.Tensor,
    fake_features: torch.Tensor,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018): the unbiased MMD^2 with the cubic
    polynomial kernel, averaged over ``subsets`` random subsets of ``subset_size`` of each set
    (without replacement; smaller sets use all rows): (mean, std over subsets, ddof 0 as np.std).

    MMD^2_u = sum_{i!=j} k(x_i, x_j) / m(m-1) + sum_{i!=j} k(y_i, y_j) / m(m-1) - 2 sum_{i,j} k(x_i, y_j) / m^2.
    Unbiased: about 0 (and sometimes negative) for one distribution.
    """
    positive_int("subsets", subsets)
    positive_int("subset_size", subset_size)
    real = _features_matrix("real features", real_features, 2)
    fake = _features_matrix("generated features", fake_features, 2)
    _same_dim(real, fake)
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise ValueError(f"KID needs subsets of at least 2 samples, got {m}")
    generator = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        x = real[torch.randperm(len(real), generator=generator)[:m]]
        y = fake[torch.randperm(len(fake), generator=generator)[:m]]
        kxx, kyy, kxy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
        off = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
        values.append(float(off - 2 * kxy.mean()))
    return sum(values) / len(values), _std(values)


def inception_score(probs: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """Inception Score (Salimans et al. 2016) from class probabilities p(y|x) (N, K):
    exp(E_x KL(p(y|x) || p(y))) with p(y) the mean over the split, computed on ``splits``
    equal parts: (mean, std over splits, ddof 0 as the reference code's np.std). Between 1 and K; K for confident, uniform classes."""
    positive_int("splits", splits)
    p = _features_matrix("probs", probs, splits)
    if (p < 0).any() or not torch.allclose(p.sum(1), torch.ones(len(p), dtype=p.dtype), atol=1e-4):
        raise ValueError("probs must be probabilities: non-negative rows that sum to 1")
    scores = []
    for part in torch.tensor_split(p, splits):
        marginal = part.mean(0, keepdim=True)
        kl = torch.where(
            part > 0, part * (part.clamp_min(1e-300).log() - marginal.clamp_min(1e-300).log()), 0.0
        )
        scores.append(float(kl.sum(1).mean().exp()))
    return sum(scores) / len(scores), _std(scores)


def _kth_neighbour_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row of x to its k-th nearest other row (self excluded)."""
    distances = torch.cdist(x, x)
    # the k + 1 smallest per row (the 1st is the row itself, 0); topk is about 9x faster on CPU
    # than kthvalue for 5,000 rows and gives the same value
    return distances.topk(k + 1, dim=1, largest=False).values[:, -1]


class RealManifold:
    """The real features' k-nearest-neighbour balls (radius = distance to the k-th nearest other
    real point), computed once per k and reused for every generated set scored against them:
    ``m = RealManifold(real); m.precision_recall(fake_a); m.precision_recall(fake_b)`` gives what
    ``precision_recall(real, fake_a)`` and ``precision_recall(real, fake_b)`` give, with the
    N x N real-to-real distances computed once instead of twice per set."""

    def __init__(self, real_features: torch.Tensor) -> None:
        self.real = _features_matrix("real features", real_features)
        self._radii: dict[int, torch.Tensor] = {}

    def radii(self, k: int) -> torch.Tensor:
        """Each real point's distance to its k-th nearest other real point, (N,)."""
        positive_int("k", k)
        if len(self.real) < k + 1:
            raise ValueError(
                f"real features needs at least {k + 1} rows here, got {len(self.real)}"
            )
        if k not in self._radii:
            self._radii[k] = _kth_neighbour_radii(self.real, k)
        return self._radii[k]

    def precision_recall(self, fake_features: torch.Tensor, k: int = 3) -> tuple[float, float]:
        """Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the
        union of balls around its points with radius = distance to the k-th nearest neighbour
        (k = 3). Precision = share of generated samples inside the real manifold (quality);
        recall = share of real samples inside the generated manifold (diversity). A point on a
        ball's edge is inside."""
        r_real = self.radii(k)
        fake = _features_matrix("generated features", fake_features, k + 1)
        _same_dim(self.real, fake)
        r_fake = _kth_neighbour_radii(fake, k)
        cross = torch.cdist(fake, self.real)  # (M, N)
        precision = (cross <= r_real[None, :]).any(dim=1).double().mean()
        recall = (cross.T <= r_fake[None, :]).any(dim=1).double().mean()
        return float(precision), float(recall)

    def density_coverage(self, fake_features: torch.Tensor, k: int = 5) -> tuple[float, float]:
        """Density and coverage (Naeem et al. 2020), real balls of radius = k-th NN distance
        (k = 5): density = (1 / kM) sum_j #{real balls containing fake_j} (about 1 when the sets
        agree, unbounded above); coverage = share of real balls that contain at least one fake
        (strict <)."""
        radii = self.radii(k)
        fake = _features_matrix("generated features", fake_features, 1)
        _same_dim(self.real, fake)
        inside = torch.cdist(self.real, fake) < radii[:, None]  # (N, M)
        density = inside.sum().double() / (k * fake.shape[0])
        coverage = inside.any(dim=1).double().mean()
        return float(density), float(coverage)


def precision_recall(
    real_features: torch.Tensor, fake_features: torch.Tensor, k: int = 3
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), k = 3: see
    ``RealManifold.precision_recall`` (use a ``RealManifold`` to score many sets against one
    real set)."""
    return RealManifold(real_features).precision_recall(fake_features, k)


def density_coverage(
    real_features: torch.Tensor, fake_features: torch.Tensor, k: int = 5
) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020), k = 5: see ``RealManifold.density_coverage``."""
    return RealManifold(real_features).density_coverage(fake_features, k)
