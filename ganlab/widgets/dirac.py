"""The Dirac-GAN of chapter 2 (Mescheder et al. 2018) as a widget: choose the loss, the update
scheme, the step size and a regulariser, and see the trajectory in the (theta, psi) plane."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganlab import plot, theory
from ganlab._checks import positive_float, positive_int
from ganlab.widgets._app import App
from ganlab.widgets._common import _Figure, frames_to_jshtml

CONTROLS = ("loss", "scheme", "step_size", "steps", "regularizer", "strength", "start")
"""The names ``DiracGAN.set`` accepts."""

REGULARIZERS = {
    "none": None,
    "R1 penalty": "gamma",
    "WGAN-GP penalty": "lam",
    "instance noise": "noise_std",
    "weight clipping": "clip",
}
"""Regulariser shown in the widget -> keyword of ``theory.dirac_trajectory`` its strength sets."""


class DiracGAN(App):
    """One Dirac-GAN run: ``trajectory()``, drawn over its vector field with ||(theta, psi)||."""

    name = "DiracGAN"

    def __init__(
        self,
        loss: str = "saturating",
        scheme: str = "simultaneous",
        step_size: float = 0.2,
        steps: int = 500,
        regularizer: str = "none",
        strength: float = 1.0,
        start: tuple[float, float] = (1.0, -1.0),
    ) -> None:
        super().__init__()
        self.loss, self.scheme, self.step_size, self.steps = loss, scheme, step_size, steps
        self.regularizer, self.strength, self.start = regularizer, strength, start
        self.path = self.trajectory()

    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``theory.dirac_trajectory`` for the current controls."""
        if self.regularizer not in REGULARIZERS:
            raise ValueError(
                f"unknown regularizer {self.regularizer!r}; expected one of {list(REGULARIZERS)}"
            )
        options: dict[str, Any] = {"loss": self.loss, "scheme": self.scheme,
                                   "step_size": self.step_size, "steps": self.steps,
                                   "start": self.start}  # fmt: skip
        keyword = REGULARIZERS[self.regularizer]
        if keyword is not None:
            options[keyword] = self.strength
        return options

    def trajectory(self) -> torch.Tensor:
        return theory.dirac_trajectory(**self.options())

    def set(self, **controls: Any) -> DiracGAN:
        """Change controls (loss, scheme, step_size, steps, regularizer, strength, start)."""
        unknown = set(controls) - set(CONTROLS)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; expected some of {CONTROLS}")
        old = dict(vars(self))
        vars(self).update(controls)
        try:
            self.path = self.trajectory()
        except Exception:
            vars(self).update(old)  # a bad value leaves the widget as it was
            raise
        self.refresh()
        return self

    def distance(self) -> float:
        """||(theta, psi)|| after the last step: 0 at the equilibrium."""
        return float(self.path[-1].norm())

    def status(self) -> str:
        norms = self.path.norm(dim=1)
        half = len(norms) // 2
        return (
            f"||(&theta;, &psi;)||: {norms[0]:.3f} at the start, {norms[half]:.3g} at step "
            f"{half}, {norms[-1]:.3g} at step {len(norms) - 1}"
        )

    def draw(self, fig: _Figure) -> None:
        ax_field, ax_norm = fig.subplots(1, 2, width_ratios=(1, 1.4))
        field = {k: v for k, v in self.options().items() if k in ("gamma", "lam", "noise_std")}
        plot.dirac_field(self.path, ax=ax_field, loss=self.loss, **field)
        ax_norm.plot(self.path.norm(dim=1), c="tab:blue")
        ax_norm.set_yscale("log")
        ax_norm.set_xlabel("step")
        ax_norm.set_ylabel(r"$\|(\theta, \psi)\|$, distance to the equilibrium")
        ax_norm.set_title(f"{self.loss}, {self.scheme}, {self.regularizer}", fontsize=9)

    def build_controls(self, W: Any) -> Any:
        style = {"description_width": "initial"}
        controls = {
            "loss": W.Dropdown(options=list(theory.DIRAC_LOSSES), value=self.loss,
                               description="loss"),
            "scheme": W.Dropdown(options=list(theory.DIRAC_SCHEMES), value=self.scheme,
                                 description="updates"),
            "step_size": W.FloatLogSlider(value=self.step_size, base=10, min=-2, max=0,
                                          description="step size", style=style),
            "regularizer": W.Dropdown(options=list(REGULARIZERS), value=self.regularizer,
                                      description="regulariser", style=style),
            "strength": W.FloatSlider(value=self.strength, min=0.05, max=3, step=0.05,
                                      description="strength", style=style),
            "steps": W.IntSlider(value=self.steps, min=50, max=2000, step=50,
                                 description="steps", style=style),
        }  # fmt: skip
        for name, control in controls.items():
            control.continuous_update = False
            control.observe(
                lambda change, name=name: self.run_safely(
                    lambda: self.set(**{name: change["new"]})
                ),
                names="value",
            )
        return W.VBox(
            [
                W.HBox([controls["loss"], controls["scheme"], controls["step_size"]]),
                W.HBox([controls["regularizer"], controls["strength"], controls["steps"]]),
            ]
        )


