"""Matplotlib figures the chapters share. Every function takes ``ax=None`` and returns it."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.ticker import NullLocator
from torch import nn

from ganlab import plane, theory
from ganlab._checks import positive_int
from ganlab.data import GaussianMixture
from ganlab.losses import GLoss, g_loss_logit_gradient
from ganlab.train import History

STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
}
"""The book's figure style, ``plt.style.use(gl.plot.STYLE)`` in every chapter's first cell:
text of 10-11 pt at 100 dpi, so that a figure up to 10 in wide, shrunk into the book's
757-px column, still shows its smallest text at 10 px or more."""

REAL_COLOR = "tab:green"
FAKE_COLOR = "tab:purple"


def _axes(ax: Axes | None, figsize: tuple[float, float] = (4.5, 4.0)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def samples_2d(
    x_real: torch.Tensor | None,
    x_fake: torch.Tensor | None,
    ax: Axes | None = None,
    dist: GaussianMixture | None = None,
    limit: float | None = None,
) -> Axes:
    """Scatter real (green) and generated (purple) 2-D samples; mark the mode centres of ``dist``."""
    ax = _axes(ax)
    if x_real is not None:
        x_real = x_real.detach().cpu()
        ax.scatter(x_real[:, 0], x_real[:, 1], s=4, alpha=0.4, c=REAL_COLOR, label="real")
    if x_fake is not None:
        x_fake = x_fake.detach().cpu()
        ax.scatter(x_fake[:, 0], x_fake[:, 1], s=4, alpha=0.4, c=FAKE_COLOR, label="generated")
    if dist is not None:
        centers = dist.centers
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=30, c="black", label="modes")
        if limit is None:
            limit = float(centers.abs().max() + 6 * dist.stds.max()) * 1.15
    if limit is not None:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    # below the plane, where it can hide no mode (inside, a corner legend covered one)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3, markerscale=2,
              frameon=False, handletextpad=0.1, columnspacing=0.8, fontsize=10)  # fmt: skip
    return ax


def training_curves(history: History, ax: Axes | None = None) -> Axes:
    """Losses of D and G per step, and mean D(x), D(G(z)) on a second y-axis."""
    ax = _axes(ax, figsize=(6, 3.5))
    prob = ax.twinx()
    curves = ((ax, history.loss_D, "tab:blue", "-", "$L_D$"),
              (ax, history.loss_G, "tab:orange", "-", "$L_G$"),
              (prob, history.p_real, REAL_COLOR, "--", "mean $D(x)$"),
              (prob, history.p_fake, FAKE_COLOR, "--", "mean $D(G(z))$"))  # fmt: skip
    lines = []
    for axis, values, color, style, label in curves:
        axis.plot(history.step, values, lw=0.6, ls=style, c=color, alpha=0.3)  # every step
        steps, mean = running_mean(history.step, values)
        lines += axis.plot(steps, mean, lw=1.6, ls=style, c=color, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (bold: running mean)")
    prob.set_ylim(0, 1)
    prob.set_ylabel("D's probability of 'real'")
    # below the axes, where it covers none of the noisy per-step traces
    ax.legend(lines, [line.get_label() for line in lines], loc="upper center",
              bbox_to_anchor=(0.5, -0.2), ncol=4, frameon=False, columnspacing=1.2)  # fmt: skip
    return ax


def running_mean(
    steps: list[int], values: list[float], window: int | None = None
) -> tuple[list[int], list[float]]:
    """(steps, means): the mean of each ``window`` consecutive values (default about 1/25 of
    the run, at least 1), placed at the window's last step, so a noisy per-step curve reads
    as its trend."""
    window = max(1, len(values) // 25) if window is None else positive_int("window", window)
    if len(values) < window:
        return list(steps), list(values)
    sums = torch.tensor(values, dtype=torch.float64).cumsum(0)
    means = (sums[window - 1 :] - torch.cat([torch.zeros(1, dtype=torch.float64),
                                                sums[:-window]])) / window  # fmt: skip
    return list(steps[window - 1 :]), means.tolist()


class _LiveFigure:
    """A figure redrawn in place: in a notebook one output is updated through a display id,
    so the stored notebook keeps the last frame; in plain Python the figure stays in ``fig``."""

    def __init__(self, figsize: tuple[float, float]) -> None:
        self.fig = plt.figure(figsize=figsize)
        plt.close(self.fig)  # shown through the display handle only, not again at cell end
        self._handle: Any = None

    def _show(self) -> None:
        try:
            from IPython.display import display
        except ImportError:
            return
        if self._handle is None:
            self._handle = display(self.fig, display_id=True)
        else:
            self._handle.update(self.fig)


class LiveTraining(_LiveFigure):
    """A ``fit`` callback that redraws real vs generated 2-D samples and the training curves.

    Fixed noise z makes the frames comparable from one call to the next.
    """

    def __init__(
        self,
        dist: GaussianMixture,
        n_samples: int = 1000,
        seed: int = 0,
        figsize: tuple[float, float] = (9.0, 4.4),
    ) -> None:
        super().__init__(figsize)
        self.dist = dist
        self.x_real = dist.sample(n_samples, seed=seed)
        self.n_samples = n_samples
        self.seed = seed
        self.z: torch.Tensor | None = None

    def __call__(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if self.z is None:
            self.z = G.sample_latent(self.n_samples, seed=self.seed)
        with torch.no_grad():
            x_fake = G(self.z)
        self.fig.clf()
        ax_samples, ax_curves = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
        samples_2d(self.x_real, x_fake, ax=ax_samples, dist=self.dist)
        ax_samples.set_title(f"step {step}")
        training_curves(history, ax=ax_curves)
        self.fig.tight_layout()
        self._show()


class Live1D(_LiveFigure):
    """A ``fit`` callback for 1-D GANs: p_data vs the generator's histogram, D vs D*, and the JSD.

    p_g is estimated from ``n_samples`` generator samples (fixed noise) by a Gaussian KDE;
    D*(x) = p_data / (p_data + p_g) and JSD(p_data || p_g) use that estimate. The JSD and
    the mean of D over the samples' mass, (p_data + p_g)/2, are kept per call in
    ``steps``, ``jsd`` and ``mean_d``.
    """

    def __init__(
        self,
        dist: GaussianMixture,
        x_range: tuple[float, float] = (-5.0, 5.0),
        n_samples: int = 4000,
        seed: int = 0,
        resolution: int = 400,
        figsize: tuple[float, float] = (10.0, 3.6),
    ) -> None:
        super().__init__(figsize)
        if dist.dim != 1:
            raise ValueError(f"Live1D needs a 1-D distribution, got dim={dist.dim}")
        self.x = torch.linspace(*x_range, resolution, dtype=torch.float64)
        self.p_data = dist.prob(self.x[:, None].float()).double()
        self.n_samples, self.seed = n_samples, seed
        self.steps: list[int] = []
        self.jsd: list[float] = []
        self.mean_d: list[float] = []

    def __call__(self, step: int, history: History | None, G: nn.Module, D: nn.Module) -> None:
        self.snapshot(step, G, D)

    def snapshot(self, step: int, G: nn.Module, D: nn.Module) -> None:
        """Measure and redraw the current G and D (also usable before training starts)."""
        x_fake = G.sample(self.n_samples, seed=self.seed).detach().cpu().double()
        p_g = theory.gaussian_kde(x_fake, self.x[:, None])
        d_star = theory.optimal_discriminator(self.p_data, p_g)
        device = next(D.parameters()).device
        with torch.no_grad():
            d = torch.sigmoid(D(self.x[:, None].float().to(device))).double().cpu()
        mass = (self.p_data + p_g) / 2
        self.steps.append(step)
        self.jsd.append(float(theory.jensen_shannon(self.p_data, p_g, self.x)))
        self.mean_d.append(float(torch.trapezoid(mass * d, self.x)))

        self.fig.clf()
        ax, ax_jsd = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.8, 1]})
        x = self.x.numpy()
        ax.fill_between(x, self.p_data.numpy(), alpha=0.3, color=REAL_COLOR, label="$p_{data}$")
        ax.hist(
            x_fake[:, 0].numpy(),
            bins=80,
            range=(x[0], x[-1]),
            density=True,
            alpha=0.5,
            color=FAKE_COLOR,
            label="G's samples",
        )
        ax.plot(x, d.numpy(), c="tab:orange", label="$D(x)$")
        ax.plot(x, d_star.numpy(), "k--", lw=1, label="$D^*(x)$ for this $p_g$")
        ax.axhline(0.5, c="grey", lw=0.5)
        ax.set_ylim(0, max(1.05, float(self.p_data.max()) * 1.1))
        ax.set_xlabel("x")
        ax.set_title(f"step {step}")
        ax.legend(loc="upper left")
        ax_jsd.plot(self.steps, self.jsd, "o-", c="tab:blue")
        ax_jsd.axhline(math.log(2), c="grey", lw=0.5, ls=":")
        ax_jsd.set_ylim(0, math.log(2) * 1.05)
        ax_jsd.set_xlabel("step")
        ax_jsd.set_title(r"$\mathrm{JSD}(p_{data} \,\|\, p_g)$")
        self.fig.tight_layout()
        self._show()


# ------------------------------------------------------------ the 2-D playground's layers


def decision_heatmap(
    D: nn.Module,
    ax: Axes | None = None,
    limit: float = 3.0,
    resolution: int = 60,
    colorbar: bool = False,
    contour: bool = True,
) -> Axes:
    """Heatmap of D(x) = sigmoid(D's score) over [-limit, limit]^2, with the D(x) = 1/2 contour.

    Green where D says "real" (D(x) -> 1), purple where it says "generated" (D(x) -> 0),
    white at 1/2: the colours of ``samples_2d``. The grid has resolution x resolution pixels.
    """
    ax = _axes(ax)
    values = plane.decision_grid(D, limit, resolution).numpy()  # (R, R)
    image = ax.imshow(
        values,
        origin="lower",
        extent=(-limit, limit, -limit, limit),
        cmap="PRGn",
        vmin=0.0,
        vmax=1.0,
        interpolation="bilinear",
    )
    if contour and values.min() < 0.5 < values.max():
        axis = plane.plane_grid(limit, resolution)[:resolution, 0].numpy()
        ax.contour(axis, axis, values, levels=[0.5], colors="black", linewidths=0.8)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="$D(x)$", fraction=0.046, pad=0.04)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    return ax


def generator_arrows(
    G: nn.Module,
    D: nn.Module,
    z: torch.Tensor,
    g_loss: GLoss | str,
    ax: Axes | None = None,
    length: float | None = None,
    color: str = "black",
) -> Axes:
    """Arrows at x = G(z) along -grad_x g_loss(D(x)): the direction G's update moves each sample.

    Normalised for display: the longest arrow has ``length`` (default 8% of the x range)
    and the others keep their size relative to it, so vanishing gradients look short.
    Shapes: z (B, latent_dim); one arrow per row.
    """
    ax = _axes(ax)
    x_fake, direction = plane.generator_directions(G, D, z, g_loss)
    if length is None:
        low, high = ax.get_xlim()
        length = 0.08 * (high - low)
    uv = plane.arrow_vectors(direction, length).cpu()
    xy = x_fake.cpu()
    ax.quiver(
        xy[:, 0],
        xy[:, 1],
        uv[:, 0],
        uv[:, 1],
        angles="xy",
        scale_units="xy",
        scale=1,
        color=color,
        width=0.004,
    )
    return ax


# ----------------------------------------------------------------------------- chapter 2

LOSS_COLORS = {"saturating": "tab:red", "nonsaturating": "tab:blue"}


def saturation_curves(
    confidence: float | None = None, axes: tuple[Axes, Axes] | None = None
) -> tuple[Axes, Axes]:
    """Both generator losses (left) and |d loss / d score| (right) against p = D(G(z)).

    saturating: log(1 - p), gradient -p; non-saturating: -log p, gradient -(1 - p)
    (``losses.g_loss_logit_gradient``). ``confidence`` marks one p on both panels.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.3), constrained_layout=True)
    ax_loss, ax_grad = axes
    p = torch.logspace(-4, math.log10(0.9999), 400, dtype=torch.float64)
    value = {"saturating": torch.log1p(-p), "nonsaturating": -torch.log(p)}
    for kind, color in LOSS_COLORS.items():
        grad = g_loss_logit_gradient(kind, p).abs()
        label = "log(1 - D(G(z)))" if kind == "saturating" else "-log D(G(z))"
        ax_loss.plot(p, value[kind], c=color, label=f"{kind}: {label}")
        ax_grad.plot(p, grad, c=color, label=kind)
        if confidence is not None:
            q = torch.tensor([confidence], dtype=torch.float64)
            q_value = torch.log1p(-q) if kind == "saturating" else -torch.log(q)
            ax_loss.plot(q, q_value, "o", c=color)
            ax_grad.plot(q, g_loss_logit_gradient(kind, q).abs(), "o", c=color)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("$D(G(z))$: D's probability that the fake is real")
        if confidence is not None:
            ax.axvline(confidence, c="grey", lw=0.6)
    ax_loss.set_ylabel("generator loss")
    ax_loss.legend()
    ax_grad.set_yscale("log")
    for ax in axes:  # no minor ticks on the log axes: they cost most of a redraw
        ax.xaxis.set_minor_locator(NullLocator())
    ax_grad.yaxis.set_minor_locator(NullLocator())
    ax_grad.set_ylabel(r"$|\partial L_G / \partial s|$")
    ax_grad.legend()
    return ax_loss, ax_grad


