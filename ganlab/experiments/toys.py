"""Chapter 7's toys, each the key idea of a later GAN in two dimensions or fewer: paired
translation (pix2pix, ``paired_run``), unpaired translation (CycleGAN, ``cycle_run``) and
StyleGAN's mapping network (``style_toy``). Their data sets are in ``ganlab.data``
(``square_ring``, ``two_answer_pairs``, ``missing_corner``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from time import perf_counter

import torch

from ganlab._checks import batch_of_vectors, positive_int, restores_global_rng, seed_torch
from ganlab.data import GaussianMixture, missing_corner, two_answer_pairs
from ganlab.gradients import frozen
from ganlab.losses import (
    d_loss_least_squares,
    d_loss_minimax,
    g_loss_least_squares,
    g_loss_nonsaturating,
)
from ganlab.metrics import mode_coverage
from ganlab.models import (
    LatentGenerator,
    MappingNetwork,
    MLPDiscriminator,
    MLPGenerator,
    mlp,
)
from ganlab.train import (
    fit,
)


@dataclass
class CycleRun:
    """A CycleGAN trained on two toy domains: the maps G: A -> B and F: B -> A, and measured at
    the end on fresh samples: ``mode_map[k]`` = the B mode that G sends A's mode k to (-1 when
    G(a) lands on no mode), ``cycle_error`` = mean |F(G(a)) - a|_2 and |G(F(b)) - b|_2."""

    cycle_weight: float
    G: torch.nn.Module = field(repr=False)
    F: torch.nn.Module = field(repr=False)
    mode_map: list[int] = field(default_factory=list)
    cycle_error_a: float = float("nan")
    cycle_error_b: float = float("nan")
    quality_b: float = float("nan")  # fraction of G(a) within 3 std of a B mode


@restores_global_rng
def cycle_run(
    domain_a: GaussianMixture,
    domain_b: GaussianMixture,
    cycle_weight: float = 10.0,
    steps: int = 1500,
    *,
    seed: int = 0,
    width: int = 64,
    batch_size: int = 256,
    lr: float = 1e-3,
) -> CycleRun:
    """CycleGAN (Zhu et al. 2017) on 2-D toys, unpaired: G: A -> B and F: B -> A, with D_B and
    D_A, least-squares adversarial losses (as in the paper) and the cycle-consistency loss

        L_cyc = E_a |F(G(a)) - a|_1 + E_b |G(F(b)) - b|_1,  weighted by ``cycle_weight``
        (lambda = 10 in the paper; 0 gives two independent GANs whose inputs are data).
    """

    positive_int("steps", steps)
    if not cycle_weight >= 0:
        raise ValueError(f"cycle_weight must be >= 0, got {cycle_weight!r}")
    seed_torch(seed)
    G = MLPGenerator(domain_a.dim, domain_b.dim, width)
    F = MLPGenerator(domain_b.dim, domain_a.dim, width)
    D_a, D_b = MLPDiscriminator(domain_a.dim, width), MLPDiscriminator(domain_b.dim, width)
    betas = (0.5, 0.999)
    opt_G = torch.optim.Adam(itertools.chain(G.parameters(), F.parameters()), lr, betas=betas)
    opt_D = torch.optim.Adam(itertools.chain(D_a.parameters(), D_b.parameters()), lr, betas=betas)
    generator = torch.Generator().manual_seed(seed)
    for step in range(1, steps + 1):
        a = domain_a.sample(batch_size, seed=generator)
        b = domain_b.sample(batch_size, seed=generator)
        fake_b, fake_a = G(a), F(b)
        cycle = (F(fake_b) - a).abs().sum(1).mean() + (G(fake_a) - b).abs().sum(1).mean()
        with frozen(D_a), frozen(D_b):  # G and F step through the critics, not on them
            loss_G = (g_loss_least_squares(D_b(fake_b)) + g_loss_least_squares(D_a(fake_a))
                      + cycle_weight * cycle)  # fmt: skip
            opt_G.zero_grad(set_to_none=True)
            loss_G.backward()
        opt_G.step()
        loss_D = (d_loss_least_squares(D_b(b), D_b(fake_b.detach()))
                  + d_loss_least_squares(D_a(a), D_a(fake_a.detach())))  # fmt: skip
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        opt_D.step()
        if not (torch.isfinite(loss_G) and torch.isfinite(loss_D)):
            raise RuntimeError(f"the CycleGAN diverged at step {step}: loss_G {loss_G.item()}, "
                               f"loss_D {loss_D.item()}")  # fmt: skip
    run = CycleRun(cycle_weight, G, F)
    with torch.no_grad():
        a = domain_a.sample(2000, seed=30_000 + seed)
        b = domain_b.sample(2000, seed=40_000 + seed)
        gb = G(a)
        run.cycle_error_a = float((F(gb) - a).norm(dim=1).mean())
        run.cycle_error_b = float((G(F(b)) - b).norm(dim=1).mean())
        run.quality_b = mode_coverage(gb, domain_b).hq_fraction
        centres = G(domain_a.centers)
        d = torch.cdist(centres, domain_b.centers)
        nearest_d, nearest = d.min(dim=1)
        near = nearest_d <= 3 * domain_b.stds[nearest]
        run.mode_map = [int(k) if ok else -1 for k, ok in zip(nearest, near, strict=True)]
    return run


@dataclass
class PairedRun:
    """A paired translation x -> y trained with an L1 loss, alone or beside a conditional GAN
    loss (pix2pix in one dimension): the outputs G(x, z) on a grid of x, several z each."""

    adversarial_weight: float
    G: torch.nn.Module = field(repr=False)
    x: torch.Tensor = field(repr=False)  # (n_x * n_z,) inputs
    y: torch.Tensor = field(repr=False)  # (n_x * n_z,) outputs G(x, z)

    def valid_fraction(self, tolerance: float = 0.25) -> float:
        """The share of outputs within ``tolerance`` of a right answer x - 1 or x + 1."""
        miss = torch.minimum((self.y - self.x - 1).abs(), (self.y - self.x + 1).abs())
        return float((miss <= tolerance).float().mean())


@restores_global_rng
def paired_run(
    adversarial_weight: float = 1.0,
    l1_weight: float = 1.0,
    steps: int = 1500,
    *,
    seed: int = 0,
    width: int = 64,
    batch_size: int = 256,
    lr: float = 1e-3,
) -> PairedRun:
    """pix2pix's objective (Isola et al. 2017) on ``two_answer_pairs``: G(x, z) minimises

        l1_weight * E|y - G(x, z)| + adversarial_weight * (-E log D(x, G(x, z))),

    D(x, y) a conditional discriminator that sees the input beside the output. With
    adversarial_weight = 0 it is plain L1 regression, whose optimum is the conditional median:
    any point between the two answers, usually neither of them.
    """

    positive_int("steps", steps)
    if not adversarial_weight >= 0 or not l1_weight >= 0:
        raise ValueError(f"the loss weights must be >= 0, got adversarial_weight "
                         f"{adversarial_weight!r}, l1_weight {l1_weight!r}")  # fmt: skip
    seed_torch(seed)
    G = MLPGenerator(latent_dim=2, out_dim=1, width=width)  # input [x, z]
    D = MLPDiscriminator(in_dim=2, width=width)  # input [x, y]
    opt_G = torch.optim.Adam(G.parameters(), lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr, betas=(0.5, 0.999))
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = two_answer_pairs(batch_size, generator)
        z = torch.randn(batch_size, 1, generator=generator)
        fake = G(torch.cat([x, z], 1))
        if adversarial_weight > 0:
            loss_D = d_loss_minimax(D(torch.cat([x, y], 1)), D(torch.cat([x, fake.detach()], 1)))
            opt_D.zero_grad(set_to_none=True)
            loss_D.backward()
            opt_D.step()
        loss_G = l1_weight * (fake - y).abs().mean()
        if adversarial_weight > 0:
            with frozen(D):
                adversarial = g_loss_nonsaturating(D(torch.cat([x, fake], 1)))
            loss_G = loss_G + adversarial_weight * adversarial
        opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        opt_G.step()
    grid = torch.linspace(-0.9, 0.9, 19).repeat_interleave(20)[:, None]
    with torch.no_grad():
        z = torch.randn(len(grid), 1, generator=torch.Generator().manual_seed(10_000 + seed))
        out = G(torch.cat([grid, z], 1))
    return PairedRun(adversarial_weight, G, grid[:, 0], out[:, 0])


class MappedGenerator(LatentGenerator):
    """G(z) = s(f(z)): a mapping network f: z -> w, then a synthesis network s: w -> x
    (StyleGAN's split, Karras et al. 2019, with w fed at s's input instead of through AdaIN)."""

    def __init__(self, mapping: torch.nn.Module, synthesis: torch.nn.Module) -> None:
        super().__init__()
        self.latent_dim = positive_int("mapping.latent_dim", getattr(mapping, "latent_dim", 0))
        self.mapping = mapping
        self.synthesis = synthesis

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.synthesis(self.mapping(z))  # (B, latent_dim) -> (B, w_dim) -> (B, out_dim)


def _matched_batches(h: torch.Tensor, x: torch.Tensor, name: str) -> None:
    """Raise unless h (B, d) and x (B, k) are 2-D floating tensors with the same B."""
    for label, t in ((name, h), ("x", x)):
        if not isinstance(t, torch.Tensor) or t.dim() != 2 or not t.is_floating_point():
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{label} must be a floating tensor of shape (B, dim), got {shape}")
    if len(h) != len(x):
        raise ValueError(f"{name} and x must have the same batch size, got {len(h)} and {len(x)}")


def linear_r2(h: torch.Tensor, x: torch.Tensor) -> float:
    """How much of x a linear map of h explains: R^2 = 1 - sum ||x - (A h + b)||^2 /
    sum ||x - mean(x)||^2, with A, b fitted by least squares. 1 for x affine in h; lower the
    more the map h -> x bends (the spirit of StyleGAN's linear separability). h (B, d), x (B, k).
    """
    _matched_batches(h, x, "h")
    if len(h) <= h.shape[1] + 1:
        raise ValueError(f"need more than {h.shape[1] + 1} samples to fit A and b, got {len(h)}")
    total = (x - x.mean(0)).pow(2).sum()
    if not total > 0:
        raise ValueError("x is constant: R^2 is undefined")
    design = torch.cat([h, torch.ones(len(h), 1, dtype=h.dtype, device=h.device)], 1)
    coef = torch.linalg.lstsq(design.double(), x.double()).solution
    residual = x.double() - design.double() @ coef
    return float(1 - residual.pow(2).sum() / total.double())


@torch.no_grad()
def path_length_ratio(
    net: torch.nn.Module, a: torch.Tensor, b: torch.Tensor, segments: int = 64
) -> float:
    """How much the image of a straight latent line bends: sum_i L_i / sum_i |net(b_i) - net(a_i)|,
    L_i = sum_t |net(h_{t+1}) - net(h_t)| along h_t = a_i + (t / segments)(b_i - a_i).
    1 for an affine net; > 1 when the output detours (perceptual path length in spirit, but
    free of the latent's scale, so z and w can be compared). a, b (P, d)."""
    _matched_batches(a, b, "a")
    positive_int("segments", segments)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")  # fmt: skip
    t = torch.linspace(0, 1, segments + 1, dtype=a.dtype, device=a.device)[:, None, None]
    line = a + t * (b - a)  # (segments + 1, P, d)
    x = net(line.reshape(-1, a.shape[1])).reshape(segments + 1, len(a), -1)
    length = (x[1:] - x[:-1]).norm(dim=2).sum()
    chord = (x[-1] - x[0]).norm(dim=1).sum()
    if not chord > 0:
        raise ValueError("every line maps to a closed path (zero chord): the ratio is undefined")
    return float(length / chord)


def quadrant_shares(x: torch.Tensor) -> dict[str, float]:
    """The share of 2-D points in each quadrant of the plane, x (B, 2); "top right" is the
    corner that ``missing_corner`` leaves empty."""

    batch_of_vectors("x", x, 2)
    right, top = x[:, 0] > 0, x[:, 1] > 0
    masks = {"top left": ~right & top, "bottom left": ~right & ~top,
             "bottom right": right & ~top, "top right": right & top}  # fmt: skip
    return {name: float(m.float().mean()) for name, m in masks.items()}


@dataclass
class StyleToyRun:
    """A z-fed and a w-fed generator trained alike on ``missing_corner``, and what was measured
    on n_eval fresh z: for each feed ("z-fed", "w-fed"), h = the synthesis network's input (z,
    or w = f(z)) and x = its output; ``r2`` = ``linear_r2(h, x)``, ``path_ratio`` =
    ``path_length_ratio`` of the synthesis network between pairs of those h, ``quadrants`` =
    ``quadrant_shares(x)`` (does it fit?), ``seconds`` = training time."""

    seed: int
    steps: int
    z_fed: torch.nn.Module = field(repr=False)
    w_fed: MappedGenerator = field(repr=False)
    params: dict[str, int] = field(default_factory=dict)
    r2: dict[str, float] = field(default_factory=dict)
    path_ratio: dict[str, float] = field(default_factory=dict)
    quadrants: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    h: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)  # (n_eval, 2)
    x: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)  # (n_eval, 2)

    def fits(self, name: str, corner: float = 0.05, least: float = 0.2) -> bool:
        """Whether ``name``'s samples avoid the empty corner (share <= corner) and cover each of
        the three data quadrants (share >= least each; the data has 1/3 in each)."""
        shares = self.quadrants[name]
        rest = [v for k, v in shares.items() if k != "top right"]
        return shares["top right"] <= corner and min(rest) >= least