DEFAULT_ANIMATION = {
    "GAN, simultaneous": {"loss": "saturating", "scheme": "simultaneous"},
    "GAN, alternating": {"loss": "saturating", "scheme": "alternating"},
    "WGAN-GP (λ 0.35), alternating": {"loss": "wasserstein", "scheme": "alternating", "lam": 0.35},
    "GAN + R1 (γ 0.3), simultaneous": {"scheme": "simultaneous", "gamma": 0.3},
}
"""The runs ``dirac_animation`` shows by default: title -> ``theory.dirac_trajectory`` kwargs."""


def dirac_animation(
    configurations: dict[str, dict[str, Any]] | None = None,
    steps: int = 500,
    frames: int = 26,
    fps: float = 5.0,
) -> str:
    """The Dirac-GAN's static fallback: trajectories drawn step by step as a JS animation.

    One panel per configuration (default ``DEFAULT_ANIMATION``), two a row, the field behind
    each path; frame i shows the first i * steps / (frames - 1) steps. Returns the HTML of
    ``to_jshtml`` (JPEG frames, stable element ids); show it with ``IPython.display.HTML``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    configurations = DEFAULT_ANIMATION if configurations is None else configurations
    if not configurations:
        raise ValueError("configurations must hold at least one run to draw, got none")
    positive_int("steps", steps)
    if isinstance(frames, bool) or not isinstance(frames, int) or not 2 <= frames <= 100:
        raise ValueError(f"frames must be an integer in [2, 100], got {frames!r}")
    positive_float("fps", fps)
    paths = {
        name: theory.dirac_trajectory(steps=steps, **kw) for name, kw in configurations.items()
    }
    cols = min(len(paths), 2)  # two panels a row: titles and labels readable in the column
    rows = -(-len(paths) // cols)
    # 90 dpi: two panels a row are 610 px wide, their 9-11 pt text 11-14 px
    fig = _Figure(figsize=(3.4 * cols, 3.3 * rows), dpi=90, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).flatten()
    for ax in axes[len(paths) :]:
        ax.set_visible(False)
    artists = []
    for ax, (name, kw) in zip(axes, configurations.items(), strict=False):
        field = {k: v for k, v in kw.items() if k in ("gamma", "lam", "noise_std")}
        plot.dirac_field(None, ax=ax, loss=kw.get("loss", "saturating"), title=name, **field)
        (line,) = ax.plot([], [], c="tab:blue", lw=1, animated=True)
        (head,) = ax.plot([], [], "o", c="tab:red", ms=5, animated=True)
        label = ax.text(0.03, 0.03, "", transform=ax.transAxes, fontsize=9, animated=True)
        artists.append((paths[name], line, head, label))
    # Draw the fields and axes once, then per frame only the animated path on top (blitting).
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    pictures = []
    for step in torch.linspace(0, steps, frames).round().long().tolist():
        canvas.restore_region(background)
        for path, line, head, label in artists:
            line.set_data(path[: step + 1, 0], path[: step + 1, 1])
            head.set_data(path[step : step + 1, 0], path[step : step + 1, 1])
            label.set_text(f"step {step}: distance {path[step].norm():.3g}")
            for artist in (line, head, label):
                artist.axes.draw_artist(artist)
        pictures.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return frames_to_jshtml(pictures, dpi=fig.dpi, fps=fps, frame_format="jpeg")