def loss_race(runs: dict[str, Any], axes: tuple[Axes, Axes] | None = None) -> tuple[Axes, Axes]:
    """Runs of ``experiments.head_start_run``: W1(p_g, p_data) (left) and G's gradient norm
    (right, log scale) against the step, one line per run."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.3), constrained_layout=True)
    ax_dist, ax_grad = axes
    for name, run in runs.items():
        color = LOSS_COLORS.get(name)
        ax_dist.plot(run.eval_steps, run.distance, c=color, label=run.label)
        ax_grad.plot(run.history.step, run.history.grad_norm_G, c=color, lw=0.8, label=run.label)
    ax_dist.set_xlabel("step")
    ax_dist.set_ylabel("$W_1(p_g, p_{data})$")
    ax_dist.set_ylim(bottom=0)
    ax_dist.legend()
    ax_grad.set_yscale("log")
    ax_grad.set_xlabel("step")
    ax_grad.set_ylabel(r"$\|\nabla_\theta L_G\|$, G's gradient")
    ax_grad.legend()
    return ax_dist, ax_grad


def dirac_field(
    trajectory: torch.Tensor | None = None,
    ax: Axes | None = None,
    loss: str = "saturating",
    limit: float = 2.0,
    title: str | None = None,
    **field: float,
) -> Axes:
    """The Dirac-GAN's vector field over (theta, psi) in [-limit, limit]^2, a 10 x 10 grid as
    in Mescheder et al.'s demo, with a trajectory from ``theory.dirac_trajectory`` on top.
    ``field`` takes gamma, lam, noise_std as ``theory.dirac_vector_field``."""
    ax = _axes(ax, figsize=(4, 4))
    axis = torch.linspace(-limit, limit, 10, dtype=torch.float64)
    theta, psi = torch.meshgrid(axis, axis, indexing="xy")
    d_theta, d_psi = theory.dirac_vector_field(theta, psi, loss, **field)
    ax.quiver(theta, psi, d_theta, d_psi, color="0.55", width=0.004)
    if trajectory is not None:
        path = trajectory.detach().cpu()
        ax.plot(path[:, 0], path[:, 1], c="tab:blue", lw=1)
        ax.plot(path[0, 0], path[0, 1], "o", c="tab:blue", ms=4)
        ax.plot(path[-1, 0], path[-1, 1], "s", c="tab:red", ms=4)
    ax.plot(0, 0, "*", c="k", ms=8)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$\theta$ (generator)")
    ax.set_ylabel(r"$\psi$ (discriminator)")
    if title:
        ax.set_title(title)
    return ax


# ----------------------------------------------------------------------------- mode collapse


def snapshots(
    dist: GaussianMixture,
    steps: list[int],
    samples: list[torch.Tensor],
    axes: Any = None,
    titles: list[str] | None = None,
) -> Any:
    """One ``samples_2d`` panel per snapshot (e.g. ``RemedyRun.steps`` and ``.samples``):
    the generator's samples over the data, titled with the step. Returns the axes."""
    if len(steps) != len(samples):
        raise ValueError(
            f"steps and samples must have the same length, got {len(steps)} and {len(samples)}"
        )
    if axes is None:
        _, axes = plt.subplots(1, len(steps), figsize=(1.9 * len(steps), 2.2), layout="constrained")
    x_real = dist.sample(1000, seed=0)
    for i, (ax, step, x) in enumerate(zip(list(axes), steps, samples, strict=True)):
        samples_2d(x_real, x, ax=ax, dist=dist)
        ax.legend().set_visible(False)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(titles[i] if titles else f"step {step}", fontsize=10)
    return axes


