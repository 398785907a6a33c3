"""Matplotlib figures the chapters share. Every function takes ``ax=None`` and returns it."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from torch import nn

from ganlab.data import GaussianMixture
from ganlab.train import History

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
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=30, c="black", label="mode centres")
        if limit is None:
            limit = float(centers.abs().max() + 6 * dist.stds.max()) * 1.15
    if limit is not None:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=2)
    return ax


def training_curves(history: History, ax: Axes | None = None) -> Axes:
    """Losses of D and G per step, and mean D(x), D(G(z)) on a second y-axis."""
    ax = _axes(ax, figsize=(6, 3.5))
    ax.plot(history.step, history.loss_D, lw=1, label="loss_D")
    ax.plot(history.step, history.loss_G, lw=1, label="loss_G")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    prob = ax.twinx()
    prob.plot(history.step, history.d_real, lw=1, ls="--", c=REAL_COLOR, label="mean D(x)")
    prob.plot(history.step, history.d_fake, lw=1, ls="--", c=FAKE_COLOR, label="mean D(G(z))")
    prob.set_ylim(0, 1)
    prob.set_ylabel("D's probability of 'real'")
    lines = ax.get_lines() + prob.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], fontsize=7, loc="upper right")
    return ax


class LiveTraining:
    """A ``fit`` callback that redraws real vs generated samples and the training curves.

    In a notebook it updates one output in place (``IPython.display`` with a display id),
    so the stored notebook keeps the last frame. Fixed noise z makes the frames comparable.
    """

    def __init__(
        self,
        dist: GaussianMixture,
        n_samples: int = 1000,
        seed: int = 0,
        figsize: tuple[float, float] = (10.0, 4.0),
    ) -> None:
        self.dist = dist
        self.x_real = dist.sample(n_samples, seed=seed)
        self.n_samples = n_samples
        self.seed = seed
        self.z: torch.Tensor | None = None
        self.fig, (self.ax_samples, self.ax_curves) = plt.subplots(
            1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 1.4]}
        )
        plt.close(self.fig)  # shown through the display handle only, not again at cell end
        self._handle: Any = None

    def __call__(self, step: int, history: History, G: nn.Module, D: nn.Module) -> None:
        if self.z is None:
            self.z = G.sample_latent(self.n_samples, seed=self.seed)
        with torch.no_grad():
            x_fake = G(self.z)
        self.fig.clf()
        self.ax_samples, self.ax_curves = self.fig.subplots(
            1, 2, gridspec_kw={"width_ratios": [1, 1.4]}
        )
        samples_2d(self.x_real, x_fake, ax=self.ax_samples, dist=self.dist)
        self.ax_samples.set_title(f"step {step}")
        training_curves(history, ax=self.ax_curves)
        self.fig.tight_layout()
        self._show()

    def _show(self) -> None:
        try:
            from IPython.display import display
        except ImportError:  # plain Python: the figure is kept in self.fig
            return
        if self._handle is None:
            self._handle = display(self.fig, display_id=True)
        else:
            self._handle.update(self.fig)
