"""The mode-collapse lab of chapter 3: pick a 2-D toy and a remedy, train, and watch the samples
and the per-mode histogram; ``mode_collapse_animation`` is its static fallback."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from ganlab import experiments, metrics, plot, train
from ganlab._checks import positive_float, positive_int
from ganlab.data import TOYS, GaussianMixture, toy
from ganlab.widgets._app import App
from ganlab.widgets._common import _Figure, frames_to_jshtml


def _draw_state(
    axes: Any, dist: GaussianMixture, G: torch.nn.Module, title: str, coverage: Any
) -> None:
    """Samples over the data (left) and the high-quality samples per mode (right)."""
    ax_samples, ax_hist = axes
    plot.samples_2d(dist.sample(1000, seed=0), G.sample(1000, seed=2), ax=ax_samples, dist=dist)
    ax_samples.set_title(title, fontsize=10)
    ax_samples.legend().set_visible(False)
    counts = coverage.counts.numpy()
    ax_hist.bar(np.arange(len(counts)), counts, color=plot.FAKE_COLOR)
    ax_hist.axhline(2500 / len(counts), c="k", ls=":", lw=0.8, label="uniform")
    ax_hist.set_xlabel("mode")
    ax_hist.xaxis.set_major_locator(MaxNLocator(integer=True))  # modes are numbered 0, 1, ...
    ax_hist.set_ylabel("high-quality samples")
    ax_hist.set_title(
        f"{coverage.modes}/{coverage.n_modes} modes, {100 * coverage.hq_fraction:.0f}% HQ\n"
        f"reverse KL {coverage.reverse_kl:.2f}",
        fontsize=10,
    )
    ax_hist.legend(fontsize=9)


class ModeCollapseLab(App):
    """Train one remedy of ``experiments.REMEDIES`` on a 2-D toy, a few hundred steps at a time."""

    name = "ModeCollapseLab"

    def __init__(
        self, data: str = "ring", remedy: str = "vanilla", seed: int = 0, steps_per_click: int = 250
    ) -> None:
        super().__init__()
        self.steps_per_click = steps_per_click
        self.reset(data, remedy, seed)

    def reset(self, data: str | None = None, remedy: str | None = None,
              seed: int | None = None) -> ModeCollapseLab:  # fmt: skip
        """New players from the seed (data, remedy and seed default to the current ones)."""
        data = getattr(self, "data", "ring") if data is None else data
        remedy = getattr(self, "remedy", "vanilla") if remedy is None else remedy
        seed = getattr(self, "seed", 0) if seed is None else seed
        if data not in TOYS:
            raise ValueError(f"unknown data {data!r}; expected one of {sorted(TOYS)}")
        dist = toy(data)
        G, D, config = experiments.build_players(dist, remedy, seed=seed)
        self.data, self.remedy, self.seed, self.dist = data, remedy, seed, dist
        self.G, self.D, self.config = G, D, config
        self.opt_D, self.opt_G = train.make_optimizers(config, G, D)  # kept across clicks
        self.rng = torch.Generator().manual_seed(seed)
        self.history = train.History()
        self.steps: list[int] = [0]
        self.coverages = [metrics.mode_coverage(G.sample(2500, seed=1), dist)]
        self.refresh()
        return self

    def train(self, steps: int | None = None) -> metrics.ModeCoverage:
        """Train ``steps`` (default ``steps_per_click``) more steps; return the new coverage."""
        steps = self.steps_per_click if steps is None else steps
        train.fit(self.G, self.D, self.dist, steps, self.config, opt_D=self.opt_D,
                  opt_G=self.opt_G, seed=self.rng, history=self.history, progress=False)  # fmt: skip
        self.steps.append(self.history.step[-1])
        self.coverages.append(metrics.mode_coverage(self.G.sample(2500, seed=1), self.dist))
        self.refresh()
        return self.coverages[-1]

    def status(self) -> str:
        return (
            f"<b>{self.remedy}</b> on the {self.data}, step {self.steps[-1]}: {self.coverages[-1]}"
        )

    def draw(self, fig: _Figure) -> None:
        axes = fig.subplots(1, 3, width_ratios=(1, 1.2, 1))
        title = f"{self.remedy}, step {self.steps[-1]}"
        _draw_state(axes[:2], self.dist, self.G, title, self.coverages[-1])
        axes[2].plot(self.steps, [c.modes for c in self.coverages], "o-")
        axes[2].set(xlabel="step", ylabel="modes captured", ylim=(-0.3, self.dist.n_modes + 0.5))

    def build_controls(self, W: Any) -> Any:
        data = W.Dropdown(options=sorted(TOYS), value=self.data, description="data")
        remedy = W.Dropdown(options=list(experiments.REMEDIES), value=self.remedy,
                            description="remedy")  # fmt: skip
        seed = W.BoundedIntText(value=self.seed, min=0, max=2**31 - 1, description="seed")
        button = W.Button(description=f"train {self.steps_per_click} steps")
        reset = W.Button(description="reset")
        button.on_click(lambda _: self.run_safely(self.train))
        reset.on_click(
            lambda _: self.run_safely(lambda: self.reset(data.value, remedy.value, seed.value))
        )
        for control in (data, remedy, seed):
            control.observe(
                lambda _: self.run_safely(lambda: self.reset(data.value, remedy.value, seed.value)),
                names="value",
            )
        return W.VBox([W.HBox([data, remedy, seed]), W.HBox([button, reset])])


def mode_collapse_animation(
    data: str = "ring",
    remedies: tuple[str, ...] = ("vanilla", "PacGAN2"),
    steps: int = 1500,
    frames: int = 16,
    seed: int = 0,
    fps: float = 3.0,
) -> str:
    """Static fallback of the lab: each remedy trained side by side, one frame every
    steps / (frames - 1) steps, samples and per-mode histogram. Returns ``to_jshtml`` HTML."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if isinstance(frames, bool) or not isinstance(frames, int) or not 2 <= frames <= 60:
        raise ValueError(f"frames must be an integer in [2, 60], got {frames!r}")
    positive_int("steps", steps)
    positive_float("fps", fps)
    if steps < frames - 1:  # fewer steps than gaps: each gap would still train one step
        raise ValueError(
            f"steps must be at least frames - 1 = {frames - 1} (one step between frames), "
            f"got {steps}"
        )
    if len(remedies) == 0:
        raise ValueError("remedies must name at least one remedy to train, got none")
    labs = [ModeCollapseLab(data, remedy, seed) for remedy in remedies]
    every = max(1, steps // (frames - 1))
    pictures = []
    for i in range(frames):
        if i:
            for lab in labs:
                lab.train(every)
        fig = _Figure(figsize=(4.6 * len(labs), 3.1), dpi=80, layout="constrained")
        canvas = FigureCanvasAgg(fig)
        axes = fig.subplots(1, 2 * len(labs), width_ratios=[1, 1.2] * len(labs))
        for j, lab in enumerate(labs):
            title = f"{lab.remedy}, step {lab.steps[-1]}"
            _draw_state(axes[2 * j : 2 * j + 2], lab.dist, lab.G, title, lab.coverages[-1])
        canvas.draw()
        pictures.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return frames_to_jshtml(pictures, dpi=80, fps=fps, frame_format="png")