@restores_global_rng
def style_toy(
    seed: int = 0,
    steps: int = 1500,
    *,
    width: int = 64,
    batch_size: int = 256,
    n_eval: int = 2000,
) -> StyleToyRun:
    """What StyleGAN's mapping network adds, on ``missing_corner`` (Karras et al. 2019, sec. 4,
    Figure 6). Two generators of about the same size, trained by the same ``train.fit``
    (non-saturating loss, the same D and its initial weights, the same seed and batches):

        z-fed:  x = g(z),         g an MLP with 3 hidden layers of ``width``;
        w-fed:  x = s(f(z)),      f = MappingNetwork (2 hidden layers), s an MLP with 2.

    z ~ N(0, I_2) and w are 2-D, so x = (u1, u2) are the two factors themselves. StyleGAN's
    claim: g must bend the round Gaussian around the missing corner, while f can do the
    bending so that s is closer to linear. Measured on the synthesis network (g, or s) with
    ``linear_r2`` (1 = linear) and ``path_length_ratio`` (1 = straight lines stay straight).

    Measured over seeds 0-9 at 1500 steps, the claim does not hold here: mean R^2 0.72 (g)
    against 0.64 (s), ratio 1.24 against 1.55; s is the more linear in only 4 and 3 of the 10
    seeds, and the w-fed G ``fits`` in 3 of 10 seeds against 9 of 10 (seeds 0-4 at 4000
    steps: the same). Nothing in this toy rewards a linear s; StyleGAN argues that realistic
    images do.
    """

    positive_int("steps", steps)
    positive_int("n_eval", n_eval)
    if n_eval < 4:
        raise ValueError(f"n_eval must be at least 4 (two pairs of latents), got {n_eval}")
    data = missing_corner(20_000, seed=0)
    seed_torch(seed)
    z_fed = MLPGenerator(latent_dim=2, out_dim=2, width=width, depth=3)
    seed_torch(seed)
    mapping = MappingNetwork(latent_dim=2, w_dim=2, depth=3, width=width, normalize=False)
    w_fed = MappedGenerator(mapping, mlp(2, 2, width, 2, "relu"))
    run = StyleToyRun(seed, steps, z_fed, w_fed)
    z = torch.randn(n_eval, 2, generator=torch.Generator().manual_seed(10_000 + seed))
    half = n_eval // 2
    for name, G, synthesis in (("z-fed", z_fed, z_fed.net), ("w-fed", w_fed, w_fed.synthesis)):
        seed_torch(seed)
        D = MLPDiscriminator(in_dim=2, width=width)
        start = perf_counter()
        fit(G, D, data, steps, batch_size=batch_size, seed=seed, progress=False)
        run.seconds[name] = perf_counter() - start
        G.eval()
        with torch.no_grad():
            h = z if name == "z-fed" else w_fed.mapping(z)  # (n_eval, 2) the synthesis input
            x = synthesis(h)  # (n_eval, 2)
        run.params[name] = sum(p.numel() for p in G.parameters())
        run.h[name], run.x[name] = h, x
        run.r2[name] = linear_r2(h, x)
        run.path_ratio[name] = path_length_ratio(synthesis, h[:half], h[half : 2 * half])
        run.quadrants[name] = quadrant_shares(x)
    return run