def mode_mass(steps: list[int], coverage: list[Any], ax: Axes | None = None) -> Axes:
    """Heatmap of the share of high-quality samples on each mode (rows) at each step (columns):
    mass that moves from row to row over time is the generator hopping between modes."""
    ax = _axes(ax, figsize=(6, 2.8))
    counts = torch.stack([c.counts.to(torch.float64) for c in coverage], dim=1)  # (K, T)
    share = counts / counts.sum(dim=0, keepdim=True).clamp(min=1)
    image = ax.imshow(share.numpy(), aspect="auto", origin="lower", cmap="Purples", vmin=0,
                      vmax=max(0.5, float(share.max())), interpolation="nearest")  # fmt: skip
    ax.set_xticks(range(len(steps)), [str(s) for s in steps], fontsize=9)
    ax.set_xlabel("step")
    ax.set_ylabel("mode")
    ax.figure.colorbar(image, ax=ax, label="share of HQ samples", fraction=0.046, pad=0.02)
    return ax


# ----------------------------------------------------------------------------- images


def tile_images(images: torch.Tensor, nrow: int = 8, pad: int = 1) -> torch.Tensor:
    """Images (B, C, H, W) in [-1, 1] -> one grid image (rows, cols) or (rows, cols, 3) in [0, 1],
    ``nrow`` images per row, ``pad`` white pixels between them."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (B, 1 or 3, H, W), got {tuple(images.shape)}")
    b, c, h, w = images.shape
    ncol = min(nrow, b)
    rows = math.ceil(b / ncol)
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1)  # (B, H, W, C)
    grid = torch.ones(rows * (h + pad) + pad, ncol * (w + pad) + pad, c)
    for i in range(b):
        r, q = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + q * (w + pad)
        grid[top : top + h, left : left + w] = x[i]
    return grid[..., 0] if c == 1 else grid


def image_grid(
    images: torch.Tensor, nrow: int = 8, ax: Axes | None = None, title: str = ""
) -> Axes:
    """Show images (B, C, H, W) in [-1, 1] as one grid (``tile_images``), grey for one channel."""
    grid = tile_images(images, nrow)
    ax = _axes(
        ax, figsize=(0.6 * min(nrow, len(images)), 0.6 * math.ceil(len(images) / nrow) + 0.3)
    )
    ax.imshow(grid.numpy(), cmap="gray" if grid.dim() == 2 else None, vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax
